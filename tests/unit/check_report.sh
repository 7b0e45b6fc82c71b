#!/bin/sh
# check_report.sh - tlspolicy-report over a known audit log: the text
# report matches the hand-counted expected output exactly, and --html is
# one self-contained, well-formed page with its three SVG charts and no
# external asset.  (Rendering in headless Chromium is not done here.)
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=${TOP_SRCDIR:-$(dirname "$0")/../..}
src=${SRCDIR:-$(dirname "$0")}
report="$top/report/tlspolicy-report"
log="$src/data/audit-sample.jsonl"
fail=0
w=$(mktemp -d "${TMPDIR:-/tmp}/check_report.XXXXXX")
trap 'rm -rf "$w"' EXIT

python3 "$report" "$log" >"$w/out.txt" || { echo "FAIL: report exit $?"; fail=1; }
if diff -u "$src/data/report-sample.txt" "$w/out.txt"; then
	echo "PASS: text report matches the known counts"
else
	echo "FAIL: text report differs"; fail=1
fi
for want in "submission                   3         2   66.7%" \
    "mx                           2         1   50.0%" \
    "Credential exposures (AUTH over plaintext): 1" \
    "client=203.0.113.9 user=- listener=mx rule=require-tls count=2"; do
	grep -qF "$want" "$w/out.txt" || { echo "FAIL: missing '$want'"; fail=1; }
done

python3 "$report" --html "$log" >"$w/out.html" || { echo "FAIL: --html exit $?"; fail=1; }
if python3 - "$w/out.html" <<'PY'
import sys
from html.parser import HTMLParser
void = {"meta", "br", "img", "input", "link", "hr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.svgs, self.bars, self.bad = [], 0, 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "rect" and a.get("class") == "bar":
            self.bars += 1
        for k in ("src", "href"):
            if k in a:
                self.bad.append(tag + " " + k)
        if tag not in void and tag not in ("rect",):
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in void and tag != "rect":
            self.stack.pop()
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()
p = P()
text = open(sys.argv[1], encoding="utf-8").read()
p.feed(text)
assert not p.stack, f"unclosed {p.stack}"
assert p.svgs == 3, f"{p.svgs} charts"
assert p.bars == 2 + 3 + 3, f"{p.bars} bars"
assert not p.bad and "url(" not in text and "@import" not in text, p.bad
PY
then
	echo "PASS: --html: one self-contained page, 3 SVG charts, 8 bars"
else
	echo "FAIL: --html page"; fail=1
fi
python3 "$report" >/dev/null 2>&1
[ $? -eq 2 ] && echo "PASS: no file: usage, exit 2" || { echo "FAIL: no-file exit"; fail=1; }
exit $fail
