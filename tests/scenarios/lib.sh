#!/bin/sh
# lib.sh - the scenario runner shared by the Postfix and Sendmail suites.
# shellcheck shell=sh disable=SC2034
# Sourced; POSIX sh.  The rows live in ./matrix (see its header).
#
# The suite that sources this file sets WORK (a scratch directory), AUDIT
# (the milter's audit file) and MILTER_ERR (the milter's stderr), and
# provides:
#   LAB_MX_PORT, LAB_SUB_PORT, LAB_SMTPS_PORT
#                            the ports of mx / submission / submissions
#   milter_start CONFIG      start the milter with the file made by
#                            scenario_config CONFIG ("-": nothing to start)
#   milter_stop              stop it by its PID (the one below stops
#                            MILTER_PID)
#   mta_log_check CPORT QUEUED REPLY
#                            look in the MTA's log at the session from
#                            client port CPORT: was the message queued
#                            (yes/no) and, when refused, with REPLY
#                            ("CODE X.Y.Z"; "-": not at MAIL FROM)?
#                            Prints why not, or nothing.
# It then calls run_matrix, may call pass/fail for its own cases, and
# ends with summary.
#
# Each session is sent from a client port chosen here (tl_free_port), and
# every check selects the MTA log lines and the audit records by that
# port, so no other traffic can be mistaken for the scenario's.

SCENARIOS=$(cd "$(dirname "${SCENARIO_LIB:-$0}")" 2>/dev/null && pwd)
# shellcheck source=SCRIPTDIR/../lib/daemon.sh
. "$SCENARIOS/../lib/daemon.sh"
passed=0
failed=0
SCEN_LOGIN=alice@example.test
SCEN_PASSWORD=lab-password
: "${SCEN_CLIENT_CERT:=}"	# set by a suite whose lab has a CA
: "${SCEN_CLIENT_KEY:=}"

pass() {
	passed=$((passed + 1))
	echo "PASS: $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1: $2"
}

summary() {
	echo "$passed passed, $failed failed"
}

# mta_port LISTENER - the port of mx / submission / submissions.
mta_port() {
	case "$1" in
	mx) echo "$LAB_MX_PORT" ;;
	submission) echo "$LAB_SUB_PORT" ;;
	submissions) echo "$LAB_SMTPS_PORT" ;;
	esac
}

# scenario_milter_start PREAMBLE CONFIG [EXTRA-LINE] - the milter in the
# foreground on unix:$MILTER_SOCK, its config PREAMBLE, EXTRA-LINE and
# scenario_config CONFIG ("-": nothing to start), its output appended to
# MILTER_ERR; waits until it listens and says it started (tl_milter_start).
# Sets MILTER_PID.  The config of the K-th start is kept as
# AUDIT_OUT.startK.conf, for tests/simulate-replay.sh.
scenario_milter_start() {
	[ "$2" = - ] && return 0
	{ printf '%s\n%s\n' "$1" "${3:-}"; scenario_config "$2"; } >"$WORK/milter.conf"
	echo "--- milter start: $2 ${3:-}" >>"$MILTER_ERR"
	MILTER_STARTS=$((${MILTER_STARTS:-0} + 1))
	[ -z "${AUDIT_OUT:-}" ] || cp "$WORK/milter.conf" "$AUDIT_OUT.start$MILTER_STARTS.conf"
	tl_milter_start -r 'starting: socket' "unix:$MILTER_SOCK" "$MILTER_ERR" \
	    "$MILTER" -f -c "$WORK/milter.conf" -p "unix:$MILTER_SOCK" || return 1
	MILTER_PID=$TL_PID
}

# milter_stop - the suite's milter, MILTER_PID, by its PID (tl_milter_stop);
# a SIGKILL is a failure.  A suite may define its own after this file.
milter_stop() {
	tl_milter_stop "${MILTER_PID:-}" >"$WORK/stop.why" ||
	    fail "milter stop" "$(cat "$WORK/stop.why")"
	MILTER_PID=""
}

# scenario_config CONFIG - the config file with the lab's ports filled in.
scenario_config() {
	sed -e "s/@MX_PORT@/$(mta_port mx)/g" \
	    -e "s/@SUB_PORT@/$(mta_port submission)/g" \
	    -e "s/@SMTPS_PORT@/$(mta_port submissions)/g" "$SCENARIOS/$1"
}

