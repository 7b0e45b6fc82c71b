-- Trusted networks, report mode and the tempfail action.
dofile(SRCDIR .. "/lib.lua")

T.start([[
[listener submission]
port 587
require-tls yes
require-auth yes
trusted-networks 192.0.2.0/24, 2001:db8::/32

[listener rollout]
port 2587
require-tls yes
require-auth yes
action report

[listener soft]
port 3587
require-tls yes
action tempfail
auth-requires-tls-action reject
]])

local sub = { listener = { port = "587" } }
T.expect("a trusted IPv4 client passes a require-tls listener in plaintext",
	{ listener = sub.listener, client = "192.0.2.55" }, {
	reply = "accept",
	record = { outcome = "accept", trusted = true, rule = "none", client_addr = "192.0.2.55" } })

T.expect("a trusted IPv6 client passes too",
	{ listener = sub.listener, client = "2001:db8::25" }, {
	reply = "accept", record = { outcome = "accept", trusted = true } })

T.expect("an untrusted client is still refused",
	{ listener = sub.listener, client = "198.51.100.7" }, {
	reply = "replycode", record = { outcome = "reject", trusted = false, rule = "require-tls" } })

T.expect("a trusted client that AUTHs in plaintext passes but is recorded as an exposure",
	{ listener = sub.listener, client = "192.0.2.55", auth = T.ALICE }, {
	reply = "accept",
	record = { type = "credential-exposure", exposure = true, trusted = true, outcome = "accept" } })

T.expect("report mode lets plaintext through and records would-reject",
	{ listener = { port = "2587" } }, {
	reply = "accept",
	record = { outcome = "would-reject", mode = "report", action = "report", rule = "require-tls",
		reply = "530 5.7.0 Must issue a STARTTLS command first" } })

T.expect("report mode records the exposure it would have refused",
	{ listener = { port = "2587" }, auth = T.ALICE }, {
	reply = "accept",
	record = { outcome = "would-reject", type = "credential-exposure", rule = "auth-requires-tls",
		reply = "538 5.7.11 Encryption required for requested authentication mechanism" } })

T.expect("the tempfail action answers 451 4.7.0",
	{ listener = { port = "3587" } }, {
	reply = "replycode",
	record = { outcome = "tempfail", action = "tempfail",
		reply = "451 4.7.0 Must issue a STARTTLS command first" } })

T.expect("a per-rule action overrides the listener's",
	{ listener = { port = "3587" }, auth = T.ALICE }, {
	reply = "replycode",
	record = { outcome = "reject", rule = "auth-requires-tls" } })

T.done()
