#!/bin/sh
# demo.sh - README command 1: build the milter and watch it decide behind a
# real Postfix on loopback, with the built-in policy and no config file.
#
#   sudo sh tests/demo.sh
#
# On a fresh Debian 12, as root: installs what is missing with apt-get
# (Postfix preseeded to "No configuration", so no system instance is
# configured or started), builds (in the source tree when it is already
# configured, else in build/demo), starts a private Postfix
# (tests/postfix/lab.sh: its own directories under a temporary directory,
# three loopback listeners on free high ports standing for 25, 587 and
# 465, named mx, submission and submissions) and the milter with its
# built-in policy, plays a few sessions with swaks, prints for each what
# was tried, the reply the client saw and the milter's decision line, and
# stops everything it started, by PID.  Exit 0 only when every session
# went as expected; on failure the work directory is kept and named.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)

# What the demo needs (the full suite's list is in tests/deps.sh).
demo_packages="gcc make autoconf automake libtool pkg-config m4 libmilter-dev
libssl-dev openssl postfix swaks libnet-ssleay-perl sasl2-bin
libsasl2-modules iproute2 procps"
missing=""
for p in $demo_packages; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "demo: missing packages:$missing; run as root"; exit 1; }
	echo "== installing:$missing"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections || exit 1
	apt-get update -q >/dev/null || { echo "demo: apt-get update failed"; exit 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null ||
	    { echo "demo: apt-get install failed"; exit 1; }
fi
[ "$(id -u)" = 0 ] || { echo "demo: run as root (Postfix's master must start as root)"; exit 1; }

echo "== building"
cd "$top" || exit 1
if [ -f config.status ]; then
	builddir=$top			# already configured here: just make
	blog="${TMPDIR:-/tmp}/tlspolicy-demo-build.$$.log"
	make -s -j"$(nproc)" >"$blog" 2>&1 ||
	    { tail -n 30 "$blog"; echo "demo: build failed (log: $blog)"; exit 1; }
	rm -f "$blog"
else
	builddir=$top/build/demo
	mkdir -p "$builddir"
	# shellcheck disable=SC2015 # any failure: show the log and stop
	{ [ -x configure ] || autoreconf -fi; } >"$top/build/demo.log" 2>&1 &&
	    (cd "$builddir" && "$top/configure" -q && make -s -j"$(nproc)") >>"$top/build/demo.log" 2>&1 ||
	    { tail -n 30 "$top/build/demo.log"; echo "demo: build failed"; exit 1; }
fi
milter="$builddir/milter/tlspolicy-milter"
[ -x "$milter" ] || { echo "demo: no $milter after the build"; exit 1; }
echo "   built $milter"

# shellcheck source=SCRIPTDIR/lib/daemon.sh
. "$top/tests/lib/daemon.sh"	# free ports, the milter started and stopped by its PID
# shellcheck source=SCRIPTDIR/postfix/lab.sh
. "$top/tests/postfix/lab.sh"	# picks free ports for the three listeners
work=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-demo.XXXXXX") || exit 1
chmod 755 "$work"
tl_free_port port || exit 1
mpid=""
bad=0
stop_all() {
	tl_milter_stop "$mpid" || bad=1
	mpid=""
	(lab_stop "$work/lab") || echo "demo: could not stop the lab cleanly"
}
trap 'stop_all; echo "demo: stopped early; kept $work"' EXIT
trap 'exit 1' INT TERM HUP

echo "== starting a private Postfix on 127.0.0.1: MX (stands for 25) on $LAB_MX_PORT," \
    "submission (587) on $LAB_SUB_PORT, submissions (465) on $LAB_SMTPS_PORT"
(lab_start "$work/lab" "$port") || { echo "demo: Postfix did not start"; exit 1; }
echo "== starting tlspolicy-milter with its built-in policy (no -c) on inet:$port@127.0.0.1, as user nobody"
tl_milter_start "inet:$port@127.0.0.1" "$work/milter.log" \
    "$milter" -f -u nobody -p "inet:$port@127.0.0.1" || exit 1
mpid=$TL_PID
echo "   the policy it enforces (tlspolicy-milter -n):"
"$milter" -n 2>&1 | awk '/^listener|^\[default\]/ { print; getline; print }' | sed 's/^/     /'

n=0
# session TITLE PORT EXPECT-REPLY EXPECT-OUTCOME SWAKS-ARGS...
session() {
	title=$1 p=$2 expect=$3 want=$4
	shift 4
	n=$((n + 1))
	tl_free_port cport || { bad=1; return; }
	echo
	echo "-- $n. $title"
	swaks --server 127.0.0.1 --port "$p" --local-interface 127.0.0.1 --local-port "$cport" \
	    --from alice@example.test --to bob@example.test --helo client.example \
	    --timeout 20 "$@" >"$work/session$n.out" 2>&1 </dev/null
	tried=$(grep -E '^ *[~-]> (STARTTLS|AUTH|MAIL FROM)' "$work/session$n.out" |
	    sed -e 's/^ *[~-]> //' -e 's/^\(AUTH [A-Z]*\).*/\1 (password of alice@example.test)/' |
	    paste -sd ';' - | sed 's/;/, then /g')
	case " $* " in
	*" --tlsc "*) echo "   (TLS from the first byte: implicit TLS)" ;;
	esac
	echo "   the client sent: EHLO, then $tried"
	reply=$(awk '/^ *[~-]> MAIL FROM:/ { w = 1; next }
	    w && /^ *<[~*-]/ { sub(/^ *<[~*-]\**  */, ""); print; exit }' "$work/session$n.out")
	echo "   the server answered MAIL FROM with: ${reply:-nothing}"
	queued=$(grep -o 'queued as [A-Z0-9]*' "$work/session$n.out")
	[ -n "$queued" ] && echo "   the message was accepted ($queued)"
	line=""
	i=0
	while [ -z "$line" ] && [ $i -lt 20 ]; do
		line=$(grep " client_port=$cport " "$work/milter.log" | grep ' outcome=')
		[ -n "$line" ] || { i=$((i + 1)); sleep 0.1; }
	done
	echo "   the milter's decision line:"
	printf '%s\n' "${line:-(none)}" | sed 's/^[^ ]* [^ ]* [^ ]* //' | fold -s -w 88 | sed 's/^/     /'
	case "$reply" in
	"$expect"*) ;;
	*) echo "   UNEXPECTED: the client should have seen $expect"; bad=1; return ;;
	esac
	case "$line" in
	*" outcome=$want "*) echo "   as expected: $expect, outcome=$want" ;;
	*) echo "   UNEXPECTED: the decision should say outcome=$want"; bad=1 ;;
	esac
}

