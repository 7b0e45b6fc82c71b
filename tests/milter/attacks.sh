#!/bin/sh
# attacks.sh - least privilege, tried as an attacker would: the service
# user (nobody here) plants links, swaps and writable files, then root
# starts the milter.  Every victim is a root-owned 0600 file (or a path in
# a root-only directory) whose content, owner, mode and link count are
# recorded first and compared afterwards; the milter must refuse to start
# with a message naming the path, or start safely.  Also: who may connect
# to the access-controlled socket (a local user gets EACCES, the MTA's
# group gets in), and a reload with a relative -c after detaching.
# Needs root.  Ends with "N passed, N failed".
set -u
: "${MILTER:=$(dirname "$0")/../../milter/tlspolicy-milter}"
. "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this test needs root (it plants attacks as another user)"
	echo "0 passed, 1 failed"
	exit 1
fi
MILTER=$(cd "$(dirname "$MILTER")" && pwd)/$(basename "$MILTER")
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-attack.XXXXXX")
chmod 755 "$w"
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	rm -rf "$w"
}
trap cleanup EXIT
# The system's Python: another user may not be able to run one in root's home.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# victim NAME - a root-owned 0600 file with known content; prints its path.
victim() {
	mkdir -p "$w/victims" && chmod 755 "$w/victims"
	printf 'secret of %s\n' "$1" >"$w/victims/$1"
	chmod 600 "$w/victims/$1"
	echo "$w/victims/$1"
}
# snap FILE - what must not change: content hash, owner, group, mode, links.
snap() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		echo "$(sha256sum <"$1" | cut -c1-64) $(stat -c '%u %g %a %h' "$1")"
	else
		echo absent
	fi
}
# fresh DIR - a log directory of the service user's.
fresh() {
	rm -rf "$1" && mkdir -p "$1" && chown nobody:nogroup "$1" && chmod 750 "$1"
}
# start CONF [ARGS] - the milter in the foreground as root, in the
# background of this script; waits until it says "starting" or exits
# (at most 20 s).  Sets mpid, mrc ("" while it runs) and mout.
start() {
	_conf=$1
	shift
	rm -f "$w/out"	# so the wait below never reads the last run's lines
	"$MILTER" -f -c "$_conf" "$@" >"$w/out" 2>&1 &
	mpid=$!
	pids="$pids $mpid"
	mrc=""
	_i=0
	while [ $_i -lt 200 ]; do
		if ! kill -0 "$mpid" 2>/dev/null; then
			wait "$mpid"
			mrc=$?
			break
		fi
		grep -q 'starting: socket' "$w/out" 2>/dev/null && break
		_i=$((_i + 1))
		sleep 0.1
	done
	mout=$(cat "$w/out")
}
# stop - the started milter by its pid (tl_milter_stop); a SIGKILL fails.
stop() {
	[ -n "$mrc" ] && return 0
	tl_milter_stop "$mpid" >"$w/stop.why" || ko "stop: $(cat "$w/stop.why")"
}
# session SOCKET - one MAIL on port 587 in plaintext: REFUSED, ACCEPTED, ERROR.
session() { tl_mail "$1" "$w"; }
# conf FILE [LINES...] - a root-owned 0644 config with userid nobody.
conf() {
	_f=$1
	shift
	{
		echo "userid nobody:nogroup"
		echo "syslog no"
		for l in "$@"; do echo "$l"; done
	} >"$_f"
	chmod 644 "$_f"
}
# unchanged WHAT BEFORE AFTER - the verdict on one victim.
unchanged() {
	if [ "$2" = "$3" ]; then
		return 0
	fi
	echo "  $1 changed: before '$2', after '$3'"
	return 1
}
# refused_or_safe LABEL PATTERN - the milter refused naming PATTERN, or runs.
refused_naming() {
	if [ -n "$mrc" ] && [ "$mrc" -ne 0 ] && echo "$mout" | grep -qF -- "$2"; then
		return 0
	fi
	echo "  exit '${mrc:-running}', output: $mout"
	return 1
}

mkdir -p "$w/sock" && chmod 755 "$w/sock"	# root-only socket directory

# 1a. audit.jsonl -> a root file: root would open (and chown) it
fresh "$w/log"
v=$(victim audit-target); before=$(snap "$v")
as_nobody ln -s "$v" "$w/log/audit.jsonl"
conf "$w/a1.conf" "socket unix:$w/sock/m.sock" "audit-log $w/log/audit.jsonl"
start "$w/a1.conf"; stop
if unchanged "$v" "$before" "$(snap "$v")" &&
    refused_naming x "$w/log/audit.jsonl"; then
	ok "1a. audit.jsonl linked to a root file: refused, naming it; the file unchanged"
else
	ko "1a. audit.jsonl linked to a root file"
