#!/usr/bin/env python3
# month.py - acceptance test of the auditor's report over a generated month
# (gen.month: three listeners, mx drops TLS < 1.2 from the 15th on,
# credential exposures and report-mode refusals planted on known days).
# The expected numbers are counted here from the generated records, by
# this file's own code, and compared with the report's --json, text and
# HTML: the statement per listener, every exception, the per-day buckets,
# the filters (--from/--to with hourly buckets, --listener), the integrity
# block from the real verifier, and a tampered log (first line, exit 1).
#
#   python3 month.py REPORT MILTER
#
# Prints PASS/FAIL lines and "N passed, N failed".
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import collections
import datetime
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

passed = failed = 0
POLICY = """socket unix:/nonexistent/milter.sock
[listener submission]
port 587
require-tls yes
require-auth yes
min-tls-version TLSv1.2
[listener submissions]
port 465
require-tls yes
require-auth yes
min-tls-version TLSv1.2
action report
[listener mx]
port 25
min-tls-version %s
"""
LEVEL = {"TLSv1.3": "tls13", "TLSv1.2": "tls12", "TLSv1.1": "tls-old",
         "TLSv1": "tls-old"}


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("PASS: " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def run(argv):
    p = subprocess.run([sys.executable, REPORT] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def level(r):
    return LEVEL[r["tls_version"]] if r["tls"] else "plaintext"


def expected(records, lo="", hi="~", unit=10):
    """Per listener: statement numbers, exceptions, buckets (by this code)."""
    exp = collections.defaultdict(lambda: {
        "sessions": 0, "levels": collections.Counter(), "mail": 0,
        "mail_tls": 0, "mail_tls12": 0, "mail_auth": 0, "mail_plainauth": 0,
        "outcomes": collections.Counter(), "exceptions": [],
        "buckets": collections.defaultdict(collections.Counter)})
    for r in records:
        if not lo <= r["time"] <= hi or r["type"] == "policy":
            continue
        e = exp[r["listener"]]
        b = e["buckets"][r["time"][:unit]]
        if r["type"] == "session":
            e["sessions"] += 1
            e["levels"][level(r)] += 1
            b[level(r)] += 1
            if r["mails"]:
                e["mail"] += 1
                e["mail_tls"] += r["tls"]
                e["mail_tls12"] += r["tls"] and r["tls_version"] in ("TLSv1.2", "TLSv1.3")
                e["mail_auth"] += r["auth"]
                e["mail_plainauth"] += r["auth"] and not r["tls"]
        else:
            e["outcomes"][r["outcome"]] += 1
            if r["outcome"] in ("reject", "tempfail"):
                b["refused"] += 1
            if r["outcome"] == "would-reject":
                b["would"] += 1
            if r["exposure"]:
                b["exposure"] += 1
            if r["exposure"] or r["outcome"] == "would-reject":
                e["exceptions"].append((r["time"], r["client_addr"],
                                        r.get("auth_authen", "-"), r["rule"],
                                        r["outcome"]))
    return exp


def compare(doc, exp, label):
    st = {s["listener"]: s for s in doc["statements"]}
    ok(sorted(st) == sorted(exp), "%s: one statement per listener %s" % (
        label, sorted(st)))
    for name, e in sorted(exp.items()):
        s = st.get(name, {})
        got = (s.get("sessions"), s.get("sent_mail"), s.get("sent_mail_tls"),
               s.get("sent_mail_tls12"), s.get("sent_mail_auth"),
               s.get("sent_mail_plaintext_auth"), s.get("outcomes"),
               s.get("sessions_by_level"))
        want = (e["sessions"], e["mail"], e["mail_tls"], e["mail_tls12"],
                e["mail_auth"], e["mail_plainauth"],
                {o: e["outcomes"][o] for o in ("accept", "reject", "tempfail",
                                               "would-reject")},
                {lv: e["levels"][lv] for lv in ("plaintext", "tls-old", "tls12",
                                                "tls13", "tls-unknown")})
        ok(got == want, "%s: %s statement numbers %s" % (label, name, want[:6]))
        exc = [(x["time"], x["client"], x["user"], x["rule"], x["outcome"])
               for x in s.get("exception_list", [])]
        ok(exc == e["exceptions"] and s.get("exceptions") == len(e["exceptions"]),
           "%s: %s exceptions, %d, listed exactly" % (label, name, len(exc)))
        ok(s.get("result") == ("not met" if e["exceptions"] else "met"),
           "%s: %s result %s" % (label, name, s.get("result")))
        rows = doc["trends"]["listeners"].get(name, [])
        got_b = {r["bucket"]: {k: r[k] for k in r if k != "bucket" and r[k]}
                 for r in rows}
        want_b = {k: dict(v) for k, v in e["buckets"].items()}
        nonzero = {k: v for k, v in got_b.items() if v}
        ok(nonzero == want_b, "%s: %s buckets per %s exact (%d with data)" % (
            label, name, doc["trends"]["unit"], len(want_b)))


def main():
    global REPORT
    REPORT, milter = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="report-month.") as w:
        # the policy in force, as the milter prints it: at the start, and
        # a reload on the 15th that makes mx require TLS >= 1.2
        texts = []
        for mx_min in ("none", "TLSv1.2"):
            conf = os.path.join(w, "policy.conf")
            with open(conf, "w") as fp:
                fp.write(POLICY % mx_min)
            p = subprocess.run([milter, "-n", "-c", conf], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=60)
            texts.append(p.stdout.decode())
        start = datetime.datetime(2026, 11, 1)
        reload = datetime.datetime(2026, 11, gen.SHIFT_DAY)
        records = gen.month(policies=[(start, "start", texts[0]),
                                      (reload, "reload", texts[1])])
        lines, last = gen.chain(records)
        log = os.path.join(w, "audit.jsonl")
        with open(log, "wb") as fp:
            fp.writelines(lines)
        rc, out, err = run(["--verifier", milter, "--json", log])
        doc = json.loads(out)
        ok(rc == 0 and doc["integrity"]["verified"] is True and
           doc["integrity"]["records"] == len(records) and
           doc["integrity"]["anchor"] == "0" * 64 and doc["integrity"]["last"] == last,
           "integrity: verified, %d records, zero anchor, last hash %s..." % (
               len(records), last[:12]))
        ok(doc["trends"]["unit"] == "day" and len(doc["trends"]["listeners"]["mx"]) == 30,
           "a month: 30 daily buckets")
        exp = expected(records)
        compare(doc, exp, "month")
        # the planted days, as the admin reads them off the report
        days = lambda name: sorted({x["time"][:10] for x in {
            s["listener"]: s for s in doc["statements"]}[name]["exception_list"]})
        ok(days("submission") == ["2026-11-%02d" % d for d in gen.EXPOSURE_DAYS] and
           days("submissions") == ["2026-11-%02d" % d for d in gen.WOULD_DAYS],
           "exceptions on the planted days: %s, %s" % (days("submission"),
                                                       days("submissions")))
        mx = doc["trends"]["listeners"]["mx"]
        before = [r["tls-old"] for r in mx if int(r["bucket"][8:]) < gen.SHIFT_DAY]
        after = [r["tls-old"] for r in mx if int(r["bucket"][8:]) >= gen.SHIFT_DAY]
        ok(all(before) and not any(after),
           "the TLS version shift on mx: TLSv1.0-1.1 every day before the %dth,"
           " none from it on" % gen.SHIFT_DAY)
        st = {s["listener"]: s for s in doc["statements"]}
        fps = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        pol = lambda name: [(x["time"], x["event"], x["fingerprint"], x["settings"])
                            for x in st[name]["policies"]]
        sub = "require-tls yes; require-auth yes; auth-requires-tls yes; " \
              "min-tls-version TLSv1.2; action %s; trusted-networks none"
        ok(pol("submission") == [("2026-11-01T00:00:00.000Z", "start", fps[0], sub % "reject"),
                                 ("2026-11-15T00:00:00.000Z", "reload", fps[1], sub % "reject")]
           and [x[3] for x in pol("submissions")] == [sub % "report"] * 2
           and st["submission"]["controls_from"] == "policy records",
           "the policy in force per listener, from the policy records: %s" %
           pol("submission")[0][3])
        ok([x[3].split("; ")[3] for x in pol("mx")] ==
           ["min-tls-version none", "min-tls-version TLSv1.2"],
           "mx: the reload on the 15th requires TLSv1.2 (%s)" %
           " -> ".join(x[3].split("; ")[3] for x in pol("mx")))
        ok(doc["first_line"].startswith("Evidence verified: %d records" % len(records)),
           "--json: first line says the evidence verified")

        rc, text, err = run(["--verifier", milter, log])
        e = exp["submission"]
        want = ("on listener submission (port 587): {:,} of {:,} sessions that sent"
                " mail were encrypted with TLS").format(e["mail_tls"], e["mail"])
        ok(rc == 0 and text.splitlines()[0].startswith("Evidence verified") and
           want in text and "  submission (port 587): NOT MET" in text and
           "  mx (port 25): MET" in text,
           "text: verified first line, the statement sentence, the results")
        ok(text.index("Compliance statement") < text.index("Integrity of the evidence")
           < text.index("Trends per day"),
           "text: the statement at the top, then the integrity block, the trends")

        # a period of three days: hourly buckets, counts of that period only
        rc, out, err = run(["--verifier", milter, "--json", "--from", "2026-11-09",
                            "--to", "2026-11-11", log])
        doc = json.loads(out)
        ok(doc["trends"]["unit"] == "hour" and len(doc["trends"]["listeners"]["mx"]) == 72
           and doc["period"] == {"from": "2026-11-09T00:00:00.000Z",
                                 "to": "2026-11-11T23:59:59.999Z"},
           "--from 2026-11-09 --to 2026-11-11: 72 hourly buckets, the period printed")
        compare(doc, expected(records, "2026-11-09", "2026-11-11T23:59:59.999Z", 13),
                "3 days")
        # one listener
        rc, out, err = run(["--verifier", milter, "--json", "--listener", "submissions",
                            "--from", "2026-11-20", log])
        doc = json.loads(out)
        sub = {"submissions": expected(records, "2026-11-20")["submissions"]}
        compare(doc, sub, "--listener submissions --from 2026-11-20")
        ok([x["event"] for x in doc["statements"][0]["policies"]] == ["reload"],
           "--from 2026-11-20: the policy in force is the reload's")
        ok(doc["integrity"]["records"] == len(records),
           "a filtered report still verifies every record of the files")

        # HTML: a green first line, a trend chart per listener with a legend
        rc, page, err = run(["--verifier", milter, "--html", log])
        ok(rc == 0 and '<p class="good" id="first-line">Evidence verified' in page and
           page.count('<figure class="chart-box"') == 3 + 4 and
           page.count("credential exposure</text>") == 3,
           "HTML: verified first line, 3 trend charts with legends, 4 bar charts")

        # tampered: one user name changed in the middle of the log
        k = len(lines) // 2
        bad = json.loads(lines[k])
        tampered = lines[k].replace(b'"time":"', b'"time":"', 1)
        tampered = tampered.replace(b'"v":2,', b'"v":2,"x":1,', 1) if b"auth_authen" \
            not in tampered else tampered.replace(b"@example.test", b"@evil.test", 1)
        tlog = os.path.join(w, "tampered.jsonl")
        with open(tlog, "wb") as fp:
            fp.writelines(lines[:k] + [tampered] + lines[k + 1:])
        rc, text, err = run(["--verifier", milter, tlog])
        first = text.splitlines()[0] if text else ""
        ok(rc == 1 and first.startswith("EVIDENCE DOES NOT VERIFY: ") and
           ("tampered.jsonl:%d: hash mismatch" % (k + 1)) in first,
           "tampered log: first line '%s', exit %d" % (first[:90], rc))
        rc, page, err = run(["--verifier", milter, "--html", tlog])
        body = page[page.index("<body>"):]
        ok(rc == 1 and body.startswith('<body>\n<p class="alarm" id="first-line">'
                                       'EVIDENCE DOES NOT VERIFY') and
           ".alarm{color:#fff;background:#c62828" in page,
           "tampered log, HTML: the first line of the page, in red, exit 1")
        rc, out, err = run(["--verifier", milter, "--json", tlog])
        ok(rc == 1 and json.loads(out)["integrity"]["verified"] is False,
           "tampered log, --json: verified false, exit 1")
        del bad
        # a deleted record: the verifier names the line after it
        dlog = os.path.join(w, "deleted.jsonl")
        with open(dlog, "wb") as fp:
            fp.writelines(lines[:k] + lines[k + 1:])
        rc, text, err = run(["--verifier", milter, dlog])
        ok(rc == 1 and text.startswith("EVIDENCE DOES NOT VERIFY: ") and
           ("deleted.jsonl:%d: broken link" % (k + 1)) in text.splitlines()[0],
           "a deleted record: does not verify, the line after it named")

    # the verifier's OK line, both forms (the parser, in-process)
    loader = importlib.machinery.SourceFileLoader("tlspolicy_report", REPORT)
    spec = importlib.util.spec_from_loader("tlspolicy_report", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    a, b = "a" * 64, "b" * 64
    m1 = mod.OK_RE.match("OK: 12 records, anchor %s, last %s" % (a, b))
    m2 = mod.OK_RE.match("OK: 12 records")
    ok(m1 and m1.groups() == ("12", a, b) and m2 and m2.groups() == ("12", None, None),
       "the verifier's OK line parsed in both forms")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
