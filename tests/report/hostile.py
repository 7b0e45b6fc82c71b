#!/usr/bin/env python3
# hostile.py - tlspolicy-report over the hostile-input corpus (corpus.py):
# for every case, in text, --html and --json, no traceback, exit status 1
# exactly when malformed lines were found (0 otherwise), the count of
# malformed lines printed, the first bad line named FILE:LINE, no raw
# control character on the terminal, markup from records escaped in HTML;
# and `| head -1` on a long report ends quietly.
#
#   python3 hostile.py REPORT
#
# Prints PASS/FAIL lines and "N passed, N failed".
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RAW_CTRL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")
passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("PASS: " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def run(report, args, timeout=120):
    p = subprocess.run([sys.executable, report, "--no-verify"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def malformed_count(mode, out):
    if mode == "--json":
        return json.loads(out)["malformed"]["count"]
    m = re.search(r"Malformed lines: (\d+)", out)
    return int(m.group(1)) if m else None


def main():
    report = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="report-hostile.") as w:
        subprocess.run([sys.executable, os.path.join(HERE, "corpus.py"), w],
                       check=True)
        expect = json.load(open(os.path.join(w, "expect.json")))
        for name, e in sorted(expect.items()):
            path = os.path.join(w, name + ".jsonl")
            modes = e["args"] or ["text"]
            if name in ("valid", "wrong-type-every-member", "terminal-escapes"):
                modes = ["text", "--html", "--json"]
            for mode in modes:
                args = ([] if mode == "text" else [mode]) + [path]
                rc, out, err = run(report, args)
                label = "%s (%s)" % (name, mode)
                want_rc = 1 if e["malformed"] else 0
                n = malformed_count(mode, out) if "Traceback" not in err else None
                ok("Traceback" not in err and rc == want_rc and n == e["malformed"],
                   "%s: exit %d (want %d), %s malformed (want %d)%s" % (
                       label, rc, want_rc, n, e["malformed"],
                       "" if "Traceback" not in err else ", TRACEBACK: " +
                       err.strip().splitlines()[-1]))
                if e["malformed"] and mode != "--json":
                    first = "%s:%d:" % (path, e.get("first_bad", 3))
                    ok(first in out or os.path.basename(first) in out,
                       "%s: the first malformed line is named %s" % (
                           label, os.path.basename(first)))
                if mode == "text":
                    bad = RAW_CTRL.search(out)
                    ok(bad is None, "%s: no raw control character in the text"
                       " output%s" % (label, "" if bad is None else
                                      " (found %r)" % bad.group()))
                if mode == "--html":
                    ok("<script>" not in out and "Ciphers</h2>" in out and
                       out.rstrip().endswith("</html>"),
                       "%s: HTML whole, cipher section present, markup from"
                       " records escaped" % label)
        # a closed pipe: a report longer than the pipe buffer, read by head
        big = os.path.join(w, "many-listeners.jsonl")
        with open(big, "w") as fp:
            for i in range(3000):
                fp.write(json.dumps({"v": 2, "time": "2026-11-24T09:00:00.000Z",
                                     "type": "session", "listener": "l%d" % i,
                                     "tls": False, "mails": 1}) + "\n")
        p = subprocess.run("%s %s --no-verify %s | head -1" % (
            sys.executable, report, big), shell=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=120)
        err = p.stderr.decode("utf-8", "replace")
        ok(p.stdout.count(b"\n") == 1 and err == "",
           "| head -1 ends quietly (stderr %r)" % err[-200:])
        rc, out, err = run(report, ["--html", big])
        ok(rc == 0 and out.count("class=\"chart\"") >= 3000,
           "3000 listeners: a trend chart each, exit 0")
        # a file larger than one worker's range: the same report from one
        # process and from several, malformed lines numbered in the file
        sys.path.insert(0, HERE)
        sys.dont_write_bytecode = True
        import gen
        big = os.path.join(w, "big.jsonl")
        gen.scale(big, 50000)
        with open(big, "rb") as fp:
            lines = fp.readlines()
        for k in (4, 20000, 49998):
            lines[k] = b'{"v":2,"time":5}\n'
        with open(big, "wb") as fp:
            fp.writelines(lines)
        outs = []
        for jobs in ("1", "2", "3"):
            rc, out, err = run(report, ["--json", "--jobs", jobs, big])
            outs.append((rc, out))
        doc = json.loads(outs[0][1])
        ok(os.path.getsize(big) > 16 << 20 and outs[0] == outs[1] == outs[2] and
           doc["malformed"]["lines"] == ["%s:%d: member time is number, expected"
                                         " string" % (big, k + 1)
                                         for k in (4, 20000, 49998)] and
           doc["records"] == 50000 - 3 and outs[0][0] == 1,
           "%d MB in 1, 2 and 3 processes: the same report, malformed lines"
           " 5, 20001, 49999 named" % (os.path.getsize(big) >> 20))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
