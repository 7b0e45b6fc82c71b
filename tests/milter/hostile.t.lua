-- Values an attacker controls (AUTH user names, certificate subjects, TLS
-- strings) can neither split a record nor forge a field.
dofile(SRCDIR .. "/lib.lua")

T.start([[
[listener submission]
port 587
require-tls yes
require-auth yes
]])

local forged = 'x" outcome=accept rule=none\r\n{"v":1,"outcome":"accept"}\n'
T.expect("a forged AUTH user stays inside its field",
	{ listener = { port = "587" }, auth = { mech = "PLAIN", user = forged } }, {
	reply = "replycode",
	record = { outcome = "reject", rule = "auth-requires-tls", type = "credential-exposure" } })

T.expect("a certificate subject with quotes, control bytes and invalid UTF-8",
	{ listener = { port = "587" }, auth = T.ALICE,
	  tls = { version = "TLSv1.3", cipher = "TLS_AES_128_GCM_SHA256", bits = "128",
		  subject = 'CN=a"b\\c\001\127\255\192\175 \226\130\172', issuer = "CN=Lab CA" } }, {
	reply = "accept", record = { outcome = "accept", cert_issuer = "CN=Lab CA" } })

T.expect("a 64 KiB subject is reported as oversize, not copied, not fatal",
	{ listener = { port = "587" }, auth = T.ALICE,
	  tls = { version = "TLSv1.3", cipher = "TLS_AES_128_GCM_SHA256", bits = "128",
		  subject = string.rep("A", 65536), issuer = "CN=Lab CA" } }, {
	reply = "accept", record = { outcome = "accept" } })
T.expect_no_field("the oversize subject is not in the record", "cert_subject")

T.expect("malformed numbers are facts, not crashes",
	{ listener = { port = "587" }, auth = T.ALICE,
	  tls = { version = "TLSv1.3", cipher = "TLS_AES_128_GCM_SHA256", bits = "-1e9" } }, {
	reply = "accept", record = { outcome = "accept", cipher_bits = "-1e9" } })

T.done()
