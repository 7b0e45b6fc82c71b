#!/bin/sh
# run.sh - the protocol suite: every *.t.lua script here drives the real
# daemon through miltertest on its own loopback port and work directory.
#
# Besides each script's own assertions (replies and audit records), this
# runner checks that every decision left exactly one key=value log line on
# the daemon's stderr and exactly one audit decision line (session records
# are written at close and not counted), that every audit line parses as
# JSON, and that the audit files pass --verify-audit (the hash chain).  Ends with "N passed, N failed"; exit 1 on any failure.
#
#   sh tests/milter/run.sh [NAME]     (NAME: one script, e.g. reload)
#
# Environment: MILTERTEST, MILTER (the built daemon), SRCDIR (this folder);
# VALGRIND=1 runs the daemon under valgrind memcheck and fails a script
# on any memcheck error or any definitely or indirectly lost byte.

set -u
: "${MILTERTEST:=miltertest}"
: "${SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${MILTER:=$SRCDIR/../../milter/tlspolicy-milter}"

if ! command -v "$MILTERTEST" >/dev/null 2>&1; then
	echo "FAIL: miltertest not found (Debian package miltertest)"
	echo "0 passed, 1 failed"
	exit 1
fi
[ -x "$MILTER" ] || { echo "FAIL: no daemon at $MILTER"; echo "0 passed, 1 failed"; exit 1; }

# replay_check WORK FILES... - --simulate without -c, and with -c
# WORK/test.conf when the log holds one policy, reproduces every decision
# (replayed = unchanged = the decisions in the log, nothing unreplayable);
# prints why not, or nothing.
replay_check() {
	_w=$1
	shift
	[ "$1" != --key-file ] || shift 2
	_n=$(cat "$@" | grep -c '"type":"\(decision\|credential-exposure\)"')
	_want="total: replayed $_n, unchanged $_n, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0"
	"$MILTER" --simulate "$@" >"$_w/replay" 2>&1 ||
	    { echo "--simulate failed: $(tail -n 3 "$_w/replay")"; return; }
	grep -qxF "$_want" "$_w/replay" ||
	    { echo "--simulate differs from the log ($_n decisions): $(grep -v '^ ' "$_w/replay" | head -n 8)"; return; }
	[ -f "$_w/test.conf" ] && [ "$(cat "$@" | grep -c '"type":"policy"')" -eq 1 ] || return 0
	"$MILTER" --simulate -c "$_w/test.conf" "$@" >"$_w/replay-c" 2>&1 ||
	    { echo "--simulate -c failed: $(tail -n 3 "$_w/replay-c")"; return; }
	grep -qxF "$_want" "$_w/replay-c" ||
	    echo "--simulate -c test.conf differs from the log ($_n decisions): $(grep -v '^ ' "$_w/replay-c" | head -n 8)"
}

# shellcheck source=SCRIPTDIR/../lib/daemon.sh
. "$(cd "$(dirname "$0")" && pwd)/../lib/daemon.sh"
passed=0
failed=0
if [ $# -ge 1 ] && [ ! -f "$SRCDIR/$1.t.lua" ]; then
	echo "FAIL: no protocol test $1 ($SRCDIR/$1.t.lua)"
	echo "0 passed, 1 failed"
	exit 1
fi
for script in "$SRCDIR"/*.t.lua; do
	name=$(basename "$script" .t.lua)
	[ $# -eq 0 ] || [ "$name" = "$1" ] || continue
	work=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-mt.XXXXXX")
	daemon=$MILTER
	if [ -n "${VALGRIND:-}" ]; then
		daemon="$work/valgrind-milter"
		printf '#!/bin/sh\nexec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --log-file=%s/vg.%%p.log "%s" "$@"\n' \
		    "$work" "$MILTER" >"$daemon"
		chmod +x "$daemon"
	fi
	tl_free_port port || { failed=$((failed + 1)); echo "FAIL: $name"; continue; }
	"$MILTERTEST" -D MILTER="$daemon" -D PORT=$port -D WORK="$work" \
	    -D SRCDIR="$SRCDIR" -s "$script" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	why=""
	[ $rc -eq 0 ] || why="miltertest exit $rc"
	n=$(sed -n 's/^DECISIONS \([0-9]*\)$/\1/p' "$work/out" | tail -n 1)
	[ -n "$why" ] || [ -n "$n" ] || why="script did not finish (no DECISIONS line)"
	if [ -z "$why" ]; then
		kv=$(grep -v ' type=session ' "$work/err" | grep -c ' outcome=')
		[ "$kv" -eq "$n" ] || why="$kv decision log lines for $n decisions"
	fi
	if [ -z "$why" ] && [ -f "$work/audit.jsonl" ]; then
		cat "$work"/audit.jsonl.1 "$work/audit.jsonl" 2>/dev/null >"$work/all.jsonl"
		js=$(grep -v '"type":"policy"' "$work/all.jsonl" | grep -vc '"type":"session"')
		[ "$js" -eq "$n" ] || why="$js audit decision lines for $n decisions"
		files=$(ls "$work"/audit.jsonl.1 2>/dev/null; echo "$work/audit.jsonl")
		# shellcheck disable=SC2086
		key=$(sed -n 's/^audit-key-file //p' "$work/test.conf" 2>/dev/null)
		[ -z "$key" ] || files="--key-file $key $files"
		[ -n "$why" ] || "$MILTER" --verify-audit $files >"$work/verify" 2>&1 ||
		    why="audit chain: $(cat "$work/verify")"
		# The replay: every recorded rule and outcome comes back, with
		# the recorded policy and (one policy in the log) with the
		# config file itself.
		[ -n "$why" ] || why=$(replay_check "$work" $files)
		python3 -c 'import json,sys
for i, l in enumerate(sys.stdin, 1):
    json.loads(l)' <"$work/all.jsonl" 2>"$work/json.err" ||
		    why="audit line is not JSON: $(tail -n 1 "$work/json.err")"
		:
	fi
	if [ -z "$why" ] && [ -n "${VALGRIND:-}" ]; then
		ls "$work"/vg.*.log >/dev/null 2>&1 || why="no valgrind log"
		for vg in "$work"/vg.*.log; do
			[ -s "$vg" ] && why="valgrind: $(head -c 2000 "$vg")"
		done
	fi
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "PASS: $name ($n decisions)"
		rm -rf "$work"
	else
		failed=$((failed + 1))
		echo "FAIL: $name: $why (kept $work)"
		sed 's/^/    out: /' "$work/out" | tail -n 20
		sed 's/^/    err: /' "$work/err" | tail -n 20
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
