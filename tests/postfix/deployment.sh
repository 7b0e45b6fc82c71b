#!/bin/sh
# deployment.sh - the recommended Postfix deployment of README and
# contrib/postfix, behind a real Postfix: "Postfix prevents, the milter
# decides and records".
#
#   sudo MILTER=path/to/tlspolicy-milter sh tests/postfix/deployment.sh
#
# A private Postfix (lab.sh) gets the -o options of the submission service
# of contrib/postfix/master.cf on its submission listener and
# smtpd_tls_auth_only from contrib/postfix/main.cf, read from those files;
# the milter runs with a submission listener that requires TLS and AUTH
# and writes an audit log.  Then, each session from its own client port:
#   1. plaintext EHLO: Postfix offers STARTTLS but not AUTH, and a client
#      told to authenticate sends no AUTH command (no password on the
#      wire); no credential exposure is recorded;
#   2. plaintext MAIL FROM: the milter refuses it (530 5.7.0 Must issue a
#      STARTTLS command first), Postfix logs the milter-reject, and the
#      audit log has the decision record (require-tls, reject, tls false);
#   3. STARTTLS and AUTH: accepted and delivered, with its record;
# and the alternative the docs describe, smtpd_tls_security_level=encrypt
# on submission:
#   4. plaintext MAIL FROM: refused by Postfix itself with the same reply
#      text; no decision record, only the session record with mails 0.
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any
# failure.  Every process it starts is stopped by its PID; the scratch
# directory is removed after a clean run and kept after a failure.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"
SCENARIO_LIB="$top/tests/scenarios/lib.sh"
# shellcheck source=SCRIPTDIR/../scenarios/lib.sh
. "$SCENARIO_LIB"
# shellcheck source=SCRIPTDIR/lab.sh
. "$here/lab.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-deploy.XXXXXX") || exit 1
chmod 755 "$WORK"
LAB="$WORK/lab"
mkdir "$WORK/log" && chown nobody:nogroup "$WORK/log" && chmod 755 "$WORK/log"
AUDIT="$WORK/log/audit.jsonl"
MILTER_ERR="$WORK/milter.err"
MILTER_PID=""

cleanup() {
	milter_stop
	(lab_stop "$LAB") 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

finish() {
	cleanup
	summary
	trap - EXIT
	if [ "$failed" -eq 0 ]; then
		rm -rf "$WORK"
		exit 0
	fi
	echo "kept $WORK (Postfix log: $LAB/log/maillog, milter stderr: $MILTER_ERR)"
	exit 1
}

# wait_for DESCRIPTION COMMAND... - poll COMMAND for up to 10 s.
wait_for() {
	_what=$1
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && { echo "timed out waiting for $_what"; return 1; }
		sleep 0.1
	done
}

log_has() { grep -Eq "$1" "$LAB/log/maillog" 2>/dev/null; }
log_count() { grep -Ec "$1" "$LAB/log/maillog" 2>/dev/null || true; }

# postfix_reload - reload the lab and wait until its master says so.
postfix_reload() {
	_n=$(log_count 'master\[[0-9]+\]: reload ')
	postfix -c "$LAB/etc" reload >"$WORK/reload.out" 2>&1 || { cat "$WORK/reload.out"; return 1; }
	wait_for "Postfix's reload" sh -c "[ \$(grep -Ec 'master\[[0-9]+\]: reload ' '$LAB/log/maillog') -gt $_n ]"
}

# session_closed CPORT - the session record of that client port is in the log.
session_closed() { [ -n "$(session_records_for "$1")" ]; }

# --- the milter: TLS and AUTH on submission, an audit log -------------------
[ -x "$MILTER" ] || { fail "setup" "no daemon at $MILTER"; finish; }
tl_free_port MILTER_PORT || { fail "setup" "no free port"; finish; }
cat >"$WORK/milter.conf" <<EOF
audit-log $AUDIT
syslog no
userid nobody

[listener submission]
port $LAB_SUB_PORT
name submission
require-tls yes
require-auth yes
min-tls-version TLSv1.2
EOF
chmod 644 "$WORK/milter.conf"
tl_milter_start "inet:$MILTER_PORT@127.0.0.1" "$MILTER_ERR" \
    "$MILTER" -f -c "$WORK/milter.conf" -p "inet:$MILTER_PORT@127.0.0.1" ||
    { fail "setup" "the milter did not start"; finish; }
MILTER_PID=$TL_PID

# --- Postfix with the snippets' deployment ---------------------------------
( lab_start "$LAB" "$MILTER_PORT" ) || { fail "setup" "the Postfix lab did not start"; finish; }
. "$LAB/lab.env"
sub="127.0.0.1:$LAB_SUB_PORT/inet"
opts=$(sed -n '/^submission /,/^[^ ]/p' "$top/contrib/postfix/master.cf" | sed -n 's/^ *-o //p')
[ -n "$opts" ] || { fail "setup" "no -o options on submission in contrib/postfix/master.cf"; finish; }
for o in $opts; do
	postconf -c "$LAB/etc" -P "$sub/$o" || { fail "setup" "postconf -P $sub/$o"; finish; }
done
auth_only=$(grep '^smtpd_tls_auth_only *=' "$top/contrib/postfix/main.cf")
[ -n "$auth_only" ] || { fail "setup" "contrib/postfix/main.cf sets no smtpd_tls_auth_only"; finish; }
postconf -c "$LAB/etc" -e "$auth_only" || { fail "setup" "postconf -e $auth_only"; finish; }
postfix_reload || { fail "setup" "Postfix did not reload"; finish; }
echo "submission service: $(postconf -c "$LAB/etc" -P | grep "^$sub/" | sed "s|^$sub/||" | tr '\n' ' ')"

# 1. Plaintext EHLO: STARTTLS offered, AUTH not; no password sent.
tl_free_port cp
swaks_session submission none PLAIN "$WORK/1.out" "$cp"
why=""
grep -Eq '^ *<- +250[ -]STARTTLS' "$WORK/1.out" || why="STARTTLS not offered on a plaintext session"
grep -Eq '^ *<- +250[ -]AUTH' "$WORK/1.out" && why="AUTH offered on a plaintext session"
grep -Eq '^ *-> +AUTH' "$WORK/1.out" && why="the client sent AUTH in plaintext"
[ -n "$why" ] || wait_for "the session record" session_closed "$cp" >/dev/null || why="no session record"
[ -n "$why" ] || [ -z "$(records_for "$cp")" ] || why="a decision was recorded: $(records_for "$cp")"
if [ -z "$why" ]; then
	pass "Postfix prevents: no AUTH offered before STARTTLS, the client sent no password; nothing recorded as an exposure"
else
	fail "plaintext EHLO" "$why"; sed 's/^/    /' "$WORK/1.out" | tail -n 15
fi

# 2. Plaintext MAIL FROM: refused by the milter, with a record.
tl_free_port cp
swaks_session submission none none "$WORK/2.out" "$cp"
reply=$(mail_reply_line "$WORK/2.out")
why=""
case "$reply" in
"530 5.7.0 Must issue a STARTTLS command first"*) ;;
*) why="MAIL FROM got '$reply'" ;;
esac
[ -n "$why" ] || wait_for "Postfix's milter-reject" log_has \
    "NOQUEUE: milter-reject: MAIL from [^ ]*\[127\.0\.0\.1\]:$cp: 530 5\.7\.0 " >/dev/null ||
    why="Postfix logged no milter-reject for port $cp"
