#!/bin/sh
# hostile.sh - hostile sessions over the real milter protocol (mload -m
# hostile): 64 KiB macro values, quotes, CR/LF, control bytes and invalid
# UTF-8 in {cert_subject}/{auth_authen}, unknown TLS versions, missing
# macros, connections dropped mid-session and mid-packet, abort storms,
# commands out of order.  The milter must stay up and keep deciding, and
# every record must be one valid JSON line with no forged or repeated
# field.  Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
: "${MLOAD:=$here/mload}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-hostile.XXXXXX")
. "$here/common.sh"
tl_free_port port || { echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
printf 'syslog no\nallow-root yes\naudit-log %s/audit.jsonl\n[listener submission]\nport 587\nrequire-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n' "$W" >"$W/m.conf"
milter_up milter "$port" "$MILTER" -f -c "$W/m.conf" -p "inet:$port@127.0.0.1" || { echo "0 passed, 1 failed"; exit 1; }
pid=$UP_PID
out=$(timeout 120 "$MLOAD" -s "inet:$port@127.0.0.1" -m hostile -n 20 -t 100)
echo "   $out"
case "$out" in *still_deciding=yes*) ok "the milter still decides after 20 rounds of hostile sessions" ;;
*) ko "the milter stopped deciding: $out" ;; esac
kill -0 "$pid" 2>/dev/null && ok "the milter process is still up" || ko "the milter died"
d=$(echo "$out" | sed -n 's/.*decisions=\([0-9]*\).*/\1/p')
milter_down "$pid"
python3 - "$W/audit.jsonl" "${d:-0}" >"$W/check.out" 2>&1 <<'PY'
import json, sys
allowed = {"v", "time", "session", "type", "queue_id", "client_addr", "client_port",
    "listener", "daemon_name", "daemon_addr", "daemon_port", "tls", "tls_version",
    "cipher", "cipher_bits", "cert_subject", "cert_issuer", "verify", "auth",
    "auth_type", "auth_authen", "auth_ssf", "rule", "action", "outcome", "reply", "mode",
    "exposure", "trusted", "reason", "mta_version", "facts_problem",
    "started", "helos", "mails", "prev", "hash", "helo", "sender",
    "sender_domain", "auth_before_tls", "policy", "event", "text"}
def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("repeated field")
    return dict(pairs)
n = 0
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    r = json.loads(line, object_pairs_hook=no_dups)
    extra = set(r) - allowed
    assert not extra, f"line {i}: unknown fields {extra}"
    if r["type"] in ("session", "policy"):
        continue
    assert (r["outcome"] == "accept") == (r["rule"] == "none"), f"line {i}: outcome/rule mismatch"
    assert r["outcome"] in ("accept", "reject", "tempfail", "would-reject")
    n += 1
assert n >= int(sys.argv[2]), f"{n} records for {sys.argv[2]} decisions"
print(n, "records, all valid")
PY
if [ $? -eq 0 ]; then
	ok "every record is one valid JSON line, no unknown or repeated field ($(cat "$W/check.out"))"
else
	ko "records: $(cat "$W/check.out")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && rm -rf "$W"
[ "$failed" -eq 0 ]