PW="--auth-user alice@example.test --auth-password $LAB_PASSWORD"
session "MX (25): plaintext mail from the internet, no AUTH -> accepted" \
    "$LAB_MX_PORT" 250 accept
session "submission (587): plaintext, no AUTH -> refused, STARTTLS first" \
    "$LAB_SUB_PORT" "530 5.7.0" reject
# shellcheck disable=SC2086
session "submission (587): password sent in plaintext -> refused, recorded as credential exposure" \
    "$LAB_SUB_PORT" "538 5.7.11" reject --auth PLAIN $PW
# shellcheck disable=SC2086
session "submission (587): STARTTLS, then AUTH -> accepted" \
    "$LAB_SUB_PORT" 250 accept --tls --auth PLAIN $PW
# shellcheck disable=SC2086
session "submissions (465): implicit TLS, AUTH -> accepted" \
    "$LAB_SMTPS_PORT" 250 accept --tlsc --auth PLAIN $PW

echo
stop_all
trap - EXIT
for p in "$LAB_MX_PORT" "$LAB_SUB_PORT" "$LAB_SMTPS_PORT" "$port"; do
	lab_listening "$p" && { echo "demo: something still listens on $p"; bad=1; }
done
if [ $bad -eq 0 ]; then
	rm -rf "$work"
	echo "== demo finished: all $n sessions decided as expected; Postfix and the milter are stopped"
else
	echo "== demo finished with UNEXPECTED results; kept $work (milter.log, session*.out, lab/log/maillog)"
fi
exit $bad
