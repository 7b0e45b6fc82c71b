#!/bin/sh
# same-policy.sh - one config, unchanged, gives the same decisions behind
# Postfix and Sendmail.
#
#   sh tests/sendmail/same-policy.sh POSTFIX_AUDIT SENDMAIL_AUDIT
#   sh tests/sendmail/same-policy.sh            (runs both suites first)
#
# Both suites play the shared matrix (tests/scenarios/matrix) with the
# shared config files (tests/scenarios/*.conf, used as they are; only the
# audit-log path is put in front).  Every row with a rule writes exactly one
# decision record, in matrix order, so the Nth decision record of each
# audit file belongs to the Nth such row.  For every row this compares the
# decision fields
#     rule outcome action reply type exposure listener mode trusted
#     tls tls_version auth auth_type auth_authen reason
# and ignores the MTA-specific ones (daemon_name, daemon_port, verify,
# cipher, queue_id, mta, session, time, client_port).
# Without arguments both suites run with AUDIT_OUT set (each in its own
# network namespace, so the two labs' ports never collide) and their
# matrix records are compared.  Prints PASS/FAIL per scenario and
# "N passed, N failed".

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
matrix="$top/tests/scenarios/matrix"
FIELDS='rule outcome action reply type exposure listener mode trusted tls tls_version auth auth_type auth_authen reason'
passed=0
failed=0

if [ $# -eq 0 ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-same.XXXXXX") || exit 1
	AUDIT_OUT="$work/sendmail.jsonl" sh "$here/run.sh" >"$work/sendmail.out" 2>&1
	echo "sendmail suite: $(tail -n 2 "$work/sendmail.out" | grep passed)"
	AUDIT_OUT="$work/postfix.jsonl" unshare -n sh -c 'ip link set lo up && exec sh "$1"' \
	    sh "$top/tests/postfix/run.sh" >"$work/postfix.out" 2>&1
	echo "postfix suite: $(grep -E '^[0-9]+ passed' "$work/postfix.out" | tail -n 1)"
	for f in sendmail postfix; do
		[ -s "$work/$f.jsonl" ] && continue
		echo "FAIL: $f suite: wrote no AUDIT_OUT file ($work/$f.out)"
		[ "$f" = postfix ] && echo "    tests/postfix/run.sh needs, after run_matrix:" &&
		    echo '    [ -n "${AUDIT_OUT:-}" ] && cp "$AUDIT" "$AUDIT_OUT"'
		echo "0 passed, 1 failed"
		echo "kept $work"
		exit 1
	done
	sh "$0" "$work/postfix.jsonl" "$work/sendmail.jsonl"
	rc=$?
	[ $rc -eq 0 ] && rm -rf "$work" || echo "kept $work"
	exit $rc
fi

[ $# -eq 2 ] || { echo "usage: same-policy.sh [POSTFIX_AUDIT SENDMAIL_AUDIT]" >&2; exit 64; }
pf=$1 sm=$2

# rows with a rule, in order: "config|name"
rows=$(awk -F'|' '!/^#/ && NF >= 13 && $9 != "-" { print $1 "|" $2 }' "$matrix")
fields_json=$(printf '%s\n' $FIELDS | jq -R . | jq -sc .)
pick() {
	jq -c --argjson f "$fields_json" 'select(.type != "session" and .type != "policy") |
	    . as $r | reduce $f[] as $k ({}; . + {($k): $r[$k]})' "$1"
}
pick "$pf" >"$pf.picked" || { echo "FAIL: cannot read $pf"; exit 1; }
pick "$sm" >"$sm.picked" || { echo "FAIL: cannot read $sm"; exit 1; }
n_rows=$(printf '%s\n' "$rows" | grep -c .)
for f in "$pf" "$sm"; do
	n=$(wc -l <"$f.picked")
	[ "$n" -eq "$n_rows" ] || { failed=$((failed + 1)); echo "FAIL: $f: $n decision records, the matrix has $n_rows rows with a rule"; }
done
if [ "$failed" -eq 0 ]; then
	i=0
	printf '%s\n' "$rows" | {
		while IFS= read -r row; do
			i=$((i + 1))
			a=$(sed -n "${i}p" "$pf.picked")
			b=$(sed -n "${i}p" "$sm.picked")
			if [ "$a" = "$b" ]; then
				passed=$((passed + 1))
				echo "PASS: same decision: ${row#*|} ($(echo "$a" | jq -r '"\(.rule) \(.outcome)"'))"
			else
				failed=$((failed + 1))
				echo "FAIL: ${row#*|} (${row%%|*}): decisions differ"
				echo "    postfix:  $a"
				echo "    sendmail: $b"
			fi
		done
		echo "$passed passed, $failed failed"
		[ "$failed" -eq 0 ]
	}
	rc=$?
else
	echo "$passed passed, $failed failed"
	rc=1
fi
rm -f "$pf.picked" "$sm.picked"
exit $rc
