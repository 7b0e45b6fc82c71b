#!/bin/sh
# sealing.sh - forward-secure sealing of the audit log, as an auditor and
# an attacker who got root at some point would try it.  The milter runs
# as root dropping to nobody (so the root keeper process rewrites the state), in
# the foreground, where its syslog lines also go to stderr: the seal
# hashes are read from there, as from a remote syslog.  Epochs of 3 s.
#  1. --setup-keys: state root's, mode 0600; the verification key printed
#     once; a second --setup-keys on the same path is refused.
#  2. a log begun with audit-key-file (migration), then sealed: load,
#     an epoch end (a seal, notice line), load, a rotation (mv, SIGUSR1:
#     the old file ends in a "reopen" seal), stop ("stop" seal); a start,
#     load and SIGKILL, and a start that seals what the crash left
#     ("recovery" seal, logged); a restart after the clock passed an epoch boundary, a rotation while
#     stopped, load, stop.  All files verify with --key-file and
#     --verification-key, and with --expect-head = the last seal hash
#     the milter logged; the state evolved and stayed root's 0600; the
#     file begun after the rotation while stopped continues the chain
#     from the last seal (the head the state keeps).
#  3. with the state the milter left (epoch E: what a root attacker
#     holds then), on copies of the log: a record of an earlier epoch
#     edited, deleted, edited and re-chained onward with K(E), deleted
#     and re-chained, edited and re-labelled epoch E and re-chained, an
#     unsealed record appended: each is reported with the verification
#     key, naming the line and the epoch.  A record of epoch E edited
#     and re-chained with K(E) verifies: that is what sealing cannot
#     prevent (documented in tlspolicy-milter(8)).
#  4. the tail cut (the last seal and records before it): the files alone
#     verify, --expect-head with the logged seal hash reports it.
#  5. start refused: no state (the message names --setup-keys), a state
#     older than the log (an old copy), another state at the log's epoch
#     (its key does not make the last record's hash), a state readable
#     by others.
#  6. a reload (SIGHUP) that moves audit-log: the old file ends in a
#     seal, and both files verify.
# Needs root and python3.  Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-sealing.XXXXXX")
chmod 755 "$W"
. "$here/common.sh"
tl_free_port port || { echo "0 passed, 1 failed"; exit 1; }
sock="inet:$port@127.0.0.1"
passed=0
failed=0
pid=""
PERIOD=3
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
cleanup() {
	[ -n "$pid" ] && milter_down "$pid"
	true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

S="$W/seal"		# root's, like /etc/tlspolicy-milter
L="$W/log"		# the service user's
mkdir -m 700 "$S" && mkdir -m 750 "$L" && chown nobody:nogroup "$L"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$S/audit.key"
chmod 600 "$S/audit.key"
LOG="$L/audit.jsonl"
conf() {	# conf FILE EXTRA
	printf 'syslog no\nuserid nobody:nogroup\naudit-log %s\n%b[listener submission]\nport 587\nrequire-tls yes\n' \
	    "$LOG" "$2" >"$1"
}
conf "$W/keyed.conf" "audit-key-file $S/audit.key\n"
conf "$W/sealed.conf" "audit-seal-state $S/state\n"
verify() {	# verify ARGS...: the verifier's output in $out, status in $rc
	out=$("$MILTER" --verify-audit "$@" 2>&1)
	rc=$?
}
state_epoch() { sed -n 's/^epoch //p' "$S/state"; }
seals_of() { grep -c 'notice: audit seal:' "$1"; }
wait_seals() {	# wait_seals ERR N: until ERR has N seal lines (at most 4 periods)
	_i=0
	while [ "$(seals_of "$1")" -lt "$2" ] && [ $_i -lt $((PERIOD * 80)) ]; do
		_i=$((_i + 1)); sleep 0.05
	done
	[ "$(seals_of "$1")" -ge "$2" ]
}
last_seal() { sed -n 's/.*notice: audit seal: .* seal=\([0-9a-f]*\)$/\1/p' "$1" | tail -n 1; }
load() { "$MLOAD" -s "$sock" -c 2 -n "$1" -r 50 >>"$W/load.out" 2>&1; }
start() {	# start NAME CONF
	milter_up "$1" "$port" "$MILTER" -f -c "$2" -p "$sock" || return 1
	pid=$UP_PID
}
stop() { milter_down "$pid"; pid=""; }

# 1. the keys
"$MILTER" --setup-keys --epoch $PERIOD --state "$S/state" >"$W/setup.out" 2>"$W/setup.err"
rc=$?
VK=$(sed -n 's/^verification key: //p' "$W/setup.out")
perm=$(stat -c '%U %a' "$S/state")
if [ $rc -eq 0 ] && echo "$VK" | grep -Eq '^[0-9a-f]{64}/[0-9]+/3$' &&
    [ "$perm" = "root 600" ] && [ "$(state_epoch)" = 0 ]; then
	ok "--setup-keys: state root's, mode 600, epoch 0; verification key printed"
else
	ko "--setup-keys: rc $rc, perm $perm, vk '$VK': $(cat "$W/setup.out" "$W/setup.err")"
fi
cp -p "$S/state" "$W/state.epoch0"	# an old copy, for 5.
"$MILTER" --setup-keys --state "$S/state" >/dev/null 2>"$W/setup2.err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'exists' "$W/setup2.err" && cmp -s "$S/state" "$W/state.epoch0"; then
	ok "--setup-keys on an existing state: refused, state untouched"
else
	ko "--setup-keys twice: rc $rc: $(cat "$W/setup2.err")"
fi

# 2. migration from audit-key-file, epochs, rotation, restart
start keyed "$W/keyed.conf" || finish
load 4
stop
keyed_lines=$(wc -l <"$LOG")
start run1 "$W/sealed.conf" || finish
load 6
wait_seals "$W/run1.err" 1 || ko "no epoch-end seal within $((PERIOD * 4)) s"
load 6
mv "$LOG" "$LOG.2"
kill -USR1 "$pid"
wait_seals "$W/run1.err" 2 || ko "no seal at SIGUSR1"
load 4
stop
# a crash (SIGKILL): the next start seals what it left ("recovery")
start crash "$W/sealed.conf" || finish
load 4
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=""
start run1r "$W/sealed.conf" || finish
load 4
stop
tail_kill=$(grep -c '"type":"seal","reason":"recovery"' "$LOG")
grep -q 'notice: audit seal: epoch=[0-9]* reason=recovery head=' "$W/run1r.err" && [ "$tail_kill" -eq 1 ] &&
    ok "after SIGKILL the next start writes one recovery seal (and logs it)" ||
    ko "no recovery seal after SIGKILL ($tail_kill in the log): $(grep seal "$W/run1r.err")"
e1=$(state_epoch)
# restart once the clock is in a later epoch than the state
i=0
while [ "$(( ($(date +%s) - $(sed -n 's/^start //p' "$S/state")) / PERIOD ))" -le "$e1" ] &&
    [ $i -lt $((PERIOD * 40)) ]; do
	i=$((i + 1)); sleep 0.05
done
mv "$LOG" "$LOG.1"	# rotated while stopped
start run2 "$W/sealed.conf" || finish
load 6
stop
e2=$(state_epoch)
head_logged=$(last_seal "$W/run2.err")
grep -q '"reason":"reopen"' "$LOG.2" && tail -n 1 "$LOG.2" | grep -q '"type":"seal","reason":"reopen"' &&
    ok "SIGUSR1: the rotated file ends in a reopen seal" || ko "the rotated file does not end in a reopen seal: $(tail -n 1 "$LOG.2")"
grep -q '"reason":"epoch-end"' "$LOG.2" && grep -q '"type":"seal","reason":"stop"' "$LOG" &&
    ok "epoch-end and stop seals written; a notice line per seal (run 1: $(seals_of "$W/run1.err"), run 2: $(seals_of "$W/run2.err"))" ||
    ko "seals missing: $(grep -c seal "$LOG.2" "$LOG.1" "$LOG")"
verify --key-file "$S/audit.key" --verification-key "$VK" --expect-head "$head_logged" "$LOG" "$LOG.1" "$LOG.2"
total=$(cat "$LOG" "$LOG.1" "$LOG.2" | wc -l)
perm=$(stat -c '%U %a' "$S/state")
if [ $rc -eq 0 ] && echo "$out" | grep -q "^OK: $total records, anchor 0\{64\}, last $head_logged\$" &&
    echo "$out" | grep -q '^expected head: record' && [ "$e2" -gt "$e1" ] &&
    [ "$perm" = "root 600" ] && [ "$keyed_lines" -gt 0 ] &&
    ! grep -q "$(echo "$VK" | cut -c1-64)" "$S/state"; then
	ok "keyed log then sealed, a restart across an epoch boundary (state epoch $e1 -> $e2, root 600, K(0) gone from it), rotations: $total records verify, last = the seal hash logged"
else
	ko "migration/restart/rotation: rc $rc, epochs $e1 $e2, perm $perm: $out"
fi
# an independent derivation: K(E) from the verification key is the state's key
derived=$(python3 -c '
import hashlib, hmac, sys
k, e = bytes.fromhex(sys.argv[1].split("/")[0]), int(sys.argv[2])
for _ in range(e):
    k = hmac.new(k, b"tlspolicy-milter evolve", hashlib.sha256).digest()
print(k.hex())' "$VK" "$e2")
[ "$derived" = "$(sed -n 's/^key //p' "$S/state")" ] &&
    ok "K($e2) derived from the verification key (Python, HMAC-SHA256 $e2 times) is the state's key" ||
    ko "K($e2) derived independently differs from the state's key"
verify --key-file "$S/audit.key" "$LOG" "$LOG.1" "$LOG.2"
case "$rc:$out" in
1:*"epoch "*"give the verification key"*) ok "without the verification key: the sealed records are named" ;;
*)	ko "without the verification key: rc $rc: $out" ;;
esac

