#!/bin/sh
# run.sh - the real-Sendmail suite: a private Sendmail 8.17 on loopback
# (lab.sh; fetch.sh downloads and unpacks it on first use), the built
# daemon, and the shared scenario matrix (tests/scenarios/) played with
# swaks; then Sendmail-specific cases: the macro values Sendmail sends,
# AUTH before STARTTLS (Sendmail keeps AUTH across STARTTLS), a verified
# client certificate, STARTTLS while the milter is down, and Sendmail's
# default confMILTER_MACROS_*.  Ends with "N passed, N failed".
#
#   sh tests/sendmail/run.sh                      (as root)
#   MILTER=path/to/tlspolicy-milter AUDIT_OUT=matrix.jsonl sh tests/sendmail/run.sh
#
# AUDIT_OUT, if set, receives the matrix's decision records (for
# same-policy.sh).  The suite runs in a private network namespace
# (unshare -n), so its listeners (10025, 10587, 10465: the ports
# tests/scenarios/ports.conf names) never collide with the host's or with
# a Postfix lab running at the same time, and nothing it starts is
# reachable from outside.  Never skips: if Sendmail cannot start, the
# suite fails and says why.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"

if [ -z "${TLSPOLICY_SENDMAIL_NETNS:-}" ]; then
	if ! command -v unshare >/dev/null || ! unshare -n true 2>/dev/null; then
		echo "FAIL: setup: cannot create a private network namespace (unshare -n; run as root)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	# Fetch the packages first: the private namespace has no network.
	if ! sh "$here/fetch.sh" >/dev/null; then
		echo "FAIL: setup: could not download and unpack Sendmail (tests/sendmail/fetch.sh, above)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	TLSPOLICY_SENDMAIL_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: setup: no loopback in the namespace"; echo "0 passed, 1 failed"; exit 1; }

SCENARIO_LIB="$top/tests/scenarios/lib.sh"
. "$SCENARIO_LIB"
LAB_SH="$here/lab.sh"
. "$here/lab.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-sendmail.XXXXXX")
chmod 755 "$WORK"	# the milter runs as nobody, the local mailer as daemon
LAB="$WORK/lab"
# The audit log's directory is the milter user's (it opens the log after
# dropping privileges); the milter listens on a unix socket in a directory
# it creates root-only (Sendmail's daemon connects as root).
mkdir "$WORK/log" && chown nobody:nogroup "$WORK/log" && chmod 755 "$WORK/log"
AUDIT="$WORK/log/audit.jsonl"
MILTER_ERR="$WORK/milter.err"
MILTER_SOCK="$WORK/sock/tlspolicy-milter.sock"
MILTER_PORT="unix:$MILTER_SOCK"	# what the lab puts in S=
MILTER_PID=""
LAB_PASSWORD=$SCEN_PASSWORD

# Sendmail-specific expectations: the shared matrix with the fields that
# overrides.matrix names replaced (Sendmail's {daemon_name}, its replies
# when the milter is down).  The scenario configs are the shared files.
sendmail_scenarios() {
	mkdir -p "$WORK/scenarios" || return 1
	for f in "$SCENARIOS"/*.conf; do ln -s "$f" "$WORK/scenarios/"; done
	awk -F'|' -v OFS='|' '
	    FNR == NR { if ($0 !~ /^#/ && NF >= 3) { key[$1 "|" $2] = $3; used[$1 "|" $2] = 0 }; next }
	    /^#/ || NF < 13 { print; next }
	    { for (i = 1; i <= NF; i++) if (($2 "|" i) in key) { $i = key[$2 "|" i]; used[$2 "|" i] = 1 }
	      print }
	    END { for (k in used) if (!used[k]) { print "override matches no scenario: " k > "/dev/stderr"; bad = 1 }
	          exit bad }' "$here/overrides.matrix" "$SCENARIOS/matrix" >"$WORK/scenarios/matrix" || return 1
	SCENARIOS="$WORK/scenarios"
}

# Sendmail-specific override: lib.sh recognises an accepted message by
# Postfix's "queued as"; Sendmail answers the final dot with
# "250 2.0.0 <queue id> Message accepted for delivery".
swaks() {
	command swaks "$@" | awk '{ print }
	    /^<[-~]  250 2\.0\.0 [0-9A-Za-z]+ Message accepted for delivery/ {
		print "=== sendmail suite: queued as " $4 }'
}

# session_log CPORT - sendmail's log lines of the session from client port
# CPORT (the lab logs "tlspolicy-lab client_port N" at connect), plus the
# lines of any queue id that session accepted (delivery runs elsewhere).
session_log() {
	_i=0
	while :; do
		_pid=$(grep -E "tlspolicy-lab.client_port.$1\$" "$LAB/maillog" | sed -n 's/^sendmail\[\([0-9]*\)\].*/\1/p' | tail -n 1)
		[ -n "$_pid" ] || [ $_i -ge 30 ] && break
		_i=$((_i + 1))
		sleep 0.1
	done
	[ -n "$_pid" ] || return 1
	sleep 0.2	# the session's last lines may still be on their way
	grep "^sendmail\[$_pid\]: " "$LAB/maillog"
}

