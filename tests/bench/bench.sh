#!/bin/sh
# bench.sh - `make bench`: tlspolicy-milter against the floor, as ratios
# measured in one interleaved run (A B A B ...), never absolute times.
#
#   direct   mload drives the milter protocol (negotiate, macros, connect,
#            HELO, MAIL, QUIT), BENCH_SESSIONS sessions at 20 concurrent:
#            sessions/s, MAIL p50/p99, milter CPU per 10k sessions;
#            A = nullmilter (same negotiated steps), B = tlspolicy-milter
#            (TLS+AUTH submission policy, audit log on, syslog off),
#            C = the same without the audit log (what the evidence costs),
#            D = B with forward-secure sealing (audit-seal-state) and
#            1-second epochs: a seal, a key step and a state rename every
#            second, the worst case of what sealing costs,
#            E = B with metrics-listen on and /metrics scraped every second
#            during the run (what the endpoint and its scrapes cost; the
#            counters themselves count in every variant).
#            Every milter runs in a session of its own, as a daemon does
#            (the scheduler's autogroups then treat them alike).
#   memory   resident memory per open session at 1,000 open sessions,
#            held at two points: after HELO (in the daemon of the round's
#            direct run) and just after an accepted MAIL (in a fresh
#            daemon, warmed up with the same 2,000 sessions first, so
#            what a daemon makes once, such as worker stacks, allocator
#            arenas and the pages of the audit stage, is not counted as
#            the sessions').
#   postfix  a private Postfix (tests/postfix/lab.sh), smtp-source sends
#            BENCH_MESSAGES messages (one per session, 20 parallel) to
#            the MX listener: messages/s without a milter, with the null
#            milter, with tlspolicy-milter; accepted messages are counted
#            in Postfix's log.
# BENCH_ROUNDS (default 5) rounds.  Each ratio is taken within a round
# (B over A of the same round, so drift of the machine between rounds
# cancels); even rounds run the variants in reverse order, so whatever
# favours the first (or the last) of a round favours each alike.  The
# table shows the median of the rounds' ratios, their range, and whether
# the median meets the target.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MILTER:=$top/milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
: "${NULLMILTER:=$here/nullmilter}"
: "${BENCH_ROUNDS:=5}"
: "${BENCH_SESSIONS:=50000}"
: "${BENCH_MESSAGES:=6000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-bench.XXXXXX")
chmod 755 "$W"
. "$here/common.sh"
. "$top/tests/postfix/lab.sh"
tl_free_port port || exit 1
mkdir "$W/log" && chown nobody:nogroup "$W/log"	# opened as nobody
printf 'syslog no\nuserid nobody\npid-file %s/m.pid\naudit-log %s/log/audit.jsonl\n[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n' "$W" "$W" >"$W/m.conf"
grep -v '^audit-log' "$W/m.conf" >"$W/noaudit.conf"
mkdir -m 700 "$W/seal"
"$MILTER" --setup-keys --epoch 1 --state "$W/seal/state" >/dev/null 2>&1 ||
    { echo "--setup-keys failed"; exit 1; }
sed "s#^audit-log .*#&\naudit-seal-state $W/seal/state#" "$W/m.conf" >"$W/sealed.conf"
tl_free_port mport || exit 1
sed "1i metrics-listen inet:$mport@127.0.0.1" "$W/m.conf" >"$W/metrics.conf"
UP_PID=""
SCRAPER_PID=""
trap 'scraper_stop; milter_down "$UP_PID"; (lab_stop "$W/lab") 2>/dev/null' EXIT

# scraper_start / scraper_stop - GET /metrics now and then every second (at
# most 600), as a Prometheus with a 1 s scrape interval would; stopped by
# its PID.
scraper_start() {
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$mport/metrics" && echo ok >>"$W/scrapes"
	( i=0; while [ $i -lt 600 ]; do
		sleep 1
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$mport/metrics" &&
		    echo ok >>"$W/scrapes"
		i=$((i + 1))
	done ) &
	SCRAPER_PID=$!
}
scraper_stop() {
	[ -n "$SCRAPER_PID" ] || return 0
	kill "$SCRAPER_PID" 2>/dev/null
	wait "$SCRAPER_PID" 2>/dev/null
	SCRAPER_PID=""
}

