#!/bin/sh
# check_prometheus.sh - contrib/prometheus/ is valid for Prometheus:
# `promtool check rules` on the alert rules, `promtool check config` on the
# scrape config example (which loads the rules too), and `promtool test
# rules` on their unit tests (each alert fires where it should, with its
# labels and text, and stays quiet where it should not).
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
dir="$top/contrib/prometheus"
passed=0
failed=0

check() {	# check WHAT COMMAND...
	what=$1
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1)); echo "PASS: $what"
	else
		failed=$((failed + 1)); echo "FAIL: $what"; echo "$out"
	fi
}

if ! command -v promtool >/dev/null 2>&1; then
	# a package build without Prometheus; tests/metrics/run.sh runs this
	# script too and fails there without promtool
	echo "SKIP: promtool is not installed (Debian: prometheus)"
	exit 77
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/check_prometheus.XXXXXX")
trap 'rm -rf "$w"' EXIT
# promtool resolves rule_files against the config's directory: work on
# copies, so a read-only source tree (make distcheck) is fine.
cp "$dir/prometheus.yml" "$dir/tlspolicy-milter.rules.yml" \
    "$dir/tlspolicy-milter.rules.test.yml" "$w/"
check "promtool check rules tlspolicy-milter.rules.yml" \
    promtool check rules "$w/tlspolicy-milter.rules.yml"
check "promtool check config prometheus.yml" \
    promtool check config "$w/prometheus.yml"
check "promtool test rules tlspolicy-milter.rules.test.yml" \
    sh -c "cd '$w' && promtool test rules tlspolicy-milter.rules.test.yml"
for a in TlspolicyMilterDown TlspolicyCredentialExposure \
    TlspolicyAuditWriteFailures TlspolicyAuditStageFilling \
    TlspolicyConfigReloadFailed TlspolicyRefusedShareHigh; do
	check "alert $a has a rule and a test" sh -c \
	    "grep -q 'alert: $a\$' '$w/tlspolicy-milter.rules.yml' &&
	     grep -q 'alertname: $a\$' '$w/tlspolicy-milter.rules.test.yml'"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
