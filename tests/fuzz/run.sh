#!/bin/sh
# run.sh - build every libFuzzer target with clang (ASan+UBSan) and run each
# for FUZZ_SECONDS (default 60) from its checked-in seed corpus.  New
# inputs go to a scratch corpus; a crash leaves its input in the build
# directory and fails the run.  Ends with "N passed, N failed".
#
#   FUZZ_SECONDS=60 sh tests/fuzz/run.sh [BUILD_DIR [NAME]]
#   sh tests/fuzz/run.sh NAME [BUILD_DIR]    (one target: facts or fuzz_facts)
#
# An argument with a / in it is the build directory (default build/fuzz
# in the source tree); one without is a target's name.  An unknown name
# fails and lists the targets.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
only=""
out=$top/build/fuzz
for a in "$@"; do
	case "$a" in
	*/*) out=$a ;;
	*) only=${a#fuzz_} ;;
	esac
done
if [ -n "$only" ] && [ ! -f "$here/fuzz_$only.c" ]; then
	echo "FAIL: no fuzz target '$only'; the targets are:" \
	    $(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
	echo "0 passed, 1 failed"
	exit 1
fi
secs=${FUZZ_SECONDS:-60}
mkdir -p "$out"
# config.h from any configured build, else a minimal one
cfg=$(ls "$top"/build/*/config.h "$top/config.h" 2>/dev/null | head -n 1)
[ -n "$cfg" ] || { echo "FAIL: configure the tree first (no config.h)"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$out/include" && cp "$cfg" "$out/include/config.h"
# the core: the sources of libtlspolicy.a, as milter/Makefile.am lists them
srcs=$(sed -n '/^libtlspolicy_a_SOURCES/,/^$/p' "$top/milter/Makefile.am" |
    tr ' \t\\' '\n\n\n' | grep '^[a-z_]*\.c$' | sed "s|^|$top/milter/|" | tr '\n' ' ')
[ -n "$srcs" ] || { echo "FAIL: no libtlspolicy_a_SOURCES in milter/Makefile.am"; echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0
for t in "$here"/fuzz_*.c; do
	name=$(basename "$t" .c)
	[ -z "$only" ] || [ "$name" = "fuzz_$only" ] || continue
	target=${name#fuzz_}
	# shellcheck disable=SC2086
	if ! clang -g -O1 -D_GNU_SOURCE -I"$out/include" -I"$top/include" \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    "$t" $srcs $(pkg-config --cflags --libs libssl libcrypto) -lpthread \
	    -o "$out/$name" 2>"$out/$name.build.log"; then
		failed=$((failed + 1))
		echo "FAIL: $name does not build"; cat "$out/$name.build.log"
		continue
	fi
	rm -rf "$out/corpus-$target" && mkdir -p "$out/corpus-$target"
	"$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$out/$name-" "$out/corpus-$target" \
	    "$here/corpus/$target" >"$out/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$name.log")
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		passed=$((passed + 1))
		echo "PASS: $name: $runs runs in ${secs}s, no crash ($(ls "$out/corpus-$target" | wc -l) new inputs)"
	else
		failed=$((failed + 1))
		echo "FAIL: $name (exit $rc)"
		grep -E 'ERROR|SUMMARY|artifact' "$out/$name.log" | head -n 10
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