# 3. an attacker with the state of epoch E
cat >"$W/forge.py" <<'EOF'
# forge.py STATE IN OUT OP N: what root holding the state can do to line N
import hashlib, hmac, re, sys
state, src, dst, op, n = sys.argv[1:6]
n = int(n)
st = dict(l.split(" ", 1) for l in open(state).read().split("\n")[1:] if l)
key, E = bytes.fromhex(st["key"]), int(st["epoch"])
tail = re.compile(r'^(.*?)(,"epoch":(\d+))?,"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})"}$')
lines = open(src).read().split("\n")[:-1]
def rehash(i, prev):
    m = tail.match(lines[i])
    body, ep = m.group(1), m.group(3)
    body = re.sub(r',"head":"[0-9a-f]{64}"$', ',"head":"' + prev + '"', body)  # a seal's
    mm = body + ("" if ep is None else ',"epoch":' + ep) + ',"prev":"' + prev + '"}'
    h = hmac.new(key, hashlib.sha256(mm.encode()).digest(), hashlib.sha256).hexdigest()
    lines[i] = mm[:-1] + ',"hash":"' + h + '"}'
    return h
def edit(i):
    lines[i] = re.sub(r'^\{"v":2,"time":"2', '{"v":2,"time":"1', lines[i])
def rechain(i):
    prev = tail.match(lines[i - 1]).group(5) if i > 0 else tail.match(lines[i]).group(4)
    for k in range(i, len(lines)):
        prev = rehash(k, prev)
