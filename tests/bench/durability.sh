#!/bin/sh
# durability.sh - the audit log as evidence under stress:
#  1. SIGTERM in the middle of a burst (mload -n 2000 -c 50 in the
#     background, the milter killed by its PID mid-way): every decision
#     the client saw has its record (records >= decisions seen), no line
#     is torn, and the hash chain verifies;
#  2. a restart appends to the same file and the chain still verifies;
#  3. a full disk (audit-log a link to /dev/full): once a write has failed, MAIL
#     gets audit-failure-action (tempfail, then reject) and the error is
#     logged with the file and errno; the decisions accepted before the
#     first write failed (at most the 2 in flight) keep their records in
#     the stage file, nothing is lost;
#  4. a session record (queued: no reply waits on it) reaches the file
#     within 3 s of the load's end while a SIGHUP arrives every 0.05 s
#     (from before the load until the records are on file: the writer
#     must not wait for a quiet moment);
#  5. SIGKILL mid-burst, then a restart: the records staged and not yet
#     written are appended at start; every decision seen has its record
#     and the chain verifies;
#  6. a stage file that is not one is refused at start, and kept.
# Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-durable.XXXXXX")
. "$here/common.sh"
tl_free_port port || { echo "0 passed, 1 failed"; exit 1; }
sock="inet:$port@127.0.0.1"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
conf() {	# conf FILE AUDIT EXTRA
	printf 'syslog no\nallow-root yes\naudit-log %s\n%b[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\n' \
	    "$2" "$3" >"$1"
}
decided() {	# accept + reject + tempfail of an mload line
	sed -n 's/.*accept=\([0-9]*\) reject=\([0-9]*\) tempfail=\([0-9]*\).*/\1 \2 \3/p' "$1" |
	    awk '{ s += $1 + $2 + $3 } END { print s + 0 }'
}

# 1. SIGTERM mid-burst
printf 'burst secret\n' >"$W/key"
conf "$W/m.conf" "$W/audit.jsonl" "audit-key-file $W/key\naudit-fsync interval\n"
milter_up milter "$port" "$MILTER" -f -c "$W/m.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
"$MLOAD" -s "$sock" -c 50 -n 2000 -r 30 >"$W/load.out" 2>&1 &
lpid=$!
i=0	# wait until some hundreds of decisions are on file, then SIGTERM
while [ "$(wc -l <"$W/audit.jsonl")" -lt 300 ] && [ $i -lt 200 ]; do
	i=$((i + 1)); sleep 0.05
done
kill -TERM "$pid"
wait "$lpid"
milter_down "$pid"
seen=$(decided "$W/load.out")
records=$(grep -v '"type":"policy"' "$W/audit.jsonl" | grep -vc '"type":"session"')
echo "   $(cat "$W/load.out")"
echo "   decisions the client saw: $seen; decision records: $records"
if [ "$seen" -gt 0 ] && [ "$seen" -lt 2000 ] && [ "$records" -ge "$seen" ]; then
	ok "SIGTERM mid-burst: every decision the client saw has its record ($records >= $seen)"
else
	ko "SIGTERM mid-burst: $records records for $seen decisions seen (of 2000)"
fi
out=$("$MILTER" --verify-audit --key-file "$W/key" "$W/audit.jsonl" 2>&1)
case "$out" in OK:*) ok "the chain verifies after SIGTERM ($out)" ;; *) ko "verify after SIGTERM: $out" ;; esac

# 2. restart on the same file: the chain continues
milter_up milter2 "$port" "$MILTER" -f -c "$W/m.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
"$MLOAD" -s "$sock" -c 5 -n 50 >"$W/load2.out" 2>&1
milter_down "$pid"
out=$("$MILTER" --verify-audit --key-file "$W/key" "$W/audit.jsonl" 2>&1)
n1=$(echo "$out" | sed -n 's/^OK: \([0-9]*\) records, anchor [0-9a-f]*, last [0-9a-f]*$/\1/p')
if [ -n "$n1" ] && [ "$(decided "$W/load2.out")" -eq 50 ]; then
	ok "after a restart the chain goes on in the same file ($out)"
else
	ko "restart: $out; $(cat "$W/load2.out")"
fi

# 3. a full disk: tempfail (default), then reject; loud
for action in tempfail reject; do
	# a link to /dev/full: its stage is a file beside the link, in $W
	rm -f "$W/devfull.stage"
	ln -sf /dev/full "$W/devfull"
	conf "$W/full.conf" "$W/devfull" "audit-failure-action $action\n"
	milter_up full "$port" "$MILTER" -f -c "$W/full.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
	pid=$UP_PID
	"$MLOAD" -s "$sock" -c 2 -n 10 >"$W/full.out" 2>&1
	milter_down "$pid"
	got=$(sed -n "s/.* $action=\([0-9]*\).*/\1/p" "$W/full.out")
	acc=$(sed -n 's/.* accept=\([0-9]*\).*/\1/p' "$W/full.out")
	loud=$(grep -c "audit record NOT WRITTEN to $W/devfull: No space left on device" "$W/full.err")
	staged=$(tr -d '\000' <"$W/devfull.stage" 2>/dev/null | grep -c '"type":"decision"')
	if [ "${acc:-9}" -le 2 ] && [ $((${got:-0} + ${acc:-9})) -eq 10 ] &&
	    [ "$loud" -ge "${got:-99}" ] && [ "$staged" -eq "${acc:-9}" ]; then
		ok "full disk, audit-failure-action $action: $got x $action, the $acc accepted before the first failed write kept in the stage, logged with file and errno"
	else
		ko "full disk ($action): $(cat "$W/full.out"); $loud error lines; $staged records in the stage"
	fi
