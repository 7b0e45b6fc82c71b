-- simulate.t.lua - the policy in the evidence and the replay: a policy
-- record at start and at a reload, the fingerprint in every decision (the
-- verifier checks it, and names a decision whose fingerprint no policy
-- record has), the HELO name and sender domain in the records, and
-- --simulate: the log replays to itself (also with -c of the same
-- config, which run.sh checks for every script), and a stricter
-- submission listener (min-tls-version TLSv1.3) newly refuses exactly
-- the decisions counted by hand below.
dofile(SRCDIR .. "/lib.lua")

local conf = [[
[listener submission]
port 587
require-tls yes
require-auth yes
min-tls-version TLSv1.2
trusted-networks 198.51.100.0/24
exempt-users @exempt.test

[listener certs]
port 2465
require-tls yes
require-client-cert yes
client-cert-issuer *Example CA*

[listener rollout]
port 2587
require-tls yes
action report
]]

local function run(cmd)
	local p = assert(io.popen(cmd .. " 2>&1; echo rc=$?"))
	local out = p:read("*a")
	p:close()
	return out
end

local function has(out, text, what)
	if not out:find(text, 1, true) then error(what .. ": no '" .. text .. "' in:\n" .. out) end
end

T.start(conf)
local sub = { port = "587" }
local BOB = { mech = "PLAIN", user = "bob@example.test" }
local CAROL = { mech = "PLAIN", user = "carol@exempt.test" }

-- under min-tls-version TLSv1.3 these stay as they are
T.expect("TLSv1.3 with AUTH passes", { listener = sub, tls = T.TLS13, auth = T.ALICE,
	client = "192.0.2.11", helo = "new.example", from = "<a@one.test>" }, {
	reply = "accept", record = { outcome = "accept", helo = "new.example", sender_domain = "one.test" } })
T.expect("a trusted client passes with TLSv1.2", { listener = sub, tls = T.TLS12,
	client = "198.51.100.5", helo = "trusted.example" }, { reply = "accept", record = { trusted = true } })
T.expect("an exempt user passes with TLSv1.2", { listener = sub, tls = T.TLS12, auth = CAROL,
	client = "192.0.2.14", helo = "exempt.example" }, { reply = "accept", record = { trusted = true } })
T.expect("TLSv1.1 is refused already", { listener = sub, tls = T.TLS11, auth = T.ALICE,
	client = "192.0.2.15", helo = "ancient.example" }, {
	reply = "replycode", record = { rule = "min-tls-version" } })
T.expect("plaintext AUTH is refused", { listener = sub, auth = T.ALICE, client = "192.0.2.16" }, {
	reply = "replycode", record = { rule = "auth-requires-tls", auth_before_tls = false } })
T.expect("AUTH before STARTTLS is refused on the default listener",
	{ listener = { port = "25" }, tls = T.TLS12, helo_extra = T.mta.postfix.auth(T.ALICE),
	client = "192.0.2.17" }, {
	reply = "replycode", record = { rule = "auth-requires-tls", auth_before_tls = true } })
T.expect("no AUTH on submission is refused", { listener = sub, tls = T.TLS13, client = "192.0.2.18" }, {
	reply = "replycode", record = { rule = "require-auth" } })
T.expect("a verified client certificate passes (Sendmail)", { mta = "sendmail",
	listener = { port = "2465" }, tls = { version = "TLSv1.2", cipher = "ECDHE-RSA-AES256-GCM-SHA384",
	bits = "256", subject = "CN=relay.example", issuer = "CN=Example CA" }, client = "192.0.2.19" }, {
	reply = "accept", record = { verify = "OK" } })
T.expect("no client certificate is refused (Sendmail)", { mta = "sendmail",
	listener = { port = "2465" }, tls = T.TLS13, client = "192.0.2.20" }, {
	reply = "replycode", record = { rule = "require-client-cert" } })
T.expect("report mode lets plaintext through", { listener = { port = "2587" }, client = "192.0.2.21" }, {
	reply = "accept", record = { outcome = "would-reject" } })
-- these three the stricter policy refuses
T.expect("alice with TLSv1.2", { listener = sub, tls = T.TLS12, auth = T.ALICE,
	client = "192.0.2.12", helo = "old.example", from = "<b@Two.Test>" }, {
	reply = "accept", record = { sender_domain = "two.test" } })
T.expect("alice with TLSv1.2 again", { listener = sub, tls = T.TLS12, auth = T.ALICE,
	client = "192.0.2.12", helo = "old.example", from = "<c@two.test>" }, { reply = "accept" })

-- A reload: a policy record of its own, and the decisions after it name it.
T.write_config(conf .. "\n[listener legacy]\nport 2525\n")
mt.signal(1)
T.expect_log("the reload is logged", "SIGHUP: configuration", 1)
T.expect("bob with TLSv1.2 after the reload", { listener = sub, tls = T.TLS12, auth = BOB,
	client = "192.0.2.13", helo = "other.example", from = "<>" }, {
	reply = "accept", record = { sender_domain = "" } })
T.expect("the new listener decides", { listener = { port = "2525" }, client = "192.0.2.22" }, {
	reply = "accept", record = { listener = "legacy" } })

