#!/bin/sh
# simulate-scale.sh - replay speed and memory of --simulate on a large log.
#
# usage: simulate-scale.sh [RECORDS]   (default 1000000)
#
# Generates a chained audit log (a policy record taken from "-n" of a
# small config, then RECORDS decision records over 50,000 clients, 20,000
# users and 5,000 sender domains, each outcome what that config decides,
# TLS versions from none to TLSv1.3, one in ten with AUTH on port 25),
# then times:
#   1. --simulate LOG            (the recorded policy): must replay every
#      decision unchanged;
#   2. --simulate -c STRICT LOG  (min-tls-version TLSv1.3 on submission):
#      must newly refuse exactly the TLSv1.2 decisions with AUTH on 587;
#   3. the same on a log a tenth the size, for memory: the peak RSS of the
#      full log must stay within 4 MiB of the small one's (flat memory).
# Prints records/s and peak RSS for each, and "N passed, N failed".
# Target: at least 200,000 records/s, counted per second of CPU time the
# replay used (user + system), so that other load on the machine does not
# count against it; the wall-clock rate and the load average are printed
# beside it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
N=${1:-1000000}
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-simscale.XXXXXX")
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }

cat >"$W/base.conf" <<'CONF'
[listener submission]
port 587
require-tls yes
require-auth yes
min-tls-version TLSv1.2
[default]
auth-requires-tls yes
CONF
sed 's/min-tls-version TLSv1.2/min-tls-version TLSv1.3/' "$W/base.conf" >"$W/strict.conf"
"$MILTER" -n -c "$W/base.conf" 2>/dev/null | sed '$d' >"$W/policy.txt"

