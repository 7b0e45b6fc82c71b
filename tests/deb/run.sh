#!/bin/sh
# shellcheck disable=SC2317 # functions here are called from tests/scenarios/lib.sh
# run.sh - the Debian package, as an admin meets it.  Run as root on a
# Debian machine where the package is not installed:
#
#   sudo sh tests/deb/run.sh
#
# 1. clones this source tree (git clone of the checked-out branch) into a
#    scratch directory and runs, there, the commands of README's "Install
#    on Debian" section as they are written: they build the .deb from the
#    dist tarball (make deb) and install it with apt-get;
# 2. lintian on the .deb: no error, no warning;
# 3. the service user, the owner and mode of every directory and file the
#    package or its scripts make, the conffiles, the enabled unit, the
#    snippets and docs under /usr/share/doc/tlspolicy-milter/;
# 4. tlspolicy-milter -n on the installed config prints the built-in
#    policy, with the package's socket, user, pid file and audit log;
#    systemd-analyze security --offline=true rates the installed unit "OK"
#    or better;
# 5. starts the daemon as root exactly as the unit's ExecStartPre and
#    ExecStart say (systemd need not be PID 1), and checks the socket
#    (owner, mode, reachable by group postfix only) and the privilege drop;
# 6. a private Postfix (tests/postfix/lab.sh) with smtpd chrooted in its
#    queue directory, the package's socket directory bound into it, and
#    smtpd_milters taken from the installed main.cf snippet, plays the
#    standard scenarios (tests/scenarios/matrix, the built-in policy's
#    rows) with swaks;
# 7. logrotate -f with the installed logrotate file: the log is rotated,
#    the daemon writes on in the new file, and --verify-audit checks the
#    chain across both; ExecReload (SIGHUP) keeps it serving;
# 8. an upgrade (the same package with a higher version, then a restart)
#    keeps the changed config, the user, the directories and the audit
#    log, and the chain goes on;
# 9. SIGTERM ends the daemon with status 0, its pid file removed; every
#    system call the daemon makes (start, sessions, SIGHUP, SIGUSR1,
#    SIGTERM; seen with strace) is one the unit's SystemCallFilter allows;
#    apt-get purge: every file of the package and every directory its
#    scripts made is gone (listed), the user stays.
#
# The machine is restored even on failure or interrupt (trap): the daemon
# and Postfix are stopped by their PIDs, the bind mount is undone, the
# package purged, packages README's apt-get marked manually installed are
# marked automatic again, the scratch directory removed (kept, with its
# path printed, after a failure).  The service user stays, as after any
# purge.  Prints PASS/FAIL lines and "N passed, N
# failed"; exit status 1 on any failure.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SCENARIO_LIB="$top/tests/scenarios/lib.sh"
# shellcheck source=SCRIPTDIR/../scenarios/lib.sh
. "$SCENARIO_LIB"
# shellcheck source=SCRIPTDIR/../postfix/lab.sh
. "$top/tests/postfix/lab.sh"

PKG=tlspolicy-milter
SVC_USER=tlspolicy-milter
CONF=/etc/tlspolicy-milter/tlspolicy-milter.conf
SPOOL=/var/spool/postfix/tlspolicy-milter
SOCK=$SPOOL/tlspolicy-milter.sock
RUNDIR=/run/tlspolicy-milter
PIDFILE=$RUNDIR/tlspolicy-milter.pid
LOGDIR=/var/log/tlspolicy-milter
AUDIT=$LOGDIR/audit.jsonl

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-deb.XXXXXX") || exit 1
chmod 755 "$WORK"	# Postfix (user postfix) must reach the lab below it
LAB="$WORK/lab"
MOUNTED=""
MILTER_ERR="$WORK/milter.err"
MILTER_PID=""
INSTALLED_BY_US=""
START_WHY=""
STRACE_PID=""
stop_why=""
out=""
uid=""

# The daemon is started once, as the unit says; the matrix runner's hooks
# do nothing.
milter_start() { :; }
milter_stop() { :; }

# mta_log_check CPORT QUEUED REPLY - see tests/scenarios/lib.sh.
mta_log_check() { lab_session_check "$LAB" "$@"; }

# check PASS-TEXT FAIL-TEXT WHY - pass when WHY is empty.
check() {
	if [ -z "$3" ]; then pass "$1"; else fail "$2" "$3"; fi
}

# unit_line KEY - the command of KEY= in the installed unit, without the
# prefixes systemd allows (-, @, :, +, !).
unit_line() {
	sed -n "s/^$1=//p" "$UNIT" | head -1 | sed 's/^[-@:+!]*//'
}

