#!/bin/sh
# check_contrib.sh - the contrib/ files an admin installs are valid: the
# systemd unit passes `systemd-analyze verify` (with the built binary in
# place of the installed path), and the logrotate file passes a logrotate
# dry run.
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
exit $fail
