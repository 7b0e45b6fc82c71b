#!/bin/sh
# report-html.sh - render tlspolicy-report --html in real headless Chromium
# (Debian's chromium) and check the page: three SVG charts with bars, the
# exposure and would-reject tables, nothing loaded from outside.  With
# SCREENSHOT=path it also writes a PNG of the page (docs/report.png).
# Prints "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-report.XXXXXX")
trap 'rm -rf "$w"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
command -v chromium >/dev/null || { echo "FAIL: chromium is not installed"; echo "0 passed, 1 failed"; exit 1; }
"$top/report/tlspolicy-report" --html "$top/tests/unit/data/audit-sample.jsonl" >"$w/report.html" ||
    { echo "FAIL: tlspolicy-report --html"; echo "0 passed, 1 failed"; exit 1; }
chrome() {
	_profile=$1
	shift
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$w/profile-$_profile" "$@" 2>>"$w/chromium.log"
}
chrome dom --dump-dom "file://$w/report.html" >"$w/dom.html"
n_svg=$(grep -o '<svg[^>]*class="chart"' "$w/dom.html" | wc -l)
n_bar=$(grep -o '<rect class="bar"' "$w/dom.html" | wc -l)
[ "$n_svg" -eq 3 ] && ok "Chromium renders 3 SVG charts" || ko "$n_svg SVG charts in the rendered page"
[ "$n_bar" -ge 6 ] && ok "the charts have their bars ($n_bar)" || ko "$n_bar bars"
grep -q 'Credential exposures: 1' "$w/dom.html" && grep -q 'bob@example.test' "$w/dom.html" &&
    ok "the credential exposure is listed with its user" || ko "exposure table missing"
grep -q 'Would have been refused' "$w/dom.html" && grep -q '203.0.113.9' "$w/dom.html" &&
    ok "report-mode clients to fix are listed" || ko "would-reject table missing"
if grep -Eq '(src|href)="(https?:)?//' "$w/report.html"; then ko "the page loads external assets"; else ok "self-contained: no external assets"; fi
shot=${SCREENSHOT:-$w/report.png}
chrome shot --window-size=1000,1300 --screenshot="$shot" "file://$w/report.html" >/dev/null
[ -s "$shot" ] && ok "screenshot written ($(wc -c <"$shot") bytes)" || ko "no screenshot"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