# daemon_start - ExecStartPre, then ExecStart in the background, as root,
# with the unit's UMask; waits until the daemon listens on the socket.
# Sets MILTER_PID, or START_WHY to why not.
daemon_start() {
	START_WHY=""
	_pre=$(unit_line ExecStartPre)
	_start=$(unit_line ExecStart)
	_umask=$(sed -n 's/^UMask=//p' "$UNIT")
	[ -n "$_start" ] || { START_WHY="the unit has no ExecStart"; return 1; }
	echo "--- ExecStartPre: $_pre" >>"$MILTER_ERR"
	# shellcheck disable=SC2086 # the unit's words, as systemd splits them
	if [ -n "$_pre" ] && ! (set -f; umask "${_umask:-022}"; exec $_pre) >>"$MILTER_ERR" 2>&1 </dev/null; then
		START_WHY="ExecStartPre failed: $(tail -n 3 "$MILTER_ERR")"
		return 1
	fi
	echo "--- ExecStart: $_start" >>"$MILTER_ERR"
	# shellcheck disable=SC2086 # the unit's words, as systemd splits them
	set -f
	tl_milter_start "unix:$SOCK" "$MILTER_ERR" \
	    sh -c 'umask "$1"; shift; exec "$@"' sh "${_umask:-022}" $_start >"$WORK/start.why"
	_rc=$?
	set +f
	[ $_rc -eq 0 ] || { START_WHY=$(cat "$WORK/start.why"); return 1; }
	MILTER_PID=$TL_PID
}

# daemon_stop - the daemon by its PID (tl_milter_stop); print what was
# wrong (killed, exit status not 0, pid file left).
daemon_stop() {
	[ -n "$MILTER_PID" ] || return 0
	tl_milter_stop "$MILTER_PID"
	_rc=$TL_STATUS
	# what systemctl stop would report: a clean exit, no pid file left
	[ $_rc -eq 0 ] || echo "exit status $_rc after SIGTERM$( [ $_rc -gt 128 ] && echo " (signal $((_rc - 128)))")"
	[ ! -e "$PIDFILE" ] || echo "$PIDFILE left behind"
	MILTER_PID=""
}

# expand_set NAME... - system call names, @groups expanded (systemd's
# tables), ":errno" suffixes dropped.
expand_set() {
	for _n in "$@"; do
		case "$_n" in
		@*) systemd-analyze syscall-filter "$_n" 2>/dev/null | sed 's/^ *//' |
		    grep -v -e '^#' -e "^$_n\$" | grep . |
		    while read -r _x; do expand_set "$_x"; done ;;
		*) echo "${_n%%:*}" ;;
		esac
	done
}