fi

# 1b. audit.jsonl.stage -> a new file in a root-only directory
fresh "$w/log"
mkdir -p "$w/rootonly" && chmod 755 "$w/rootonly"
as_nobody ln -s "$w/rootonly/ld.so.preload" "$w/log/audit.jsonl.stage"
start "$w/a1.conf"; stop
if [ ! -e "$w/rootonly/ld.so.preload" ] && refused_naming x "$w/log/audit.jsonl"; then
	ok "1b. stage linked into a root-only directory: refused; nothing created there"
else
	ko "1b. stage link: $(ls -l "$w/rootonly")"
fi

# 1c. stage.orphan -> a root file, with a crafted stage of records that
# do not continue the log (so recovery copies them to the orphan file)
for run in a b; do
	fresh "$w/src-$run"
	conf "$w/src-$run.conf" "socket unix:$w/sock/src.sock" \
	    "audit-log $w/src-$run/audit.jsonl" "[listener submission]" \
	    "port 587" "require-tls yes"
	start "$w/src-$run.conf"
	session "unix:$w/sock/src.sock" >/dev/null
	stop
done
fresh "$w/log"
cp "$w/src-b/audit.jsonl" "$w/log/audit.jsonl"
chown nobody:nogroup "$w/log/audit.jsonl"
as_nobody "$PY" - "$w/src-a/audit.jsonl" "$w/log/audit.jsonl.stage" <<'PY'
import struct, sys
lines = open(sys.argv[1], "rb").read()
size = 1024 * 1024
hdr = b"tlspolicy-stage\n" + struct.pack("<QQQ", 1, size, 0)
ring = (lines + b"\0").ljust(size, b"\0")
with open(sys.argv[2], "wb") as f:
    f.write(hdr.ljust(4096, b"\0") + ring)
PY
v=$(victim authorized_keys); before=$(snap "$v")
as_nobody ln -s "$v" "$w/log/audit.jsonl.stage.orphan"
conf "$w/a1c.conf" "socket unix:$w/sock/m.sock" "audit-log $w/log/audit.jsonl"
start "$w/a1c.conf"; stop
if [ -s "$w/src-a/audit.jsonl" ] && unchanged "$v" "$before" "$(snap "$v")" &&
    refused_naming x "$w/log/audit.jsonl"; then
	ok "1c. orphan file linked to a root file: refused; the file unchanged"
else
	ko "1c. orphan link (source log: $(wc -l <"$w/src-a/audit.jsonl" 2>&1) lines; exit '${mrc:-running}': $mout)"
fi

# 1d. a stage line with a chain tail that links and a hash that matches
# (anyone can compute an unkeyed one) but that is not a record: refused,
# named, nothing appended, the stage left as it was
fresh "$w/log"
cp "$w/src-b/audit.jsonl" "$w/log/audit.jsonl"
chown nobody:nogroup "$w/log/audit.jsonl"
as_nobody "$PY" - "$w/log/audit.jsonl" "$w/log/audit.jsonl.stage" <<'PY'
import hashlib, json, struct, sys
head = json.loads(open(sys.argv[1], "rb").read().splitlines()[-1])["hash"]
x = b'{"v":2,"x":]]not a record,"prev":"' + head.encode() + b'"'
line = x + b',"hash":"' + hashlib.sha256(x + b"}").hexdigest().encode() + b'"}\n'
size = 1024 * 1024
hdr = b"tlspolicy-stage\n" + struct.pack("<QQQ", 1, size, 0)
with open(sys.argv[2], "wb") as f:
    f.write(hdr.ljust(4096, b"\0") + (line + b"\0").ljust(size, b"\0"))
PY
log_before=$(snap "$w/log/audit.jsonl"); stage_before=$(snap "$w/log/audit.jsonl.stage")
start "$w/a1c.conf"; stop
if unchanged log "$log_before" "$(snap "$w/log/audit.jsonl")" &&
    unchanged stage "$stage_before" "$(snap "$w/log/audit.jsonl.stage")" &&
    refused_naming x "is not a JSON record"; then
	ok "1d. a forged stage line that is not a record: refused, named; log and stage unchanged"
else
	ko "1d. forged stage line"
fi

# 2. pid file -> a root file (the pid file's directory is the user's)
fresh "$w/run"
v=$(victim pid-target); before=$(snap "$v")
as_nobody ln -s "$v" "$w/run/m.pid"
conf "$w/a2.conf" "socket unix:$w/sock/m.sock" "pid-file $w/run/m.pid"
start "$w/a2.conf"; stop
if unchanged "$v" "$before" "$(snap "$v")" && refused_naming x "$w/run/m.pid"; then
	ok "2. pid file linked to a root file: refused, naming it; the file unchanged"
