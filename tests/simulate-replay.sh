#!/bin/sh
# simulate-replay.sh - a real MTA's audit log replays to itself.
#
# usage: simulate-replay.sh LOG [PREFIX]
#
# LOG is the audit log a suite copied out (AUDIT_OUT, or AUDIT_OUT.all for
# the whole run), with the configs of its milter starts as
# PREFIX.startK.conf (PREFIX defaults to LOG; K counts the starts, so the
# K-th policy record in LOG is that config's).  Checks:
#   1. tlspolicy-milter --simulate LOG (each decision with the policy
#      recorded for it) reproduces every recorded rule and outcome: every
#      decision replayed and unchanged, none that cannot be replayed;
#   2. for every start K, the records from the K-th policy record to the
#      next replay the same with --simulate -c LOG.startK.conf;
#   3. --verify-audit LOG: the chain and every policy fingerprint verify.
# Prints "N passed, N failed"; exit 1 on failure.
#
# Environment: MILTER (the built daemon).

set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../build/normal/milter/tlspolicy-milter}"
log=${1:?usage: simulate-replay.sh LOG [PREFIX]}
prefix=${2:-$log}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-replay.XXXXXX")

# want FILE - the total line of a replay without differences.
want() {
	_n=$(grep -c '"type":"\(decision\|credential-exposure\)"' "$1")
	echo "total: replayed $_n, unchanged $_n, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0"
}

n=$(grep -c '"type":"\(decision\|credential-exposure\)"' "$log")
if [ "$n" -gt 0 ] && "$MILTER" --simulate "$log" >"$W/all" 2>&1 &&
    grep -qxF "$(want "$log")" "$W/all"; then
	ok "$n decisions replay with their recorded policies: every rule and outcome as recorded ($(grep -c '"type":"policy"' "$log") policies)"
else
	ko "replay with the recorded policies ($n decisions): $(grep -v '^ ' "$W/all" | head -n 12)"
fi

# split LOG at its policy records: W/seg.K holds the K-th policy's records
awk -v w="$W" '/"type":"policy"/ { k++ } k > 0 { print > (w "/seg." k) }' "$log"
k=1
while [ -f "$W/seg.$k" ]; do
	conf=$prefix.start$k.conf
	m=$(grep -c '"type":"\(decision\|credential-exposure\)"' "$W/seg.$k")
	if [ ! -f "$conf" ]; then
		ko "policy record $k: no config $conf"
	elif [ "$m" -eq 0 ]; then
		:	# a start without decisions
	elif "$MILTER" --simulate -c "$conf" "$W/seg.$k" >"$W/c.$k" 2>&1 &&
	    grep -qxF "$(want "$W/seg.$k")" "$W/c.$k"; then
		_what=$(sed -n '1s/^# \([^ ]*\) .*/\1/p' "$conf")
		ok "start $k (${_what:-$(basename "$conf")}): $m decisions replay with -c of its config"
	else
		ko "start $k: replay with -c $conf ($m decisions): $(grep -v '^ ' "$W/c.$k" | head -n 12)"
	fi
	k=$((k + 1))
done

if "$MILTER" --verify-audit "$log" >"$W/verify" 2>&1; then
	ok "the log and its policy fingerprints verify: $(tail -n 1 "$W/verify")"
else
	ko "--verify-audit: $(head -n 3 "$W/verify")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && rm -rf "$W"
[ "$failed" -eq 0 ]