# syscall_check - systemd is not PID 1 here, so the unit's
# SystemCallFilter= cannot act; instead the daemon runs once more as
# ExecStart says, under strace, through a start, a session, SIGHUP,
# SIGUSR1 and SIGTERM, and every system call it made must be one the
# unit's filter allows (one outside it would kill the daemon with SIGSYS
# under systemd).
syscall_check() {
	: >"$WORK/sc.allowed"
	sed -n 's/^SystemCallFilter=//p' "$UNIT" >"$WORK/sc.lines"
	while IFS= read -r _line; do
		case "$_line" in
		"~"*)	# shellcheck disable=SC2086
			expand_set ${_line#\~} | sort -u >"$WORK/sc.del"
			comm -23 "$WORK/sc.allowed" "$WORK/sc.del" >"$WORK/sc.tmp" ;;
		*)	# shellcheck disable=SC2086
			{ cat "$WORK/sc.allowed"; expand_set $_line; } | sort -u >"$WORK/sc.tmp" ;;
		esac
		mv "$WORK/sc.tmp" "$WORK/sc.allowed"
	done <"$WORK/sc.lines"
	if [ ! -s "$WORK/sc.allowed" ]; then
		fail "SystemCallFilter" "the unit allows no system call at all (or has no filter)"
		return
	fi
	_start=$(unit_line ExecStart)
	_umask=$(sed -n 's/^UMask=//p' "$UNIT")
	echo "--- under strace: $_start" >>"$MILTER_ERR"
	# shellcheck disable=SC2086
	(set -f; umask "${_umask:-022}"; exec strace -f -qq -o "$WORK/strace.out" $_start) \
	    >>"$MILTER_ERR" 2>&1 </dev/null &
	STRACE_PID=$!
	_i=0
	until MILTER_PID=$(ss -xlpH 2>/dev/null | grep -F "$SOCK " |
	    sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1) && [ -n "$MILTER_PID" ]; do
		_i=$((_i + 1))
		if ! kill -0 "$STRACE_PID" 2>/dev/null || [ $_i -gt 100 ]; then
			fail "SystemCallFilter" "the daemon under strace did not listen: $(tail -n 3 "$MILTER_ERR")"
			kill -TERM "$STRACE_PID" 2>/dev/null
			STRACE_PID=""
			return
		fi
		sleep 0.1
	done
	_row=$(grep '^names.conf|submission, STARTTLS + AUTH PLAIN' "$top/tests/scenarios/matrix" | head -1)
	run_scenario "$_row"
	kill -HUP "$MILTER_PID"
	run_scenario "$_row"
	kill -USR1 "$MILTER_PID"
	run_scenario "$(cat "$WORK/row.mx")"
	kill -TERM "$MILTER_PID"
	_i=0
	while kill -0 "$STRACE_PID" 2>/dev/null && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	kill -TERM "$STRACE_PID" 2>/dev/null
	wait "$STRACE_PID" 2>/dev/null
	STRACE_PID=""
	MILTER_PID=""
	sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p; s/^[0-9]* *<\.\.\. \([a-z_0-9]*\) resumed>.*/\1/p' \
	    "$WORK/strace.out" | sort -u >"$WORK/sc.used"
	_out=$(comm -23 "$WORK/sc.used" "$WORK/sc.allowed" | tr '\n' ' ')
	_n=$(grep -c . "$WORK/sc.used")
	grep -q 'SIGUSR1: audit log reopened' "$MILTER_ERR" || _out="$_out (no 'SIGUSR1: audit log reopened' line)"
	check "SystemCallFilter of the unit allows all $_n system calls the daemon made (start, sessions, SIGHUP, SIGUSR1, SIGTERM; $(grep -c . "$WORK/sc.allowed") allowed)" \
	    "SystemCallFilter" "${_out:+outside the filter: $_out}"
}

pkg_installed() {
	dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed\|config-files'
}

cleanup() {
	daemon_stop >/dev/null
	if [ -n "$STRACE_PID" ]; then
		kill -TERM "$STRACE_PID" 2>/dev/null
		wait "$STRACE_PID" 2>/dev/null
		STRACE_PID=""
	fi
	(lab_stop "$LAB") >/dev/null 2>&1 || true
	if [ -n "$MOUNTED" ]; then
		umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" 2>/dev/null
		MOUNTED=""
	fi
	if [ -n "$INSTALLED_BY_US" ] && pkg_installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >"$WORK/purge-cleanup.out" 2>&1 ||
		    echo "cleanup: apt-get purge $PKG failed: $(tail -n 3 "$WORK/purge-cleanup.out")"
	fi
	# README's apt-get install marks installed build dependencies as
	# manually installed: mark them automatic again
	if [ -f "$WORK/manual.before" ]; then
		apt-mark showmanual 2>/dev/null | sort | comm -13 "$WORK/manual.before" - |
		    grep -vx "$PKG" >"$WORK/manual.new"
		# shellcheck disable=SC2046
		[ -s "$WORK/manual.new" ] && apt-mark auto $(cat "$WORK/manual.new") >/dev/null
		rm -f "$WORK/manual.before"
	fi
}

finish() {
	cleanup
	summary
	trap - EXIT
	# never remove the scratch directory while anything is mounted below it
	if grep -qF " $WORK/" /proc/self/mounts; then
		echo "kept $WORK: something is still mounted below it"
		exit 1
	fi
	if [ "$failed" -eq 0 ]; then
		rm -rf "$WORK"
		exit 0
	fi
	echo "kept $WORK (daemon output: $MILTER_ERR, Postfix log: $LAB/log/maillog)"
	exit 1
}
trap finish EXIT
trap 'exit 1' INT TERM HUP

# stat_is PATH OWNER:GROUP MODE - prints why PATH differs.
stat_is() {
	if [ ! -e "$1" ]; then echo "$1 missing"; return; fi
	_s=$(stat -c '%U:%G %a' "$1")
	[ "$_s" = "$2 $3" ] || echo "$1 is $_s, expected $2 $3"
}

