#!/bin/sh
# shellcheck disable=SC2317 # functions here are called from tests/scenarios/lib.sh
# run.sh - the real-Postfix suite: a private Postfix on loopback (lab.sh),
# the built daemon, and the shared scenario matrix (tests/scenarios/)
# played with swaks; then two transactions in one session, and Postfix's
# default milter_connect_macros (with and without the milter asking for
# more).  Builds nothing.  Prints PASS/FAIL per scenario with the reason
# and ends with "N passed, N failed"; exit status 1 on any failure.
#
#   sudo MILTER=path/to/tlspolicy-milter sh tests/postfix/run.sh
#
# MILTER defaults to milter/tlspolicy-milter in the source tree.  The
# lab's ports come from lab.sh (free ones, or LAB_MX_PORT, LAB_SUB_PORT,
# LAB_SMTPS_PORT from the environment).  The milter listens where a
# deployment puts it: a unix socket below the queue directory (mode 0660,
# group postfix, in a directory only root can write), and the main lab
# runs smtpd chrooted there as Debian's master.cf does; the default-macros
# lab runs it unchrooted.  Every scenario is sent from its own client port, and
# the Postfix log and the audit records are matched by that port.
#
# Never skips: if Postfix cannot start, the suite fails and says why.
# Every process it starts is stopped by its PID; the scratch directory is
# removed after a clean run and kept (path printed) after a failure.
# /etc/postfix is compared (diff -r) before and after.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"
SCENARIO_LIB="$top/tests/scenarios/lib.sh"
# shellcheck source=SCRIPTDIR/../scenarios/lib.sh
. "$SCENARIO_LIB"
# shellcheck source=SCRIPTDIR/lab.sh
. "$here/lab.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-postfix.XXXXXX") || exit 1
chmod 755 "$WORK"	# Postfix (user postfix) must reach the lab below it
LAB="$WORK/lab"
SCEN_CLIENT_CERT="$LAB/tls/client.pem"	# signed by the lab's CA (lab.sh)
SCEN_CLIENT_KEY="$LAB/tls/client.key"
# The audit log's directory belongs to the milter's user (nobody): the
# milter opens the log after dropping privileges.
mkdir "$WORK/log" && chown nobody:nogroup "$WORK/log" && chmod 755 "$WORK/log"
AUDIT="$WORK/log/audit.jsonl"
# The milter's socket: the deployment default, a unix socket below the
# queue directory (smtpd runs chrooted there in the main lab), in a
# directory the milter creates root:postfix 0750, mode 0660, group
# postfix; Postfix names it relative to the queue directory.
MILTER_SOCK_REL=tlspolicy-milter/tlspolicy-milter.sock
MILTER_SOCK="$LAB/queue/$MILTER_SOCK_REL"
MILTER_ERR="$WORK/milter.err"
MILTER_PID=""
etc_copy="$WORK/etc-postfix.before"
[ -d /etc/postfix ] && cp -a /etc/postfix "$etc_copy"

# milter_start CONFIG [EXTRA-LINE] - the daemon in the foreground, as the
# unprivileged user nobody, with CONFIG from tests/scenarios/ below a
# preamble naming the audit file (scenario_milter_start).
milter_start() {
	scenario_milter_start "$(printf '# %s for the Postfix suite\naudit-log %s\nsyslog no\nuserid nobody\nsocket-mode 0660\nsocket-group postfix' \
	    "$1" "$AUDIT")" "$@"
}

# mta_log_check CPORT QUEUED REPLY - see tests/scenarios/lib.sh.
mta_log_check() { lab_session_check "$LAB" "$@"; }

