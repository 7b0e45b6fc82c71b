# common.sh - start and stop a daemon under test by its own PID; sourced.
# milter_up NAME PORT CMD... - start CMD in the background (its stderr in
# $W/NAME.err), wait until PORT listens; sets UP_PID.
milter_up() {
	name=$1 port=$2
	shift 2
	"$@" 2>"$W/$name.err" &
	UP_PID=$!
	i=0
	until ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$UP_PID" 2>/dev/null; then
			echo "$name did not start:"; cat "$W/$name.err"; return 1
		fi
		sleep 0.1
	done
}

# milter_down PID - SIGTERM, wait (bounded), then SIGKILL.
milter_down() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 150 ]; do
		i=$((i + 1)); sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# daemon_up NAME PORT PIDFILE CMD... - CMD goes to the background itself;
# wait for PORT and PIDFILE; sets UP_PID from the pid file.
daemon_up() {
	name=$1 port=$2 pidfile=$3
	shift 3
	rm -f "$pidfile"
	"$@" 2>"$W/$name.err" || { echo "$name did not start:"; cat "$W/$name.err"; return 1; }
	i=0
	until [ -s "$pidfile" ] && ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "$name did not start"; cat "$W/$name.err"; return 1; }
		sleep 0.1
	done
	UP_PID=$(cat "$pidfile")
}

# free_port BASE - BASE, or the next port with no socket in any state.
free_port() {
	_p=$1
	while ss -tanH "sport = :$_p" 2>/dev/null | grep -q .; do
		_p=$((_p + 1))
	done
	echo "$_p"
}