else
	ko "2. pid file link"
fi

# 3. socket directory writable by the service user, with a loop swapping
# a link to a root file in at the socket's name while root starts
fresh "$w/usersock"
chmod 755 "$w/usersock"
v=$(victim socket-target); before=$(snap "$v")
conf "$w/a3.conf" "socket unix:$w/usersock/m.sock" "socket-mode 0666"
as_nobody "$PY" - "$w/usersock" "$v" <<'PY' &
import os, sys, time
d, victim = sys.argv[1], sys.argv[2]
end = time.monotonic() + 8
n = 0
while time.monotonic() < end and n < 2000000:
    try:
        os.symlink(victim, d + "/tmp")
        os.rename(d + "/tmp", d + "/m.sock")
    except OSError:
        try:
            os.unlink(d + "/tmp")
        except OSError:
            pass
    n += 1
PY
racer=$!
pids="$pids $racer"
start "$w/a3.conf"; stop
wait "$racer" 2>/dev/null
if unchanged "$v" "$before" "$(snap "$v")" && refused_naming x "$w/usersock"; then
	ok "3. socket directory writable by the user (links swapped in meanwhile): refused, naming it; the file unchanged"
else
	ko "3. socket race"
fi

# 4. config file writable by the service user, pointing root at a file
v=$(victim config-target); before=$(snap "$v")
conf "$w/a4.conf" "socket unix:$w/sock/m.sock" "audit-log $v"
chown nobody "$w/a4.conf"
start "$w/a4.conf"; stop
if unchanged "$v" "$before" "$(snap "$v")" && refused_naming x "$w/a4.conf: config file is owned by uid $(id -u nobody) with mode 0644"; then
	ok "4a. config owned by the user: refused with path, owner and mode"
else
	ko "4a. writable config"
fi
mkdir -p "$w/userconf" && chown nobody "$w/userconf"
conf "$w/userconf/a4.conf" "socket unix:$w/sock/m.sock" "audit-log $v"
start "$w/userconf/a4.conf"; stop
if unchanged "$v" "$before" "$(snap "$v")" && refused_naming x "$w/userconf: directory above it is owned by uid"; then
	ok "4b. config in a directory of the user's: refused, naming the directory"
else
	ko "4b. config directory"
fi
printf 'k3y\n' >"$w/key" && chmod 640 "$w/key" && chgrp nogroup "$w/key" && chmod 660 "$w/key"
fresh "$w/log"
conf "$w/a4c.conf" "socket unix:$w/sock/m.sock" "audit-log $w/log/audit.jsonl" "audit-key-file $w/key"
start "$w/a4c.conf"; stop
if refused_naming x "$w/key: audit key file is owned by uid 0 with mode 0660"; then
	ok "4c. key file writable by a group: refused with path and mode"
else
	ko "4c. writable key file"
fi

# 4d. a link in a directory of the user's, pointing at a root-owned
# config (which passes by itself): the user could point it elsewhere
mkdir -p "$w/rootconf" "$w/userlinks" && chown nobody "$w/userlinks"
conf "$w/rootconf/real.conf" "socket unix:$w/sock/m.sock"
as_nobody ln -s "$w/rootconf/real.conf" "$w/userlinks/m.conf"
start "$w/userlinks/m.conf"; stop
if refused_naming x "$w/userlinks: directory above it is owned by uid $(id -u nobody)"; then
	ok "4d. config reached through a link in the user's directory: refused, naming the directory"
else
	ko "4d. config through a user's link"
fi

# 3b. the socket's directory reached through a link the user could swap
mkdir -p "$w/rootsock" && chmod 755 "$w/rootsock"
as_nobody ln -s "$w/rootsock" "$w/userlinks/sock"
conf "$w/a3b.conf" "socket unix:$w/userlinks/sock/m.sock"
start "$w/a3b.conf"; stop
if [ ! -e "$w/rootsock/m.sock" ] &&
    refused_naming x "$w/userlinks: directory above the socket is owned by uid"; then
	ok "3b. socket directory reached through a link in the user's directory: refused; nothing bound there"
else
	ko "3b. socket through a user's link: $(ls "$w/rootsock")"
fi

# 5. userid root without allow-root
printf 'userid root\nsyslog no\nsocket unix:%s/sock/m.sock\n' "$w" >"$w/a5.conf"
start "$w/a5.conf"; stop
if refused_naming x "refusing to run as root"; then
	ok "5a. userid root without allow-root: refused"
else
	ko "5a. userid root"
fi
conf "$w/a5b.conf" "socket unix:$w/sock/m.sock"
start "$w/a5b.conf" -u root; stop
if refused_naming x "refusing to run as root"; then
	ok "5b. -u root without -R: refused"
else
	ko "5b. -u root"
fi

