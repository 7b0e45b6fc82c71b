#!/bin/sh
# run-all.sh - the whole test suite: README command 2 and what CI runs.
#
#   sudo tests/run-all.sh
#
# Installs missing packages, then:
#   1. normal build with -Werror: unit suites (Check) and the protocol
#      suite (miltertest against the real daemon);
#   2. the protocol suite again with the daemon under valgrind memcheck;
#   3. the real-Postfix and real-Sendmail suites (private instances on
#      loopback, swaks), and the comparison of their decisions; make bench
#      in two short rounds (it runs; its table is whole);
#   4. the same unit and protocol suites built with ASan and UBSan;
#   5. every libFuzzer target for FUZZ_SECONDS (here 40) from its seeds;
#   6. make distcheck.
# Builds happen in build/ below the source tree.  Prints every runner's
# summary and the seconds each stage took, and ends with "N passed,
# N failed" over the stages; exits non-zero when any stage fails.  A
# stage that cannot run (Postfix does not start, say) fails; nothing is
# skipped.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/deps.sh"
deps_install || exit 1

cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failures=""

stage() {
	name=$1
	shift
	echo
	echo "=== $name"
	t0=$(date +%s)
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: PASS ($(( $(date +%s) - t0 )) s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "=== $name: FAIL ($(( $(date +%s) - t0 )) s)"
	fi
}

show_logs() {
	# The summaries of the automake test drivers, and the log of a failure.
	for f in "$1"/tests/unit/test-suite.log "$1"/tests/milter/test-suite.log "$1"/tests/bench/test-suite.log; do
		[ -f "$f" ] || continue
		sed -n '1,/^====/p' "$f" | grep -E '^(# |[A-Z]+:)' || true
		grep -q '^# FAIL: *0$' "$f" || cat "$f"
	done
}

build() {
	dir=$1
	shift
	mkdir -p "$dir" &&
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
}

check_in() {
	dir=$1
	(cd "$dir" && make -s -j"$jobs" check >/dev/null 2>&1)
	rc=$?
	# Check's own summaries ("100%: Checks: 42, Failures: 0, Errors: 0").
	find "$dir/tests/unit" -name 'check_*.log' -exec grep -h '%: Checks' {} + 2>/dev/null
	grep -h -E "^[0-9]+ passed, [0-9]+ failed" "$dir"/tests/milter/*.log "$dir"/tests/bench/*.log 2>/dev/null
	show_logs "$dir"
	return $rc
}

autotools() {
	[ -f config.status ] && make -s distclean >/dev/null 2>&1
	out=$(autoreconf -fi 2>&1) || { echo "$out"; return 1; }
	# and without a warning (aclocal's once said m4/ was missing)
	! echo "$out" | grep -i 'warning'
}

stage "bootstrap (autoreconf)" autotools
stage "build (-Werror)" build build/normal --enable-werror
stage "unit and protocol suites" check_in build/normal
stage "protocol suite under valgrind memcheck" env VALGRIND=1 \
    MILTER="$top/build/normal/milter/tlspolicy-milter" SRCDIR="$top/tests/milter" \
    sh "$top/tests/milter/run.sh"
stage "allocation failure injection" env MILTER="$top/build/normal/milter/tlspolicy-milter" \
    sh "$top/tests/milter/failalloc.sh"
stage "real Postfix suite" env MILTER="$top/build/normal/milter/tlspolicy-milter" \
    AUDIT_OUT="$top/build/postfix-matrix.jsonl" sh "$top/tests/postfix/run.sh"
stage "replay of the real Postfix run's log with --simulate (recorded policies and -c of each config)" \
    env MILTER="$top/build/normal/milter/tlspolicy-milter" sh "$top/tests/simulate-replay.sh" \
    "$top/build/postfix-matrix.jsonl.all" "$top/build/postfix-matrix.jsonl"
stage "recommended Postfix deployment (contrib/postfix)" env MILTER="$top/build/normal/milter/tlspolicy-milter" \
    sh "$top/tests/postfix/deployment.sh"
stage "real Sendmail suite" env MILTER="$top/build/normal/milter/tlspolicy-milter" \
    AUDIT_OUT="$top/build/sendmail-matrix.jsonl" sh "$top/tests/sendmail/run.sh"
stage "replay of the real Sendmail run's log with --simulate (recorded policies and -c of each config)" \
    env MILTER="$top/build/normal/milter/tlspolicy-milter" sh "$top/tests/simulate-replay.sh" \
    "$top/build/sendmail-matrix.jsonl.all" "$top/build/sendmail-matrix.jsonl"
stage "one config, same decisions behind Postfix and Sendmail" sh "$top/tests/sendmail/same-policy.sh" \
    "$top/build/postfix-matrix.jsonl" "$top/build/sendmail-matrix.jsonl"
stage "Debian package (README install, lintian, chrooted Postfix, rotation, upgrade, purge)" \
    sh "$top/tests/deb/run.sh"
stage "make bench, two short rounds (the bench runs, the table is whole)" \
    sh "$top/tests/bench/bench-smoke.sh" "$top/build/normal"
stage "--simulate speed and memory on 100,000 generated records (the full bench: simulate-scale.sh 1000000)" \
    env MILTER="$top/build/normal/milter/tlspolicy-milter" sh "$top/tests/bench/simulate-scale.sh" 100000
stage "build (ASan+UBSan, -Werror)" build build/asan --enable-werror --enable-sanitizers
stage "unit and protocol suites under ASan+UBSan" check_in build/asan
stage "fuzzing (libFuzzer, ${FUZZ_SECONDS:-40}s per target)" env FUZZ_SECONDS="${FUZZ_SECONDS:-40}" sh "$top/tests/fuzz/run.sh" "$top/build/fuzz"
stage "report rendered in headless Chromium" sh "$top/tests/report-html.sh"
stage "make distcheck" sh -c "cd build/normal && { make -s distcheck >/dev/null 2>&1 || { make distcheck 2>&1 | tail -40; exit 1; }; }"

echo
[ -n "$failures" ] && echo "failed stages:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
