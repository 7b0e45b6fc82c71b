-- shutdown.t.lua - SIGTERM with sessions still open (each just after its
-- MAIL was accepted, where real sessions spend their time): every one of
-- them gets its session record, marked "closed_by":"shutdown", before
-- the milter exits, and the log verifies.
--
-- The daemon is started here, not with mt.startfilter: miltertest ends
-- itself when a filter it started exits, and this test stops it.

dofile(SRCDIR .. "/lib.lua")

local N_OPEN = 20

T.write_config("[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\n")
local pidfile = WORK .. "/milter.pid"
assert(os.execute(string.format("%s -f -p %s -c %s 2>>%s/err & echo $! >%s",
	MILTER, T.sock, T.config, WORK, pidfile)))
local f = assert(io.open(pidfile, "r"))
local pid = f:read("*l")
f:close()

-- fail - say why on stdout too (the daemon appends to the stderr file)
local function fail(why)
	mt.echo("not ok - " .. why)
	error(why)
end

local function alive()
	return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

local sub = { listener = { port = "587", name = "submission" }, tls = T.TLS13, auth = T.ALICE }
local held = {}
for i = 1, N_OPEN do
	local conn, reply = T.session(sub)
	if reply ~= SMFIR_ACCEPT and reply ~= SMFIR_CONTINUE then
		fail("session " .. i .. ": MAIL not accepted")
	end
	held[i] = conn
	T.decisions = T.decisions + 1
end
mt.echo("ok - " .. N_OPEN .. " sessions open after an accepted MAIL")

assert(os.execute("kill -TERM " .. pid))
for _ = 1, 300 do	-- at most 15 s: the stop waits up to 10 s for libmilter
	if not alive() then break end
	mt.sleep(0.05)
end
if alive() then
	os.execute("kill -KILL " .. pid)
	fail("the milter did not stop within 15 s of SIGTERM")
end

local sessions = T.records("session")
local n = 0
for _, l in ipairs(sessions) do
	if l:find('"closed_by":"shutdown"', 1, true) then
		n = n + 1
		if not l:find('"mails":1', 1, true) or not l:find('"listener":"submission"', 1, true) then
			fail("a shutdown record without its session's facts: " .. l)
		end
	end
end
if n ~= N_OPEN or #sessions ~= N_OPEN then
	fail(#sessions .. " session records, " .. n .. " closed by shutdown; expected " .. N_OPEN)
end
mt.echo("ok - SIGTERM with " .. N_OPEN .. " open sessions: " .. n .. " session records closed by shutdown")

T.done()