local pols = T.records("policy")
if #pols ~= 2 then error(#pols .. " policy records, expected 2 (start, reload)") end
has(pols[1], '"event":"start"', "the first policy record")
has(pols[2], '"event":"reload"', "the second policy record")
has(pols[2], "listener legacy", "the reloaded policy's text")
local fp1 = pols[1]:match('"policy":"(%x+)"')
local fp2 = pols[2]:match('"policy":"(%x+)"')
local recs = T.records()
has(recs[1], '"policy":"' .. fp1 .. '"', "a decision before the reload")
has(recs[#recs], '"policy":"' .. fp2 .. '"', "a decision after the reload")
-- the fingerprint is the SHA-256 of what -n prints
local n_out = run(MILTER .. " -n -p " .. T.sock .. " -c " .. T.config .. " 2>/dev/null | sed '$d' | sha256sum")
has(n_out, fp2, "-n's text hashed")
mt.echo("ok - a policy record at start and at the reload; decisions name their policy")

local out = run(MILTER .. " --verify-audit " .. T.audit)
has(out, "OK: ", "the verifier")
mt.echo("ok - the fingerprints verify")

-- Replay with the recorded policies: nothing changes.
out = run(MILTER .. " --simulate " .. T.audit)
has(out, "total: replayed 14, unchanged 14, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0", "replay")
mt.echo("ok - the log replays to itself")

-- The stricter policy: exactly the three TLSv1.2 decisions of alice and bob.
local strict = WORK .. "/strict.conf"
local f = assert(io.open(strict, "w"))
local text = (conf .. "\n[listener legacy]\nport 2525\n"):gsub("min%-tls%-version TLSv1.2", "min-tls-version TLSv1.3")
f:write(text)
f:close()
out = run(MILTER .. " --simulate -c " .. strict .. " " .. T.audit)
has(out, "total: replayed 14, unchanged 11, newly refused 3, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0", "strict replay")
has(out, "listener submission: replayed 9, unchanged 6, newly refused 3,", "strict replay")
has(out, "  newly refused by rule: min-tls-version 3\n", "strict replay")
has(out, "  clients (address, HELO name) newly refused: 2\n" ..
	"    192.0.2.12 helo=old.example: 2 (first ", "strict replay")
has(out, "    192.0.2.13 helo=other.example: 1 (first ", "strict replay")
has(out, "  users newly refused: 2\n    alice@example.test: 2 (first ", "strict replay")
has(out, "    bob@example.test: 1 (first ", "strict replay")
has(out, "  sender domains newly refused: 2\n    two.test: 2 (first ", "strict replay")
has(out, "    <>: 1 (first ", "strict replay")
for _, l in ipairs({ "certs", "rollout", "legacy", "default" }) do
	if not out:find("listener " .. l .. ": replayed %d+, unchanged %d+, newly refused 0, newly accepted 0, newly would%-reject 0, other changes 0") then
		error("listener " .. l .. " changed under the stricter submission policy:\n" .. out)
	end
end
out = run(MILTER .. " --simulate --json -c " .. strict .. " " .. T.audit)
has(out, '"newly_refused_by_rule":{"min-tls-version":3},"clients":[{"address":"192.0.2.12","helo":"old.example","count":2,', "--json")
mt.echo("ok - TLSv1.3 on submission newly refuses exactly the three TLSv1.2 decisions")

-- A forged fingerprint (chain rebuilt, so only its meaning is wrong).
local forged = WORK .. "/forged.jsonl"
local target
for i, l in ipairs(T.records("all")) do
	if target == nil and l:find('"type":"decision"', 1, true) and
	    l:find('"auth":true', 1, true) then target = i end
end
out = run("python3 " .. SRCDIR .. "/rechain.py " .. T.audit .. " " .. forged .. " " .. target ..
	" 'r[\"policy\"] = \"" .. string.rep("ab", 32) .. "\"'")
out = run(MILTER .. " --verify-audit " .. forged)
has(out, forged .. ":" .. target .. ": unknown policy fingerprint " .. string.rep("ab", 32), "forged fingerprint")
has(out, "rc=1", "forged fingerprint")
mt.echo("ok - a decision with an unknown fingerprint is reported as FILE:LINE")

-- A record as an older version wrote it: no fingerprint, no auth_before_tls.
local old = WORK .. "/old.jsonl"
run("python3 " .. SRCDIR .. "/rechain.py " .. T.audit .. " " .. old .. " " .. target ..
	" 'r.pop(\"policy\"); r.pop(\"auth_before_tls\")'")
out = run(MILTER .. " --simulate " .. old)
has(out, old .. ":" .. target .. ": cannot replay: policy missing", "old record")
has(out, "unchanged 13, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 1", "old record")
out = run(MILTER .. " --simulate -c " .. T.config .. " " .. old)
has(out, old .. ":" .. target .. ": cannot replay: auth_before_tls missing", "old record with -c")
mt.echo("ok - facts an old record lacks are reported, not guessed")

-- A value longer than 2048 bytes is not recorded, only named in
-- facts_problem; the replay restores it as oversize (so the session is
-- still TLS, of an unknown version) instead of taking it as absent.
local n18
for i, l in ipairs(T.records("all")) do
	if l:find('"client_addr":"192.0.2.18"', 1, true) and l:find('"type":"decision"', 1, true) then n18 = i end
end
local big = WORK .. "/oversize.jsonl"
run("python3 " .. SRCDIR .. "/rechain.py " .. T.audit .. " " .. big .. " " .. n18 ..
	" 'r.pop(\"tls_version\"); r.pop(\"cipher\"); r[\"rule\"] = \"min-tls-version\"; " ..
	"r[\"facts_problem\"] = \"tls_version: value of 3000 bytes exceeds 2048; cipher: value of 3000 bytes exceeds 2048\"'")
out = run(MILTER .. " --simulate " .. big)
has(out, "total: replayed 14, unchanged 14, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0", "oversize facts")
mt.echo("ok - oversize facts replay as oversize, not as absent")

T.done()