# mta_log_check CPORT QUEUED REPLY - lib.sh's hook: Sendmail's log of that
# session agrees (message accepted or not; "Milter: from=..., reject=REPLY").
mta_log_check() {
	_log=$(session_log "$1") || { echo "no 'tlspolicy-lab client_port $1' line in Sendmail's log"; return; }
	if printf '%s\n' "$_log" | grep -q ': from=<alice@example.test>, size=[1-9][0-9]*, .*nrcpts=1'; then
		_q=yes
	else
		_q=no
	fi
	[ "$_q" = "$2" ] || { echo "Sendmail's log says queued=$_q, expected $2"; return; }
	case "$3" in
	250) ;;
	-)	# refused before MAIL FROM: with the milter down, Sendmail
		# tempfails STARTTLS (also the implicit one on M=s) and AUTH
		if printf '%s\n' "$_log" | grep -q 'Milter: initialization failed'; then
			printf '%s\n' "$_log" | grep -q -E 'SMTP (STARTTLS|AUTH) command .* tempfailed' ||
			    echo "the milter was down, but Sendmail's log shows no tempfailed STARTTLS or AUTH"
		fi ;;
	*) printf '%s\n' "$_log" | grep -q "Milter: from=<alice@example.test>, reject=$3 " ||
	    printf '%s\n' "$_log" | grep -q "Milter: initialization failed, temp failing commands" ||
	    echo "no 'Milter: from=<alice@example.test>, reject=$3' line in Sendmail's log" ;;
	esac
}

# milter_start CONFIG [extra config lines] - the daemon in the foreground
# (scenario_milter_start).
milter_start() {
	scenario_milter_start "$(printf 'audit-log %s\nsyslog no\nuserid nobody\nsocket-group root' "$AUDIT")" "$@"
}

cleanup() {
	milter_stop
	[ -d "$LAB" ] && { lab_stop "$LAB" 2>>"$WORK/lab-stop.err" || true; }
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# expect NAME WHY - pass when WHY is empty, else fail with it.
expect() {
	if [ -z "$2" ]; then pass "$1"; else fail "$1" "$2"; fi
}

# smtp PORT MODE STEPS... - a scripted session (python smtplib); prints
# "STEP CODE TEXT" per step.  MODE: plain or wrapper.  Steps: ehlo,
# starttls, auth (PLAIN as alice), mail, rcpt, data, cert (present the
# lab client certificate on STARTTLS/wrapper; must come first).
smtp() {
	python3 - "$LAB_PASSWORD" "$WORK/client" "$@" <<'PY'
import base64, smtplib, ssl, sys
password, client, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
steps = sys.argv[5:]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if steps and steps[0] == "cert":
    ctx.load_cert_chain(client + ".pem", client + ".key")
    steps = steps[1:]
if mode == "wrapper":
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=20)
else:
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
def show(step, r):
    print(step, r[0], r[1].decode(errors="replace").replace("\n", " "))
for step in steps:
    if step == "ehlo":
        show(step, s.ehlo("client.example"))
    elif step == "starttls":
        r = s.docmd("STARTTLS")
        show(step, r)
        if r[0] == 220:
            s.sock = ctx.wrap_socket(s.sock)
            s.file = None
    elif step == "auth":
        tok = base64.b64encode(b"\0alice@example.test\0" + password.encode()).decode()
        show(step, s.docmd("AUTH", "PLAIN " + tok))
    elif step == "mail":
        show(step, s.docmd("MAIL", "FROM:<alice@example.test>"))
    elif step == "rcpt":
        show(step, s.docmd("RCPT", "TO:<bob@example.test>"))
    elif step == "data":
        r = s.docmd("DATA")
        if r[0] == 354:
            s.send(b"Subject: lab\r\n\r\nhello\r\n.\r\n")
            r = s.getreply()
        show(step, r)
s.docmd("QUIT")
PY
}