echo "tlspolicy-milter Debian package suite: work directory $WORK"
[ "$(id -u)" = 0 ] || { fail "setup" "run as root (installs and purges the package)"; exit 1; }
for _t in git dpkg-buildpackage dh lintian apt-get postfix swaks jq ss logrotate systemd-analyze strace; do
	command -v "$_t" >/dev/null || fail "setup" "$_t is not installed (sh tests/deps.sh)"
done
pkg_installed && fail "setup" "$PKG is installed already; this suite installs and purges it (apt-get purge $PKG first)"
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || fail "setup" "$top is not a git checkout (the suite clones it)"
getent group postfix >/dev/null || fail "setup" "no group postfix (install postfix)"
[ "$failed" -eq 0 ] || exit 1

# 1. README's "Install on Debian", in a clean clone ##########################
branch=$(git -C "$top" rev-parse --abbrev-ref HEAD)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	echo "note: uncommitted changes in $top are not in the clone"
fi
CLONE="$WORK/clone"
if ! git clone -q --branch "$branch" "$top" "$CLONE" 2>"$WORK/clone.err"; then
	fail "git clone" "$(cat "$WORK/clone.err")"
	exit 1
fi
# The first sh block after the heading, as the reader copies it.
awk '/^## Install on Debian/ { s = 1; next }
     s && /^## / { exit }
     s && /^```sh$/ { b = 1; next }
     b && /^```$/ { exit }
     b { print }' "$CLONE/README.md" >"$WORK/readme.sh"
if [ ! -s "$WORK/readme.sh" ]; then
	fail "README" "no sh block in the section \"Install on Debian\""
	exit 1
fi
echo "    README's commands, run in $CLONE (branch $branch):"
sed 's/^/      /' "$WORK/readme.sh"
apt-mark showmanual | sort >"$WORK/manual.before"
INSTALLED_BY_US=yes	# from here on, the trap purges
if (cd "$CLONE" && DEBIAN_FRONTEND=noninteractive sh -ex "$WORK/readme.sh") \
    >"$WORK/readme.out" 2>&1 </dev/null; then
	pass "README \"Install on Debian\" from a clean clone: built and installed"
else
	fail "README \"Install on Debian\" from a clean clone" "failed; last lines:"
	tail -n 25 "$WORK/readme.out" | sed 's/^/    /'
	exit 1
fi
version=$(cd "$CLONE" && sed -n 's/^PACKAGE_VERSION=.\([^'\'']*\).*/\1/p' configure | head -1)
DEB="$CLONE/${PKG}_${version}_$(dpkg --print-architecture).deb"
check "make deb made $(basename "$DEB") (dpkg-buildpackage -us -uc -b from the dist tarball)" \
    "the .deb" "$([ -f "$DEB" ] || echo "no $DEB: $(ls "$CLONE"/*.deb 2>&1)")"
inst=$(dpkg-query -W -f='${Status} ${Version}' "$PKG" 2>&1)
check "apt-get install ./$(basename "$DEB"): $PKG $version installed" "apt-get install" \
    "$([ "$inst" = "install ok installed $version" ] || echo "dpkg-query says: $inst")"

# 2. lintian #################################################################
lintian --fail-on error,warning "$DEB" >"$WORK/lintian.out" 2>"$WORK/lintian.err"
rc=$?
why=""
[ $rc -eq 0 ] || why="exit status $rc"
grep -E '^[EW]: ' "$WORK/lintian.out" >"$WORK/lintian.ew" && why="$(cat "$WORK/lintian.ew")"
n_over=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/share/lintian/overrides/$PKG 2>/dev/null | grep -c '^[^#]')
check "lintian: no error, no warning ($n_over overrides, $(grep -c '^I: ' "$WORK/lintian.out") info tags)" "lintian" "$why"

# 3. user, directories, files ###############################################
pw=$(getent passwd "$SVC_USER")
why=""
if [ -z "$pw" ]; then
	why="no user $SVC_USER"
else
	uid=$(echo "$pw" | cut -d: -f3)
	home=$(echo "$pw" | cut -d: -f6)
	shell=$(echo "$pw" | cut -d: -f7)
	[ "$uid" -lt 1000 ] || why="uid $uid is not a system uid"
	[ "$home" = /nonexistent ] || why="$why home $home"
	case "$shell" in */nologin|/bin/false) ;; *) why="$why shell $shell" ;; esac
	[ "$(id -gn "$SVC_USER")" = "$SVC_USER" ] || why="$why primary group $(id -gn "$SVC_USER")"
	[ "$(id -Gn "$SVC_USER")" = "$SVC_USER" ] || why="$why groups $(id -Gn "$SVC_USER")"
