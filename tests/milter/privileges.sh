#!/bin/sh
# privileges.sh - the daemon as an admin deploys it: refuses to run as
# root without userid; in the background with a pid file; drops to the
# configured user; a unix socket with the configured mode and group;
# decides through that socket; stops on SIGTERM by its pid; a stale socket
# is replaced, a non-socket file at the path is left alone.
# Ends with "N passed, N failed".
set -u
: "${MILTER:=$(dirname "$0")/../../milter/tlspolicy-milter}"
. "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this test needs root (it checks the drop to another user)"
	echo "0 passed, 1 failed"
	exit 1
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-priv.XXXXXX")
chmod 755 "$w"
# The audit log lives in a directory of the service user's: the milter
# opens it after dropping privileges, as that user.
mkdir "$w/log" && chown nobody:nogroup "$w/log" && chmod 750 "$w/log"
# The pid file's directory is the user's too (systemd's RuntimeDirectory),
# so the milter can remove its pid file at exit.
mkdir "$w/run" && chown nobody:nogroup "$w/run" && chmod 755 "$w/run"
nobody_uid=$(id -u nobody)
nogroup_gid=$(getent group nogroup | cut -d: -f3)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT

# 1. root without userid
printf 'syslog no\n' >"$w/root.conf"
out=$("$MILTER" -f -c "$w/root.conf" -p "unix:$w/x.sock" 2>&1)
rc=$?
if [ $rc -eq 78 ] && echo "$out" | grep -q 'refusing to run as root'; then
	ok "as root without userid: refused (exit 78) with the fix named"
else
	ko "as root without userid: exit $rc: $out"
fi

# 2. background, pid file, userid, socket mode
cat >"$w/m.conf" <<CONF
socket unix:$w/milter.sock
socket-mode 0660
userid nobody:nogroup
pid-file $w/run/milter.pid
syslog no
audit-log $w/log/audit.jsonl
[listener submission]
port 587
require-tls yes
CONF
: >"$w/stale"
"$MILTER" -c "$w/m.conf"
rc=$?
i=0
while [ ! -s "$w/run/milter.pid" ] || [ ! -S "$w/milter.sock" ]; do
	i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.1
