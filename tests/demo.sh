#!/bin/sh
# demo.sh - README command 1: build the milter and watch it decide behind a
# real Postfix on loopback, with the built-in policy and no config file.
#
#   sh tests/demo.sh
#
# Installs what is missing (apt-get), builds in build/demo, starts a
# private Postfix (tests/postfix/lab.sh: its own directories, listeners on
# 10025/10587/10465 standing for 25/587/465, named mx/submission/
# submissions) and the milter, plays four sessions with swaks, prints what
# the client saw and the milter's decision line, and stops everything it
# started.  Exit 0 only when every session went as expected.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/deps.sh"
deps_install || exit 1
. "$top/tests/postfix/lab.sh"

echo "== building"
cd "$top" || exit 1
[ -f config.status ] && make -s distclean >/dev/null 2>&1
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }
mkdir -p build/demo
(cd build/demo && "$top/configure" -q && make -s -j"$(nproc)") >build/demo.log 2>&1 ||
    { tail -n 30 build/demo.log; echo "build failed"; exit 1; }
milter="$top/build/demo/milter/tlspolicy-milter"

work=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-demo.XXXXXX")
chmod 755 "$work"
port=$((19000 + $$ % 1000))
mpid=""
stop_all() {
	[ -n "$mpid" ] && kill -TERM "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
	mpid=""
	(lab_stop "$work/lab") 2>/dev/null
}
trap stop_all EXIT
trap 'exit 1' INT TERM

echo "== starting a private Postfix on 127.0.0.1 (MX $LAB_MX_PORT, submission $LAB_SUB_PORT, submissions $LAB_SMTPS_PORT)"
(lab_start "$work/lab" "$port") || { echo "Postfix did not start"; exit 1; }
echo "== starting tlspolicy-milter with its built-in policy on inet:$port@127.0.0.1, as user nobody"
"$milter" -f -u nobody -p "inet:$port@127.0.0.1" 2>"$work/milter.log" &
mpid=$!
i=0
until lab_listening "$port"; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$work/milter.log"; exit 1; }; sleep 0.1
done
"$milter" -n | sed -n '/^listener\|^\[default\]/,/^$/p' | sed 's/^/   /'

bad=0
# session TITLE LISTENER-PORT EXPECT SWAKS-ARGS...
session() {
	title=$1 p=$2 expect=$3
	shift 3
	echo
	echo "-- $title"
	n=$(wc -l <"$work/milter.log")
	swaks --server 127.0.0.1 --port "$p" --from alice@example.test \
	    --to bob@example.test --helo client.example "$@" >"$work/s.out" 2>&1 </dev/null
	reply=$(awk '/^ *[~-]> MAIL FROM:/ { w = 1; next } w && /^ *<[~*-]/ { sub(/^ *<[~*-]\**  */, ""); print; exit }' "$work/s.out")
	echo "   client saw for MAIL FROM: $reply"
	grep -q 'queued as' "$work/s.out" && echo "   message accepted: $(grep -o 'queued as [A-Z0-9]*' "$work/s.out")"
	sleep 0.1
	echo "   decision line:"
	tail -n +"$((n + 1))" "$work/milter.log" | grep ' outcome=' |
	    sed 's/^[^ ]* [^ ]* [^ ]* //' | fold -s -w 90 | sed 's/^/     /'
	case "$reply" in
	"$expect"*) echo "   as expected ($expect)" ;;
	*) echo "   UNEXPECTED (wanted $expect)"; bad=1 ;;
	esac
}
session "MX (25): plaintext mail from the internet is accepted" "$LAB_MX_PORT" 250
session "submission (587): plaintext, no AUTH -> refused, STARTTLS first" "$LAB_SUB_PORT" "530 5.7.0"
session "submission (587): password sent in plaintext -> refused, recorded as credential exposure" \
    "$LAB_SUB_PORT" "538 5.7.11" --auth PLAIN --auth-user alice@example.test --auth-password lab-password
session "submission (587): STARTTLS + AUTH -> accepted" "$LAB_SUB_PORT" 250 \
    --tls --auth PLAIN --auth-user alice@example.test --auth-password lab-password
echo
stop_all
trap - EXIT
rm -rf "$work"
if [ $bad -eq 0 ]; then
	echo "== demo finished: all four sessions decided as expected; everything started was stopped"
else
	echo "== demo finished with UNEXPECTED results"
fi
exit $bad