fi
check "system user $SVC_USER (uid ${uid:-?}, group $SVC_USER only, home /nonexistent, no login shell)" "user" "$why"

UNIT=$(dpkg -L "$PKG" | grep '/systemd/system/tlspolicy-milter.service$' | head -1)
why=""
for spec in \
    "/etc/tlspolicy-milter root:root 755" \
    "$CONF root:root 644" \
    "/etc/logrotate.d/tlspolicy-milter root:root 644" \
    "$RUNDIR $SVC_USER:$SVC_USER 755" \
    "$LOGDIR $SVC_USER:adm 2750" \
    "$SPOOL root:postfix 750" \
    "/usr/sbin/tlspolicy-milter root:root 755" \
    "/usr/bin/tlspolicy-report root:root 755" \
    "${UNIT:-/lib/systemd/system/tlspolicy-milter.service} root:root 644" \
    "/usr/lib/sysusers.d/tlspolicy-milter.conf root:root 644" \
    "/usr/lib/tmpfiles.d/tlspolicy-milter.conf root:root 644"; do
	# shellcheck disable=SC2086
	w=$(stat_is $spec)
	[ -z "$w" ] || why="$why; $w"
	echo "    $(stat -c '%A %U:%G' "${spec%% *}" 2>/dev/null) ${spec%% *}"
done
check "owner and mode of the package's directories and files" "owner and mode" "${why#; }"

conffiles=$(dpkg-query -W -f='${Conffiles}\n' "$PKG" | awk 'NF { print $1 }' | sort | tr '\n' ' ')
check "conffiles: $conffiles" "conffiles" \
    "$([ "$conffiles" = "/etc/logrotate.d/tlspolicy-milter $CONF " ] || echo "got '$conffiles'")"
check "unit enabled (multi-user.target.wants)" "unit enabled" \
    "$([ -L /etc/systemd/system/multi-user.target.wants/tlspolicy-milter.service ] || echo "no symlink in multi-user.target.wants")"
why=""
for f in examples/postfix/main.cf examples/postfix/master.cf \
    examples/sendmail/tlspolicy-milter.mc examples/tlspolicy-milter.conf copyright; do
	[ -f "/usr/share/doc/$PKG/$f" ] || why="$why /usr/share/doc/$PKG/$f"
done
ls "/usr/share/doc/$PKG/" | grep -q 'audit' || ls /usr/share/man/man5/ | grep -q 'tlspolicy-audit' ||
    why="$why (no audit format documentation)"
for m in tlspolicy-milter.8 tlspolicy-milter.conf.5 tlspolicy-report.1; do
	man -w "${m%.*}" >/dev/null 2>&1 || [ -f "/usr/share/man/man${m##*.}/$m.gz" ] || why="$why man $m"
done
check "Postfix and Sendmail snippets, audit format, man pages installed" "docs" "${why:+missing:$why}"

# 4. the config and the unit ################################################
/usr/sbin/tlspolicy-milter -n -c "$CONF" >"$WORK/n.conf" 2>"$WORK/n.conf.err"
rc=$?
/usr/sbin/tlspolicy-milter -n >"$WORK/n.builtin" 2>/dev/null
# the policy part, from "rule order:" on, without the "(built in)" and
# "(line N)" origins
policy() { sed -n '/^rule order:/,$p' "$1" | sed 's/ (built in)//; s/ (line [0-9]*)//'; }
why=""
[ $rc -eq 0 ] || why="exit status $rc: $(tail -n 3 "$WORK/n.conf")"
[ -n "$why" ] || [ "$(tail -n 1 "$WORK/n.conf")" = ok ] || why="does not end with ok"
[ -n "$why" ] || [ ! -s "$WORK/n.conf.err" ] || why="warnings: $(cat "$WORK/n.conf.err")"
[ -n "$why" ] || grep -q '^listener submission' "$WORK/n.builtin" || why="-n without -c printed no policy"
policy "$WORK/n.builtin" >"$WORK/n.builtin.policy"
if [ -z "$why" ] && ! policy "$WORK/n.conf" | diff -u "$WORK/n.builtin.policy" - >"$WORK/n.diff"; then
	why="the policy differs from the built-in one: $(head -20 "$WORK/n.diff")"
fi
for line in "socket unix:$SOCK" "pid-file $PIDFILE" "audit-log $AUDIT"; do
	[ -n "$why" ] || grep -q "^$line\$" "$WORK/n.conf" || why="-n does not show '$line'"
