#!/bin/sh
# evidence.sh - the audit log as an auditor and an attacker would try it:
#  1. a rotation set of 13 files written by the daemon (SIGUSR1 after each
#     rename, as logrotate does): the live file, .1 plain (delaycompress)
#     and .2 to .12 gzip-compressed, verifies from a shell glob in shell
#     order (audit.jsonl audit.jsonl.1 audit.jsonl.10.gz ... .9.gz, and
#     the stage file, skipped with a warning):
#     "OK: N records, anchor <zeros>, last <hash>";
#  2. tampering is reported: the first line deleted, the first 3 lines
#     deleted, the first (oldest) file deleted: each "does not start at
#     the anchor", naming the file; a middle file missing: named, and the
#     file the chain from the anchor ends in; the last (newest) file
#     deleted: the verifier cannot see it alone, the auditor does through
#     the last hash printed before (it is no longer the last hash, and no
#     line carries it); a file given twice is a fork;
#  3. --anchor: the newer files alone verify with the last hash of the
#     newest deleted file as anchor, and not without it;
#  4. a full disk (a 2 MiB tmpfs): fill it, send load, free it, send
#     load, with audit-fsync interval and every: the log verifies with no
#     warning (no torn fragment), every line is JSON
#     (python3 -m json.tool --json-lines), and the decision and session
#     records match what the load client saw.
# Needs root (mount).  Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-evidence.XXXXXX")
. "$here/common.sh"
tl_free_port port || { echo "0 passed, 1 failed"; exit 1; }
sock="inet:$port@127.0.0.1"
passed=0
failed=0
mnt=""
pid=""
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
cleanup() {
	[ -n "$pid" ] && milter_down "$pid"
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
conf() {	# conf FILE AUDIT EXTRA
	printf 'syslog no\nallow-root yes\naudit-log %s\n%b[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\n' \
	    "$2" "$3" >"$1"
}
field() {	# field NAME FILE: NAME=value of an mload line
	sed -n "s/.* $1=\([0-9]*\).*/\1/p; s/^$1=\([0-9]*\).*/\1/p" "$2" | head -n 1
}
lines_of() {	# lines_of FILE: its line count, 0 when absent
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}
wait_lines() {	# wait_lines FILE N: until FILE has N lines (at most 5 s)
	_i=0
	while [ "$(lines_of "$1")" -lt "$2" ] && [ $_i -lt 100 ]; do
		_i=$((_i + 1)); sleep 0.05
	done
	[ "$(lines_of "$1")" -ge "$2" ]
}
verify() {	# verify ARGS...: the verifier's output in $out, status in $rc
	out=$("$MILTER" --verify-audit "$@" 2>&1)
	rc=$?
}
last_of() { echo "$1" | sed -n 's/^OK: .*, last \([0-9a-f]*\)$/\1/p'; }

# 1. 13 rotated files, some compressed, in shell-glob order
R="$W/rot"
mkdir "$R"
conf "$W/rot.conf" "$R/audit.jsonl" ""
milter_up rot "$port" "$MILTER" -f -c "$W/rot.conf" -p "$sock" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
n_files=13
k=0
while [ $k -lt $n_files ]; do
	k=$((k + 1))
	"$MLOAD" -s "$sock" -c 2 -n 4 -r 50 >"$W/rot.load" 2>&1
	# 4 decisions and 4 session records in the live file
	wait_lines "$R/audit.jsonl" 8 || ko "rotation $k: $(lines_of "$R/audit.jsonl") lines of 8 on file"
	[ $k -eq $n_files ] && break
	j=$((k - 1))	# logrotate: .j -> .j+1 from the oldest down, live -> .1
	while [ $j -ge 1 ]; do
		mv "$R/audit.jsonl.$j" "$R/audit.jsonl.$((j + 1))"
		j=$((j - 1))
	done
	mv "$R/audit.jsonl" "$R/audit.jsonl.1"
	before=$(grep -c 'audit log reopened' "$W/rot.err")
	kill -USR1 "$pid"
	i=0
	while [ "$(grep -c 'audit log reopened' "$W/rot.err")" -le "$before" ] && [ $i -lt 100 ]; do
		i=$((i + 1)); sleep 0.05
	done
done
milter_down "$pid"
pid=""
k=2
while [ $k -lt $n_files ]; do	# delaycompress: .1 stays plain
	gzip "$R/audit.jsonl.$k"
	k=$((k + 1))
done
n_gz=$(ls "$R"/audit.jsonl.*.gz | wc -l)
verify "$R"/audit.jsonl*
all=$(for f in "$R"/audit.jsonl "$R"/audit.jsonl.[0-9]*; do gzip -dc -f "$f"; done | wc -l)
# the start writes a policy record besides the decisions and sessions
pol=$(for f in "$R"/audit.jsonl "$R"/audit.jsonl.[0-9]*; do gzip -dc -f "$f"; done | grep -c '"type":"policy"')
last=$(last_of "$out")
echo "   glob order: $(cd "$R" && echo audit.jsonl* | tr -s ' ' ' ')"
if [ $rc -eq 0 ] && [ -n "$last" ] &&
    [ "$out" = "$R/audit.jsonl.stage:0: warning: the milter's stage file, not a log (what it holds reaches the log at the next start); skipped
OK: $all records, anchor 0000000000000000000000000000000000000000000000000000000000000000, last $last" ] &&
    [ "$n_gz" -eq $((n_files - 2)) ] && [ "$pol" -eq 1 ] &&
    [ "$all" -eq $((n_files * 8 + pol)) ]; then
	ok "$n_files rotated files ($n_gz gzip-compressed) in shell order verify: $out"
else
	ko "rotated files in shell order: rc $rc: $out ($all lines, $n_gz compressed)"
fi

# 2. tampering, each on a copy of the set
copy() {	# copy NAME: a fresh copy of the set in $W/NAME, as $T
	T="$W/$1"
	rm -rf "$T" && cp -a "$R" "$T"
}
oldest="audit.jsonl.$((n_files - 1)).gz"	# the live file and .1 to .12
cut_head() {	# cut_head N: the first N lines of the oldest file deleted
	gzip -dc "$T/$oldest" | sed "1,${1}d" | gzip >"$T/$oldest.new" &&
	    mv "$T/$oldest.new" "$T/$oldest"
}
copy del1
cut_head 1
verify "$T"/audit.jsonl*
case "$rc:$out" in
1:*"
$T/$oldest:1: broken link: the chain does not start at the anchor 0000000000000000000000000000000000000000000000000000000000000000"*)
	ok "the first line deleted: reported at $oldest:1 (the chain does not start at the anchor)" ;;
*)	ko "the first line deleted: rc $rc: $out" ;;
esac
copy del3
cut_head 3
verify "$T"/audit.jsonl*
case "$rc:$out" in
1:*"
$T/$oldest:1: broken link: the chain does not start at the anchor"*)
	ok "the first 3 lines deleted: reported at $oldest:1" ;;
*)	ko "the first 3 lines deleted: rc $rc: $out" ;;
esac
copy delfirst
rm "$T/$oldest"
second="audit.jsonl.$((n_files - 2)).gz"
verify "$T"/audit.jsonl*
case "$rc:$out" in
1:*"
$T/$second:1: broken link: the chain does not start at the anchor"*)
	ok "the oldest file deleted: reported at $second:1" ;;
