-- lib.lua - shared helpers for the protocol tests (miltertest, Lua 5.x).
--
-- Each test script starts the real daemon with a config of its own, plays
-- SMTP sessions as an MTA would (Postfix-style or Sendmail-style macro
-- sets, taken from shared/reference measurements), and states what it
-- expects: the milter reply and the decision record.  run.sh defines the
-- globals MILTER, PORT, WORK and SRCDIR with miltertest -D.
--
-- Every expectation that fails raises an error naming the session, so a
-- script reads as a list of intents.

T = {}
T.sock = "inet:" .. PORT .. "@127.0.0.1"
T.audit = WORK .. "/audit.jsonl"
T.decisions = 0
T.config = WORK .. "/test.conf"

-- The MTAs' macro values, as measured.
T.mta = {
	postfix = {
		version = "Postfix 3.7.11",
		connect = function(l, client, cport)
			return { "j", "mx.example.test", "_", "client.example [" .. client .. "]",
				"v", "Postfix 3.7.11",
				"{daemon_name}", l.name or "mx.example.test",
				"{daemon_addr}", "127.0.0.1",
				"{daemon_port}", l.port,
				"{client_addr}", client, "{client_port}", cport }
		end,
		tls = function(t)
			local m = { "{tls_version}", t.version, "{cipher}", t.cipher,
				"{cipher_bits}", t.bits }
			if t.subject then
				table.insert(m, "{cert_subject}"); table.insert(m, t.subject)
				table.insert(m, "{cert_issuer}"); table.insert(m, t.issuer)
			end
			return m
		end,
		auth = function(a)
			return { "{auth_type}", a.mech, "{auth_authen}", a.user }
		end,
	},
	sendmail = {
		version = "8.17.1.9",
		connect = function(l, client, cport)
			return { "j", "mx.example.test", "_", "client.example [" .. client .. "]",
				"v", "8.17.1.9",
				"{daemon_name}", l.name or "MTA",
				"{daemon_addr}", "127.0.0.1", "{daemon_family}", "inet",
				"{daemon_port}", l.port,
				"{client_addr}", client, "{client_port}", cport }
		end,
		tls = function(t)
			return { "{tls_version}", t.version, "{cipher}", t.cipher,
				"{cipher_bits}", t.bits,
				"{cert_subject}", t.subject or "", "{cert_issuer}", t.issuer or "",
				"{verify}", t.subject and "OK" or "NO" }
		end,
		auth = function(a)
			return { "{auth_type}", a.mech, "{auth_authen}", a.user,
				"{auth_ssf}", "0" }
		end,
	},
}

T.TLS13 = { version = "TLSv1.3", cipher = "TLS_AES_256_GCM_SHA384", bits = "256" }
T.TLS12 = { version = "TLSv1.2", cipher = "ECDHE-RSA-AES256-GCM-SHA384", bits = "256" }
T.TLS11 = { version = "TLSv1.1", cipher = "ECDHE-RSA-AES256-SHA", bits = "256" }
T.ALICE = { mech = "PLAIN", user = "alice@example.test" }

-- T.start(config_text) - write the config (with the audit log) and start
-- the daemon in the foreground; miltertest stops it by its PID at the end.
function T.write_config(text)
	local f = assert(io.open(T.config, "w"))
	-- the suite runs as root; tests of userid say so themselves
	local root = (text or ""):find("userid", 1, true) and "" or "allow-root yes\n"
	f:write("audit-log " .. T.audit .. "\n" .. root .. (text or ""))
	f:close()
end

function T.start(text, args)
	local path = T.config
	T.write_config(text)
	local argv = { "-f", "-p", T.sock, "-c", path }
	for _, a in ipairs(args or {}) do table.insert(argv, a) end
	mt.startfilter(MILTER, table.unpack(argv))
end

-- T.start_builtin() - the daemon with the built-in policy (no audit file).
function T.start_builtin()
	T.no_audit = true
	mt.startfilter(MILTER, "-f", "-R", "-p", T.sock)