done
[ -n "$why" ] || grep -q "^userid $SVC_USER" "$WORK/n.conf" || why="-n does not show userid $SVC_USER"
check "tlspolicy-milter -n -c $CONF: no warning, the built-in policy ($(policy "$WORK/n.conf" | grep -c .) lines), socket, userid, pid file, audit log as packaged" \
    "tlspolicy-milter -n" "$why"

sec=$(systemd-analyze security --offline=true "$UNIT" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: //p')
case "$sec" in
*" OK"*|*" SAFE"*|*" PERFECT"*) pass "systemd-analyze security --offline=true: exposure $sec" ;;
*) fail "systemd-analyze security" "exposure '${sec:-none}', expected OK or better" ;;
esac
start=$(unit_line ExecStart)
check "ExecStart=$start (foreground, the packaged config)" "ExecStart" \
    "$(case "$start" in "/usr/sbin/tlspolicy-milter -f -c $CONF") ;; *) echo "unexpected: $start" ;; esac)"

# 5. the daemon as the unit starts it #######################################
if ! daemon_start; then
	fail "the daemon as ExecStart starts it" "$START_WHY"
	exit 1
fi
pass "ExecStartPre and ExecStart as root: pid $MILTER_PID listens on $SOCK"
why=$(stat_is "$SOCK" "$SVC_USER:postfix" 660)
[ -n "$why" ] || [ -S "$SOCK" ] || why="$SOCK is not a socket"
check "socket $SOCK: $(stat -c '%A %U:%G' "$SOCK" 2>/dev/null)" "socket" "$why"
why=""
st=/proc/$MILTER_PID/status
[ "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "$st")" = "$uid$uid$uid$uid" ] ||
    why="uids: $(grep '^Uid:' "$st")"
gid=$(getent group "$SVC_USER" | cut -d: -f3)
[ "$(awk '/^Gid:/ { print $2 $3 $4 $5 }' "$st")" = "$gid$gid$gid$gid" ] || why="$why gids: $(grep '^Gid:' "$st")"
[ "$(awk '/^Groups:/ { print $2 }' "$st")" = "$gid" ] || [ "$(awk '/^Groups:/ { print NF }' "$st")" = 1 ] ||
    why="$why supplementary groups: $(grep '^Groups:' "$st")"
[ "$(awk '/^CapEff:/ { print $2 }' "$st")" = 0000000000000000 ] || why="$why $(grep '^CapEff:' "$st")"
check "the daemon runs as $SVC_USER (uid $uid, gid $gid, no other group, no capabilities)" "privilege drop" "$why"
check "pid file $PIDFILE holds $MILTER_PID" "pid file" \
    "$([ "$(cat "$PIDFILE" 2>/dev/null)" = "$MILTER_PID" ] || echo "$PIDFILE: $(cat "$PIDFILE" 2>&1)")"
# who may connect: group postfix yes, any other user (nobody) no
conn() { su -s /bin/sh "$1" -c "python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' '$SOCK'" >/dev/null 2>&1; }
why=""
conn postfix || why="user postfix cannot connect"
conn nobody && why="$why user nobody can connect"
check "user postfix can connect to the socket, user nobody cannot" "socket access" "$why"

