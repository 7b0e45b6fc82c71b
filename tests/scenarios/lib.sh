# lib.sh - the scenario runner shared by the Postfix and Sendmail suites.
#
# The suite that sources this file provides:
#   mta_port LISTENER       the port of mx / submission / submissions
#   milter_start CONFIG     start the milter with tests/scenarios/CONFIG
#                           (or nothing for "-"), audit log in $AUDIT
#   milter_stop             stop it by its PID
# and sets WORK (a scratch directory) and AUDIT (the audit file).
# It then calls run_matrix, and may call check/pass/fail for its own cases.

SCENARIOS=$(cd "$(dirname "${SCENARIO_LIB:-$0}")" 2>/dev/null && pwd)
passed=0
failed=0
LAB_PASSWORD=lab-password

pass() {
	passed=$((passed + 1))
	echo "PASS: $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1: $2"
}

# swaks_session LISTENER TLS AUTH OUT - one message; transcript in OUT.
swaks_session() {
	set -- "$1" "$2" "$3" "$4" --server 127.0.0.1 --port "$(mta_port "$1")" \
	    --from alice@example.test --to bob@example.test \
	    --helo client.example --timeout 20
	case "$2" in
	starttls) set -- "$@" --tls ;;
	wrapper) set -- "$@" --tlsc ;;
	esac
	if [ "$3" != none ]; then
		set -- "$@" --auth "$3" --auth-user alice@example.test \
		    --auth-password "$LAB_PASSWORD"
	fi
	out=$4
	shift 4
	swaks "$@" >"$out" 2>&1 </dev/null
}

# mail_reply OUT - "CODE X.Y.Z" the server sent for MAIL FROM, or "none".
mail_reply() {
	awk '/^ *[~-]> MAIL FROM:/ { want = 1; next }
	     want && /^ *<[~*-]/ { sub(/^ *<[~*-]\**  */, ""); print $1, $2; exit }
	     END { if (!want) print "none" }' "$1"
}

# mail_reply_line OUT - the whole reply line the client saw for MAIL FROM.
mail_reply_line() {
	awk '/^ *[~-]> MAIL FROM:/ { want = 1; next }
	     want && /^ *<[~*-]/ { sub(/^ *<[~*-]\**  */, ""); print; exit }' "$1"
}

# records_since N - the audit lines after line N.
records_since() {
	[ -f "$AUDIT" ] && tail -n +"$(($1 + 1))" "$AUDIT"
}

count_records() {
	if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi
}

# run_scenario LINE - one row of the matrix.
run_scenario() {
	IFS='|' read -r config name listener tls auth reply queued rule outcome type <<ROW
$1
ROW
	before=$(count_records)
	out="$WORK/swaks.out"
	swaks_session "$listener" "$tls" "$auth" "$out"
	got=$(mail_reply "$out")
	why=""
	case "$got" in
	"$reply"|"$reply "*) ;;
	*) why="MAIL FROM got '$got', expected '$reply'" ;;
	esac
	if grep -q 'queued as' "$out"; then q=yes; else q=no; fi
	[ -n "$why" ] || [ "$q" = "$queued" ] || why="queued=$q, expected $queued"
	[ -n "$why" ] || why=$(check_record "$before" "$rule" "$outcome" "$type" "$tls")
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why"
		sed 's/^/    /' "$out" | grep -E '^ *(<|->|~>|\*\*\*)' | tail -n 12
	fi
}

# check_record BEFORE RULE OUTCOME TYPE TLS - exactly one new record with
# these fields ("-": no record at all); prints why not, or nothing.
check_record() {
	sleep 0.1
	n=$(records_since "$1" | wc -l)
	if [ "$2" = - ]; then
		[ "$n" -eq 0 ] || echo "$n records, expected none"
		return
	fi
	[ "$n" -eq 1 ] || { echo "$n new records, expected 1"; return; }
	rec=$(records_since "$1")
	echo "$rec" | jq -e --arg r "$2" --arg o "$3" --arg t "$4" \
	    '.rule == $r and .outcome == $o and .type == $t' >/dev/null ||
	    { echo "record differs: $rec"; return; }
	case "$3" in
	reject|tempfail)
		# the client saw exactly the reply the record names
		line=$(mail_reply_line "$WORK/swaks.out")
		[ "$(echo "$rec" | jq -r .reply)" = "$line" ] ||
		    { echo "client saw '$line', record says $(echo "$rec" | jq .reply)"; return; } ;;
	esac
	case "$5" in
	starttls|wrapper)
		echo "$rec" | jq -e '.tls == true and (.tls_version | test("^TLSv1")) and
		    (.cipher | length > 0) and .cipher_bits >= 128' >/dev/null ||
		    echo "record lacks TLS facts: $rec" ;;
	*)
		echo "$rec" | jq -e '.tls == false' >/dev/null ||
		    echo "record says TLS on a plaintext session: $rec" ;;
	esac
}

# run_matrix - every row, restarting the milter when the config changes.
run_matrix() {
	current=""
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		config=${line%%|*}
		if [ "$config" != "$current" ]; then
			milter_stop
			milter_start "$config" || { fail "$config" "milter did not start"; current=""; continue; }
			current=$config
		fi
		run_scenario "$line"
	done <"$SCENARIOS/matrix"
	milter_stop
}
