-- audit_chain.t.lua - the audit log as evidence: session records (also
-- for sessions that never send MAIL), the HMAC hash chain across a
-- rotation, and --verify-audit on the daemon's own files (any order; the
-- anchor and last hash in the OK line; --anchor for a newer file alone).

dofile(SRCDIR .. "/lib.lua")

local key = WORK .. "/audit.key"
local kf = assert(io.open(key, "w"))
kf:write("lab secret\n")
kf:close()
local bad = WORK .. "/wrong.key"
kf = assert(io.open(bad, "w"))
kf:write("not the secret\n")
kf:close()

T.start("audit-key-file " .. key .. "\naudit-fsync every\naudit-failure-action tempfail\n" ..
	"[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\n")

local sub = { listener = { port = "587", name = "submission" }, tls = T.TLS13, auth = T.ALICE }

-- A session that reaches TLS but never sends MAIL still leaves a record.
local conn = T.open(sub)
mt.disconnect(conn)
T.wait_records(1, "session")
local s = T.records("session")
if #s ~= 1 then error(#s .. " session records, expected 1") end
for _, want in ipairs({ '"type":"session"', '"mails":0', '"helos":2', '"tls":true',
	'"tls_version":"TLSv1.3"', '"listener":"submission"', '"started":"', '"v":2' }) do
	if not s[1]:find(want, 1, true) then error("session record lacks " .. want .. ": " .. s[1]) end
end
mt.echo("ok - a session without MAIL has its session record")

T.expect("a decision is chained", sub, { reply = "accept", record = { v = 2, outcome = "accept" } })
T.expect_record("the chain members", { prev = T.records()[1]:match('"prev":"(%x+)"') })

-- Rotation: the first record of the new file links to the old file's last.
assert(os.rename(T.audit, T.audit .. ".1"))
mt.signal(10)
T.expect_log("the reopen is logged", "SIGUSR1: audit log reopened", 1)
T.expect("after rotation", { listener = { port = "587" } }, { reply = "replycode",
	record = { rule = "require-tls" } })
T.wait_records(3, "session")	-- the last session's record is written too

local function run(cmd)
	local p = assert(io.popen(cmd .. " 2>&1; echo \"rc=$?\""))
	local out = p:read("*a")
	p:close()
	return out
end
local files = T.audit .. ".1 " .. T.audit
local out = run(MILTER .. " --verify-audit --key-file " .. key .. " " .. files)
local n, anchor, last = out:match("^OK: (%d+) records, anchor (%x+), last (%x+)\n")
if not n or #anchor ~= 64 or #last ~= 64 or anchor ~= string.rep("0", 64) or
	not out:find("rc=0", 1, true) then
	error("verify with the key: " .. out)
end
mt.echo("ok - the chain verifies across the rotation: " .. out:match("^[^\n]*"))
out = run(MILTER .. " --verify-audit " .. files)
if not out:find(T.audit .. ".1:1: hash mismatch", 1, true) or not out:find("rc=1", 1, true) then
	error("verify without the key: " .. out)
end
out = run(MILTER .. " --verify-audit --key-file " .. bad .. " " .. files)
if not out:find(":1: hash mismatch", 1, true) or not out:find("rc=1", 1, true) then
	error("verify with a wrong key: " .. out)
end
mt.echo("ok - a wrong key is detected")
-- The files in any order: the chain orders them.
out = run(MILTER .. " --verify-audit --key-file " .. key .. " " .. T.audit .. " " .. T.audit .. ".1")
if out:match("^OK: [^\n]*") ~= ("OK: " .. n .. " records, anchor " .. anchor .. ", last " .. last) then
	error("files in reverse order: " .. out)
end
-- The newer file alone does not start at the anchor: its head is missing,
-- unless the last hash of the file before it is given as the anchor.
out = run(MILTER .. " --verify-audit --key-file " .. key .. " " .. T.audit)
if not out:find(T.audit .. ":1: broken link: the chain does not start at the anchor", 1, true) or
	not out:find("rc=1", 1, true) then
	error("the new file alone: " .. out)
end
local p = assert(io.popen(MILTER .. " --verify-audit --key-file " .. key .. " " .. T.audit .. ".1"))
local old_last = p:read("*a"):match("last (%x+)")
p:close()
out = run(MILTER .. " --verify-audit --key-file " .. key .. " --anchor " .. old_last .. " " .. T.audit)
if not out:find("OK: %d+ records, anchor " .. old_last .. ", last " .. last) then
	error("the new file with --anchor: " .. out)
end
-- Its decisions name the policy recorded in the older file: a warning
-- only, since that file lies before the anchor.
if not out:find("warning: policy fingerprint %x+: no policy record after the anchor") then
	error("the new file with --anchor: no warning about the policy before the anchor: " .. out)
end
mt.echo("ok - files in any order; the newer file alone needs --anchor")

T.done()
