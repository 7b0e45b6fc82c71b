#!/bin/sh
# run.sh - the real-Postfix suite: a private Postfix on loopback (lab.sh),
# the built daemon, and the shared scenario matrix (tests/scenarios/)
# played with swaks; plus two transactions in one session, and Postfix's
# default milter_connect_macros.  Ends with "N passed, N failed".
#
#   MILTER=path/to/tlspolicy-milter sh tests/postfix/run.sh
#
# Never skips: if Postfix cannot start, the suite fails and says why.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"
SCENARIO_LIB="$top/tests/scenarios/lib.sh"
. "$SCENARIO_LIB"
. "$here/lab.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-postfix.XXXXXX")
chmod 755 "$WORK"	# Postfix (user postfix) must reach the lab below it
LAB="$WORK/lab"
AUDIT="$WORK/audit.jsonl"
MILTER_PORT=$((18000 + $$ % 1000))
MILTER_PID=""
etc_before=$(cd /etc/postfix 2>/dev/null && find . -type f -exec md5sum {} + | sort | md5sum)

mta_port() {
	case "$1" in
	mx) echo "$LAB_MX_PORT" ;;
	submission) echo "$LAB_SUB_PORT" ;;
	submissions) echo "$LAB_SMTPS_PORT" ;;
	esac
}

# milter_start CONFIG [extra config lines] - the daemon in the foreground.
milter_start() {
	[ "$1" = - ] && return 0
	# run as the unprivileged user nobody, as a deployment would
	{ printf 'audit-log %s\nsyslog no\nuserid nobody\n%s\n' "$AUDIT" "${2:-}"
	  cat "$SCENARIOS/$1"; } >"$WORK/milter.conf"
	"$MILTER" -f -c "$WORK/milter.conf" -p "inet:$MILTER_PORT@127.0.0.1" \
	    2>>"$WORK/milter.err" &
	MILTER_PID=$!
	i=0
	until lab_listening "$MILTER_PORT"; do
		i=$((i + 1))
		kill -0 "$MILTER_PID" 2>/dev/null && [ $i -lt 100 ] || {
			tail -n 5 "$WORK/milter.err"; MILTER_PID=""; return 1; }
		sleep 0.1
	done
}

milter_stop() {
	[ -n "$MILTER_PID" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=""
}

cleanup() {
	milter_stop
	(lab_stop "$LAB") 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Two transactions in one TLS session, RSET between: two decisions.
two_transactions() {
	before=$(count_records)
	python3 - "$LAB_SUB_PORT" "$LAB_PASSWORD" >"$WORK/two.out" 2>&1 <<'PY'
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.example")
s.starttls(context=ctx)
s.ehlo("client.example")
s.login("alice@example.test", sys.argv[2])
for i in (1, 2):
    code, text = s.mail("alice@example.test")
    print("MAIL", i, code)
    s.rcpt("bob@example.test")
    s.rset()
s.quit()
PY
	n=$(records_since "$before" | jq -s 'map(select(.outcome == "accept" and .listener == "submission" and .auth == true)) | length')
	if grep -q '^MAIL 1 250' "$WORK/two.out" && grep -q '^MAIL 2 250' "$WORK/two.out" &&
	    [ "$n" -eq 2 ] && [ "$(records_since "$before" | jq -r .session | sort -u | wc -l)" -eq 1 ]; then
		pass "two transactions in one session (RSET between): two decisions, one session"
	else
		fail "two transactions in one session" "$(cat "$WORK/two.out"; echo "records: $n")"
	fi
}

# Postfix's default milter_connect_macros, and the milter not asking for
# more: no {daemon_port}, one warning naming the main.cf line, [default].
default_macros() {
	(lab_stop "$LAB") && rm -rf "$LAB" &&
	    (lab_start "$LAB" "$MILTER_PORT" default-macros) >"$WORK/lab2.out" 2>&1 ||
	    { fail "Postfix with default macros" "$(cat "$WORK/lab2.out")"; return; }
	: >"$WORK/milter.err"
	milter_start ports.conf "request-macros no" || { fail "default macros" "milter did not start"; return; }
	before=$(count_records)
	for i in 1 2; do
		swaks_session submission plain none "$WORK/dm$i.out"
	done
	milter_stop
	w=$(grep -c 'milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port}' "$WORK/milter.err")
	d=$(records_since "$before" | jq -s 'map(select(.listener == "default" and .outcome == "accept" and (has("daemon_port") | not))) | length')
	if [ "$w" -eq 1 ] && [ "$d" -eq 2 ] && grep -q 'queued as' "$WORK/dm2.out"; then
		pass "default milter_connect_macros: one warning with the main.cf line, [default] applied"
	else
		fail "default milter_connect_macros" "$w warnings, $d default-policy records"
		cat "$WORK/milter.err"
	fi
}

[ -x "$MILTER" ] || { fail "setup" "no daemon at $MILTER"; echo "$passed passed, $failed failed"; exit 1; }
if ! (lab_start "$LAB" "$MILTER_PORT") >"$WORK/lab.out" 2>&1; then
	fail "Postfix lab" "Postfix did not start: $(cat "$WORK/lab.out")"
	echo "$passed passed, $failed failed"
	exit 1
fi
pass "private Postfix started (listeners $LAB_MX_PORT, $LAB_SUB_PORT, $LAB_SMTPS_PORT)"
run_matrix
milter_start names.conf && two_transactions
milter_stop
default_macros
cleanup
etc_after=$(cd /etc/postfix 2>/dev/null && find . -type f -exec md5sum {} + | sort | md5sum)
if [ "$etc_before" = "$etc_after" ]; then
	pass "/etc/postfix unchanged"
else
	fail "/etc/postfix" "changed during the suite"
fi
if [ -n "$(lab_master_pid "$LAB" 2>/dev/null)" ] && kill -0 "$(lab_master_pid "$LAB")" 2>/dev/null; then
	fail "cleanup" "Postfix master still running"
fi
echo "$passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
	rm -rf "$WORK"
else
	echo "kept $WORK"
fi
[ "$failed" -eq 0 ]
