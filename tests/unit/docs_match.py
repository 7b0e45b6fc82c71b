#!/usr/bin/env python3
"""docs_match.py - the rules, replies and audit record version the docs
show are the ones the daemon has.

    python3 docs_match.py TOP POLICY MILTER

TOP is the source tree, POLICY the output of `tlspolicy-milter -n` for a
config that turns every rule on (check_docs.sh writes it), MILTER the
built daemon.  From POLICY: the rule order ("rule order: 1 NAME, ...")
and each rule's built-in reply ("N NAME ACTION "REPLY" (built in)");
the parts a reply fills in per session are shown there as <version>,
<n>, <name>, <class>, and the configured minimums (TLSv1.2, 128) stand
for the minimum.  From include/auditchain.h: the record version.

Checked against them:
  - README.md, the table "rule (checked in this order) | refused with";
  - tlspolicy-milter(8), the list of rules under DESCRIPTION;
  - tlspolicy-milter.conf(5), the list under "Rules";
  - contrib/tlspolicy-milter.conf, the numbered rule list and the
    "#RULE-reply" lines.
Each must name every rule, in the order the daemon checks them, with its
built-in reply: fixed texts identical, filled-in parts either as the
placeholder or as an example value ("TLSv1.1 is below the required
TLSv1.2").  README's audit record example must carry the current "v"
and verify with `MILTER --verify-audit --anchor PREV` (a real record).
Prints one FAIL line per difference and "N checks, N failed"; exit 1 on
any failure.

SPDX-License-Identifier: BSD-2-Clause
Copyright (c) 2026 The tlspolicy-milter authors
"""

import os
import re
import subprocess
import sys
import tempfile

FAILS = []
CHECKS = [0]

# The values of the all-rules config of check_docs.sh that show up in
# replies: they stand for "the configured minimum".
CONFIGURED = ("TLSv1.2", "128")


def check(ok, what):
    CHECKS[0] += 1
    if not ok:
        FAILS.append(what)
        print("FAIL: " + what)
    return ok


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def daemon_rules(policy):
    """[(name, reply)] in checking order, from `-n` output."""
    m = re.search(r"^rule order: (.*?) \(", policy, re.M)
    if not m:
        sys.exit("FAIL: no 'rule order:' line in the -n output")
    names = [re.sub(r"^\d+ ", "", p.strip()) for p in m.group(1).split(",")]
    replies = {}
    for m in re.finditer(r'^\s+(?:replies: )?\s*(\d+) ([a-z-]+) [a-z]+ "(.*)" \(built in\)$',
                         policy, re.M):
        replies.setdefault(m.group(2), m.group(3))
    out = []
    for n in names:
        if n not in replies:
            sys.exit("FAIL: the -n output shows no built-in reply for %s" % n)
        out.append((n, replies[n]))
    return out


def reply_pattern(reply):
    """A regex for a reply: placeholders and configured minimums match a
    placeholder or one word (an example value)."""
    t = reply
    for v in CONFIGURED:
        t = re.sub(r"(?<![\w.])" + re.escape(v) + r"(?![\w.])", "<minimum>", t)
    parts = re.split(r"(<[a-z-]+>)", t)
    rx = ""
    for p in parts:
        if re.fullmatch(r"<[a-z-]+>", p):
            rx += r"(?:<[a-z-]+>|[A-Za-z0-9_.+*-]+)"
        else:
            rx += re.escape(p)
    return re.compile(rx)


def check_list(where, got, rules):
    """got: [(name, reply or None)] as a document shows them."""
    want = [n for n, _ in rules]
    names = [n for n, _ in got]
    check(names == want, "%s names the rules %s; the daemon checks %s"
          % (where, " ".join(names) or "(none)", " ".join(want)))
    replies = dict(rules)
    for n, r in got:
        if n not in replies:
            continue
        if r is None:
            check(False, "%s gives no reply for %s (built in: \"%s\")"
                  % (where, n, replies[n]))
            continue
        check(reply_pattern(replies[n]).fullmatch(r) is not None,
              "%s: the reply of %s is \"%s\"; built in: \"%s\""
              % (where, n, r, replies[n]))


def readme_rules(text):
    m = re.search(r"^\| rule \(checked in this order\) \|.*\n\|[-|]+\|\n((?:\|.*\n)+)",
                  text, re.M)
    if not m:
        return []
    got = []
    for row in m.group(1).splitlines():
        cols = row.strip("|").split("|")
        name = re.search(r"`([a-z-]+)`", cols[0])
        reply = re.search(r"`([0-9]{3} [^`]*)`", cols[1]) if len(cols) > 1 else None
        got.append((name.group(1) if name else cols[0].strip(),
                    reply.group(1) if reply else None))
    return got


