#!/usr/bin/env python3
# parity.py - the report aggregated by tlspolicy-milter --report-data (one
# pass with the verifier) prints exactly what the report's own Python
# aggregation prints: over every hostile-input case (corpus.py), a file of
# 3,000 randomly mutated records (fuzz.py's mutations, fixed seed) and a
# generated month, gzip-compressed too and with --from/--to and
# --listener, in text, --html and --json, byte for byte.  The binary's
# invocation is logged to show the one pass ran with --report-data and the
# filters, and read the gzip file itself.
#
#   python3 parity.py REPORT MILTER
#
# Prints PASS/FAIL lines and "N passed, N failed".
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import gzip
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fuzz  # noqa: E402  (the mutations)
import gen  # noqa: E402
import hostile  # noqa: E402  (ok() and its counts)
from hostile import ok  # noqa: E402


def report(rep, binary, args):
    """(exit status, stdout bytes) of the report with binary as the
    tlspolicy-milter it runs (a path that does not exist: none)."""
    env = dict(os.environ, TLSPOLICY_VERIFIER=binary)
    p = subprocess.run([sys.executable, rep, "--no-verify"] + args, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    return p.returncode, p.stdout


def same(rep, wrapper, w, args, what):
    """The report both ways, text, --html and --json: the same bytes."""
    for mode in ([], ["--html"], ["--json"]):
        py = report(rep, os.path.join(w, "none", "tlspolicy-milter"),
                    mode + args)
        c = report(rep, wrapper, mode + args)
        ok(py == c and py[1], "%s %s: the same exit status (%d) and output"
           " (%d bytes)" % (what, " ".join(mode) or "text", py[0],
                            len(py[1])))


def main():
    rep, milter = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="report-parity.") as w:
        calls = os.path.join(w, "calls")
        wrapper = os.path.join(w, "milter.sh")
        with open(wrapper, "w") as fp:
            fp.write('#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n'
                     % (calls, milter))
        os.chmod(wrapper, 0o755)
        cases = os.path.join(w, "corpus")
        os.mkdir(cases)
        subprocess.run([sys.executable, os.path.join(HERE, "corpus.py"),
                        cases], check=True)
        for name in sorted(os.listdir(cases)):
            if name.endswith(".jsonl"):
                same(rep, wrapper, w, [os.path.join(cases, name)],
                     "corpus " + name)
        rnd = random.Random(20261202)
        mixed = os.path.join(w, "mutated.jsonl")
        with open(mixed, "wb") as fp:
            for _ in range(3000):
                fp.write(fuzz.mutate(rnd)[0])
        same(rep, wrapper, w, [mixed], "3000 mutated records")
        month = os.path.join(w, "month.jsonl")
        with open(month, "wb") as fp:
            fp.writelines(gen.chain(gen.month())[0])
        same(rep, wrapper, w, [month], "a month")
        packed = os.path.join(w, "month.jsonl.1.gz")
        with open(month, "rb") as fp, gzip.open(packed, "wb") as out:
            out.write(fp.read())
        same(rep, wrapper, w, [packed], "a month, gzip-compressed")
        same(rep, wrapper, w, ["--from", "2026-11-14", "--to",
                               "2026-11-16T12:00Z", "--listener", "mx",
                               "--listener", "submission", month],
             "a month, --from/--to/--listener")
        logged = []
        if os.path.exists(calls):   # else tlspolicy-milter never ran
            with open(calls) as fp:
                logged = fp.read().splitlines()
        ok(logged and all("--report-data" in x for x in logged),
           "every run through tlspolicy-milter had --report-data (%d runs)"
           % len(logged))
        ok(any(x.endswith(" " + packed) for x in logged),
           "the gzip file went to tlspolicy-milter as it is (no copy)")
        ok(any("--from 2026-11-14T00:00:00.000Z --to 2026-11-16T12:00:59.999Z"
               " --listener mx --listener submission" in x for x in logged),
           "the period and listeners went to the one pass")
    print("%d passed, %d failed" % (hostile.passed, hostile.failed))
    return 1 if hostile.failed else 0


if __name__ == "__main__":
    sys.exit(main())
