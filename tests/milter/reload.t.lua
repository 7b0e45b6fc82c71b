-- SIGHUP reloads the config for sessions that start after it; a session
-- in flight keeps the config it started with; a broken config is refused
-- with file:line and the old policy keeps deciding; SIGUSR1 reopens the
-- audit log after rotation and no record is lost.
dofile(SRCDIR .. "/lib.lua")

local strict = "[listener submission]\nport 587\nrequire-tls yes\n"
local relaxed = "[listener submission]\nport 587\nrequire-tls no\n"
local sub = { listener = { port = "587" } }

T.start(strict)
T.expect("before the reload, plaintext is refused", sub, {
	reply = "replycode", record = { rule = "require-tls", outcome = "reject" } })

local inflight = T.open(sub)		-- connected under the strict config
T.write_config(relaxed)
mt.signal(1)				-- SIGHUP
T.expect_log("the reload is logged", "SIGHUP: configuration", 1)

T.expect("a session that starts after the reload gets the new policy", sub, {
	reply = "accept", record = { rule = "none", outcome = "accept" } })

local before = T.count_records()
local r = T.mail(inflight, sub)
if r ~= SMFIR_REPLYCODE then error("the session in flight lost its config: reply " .. tostring(r)) end
mt.disconnect(inflight)
T.decisions = T.decisions + 1
if T.wait_records(before + 1) ~= before + 1 then error("no record for the session in flight") end
T.expect_record("in-flight session", { rule = "require-tls", outcome = "reject" })
mt.echo("ok - the session in flight kept the config it started with")

-- A broken config is refused; the old one keeps deciding.
local f = assert(io.open(T.config, "w"))
f:write("audit-log " .. T.audit .. "\nallow-root yes\n[listener submission]\nport 587\nrequire-tls perhaps\n")
f:close()
mt.signal(1)
T.expect_log("the broken config is refused with file:line",
	"reload refused, the running configuration stays: " .. T.config .. ":5: require-tls: found 'perhaps'", 1)
T.expect("after a refused reload the previous policy still decides", sub, {
	reply = "accept", record = { rule = "none", outcome = "accept" } })

-- Rotation: rename the audit log, SIGUSR1, records go to the new file.
local n_old = T.count_records()
assert(os.rename(T.audit, T.audit .. ".1"))
mt.signal(10)				-- SIGUSR1
T.expect_log("the reopen is logged", "SIGUSR1: audit log reopened", 1)
for i = 1, 3 do
	T.expect("after rotation, session " .. i .. " is recorded", sub, { reply = "accept" })
end
T.wait_records(n_old + 3)
local g = assert(io.open(T.audit, "r"))
local n_new = 0
for l in g:lines() do
	if not l:find('"type":"session"', 1, true) and
	    not l:find('"type":"policy"', 1, true) then n_new = n_new + 1 end
end
g:close()
if n_new ~= 3 then error("the new audit file has " .. n_new .. " records, expected 3") end
if n_old + n_new ~= T.decisions then error("records lost across rotation") end
mt.echo("ok - rotation lost no record")

T.done()