start() {	# start A|B|C|D|E
	case "$1" in
	A) milter_up null "$port" "$NULLMILTER" -p "inet:$port@127.0.0.1" ;;
	B)	# as deployed: in the background, no stderr logging
		daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/m.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	C) daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/noaudit.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	D) daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/sealed.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	E) daemon_up tlspolicy "$port" "$W/m.pid" "$MILTER" -c "$W/metrics.conf" \
		    -p "inet:$port@127.0.0.1" ;;
	esac
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

echo "== direct, $BENCH_ROUNDS rounds of $BENCH_SESSIONS sessions, 20 concurrent"
# order R V... - V in round R's order (reversed in even rounds).
order() {
	_r=$1
	shift
	if [ $((_r % 2)) -eq 1 ]; then
		echo "$@"
	else
		echo "$@" | awk '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "\n") }'
	fi
}

for r in $(seq "$BENCH_ROUNDS"); do
	for v in $(order "$r" A B C D E); do
		start $v || exit 1
		"$MLOAD" -s "inet:$port@127.0.0.1" -c 20 -n 2000 -t 60 >/dev/null	# warm-up
		[ $v = E ] && scraper_start
		out=$("$MLOAD" -s "inet:$port@127.0.0.1" -c 20 -n "$BENCH_SESSIONS" -t 300 -p "$UP_PID")
		[ $v = E ] && scraper_stop
		echo "   round $r $v: $out"
		echo "$(field "$out" sessions_per_s) $(field "$out" p50_us) $(field "$out" p99_us) $(field "$out" cpu_ms_per_10k)" >>"$W/direct.$v"
		if [ "$r" -eq 1 ] && { [ $v = A ] || [ $v = B ]; }; then
			hold=$("$MLOAD" -s "inet:$port@127.0.0.1" -m hold -k 1000 -p "$UP_PID")
			echo "   memory $v at HELO: $hold"
			field "$hold" rss_per_session_bytes >"$W/mem.$v"
			# at MAIL, in a fresh daemon (no memory the HELO hold
			# freed), warmed up as the first was
			milter_down "$UP_PID"; UP_PID=""
			start $v || exit 1
			"$MLOAD" -s "inet:$port@127.0.0.1" -c 20 -n 2000 -t 60 >/dev/null
			hold=$("$MLOAD" -s "inet:$port@127.0.0.1" -m holdmail -k 1000 -p "$UP_PID")
			echo "   memory $v after an accepted MAIL: $hold"
			field "$hold" rss_per_session_bytes >"$W/memmail.$v"
		fi
		milter_down "$UP_PID"; UP_PID=""
	done
done

echo "== through Postfix, $BENCH_ROUNDS rounds of $BENCH_MESSAGES messages"
(lab_start "$W/lab" "$port") || { echo "Postfix did not start"; exit 1; }
accepted() { n=$(grep -c 'status=sent' "$W/lab/log/maillog" 2>/dev/null); echo "${n:-0}"; }
for r in $(seq "$BENCH_ROUNDS"); do
	for v in $(order "$r" none A B); do
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

