#!/bin/sh
# bench.sh - `make bench`: tlspolicy-milter against the floor, as ratios
# measured in one interleaved run (A B A B ...), never absolute times.
#
#   direct   mload drives the milter protocol (negotiate, macros, connect,
#            HELO, MAIL, QUIT), BENCH_SESSIONS sessions at 20 concurrent:
#            sessions/s, MAIL p50/p99, milter CPU per 10k sessions;
#            A = nullmilter (same negotiated steps), B = tlspolicy-milter
#            (TLS+AUTH submission policy, audit log on, syslog off),
#            C = the same without the audit log (what the evidence costs).
#            Every milter runs in a session of its own, as a daemon does
#            (the scheduler's autogroups then treat them alike).
#   memory   resident memory per open session at 1,000 open sessions.
#   postfix  a private Postfix (tests/postfix/lab.sh), smtp-source sends
#            BENCH_MESSAGES messages (one per session, 20 parallel) to
#            the MX listener: messages/s without a milter, with the null
#            milter, with tlspolicy-milter; accepted messages are counted
#            in Postfix's log.
# BENCH_ROUNDS (default 3) rounds; the table shows medians and ratios.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
: "${NULLMILTER:=$here/nullmilter}"
: "${BENCH_ROUNDS:=3}"
: "${BENCH_SESSIONS:=20000}"
: "${BENCH_MESSAGES:=2000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-bench.XXXXXX")
chmod 755 "$W"
. "$here/common.sh"
. "$top/tests/postfix/lab.sh"
port=$(free_port $((23000 + $$ % 1000)))
printf 'syslog no\nuserid nobody\npid-file %s/m.pid\naudit-log %s/audit.jsonl\n[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n' "$W" "$W" >"$W/m.conf"
grep -v '^audit-log' "$W/m.conf" >"$W/noaudit.conf"
UP_PID=""
trap 'milter_down "$UP_PID"; (lab_stop "$W/lab") 2>/dev/null' EXIT

start() {	# start A|B|C
	case "$1" in
	A) milter_up null "$port" "$NULLMILTER" -p "inet:$port@127.0.0.1" ;;
	B)	# as deployed: in the background, no stderr logging
		daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/m.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	C) daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/noaudit.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	esac
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== direct, $BENCH_ROUNDS rounds of $BENCH_SESSIONS sessions, 20 concurrent"
for r in $(seq "$BENCH_ROUNDS"); do
	for v in A B C; do
		start $v || exit 1
		"$MLOAD" -s "inet:$port@127.0.0.1" -c 20 -n 2000 -t 60 >/dev/null	# warm-up
		out=$("$MLOAD" -s "inet:$port@127.0.0.1" -c 20 -n "$BENCH_SESSIONS" -t 300 -p "$UP_PID")
		echo "   round $r $v: $out"
		echo "$(field "$out" sessions_per_s) $(field "$out" p50_us) $(field "$out" p99_us) $(field "$out" cpu_ms_per_10k)" >>"$W/direct.$v"
		if [ "$r" -eq 1 ] && [ $v != C ]; then
			hold=$("$MLOAD" -s "inet:$port@127.0.0.1" -m hold -k 1000 -p "$UP_PID")
			echo "   memory $v: $hold"
			field "$hold" rss_per_session_bytes >"$W/mem.$v"
		fi
		milter_down "$UP_PID"; UP_PID=""
	done
done

echo "== through Postfix, $BENCH_ROUNDS rounds of $BENCH_MESSAGES messages"
(lab_start "$W/lab" "$port") || { echo "Postfix did not start"; exit 1; }
accepted() { n=$(grep -c 'status=sent' "$W/lab/log/maillog" 2>/dev/null); echo "${n:-0}"; }
for r in $(seq "$BENCH_ROUNDS"); do
	for v in none A B; do
		if [ $v = none ]; then
			postconf -c "$W/lab/etc" -e 'smtpd_milters =' && postfix -c "$W/lab/etc" reload >/dev/null 2>&1
		else
			postconf -c "$W/lab/etc" -e "smtpd_milters = inet:127.0.0.1:$port" &&
			    postfix -c "$W/lab/etc" reload >/dev/null 2>&1
			start $v || exit 1
		fi
		sleep 1
		before=$(accepted)
		t0=$(date +%s.%N)
		smtp-source -s 20 -m "$BENCH_MESSAGES" -l 500 -c -f alice@example.test \
		    -t bob@example.test "127.0.0.1:$LAB_MX_PORT" >/dev/null 2>&1
		t1=$(date +%s.%N)
		i=0
		while [ $(( $(accepted) - before )) -lt "$BENCH_MESSAGES" ] && [ $i -lt 100 ]; do
			i=$((i + 1)); sleep 0.1
		done
		n=$(( $(accepted) - before ))
		rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
		echo "   round $r $v: $n accepted, $rate messages/s"
		echo "$rate" >>"$W/postfix.$v"
		[ $v = none ] || { milter_down "$UP_PID"; UP_PID=""; }
	done
done
(lab_stop "$W/lab")

col() { awk -v c="$2" '{ print $c }' "$W/direct.$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "n/a" }'; }
sA=$(col A 1); sB=$(col B 1); p50A=$(col A 2); p50B=$(col B 2)
p99A=$(col A 3); p99B=$(col B 3); cA=$(col A 4); cB=$(col B 4)
sC=$(col C 1); p50C=$(col C 2); p99C=$(col C 3); cC=$(col C 4)
mA=$(cat "$W/mem.A"); mB=$(cat "$W/mem.B")
pn=$(median <"$W/postfix.none"); pA=$(median <"$W/postfix.A"); pB=$(median <"$W/postfix.B")
echo
echo "| measure (median of $BENCH_ROUNDS interleaved rounds) | null milter | tlspolicy-milter | ratio | target | without audit-log | ratio |"
echo "|---|---|---|---|---|---|---|"
echo "| direct sessions/s (20 concurrent) | $sA | $sB | $(ratio "$sA" "$sB") | >= 0.90 | $sC | $(ratio "$sA" "$sC") |"
echo "| MAIL reply p50 (us) | $p50A | $p50B | $(ratio "$p50A" "$p50B") | | $p50C | $(ratio "$p50A" "$p50C") |"
echo "| MAIL reply p99 (us) | $p99A | $p99B | $(ratio "$p99A" "$p99B") | <= 1.50 | $p99C | $(ratio "$p99A" "$p99C") |"
echo "| milter CPU per 10k sessions (ms) | $cA | $cB | $(ratio "$cA" "$cB") | <= 1.30 | $cC | $(ratio "$cA" "$cC") |"
echo "| resident memory per open session (bytes, 1,000 open) | $mA | $mB | $(ratio "$mA" "$mB") | <= 2048 bytes | | |"
echo "| through Postfix, messages/s (no milter: $pn) | $pA | $pB | $(ratio "$pA" "$pB") | >= 0.95 | | |"
rm -rf "$W"
