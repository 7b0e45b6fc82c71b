-- Postfix's default milter_connect_macros carry no {daemon_port}: the
-- milter says so once, names the main.cf line, and applies [default].
dofile(SRCDIR .. "/lib.lua")

T.start([[
[listener submission]
port 587
require-tls yes
require-auth yes
[default]
auth-requires-tls yes
]])

-- Exactly Postfix's defaults: j {daemon_name} {daemon_addr} v _
local defaults = { "j", "mx.example.test", "{daemon_name}", "mx.example.test",
	"{daemon_addr}", "127.0.0.1", "v", "Postfix 3.7.11", "_", "client [192.0.2.10]" }

for i = 1, 3 do
	T.expect("session " .. i .. " without {daemon_port} gets the default policy",
		{ raw_connect = defaults }, {
		reply = "accept",
		record = { listener = "default", rule = "none", outcome = "accept" } })
end
T.expect_log("the warning is logged once, with the main.cf line",
	"milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port}", 1)

T.expect("the default still refuses AUTH over plaintext",
	{ raw_connect = defaults, auth = T.ALICE }, {
	reply = "replycode", record = { listener = "default", rule = "auth-requires-tls" } })

T.expect("with {daemon_port} the submission listener applies",
	{ listener = { port = "587" } }, {
	reply = "replycode", record = { listener = "submission", daemon_port = "587" } })

T.done()