cleanup() {
	milter_stop
	(lab_stop "$LAB") 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

finish() {
	cleanup
	if [ -d "$etc_copy" ]; then
		if diff -r "$etc_copy" /etc/postfix >"$WORK/etc.diff" 2>&1; then
			pass "/etc/postfix byte-identical before and after (diff -r)"
		else
			fail "/etc/postfix" "changed during the suite: $(head -5 "$WORK/etc.diff")"
		fi
	fi
	summary
	trap - EXIT
	if [ "$failed" -eq 0 ]; then
		rm -rf "$WORK"
		exit 0
	fi
	echo "kept $WORK (Postfix log: $LAB/log/maillog, milter stderr: $MILTER_ERR)"
	exit 1
}

# Two transactions in one TLS session, RSET between: the first MAIL before
# AUTH is refused, the second after AUTH accepted; two records, one session.
two_transactions() {
	tl_free_port _cp
	perl "$here/two-transactions.pl" "$LAB_SUB_PORT" "$_cp" "$SCEN_LOGIN" "$SCEN_PASSWORD" \
	    >"$WORK/two.out" 2>&1 </dev/null
	_why=""
	grep -q '^MAIL 1 530 5.7.0 Authentication required' "$WORK/two.out" ||
	    _why="first MAIL: $(grep '^MAIL 1' "$WORK/two.out" || tail -n 2 "$WORK/two.out")"
	[ -n "$_why" ] || grep -q '^MAIL 2 250' "$WORK/two.out" ||
	    _why="second MAIL: $(grep '^MAIL 2' "$WORK/two.out" || tail -n 2 "$WORK/two.out")"
	[ -n "$_why" ] || grep -q '^DATA 250 .*queued as' "$WORK/two.out" || _why="message not queued"
	[ -n "$_why" ] || _why=$(mta_log_check "$_cp" yes 250)
	if [ -z "$_why" ]; then
		_i=0	# staged before the reply, in the file within a second
		while _r=$(records_for "$_cp"); [ "$(printf '%s' "$_r" | grep -c .)" -lt 2 ] &&
		    [ $_i -lt 20 ]; do
			_i=$((_i + 1)); sleep 0.1
		done
		printf '%s\n' "$_r" | jq -s -e 'length == 2 and
		    (map(.session) | unique | length) == 1 and
		    .[0].rule == "require-auth" and .[0].outcome == "reject" and .[0].auth == false and
		    .[1].rule == "none" and .[1].outcome == "accept" and .[1].auth == true and
		    .[1].auth_authen == "alice@example.test" and all(.[]; .tls == true)' >/dev/null ||
		    _why="records: $_r"
	fi
	[ -n "$_why" ] || _why=$(check_session_record "$_cp" "$(printf '%s\n' "$_r" | head -1 | jq -r .session)" 2)
	if [ -z "$_why" ]; then
		pass "two transactions in one session (RSET between): refused before AUTH, accepted after; two records, one session"
	else
		fail "two transactions in one session" "$_why"
		sed 's/^/    /' "$WORK/two.out" | tail -n 20
	fi
}

# restart_lab [default-macros] - a fresh instance, with the given macro lists.
restart_lab() {
	(lab_stop "$LAB") >"$WORK/lab.out" 2>&1 &&
	    mv "$LAB/log/maillog" "$WORK/maillog.$(date +%s)" && rm -rf "$LAB" &&
	    (lab_start "$LAB" "unix:$MILTER_SOCK_REL" "${1:-}") >>"$WORK/lab.out" 2>&1
}

# Postfix's default milter_connect_macros and a config matching listeners
# by port.  With request-macros no: no {daemon_port} reaches the milter; it
# warns once, naming milter_connect_macros and the line to add, and
# applies [default] (plaintext submission passes).  With the milter asking
# (smfi_setsymlist, the default): Postfix sends {daemon_port} after all
# and the listener is matched by port.
default_macros() {
	restart_lab default-macros || { fail "Postfix with default macro lists" "$(cat "$WORK/lab.out")"; return; }
	grep -q '^milter_connect_macros' "$LAB/etc/main.cf" &&
	    { fail "Postfix with default macro lists" "main.cf sets milter_connect_macros"; return; }
	_err=$MILTER_ERR
	MILTER_ERR="$WORK/milter-default-macros.err"
	if milter_start ports.conf "request-macros no"; then
		_before=$(count_records)
		_why=""
		for _s in 1 2 3; do
			tl_free_port _cp
			swaks_session submission plain none "$WORK/dm$_s.out" "$_cp"
			[ -n "$_why" ] || _why=$(check_reply "$WORK/dm$_s.out" 250 -)
			[ -n "$_why" ] || _why=$(mta_log_check "$_cp" yes 250)
		done
		milter_stop
		_w=$(grep -c 'warning.*milter_connect_macros' "$MILTER_ERR")
		_line=$(grep 'warning.*milter_connect_macros' "$MILTER_ERR" | head -1)
		_d=$(records_since "$_before" | jq -s 'map(select(.listener == "default" and
		    .outcome == "accept" and .rule == "none" and (has("daemon_port") | not))) | length')
		[ -n "$_why" ] || [ "$_w" -eq 1 ] || _why="$_w warnings naming milter_connect_macros, expected 1"
		[ -n "$_why" ] || case "$_line" in
		*'{daemon_port}'*) ;;
		*) _why="the warning does not name {daemon_port}: $_line" ;;
		esac
		[ -n "$_why" ] || [ "$_d" -eq 3 ] || _why="$_d of 3 records show [default] without daemon_port"
		if [ -z "$_why" ]; then
			pass "default milter_connect_macros, request-macros no: one warning, [default] applied to 3 sessions"
			echo "    $(printf '%s' "$_line" | cut -c1-200)"
		else
			fail "default milter_connect_macros, request-macros no" "$_why"
			sed 's/^/    /' "$MILTER_ERR" | tail -n 8
		fi
	else
		fail "default milter_connect_macros" "milter did not start"
	fi
	MILTER_ERR="$WORK/milter-symlist.err"
	if milter_start ports.conf; then
		tl_free_port _cp
		swaks_session submission plain none "$WORK/dm-ask.out" "$_cp"
		_why=$(check_reply "$WORK/dm-ask.out" "530 5.7.0" "STARTTLS")
		[ -n "$_why" ] || _why=$(mta_log_check "$_cp" no "530 5.7.0")
		[ -n "$_why" ] || _why=$(check_record "$_cp" "$WORK/dm-ask.out" plain require-tls reject \
		    decision false ".listener == \"submission\" and (.daemon_port | tostring) == \"$LAB_SUB_PORT\"")
		[ -n "$_why" ] || ! grep -q 'warning.*milter_connect_macros' "$MILTER_ERR" ||
		    _why="warned although it asked for the macros: $(grep warning "$MILTER_ERR")"
		milter_stop
		if [ -z "$_why" ]; then
			pass "default milter_connect_macros, milter asks (smfi_setsymlist): matched by port, no warning"
		else
			fail "default milter_connect_macros, milter asks" "$_why"
		fi
	else
		fail "default milter_connect_macros, milter asks" "milter did not start"
	fi
	MILTER_ERR=$_err
}

