#!/bin/sh
# bench-smoke.sh - `make bench` in one short round (BENCH_SESSIONS 500,
# BENCH_MESSAGES 50): every run of every variant completes without a
# protocol error, Postfix accepts every message, and the table has every
# row with numbers and a verdict.  It checks that the bench works, not
# the targets: a round this short says nothing about speed.
#
#   bench-smoke.sh BUILDDIR
set -u
build=${1:?usage: bench-smoke.sh BUILDDIR}
passed=0
failed=0
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-bsmoke.XXXXXX")
trap 'rm -rf "$W"' EXIT

check() {	# check WHAT COMMAND...
	what=$1
	shift
	if "$@"; then
		passed=$((passed + 1)); echo "PASS: $what"
	else
		failed=$((failed + 1)); echo "FAIL: $what"
	fi
}

BENCH_ROUNDS=1 BENCH_SESSIONS=500 BENCH_MESSAGES=50 \
    make -s -C "$build/tests/bench" bench >"$W/out" 2>&1
rc=$?
check "make bench exits 0" test "$rc" -eq 0
for v in A B C; do
	check "direct run of $v: 500 sessions, no error" \
	    grep -q "round 1 $v: sessions=500 errors=0 " "$W/out"
done
for v in none A B; do
	check "Postfix run of $v: 50 of 50 accepted" \
	    grep -q "round 1 $v: 50 accepted, [0-9.]* messages/s" "$W/out"
done
rows() { grep -c -E "^\| $1" "$W/out"; }
for row in "direct sessions/s" "MAIL reply p50" "MAIL reply p99" \
    "milter CPU per 10k" "resident memory per open" "through Postfix"; do
	check "table row: $row" test "$(rows "$row")" -eq 1
done
check "every target has a verdict (5)" \
    test "$(grep -c -E '\| (met|MISSED) \|' "$W/out")" -eq 5
check "no cell without a number" sh -c "! grep -E '^\|' '$W/out' | grep -q 'n/a'"
[ "$failed" -eq 0 ] || cat "$W/out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
