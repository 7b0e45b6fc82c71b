#!/bin/sh
# check_report.sh - tlspolicy-report over a known audit log: the text
# report matches the hand-counted expected output exactly, the exit status
# says a malformed line was found, --html is one self-contained, well-formed
# page with every section of the text report (cipher section included) and
# its SVG charts, --json carries the same counts; then the hostile-input
# corpus, the bounded property test, the rotated, compressed, shuffled
# file set checked with the real verifier, and the month acceptance test
# (statement, exceptions, buckets, filters, tampered log), the seal
# coverage of a log the real milter sealed (seal.py, as root), and the
# rendering of a real `tlspolicy-milter --simulate --json` run
# (simulation.py: every count and table row, escaping, malformed
# documents), and the same output whether tlspolicy-milter --report-data
# or the report's own code aggregated (parity.py), all in tests/report/.
# Rendering in headless Chromium is tests/report-html.sh.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
src=${SRCDIR:-$(dirname "$0")}
report="$(cd "$top/report" && pwd)/tlspolicy-report"
log="$src/data/audit-sample.jsonl"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
w=$(mktemp -d "${TMPDIR:-/tmp}/check_report.XXXXXX")
trap 'rm -rf "$w"' EXIT

(cd "$src/data" && python3 "$report" --no-verify audit-sample.jsonl) >"$w/out.txt"
rc=$?
[ "$rc" -eq 1 ] && ok "a log with a malformed line: exit 1" || ko "exit $rc, want 1"
if diff -u "$src/data/report-sample.txt" "$w/out.txt"; then
	ok "text report matches the known counts"
else
	ko "text report differs"
fi
for want in "  mx                           2         1   50.0%" \
    "  submission                   3         2   66.7%" \
    "Credential exposures (AUTH over plaintext): 1" \
    "client=203.0.113.9 user=- listener=mx rule=require-tls count=2" \
    "audit-sample.jsonl:10: not JSON" \
    "  submission (port 587): NOT MET"; do
	grep -qF -- "$want" "$w/out.txt" && ok "text has '$want'" || ko "missing '$want'"
done

python3 "$report" --no-verify --html "$log" >"$w/out.html"
rc=$?
[ "$rc" -eq 1 ] && ok "--html: exit 1" || ko "--html exit $rc"
if python3 - "$w/out.html" "$w/out.txt" <<'PY'
import sys
from html.parser import HTMLParser
void = {"meta", "br", "img", "input", "link", "hr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.svgs, self.bars, self.bad, self.h2 = [], 0, 0, [], []
        self.in_h2 = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "rect" and (a.get("class") or "").startswith("bar"):
            self.bars += 1
        for k in ("src", "href"):
            if k in a:
                self.bad.append(tag + " " + k)
        self.in_h2 = tag == "h2"
        if tag not in void:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in void:
            self.stack.pop()
    def handle_data(self, data):
        if self.in_h2:
            self.h2.append(data.split(":")[0].strip())
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()
        self.in_h2 = False
p = P()
text = open(sys.argv[1], encoding="utf-8").read()
p.feed(text)
assert not p.stack, f"unclosed {p.stack}"
# 2 trend charts (one per listener) + encrypted share, versions, ciphers, rules
assert p.svgs == 6, f"{p.svgs} charts"
# trend: mx 1+1 + would, submission 1+1+1 + refused + exposure = 8; share 2,
# versions 3, ciphers 3, rules 3
assert p.bars == 8 + 2 + 3 + 3 + 3, f"{p.bars} bars"
assert not p.bad and "url(" not in text and "@import" not in text, p.bad
want = ["Compliance statement", "Integrity of the evidence", "Seal coverage",
        "Trends per hour",
        "Encrypted sessions per listener", "TLS versions", "Ciphers",
        "Decisions by rule", "Credential exposures",
        "Would have been refused (report mode)", "Malformed lines"]
assert p.h2 == want, p.h2
# the same sections as the text report, in the same order
import re
heads = [re.split(r" \(|:", line)[0] for line in
         open(sys.argv[2], encoding="utf-8").read().splitlines()[3:]
         if line[:1].isalpha()]
assert heads == [re.split(r" \(|:", h)[0] for h in want], heads
assert "audit-sample.jsonl:10: not JSON" in text
PY
then
	ok "--html: one self-contained page, the text report's sections in its order, 6 SVG charts, 19 bars"
else
	ko "--html page"
fi

python3 "$report" --no-verify --json "$log" >"$w/out.json"
if python3 - "$w/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = {s["listener"]: s for s in d["statements"]}
assert d["records"] == 9 and d["malformed"]["count"] == 1, d["records"]
assert st["submission"]["sessions"] == 3 and st["submission"]["result"] == "not met"
assert st["submission"]["exceptions"] == 1 and st["mx"]["exceptions"] == 2
assert st["mx"]["outcomes"]["would-reject"] == 2
assert d["integrity"]["verified"] is None
PY
then ok "--json: the same counts"; else ko "--json counts"; fi

python3 "$report" >/dev/null 2>&1
[ $? -eq 2 ] && ok "no file: usage, exit 2" || ko "no-file exit"
python3 "$report" --no-verify "$w/does-not-exist" >/dev/null 2>"$w/err"
[ $? -eq 2 ] && grep -q "cannot read" "$w/err" && ! grep -q Traceback "$w/err" &&
    ok "unreadable file: exit 2, no traceback" || ko "unreadable file"
python3 "$report" --no-verify --from 2026-13-01 "$log" >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad --from: exit 2" || ko "bad --from"
python3 "$report" --help | grep -q "^  2  usage error" && ok "--help documents the exit status" ||
    ko "--help exit status"

# The integrity tests run the real verifier (make check exports MILTER).
milter=${MILTER:-$top/build/normal/milter/tlspolicy-milter}
[ -x "$milter" ] || ko "no tlspolicy-milter to verify with (set MILTER)"
for t in hostile fuzz chain month seal simulation parity; do
	set -- "$report"
	case $t in chain | month | seal | simulation | parity) set -- "$report" "$milter" ;; esac
	python3 "$top/tests/report/$t.py" "$@" >"$w/$t.out" 2>&1
	rc=$?
	line=$(tail -1 "$w/$t.out")
	if [ "$rc" -eq 0 ]; then ok "tests/report/$t.py: $line"; else
		grep FAIL "$w/$t.out" | head -20
		tail -3 "$w/$t.out"
		ko "tests/report/$t.py: $line"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