# step OUT STEP - "CODE TEXT" of that step in an smtp() transcript.
step() {
	awk -v s="$2" '$1 == s { $1 = ""; sub(/^ /, ""); r = $0 } END { print r }' "$1"
}

# decisions_since N - the decision records (not session summaries) after line N.
decisions_since() {
	records_since "$1" | jq -c 'select(.type != "session" and .type != "policy")'
}

# wait_decisions BEFORE K - until K decision records follow line BEFORE
# (a record is staged before the reply and in the file within a second),
# at most 2 s.
wait_decisions() {
	_i=0
	while [ "$(decisions_since "$1" | wc -l)" -lt "$2" ] && [ $_i -lt 20 ]; do
		_i=$((_i + 1)); sleep 0.1
	done
}

# one_record BEFORE - the single record written since line BEFORE, or fail.
one_record() {
	wait_decisions "$1" 1
	sleep 0.1	# and no second one
	n=$(decisions_since "$1" | wc -l)
	[ "$n" -eq 1 ] || { echo "$n new decision records, expected 1: $(decisions_since "$1")" >&2; return 1; }
	decisions_since "$1"
}

# The macro values Sendmail sends, as the records show them.
sendmail_macros() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo starttls ehlo auth mail rcpt data >"$WORK/m1.out" 2>&1
	smtp "$LAB_SMTPS_PORT" wrapper ehlo auth mail rcpt data >"$WORK/m2.out" 2>&1
	smtp "$LAB_MX_PORT" plain ehlo mail rcpt data >"$WORK/m3.out" 2>&1
	wait_decisions "$before" 3
	sleep 0.2
	recs=$(decisions_since "$before")
	why=$(echo "$recs" | jq -rs --arg sub "$LAB_SUB_PORT" --arg smtps "$LAB_SMTPS_PORT" --arg mx "$LAB_MX_PORT" '
	    def want(c; m): if c then empty else m end;
	    if length != 3 then "\(length) records, expected 3" else
	    (.[0] | want(.daemon_name == "MSA" and .listener == "submission" and (.daemon_port|tostring) == $sub and .daemon_addr == "127.0.0.1"; "STARTTLS record: listener facts \(.daemon_name) \(.daemon_port) \(.daemon_addr)")),
	    (.[0] | want(.tls == true and .tls_version == "TLSv1.3" and (.cipher | startswith("TLS_")) and .cipher_bits >= 128; "STARTTLS record: TLS facts \(.tls_version) \(.cipher) \(.cipher_bits)")),
	    (.[0] | want(.verify == "NO" and (.cert_subject // "") == "" and (.cert_issuer // "") == ""; "STARTTLS record: no client certificate, but verify=\(.verify) subject=\(.cert_subject)")),
	    (.[0] | want(.auth == true and .auth_type == "PLAIN" and .auth_authen == "alice@example.test" and .outcome == "accept"; "STARTTLS record: AUTH facts \(.auth_type) \(.auth_authen) \(.outcome)")),
	    (.[0] | want((.queue_id // "") | test("^[0-9A-Za-z]{14}$"); "no Sendmail queue id at MAIL FROM: \(.queue_id)")),
	    (.[0] | want((.client_addr == "127.0.0.1") and ((.client_port|tostring) | test("^[0-9]+$")); "client facts \(.client_addr) \(.client_port)")),
	    (.[1] | want(.daemon_name == "MSA-TLS" and .listener == "submissions" and (.daemon_port|tostring) == $smtps and .tls == true and .verify == "NO" and .auth == true and .outcome == "accept"; "implicit TLS record: \(.)")),
	    (.[2] | want(.daemon_name == "MTA" and .listener == "default" and (.daemon_port|tostring) == $mx and .tls == false and .auth == false and .outcome == "accept"; "MX record: \(.)"))
	    end' 2>&1 | head -n 3)
	grep -q '^data 250' "$WORK/m1.out" && grep -q '^data 250' "$WORK/m2.out" &&
	    grep -q '^data 250' "$WORK/m3.out" || why="${why:+$why; }a message was not accepted: $(cat "$WORK"/m[123].out | tr '\n' ' ')"
	expect "Sendmail macros in the records: {daemon_name} MTA/MSA/MSA-TLS, {daemon_port}, {verify}=NO, TLSv1.3, {auth_*}, queue id" "$why"
	echo "$recs" | head -n 1 | jq -c '{daemon_name, daemon_port, daemon_addr, tls_version, cipher, cipher_bits, verify, cert_subject, auth_type, auth_authen, queue_id, mta}' |
	    sed 's/^/    sendmail record: /'
}

# AUTH in plaintext, STARTTLS, EHLO again, MAIL: Sendmail keeps AUTH across
# STARTTLS; the AUTH is already there at the first HELO after TLS began.
auth_before_starttls() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo auth starttls ehlo mail rcpt >"$WORK/abt.out" 2>&1
	rec=$(one_record "$before" 2>&1) || { fail "AUTH, STARTTLS, EHLO, MAIL" "$rec"; return; }
	why=""
	grep -q '^auth 235' "$WORK/abt.out" || why="plaintext AUTH was not accepted by Sendmail: $(tr '\n' ' ' <"$WORK/abt.out")"
	[ -n "$why" ] || echo "$rec" | jq -e '.tls == true and .auth == true and .rule == "auth-requires-tls" and
	    .type == "credential-exposure" and .exposure == true and .outcome == "reject"' >/dev/null ||
	    why="record: $rec"
	line=$(step "$WORK/abt.out" mail)
	[ -n "$why" ] || [ "$line" = "$(echo "$rec" | jq -r .reply)" ] ||
	    why="client saw '$line', record says $(echo "$rec" | jq .reply)"
	expect "AUTH in plaintext, STARTTLS, EHLO, MAIL: flagged as credential exposure (538 5.7.11)" "$why"
	echo "    client: $(step "$WORK/abt.out" mail); reason: $(echo "$rec" | jq -r .reason)"
	grep -q "Milter: from=<alice@example.test>, reject=538 5.7.11" "$LAB/maillog" &&
	    pass "Sendmail's log: Milter: from=<alice@example.test>, reject=538 5.7.11 ..." ||
	    fail "Sendmail's log" "no 'Milter: from=..., reject=538' line in $LAB/maillog"
}

# Without the second EHLO the milter cannot tell (documented limitation):
# the callbacks equal those of STARTTLS, AUTH, MAIL.
auth_before_starttls_no_ehlo() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo auth starttls mail rcpt >"$WORK/abt2.out" 2>&1
	rec=$(one_record "$before" 2>&1) || { fail "AUTH, STARTTLS, MAIL (no second EHLO)" "$rec"; return; }
	echo "$rec" | jq -e '.tls == true and .auth == true and .outcome == "accept"' >/dev/null &&
	    pass "AUTH in plaintext, STARTTLS, MAIL without EHLO: invisible to a milter, accepted (documented limit)" ||
	    fail "AUTH, STARTTLS, MAIL (no second EHLO)" "record: $rec"
}

# EHLO, STARTTLS, EHLO, AUTH over TLS, EHLO once more, MAIL: the client
# greets again after STARTTLS (RFC 3207), so the first TLS HELO carries no
# AUTH: accepted, no exposure.
auth_after_tls_then_ehlo() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo starttls ehlo auth ehlo mail rcpt >"$WORK/ate.out" 2>&1
	rec=$(one_record "$before" 2>&1) || { fail "STARTTLS, EHLO, AUTH, EHLO, MAIL" "$rec"; return; }
	why=""
	echo "$rec" | jq -e '.tls == true and .auth == true and .outcome == "accept" and .exposure == false' >/dev/null ||
	    why="an AUTH done over TLS is recorded as $(echo "$rec" | jq -c '{rule, outcome, type, reason}'), client saw '$(step "$WORK/ate.out" mail)'"
	expect "EHLO, STARTTLS, EHLO, AUTH (over TLS), EHLO again, MAIL: accepted, no exposure" "$why"
}

# EHLO, STARTTLS, AUTH without the EHLO RFC 3207 asks for, EHLO, MAIL: the
# milter's callbacks are identical to those of a plaintext AUTH before
# STARTTLS (the first TLS HELO already carries AUTH), so it fails closed
# and refuses (documented in tlspolicy-milter(8)).
auth_after_tls_no_ehlo() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo starttls auth ehlo mail rcpt >"$WORK/ate2.out" 2>&1
	rec=$(one_record "$before" 2>&1) || { fail "STARTTLS, AUTH, EHLO, MAIL" "$rec"; return; }
	echo "$rec" | jq -e '.rule == "auth-requires-tls" and .reason == "AUTH before STARTTLS" and
	    .outcome == "reject"' >/dev/null &&
	    pass "EHLO, STARTTLS, AUTH (no EHLO), EHLO, MAIL: indistinguishable from a plaintext AUTH, refused (fail closed)" ||
	    fail "STARTTLS, AUTH, EHLO, MAIL" "record: $rec"
}

# A client certificate signed by the lab's CA: {verify}=OK, xtext subject.
client_certificate() {
	openssl req -newkey rsa:2048 -nodes -subj "/O=Example Lab/CN=alice@example.test" \
	    -keyout "$WORK/client.key" -out "$WORK/client.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$WORK/client.csr" -CA "$LAB/tls/cert.pem" -CAkey "$LAB/tls/key.pem" \
	    -CAcreateserial -days 1 -out "$WORK/client.pem" >/dev/null 2>&1 ||
	    { fail "client certificate" "openssl could not sign one"; return; }
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain cert ehlo starttls ehlo auth mail rcpt >"$WORK/cert.out" 2>&1
	rec=$(one_record "$before" 2>&1) || { fail "client certificate" "$rec"; return; }
	echo "$rec" | jq -e '.verify == "OK" and (.cert_subject | contains("alice@example.test")) and
	    (.cert_issuer | contains("mx.example.test")) and .outcome == "accept"' >/dev/null &&
	    pass "client certificate: {verify}=OK, subject and issuer recorded" ||
	    fail "client certificate" "record: $rec; client: $(tr '\n' ' ' <"$WORK/cert.out")"
	echo "    cert_subject: $(echo "$rec" | jq .cert_subject), cert_issuer: $(echo "$rec" | jq .cert_issuer)"
}

# With the milter down (F=T), Sendmail also refuses STARTTLS (454 4.7.0).
milter_down_starttls() {
	before=$(count_records)
	smtp "$LAB_SUB_PORT" plain ehlo starttls mail >"$WORK/down.out" 2>&1
	s=$(step "$WORK/down.out" starttls)
	m=$(step "$WORK/down.out" mail)
	case "$s|$m" in
	"454 4.7.0"*"|451 4.3.2"*) pass "milter stopped: STARTTLS gets 454 4.7.0, MAIL 451 4.3.2 (F=T)" ;;
	*) fail "milter stopped, STARTTLS" "STARTTLS '$s', MAIL '$m'" ;;
	esac
	grep -q 'Milter (tlspolicy): error connecting to filter' "$LAB/maillog" &&
	    pass "Sendmail's log names the unreachable filter" ||
	    fail "Sendmail's log" "no 'error connecting to filter' line"
}

