#!/bin/sh
# failalloc.sh - an allocation failure inside a session answers MAIL with
# the configured failure action (tempfail by default, or reject), never
# with an accept, is logged, and the next session is decided normally.
# The failure is injected with an LD_PRELOAD shim (failalloc.c) that fails
# allocations of one size: that of a 699-byte {auth_authen} copy.
# Needs a build without sanitizers (they own malloc).  "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/daemon.sh
. "$here/../lib/daemon.sh"
: "${MILTER:=$here/../../milter/tlspolicy-milter}"
: "${MILTERTEST:=miltertest}"
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-failalloc.XXXXXX")
passed=0
failed=0
if ldd "$MILTER" | grep -q -E 'libasan|libubsan'; then
	echo "FAIL: $MILTER is built with sanitizers; run this against a normal build"
	echo "0 passed, 1 failed"; exit 1
fi
cc -shared -fPIC -O1 -o "$w/failalloc.so" "$here/failalloc.c" || { echo "0 passed, 1 failed"; exit 1; }
for action in tempfail reject; do
	tl_free_port port || { failed=$((failed + 1)); continue; }
	printf 'syslog no\nallow-root yes\nfailure-action %s\naudit-log %s/audit.jsonl\n[listener submission]\nport 587\nrequire-tls yes\n' \
	    "$action" "$w" >"$w/m.conf"
	cat >"$w/t.lua" <<LUA
mt.startfilter("$w/run.sh")
local function session(user)
	local conn = mt.connect("inet:$port@127.0.0.1", 40, 0.25)
	assert(conn ~= nil, "connect")
	mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", "587", "{client_addr}", "192.0.2.1")
	assert(mt.conninfo(conn, "client", "192.0.2.1") == nil)
	assert(mt.helo(conn, "client") == nil)
	mt.macro(conn, SMFIC_MAIL, "{tls_version}", "TLSv1.3", "{cipher}", "X",
		"{auth_type}", "PLAIN", "{auth_authen}", user)
	assert(mt.mailfrom(conn, "<a@example.test>") == nil)
	local r = mt.getreply(conn)
	mt.disconnect(conn)
	return r
end
-- the copy of this user name (699 bytes + NUL) cannot be allocated
assert(session(string.rep("u", 699)) == SMFIR_REPLYCODE, "allocation failure was not refused")
-- the next session is decided as usual (TLS + AUTH: accepted)
assert(session("alice@example.test") == SMFIR_ACCEPT, "next session not accepted")
mt.echo("sessions done")
LUA
	printf '#!/bin/sh\nexport LD_PRELOAD=%s/failalloc.so FAILALLOC_SIZE=700\nexec "%s" -f -c %s/m.conf -p inet:%s@127.0.0.1\n' \
	    "$w" "$MILTER" "$w" "$port" >"$w/run.sh"
	chmod +x "$w/run.sh"
	rm -f "$w/audit.jsonl"
	"$MILTERTEST" -s "$w/t.lua" >"$w/out" 2>"$w/err"
	rc=$?
	want="answering $action"
	if [ $rc -eq 0 ] && grep -q "internal failure: out of memory reading macros; $want" "$w/err" &&
	    [ "$(grep -c '"outcome":"accept"' "$w/audit.jsonl")" -eq 1 ] &&
	    [ "$(grep -c '"type":"decision"' "$w/audit.jsonl")" -eq 1 ]; then
		passed=$((passed + 1))
		echo "PASS: failure-action $action: out of memory answers $action, logged, no accept; the next session is decided"
	else
		failed=$((failed + 1))
		echo "FAIL: failure-action $action (miltertest exit $rc)"
		cat "$w/out" "$w/err" | tail -n 10
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && rm -rf "$w"
[ "$failed" -eq 0 ]