# 6. a chrooted Postfix on the packaged socket ##############################
snippet=$(sed -n 's/^smtpd_milters *= *//p' "/usr/share/doc/$PKG/examples/postfix/main.cf")
case "$snippet" in
unix:/*) rel=${snippet#unix:/} ;;
unix:*) rel=${snippet#unix:} ;;
*) rel="" ;;
esac
if [ "/var/spool/postfix/$rel" != "$SOCK" ]; then
	fail "main.cf snippet" "smtpd_milters = $snippet does not name $SOCK below the queue directory"
	exit 1
fi
pass "the installed main.cf snippet names the packaged socket: smtpd_milters = $snippet"
if ! (lab_start "$LAB" "$snippet" "" chroot) >"$WORK/lab.out" 2>&1; then
	fail "Postfix lab (chrooted smtpd)" "did not start: $(cat "$WORK/lab.out")"
	exit 1
fi
# The lab's queue directory stands for /var/spool/postfix: the package's
# socket directory is bound into it, so chrooted smtpd reaches the very
# socket file of the packaged path.
mkdir -p "$LAB/queue/${rel%/*}"
if ! mount --bind "$SPOOL" "$LAB/queue/${rel%/*}"; then
	fail "bind mount" "cannot bind $SPOOL into the lab's queue directory"
	exit 1
fi
MOUNTED="$LAB/queue/${rel%/*}"
check "Postfix with chrooted smtpd (master.cf: $(postconf -c "$LAB/etc" -M | awk '$8 == "smtpd" && $5 == "y"' | wc -l) smtpd listeners with chroot y), $LAB/queue/$rel is $SOCK (inode $(stat -c %i "$SOCK"))" \
    "Postfix chrooted" \
    "$([ "$(stat -c %d:%i "$LAB/queue/$rel")" = "$(stat -c %d:%i "$SOCK")" ] || echo "$LAB/queue/$rel is not the packaged socket")"
grep '^names.conf|' "$top/tests/scenarios/matrix" >"$WORK/rows"
while IFS= read -r row; do
	run_scenario "$row"
done <"$WORK/rows"
why=""
kids=$(pgrep -x -P "$(lab_master_pid "$LAB")" smtpd | tr '\n' ' ')
[ -n "$kids" ] || why="no smtpd of the lab is running"
for p in $kids; do
	[ "$(readlink "/proc/$p/root")" = "$LAB/queue" ] || why="$why smtpd $p has root $(readlink "/proc/$p/root")"
done
check "the lab's smtpd processes ($kids) run chrooted in $LAB/queue" "smtpd chroot" "$why"

# 7. rotation with the installed logrotate file, and reload ##################
before=$(wc -l <"$AUDIT")
cp "$AUDIT" "$WORK/audit.before"
logrotate -f -s "$WORK/logrotate.state" /etc/logrotate.d/tlspolicy-milter >"$WORK/logrotate.out" 2>&1
rc=$?
why=""
[ $rc -eq 0 ] || why="logrotate exit $rc: $(cat "$WORK/logrotate.out")"
[ -n "$why" ] || [ -f "$AUDIT.1" ] || why="no $AUDIT.1"
[ -n "$why" ] || cmp -s "$AUDIT.1" "$WORK/audit.before" || why="$AUDIT.1 is not the old log"
[ -n "$why" ] || why=$(stat_is "$AUDIT" "$SVC_USER:adm" 640)
check "logrotate -f /etc/logrotate.d/tlspolicy-milter: $before records in audit.jsonl.1, a new audit.jsonl $(stat -c '%A %U:%G' "$AUDIT" 2>/dev/null)" \
    "logrotate" "$why"
# the daemon reopens on SIGUSR1 (postrotate); a session then lands in the new file
_i=0
until [ "$(readlink "/proc/$MILTER_PID/fd/"* 2>/dev/null | grep -cx "$AUDIT")" -ge 1 ] || [ $_i -ge 50 ]; do
	_i=$((_i + 1)); sleep 0.1
done
grep '^names.conf|MX, plaintext, no AUTH' "$top/tests/scenarios/matrix" | head -1 >"$WORK/row.mx"
run_scenario "$(cat "$WORK/row.mx")"
why=""
[ "$(jq -s 'map(select(.type == "decision")) | length' "$AUDIT" 2>/dev/null)" -ge 1 ] ||
    why="no decision record in the new $AUDIT"
[ -n "$why" ] || out=$(/usr/sbin/tlspolicy-milter --verify-audit "$AUDIT.1" "$AUDIT" 2>&1) || why="--verify-audit: $out"
check "after rotation the daemon writes the new file; --verify-audit audit.jsonl.1 audit.jsonl: ${out:-}" "chain across rotation" "$why"

reload=$(unit_line ExecReload | sed "s/\\\$MAINPID/$MILTER_PID/; s/\\\${MAINPID}/$MILTER_PID/")
# shellcheck disable=SC2086
(set -f; exec $reload) >>"$MILTER_ERR" 2>&1
rc=$?
run_scenario "$(cat "$WORK/row.mx")"
why=""
[ $rc -eq 0 ] || why="ExecReload ($reload) exit $rc"
kill -0 "$MILTER_PID" 2>/dev/null || why="$why; the daemon died"
check "ExecReload ($reload): still serving, pid $MILTER_PID" "ExecReload" "$why"

# 8. upgrade to a newer version, then the restart systemd would do ##########
# The newer version is this package with a higher version number
# (dpkg-deb -R, Version: VERSION+upgradetest1, dpkg-deb -b), so dpkg runs
# the upgrade path of every maintainer script.
up_version="$version+upgradetest1"
UPDEB="$WORK/upgrade/${PKG}_${up_version}_$(dpkg --print-architecture).deb"
mkdir -p "$WORK/upgrade" && dpkg-deb -R "$DEB" "$WORK/upgrade/root" &&
    sed -i "s/^Version: .*/Version: $up_version/" "$WORK/upgrade/root/DEBIAN/control" &&
    dpkg-deb -b "$WORK/upgrade/root" "$UPDEB" >/dev/null 2>"$WORK/upgrade/build.err" ||
    fail "upgrade package" "cannot make $UPDEB: $(cat "$WORK/upgrade/build.err")"