# 7a. a config only root can read: refused at start, not at every reload
conf "$w/a7.conf" "socket unix:$w/sock/m.sock"
chmod 600 "$w/a7.conf"
start "$w/a7.conf"; stop
if refused_naming x "$w/a7.conf: the config file is not readable by uid $(id -u nobody)"; then
	ok "7a. config unreadable by the service user: refused at start"
else
	ko "7a. root-only config"
fi

# 7b. relative -c, detached (chdir /): SIGHUP reads the same file
mkdir -p "$w/rel"
conf "$w/rel/m.conf" "socket unix:$w/sock/rel.sock" "pid-file $w/rel/m.pid"
(cd "$w/rel" && "$MILTER" -c m.conf)
i=0
while [ ! -s "$w/rel/m.pid" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.1; done
rpid=$(cat "$w/rel/m.pid" 2>/dev/null)
pids="$pids $rpid"
r1=$(session "unix:$w/sock/rel.sock")
printf '[listener submission]\nport 587\nrequire-tls yes\n' >>"$w/rel/m.conf"
kill -HUP "$rpid" 2>/dev/null
i=0
r2=$(session "unix:$w/sock/rel.sock")
while [ "$r2" != REFUSED ] && [ $i -lt 50 ]; do
	i=$((i + 1)); sleep 0.1; r2=$(session "unix:$w/sock/rel.sock")
done
kill -TERM "$rpid" 2>/dev/null
if [ "$r1" = ACCEPTED ] && [ "$r2" = REFUSED ]; then
	ok "7b. relative -c in the background: SIGHUP applies the edited file"
else
	ko "7b. relative -c reload: before '$r1', after '$r2'"
fi

# 6. the packaged socket: only the MTA's group can connect
mta_group=postfix
getent group "$mta_group" >/dev/null || mta_group=mail
mta_user=$(getent passwd postfix >/dev/null && echo postfix || echo mail)
mkdir -p "$w/spool" && chmod 755 "$w/spool"
conf "$w/a6.conf" "socket unix:$w/spool/tlspolicy-milter/tlspolicy-milter.sock" \
    "socket-mode 0660" "socket-group $mta_group"
start "$w/a6.conf"
sock=$w/spool/tlspolicy-milter/tlspolicy-milter.sock
probe='import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print(e.strerror)'
as_local=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" -c "$probe" "$sock")
as_www=$(setpriv --reuid=www-data --regid=www-data --clear-groups "$PY" -c "$probe" "$sock")
as_mta=$(setpriv --reuid="$mta_user" --regid="$mta_group" --init-groups "$PY" -c "$probe" "$sock")
perm=$(stat -c '%a %G' "$sock" 2>/dev/null)
dperm=$(stat -c '%a %U %G' "$w/spool/tlspolicy-milter" 2>/dev/null)
stop
if [ "$as_local" = "Permission denied" ] && [ "$as_www" = "Permission denied" ] &&
    [ "$as_mta" = connected ] && [ "$perm" = "660 $mta_group" ] &&
    [ "$dperm" = "750 root $mta_group" ]; then
	ok "6. packaged socket ($dperm directory, $perm socket): nobody and www-data get EACCES, $mta_user connects"
else
	ko "6. socket access: nobody '$as_local', www-data '$as_www', $mta_user '$as_mta', socket '$perm', directory '$dperm'; $mout"
fi

# 9. an outside SIGUSR2 (the daemon's private "libmilter returned" signal)
# is ignored: the daemon goes on handling signals (a SIGHUP reloads)
conf "$w/a9.conf" "socket unix:$w/sock/m.sock"
start "$w/a9.conf"
kill -USR2 "$mpid" 2>/dev/null
i=0
until grep -q 'SIGUSR2 from pid' "$w/out" || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
kill -HUP "$mpid" 2>/dev/null
i=0
until grep -q 'SIGHUP: configuration .* reloaded' "$w/out" || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
if kill -0 "$mpid" 2>/dev/null && grep -q 'SIGUSR2 from pid .* ignored' "$w/out" &&
    grep -q 'SIGHUP: configuration .* reloaded' "$w/out" &&
    [ "$(session "unix:$w/sock/m.sock")" = ACCEPTED ]; then
	ok "9. kill -USR2 from outside is ignored (logged); SIGHUP still reloads, sessions still decided"
else
	ko "9. outside SIGUSR2: $(cat "$w/out")"
fi
stop

# 8. the inet warning, with -n and at start
out=$("$MILTER" -n -p inet:8895@127.0.0.1 2>&1 >/dev/null)
if echo "$out" | grep -q 'any local user can connect'; then
	ok "8. -n warns that any local user can connect to an inet socket"
else
	ko "8. no inet warning from -n: $out"
fi

tl_finish
