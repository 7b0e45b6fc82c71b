#!/bin/sh
# bench-smoke.sh - `make bench` in two short rounds (BENCH_SESSIONS 500,
# BENCH_MESSAGES 50; the second runs the variants in reverse order):
# every run of every variant completes without a protocol error, in the
# order of its round, Postfix accepts every message, and the table has
# every row with numbers and a verdict.  It checks that the bench works, not
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

BENCH_ROUNDS=2 BENCH_SESSIONS=500 BENCH_MESSAGES=50 \
    make -s -C "$build/tests/bench" bench >"$W/out" 2>&1
rc=$?
check "make bench exits 0" test "$rc" -eq 0
for r in 1 2; do
	for v in A B C D; do
		check "direct run $r of $v: 500 sessions, no error" \
		    grep -q "round $r $v: sessions=500 errors=0 " "$W/out"
	done
	for v in none A B; do
		check "Postfix run $r of $v: 50 of 50 accepted" \
		    grep -q "round $r $v: 50 accepted, [0-9.]* messages/s" "$W/out"
	done
done
# runs_in_order R WANT - round R's runs, both parts, in the order seen
runs_in_order() {
	test "$(sed -n "s/^   round $1 \([A-Cenor]*\): .*/\1/p" "$W/out" |
	    tr '\n' ' ')" = "$2"
}
check "round 1 runs A B C, then none A B" runs_in_order 1 "A B C none A B "
check "round 2 runs C B A, then B A none" runs_in_order 2 "C B A B A none "
rows() { grep -c -E "^\| $1" "$W/out"; }
for row in "direct sessions/s" "MAIL reply p50" "MAIL reply p99" \
    "milter CPU per 10k" "resident memory per open session at HELO" \
    "resident memory per open session after an accepted MAIL" \
    "through Postfix" "sealed audit log"; do
	check "table row: $row" test "$(rows "$row")" -eq 1
done
check "every target has a verdict (6)" \
    test "$(grep -c -E '\| (met|MISSED) \|' "$W/out")" -eq 6
check "no cell without a number" sh -c "! grep -E '^\|' '$W/out' | grep -q 'n/a'"
[ "$failed" -eq 0 ] || cat "$W/out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
