#!/bin/sh
# common.sh - the bench scripts' names for tests/lib/daemon.sh (free ports,
# a daemon started and stopped by its own PID), with each daemon's output
# in $W/NAME.err; sourced after setting here and W.
# shellcheck source=SCRIPTDIR/../lib/daemon.sh
. "$here/../lib/daemon.sh"

# milter_up NAME PORT CMD... - start CMD in the background, wait until PORT
# listens in it (tl_milter_start); sets UP_PID.
milter_up() {
	name=$1 port=$2
	shift 2
	: >"$W/$name.err"
	tl_milter_start "$port" "$W/$name.err" "$@" || return 1
	UP_PID=$TL_PID
}

# daemon_up NAME PORT PIDFILE CMD... - CMD goes to the background itself;
# wait for PIDFILE and PORT; sets UP_PID from the pid file.
daemon_up() {
	name=$1 port=$2 pidfile=$3
	shift 3
	: >"$W/$name.err"
	tl_milter_start -P "$pidfile" "$port" "$W/$name.err" "$@" || return 1
	UP_PID=$TL_PID
}

# milter_down PID - tl_milter_stop.
milter_down() { tl_milter_stop "${1:-}"; }

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