done
# 4. queued session records are written every second, signals or not
conf "$W/storm.conf" "$W/storm.jsonl" "audit-fsync interval\n"
milter_up storm "$port" "$MILTER" -f -c "$W/storm.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
# SIGHUPs 0.05 s apart from before the load until every record is on
# file (at most 400: 20 s), in a loop of their own
rm -f "$W/storm.stop"
(i=0; while [ ! -e "$W/storm.stop" ] && [ $i -lt 400 ]; do
	kill -HUP "$pid" 2>/dev/null; i=$((i + 1)); sleep 0.05
done; echo "$i" >"$W/storm.n") &
storm=$!
"$MLOAD" -s "$sock" -c 5 -n 100 >"$W/storm.out" 2>&1
t0=$(date +%s.%N)
lines=0
i=0
while [ $i -lt 80 ]; do		# at most 4 s after the load ended
	lines=$(wc -l <"$W/storm.jsonl")
	[ "$lines" -ge 200 ] && break
	i=$((i + 1)); sleep 0.05
done
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
: >"$W/storm.stop"
wait "$storm"
n_hup=$(cat "$W/storm.n")
milter_down "$pid"
reloads=$(grep -c 'reload' "$W/storm.err")
if [ "$(decided "$W/storm.out")" -eq 100 ] && [ "$lines" -ge 200 ] && [ "$reloads" -gt 0 ] &&
    awk -v t="$took" 'BEGIN { exit !(t <= 3.0) }'; then
	ok "SIGHUP every 0.05 s: all 100 session records on file $took s after the load ($n_hup signals, $reloads reload lines)"
else
	ko "SIGHUP storm: $lines of 200 records on file after $took s ($n_hup signals, $reloads reload lines); $(cat "$W/storm.out")"
fi

# 5. SIGKILL mid-burst: no stop, no write of what is staged; the next
# start appends it, so every decision the client saw has its record
conf "$W/kill.conf" "$W/kill.jsonl" "audit-key-file $W/key\n"
milter_up kill "$port" "$MILTER" -f -c "$W/kill.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
"$MLOAD" -s "$sock" -c 50 -n 2000 -r 30 >"$W/kill.out" 2>&1 &
lpid=$!
i=0
while [ "$(wc -l <"$W/kill.jsonl")" -lt 300 ] && [ $i -lt 200 ]; do
	i=$((i + 1)); sleep 0.05
done
kill -KILL "$pid"
wait "$lpid"
wait "$pid" 2>/dev/null
seen=$(decided "$W/kill.out")
before=$(grep -v '"type":"policy"' "$W/kill.jsonl" | grep -vc '"type":"session"')
milter_up kill2 "$port" "$MILTER" -f -c "$W/kill.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
milter_down "$UP_PID"
records=$(grep -v '"type":"policy"' "$W/kill.jsonl" | grep -vc '"type":"session"')
appended=$(sed -n 's/.*: \([0-9]*\) records an earlier run staged.*/\1/p' "$W/kill2.err")
out=$("$MILTER" --verify-audit --key-file "$W/key" "$W/kill.jsonl" 2>&1)
echo "   $(cat "$W/kill.out")"
echo "   decisions seen: $seen; records at the kill: $before; after the restart: $records (${appended:-0} lines appended from the stage)"
case "$out" in
OK:*)	if [ "$seen" -gt 0 ] && [ "$records" -ge "$seen" ]; then
		ok "SIGKILL mid-burst: the restart appends what was staged, every decision seen has its record ($records >= $seen), the chain verifies"
	else
		ko "SIGKILL mid-burst: $records records for $seen decisions seen"
	fi ;;
*)	ko "verify after SIGKILL and restart: $out" ;;
esac

# 6. a stage file that is not one (someone else's file): refused at
# start with both paths named, the file left as it was
printf 'not a stage\n' >"$W/odd.jsonl.stage"
conf "$W/odd.conf" "$W/odd.jsonl" ""
out=$("$MILTER" -f -c "$W/odd.conf" -p "$sock" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "$W/odd.jsonl.stage: not a stage file" &&
    [ "$(cat "$W/odd.jsonl.stage")" = "not a stage" ]; then
	ok "a file that is not a stage is refused at start, named, and left alone (exit $rc)"
else
	ko "foreign stage file: exit $rc: $out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && rm -rf "$W"
[ "$failed" -eq 0 ]