end

local function check(cond, what, ...)
	if not cond then
		-- miltertest does not print a script's error: say it on stdout,
		-- which run.sh shows with the failure
		local msg = string.format(what, ...)
		mt.echo("not ok - " .. msg)
		error(msg, 2)
	end
end

local function macro(conn, stage, list)
	if #list > 0 then
		check(mt.macro(conn, stage, table.unpack(list)) == nil, "mt.macro failed")
	end
end

local function concat(a, b)
	local r = {}
	for _, v in ipairs(a) do table.insert(r, v) end
	for _, v in ipairs(b or {}) do table.insert(r, v) end
	return r
end

-- T.session{...} - connect, HELO (and a second HELO after STARTTLS), MAIL.
--   mta      "postfix" (default) or "sendmail"
--   listener { port = "587", name = "submission" }
--   client   "192.0.2.10" (default)
--   tls      T.TLS13 ... or nil for plaintext
--   auth     T.ALICE or nil
--   tls_at   "helo" (default: a second HELO after STARTTLS) or "mail"
--            (Sendmail accepting MAIL right after STARTTLS)
--   connect_extra  extra connect macros; raw_connect replaces them all
--   helo     the HELO/EHLO name (default "client.example")
--   from     MAIL FROM's address (default "<alice@example.test>")
-- Returns the connection handle after MAIL, and the milter's reply code.
function T.session(o)
	local conn = T.open(o)
	return conn, T.mail(conn, o)
end

-- T.open(o) - connect and HELO(s), as T.session, without MAIL.
function T.open(o)
	local m = T.mta[o.mta or "postfix"]
	local client = o.client or "192.0.2.10"
	local conn = mt.connect(T.sock, 40, 0.25)
	check(conn ~= nil, "cannot connect to the milter at %s", T.sock)
	local cm = o.raw_connect or concat(m.connect(o.listener or {}, client, "40000"), o.connect_extra)
	macro(conn, SMFIC_CONNECT, cm)
	check(mt.conninfo(conn, "client.example", client) == nil, "conninfo failed")
	check(mt.helo(conn, o.helo or "client.example") == nil, "helo failed")
	if o.tls and (o.tls_at or "helo") == "helo" then
		macro(conn, SMFIC_HELO, concat(m.tls(o.tls), o.helo_extra))
		check(mt.helo(conn, o.helo or "client.example") == nil, "second helo failed")
	end
	return conn
end

-- T.mail(conn, o) - MAIL FROM with the session's macros; the reply code.
function T.mail(conn, o)
	local m = T.mta[o.mta or "postfix"]
	local client = o.client or "192.0.2.10"
	local mailm = {}
	if o.tls then mailm = concat(mailm, m.tls(o.tls)) end
	if o.auth then mailm = concat(mailm, m.auth(o.auth)) end
	mailm = concat(mailm, o.mail_extra)
	if o.mta == "sendmail" then mailm = concat(mailm, { "i", "4AOLab0" .. client:gsub("%D", "") }) end
	macro(conn, SMFIC_MAIL, mailm)
	check(mt.mailfrom(conn, o.from or "<alice@example.test>") == nil, "mailfrom failed")
	return mt.getreply(conn)
end

local reply_names = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_REPLYCODE] = "replycode",
}

-- T.expect(label, session_options, want) - play one session and check the
-- reply and its record.  want.reply: "accept" (the transaction goes on) or
-- "replycode" (a reject/tempfail with our SMTP reply); want.record: the
-- fields the newest audit record must hold ({rule = "require-tls", ...}).
function T.expect(label, o, want)
	local before = T.count_records()
	local conn, r = T.session(o)
	local got = reply_names[r] or tostring(r)
	check(got == want.reply, "%s: milter replied %s, expected %s", label, got, want.reply)
	mt.disconnect(conn)
	T.decisions = T.decisions + 1
	if T.no_audit then
		mt.echo("ok - " .. label)
		return
	end
	local after = T.wait_records(before + 1)
	check(after == before + 1, "%s: %d new audit records, expected 1", label, after - before)
	if want.record then T.expect_record(label, want.record) end
	mt.echo("ok - " .. label)