i = n - 1
if op == "edit":
    edit(i)
elif op == "delete":
    del lines[i]
elif op == "edit-rechain":
    edit(i); rechain(i)
elif op == "delete-rechain":
    del lines[i]; rechain(i)
elif op == "relabel-rechain":
    edit(i)
    for k in range(i, len(lines)):
        lines[k] = re.sub(r',"epoch":\d+,"prev"', ',"epoch":%d,"prev"' % E, lines[k])
    rechain(i)
elif op == "append-unsealed":
    m = tail.match(lines[-1])
    body = '{"v":2,"time":"2026-01-01T00:00:00.000Z","session":"x.1","type":"decision","client_addr":"192.0.2.10"'
    mm = body + ',"prev":"' + m.group(5) + '"}'
    lines.append(mm[:-1] + ',"hash":"' + hashlib.sha256(mm.encode()).hexdigest() + '"}')
open(dst, "w").write("\n".join(lines) + "\n")
EOF
E=$(state_epoch)
first=$(head -n 1 "$LOG" | sed 's/.*,"prev":"\([0-9a-f]*\)".*/\1/')
[ "$first" = "$(tail -n 1 "$LOG.1" | sed 's/.*,"hash":"\([0-9a-f]*\)".*/\1/')" ] &&
    ok "the file begun after a rotation while stopped continues the chain from the last seal (the state's head)" ||
    ko "the new file does not continue the chain: first prev $first"
