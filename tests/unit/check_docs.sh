#!/bin/sh
# check_docs.sh - the documentation says what the code does:
#   every key of the key table in milter/conf.c has an ".It Cm KEY" entry
#   in tlspolicy-milter.conf(5) and a "KEY value" or "#KEY value" line in
#   the sample config; every key the man page lists is in the table; and
#   the man pages pass mandoc -Tlint at warning level.
# The keys are read from the table's source lines ('\t{ "key", CONF_KEY_').
#
# Then the rules, their order and their built-in replies as the built
# daemon prints them (`tlspolicy-milter -n` of a config that turns every
# rule on) are checked against README.md, tlspolicy-milter(8),
# tlspolicy-milter.conf(5) and the sample config, and README's audit
# record example against the record version and the verifier
# (docs_match.py).  The man pages must name no file of the source tree
# (doc/*.md, contrib/), only installed files.  And they must render without
# a column running into the next (a reply code glued to the text after
# it) at 80 and 100 columns, with groff as man(1) uses it and with mandoc.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
src=${SRCDIR:-$(dirname "$0")}
bin=${MILTER:-$top/milter/tlspolicy-milter}
conf_c="$top/milter/conf.c"
man5="$top/doc/tlspolicy-milter.conf.5"
man8="$top/doc/tlspolicy-milter.8"
sample="$top/contrib/tlspolicy-milter.conf"
fail=0
w=$(mktemp -d "${TMPDIR:-/tmp}/check_docs.XXXXXX")
trap 'rm -rf "$w"' EXIT

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

# The rules and built-in replies the daemon has, against every document.
printf '%s\n' '[listener all]' 'port 587' 'require-tls yes' 'require-auth yes' \
    'auth-requires-tls yes' 'min-tls-version TLSv1.2' 'min-cipher-bits 128' \
    'require-forward-secrecy yes' 'require-aead yes' 'forbid-ciphers CBC' \
    'require-client-cert yes' >"$w/all-rules.conf"
if [ ! -x "$bin" ]; then
	echo "FAIL: no daemon at $bin (build it first)"; fail=1
elif ! "$bin" -n -c "$w/all-rules.conf" >"$w/policy" 2>"$w/policy.err"; then
	echo "FAIL: $bin -n: $(cat "$w/policy.err")"; fail=1
elif ! python3 "$src/docs_match.py" "$top" "$w/policy" "$bin"; then
	fail=1
fi

# Only installed files: no path into the source tree.
for m in "$man5" "$man8"; do
	if grep -nE '(^|[^/[:alnum:]_.-])(docs?|contrib)/[[:alnum:]]' "$m"; then
		echo "FAIL: $m names a file of the source tree (above); name the installed file"
		fail=1
	fi
done

# Columns that run into each other ("530 5.7.0the cipher's key").
if ! command -v groff >/dev/null 2>&1; then
	echo "FAIL: groff is not installed"; fail=1
fi
for m in "$man5" "$man8"; do
	for width in 80 100; do
		: >"$w/groff.txt"
		if command -v groff >/dev/null 2>&1; then
			groff -Tutf8 -mandoc -rLL=$((width - 2))n "$m" 2>/dev/null |
			    sed 's/.\x08//g' >"$w/groff.txt"
		fi
		mandoc -Tutf8 -O width=$width "$m" 2>/dev/null |
		    sed 's/.\x08//g' >"$w/mandoc.txt"
		for r in groff mandoc; do
			if grep -En '[245]\.[0-9]{1,3}\.[0-9]{1,3}[[:alpha:]]' "$w/$r.txt"; then
				echo "FAIL: $m at $width columns ($r): a reply code runs into the text after it (above)"
				fail=1
			fi
		done
	done
done
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