end

-- T.records(kind) - the audit file's decision records (rotated files
-- first); kind "session" gives the session records, "all" every line.
-- Session records are written at close, after the reply, so decision
-- counts leave them out.  Only whole lines count: the writer appends a
-- batch while this reads, so the file may end in part of a line.
function T.records(kind)
	local lines = {}
	for _, name in ipairs({ T.audit .. ".1", T.audit }) do
		local f = io.open(name, "r")
		if f ~= nil then
			local text = f:read("*a") or ""
			f:close()
			for l in text:gmatch("([^\n]*)\n") do
				local is_session = l:find('"type":"session"', 1, true) ~= nil
				local is_policy = l:find('"type":"policy"', 1, true) ~= nil
				if kind == "all" or (kind == "policy" and is_policy) or
				    (kind ~= "policy" and not is_policy and
				    (kind == "session") == is_session) then
					table.insert(lines, l)
				end
			end
		end
	end
	return lines
end

function T.count_records() return #T.records() end

-- T.wait_until(count, n) - count() once it is n or more, or after 30 s.
-- A record is staged before the reply and reaches the file with the next
-- batch, and a signal's log line comes when the daemon has handled it:
-- within a second on an idle machine, later under valgrind on a busy one.
-- The wait ends as soon as the count is reached.
function T.wait_until(count, n)
	local got = count()
	for _ = 1, 600 do
		if got >= n then break end
		mt.sleep(0.05)
		got = count()
	end
	return got
end

-- T.wait_records(n, kind) - the number of records of kind (as for
-- T.records) once there are n, or after 30 s.
function T.wait_records(n, kind)
	return T.wait_until(function() return #T.records(kind) end, n)
end

-- T.wait_log(text, n) - the number of stderr lines containing text once
-- there are n (default 1), or after 30 s.
function T.wait_log(text, n)
	return T.wait_until(function() return T.log_count(text) end, n or 1)
end

-- T.expect_record(label, fields) - the newest record holds each field:
-- strings as "key":"value", booleans and numbers as bare JSON values.
function T.expect_record(label, fields)
	local recs = T.records()
	local last = recs[#recs]
	check(last ~= nil, "%s: no audit record", label)
	for k, v in pairs(fields) do
		local want
		if type(v) == "string" then
			want = '"' .. k .. '":"' .. v .. '"'
		else
			want = '"' .. k .. '":' .. tostring(v)
		end
		check(last:find(want, 1, true) ~= nil, "%s: record lacks %s: %s", label, want, last)
	end
end

-- T.expect_no_field(label, key) - the newest record has no such key.
function T.expect_no_field(label, key)
	local recs = T.records()
	local last = recs[#recs] or ""
	check(last:find('"' .. key .. '":', 1, true) == nil, "%s: record has %s: %s", label, key, last)
end

-- T.done() - tell run.sh how many decisions to count in the logs.
function T.done()
	mt.echo("DECISIONS " .. T.decisions)
end

-- T.log_count(text) - how many lines of the daemon's stderr contain text.
function T.log_count(text)
	local n = 0
	local f = io.open(WORK .. "/err", "r")
	if f == nil then return 0 end
	for l in f:lines() do
		if l:find(text, 1, true) then n = n + 1 end
	end
	f:close()
	return n
end

-- T.expect_log(label, text, n) - exactly n stderr lines contain text,
-- once the daemon has written them (see T.wait_log).
function T.expect_log(label, text, n)
	local got = T.wait_log(text, n)
	check(got == n, "%s: %d log lines contain %q, expected %d", label, got, text, n)
	mt.echo("ok - " .. label)
end
