#!/bin/sh
# daemon.sh - what every shell suite shares to run a daemon under test:
# free loopback ports, and a milter started (until its socket listens)
# and stopped by its own PID.  Sourced:
#
#   . "$top/tests/lib/daemon.sh"
#
# Needs ss (iproute2) and od.  Never probes a port with a connect (that
# would be an SMTP session or a milter session): sockets are looked up
# with ss, and a listening one must belong to the process started.

# tl_alive PID - the process runs (a zombie its parent has not reaped yet
# does not: a daemon's parent may be slow to reap it).
tl_alive() {
	kill -0 "$1" 2>/dev/null &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# tl_port_free PORT - no TCP socket of this host uses PORT, at either end,
# in any state (TIME_WAIT included).
tl_port_free() {
	[ -z "$(ss -tanH "sport = :$1 or dport = :$1" 2>/dev/null)" ]
}

# tl_take_port PORT... - count PORTs as handed out (ports given from
# outside, so tl_free_port never picks them).
tl_take_port() {
	TL_PORTS_TAKEN="${TL_PORTS_TAKEN:-} $*"
	export TL_PORTS_TAKEN
}

# tl_free_port VAR - set VAR to a free port (tl_port_free) in 20000..31999,
# below the kernel's ephemeral range (no outgoing connection is given it),
# not handed out before in this script or the one that started it
# (TL_PORTS_TAKEN, exported).  200 tries at most; then a message and
# status 1.  Call it as a command, not in $(...): a subshell would forget
# what it handed out.
tl_free_port() {
	_tl_n=0
	while [ $_tl_n -lt 200 ]; do
		_tl_n=$((_tl_n + 1))
		_tl_p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 ))
		case " ${TL_PORTS_TAKEN:-} " in *" $_tl_p "*) continue ;; esac
		tl_port_free "$_tl_p" || continue
		tl_take_port "$_tl_p"
		eval "$1=\$_tl_p"
		return 0
	done
	echo "no free port in 20000..31999 after 200 tries"
	return 1
}

# tl_listening SPEC PID - SPEC's socket listens in process PID.  SPEC is a
# libmilter socket (unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST)
# or a bare TCP port.
tl_listening() {
	case "$1" in
	unix:* | local:*) ss -xlpH 2>/dev/null | grep -F " ${1#*:} " ;;
	inet:* | inet6:*) _tl_s=${1#*:}; ss -ltnpH "sport = :${_tl_s%%@*}" 2>/dev/null ;;
	*) ss -ltnpH "sport = :$1" 2>/dev/null ;;
	esac | grep -q "pid=$2,"
}

# tl_milter_start [-P PIDFILE] [-r REGEX] [-w SPEC] SPEC ERRFILE CMD... -
# run CMD in the background (stdin /dev/null, stdout and stderr appended
# to ERRFILE) and wait until SPEC's socket listens in that process (and
# -w SPEC's), and with -r until ERRFILE has one more line matching REGEX
# (grep -E) than before.  With -P, CMD puts itself in the background and
# the PID is read from PIDFILE (removed first).  Waits at most 10 s
# (100 checks, and 20 s by the clock).  Sets TL_PID.  On failure: why,
# with the tail of ERRFILE, on stdout; what it started is stopped;
# status 1.
tl_milter_start() {
	_tl_pidfile="" _tl_ready="" _tl_also=""
	while :; do
		case "$1" in
		-P) _tl_pidfile=$2; shift 2 ;;
		-r) _tl_ready=$2; shift 2 ;;
		-w) _tl_also=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_tl_spec=$1 _tl_err=$2
	shift 2
	_tl_before=0
	[ -z "$_tl_ready" ] || _tl_before=$(grep -Ec "$_tl_ready" "$_tl_err" 2>/dev/null)
	TL_PID=""
	_tl_why=""
	if [ -n "$_tl_pidfile" ]; then
		rm -f "$_tl_pidfile"
		"$@" </dev/null >>"$_tl_err" 2>&1 || _tl_why="exited with status $?"
	else
		"$@" </dev/null >>"$_tl_err" 2>&1 &
		TL_PID=$!
	fi
	_tl_i=0
	_tl_t0=$(date +%s)
	while [ -z "$_tl_why" ]; do
		[ -z "$_tl_pidfile" ] || TL_PID=$(cat "$_tl_pidfile" 2>/dev/null)
		if [ -n "$TL_PID" ] && tl_listening "$_tl_spec" "$TL_PID" &&
		    { [ -z "$_tl_also" ] || tl_listening "$_tl_also" "$TL_PID"; } &&
		    { [ -z "$_tl_ready" ] ||
		    [ "$(grep -Ec "$_tl_ready" "$_tl_err")" -gt "${_tl_before:-0}" ]; }; then
			return 0
		fi
		if [ -n "$TL_PID" ] && ! tl_alive "$TL_PID"; then
			wait "$TL_PID" 2>/dev/null
			_tl_rc=$?
			_tl_why="exited with status $_tl_rc"
			[ -z "$_tl_pidfile" ] || _tl_why="pid $TL_PID (from $_tl_pidfile) is gone"
		elif [ $_tl_i -ge 100 ] || [ $(( $(date +%s) - _tl_t0 )) -ge 20 ]; then
			_tl_why="not ready after 10 s (${_tl_pidfile:+pid file $_tl_pidfile, }socket $_tl_spec${_tl_also:+ and $_tl_also}${_tl_ready:+, a new line /$_tl_ready/})"
		else
			_tl_i=$((_tl_i + 1))
			sleep 0.1
		fi
	done
	echo "$(basename "$1") did not start: $_tl_why; the end of $_tl_err:"
	tail -n 20 "$_tl_err" | sed 's/^/    /'
	[ -z "$TL_PID" ] || tl_milter_stop "$TL_PID" >/dev/null
	TL_PID=""
	return 1
}

# tl_milter_stop PID - stop a process the suite started (the milter, or
# another daemon or client): SIGTERM to PID; wait until it is gone, at most
# 15 s (150 checks, and 30 s by the clock); then SIGKILL, which is a
# failure: said on stdout, status 1.  TL_STATUS: its exit status when it
# is a child of this shell (else 127).  No PID: nothing to do.
tl_milter_stop() {
	TL_STATUS=0
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	_tl_i=0
	_tl_t0=$(date +%s)
	while tl_alive "$1" && [ $_tl_i -lt 150 ] &&
	    [ $(( $(date +%s) - _tl_t0 )) -lt 30 ]; do
		_tl_i=$((_tl_i + 1))
		sleep 0.1
	done
	_tl_rc=0
	if tl_alive "$1"; then
		kill -KILL "$1" 2>/dev/null
		echo "pid $1 ignored SIGTERM for 15 s (killed)"
		_tl_rc=1
	fi
	wait "$1" 2>/dev/null
	TL_STATUS=$?
	return $_tl_rc
}