[ -n "$why" ] || wait_for "the session record" session_closed "$cp" >/dev/null || why="no session record"
if [ -z "$why" ]; then
	records_for "$cp" | jq -s -e 'length == 1 and .[0].rule == "require-tls" and
	    .[0].outcome == "reject" and .[0].tls == false and .[0].listener == "submission" and
	    .[0].reply == "530 5.7.0 Must issue a STARTTLS command first"' >/dev/null ||
	    why="decision records: $(records_for "$cp")"
fi
if [ -z "$why" ]; then
	pass "the milter decides and records: plaintext MAIL FROM refused (530 5.7.0), one require-tls decision record"
else
	fail "plaintext MAIL FROM" "$why"; sed 's/^/    /' "$WORK/2.out" | tail -n 15
fi

# 3. STARTTLS and AUTH: accepted.
tl_free_port cp
swaks_session submission starttls PLAIN "$WORK/3.out" "$cp"
why=""
grep -Eq '^ *<~ +250 .*queued as' "$WORK/3.out" || why="not queued: $(mail_reply_line "$WORK/3.out")"
[ -n "$why" ] || wait_for "the session record" session_closed "$cp" >/dev/null || why="no session record"
if [ -z "$why" ]; then
	records_for "$cp" | jq -s -e 'length == 1 and .[0].outcome == "accept" and
	    .[0].tls == true and .[0].auth == true and .[0].auth_authen == "alice@example.test"' >/dev/null ||
	    why="decision records: $(records_for "$cp")"
fi
if [ -z "$why" ]; then
	pass "STARTTLS then AUTH: accepted, with its accept record"
else
	fail "STARTTLS and AUTH" "$why"; sed 's/^/    /' "$WORK/3.out" | tail -n 15
fi

# 4. The alternative: smtpd_tls_security_level=encrypt on submission.
postconf -c "$LAB/etc" -P "$sub/smtpd_tls_security_level=encrypt" &&
    postfix_reload || { fail "setup" "could not switch submission to encrypt"; finish; }
tl_free_port cp
swaks_session submission none none "$WORK/4.out" "$cp"
reply=$(mail_reply_line "$WORK/4.out")
why=""
case "$reply" in
"530 5.7.0 Must issue a STARTTLS command first"*) ;;
*) why="MAIL FROM got '$reply'" ;;
esac
[ -n "$why" ] || wait_for "the session record" session_closed "$cp" >/dev/null || why="no session record"
if [ -z "$why" ]; then
	[ -z "$(records_for "$cp")" ] || why="a decision was recorded: $(records_for "$cp")"
	session_records_for "$cp" | jq -s -e 'length == 1 and .[0].mails == 0 and
	    .[0].tls == false' >/dev/null || why="session records: $(session_records_for "$cp")"
fi
log_has "milter-reject: MAIL from [^ ]*\[127\.0\.0\.1\]:$cp:" && why="Postfix logged a milter-reject"
if [ -z "$why" ]; then
	pass "with security level encrypt Postfix refuses itself (same reply): no decision record, only a session record with mails 0"
else
	fail "encrypt variant" "$why"; sed 's/^/    /' "$WORK/4.out" | tail -n 15
fi

# The audit log as a whole verifies.
if out=$("$MILTER" --verify-audit "$AUDIT" 2>&1); then
	pass "the audit log verifies ($out)"
else
	fail "audit chain" "$out"
fi
finish