echo "tlspolicy-milter Postfix suite: $MILTER, work directory $WORK"
if [ ! -x "$MILTER" ]; then
	fail "setup" "no daemon at $MILTER (build it first, or set MILTER)"
	finish
fi
for _t in postfix swaks jq perl saslpasswd2 openssl ss; do
	command -v "$_t" >/dev/null || fail "setup" "$_t is not installed"
done
[ "$failed" -eq 0 ] || finish
if ! (lab_start "$LAB" "unix:$MILTER_SOCK_REL" "" chroot) >"$WORK/lab.out" 2>&1; then
	fail "Postfix lab" "Postfix did not start: $(cat "$WORK/lab.out")"
	finish
fi
if grep -Eq '^127\.0\.0\.1:[0-9]+ +inet +n +- +y ' "$LAB/etc/master.cf" &&
    [ "$(grep -c ' inet ' "$LAB/etc/master.cf")" -eq "$(grep -Ec ' inet +n +- +y ' "$LAB/etc/master.cf")" ]; then
	pass "private Postfix started, smtpd chrooted in its queue directory: MX $LAB_MX_PORT, submission $LAB_SUB_PORT, submissions $LAB_SMTPS_PORT, milter unix:$MILTER_SOCK_REL"
else
	fail "Postfix lab" "smtpd is not chrooted: $(grep ' inet ' "$LAB/etc/master.cf")"
fi
run_matrix
[ -n "${AUDIT_OUT:-}" ] && cp "$AUDIT" "$AUDIT_OUT"	# for tests/sendmail/same-policy.sh
run_matrix matrix-strength	# TLS strength and client certificates
if milter_start names.conf; then
	two_transactions
	milter_stop
else
	fail "two transactions" "milter did not start"
fi
default_macros
# the whole run's log, for tests/simulate-replay.sh (configs: AUDIT_OUT.startK.conf)
[ -z "${AUDIT_OUT:-}" ] || cp "$AUDIT" "$AUDIT_OUT.all"
finish
