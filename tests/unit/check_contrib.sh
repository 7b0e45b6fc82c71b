#!/bin/sh
# check_contrib.sh - the contrib/ files an admin installs are valid: the
# systemd unit passes `systemd-analyze verify` (with the built binary in
# place of the installed path), and the logrotate file passes a logrotate
# dry run.
#
# The Postfix snippets parse without a warning with Postfix's own
# postconf (main.cf added to an empty config, master.cf's services added
# to the system's internal services), and they set the recommended
# deployment, as postconf reads it: Postfix prevents (smtpd_tls_auth_only
# yes in main.cf and on submission), the milter decides and records
# (submission at smtpd_tls_security_level may, not encrypt, so a
# plaintext MAIL FROM reaches the milter); milter_default_action
# tempfail.  README shows the same submission service and the same
# smtpd_milters line as the snippets, and so does tlspolicy-milter(8).
# The sample config's report-mode example, switched on, keeps
# auth-requires-tls at reject (tlspolicy-milter -n).
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
bin=${MILTER:-$top/milter/tlspolicy-milter}
fail=0
w=$(mktemp -d "${TMPDIR:-/tmp}/check_contrib.XXXXXX")
trap 'rm -rf "$w"' EXIT
sed "s#/usr/sbin/tlspolicy-milter#$bin#g" "$top/contrib/tlspolicy-milter.service" \
    >"$w/tlspolicy-milter.service"
if out=$(systemd-analyze verify --man=no "$w/tlspolicy-milter.service" 2>&1) && [ -z "$out" ]; then
	echo "PASS: systemd-analyze verify tlspolicy-milter.service"
else
	echo "FAIL: systemd-analyze verify: $out"; fail=1
fi
for k in NoNewPrivileges ProtectSystem=strict ProtectHome PrivateTmp ReadWritePaths \
    RestrictAddressFamilies CapabilityBoundingSet SystemCallFilter; do
	grep -q "^$k" "$w/tlspolicy-milter.service" || { echo "FAIL: unit lacks $k"; fail=1; }
done
sed "s#/var/log/tlspolicy-milter/#$w/#; s#create 0640 tlspolicy-milter adm#create 0640 root root#; s#su tlspolicy-milter adm#su root root#" \
    "$top/contrib/tlspolicy-milter.logrotate" >"$w/logrotate.conf"
: >"$w/audit.jsonl"
if out=$(logrotate -d -s "$w/state" "$w/logrotate.conf" 2>&1) &&
    ! echo "$out" | grep -qi 'error'; then
	echo "PASS: logrotate -d accepts tlspolicy-milter.logrotate"
else
	echo "FAIL: logrotate: $out"; fail=1
fi
grep -q 'kill -USR1' "$top/contrib/tlspolicy-milter.logrotate" || { echo "FAIL: logrotate does not send SIGUSR1"; fail=1; }

# The Postfix snippets, read by postconf.
pf="$w/postfix"
mkdir "$pf"
{ echo "compatibility_level = 3.6"; cat "$top/contrib/postfix/main.cf"; } >"$pf/main.cf"
{ cat "$top/contrib/postfix/master.cf"
  # the system's internal services (pickup, cleanup, ...), not its listeners
  awk '/^[a-z]/ { keep = $2 != "inet" } keep' \
      /etc/postfix/master.cf 2>/dev/null; } >"$pf/master.cf"
if ! command -v postconf >/dev/null 2>&1; then
	echo "FAIL: postconf is not installed (Debian package postfix)"; fail=1
elif out=$(postconf -c "$pf" -n 2>&1 >/dev/null; postconf -c "$pf" -P 2>&1 >/dev/null) && [ -z "$out" ]; then
	echo "PASS: postconf reads contrib/postfix/main.cf and master.cf without a warning"
else
	echo "FAIL: postconf on contrib/postfix: $out"; fail=1