def mdoc_section(text, macro, title):
    """The lines of '.Sh TITLE' (or '.Ss TITLE') up to the next one."""
    lines = text.splitlines()
    out, inside = [], False
    for line in lines:
        if re.match(r"^\.(Sh|Ss) ", line):
            if inside and (line.startswith(".Sh") or macro == "Ss"):
                break
            inside = line == ".%s %s" % (macro, title)
            continue
        if inside:
            out.append(line)
    return out


def mdoc_items(lines):
    """[(name, reply)] from the first list in lines whose items name a
    rule with Cm: each item's first '.Cm NAME' (on the .It line or the
    next) and its first '.Dq REPLY' with a reply code."""
    got, item, depth, started = [], None, 0, False
    for line in lines:
        if line.startswith(".Bl "):
            depth += 1
            continue
        if line.startswith(".El"):
            depth -= 1
            if started and depth == 0:
                break
            continue
        if depth != 1:
            continue
        if line.startswith(".It"):
            item = None
            m = re.search(r"\bCm ([a-z-]+)", line)
            if m:
                item = [m.group(1), None]
                got.append(item)
                started = True
            else:
                item = ["", None]
                got.append(item)
            continue
        if item is None:
            continue
        m = re.match(r"^\.Cm ([a-z-]+)", line)
        if m and not item[0]:
            item[0] = m.group(1)
            started = True
        m = re.match(r"^\.Dq ([0-9]{3} [0-9.]+ .*?)(?: [.,;:)])*$", line)
        if m and item[1] is None:
            item[1] = m.group(1)
    return [(n, r) for n, r in got if n]


def sample_rules(text):
    """The comment list "#   1 NAME ...", "#   2 NAME ...": the longest run
    numbered from 1; and the "#NAME-reply REPLY" lines."""
    order, best = [], []
    for num, name in re.findall(r"^#\s+(\d+) ([a-z-]+)\s", text, re.M):
        order = order + [name] if int(num) == len(order) + 1 else \
            ([name] if num == "1" else [])
        if len(order) > len(best):
            best = order
    order = best
    replies = dict(re.findall(r"^#([a-z-]+)-reply (.*)$", text, re.M))
    return [(n, replies.get(n)) for n in order]


def readme_record(top, text, milter):
    head = read(os.path.join(top, "include", "auditchain.h"))
    v = re.search(r'#define AUDITCHAIN_OPEN\s+"\{\\"v\\":(\d+)"', head)
    if not check(v is not None, "no AUDITCHAIN_OPEN in include/auditchain.h"):
        return
    for shown in re.findall(r'\{"v":(\d+)', text):
        check(shown == v.group(1), "README.md shows an audit record with \"v\":%s;"
              " records are \"v\":%s" % (shown, v.group(1)))
    m = re.search(r'^\s*(\{"v":(\d+),.*\})\s*$', text, re.M)
    if not check(m is not None, "README.md shows no whole audit record (one line"
                 " {\"v\":N,...,\"hash\":\"...\"} as the daemon writes it)"):
        return
    prev = re.search(r'"prev":"([0-9a-f]{64})"', m.group(1))
    if not check(prev is not None, "README.md's audit record has no \"prev\""):
        return
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write(m.group(1) + "\n")
    try:
        r = subprocess.run([milter, "--verify-audit", "--anchor", prev.group(1), f.name],
                           capture_output=True, text=True, check=False)
        check(r.returncode == 0, "README.md's audit record does not verify: %s"
              % (r.stdout + r.stderr).strip().replace(f.name, "README.md"))
    finally:
        os.unlink(f.name)


def main():
    top, policy, milter = sys.argv[1], sys.argv[2], sys.argv[3]
    rules = daemon_rules(read(policy))
    readme = read(os.path.join(top, "README.md"))
    man8 = read(os.path.join(top, "doc", "tlspolicy-milter.8"))
    man5 = read(os.path.join(top, "doc", "tlspolicy-milter.conf.5"))
    sample = read(os.path.join(top, "contrib", "tlspolicy-milter.conf"))

    check_list("README.md (rules table)", readme_rules(readme), rules)
    check_list("tlspolicy-milter(8) DESCRIPTION",
               mdoc_items(mdoc_section(man8, "Sh", "DESCRIPTION")), rules)
    check_list("tlspolicy-milter.conf(5) Rules",
               mdoc_items(mdoc_section(man5, "Ss", "Rules")), rules)
    check_list("contrib/tlspolicy-milter.conf", sample_rules(sample), rules)
    readme_record(top, readme, milter)
    print("%d rules; %d checks, %d failed" % (len(rules), CHECKS[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