*)	ko "the oldest file deleted: rc $rc: $out" ;;
esac
copy delmid
rm "$T/audit.jsonl.7.gz"
verify "$T"/audit.jsonl*
case "$rc:$out" in
1:*"
$T/audit.jsonl.6.gz:1: broken link: its first \"prev\" "*"is the last hash of no file given (the chain from the anchor ends in $T/audit.jsonl.8.gz)"*)
	ok "a middle file missing: named (audit.jsonl.6.gz follows none; the chain ends in audit.jsonl.8.gz)" ;;
*)	ko "a middle file missing: rc $rc: $out" ;;
esac
copy dellast
rm "$T/audit.jsonl"
verify "$T"/audit.jsonl*
now=$(last_of "$out")
kept=$(for f in "$T"/audit.jsonl.[0-9]*; do gzip -dc -f "$f"; done | grep -c "\"hash\":\"$last\"")
if [ $rc -eq 0 ] && [ -n "$now" ] && [ "$now" != "$last" ] && [ "$kept" -eq 0 ]; then
	ok "the newest file deleted: still a chain, but its last hash $now is not the $last printed before, and no line carries that one"
else
	ko "the newest file deleted: rc $rc: $out; lines with the kept last hash: $kept"
fi
copy twice
verify "$T"/audit.jsonl* "$T/audit.jsonl.1"
case "$rc:$out" in
1:*": fork: "*) ok "a file given twice: reported as a fork" ;;
*)	ko "a file given twice: rc $rc: $out" ;;
esac

# 3. --anchor: older files deleted by retention, their last hash kept
copy retention
verify "$T/audit.jsonl.8.gz" "$T/audit.jsonl.9.gz" "$T/audit.jsonl.10.gz" \
    "$T/audit.jsonl.11.gz" "$T/audit.jsonl.12.gz"
kept=$(last_of "$out")
rm "$T/audit.jsonl.8.gz" "$T/audit.jsonl.9.gz" "$T/audit.jsonl.10.gz" \
    "$T/audit.jsonl.11.gz" "$T/audit.jsonl.12.gz"
verify "$T"/audit.jsonl*
rc_without=$rc
verify --anchor "$kept" "$T"/audit.jsonl*
if [ -n "$kept" ] && [ "$rc_without" -eq 1 ] && [ $rc -eq 0 ] &&
    [ "$(last_of "$out")" = "$last" ] &&
    echo "$out" | grep -q "anchor $kept,"; then
	ok "retention: the newer files verify with --anchor (the last hash of the newest deleted file), not without"
