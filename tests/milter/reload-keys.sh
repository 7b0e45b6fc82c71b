#!/bin/sh
# reload-keys.sh - SIGHUP applies what it says it applies, and says what it
# cannot: audit-log turned on by a reload opens the file at once, a new
# audit-log path continues the chain (both files verify as one), keys that
# need a restart are named in a warning while the running value stays, and
# a broken file is refused with every error listed.  Runs the daemon in the
# foreground as root (allow-root).  Ends with "N passed, N failed".
set -u
: "${MILTER:=$(dirname "$0")/../../milter/tlspolicy-milter}"
. "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-reload.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; rm -rf "$w"' EXIT
sock="unix:$w/m.sock"

# session - one plaintext MAIL on port 587: REFUSED, ACCEPTED or ERROR.
session() { tl_mail "$sock" "$w"; }
# hup PATTERN - SIGHUP, then wait (at most 10 s) for a new log line matching.
hup() {
	_n=$(grep -c -- "$1" "$w/err")
	kill -HUP "$pid"
	_i=0
	while [ "$(grep -c -- "$1" "$w/err")" -le "$_n" ] && [ $_i -lt 100 ]; do
		_i=$((_i + 1)); sleep 0.1
	done
}
# records FILE - decision records in FILE (0 if none).
records() { grep -c '"type":"decision"' "$1" 2>/dev/null || true; }
# wait_records FILE N - until FILE holds N decision records (at most 5 s).
wait_records() {
	_i=0
	while [ "$(records "$1")" -lt "$2" ] && [ $_i -lt 50 ]; do _i=$((_i + 1)); sleep 0.1; done
}

printf 'socket %s\nsyslog no\nallow-root yes\n[listener submission]\nport 587\nrequire-tls yes\n' "$sock" >"$w/m.conf"
tl_milter_start -r 'starting: socket' "$sock" "$w/err" "$MILTER" -f -c "$w/m.conf" ||
    { ko "the milter did not start"; tl_finish; exit 1; }
pid=$TL_PID

# 1. audit-log turned on by a reload
sed -i "1i audit-log $w/a1.jsonl" "$w/m.conf"
hup 'SIGHUP: configuration'
r=$(session)
wait_records "$w/a1.jsonl" 1
if [ "$r" = REFUSED ] && [ "$(records "$w/a1.jsonl")" -eq 1 ] &&
    grep -q "SIGHUP: audit log $w/a1.jsonl opened" "$w/err" &&
    grep -q 'reloaded; applied: audit-log' "$w/err"; then
	ok "audit-log turned on by SIGHUP: opened at once, the next decision recorded there"
else
	ko "audit-log on by reload: reply $r, $(records "$w/a1.jsonl") records; $(tail -n 3 "$w/err")"
fi

# 2. a new audit-log path continues the chain
sed -i "s|^audit-log .*|audit-log $w/a2.jsonl|" "$w/m.conf"
hup 'SIGHUP: configuration'
r=$(session)
wait_records "$w/a2.jsonl" 1
out=$("$MILTER" --verify-audit "$w/a1.jsonl" "$w/a2.jsonl" 2>&1)
if [ "$r" = REFUSED ] && [ "$(records "$w/a2.jsonl")" -eq 1 ] &&
    [ "$(records "$w/a1.jsonl")" -eq 1 ] && case "$out" in OK:*) true ;; *) false ;; esac; then
	ok "audit-log moved by SIGHUP: the new file continues the chain ($out)"
else
	ko "audit-log moved: reply $r, $(records "$w/a2.jsonl") records in the new file; verify: $out"
fi

# 3. keys that need a restart: named in a warning; the running value stays
sed -i "s|^socket .*|socket inet:1@127.0.0.1|" "$w/m.conf"
sed -i "1i socket-mode 0600\nsyslog-facility local3" "$w/m.conf"
hup 'needs* a restart'
r=$(session)
if grep -q "SIGHUP: socket, socket-mode changed in $w/m.conf but need a restart; the running value stays" "$w/err" &&
    grep -q 'reloaded; applied: syslog-facility' "$w/err" && [ "$r" = REFUSED ]; then
	ok "socket and socket-mode changed: warned by name (restart needed), still served on the old socket; syslog-facility applied"
else
	ko "restart-only keys: reply $r; $(grep SIGHUP "$w/err" | tail -n 3)"
fi

# 4. a broken file: refused, every error listed, the running policy stays
printf 'syslog maybe\nbogus 1\n[listener submission]\nport 587\nrequire-tls yes\n' >"$w/m.conf"
hup 'reload refused'
r=$(session)
if grep -q "reload refused.*$w/m.conf:1: syslog: found 'maybe'" "$w/err" &&
    grep -q "SIGHUP: also: $w/m.conf:2: unknown key 'bogus'" "$w/err" && [ "$r" = REFUSED ]; then
	ok "broken file: refused with both errors listed, the running policy stays"
else
	ko "broken reload: reply $r; $(grep SIGHUP "$w/err" | tail -n 3)"
fi

tl_milter_stop "$pid" >"$w/stop.why" || ko "stop: $(cat "$w/stop.why")"
pid=""

# 5. the logs as a shell glob gives them (the stage files included) to
# --simulate --json: standard output stays one JSON document
"$MILTER" --simulate --json "$w"/a*.jsonl* >"$w/sim.json" 2>"$w/sim.err"
rc=$?
if [ $rc -eq 0 ] && python3 -m json.tool "$w/sim.json" >/dev/null 2>&1 &&
    grep -q 'stage file, not a log' "$w/sim.err"; then
	ok "--simulate --json over a glob with stage files: valid JSON, the skipped stage named on stderr"
else
	ko "--simulate --json over a glob: exit $rc, stdout $(head -c 300 "$w/sim.json"), stderr $(cat "$w/sim.err")"
fi
tl_finish
