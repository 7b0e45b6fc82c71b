#!/bin/sh
# report-html.sh - render tlspolicy-report --html in real headless Chromium
# (Debian's chromium) over a generated month of records checked by the real
# verifier, and check the page as a reader gets it: the first line says the
# evidence verified, a compliance statement per listener, a trend chart
# per listener and the four bar charts, nothing loaded from outside; the
# page printed with Chromium's print-to-PDF is A4, and every chart is whole
# on one page (its title and its caption on the same page, no text beyond
# the page's right edge).  A tampered log's page starts with the red line.
# The simulation view: a real `tlspolicy-milter --simulate -c` run of the
# month under min-tls-version TLSv1.3 on submission, rendered with
# `tlspolicy-report --simulation --html`, screenshot to PNG and printed;
# the printed text has each listener with its counts, the rule and the
# first client the milter computed.
# With SCREENSHOT=path it also writes a PNG of the page (doc/report.png),
# with SIMSCREENSHOT=path one of the simulation view.
#
#   sh tests/report-html.sh [MILTER]
#
# MILTER defaults to build/normal/milter/tlspolicy-milter.
# Prints "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
milter=${1:-${MILTER:-$top/build/normal/milter/tlspolicy-milter}}
w=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-report.XXXXXX")
trap 'rm -rf "$w"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
die() { echo "FAIL: $1"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
command -v chromium >/dev/null || die "chromium is not installed"
command -v pdftotext >/dev/null || die "pdftotext (poppler-utils) is not installed"
[ -x "$milter" ] || die "no verifier at $milter (build first, or give its path)"
milter=$(cd "$(dirname "$milter")" && pwd)/$(basename "$milter")
# the policy in force, as the milter prints it, in a start policy record
printf '%s\n' 'socket unix:/run/tlspolicy-milter/milter.sock' \
    '[listener submission]' 'port 587' 'require-tls yes' 'require-auth yes' \
    'min-tls-version TLSv1.2' '[listener submissions]' 'port 465' \
    'require-tls yes' 'require-auth yes' 'min-tls-version TLSv1.2' \
    'action report' '[listener mx]' 'port 25' >"$w/policy.conf"
(cd "$w" && "$milter" -n -c policy.conf) >"$w/policy.txt" 2>/dev/null || die "$milter -n"
python3 "$top/tests/report/gen.py" month "$w/audit.jsonl" "$w/policy.txt" || die "gen.py month"
(cd "$w" && "$top/report/tlspolicy-report" --html --verifier "$milter" audit.jsonl) >"$w/report.html" ||
    die "tlspolicy-report --html: exit $?"
chrome() {
	_profile=$1
	shift
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$w/profile-$_profile" "$@" 2>>"$w/chromium.log"
}

chrome dom --dump-dom "file://$w/report.html" >"$w/dom.html"
n_svg=$(grep -o '<svg[^>]*class="chart"' "$w/dom.html" | wc -l)
n_trend=$(grep -o 'sessions by security level, refusals and exposures per day' "$w/dom.html" | wc -l)
n_bar=$(grep -o '<rect class="bar' "$w/dom.html" | wc -l)
[ "$n_svg" -eq 7 ] && ok "Chromium renders 7 SVG charts" || ko "$n_svg SVG charts in the rendered page"
[ "$n_trend" -ge 3 ] && ok "a daily trend chart per listener (3)" || ko "$n_trend trend charts"
[ "$n_bar" -ge 200 ] && ok "the charts have their bars ($n_bar)" || ko "$n_bar bars"
grep -q '<p class="good" id="first-line">Evidence verified: ' "$w/dom.html" &&
    ok "first line: the evidence verified" || ko "first line"
grep -q 'Listener submission (port 587): <span class="not-met">not met' "$w/dom.html" &&
    grep -q 'Listener mx (port 25): <span class="met">met' "$w/dom.html" &&
    ok "a compliance statement per listener with its result" || ko "statements"
grep -q 'start [0-9a-f]\{12\}: require-tls yes; require-auth yes; auth-requires-tls yes; min-tls-version TLSv1.2; action reject' "$w/dom.html" &&
    ok "the policy in force is on the page" || ko "policy in force missing"
grep -q "leaky3@example.test" "$w/dom.html" && ok "the planted exception is listed" ||
    ko "exception missing"
if grep -Eq '(src|href)="(https?:)?//|url\(' "$w/report.html"; then ko "the page loads external assets"; else ok "self-contained: no external assets"; fi

shot=${SCREENSHOT:-$w/report.png}
chrome shot --window-size=1100,2200 --hide-scrollbars --screenshot="$shot" \
    "file://$w/report.html" >/dev/null
[ -s "$shot" ] && ok "screenshot written ($(wc -c <"$shot") bytes)" || ko "no screenshot"

chrome pdf --no-pdf-header-footer --print-to-pdf="$w/report.pdf" \
    "file://$w/report.html" >/dev/null
if [ -s "$w/report.pdf" ]; then
	pages=$(pdfinfo "$w/report.pdf" | awk '/^Pages:/ {print $2}')
	pdfinfo "$w/report.pdf" | grep -q '^Page size:.*(A4)' &&
	    ok "printed to PDF: A4, $pages pages" || ko "PDF page size: $(pdfinfo "$w/report.pdf" | grep 'Page size')"
	[ "$pages" -ge 3 ] || ko "only $pages pages: the page-break test means nothing"
	# the page of each figure's title and of its caption
	whole=0
	cut=""
	p=1
	while [ "$p" -le "$pages" ]; do
		pdftotext -f "$p" -l "$p" "$w/report.pdf" "$w/page$p.txt"
		p=$((p + 1))
	done
	for f in 1 2 3 4 5 6 7; do
		top_p=$(grep -l "Figure $f\. " "$w"/page*.txt | sed 's/.*page\([0-9]*\)\.txt/\1/')
		cap_p=$(grep -l "fig\. $f: " "$w"/page*.txt | sed 's/.*page\([0-9]*\)\.txt/\1/')
		if [ -n "$top_p" ] && [ "$top_p" = "$cap_p" ]; then
			whole=$((whole + 1))
		else
			cut="$cut fig.$f(title p.${top_p:-?}, caption p.${cap_p:-?})"
		fi
	done
	[ "$whole" -eq 7 ] && ok "every chart whole on its page (7 of 7)" ||
	    ko "charts cut by a page break:$cut"
	pdftotext -bbox "$w/report.pdf" "$w/bbox.html"
	if python3 - "$w/bbox.html" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
bad = []
for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', text, re.S):
    width = float(page.group(1))
    for m in re.finditer(r'xMax="([\d.]+)"[^>]*>([^<]*)<', page.group(3)):
        if float(m.group(1)) > width:
            bad.append(m.group(2))
sys.exit(1 if bad else 0)
PY
	then ok "no text beyond the right edge of the page"; else ko "text cut at the right edge"; fi
else
	ko "no PDF printed"
fi

# a tampered log: the page opens with the red line
n=$(awk 'NR >= 200 && /example\.test/ {print NR; exit}' "$w/audit.jsonl")
sed "${n}s/example\.test/evil.test/" "$w/audit.jsonl" >"$w/tampered.jsonl"
"$top/report/tlspolicy-report" --html --verifier "$milter" "$w/tampered.jsonl" >"$w/tampered.html"
rc=$?
chrome tdom --dump-dom "file://$w/tampered.html" >"$w/tdom.html"
[ "$rc" -eq 1 ] && grep -q "<p class=\"alarm\" id=\"first-line\">EVIDENCE DOES NOT VERIFY: .*tampered.jsonl:$n: hash mismatch" "$w/tdom.html" &&
    ok "tampered log: the page's first line says the evidence does not verify, exit 1" ||
    ko "tampered log page (exit $rc)"
# the simulation view: a real replay of the month under a stricter
# submission listener (min-tls-version TLSv1.3), rendered and printed
sed '0,/min-tls-version TLSv1.2/s//min-tls-version TLSv1.3/' "$w/policy.conf" >"$w/strict.conf"
(cd "$w" && "$milter" --simulate -c strict.conf --json audit.jsonl) >"$w/sim.json" ||
    die "$milter --simulate: exit $?"
"$top/report/tlspolicy-report" --simulation "$w/sim.json" --html >"$w/sim.html" ||
    die "tlspolicy-report --simulation --html: exit $?"
simshot=${SIMSCREENSHOT:-$w/sim.png}
chrome simshot --window-size=1100,1400 --hide-scrollbars --screenshot="$simshot" \
    "file://$w/sim.html" >/dev/null
if python3 - "$simshot" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, size = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IHDR":
        size = struct.unpack(">II", data[pos + 8:pos + 16])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
ink = sum(1 for b in raw[::7] if b < 0x80)
assert size == (1100, 1400), size
assert ink > len(raw) // 7 // 200, (ink, len(raw))
PY
then ok "simulation view: a 1100x1400 PNG with text on it ($(wc -c <"$simshot") bytes)"; else ko "simulation screenshot"; fi
chrome simpdf --no-pdf-header-footer --print-to-pdf="$w/sim.pdf" "file://$w/sim.html" >/dev/null
pdftotext -layout "$w/sim.pdf" - 2>/dev/null | tr -s ' \n' '  ' >"$w/sim.txt"
# what a reader sees: per listener its heading and counts, the rule that
# newly refuses, and the first client, as the milter computed them
if python3 - "$w/sim.json" "$w/sim.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
seen = open(sys.argv[2]).read()
f = "{:,}".format
by = {ls["listener"]: ls for ls in d["listeners"]}
assert sorted(by) == ["mx", "submission", "submissions"], sorted(by)
sub = by["submission"]
assert sub["newly_refused"] > 0 and list(sub["newly_refused_by_rule"]) == ["min-tls-version"]
assert by["submissions"]["newly_refused"] == 0 and by["mx"]["newly_refused"] == 0
bad = []
want = ["of %s decisions replayed would change: newly refused %s" % (
    f(d["replayed"]), f(d["newly_refused"]))]
for name, ls in by.items():
    want.append("Listener %s %s decisions replayed: unchanged %s, newly refused %s,"
                " newly accepted %s" % (name, f(ls["replayed"]), f(ls["unchanged"]),
                                        f(ls["newly_refused"]), f(ls["newly_accepted"])))
want.append("Newly refused by rule: min-tls-version %s." % f(sub["newly_refused"]))
top = sorted(sub["clients"], key=lambda r: (-r["count"], r["address"], r["helo"]))[0]
want.append("%s %s %s %s %s" % (top["address"], top["helo"], f(top["count"]),
                                top["first"], top["last"]))
bad = [x for x in want if x not in seen]
assert not bad, bad
print("submission newly refused %d" % sub["newly_refused"])
PY
then ok "simulation view printed: every listener with its counts, the rule, the first client"
else ko "simulation view as printed"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
