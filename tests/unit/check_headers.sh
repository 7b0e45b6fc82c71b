#!/bin/sh
# check_headers.sh - every header in include/ compiles on its own (it
# includes or declares what it uses), with the project's warnings as
# errors, and no module of the core or the evidence includes libmilter
# (only the glue and the process may).  Ends with "N passed, N failed".
set -u
: "${srcdir:=$(dirname "$0")}"
top=$(cd "$srcdir/../.." && pwd)
: "${CC:=cc}"
passed=0
failed=0
w=$(mktemp -d "${TMPDIR:-/tmp}/check_headers.XXXXXX")
trap 'rm -rf "$w"' EXIT
cflags="-fsyntax-only -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE -I$top/include $(pkg-config --cflags openssl 2>/dev/null)"
for h in "$top"/include/*.h; do
	name=$(basename "$h")
	printf '#include "%s"\n#include "%s"\n' "$name" "$name" >"$w/t.c"
	# shellcheck disable=SC2086
	if out=$($CC $cflags -x c "$w/t.c" 2>&1); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name does not compile alone (or twice): $out"
	fi
done
# the rule of the architecture: libmilter only in the glue and the process
for c in "$top"/milter/*.c "$top"/include/*.h; do
	case "$(basename "$c")" in
	main.c|callbacks.c) continue ;;
	esac
	if grep -q '^#include <libmilter/' "$c"; then
		failed=$((failed + 1))
		echo "FAIL: $(basename "$c") includes libmilter (only the glue may)"
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
