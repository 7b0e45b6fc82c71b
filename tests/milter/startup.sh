#!/bin/sh
# startup.sh - messages never vanish: every setting that cannot work stops
# the start with a message on stderr naming it, a non-zero exit, and
# nothing left running (started in the background, as an admin does,
# the check happens before detaching); log-file receives the decision lines
# with a time stamp and is reopened by SIGUSR1.  Needs root.  Ends with
# "N passed, N failed".
set -u
: "${MILTER:=$(dirname "$0")/../../milter/tlspolicy-milter}"
. "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this test needs root"; echo "0 passed, 1 failed"; exit 1
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-start.XXXXXX")
chmod 755 "$w"
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; rm -rf "$w"' EXIT
mkdir "$w/log" "$w/run" && chown nobody:nogroup "$w/log" "$w/run"

# running CONF - some process runs with CONF on its command line.
running() {
	for _c in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$_c"; } 2>/dev/null | grep -qF -- "$1" && return 0
	done
	return 1
}
# fails LABEL PATTERN LINE... - a config of LINEs (plus userid nobody,
# unless a LINE sets userid) must
# make a background start fail, naming PATTERN on stderr, leaving nothing.
fails() {
	_label=$1 _pat=$2
	shift 2
	_conf="$w/$(echo "$_label" | tr -c 'a-z0-9' _).conf"
	{
		case " $* " in *" userid "*|*"userid "*) ;; *) echo "userid nobody" ;; esac
		echo "syslog no"
		for _l in "$@"; do echo "$_l"; done
	} >"$_conf"
	_out=$("$MILTER" -c "$_conf" 2>&1 </dev/null)
	_rc=$?
	if [ $_rc -ne 0 ] && echo "$_out" | grep -qF -- "$_pat" && ! running "$_conf"; then
		ok "$_label: exit $_rc, stderr names it, nothing left running"
	else
		ko "$_label: exit $_rc, running: $(running "$_conf" && echo yes || echo no), stderr: $_out"
	fi
}
sock="socket unix:$w/sock/m.sock"
fails "pid file in a missing directory" "$w/nodir/m.pid: pid file" "$sock" "pid-file $w/nodir/m.pid"
fails "audit log in a missing directory" "$w/nodir/audit.jsonl" "$sock" "audit-log $w/nodir/audit.jsonl"
fails "audit log in a directory the user cannot write" "$w/audit.jsonl" "$sock" "audit-log $w/audit.jsonl"
fails "log file in a missing directory" "$w/nodir/m.log: cannot open the log file" "$sock" "log-file $w/nodir/m.log"
fails "socket in a missing directory tree" "$w/no: No such file" "socket unix:$w/no/deep/m.sock"
fails "missing audit key file" "$w/no.key" "$sock" "audit-log $w/log/audit.jsonl" "audit-key-file $w/no.key"
fails "unknown user" "userid nosuchuser" "$sock" "userid nosuchuser"
fails "unknown socket group" "group nosuchgroup" "$sock" "socket-group nosuchgroup"

# log-file: decision lines with a time stamp; SIGUSR1 reopens it
printf 'userid nobody\nsyslog no\n%s\npid-file %s\nlog-file %s\n[listener submission]\nport 587\nrequire-tls yes\n' \
    "$sock" "$w/run/m.pid" "$w/log/m.log" >"$w/lf.conf"
"$MILTER" -c "$w/lf.conf" </dev/null
i=0
while [ ! -s "$w/run/m.pid" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
pid=$(cat "$w/run/m.pid" 2>/dev/null)
cat >"$w/s.lua" <<LUA
conn = mt.connect("unix:$w/sock/m.sock", 40, 0.1)
assert(conn ~= nil, "connect")
mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", "587")
assert(mt.conninfo(conn, "client", "192.0.2.1") == nil)
assert(mt.helo(conn, "client") == nil)
assert(mt.mailfrom(conn, "<a@example.test>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "not refused")
mt.disconnect(conn)
LUA
"$MILTERTEST" -s "$w/s.lua" >/dev/null 2>&1
i=0
until grep -q 'outcome=reject' "$w/log/m.log" 2>/dev/null || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
if grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z tlspolicy-milter\[[0-9]+\]: notice: .* rule=require-tls .*outcome=reject' "$w/log/m.log"; then
	ok "log-file: the decision line with a UTC time stamp, at notice"
else
	ko "log-file: $(cat "$w/log/m.log" 2>&1)"
fi
mv "$w/log/m.log" "$w/log/m.log.1"
kill -USR1 "$pid"
i=0
until [ -e "$w/log/m.log" ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
"$MILTERTEST" -s "$w/s.lua" >/dev/null 2>&1
i=0
until grep -q 'outcome=reject' "$w/log/m.log" 2>/dev/null || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
if [ "$(grep -c 'outcome=reject' "$w/log/m.log" 2>/dev/null)" = 1 ] &&
    [ "$(grep -c 'outcome=reject' "$w/log/m.log.1")" = 1 ] &&
    [ "$(stat -c %U "$w/log/m.log")" = nobody ]; then
	ok "log-file reopened by SIGUSR1: the next decision in the new file (owned by the service user)"
else
	ko "log-file reopen: new $(cat "$w/log/m.log" 2>&1); old $(grep -c outcome "$w/log/m.log.1")"
fi
tl_milter_stop "$pid" >"$w/stop.why" || ko "stop: $(cat "$w/stop.why")"
pid=""

tl_finish