# swaks_session LISTENER TLS AUTH OUT CPORT - one message from client port
# CPORT; the transcript goes to OUT.
swaks_session() {
	_out=$4
	set -- "$1" "$2" "$3" --server 127.0.0.1 --port "$(mta_port "$1")" \
	    --local-interface 127.0.0.1 --local-port "$5" \
	    --from alice@example.test --to bob@example.test \
	    --helo "client-$5.example" --h-Subject "scenario from port $5" \
	    --timeout 20
	case "$2" in
	starttls) set -- "$@" --tls ;;
	starttls-tlsv1.1)	# OpenSSL 3 needs security level 0 for TLSv1.1
		set -- "$@" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' ;;
	starttls-nofs)	# TLSv1.2 with RSA key exchange: no forward secrecy
		set -- "$@" --tls --tls-protocol tlsv1_2 --tls-cipher 'AES128-SHA:@SECLEVEL=0' ;;
	starttls-cert)	# a client certificate signed by the lab's CA
		set -- "$@" --tls --tls-cert "$SCEN_CLIENT_CERT" --tls-key "$SCEN_CLIENT_KEY" ;;
	wrapper) set -- "$@" --tlsc ;;
	esac
	if [ "$3" != none ]; then
		set -- "$@" --auth "$3" --auth-user "$SCEN_LOGIN" \
		    --auth-password "$SCEN_PASSWORD"
	fi
	shift 3
	swaks "$@" >"$_out" 2>&1 </dev/null
}

# mail_reply_line OUT - the reply line the client saw for MAIL FROM.
mail_reply_line() {
	awk '/^ *[~-]> MAIL FROM:/ { want = 1; next }
	     want && /^ *<[~*-]/ { sub(/^ *<[~*-]\**  */, ""); print; exit }' "$1"
}

# final_reply_line OUT - the reply to MAIL FROM or, when the session ended
# before MAIL FROM, the error reply that ended it.
final_reply_line() {
	if grep -Eq '^ *[~-]> MAIL FROM:' "$1"; then
		mail_reply_line "$1"
	else
		awk '/^ *<[~-]?\*+ / { sub(/^ *<[~*-]\**  */, ""); print; exit }' "$1"
	fi
}

# refused_at_mail OUT - the client sent MAIL FROM.
refused_at_mail() {
	grep -Eq '^ *[~-]> MAIL FROM:' "$1"
}

# records_for CPORT - the decision records (every type but the session
# summary) of the session from client port CPORT.
records_for() {
	[ -f "$AUDIT" ] || return 0
	jq -c --arg p "$1" 'select((.client_port | tostring) == $p and .type != "session" and .type != "policy")' "$AUDIT"
}

# session_records_for CPORT - the session summary records of that session.
session_records_for() {
	[ -f "$AUDIT" ] || return 0
	jq -c --arg p "$1" 'select((.client_port | tostring) == $p and .type == "session")' "$AUDIT"
}

# check_session_record CPORT SESSION MAILS - one summary record, written at
# close, for session id SESSION with MAILS MAIL commands.  Prints why not.
check_session_record() {
	_n=0
	while :; do
		_s=$(session_records_for "$1")
		if [ -n "$_s" ] || [ $_n -ge 30 ]; then break; fi
		_n=$((_n + 1))
		sleep 0.1
	done
	[ "$(printf '%s' "$_s" | grep -c .)" -eq 1 ] ||
	    { echo "expected one session summary record for client port $1, got: ${_s:-none}"; return; }
	printf '%s' "$_s" | jq -e --arg s "$2" --argjson m "$3" \
	    '.session == $s and .mails == $m' >/dev/null ||
	    echo "session summary record differs (want session $2, mails $3): $_s"
}

count_records() {
	if [ -f "$AUDIT" ]; then wc -l <"$AUDIT" | tr -d ' '; else echo 0; fi
}

# records_since N - the audit lines after line N.
records_since() {
	[ -f "$AUDIT" ] && tail -n +"$(($1 + 1))" "$AUDIT"
}

# check_reply OUT REPLY TEXT - prints why the reply to MAIL FROM (or the
# one that ended the session before it) differs from REPLY / lacks TEXT.
check_reply() {
	_line=$(final_reply_line "$1")
	case "$_line" in
	"$2"|"$2 "*) ;;
	*) echo "the client got '${_line:-no reply}' (for MAIL FROM, or the reply that ended the session), expected '$2'"; return ;;
	esac
	[ "$3" = - ] && return
	case "$_line" in
	*"$3"*) ;;
	*) echo "reply '$_line' lacks '$3'" ;;
	esac
}