# col V N - column N of variant V's rows, one per round.
col() { awk -v c="$2" '{ print $c }' "$W/$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratios A B N - per round, column N of B over column N of A
ratios() { col "$1" "$3" >"$W/ra"; col "$2" "$3" >"$W/rb"; paste "$W/ra" "$W/rb" | awk '$1 > 0 { printf "%.4f\n", $2 / $1 }'; }
# cell A B N - "median ratio | min-max"
cell() {
	ratios "$1" "$2" "$3" | sort -n | awk '{ v[NR] = $1 }
	    END { if (NR == 0) { print "n/a | n/a"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f | %.2f-%.2f\n", m, v[1], v[NR] }'
}
# met CELL OP LIMIT - "met" or "MISSED" for the median in CELL ("n/a"
# when there is no number: a failed measurement never counts as met)
met() { echo "$1" | awk -v op="$2" -v l="$3" '$1 !~ /^[0-9]+(\.[0-9]+)?$/ { print "n/a"; next }
	{ m = $1 + 0; ok = (op == ">=") ? m >= l : m <= l; print ok ? "met" : "MISSED" }'; }
mA=$(cat "$W/mem.A"); mB=$(cat "$W/mem.B")
mmA=$(cat "$W/memmail.A"); mmB=$(cat "$W/memmail.B")
sps=$(cell direct.A direct.B 1); p50=$(cell direct.A direct.B 2)
p99=$(cell direct.A direct.B 3); cpu=$(cell direct.A direct.B 4)
pfx=$(cell postfix.A postfix.B 1)
echo
echo "| measure ($BENCH_ROUNDS interleaved rounds) | null milter | tlspolicy-milter | ratio (median of rounds) | rounds | target | met? | without audit-log | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| direct sessions/s (20 concurrent) | $(col direct.A 1 | median) | $(col direct.B 1 | median) | $sps | >= 0.90 | $(met "$sps" '>=' 0.90) | $(col direct.C 1 | median) | $(cell direct.A direct.C 1 | cut -d' ' -f1) |"
echo "| MAIL reply p50 (us) | $(col direct.A 2 | median) | $(col direct.B 2 | median) | $p50 | | | $(col direct.C 2 | median) | $(cell direct.A direct.C 2 | cut -d' ' -f1) |"
echo "| MAIL reply p99 (us) | $(col direct.A 3 | median) | $(col direct.B 3 | median) | $p99 | <= 1.50 | $(met "$p99" '<=' 1.50) | $(col direct.C 3 | median) | $(cell direct.A direct.C 3 | cut -d' ' -f1) |"
echo "| milter CPU per 10k sessions (ms) | $(col direct.A 4 | median) | $(col direct.B 4 | median) | $cpu | <= 1.30 | $(met "$cpu" '<=' 1.30) | $(col direct.C 4 | median) | $(cell direct.A direct.C 4 | cut -d' ' -f1) |"
echo "| resident memory per open session at HELO (bytes, 1,000 open) | $mA | $mB | | | <= 2048 bytes | $(met "$mB" '<=' 2048) | | |"
echo "| resident memory per open session after an accepted MAIL (bytes, 1,000 open) | $mmA | $mmB | | | <= 2048 bytes | $(met "$mmB" '<=' 2048) | | |"
echo "| sealed audit log (audit-seal-state, 1 s epochs), direct sessions/s | $(col direct.A 1 | median) | $(col direct.D 1 | median) | $(cell direct.A direct.D 1) | | | over unsealed: $(cell direct.B direct.D 1 | cut -d' ' -f1) | p99 ratio $(cell direct.A direct.D 3 | cut -d' ' -f1) |"
echo "| through Postfix, messages/s (no milter: $(col postfix.none 1 | median)) | $(col postfix.A 1 | median) | $(col postfix.B 1 | median) | $pfx | >= 0.95 | $(met "$pfx" '>=' 0.95) | | |"
msps=$(cell direct.A direct.E 1); mp99=$(cell direct.A direct.E 3); mcpu=$(cell direct.A direct.E 4)
echo "| with metrics (metrics-listen, /metrics every second), direct sessions/s | $(col direct.A 1 | median) | $(col direct.E 1 | median) | $msps | >= 0.90 | $(met "$msps" '>=' 0.90) | over without: $(cell direct.B direct.E 1 | cut -d' ' -f1) | |"
echo "| with metrics, MAIL reply p99 (us) | $(col direct.A 3 | median) | $(col direct.E 3 | median) | $mp99 | <= 1.50 | $(met "$mp99" '<=' 1.50) | over without: $(cell direct.B direct.E 3 | cut -d' ' -f1) | |"
echo "| with metrics, milter CPU per 10k sessions (ms) | $(col direct.A 4 | median) | $(col direct.E 4 | median) | $mcpu | <= 1.30 | $(met "$mcpu" '<=' 1.30) | over without: $(cell direct.B direct.E 4 | cut -d' ' -f1) | |"
echo
echo "Values are medians of the rounds; a ratio is the median of the rounds' own ratios (rounds: lowest-highest)."
echo "With metrics: metrics-listen on, /metrics scraped every second during each run ($(grep -c . "$W/scrapes" 2>/dev/null || echo 0) scrapes answered)."
rm -rf "$W"
