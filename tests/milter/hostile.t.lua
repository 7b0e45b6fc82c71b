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

-- (miltertest cannot send a macro block over about 900 bytes; oversize
-- values are covered by the unit suites of facts and audit.)

T.expect("malformed numbers are facts, not crashes",
	{ listener = { port = "587" }, auth = T.ALICE,
	  tls = { version = "TLSv1.3", cipher = "TLS_AES_128_GCM_SHA256", bits = "-1e9" } }, {
	reply = "accept", record = { outcome = "accept", cipher_bits = "-1e9" } })

T.done()
