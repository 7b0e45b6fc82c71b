#!/bin/sh
# cli.sh - the check mode as an admin uses it: -n prints every global key
# of the key table with its effective value; a config with several errors
# gets every one reported with its file:line (exit 78); a write error of -n
# (a full disk) is an error, not "ok"; --verify-audit --report-data to a
# full disk is exit 2 with the cause, a gzip-compressed file gives the
# same aggregate as the plain one, and --no-verify without
# --report-data is a usage error.  Ends with "N passed, N failed".
set -u
: "${MILTER:=$(dirname "$0")/../../milter/tlspolicy-milter}"
: "${SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
. "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-cli.XXXXXX")
trap 'rm -rf "$w"' EXIT

# 1. every global key of the table, one line "key value" each
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", CONF_KEY_[A-Z]*, CONF_SCOPE_GLOBAL,.*/\1/p' \
    "$SRCDIR/../../milter/conf.c")
"$MILTER" -n >"$w/n.out" 2>/dev/null
missing=""
n=0
for k in $keys; do
	n=$((n + 1))
	grep -q "^$k [^ ]" "$w/n.out" || missing="$missing $k"
done
if [ "$n" -ge 15 ] && [ -z "$missing" ]; then
	ok "-n prints all $n global keys with their values"
else
	ko "-n: $n keys in the table, missing from the output:$missing"
fi

# 2. every error of a broken file, each with file:line
printf 'bogus 1\nsyslog maybe\naudit-fsync sometimes\n[listener x]\nport 99999\n' >"$w/bad.conf"
out=$("$MILTER" -n -c "$w/bad.conf" 2>&1)
rc=$?
lines=$(echo "$out" | grep -c "^tlspolicy-milter: $w/bad.conf:[0-9]*: ")
if [ $rc -eq 78 ] && [ "$lines" -eq 5 ] &&
    echo "$out" | grep -q "bad.conf:3: audit-fsync: found 'sometimes'" &&
    echo "$out" | grep -q "bad.conf:5: port: found '99999'"; then
	ok "a file with 5 errors: all 5 reported with file:line, exit 78"
else
	ko "errors: exit $rc, $lines lines: $out"
fi

# 3. -n to a full disk fails
if [ -w /dev/full ]; then
	out=$("$MILTER" -n 2>&1 >/dev/full)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -q 'cannot write the policy'; then
		ok "-n >/dev/full: exit $rc with the write error named"
	else
		ko "-n >/dev/full: exit $rc: $out"
	fi
else
	ko "/dev/full is not writable here"
fi

# 4. the report's aggregate: a write error is no silent success
printf '{"v":2,"time":"2026-11-24T09:00:00.000Z","listener":"mx"}\n' >"$w/a.jsonl"
"$MILTER" --verify-audit --no-verify --report-data "$w/agg.out" "$w/a.jsonl" >/dev/null 2>&1
rc_ok=$?
out=$("$MILTER" --verify-audit --no-verify --report-data /dev/full "$w/a.jsonl" 2>&1)
rc=$?
"$MILTER" --verify-audit --no-verify "$w/a.jsonl" >/dev/null 2>&1
rc_usage=$?
gzip -c "$w/a.jsonl" >"$w/a.jsonl.1.gz"
"$MILTER" --verify-audit --no-verify --report-data "$w/gz.out" "$w/a.jsonl.1.gz" >/dev/null 2>&1
if [ $rc_ok -eq 0 ] && grep -q '^{"end":{"lines":1,"records":1,' "$w/agg.out" &&
    cmp -s "$w/agg.out" "$w/gz.out" &&
    [ $rc -eq 2 ] && echo "$out" | grep -q 'cannot write the aggregate' &&
    [ $rc_usage -eq 64 ]; then
	ok "--report-data: the aggregate written (exit 0), the same from a gzip file; to /dev/full exit 2, named; --no-verify alone exit 64"
else
	ko "--report-data: exit $rc_ok, to /dev/full exit $rc: $out; --no-verify alone exit $rc_usage"
fi

tl_finish
