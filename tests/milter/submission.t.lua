-- A submission listener (587) with the RFC 8314 policy: TLS, AUTH, TLSv1.2.
-- Postfix-style macros matched by port, Sendmail-style matched by name.
dofile(SRCDIR .. "/lib.lua")

T.start([[
[listener submission]
port 587
name MSA
require-tls yes
require-auth yes
min-tls-version TLSv1.2
]])

local pf = { mta = "postfix", listener = { port = "587", name = "mx.example.test" } }
local sm = { mta = "sendmail", listener = { port = "10587", name = "MSA" } }

for _, base in ipairs({ pf, sm }) do
	local function with(extra)
		local o = {}
		for k, v in pairs(base) do o[k] = v end
		for k, v in pairs(extra) do o[k] = v end
		return o
	end
	local who = base.mta .. ": "

	T.expect(who .. "plaintext MAIL is refused with 530 5.7.0", with({}), {
		reply = "replycode",
		record = { type = "decision", rule = "require-tls", outcome = "reject",
			listener = "submission", tls = false, auth = false,
			reply = "530 5.7.0 Must issue a STARTTLS command first" } })

	T.expect(who .. "AUTH over plaintext is refused with 538 5.7.11 and recorded as an exposure",
		with({ auth = T.ALICE }), {
		reply = "replycode",
		record = { type = "credential-exposure", rule = "auth-requires-tls",
			outcome = "reject", exposure = true, auth = true,
			auth_type = "PLAIN", auth_authen = "alice@example.test",
			reply = "538 5.7.11 Encryption required for requested authentication mechanism" } })

	T.expect(who .. "TLS without AUTH is refused with 530 5.7.0 Authentication required",
		with({ tls = T.TLS13 }), {
		reply = "replycode",
		record = { rule = "require-auth", outcome = "reject", tls = true,
			tls_version = "TLSv1.3", cipher = "TLS_AES_256_GCM_SHA384", cipher_bits = 256,
			reply = "530 5.7.0 Authentication required" } })

	T.expect(who .. "TLSv1.3 with AUTH is accepted", with({ tls = T.TLS13, auth = T.ALICE }), {
		reply = "accept",
		record = { type = "decision", rule = "none", outcome = "accept", exposure = false,
			tls = true, auth = true, mode = "enforce" } })

	T.expect(who .. "TLSv1.1 is refused on a TLSv1.2 minimum, the reply names both",
		with({ tls = T.TLS11, auth = T.ALICE }), {
		reply = "replycode",
		record = { rule = "min-tls-version", outcome = "reject", tls_version = "TLSv1.1",
			reply = "530 5.7.0 TLSv1.1 is below the required TLSv1.2" } })

	T.expect(who .. "an unknown TLS version is a fact, and below the minimum",
		with({ tls = { version = "TLSv9-xyz", cipher = "X", bits = "128" }, auth = T.ALICE }), {
		reply = "replycode",
		record = { rule = "min-tls-version", tls_version = "TLSv9-xyz",
			reply = "530 5.7.0 unknown TLS version is below the required TLSv1.2" } })
end

-- Sendmail accepts MAIL right after STARTTLS without a new EHLO: the TLS
-- macros first arrive at MAIL, and they must count.
T.expect("sendmail: TLS facts that arrive only at MAIL are used",
	{ mta = "sendmail", listener = { port = "10587", name = "MSA" },
	  tls = T.TLS12, tls_at = "mail", auth = T.ALICE }, {
	reply = "accept",
	record = { rule = "none", outcome = "accept", tls_version = "TLSv1.2", verify = "NO" } })

T.done()