fi
if command -v postconf >/dev/null 2>&1; then
	postconf -c "$pf" -P >"$pf/services" 2>/dev/null
	for want in "smtpd_tls_auth_only = yes" "milter_default_action = tempfail"; do
		[ "$(postconf -c "$pf" -n "${want%% *}" 2>/dev/null)" = "$want" ] ||
		    { echo "FAIL: contrib/postfix/main.cf does not set $want"; fail=1; }
	done
	for want in "smtpd_tls_security_level = may" "smtpd_tls_auth_only = yes" \
	    "smtpd_sasl_auth_enable = yes" "milter_macro_daemon_name = submission"; do
		grep -qx "submission/inet/$want" "$pf/services" ||
		    { echo "FAIL: master.cf's submission service does not set $want"; fail=1; }
	done
	for want in "smtpd_tls_wrappermode = yes" "milter_macro_daemon_name = submissions"; do
		grep -qx "submissions/inet/$want" "$pf/services" ||
		    { echo "FAIL: master.cf's submissions service does not set $want"; fail=1; }
	done
	if grep -q '= encrypt$' "$pf/services" || postconf -c "$pf" -n 2>/dev/null | grep -q 'security_level = encrypt'; then
		echo "FAIL: contrib/postfix sets smtpd_tls_security_level=encrypt: Postfix would refuse plaintext MAIL itself and the milter would record no decision"
		fail=1
	fi
fi
# README and tlspolicy-milter(8) show the same.
readme="$top/README.md"
man8="$top/doc/tlspolicy-milter.8"
sed -n '/^submission /,/^[^ ]/p' "$top/contrib/postfix/master.cf" | grep '^  *-o ' |
    sed 's/^ *//' >"$w/sub-options"
[ -s "$w/sub-options" ] || { echo "FAIL: no submission service in contrib/postfix/master.cf"; fail=1; }
while IFS= read -r o; do
	grep -qF -- "$o" "$readme" || { echo "FAIL: README's submission service lacks '$o' (contrib/postfix/master.cf)"; fail=1; }
done <"$w/sub-options"
for o in smtpd_tls_auth_only=yes smtpd_tls_security_level=may smtpd_tls_security_level=encrypt; do
	grep -q "$o" "$man8" || { echo "FAIL: tlspolicy-milter(8) does not explain $o"; fail=1; }
done
milters=$(grep '^smtpd_milters = ' "$top/contrib/postfix/main.cf")
for f in "$readme" "$man8"; do
	grep -vF -- "$milters" "$f" | grep -q '^smtpd_milters *=' &&
	    { echo "FAIL: $f shows another smtpd_milters than contrib/postfix/main.cf ($milters)"; fail=1; }
	grep -qxF -- "$milters" "$f" || { echo "FAIL: $f does not show '$milters'"; fail=1; }
done

# The sample's report-mode example, switched on: everything in report but
# auth-requires-tls.  (The socket, group and user are replaced so that -n
# runs anywhere.)
sed '/^\[listener submission\]/,/^\[/{s/^#action report$/action report/; s/^#\(auth-requires-tls-action .*\)/\1/;}
    s/^socket .*/socket inet:8895@127.0.0.1/; /^socket-group /d; /^userid /d' \
    "$top/contrib/tlspolicy-milter.conf" >"$w/report.conf"
if ! grep -q '^action report$' "$w/report.conf"; then
	echo "FAIL: the sample has no '#action report' example in [listener submission]"; fail=1
elif ! "$bin" -n -R -c "$w/report.conf" >"$w/report.out" 2>&1; then
	echo "FAIL: the sample's report-mode example does not load: $(cat "$w/report.out")"; fail=1
else
	sed -n '/^listener submission /,/^$/p' "$w/report.out" >"$w/report.sub"
	if grep -q ' 1 auth-requires-tls reject ' "$w/report.sub" &&
	    grep -q ' 2 require-tls report ' "$w/report.sub"; then
		echo "PASS: the sample's report-mode example reports require-tls and keeps auth-requires-tls at reject"
	else
		echo "FAIL: the sample's report-mode example, tlspolicy-milter -n:"; cat "$w/report.sub"; fail=1
	fi
fi
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