head_before=$(tail -n 1 "$AUDIT")
records_before=$(cat "$AUDIT.1" "$AUDIT" | wc -l)
uid_before=$(id -u "$SVC_USER")
echo "# local change, kept across the upgrade" >>"$CONF"
sum_conf=$(md5sum <"$CONF")
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$UPDEB" >"$WORK/upgrade.out" 2>&1 </dev/null; then
	why=""
	[ "$(dpkg-query -W -f='${Version}' "$PKG")" = "$up_version" ] ||
	    why="installed version $(dpkg-query -W -f='${Version}' "$PKG"), expected $up_version"
	daemon_stop >"$WORK/stop.out"
	stop_why=$(cat "$WORK/stop.out")
	[ -n "$why" ] || daemon_start || why=$START_WHY
	[ -n "$why" ] || [ "$(md5sum <"$CONF")" = "$sum_conf" ] || why="the changed conffile was replaced"
	[ -n "$why" ] || [ "$(id -u "$SVC_USER")" = "$uid_before" ] || why="the user's uid changed"
	[ -n "$why" ] || run_scenario "$(cat "$WORK/row.mx")"
	[ -n "$why" ] || [ "$(cat "$AUDIT.1" "$AUDIT" | wc -l)" -gt "$records_before" ] || why="no new records"
	[ -n "$why" ] || grep -qxF "$head_before" "$AUDIT" || why="the old records are gone"
	[ -n "$why" ] || out=$(/usr/sbin/tlspolicy-milter --verify-audit "$AUDIT.1" "$AUDIT" 2>&1) || why="--verify-audit: $out"
	for spec in "$SPOOL root:postfix 750" "$RUNDIR $SVC_USER:$SVC_USER 755" "$LOGDIR $SVC_USER:adm 2750"; do
		# shellcheck disable=SC2086
		[ -n "$why" ] || why=$(stat_is $spec)
	done
	[ -z "$stop_why" ] || why="${why:+$why; }the stop before the restart: $stop_why"
else
	why="apt-get install ./$(basename "$UPDEB") failed: $(tail -n 5 "$WORK/upgrade.out")"
fi
check "upgrade $version -> $up_version, restart: changed config, user and directories kept, the chain goes on: $out" "upgrade" "$why"

# 9. purge ###################################################################
daemon_stop >"$WORK/stop.out"
why=$(cat "$WORK/stop.out")
check "SIGTERM: the daemon exits with status 0 and removes its pid file" "daemon stop" "$why"
syscall_check
(lab_stop "$LAB") >/dev/null 2>&1
umount "$MOUNTED" && MOUNTED=""
# every path of the package, and what its scripts and the daemon made
dpkg -L "$PKG" | grep tlspolicy >"$WORK/files"
cat >>"$WORK/files" <<EOF
$SPOOL
$RUNDIR
$LOGDIR
/etc/tlspolicy-milter
/etc/systemd/system/multi-user.target.wants/tlspolicy-milter.service
/var/lib/systemd/deb-systemd-helper-enabled/tlspolicy-milter.service.dsh-also
/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/tlspolicy-milter.service
EOF
ls "$LOGDIR" "$SPOOL" "$RUNDIR" 2>/dev/null | sed 's/^/    before purge: /'
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >"$WORK/purge.out" 2>&1; then
	left=""
	while IFS= read -r f; do
		{ [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
	done <"$WORK/files"
	also=$(find /etc /usr /var /run /lib -xdev -name '*tlspolicy*' 2>/dev/null | grep -v "^$WORK" | tr '\n' ' ')
	echo "    checked $(wc -l <"$WORK/files") paths:"
	sed 's/^/      /' "$WORK/files"
	check "apt-get purge: none of these is left, and nothing named *tlspolicy* below /etc /usr /var /run /lib" \
	    "purge" "${left:+left:$left}${also:+ found: $also}"
	check "the user $SVC_USER stays after purge (as Debian does)" "user after purge" \
	    "$(getent passwd "$SVC_USER" >/dev/null || echo "removed")"
else
	fail "apt-get purge" "$(tail -n 5 "$WORK/purge.out")"
fi
finish