# what the attacker works on: the whole chain in one file (epochs up to E)
cat "$LOG.2" "$LOG.1" "$LOG" >"$W/all.jsonl"
anchor=$(printf '%064d' 0)
A="$W/attack"
mkdir "$A"
# the last decision of an epoch below E
old=$(grep -n '"type":"decision".*"epoch":[0-9]*,"prev"' "$W/all.jsonl" |
    grep -v '"epoch":'"$E"',"prev"' | tail -n 1 | cut -d: -f1)
[ -n "$old" ] || { ko "no sealed decision record before epoch $E"; finish; }
old_epoch=$(sed -n "${old}p" "$W/all.jsonl" | sed 's/.*"epoch":\([0-9]*\),"prev".*/\1/')
attack() {	# attack OP LINE EXPECT-PATTERN LABEL
	python3 "$W/forge.py" "$S/state" "$W/all.jsonl" "$A/audit.jsonl" "$1" "$2"
	verify --key-file "$S/audit.key" --verification-key "$VK" --anchor "$anchor" "$A/audit.jsonl"
	case "$rc:$out" in
	1:"$A/audit.jsonl:"$3) ok "$4: $out" ;;
	*)	ko "$4: rc $rc: $out" ;;
	esac
}
attack edit "$old" "$old: epoch $old_epoch: hash mismatch"* \
    "a record of epoch $old_epoch edited (state of epoch $E)"
attack delete "$old" "$old: epoch "*"broken link"* \
    "a record of epoch $old_epoch deleted"
attack edit-rechain "$old" "$old: epoch $old_epoch: hash mismatch"* \
    "a record of epoch $old_epoch edited and the chain recomputed onward with K($E)"
attack delete-rechain "$old" "$old: epoch "*"hash mismatch"* \
    "a record of epoch $old_epoch deleted and the chain recomputed onward with K($E)"
attack relabel-rechain "$old" "$old: epoch $E: a new epoch without a seal of epoch $old_epoch before it"* \
    "a record of epoch $old_epoch edited, it and all after it re-labelled epoch $E and re-chained with K($E)"
n=$(wc -l <"$W/all.jsonl")
attack append-unsealed "$n" "$((n + 1)): unsealed record after sealed ones"* \
    "an unsealed (plain SHA-256) record appended after sealed ones"
# within epoch E: possible, and documented
cur=$(grep -n '"epoch":'"$E"',"prev"' "$W/all.jsonl" | head -n 1 | cut -d: -f1)
python3 "$W/forge.py" "$S/state" "$W/all.jsonl" "$A/audit.jsonl" edit-rechain "$cur"
verify --key-file "$S/audit.key" --verification-key "$VK" --anchor "$anchor" "$A/audit.jsonl"
if [ -n "$cur" ] && [ $rc -eq 0 ] && ! cmp -s "$W/all.jsonl" "$A/audit.jsonl"; then
	ok "what sealing cannot prevent: a record of epoch $E itself edited and re-chained with K($E) verifies (only the syslog copy of the seal hashes shows it: the last head differs)"
else
	ko "edit within epoch $E (line '$cur'): rc $rc: $out"
fi
verify --key-file "$S/audit.key" --verification-key "$VK" --anchor "$anchor" --expect-head "$head_logged" "$A/audit.jsonl"
case "$rc:$out" in
1:"expected head $head_logged is not in the chain"*)
	ok "... and --expect-head with the logged seal hash reports that edit: $out" ;;
*)	ko "edit within epoch $E not caught by --expect-head: rc $rc: $out" ;;
esac

