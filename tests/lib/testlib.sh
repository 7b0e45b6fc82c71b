#!/bin/sh
# testlib.sh - what the daemon's shell suites share: PASS/FAIL counting
# with the closing "N passed, N failed" line, a one-MAIL session through
# miltertest, and daemon.sh beside it (ports, whether a process still
# runs, a milter started and stopped by its PID).  Sourced, from a script
# one folder below tests/:
#
#   . "$(cd "$(dirname "$0")" && pwd)/../lib/testlib.sh"
#
# Needs MILTERTEST (default miltertest) for tl_mail.

. "$(cd "$(dirname "$0")" && pwd)/../lib/daemon.sh"

: "${MILTERTEST:=miltertest}"
passed=0
failed=0

# ok LABEL, ko LABEL - one check passed or failed.
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }

# tl_finish - the summary line; the exit status of the suite.
tl_finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# tl_mail SOCKET DIR - one session on port 587 in plaintext up to MAIL,
# through SOCKET (a libmilter spec); prints REFUSED, ACCEPTED or ERROR.
# DIR receives the script.
tl_mail() {
	cat >"$2/tl_mail.lua" <<LUA
conn = mt.connect("$1", 40, 0.1)
assert(conn ~= nil, "connect")
mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", "587")
assert(mt.conninfo(conn, "client", "192.0.2.1") == nil)
assert(mt.helo(conn, "client") == nil)
assert(mt.mailfrom(conn, "<a@example.test>") == nil)
if mt.getreply(conn) == SMFIR_REPLYCODE then print("REFUSED") else print("ACCEPTED") end
mt.disconnect(conn)
LUA
	"$MILTERTEST" -s "$2/tl_mail.lua" 2>&1 | grep -E '^(REFUSED|ACCEPTED)$' || echo ERROR
}
