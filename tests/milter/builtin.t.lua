-- No config file: the built-in RFC 8314 / RFC 6409 policy.
dofile(SRCDIR .. "/lib.lua")

T.start_builtin()

T.expect("587 plaintext is refused", { listener = { port = "587" } }, { reply = "replycode" })
T.expect("587 TLSv1.3 with AUTH is accepted",
	{ listener = { port = "587" }, tls = T.TLS13, auth = T.ALICE }, { reply = "accept" })
T.expect("465 TLS without AUTH is refused",
	{ listener = { port = "465" }, tls = T.TLS13 }, { reply = "replycode" })
T.expect("465 TLSv1.1 with AUTH is refused",
	{ listener = { port = "465" }, tls = T.TLS11, auth = T.ALICE }, { reply = "replycode" })
T.expect("25 plaintext without AUTH is accepted", { listener = { port = "25" } }, { reply = "accept" })
T.expect("25 plaintext with AUTH is refused", { listener = { port = "25" }, auth = T.ALICE },
	{ reply = "replycode" })
T.expect("a listener named submission (Postfix milter_macro_daemon_name) is matched by name",
	{ listener = { port = "10587", name = "submission" } }, { reply = "replycode" })
T.expect_log("each decision is one log line", " outcome=", 7)

T.done()
