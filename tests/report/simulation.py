#!/usr/bin/env python3
# simulation.py - tlspolicy-report --simulation over what the real
# `tlspolicy-milter --simulate -c NEW.conf --json` wrote for a generated
# month (gen.py, the policy in force as `tlspolicy-milter -n` prints it)
# with min-tls-version TLSv1.3 on submission and submissions: the text and
# the HTML page carry every listener's counts, the refusals by rule and
# every row of the clients, users and sender domains tables with count and
# first/last time, exactly as in the JSON; hostile strings are escaped
# (no control character on the terminal, no markup in the page); a
# document that is not a simulation (not JSON, wrong types, members
# missing, 120 random mutations of the real one) is exit 2 with a message
# naming the file, never a traceback.
#
#   python3 tests/report/simulation.py REPORT MILTER
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

report, milter = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return ok


def run(*args):
    p = subprocess.run([report] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


class Cells(HTMLParser):
    """The text of every table cell and heading, as a reader sees it."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell, self.heads = [], None, None, []
        self.h = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag in ("h2", "h3"):
            self.h = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.rows.append(tuple(self.row))
            self.row = None
        elif tag in ("h2", "h3"):
            self.heads.append(self.h)
            self.h = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.h is not None:
            self.h += data


w = tempfile.mkdtemp(prefix="report-simulation.")
try:
    lines = ["socket unix:/run/tlspolicy-milter/milter.sock",
             "[listener submission]", "port 587", "require-tls yes",
             "require-auth yes", "min-tls-version TLSv1.2",
             "[listener submissions]", "port 465", "require-tls yes",
             "require-auth yes", "min-tls-version TLSv1.2", "action report",
             "[listener mx]", "port 25"]
    with open(os.path.join(w, "policy.conf"), "w") as fp:
        fp.write("\n".join(lines) + "\n")
    with open(os.path.join(w, "strict.conf"), "w") as fp:
        fp.write("\n".join(lines).replace("TLSv1.2", "TLSv1.3") + "\n")
    pol = subprocess.run([milter, "-n", "-c", "policy.conf"], cwd=w,
                         capture_output=True, text=True)
    with open(os.path.join(w, "policy.txt"), "w") as fp:
        fp.write(pol.stdout)
    subprocess.run([sys.executable, os.path.join(here, "gen.py"), "month",
                    os.path.join(w, "audit.jsonl"), os.path.join(w, "policy.txt")],
                   check=True)
    sim = subprocess.run([milter, "--simulate", "-c", "strict.conf", "--json",
                          "audit.jsonl"], cwd=w, capture_output=True, text=True)
    if not check(sim.returncode == 0, "--simulate: exit %d: %s" % (
            sim.returncode, sim.stderr)):
        raise SystemExit
    path = os.path.join(w, "sim.json")
    with open(path, "w") as fp:
        fp.write(sim.stdout)
    doc = json.loads(sim.stdout)
    by = {ls["listener"]: ls for ls in doc["listeners"]}
    sub = by.get("submission", {})
    # a real change: submission newly refuses by min-tls-version, the
    # report-mode listener newly would refuse, mx is unchanged
    check(sub.get("newly_refused", 0) > 0 and sub.get("clients") and
          sub.get("users") and sub.get("sender_domains") and
          by["submissions"]["newly_would_reject"] > 0 and
          by["mx"]["unchanged"] == by["mx"]["replayed"] > 0 and
          doc["cannot_replay"]["count"] == 0,
          "the milter's simulation has changes to render: %s" % {
              k: (v["newly_refused"], v["newly_would_reject"]) for k, v in by.items()})

    rc, out, err = run("--simulation", path)
    check(rc == 0 and not err, "text: exit %d %s" % (rc, err))
    f = lambda n: "{:,}".format(n)
    check(("decisions replayed %s: unchanged %s, newly refused %s" % (
        f(doc["replayed"]), f(doc["unchanged"]), f(doc["newly_refused"]))) in out,
        "text: the totals")
    for name, ls in by.items():
        block = out.split("\nListener %s\n" % name, 1)
        if not check(len(block) == 2, "text: no listener %s" % name):
            continue
        block = block[1].split("\nListener ", 1)[0]
        check(("decisions replayed %s: unchanged %s, newly refused %s, newly"
               " accepted %s, newly would refuse (report mode) %s, other changes"
               " %s, recorded under another listener %s" % tuple(
                   f(ls[k]) for k in ("replayed", "unchanged", "newly_refused",
                                      "newly_accepted", "newly_would_reject",
                                      "other_changes", "recorded_elsewhere")))
              in block, "text: listener %s counts" % name)
        for rule, n in ls["newly_refused_by_rule"].items():
            check("%s %s" % (rule, f(n)) in block, "text: %s rule %s" % (name, rule))
        for table, keys in (("clients", ("address", "helo")), ("users", ("user",)),
                            ("sender_domains", ("domain",))):
            for row in ls[table]:
                want = "  ".join("%s=%s" % (k, row[k] if k != "count" else f(row[k]))
                                 for k in keys + ("count", "first", "last"))
                check("    %s\n" % want in block, "text: %s %s row %s" % (
                    name, table, want))

    rc, page, err = run("--simulation", path, "--html")
    check(rc == 0 and not err, "html: exit %d %s" % (rc, err))
    cells = Cells()
    cells.feed(page)
    rows = set(cells.rows)
    for name, ls in by.items():
        want = (name,) + tuple(f(ls[k]) for k in (
            "replayed", "unchanged", "newly_refused", "newly_accepted",
            "newly_would_reject", "other_changes", "recorded_elsewhere"))
        check(any(r[:8] == want for r in rows), "html: listener row %s" % (want,))
        check("Listener " + name in cells.heads, "html: heading for %s" % name)
        for table, keys in (("clients", ("address", "helo")), ("users", ("user",)),
                            ("sender_domains", ("domain",))):
            for row in ls[table]:
                want = tuple(row[k] for k in keys) + (f(row["count"]), row["first"],
                                                       row["last"])
                check(want in rows, "html: %s %s row %s" % (name, table, want))
    check('src="' not in page and "href=" not in page and "url(" not in page,
          "html: self-contained")

    # hostile strings from the log: escaped in text and page
    evil = copy.deepcopy(doc)
    bad = "<script>alert(1)</script>\x1b[31m\u202e\x00"
    evil["listeners"][0]["listener"] = bad
    evil["policy"] = bad
    evil["listeners"][0]["clients"] = [{"address": bad, "helo": "&amp;" + bad,
                                        "count": 1, "first": bad, "last": "x"}]
    evil["listeners"][0]["newly_refused_by_rule"] = {bad: 3}
    evil["cannot_replay"] = {"count": 1, "by_fact": {bad: 1},
                             "examples": [{"file": bad, "line": 1, "fact": bad}]}
    ep = os.path.join(w, "evil.json")
    with open(ep, "w") as fp:
        json.dump(evil, fp)
    rc, out, err = run("--simulation", ep)
    check(rc == 0 and not any(c in out for c in "\x1b\u202e\x00") and
          "\\x1b[31m" in out, "text: control characters escaped")
    rc, page, err = run("--simulation", ep, "--html")
    check(rc == 0 and "<script>" not in page and "&lt;script&gt;" in page and
          "&amp;amp;" in page and "\x1b" not in page, "html: markup escaped")

    # not a simulation: exit 2, a message, no traceback
    def refused(data, what, binary=False):
        p = os.path.join(w, "bad.json")
        with open(p, "wb" if binary else "w") as fp:
            fp.write(data)
        for extra in ([], ["--html"]):
            rc, out, err = run("--simulation", p, *extra)
            check(rc == 2 and "bad.json" in err and "Traceback" not in err
                  and not out, "%s%s: exit %d, %r" % (
                      what, " --html" if extra else "", rc, err[-300:]))

    refused("", "empty file")
    refused("{", "not JSON")
    refused(b"\xff\xfe{}", "not UTF-8", True)
    refused("[" * 100000 + "]" * 100000, "deep nesting")
    refused("[]", "an array")
    refused(json.dumps({"policy": "x"}), "members missing")
    for key, value in (("replayed", True), ("replayed", -1), ("replayed", 1.5),
                       ("listeners", {}), ("cannot_replay", []),
                       ("policy", 7)):
        d = copy.deepcopy(doc)
        d[key] = value
        refused(json.dumps(d), "%s = %r" % (key, value))
    d = copy.deepcopy(doc)
    d["listeners"][-1]["clients"][0]["count"] = "12"
    refused(json.dumps(d), "a client count as a string")
    d = copy.deepcopy(doc)
    del d["listeners"][-1]["users"][0]["last"]
    refused(json.dumps(d), "a user without last")
    rc, out, err = run("--simulation", os.path.join(w, "nope.json"))
    check(rc == 2 and "cannot read" in err and "Traceback" not in err,
          "a missing file: exit 2")
    rc, out, err = run("--simulation", path, "--json")
    check(rc == 2 and "Traceback" not in err, "--simulation with --json: usage")
    rc, out, err = run("--simulation", path, os.path.join(w, "audit.jsonl"))
    check(rc == 2 and "Traceback" not in err, "--simulation with a FILE: usage")
    for extra in (["--from", "2026-11-01"], ["--listener", "mx"], ["--no-verify"]):
        rc, out, err = run("--simulation", path, *extra)
        check(rc == 2 and "no period, listener or verifier" in err and not out,
              "--simulation with %s: usage" % extra[0])

    # random mutations: every one renders (exit 0) or is refused (exit 2)
    rnd = random.Random(21)
    values = [None, True, -1, 0, 1.5, "", "x", [], {}, [1], {"a": 1}, 2 ** 70]

    def paths(x, pre=()):
        yield pre
        if isinstance(x, dict):
            for k, v in x.items():
                yield from paths(v, pre + (k,))
        elif isinstance(x, list):
            for i, v in enumerate(x[:3]):
                yield from paths(v, pre + (i,))
    small = copy.deepcopy(doc)
    for ls in small["listeners"]:
        for t in ("clients", "users", "sender_domains"):
            ls[t] = ls[t][:2]
    small["cannot_replay"]["examples"] = small["cannot_replay"]["examples"][:2]
    all_paths = [p for p in paths(small) if p]
    outcomes = {0: 0, 2: 0}
    p = os.path.join(w, "mut.json")
    for i in range(120):
        d = copy.deepcopy(small)
        where = rnd.choice(all_paths)
        parent = d
        for k in where[:-1]:
            parent = parent[k]
        if rnd.random() < 0.3 and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = rnd.choice(values)
        with open(p, "w") as fp:
            json.dump(d, fp)
        rc, out, err = run("--simulation", p, *(["--html"] if i % 2 else []))
        outcomes[rc] = outcomes.get(rc, 0) + 1
        check(rc in (0, 2) and "Traceback" not in err and (rc == 0) == bool(out),
              "mutation %s: exit %d %s" % (where, rc, err[-300:]))
    check(outcomes.get(2, 0) > 60, "mutations refused: %s" % outcomes)
finally:
    shutil.rmtree(w, ignore_errors=True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