else
	ko "retention: without --anchor rc $rc_without; with: rc $rc: $out"
fi

# 4. a full disk on a small tmpfs: fill, load, free, load
if [ "$(id -u)" != 0 ]; then
	ko "the full-disk test needs root (mount -t tmpfs)"
	echo "$passed passed, $failed failed"
	exit 1
fi
mnt="$W/small"
mkdir "$mnt"
if ! mount -t tmpfs -o size=2m,mode=0755 tmpfs "$mnt"; then
	ko "cannot mount a tmpfs on $mnt"
	mnt=""
fi
for mode in interval every; do
	[ -n "$mnt" ] || break
	rm -f "$mnt"/*
	conf "$W/full.conf" "$mnt/audit.jsonl" "audit-fsync $mode\n"
	milter_up "full-$mode" "$port" "$MILTER" -f -c "$W/full.conf" -p "$sock" || break
	pid=$UP_PID
	"$MLOAD" -s "$sock" -c 2 -n 20 -r 30 >"$W/full0.load" 2>&1
	dd if=/dev/zero of="$mnt/fill" bs=1k 2>/dev/null	# until ENOSPC
	"$MLOAD" -s "$sock" -c 4 -n 200 -r 30 >"$W/full1.load" 2>&1
	rm -f "$mnt/fill"
	# the writer retries every second; a decision retries at once.  Each
	# probe's session and decision is counted (one that got tempfail too).
	rm -f "$W"/probe.*.load
	i=0
	while [ $i -lt 60 ]; do
		i=$((i + 1))
		"$MLOAD" -s "$sock" -c 1 -n 1 >"$W/probe.$i.load" 2>&1
		[ "$(field accept "$W/probe.$i.load")" = 1 ] && break
		sleep 0.1
	done
	probes=$(cd "$W" && ls probe.*.load | sed 's/\.load$//')
	"$MLOAD" -s "$sock" -c 4 -n 200 -r 30 >"$W/full2.load" 2>&1
	milter_down "$pid"
	pid=""
	sessions=0 written=0 refused=0
	for l in full0 full1 $probes full2; do
		sessions=$((sessions + $(field sessions "$W/$l.load")))
		written=$((written + $(field accept "$W/$l.load") + $(field reject "$W/$l.load")))
		refused=$((refused + $(field tempfail "$W/$l.load")))
	done
	errors=0
	for l in full0 full1 $probes full2; do
		errors=$((errors + $(field errors "$W/$l.load")))
	done
	lost=$(sed -n 's/.*: \([0-9]*\) queued session records NOT WRITTEN.*/\1/p' "$W/full-$mode.err" |
	    awk '{ s += $1 } END { print s + 0 }')
	nw_dec=$(grep -c ': audit record NOT WRITTEN to ' "$W/full-$mode.err")
	nw_ses=$(grep -c ': session record NOT WRITTEN to ' "$W/full-$mode.err")
	decisions=$(grep -v '"type":"policy"' "$mnt/audit.jsonl" | grep -vc '"type":"session"')
	srecs=$(grep -c '"type":"session"' "$mnt/audit.jsonl")
	verify "$mnt/audit.jsonl"
	json=$(python3 -m json.tool --json-lines "$mnt/audit.jsonl" >/dev/null 2>"$W/json.err" && echo ok)
	echo "   $mode: the client saw $sessions sessions ($errors errors), $written decisions accepted or rejected, $refused refused (tempfail); on file: $decisions decisions, $srecs sessions; logged NOT WRITTEN: $nw_dec decision, $nw_ses session records, $lost lost queued"
	# every decision and session the client saw has its record, or (a
	# refused MAIL; with fsync every, a record a failed write took) a
	# loud error line; with interval nothing but refused MAILs lacks one
	if [ $rc -eq 0 ] && ! echo "$out" | grep -q warning && [ "$json" = ok ] &&
	    [ "$errors" -eq 0 ] && [ "$refused" -gt 0 ] &&
	    [ $((decisions + nw_dec)) -eq $((written + refused)) ] &&
	    [ $((srecs + nw_ses + lost)) -eq "$sessions" ] &&
	    { [ "$mode" = every ] || { [ "$nw_dec" -eq "$refused" ] &&
	    [ "$srecs" -eq "$sessions" ]; }; }; then
		ok "full disk, audit-fsync $mode: fill, load, free, load: $out; every line is JSON; records match what the client saw"
	else
		ko "full disk, audit-fsync $mode: verify rc $rc: $out; json: ${json:-$(head -c 300 "$W/json.err")}"
	fi
	cp "$mnt/audit.jsonl" "$W/full-$mode.jsonl"
done
[ -n "$mnt" ] && umount "$mnt" && mnt=""
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && rm -rf "$W"
[ "$failed" -eq 0 ]