# 4. the tail cut
head -n $(($(wc -l <"$W/all.jsonl") - 3)) "$W/all.jsonl" >"$A/audit.jsonl"
verify --key-file "$S/audit.key" --verification-key "$VK" --anchor "$anchor" "$A/audit.jsonl"
rc_alone=$rc
verify --key-file "$S/audit.key" --verification-key "$VK" --anchor "$anchor" --expect-head "$head_logged" "$A/audit.jsonl"
case "$rc_alone:$rc:$out" in
0:1:"expected head $head_logged is not in the chain"*)
	ok "the last 3 lines cut: the file alone verifies, --expect-head from the milter's syslog line reports it: $out" ;;
*)	ko "tail cut: alone rc $rc_alone, with --expect-head rc $rc: $out" ;;
esac

# 5. start refused
conf "$W/nostate.conf" "audit-seal-state $S/missing\n"
"$MILTER" -f -c "$W/nostate.conf" -p "$sock" >/dev/null 2>"$W/nostate.err" &
npid=$!
wait $npid
rc=$?
grep -q -- '--setup-keys' "$W/nostate.err" && [ $rc -ne 0 ] &&
    ok "no state: refused (exit $rc): $(tail -n 1 "$W/nostate.err")" || ko "no state: rc $rc: $(cat "$W/nostate.err")"
cp -p "$S/state" "$W/state.now"
cp -p "$W/state.epoch0" "$S/state"
"$MILTER" -f -c "$W/sealed.conf" -p "$sock" >/dev/null 2>"$W/old.err" &
npid=$!
wait $npid
rc=$?
grep -q 'older than the last record' "$W/old.err" && [ $rc -ne 0 ] &&
    ok "a state older than the log (epoch 0 copy): refused (exit $rc)" || ko "old state: rc $rc: $(cat "$W/old.err")"
# another state at the log's epoch (a new --setup-keys, epoch moved on)
rm "$S/state"
"$MILTER" --setup-keys --epoch $PERIOD --state "$S/state" >/dev/null 2>&1
sed -i "s/^epoch .*/epoch $E/" "$S/state"
"$MILTER" -f -c "$W/sealed.conf" -p "$sock" >/dev/null 2>"$W/other.err" &
npid=$!
wait $npid
rc=$?
grep -q 'does not make the hash of the last record' "$W/other.err" && [ $rc -ne 0 ] &&
    ok "another state at the log's epoch: refused (exit $rc)" || ko "another state: rc $rc: $(cat "$W/other.err")"
cp -p "$W/state.now" "$S/state"
chmod 644 "$S/state"
"$MILTER" -f -c "$W/sealed.conf" -p "$sock" >/dev/null 2>"$W/mode.err" &
npid=$!
wait $npid
rc=$?
grep -q 'readable by group or others' "$W/mode.err" && [ $rc -ne 0 ] &&
    ok "a state readable by others: refused (exit $rc)" || ko "state mode 644: rc $rc: $(cat "$W/mode.err")"
chmod 600 "$S/state"

# 6. a reload that moves audit-log: a seal ends the old file first
"$MILTER" --setup-keys --epoch 900 --state "$S/state6" >"$W/setup6.out" 2>/dev/null
VK6=$(sed -n 's/^verification key: //p' "$W/setup6.out")
LOG=$L/moved-a.jsonl
conf "$W/move.conf" "audit-seal-state $S/state6\n"
start move "$W/move.conf" || finish
load 4
LOG=$L/moved-b.jsonl
conf "$W/move.conf" "audit-seal-state $S/state6\n"
kill -HUP "$pid"
i=0
while ! grep -q 'reloaded' "$W/move.err" && [ $i -lt 100 ]; do
	i=$((i + 1)); sleep 0.05
done
load 4
stop
verify --verification-key "$VK6" "$L/moved-b.jsonl" "$L/moved-a.jsonl"
if [ $rc -eq 0 ] && tail -n 1 "$L/moved-a.jsonl" | grep -q '"type":"seal","reason":"reopen"' &&
    [ -s "$L/moved-b.jsonl" ]; then
	ok "a reload moving audit-log: the old file ends in a seal, both verify: $(echo "$out" | tail -n 1 | cut -c1-40)..."
else
	ko "reload moving audit-log: rc $rc: $out; old file ends: $(tail -n 1 "$L/moved-a.jsonl" | cut -c1-120)"
fi
rm -rf "$W"
finish