# check_record CPORT OUT TLS RULE OUTCOME TYPE EXPOSURE JQ - exactly one
# record of that session with these fields ("-" rule: none at all), and a
# key=value decision line on the milter's stderr.  Prints why not.
check_record() {
	_cp=$1 _out=$2 _tls=$3 _rule=$4 _outcome=$5 _type=$6 _exp=$7 _jq=$8
	_n=0
	while [ $_n -lt 20 ]; do	# the record is written before the reply;
		_recs=$(records_for "$_cp")	# allow for a slow disk anyway
		[ -n "$_recs" ] || [ "$_rule" = - ] || { _n=$((_n + 1)); sleep 0.1; continue; }
		break
	done
	_k=$(printf '%s' "$_recs" | grep -c .)
	if [ "$_rule" = - ]; then
		[ "$_k" -eq 0 ] || echo "$_k records, expected none: $_recs"
		return
	fi
	[ "$_k" -eq 1 ] || { echo "$_k records from client port $_cp, expected 1${_recs:+: $_recs}"; return; }
	printf '%s' "$_recs" | jq -e --arg r "$_rule" --arg o "$_outcome" \
	    --arg t "$_type" --argjson e "$_exp" \
	    '.rule == $r and .outcome == $o and .type == $t and .exposure == $e and
	     .v != null and .session != null and .client_addr == "127.0.0.1"' >/dev/null ||
	    { echo "record differs (want rule=$_rule outcome=$_outcome type=$_type exposure=$_exp): $_recs"; return; }
	_jq=$(printf '%s' "$_jq" | sed -e "s/@MX_PORT@/$(mta_port mx)/g" \
	    -e "s/@SUB_PORT@/$(mta_port submission)/g" \
	    -e "s/@SMTPS_PORT@/$(mta_port submissions)/g")
	if [ "$_jq" != - ]; then
		printf '%s' "$_recs" | jq -e "$_jq" >/dev/null 2>&1 ||
		    { echo "record fails '$_jq': $_recs"; return; }
	fi
	case "$_outcome" in
	reject|tempfail)
		# the client saw exactly the reply the record names
		_line=$(mail_reply_line "$_out")
		[ "$(printf '%s' "$_recs" | jq -r .reply)" = "$_line" ] ||
		    { echo "client saw '$_line', record says $(printf '%s' "$_recs" | jq .reply)"; return; } ;;
	esac
	case "$_tls" in
	starttls*|wrapper)
		printf '%s' "$_recs" | jq -e '.tls == true and (.tls_version | test("^TLSv1")) and
		    (.cipher | length > 0) and .cipher_bits >= 128' >/dev/null ||
		    { echo "record lacks TLS facts: $_recs"; return; } ;;
	*)
		printf '%s' "$_recs" | jq -e '.tls == false and (has("tls_version") | not)' >/dev/null ||
		    { echo "record says TLS on a plaintext session: $_recs"; return; } ;;
	esac
	grep " client_port=$_cp " "$MILTER_ERR" 2>/dev/null | grep -q " rule=$_rule .*outcome=$_outcome " ||
	    { echo "no key=value decision line with client_port=$_cp rule=$_rule outcome=$_outcome in the milter's stderr"; return; }
	check_session_record "$_cp" "$(printf '%s' "$_recs" | jq -r .session)" 1
}

# run_scenario LINE - one row of the matrix.
run_scenario() {
	IFS='|' read -r _c name listener tls auth reply text queued rule outcome type exposure jqx <<ROW
$1
ROW
	tl_free_port cport >/dev/null || { fail "$name" "no free client port"; return; }
	out="$WORK/scenario-$cport.out"
	before=$(count_records)
	swaks_session "$listener" "$tls" "$auth" "$out" "$cport"
	why=$(check_reply "$out" "$reply" "$text")
	if [ -z "$why" ]; then
		if grep -q 'queued as' "$out"; then q=yes; else q=no; fi
		[ "$q" = "$queued" ] || why="the client was told queued=$q, expected $queued"
	fi
	_at=$reply
	refused_at_mail "$out" || _at=-
	[ -n "$why" ] || why=$(mta_log_check "$cport" "$queued" "$_at")
	[ -n "$why" ] || why=$(check_record "$cport" "$out" "$tls" "$rule" "$outcome" "$type" "$exposure" "$jqx")
	if [ -z "$why" ] && [ "$rule" = - ] && [ "$(count_records)" -ne "$before" ]; then
		why="records were written while the milter was stopped"
	fi
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why"
		echo "    client port $cport; transcript $out:"
		grep -E '^ *(<|->|~>|\*\*\*)' "$out" | grep -v '^ *[~-]>  ' | tail -n 14 | sed 's/^/    /'
	fi
}

# run_matrix [FILE] - every row of FILE (default: matrix), restarting the milter whenever the config changes.
run_matrix() {
	_current=""
	while IFS= read -r _line; do
		case "$_line" in ''|'#'*) continue ;; esac
		_config=${_line%%|*}
		if [ "$_config" != "$_current" ]; then
			milter_stop
			_current=$_config
			if ! milter_start "$_config"; then
				fail "milter with $_config" "did not start"
				_current=""
				continue
			fi
		fi
		run_scenario "$_line"
	done <"$SCENARIOS/${1:-matrix}"
	milter_stop
}