done
pid=$(cat "$w/run/milter.pid" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "starts in the background (exit 0) and writes its pid file ($pid)"
else
	ko "background start: exit $rc, pid '$pid'"
fi
sleep 0.2
uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null)
gid=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null)
groups=$(awk '/^Groups:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
if [ "$uid" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] &&
    [ "$gid" = "$nogroup_gid $nogroup_gid $nogroup_gid $nogroup_gid" ] &&
    [ "$groups" = "$nogroup_gid" ]; then
	ok "runs as nobody:nogroup (real, effective, saved and fs ids; one group)"
else
	ko "ids after start: Uid $uid, Gid $gid, Groups $groups"
fi
caps=$(awk '/^Cap(Inh|Prm|Eff|Amb):/ { printf "%s%s", sep, $2; sep = " " }' "/proc/$pid/status" 2>/dev/null)
if [ "$caps" = "0000000000000000 0000000000000000 0000000000000000 0000000000000000" ]; then
	ok "no capabilities after the drop (inheritable, permitted, effective, ambient all empty)"
else
	ko "capabilities after the drop: $caps"
fi
perm=$(stat -c '%A %U %G' "$w/milter.sock" 2>/dev/null)
if [ "$perm" = "srw-rw---- nobody nogroup" ]; then
	ok "unix socket: mode 0660, owner nobody, group nogroup"
else
	ko "unix socket is '$perm'"
fi
if [ "$(stat -c %U "$w/log/audit.jsonl" 2>/dev/null)" = nobody ] &&
    [ "$(stat -c %U "$w/log/audit.jsonl.stage" 2>/dev/null)" = nobody ]; then
	ok "audit log and its stage created by nobody (reopen after rotation, restart as nobody work)"
else
	ko "audit log owner $(stat -c %U "$w/log/audit.jsonl" 2>&1), stage owner $(stat -c %U "$w/log/audit.jsonl.stage" 2>&1)"
fi
cat >"$w/s.lua" <<LUA
conn = mt.connect("unix:$w/milter.sock", 20, 0.1)
assert(conn ~= nil, "connect")
mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", "587")
assert(mt.conninfo(conn, "client", "192.0.2.1") == nil)
assert(mt.helo(conn, "client") == nil)
assert(mt.mailfrom(conn, "<a@example.test>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "not refused")
mt.disconnect(conn)
LUA
decisions() { grep -v '"type":"policy"' "$w/log/audit.jsonl" | grep -vc '"type":"session"'; }
"$MILTERTEST" -s "$w/s.lua" >"$w/mt.out" 2>&1; rc=$?
i=0	# the record is staged before the reply, in the file within a second
while [ "$(decisions)" -lt 1 ] && [ $i -lt 30 ]; do i=$((i + 1)); sleep 0.1; done
if [ $rc -eq 0 ] && [ "$(decisions)" -eq 1 ]; then
	ok "decides through the unix socket as nobody (plaintext refused, one record)"
else
	ko "session over the unix socket: $(cat "$w/mt.out")"
fi

# 3. a second instance must not steal a live socket, nor share the stage
sed "s|^socket .*|socket unix:$w/milter2.sock|" "$w/m.conf" >"$w/same-log.conf"
out=$("$MILTER" -f -c "$w/same-log.conf" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q 'stage file is in use by another process'; then
	ok "a second instance on the same audit log refuses: its stage file is in use"
else
	ko "second instance, same audit log: $out"
fi
sed "s|^audit-log .*|audit-log $w/log/other.jsonl|" "$w/m.conf" >"$w/other.conf"
out=$("$MILTER" -f -c "$w/other.conf" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q 'another process listens'; then
	ok "a second instance refuses a socket that is in use"
else
	ko "second instance: $out"
fi

# 4. SIGTERM by pid: stops promptly (libmilter's listener polls with a
# 5 s timeout; the milter wakes it), and the pid file is removed
echo "$pid" >"$w/old.pid"
t0=$(date +%s%N)
kill -TERM "$pid"
i=0
while tl_alive "$pid"; do
	i=$((i + 1)); [ $i -lt 300 ] || break; sleep 0.01
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if ! tl_alive "$pid" && [ $ms -lt 2000 ] && [ ! -e "$w/run/milter.pid" ]; then
	ok "SIGTERM on an idle daemon stops it in $ms ms (target 1 s), pid file removed"
	pid=""
else
	ko "SIGTERM: still running '$(tl_alive "$pid" && echo yes)', $ms ms, pid file: $(ls "$w/run")"
	kill -TERM "$pid" 2>/dev/null
fi

# 5. stale socket replaced; a regular file left alone
if [ -S "$w/milter.sock" ] || [ ! -e "$w/milter.sock" ]; then
	old=$(cat "$w/old.pid")
	"$MILTER" -c "$w/m.conf"
	i=0
	while [ ! -s "$w/run/milter.pid" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
	pid=$(cat "$w/run/milter.pid")
	if [ "$pid" != "$old" ] && kill -0 "$pid" 2>/dev/null && [ -S "$w/milter.sock" ]; then
		ok "restart over a stale socket file"
	else
		ko "restart over a stale socket"
	fi
	tl_milter_stop "$pid" >"$w/stop.why" || ko "stop after the restart: $(cat "$w/stop.why")"
	pid=""
fi
sed -i "s#^socket .*#socket unix:$w/stale#" "$w/m.conf"
out=$("$MILTER" -f -c "$w/m.conf" 2>&1)
if [ $? -ne 0 ] && [ -f "$w/stale" ] && echo "$out" | grep -q 'is not a socket'; then
	ok "a regular file at the socket path is not removed"
else
	ko "regular file at the socket path: $out"
fi

tl_finish
