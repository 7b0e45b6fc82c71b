#!/bin/sh
# check_docs.sh - the config keys and their documentation agree:
#   every key of the key table in milter/conf.c has an ".It Cm KEY" entry
#   in tlspolicy-milter.conf(5) and a "KEY value" or "#KEY value" line in
#   the sample config; every key the man page lists is in the table; and
#   the man pages pass mandoc -Tlint at warning level.
# The keys are read from the table's source lines ('\t{ "key", CONF_KEY_'),
# not from the binary, so this runs without building anything.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
conf_c="$top/milter/conf.c"
man5="$top/doc/tlspolicy-milter.conf.5"
man8="$top/doc/tlspolicy-milter.8"
sample="$top/contrib/tlspolicy-milter.conf"
fail=0

keys=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", CONF_KEY_[A-Z]*,.*/\1/p' "$conf_c")
n=0
for k in $keys; do
	n=$((n + 1))
	grep -q "^\.It Cm $k\( \|$\)" "$man5" ||
	    { echo "FAIL: key '$k' is not documented in $man5"; fail=1; }
	grep -q "^#\{0,1\}$k " "$sample" ||
	    { echo "FAIL: key '$k' is not shown in $sample"; fail=1; }
done
[ "$n" -ge 25 ] || { echo "FAIL: found only $n keys in $conf_c"; fail=1; }

# The reverse: the man page documents no key the loader does not know.
for k in $(sed -n 's/^\.It Cm \([a-z-]*\) Ar .*/\1/p' "$man5"); do
	case " $(echo $keys) " in
	*" $k "*) ;;
	*) echo "FAIL: $man5 documents '$k', which is not in $conf_c"; fail=1 ;;
	esac
done

# The sample's active lines use only known keys (conf_load tests the rest).
for k in $(sed -n 's/^\([a-z][a-z-]*\) .*/\1/p' "$sample" | sort -u); do
	case " $(echo $keys) " in
	*" $k "*) ;;
	*) echo "FAIL: $sample sets '$k', which is not in $conf_c"; fail=1 ;;
	esac
done

if command -v mandoc >/dev/null 2>&1; then
	for m in "$man5" "$man8" "$top/doc/tlspolicy-report.1"; do
		[ -f "$m" ] || continue
		out=$(mandoc -Tlint -W warning "$m" 2>&1) || true
		[ -z "$out" ] || { echo "FAIL: mandoc -Tlint $m:"; echo "$out"; fail=1; }
	done
else
	echo "FAIL: mandoc is not installed"; fail=1
fi
echo "$n keys checked against $man5 and $sample"
exit $fail