# Sendmail's default confMILTER_MACROS_* (no {daemon_port}, {client_addr},
# {verify}): with smfi_setsymlist the milter still gets what it needs; with
# request-macros no it warns once and falls back.
default_macros() {
	(lab_stop "$LAB") >>"$WORK/lab-stop.err" 2>&1 && mv "$LAB" "$WORK/lab-first" &&
	    (lab_start "$LAB" "$MILTER_PORT" default-macros) >"$WORK/lab2.out" 2>&1 ||
	    { fail "Sendmail with default macros" "$(cat "$WORK/lab2.out")"; return; }
	grep -q 'confMILTER_MACROS' "$LAB/sendmail.mc" "$LAB/milter.m4" &&
	    { fail "default macros" "the lab still defines confMILTER_MACROS_*"; return; }
	milter_start ports.conf || { fail "default macros" "milter did not start"; return; }
	before=$(count_records)
	tl_free_port _cp && swaks_session submission plain none "$WORK/dm1.out" "$_cp"
	tl_free_port _cp && swaks_session submissions wrapper PLAIN "$WORK/dm2.out" "$_cp"
	milter_stop
	why=$(decisions_since "$before" | jq -rs 'if length != 2 then "\(length) records" else
	    (.[0] | select(.listener != "submission" or .rule != "require-tls" or .outcome != "reject") | "plaintext: \(.)"),
	    (.[1] | select(.listener != "submissions" or .outcome != "accept" or .verify != "NO") | "implicit TLS: \(.)") end')
	r=$(check_reply "$WORK/dm1.out" "530 5.7.0" "Must issue a STARTTLS command first")
	[ -z "$r" ] || why="${why:+$why; }$r"
	expect "Sendmail default macro lists + smfi_setsymlist: port matching, {verify} still work" "$why"

	: >"$MILTER_ERR"
	milter_start ports.conf "request-macros no" || { fail "default macros" "milter did not start"; return; }
	before=$(count_records)
	for i in 1 2; do
		tl_free_port _cp && swaks_session submission plain none "$WORK/dmn$i.out" "$_cp"
	done
	milter_stop
	w=$(grep -c 'confMILTER_MACROS_CONNECT' "$MILTER_ERR")
	d=$(decisions_since "$before" | jq -s 'map(select(.listener == "default" and .outcome == "accept")) | length')
	if [ "$w" -eq 1 ] && [ "$d" -eq 2 ]; then
		pass "default macros, request-macros no: one warning naming confMILTER_MACROS_CONNECT, [default] applied"
	else
		fail "default macros, request-macros no" "$w warnings naming confMILTER_MACROS_CONNECT, $d default-policy records"
		sed 's/^/    /' "$MILTER_ERR" | grep -i -E 'warn|macro' | head -n 5
	fi
}

[ -x "$MILTER" ] || { fail "setup" "no daemon at $MILTER (run make first)"; echo "$passed passed, $failed failed"; exit 1; }
if ! (lab_start "$LAB" "$MILTER_PORT") >"$WORK/lab.out" 2>&1; then
	fail "Sendmail lab" "Sendmail did not start: $(cat "$WORK/lab.out")"
	echo "$passed passed, $failed failed"
	echo "kept $WORK"
	exit 1
fi
pass "private Sendmail started (listeners $LAB_MX_PORT MTA, $LAB_SUB_PORT MSA, $LAB_SMTPS_PORT MSA-TLS; pid $(lab_daemon_pid "$LAB"))"
if sendmail_scenarios 2>"$WORK/overrides.err"; then
	run_matrix
else
	fail "Sendmail overrides" "$(cat "$WORK/overrides.err")"
fi
[ -n "${AUDIT_OUT:-}" ] && cp "$AUDIT" "$AUDIT_OUT"
milter_down_starttls
milter_start names.conf || fail "names.conf" "milter did not start"
sendmail_macros
auth_before_starttls
auth_before_starttls_no_ehlo
auth_after_tls_then_ehlo
auth_after_tls_no_ehlo
client_certificate
milter_stop
default_macros
milter_stop
pid=$(lab_daemon_pid "$LAB")
if lab_stop "$LAB" 2>"$WORK/lab-stop.err"; then
	pass "Sendmail stopped by its PID $pid; no process of its namespace left, ports closed"
else
	fail "cleanup" "$(cat "$WORK/lab-stop.err")"
fi
# the whole run's log, for tests/simulate-replay.sh (configs: AUDIT_OUT.startK.conf)
[ -z "${AUDIT_OUT:-}" ] || [ ! -f "$AUDIT" ] || cp "$AUDIT" "$AUDIT_OUT.all"
summary
if [ "$failed" -eq 0 ]; then
	trap - EXIT
	rm -rf "$WORK"
else
	echo "kept $WORK"
fi
[ "$failed" -eq 0 ]