# gen OUT COUNT - the log; prints the number of TLSv1.2+AUTH decisions on 587
gen() {
	python3 - "$W/policy.txt" "$1" "$2" <<'PY'
import hashlib, json, random, sys
text = open(sys.argv[1], encoding="utf-8").read()
out, n = sys.argv[2], int(sys.argv[3])
fp = hashlib.sha256(text.encode()).hexdigest()
rnd = random.Random(21)
prev = "0" * 64
lines = []
def put(m):
    global prev
    m = m + ',"prev":"' + prev + '"}'
    prev = hashlib.sha256(m.encode()).hexdigest()
    lines.append(m[:-1] + ',"hash":"' + prev + '"}\n')
put('{"v":2,"time":"2026-11-01T00:00:00.000Z","type":"policy","event":"start","policy":"%s","text":%s'
    % (fp, json.dumps(text)))
versions = [None, "TLSv1.1", "TLSv1.2", "TLSv1.2", "TLSv1.3", "TLSv1.3"]
strict = 0
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        port = 587 if rnd.random() < 0.7 else 25
        ver = rnd.choice(versions)
        auth = rnd.random() < (0.8 if port == 587 else 0.1)
        c = rnd.randrange(50000)
        client = "10.%d.%d.%d" % (c >> 16, (c >> 8) & 255, c & 255)
        user = "user%d@example%d.test" % (rnd.randrange(20000), rnd.randrange(50))
        dom = "sender%d.example" % rnd.randrange(5000)
        t = "2026-11-%02dT%02d:%02d:%02d.%03dZ" % (1 + i * 28 // n, (i // 3600) % 24, (i // 60) % 60, i % 60, i % 1000)
        if port == 587:
            listener = "submission"
            if auth and ver is None: rule = "auth-requires-tls"
            elif ver is None: rule = "require-tls"
            elif ver == "TLSv1.1": rule = "min-tls-version"
            elif not auth: rule = "require-auth"
            else: rule = "none"
            if rule == "none" and ver == "TLSv1.2": strict += 1
        else:
            listener = "default"
            rule = "auth-requires-tls" if auth and ver is None else "none"
        outcome = "accept" if rule == "none" else "reject"
        typ = "credential-exposure" if auth and ver is None else "decision"
        m = ['{"v":2,"time":"%s","session":"6B0F%04X.%d","type":"%s","client_addr":"%s","client_port":%s,"helo":"host%d.example","listener":"%s","daemon_name":"mx.example.test","daemon_port":"%d","daemon_addr":"127.0.0.1","tls":%s'
             % (t, i & 0xffff, i, typ, client, '"%d"' % (1024 + i % 60000), c, listener, port, "true" if ver else "false")]
        if ver:
            m.append(',"tls_version":"%s","cipher":"ECDHE-RSA-AES256-GCM-SHA384","cipher_bits":256' % ver)
        m.append(',"auth":%s' % ("true" if auth else "false"))
        if auth:
            m.append(',"auth_type":"PLAIN","auth_authen":"%s"' % user)
        m.append(',"auth_before_tls":false,"sender_domain":"%s","rule":"%s","action":"reject","outcome":"%s","mode":"enforce","exposure":%s,"trusted":false,"reason":"-","policy":"%s","mta_version":"Postfix 3.7.11"'
                 % (dom, rule, outcome, "true" if typ != "decision" else "false", fp))
        put("".join(m))
        if len(lines) >= 10000:
            f.writelines(lines); lines.clear()
    f.writelines(lines)
print(strict)
PY
}

# run NAME ARGS... - time --simulate; sets SECS (wall), CPU (user +
# system) and RSS (KiB)
run() {
	_name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$W/$_name.time" "$MILTER" --simulate "$@" >"$W/$_name.out" 2>"$W/$_name.err"
	read -r SECS _u _s RSS <"$W/$_name.time"
	CPU=$(echo "$_u $_s" | awk '{ printf "%.2f", $1 + $2 }')
}

# rate SECONDS - N per second
rate() { echo "$N $1" | awk '{ printf "%d", $1 / ($2 > 0 ? $2 : 0.01) }'; }

echo "generating $N records ..."
strict=$(gen "$W/audit.jsonl" "$N") || { ko "cannot generate the log"; echo "$passed passed, $failed failed"; exit 1; }
small=$(gen "$W/small.jsonl" $((N / 10)))
echo "log: $(du -h "$W/audit.jsonl" | cut -f1), $N decisions, $strict of them TLSv1.2 with AUTH on 587"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
run recorded "$W/audit.jsonl"
rate=$(rate "$CPU")
echo "recorded policy: $N records in ${CPU}s CPU = $rate records/s (wall ${SECS}s = $(rate "$SECS") records/s), peak RSS $((RSS / 1024)) MiB"
grep -qxF "total: replayed $N, unchanged $N, newly refused 0, newly accepted 0, newly would-reject 0, other changes 0, cannot replay 0" "$W/recorded.out" &&
    ok "every generated decision replays unchanged with its recorded policy" ||
    ko "replay with the recorded policy: $(sed -n 3p "$W/recorded.out")"
[ "$rate" -ge 200000 ] && ok "$rate records/s per CPU second (target 200,000)" ||
    ko "$rate records/s per CPU second, below the target of 200,000"

run strict -c "$W/strict.conf" "$W/audit.jsonl"
big_rss=$RSS
echo "-c strict.conf: $N records in ${CPU}s CPU = $(rate "$CPU") records/s (wall ${SECS}s = $(rate "$SECS") records/s), peak RSS $((RSS / 1024)) MiB"
grep -q "^listener submission: replayed [0-9]*, unchanged [0-9]*, newly refused $strict, newly accepted 0," "$W/strict.out" &&
    ok "TLSv1.3 on submission newly refuses exactly the $strict TLSv1.2 decisions" ||
    ko "strict replay: $(grep '^listener submission' "$W/strict.out")"

run small -c "$W/strict.conf" "$W/small.jsonl"
echo "-c strict.conf on $((N / 10)) records: peak RSS $((RSS / 1024)) MiB"
[ $((big_rss - RSS)) -le 4096 ] &&
    ok "memory flat: peak RSS $((RSS / 1024)) MiB for $((N / 10)) records, $((big_rss / 1024)) MiB for $N" ||
    ko "memory grows with the log: $((RSS / 1024)) MiB for $((N / 10)) records, $((big_rss / 1024)) MiB for $N"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$W"
[ "$failed" -eq 0 ]
