#!/usr/bin/env python3
# fuzz.py - property test for tlspolicy-report: random mutations of valid
# records (member values of every JSON type, deleted and renamed members,
# flipped, inserted and deleted bytes, cuts, control characters, deep
# nesting), a bounded number of cases and seconds, a fixed seed printed so
# a failure can be replayed.
#
#   python3 fuzz.py REPORT [SEED [CASES [SECONDS]]]
#
# Properties, for every case (text, --html and --json in turn):
#   - no exception escapes the report (in-process: any exception is a
#     failure; a sample also runs as a process: no "Traceback" on stderr);
#   - every line is accounted for: records + malformed = lines;
#   - a mutation that gives a known member a value of the wrong type is
#     counted as malformed (the oracle here knows the types independently);
#   - exit status 1 exactly when malformed lines were counted, else 0;
#   - the text output holds no raw control character.
# Prints "N passed, N failed".
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import importlib.machinery
import importlib.util
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

RAW_CTRL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
VALUES = [None, True, False, 0, -1, 1 << 40, 1.5, float("nan"), "", "x",
          "\x1b[31m", "\u202e", "\ud800", [], ["session"], {}, {"a": [1]},
          "2026-11-24T09:00:00.000Z", "TLSv1.3", "session", "decision",
          "credential-exposure", "would-reject", "a" * 3000, "policy",
          "listener submission (line 1): x\n  require-tls \x1b[31m; a b\n"]


def load(path):
    loader = importlib.machinery.SourceFileLoader("tlspolicy_report", path)
    spec = importlib.util.spec_from_loader("tlspolicy_report", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def wrong_type(key, value):
    """True when value is of a type the documented member never has, or a
    count (helos, mails) out of 0..2^32-1."""
    if key == "cipher_bits":
        return type(value) not in (str, int)
    t = corpus.TYPES.get(key)
    if t is None:
        return False
    if type(value) is not t:
        return True
    return key in ("helos", "mails") and not 0 <= value <= 0xffffffff


def mutate(rnd):
    """(line bytes, must_be_malformed)."""
    base = dict(rnd.choice((corpus.SESSION, corpus.DECISION)))
    op = rnd.randrange(8)
    if op == 0:                             # a member gets a random value
        key = rnd.choice(sorted(base))
        value = rnd.choice(VALUES)
        base[key] = value
        return json.dumps(base).encode() + b"\n", wrong_type(key, value)
    if op == 1:                             # members deleted
        for key in rnd.sample(sorted(base), rnd.randrange(1, 6)):
            del base[key]
        return json.dumps(base).encode() + b"\n", False
    if op == 2:                             # deep nesting in a member
        key = rnd.choice(sorted(base))
        depth = rnd.choice((10, 900, 5000, 100000))
        raw = json.dumps(base)
        raw = raw.replace('"%s": ' % key, '"%s": %s0%s' % (
            key, "[" * depth, "]" * depth), 1)
        return raw.encode() + b"\n", key in corpus.TYPES or depth > 900
    data = bytearray(json.dumps(base, ensure_ascii=rnd.random() < 0.5).encode())
    for _ in range(rnd.randrange(1, 8)):
        pos = rnd.randrange(len(data) or 1)
        k = rnd.randrange(5)
        if not data:
            break
        if k == 0:
            data[pos] = rnd.randrange(256)
        elif k == 1:
            data[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 9)))
        elif k == 2:
            del data[pos:pos + rnd.randrange(1, 20)]
        elif k == 3:
            data[pos:pos] = rnd.choice((b"\x1b", b"\x07", b"\x00", b"\\u001b",
                                        b"\\ud800", b'"', b"{", b"[", b"\r"))
        else:
            data = data[:pos]
    data = bytes(data).replace(b"\n", b" ")
    return data + b"\n", False


def lines_in(path):
    with open(path, "rb") as fp:
        data = fp.read()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def main():
    report = os.path.abspath(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261202
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    print("fuzz: seed %d, up to %d cases, up to %.0f s (replay: python3 %s"
          " REPORT %d %d)" % (seed, cases, seconds, sys.argv[0], seed, cases))
    mod = load(report)
    rnd = random.Random(seed)
    deadline = time.monotonic() + seconds
    passed = failed = done = 0
    fails = []
    with tempfile.TemporaryDirectory(prefix="report-fuzz.") as w:
        while done < cases and time.monotonic() < deadline:
            path = os.path.join(w, "case%d.jsonl" % done)
            n_lines = rnd.randrange(1, 6)
            must = 0
            with open(path, "wb") as fp:
                fp.write(corpus.good())
                for _ in range(n_lines):
                    line, bad = mutate(rnd)
                    fp.write(line)
                    must += bad
            mode = ("text", "--html", "--json")[done % 3]
            out, err = io.StringIO(), io.StringIO()
            saved = sys.stderr
            sys.stderr = err
            try:
                rc = mod.main(["--no-verify", "--jobs", "1"] +
                              ([] if mode == "text" else [mode]) + [path], out)
                problem = None
            except BaseException:
                rc, problem = None, traceback.format_exc().strip().splitlines()[-1]
            finally:
                sys.stderr = saved
            text = out.getvalue()
            if problem is None:
                if mode == "--json":
                    doc = json.loads(text)
                    n_bad, n_rec = doc["malformed"]["count"], doc["records"]
                else:
                    n_bad = int(re.search(r"Malformed lines: (\d+)", text).group(1))
                    n_rec = int(re.search(r"(\d+) records", text).group(1))
                total = lines_in(path)
                if n_bad + n_rec != total:
                    problem = "%d records + %d malformed != %d lines" % (
                        n_rec, n_bad, total)
                elif n_bad < must:
                    problem = "%d malformed, at least %d have a wrong type" % (
                        n_bad, must)
                elif rc != (1 if n_bad else 0):
                    problem = "exit %s with %d malformed" % (rc, n_bad)
                elif mode == "text" and RAW_CTRL.search(text):
                    problem = "raw control character in text output"
            if problem is None:
                passed += 1
            else:
                failed += 1
                keep = os.path.join(tempfile.gettempdir(), "report-fuzz-fail-%d-%d.jsonl"
                                    % (seed, done))
                with open(path, "rb") as a, open(keep, "wb") as b:
                    b.write(a.read())
                fails.append("case %d (%s): %s; input kept in %s" % (
                    done, mode, problem, keep))
            os.unlink(path)
            done += 1
        # a sample as real processes: nothing on stderr, no traceback
        rnd2 = random.Random(seed + 1)
        for i in range(12):
            path = os.path.join(w, "proc%d.jsonl" % i)
            with open(path, "wb") as fp:
                for _ in range(200):
                    fp.write(mutate(rnd2)[0])
            mode = ("text", "--html", "--json")[i % 3]
            p = subprocess.run([sys.executable, report, "--no-verify"] +
                               ([] if mode == "text" else [mode]) + [path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=120)
            if p.returncode in (0, 1) and not p.stderr:
                passed += 1
            else:
                failed += 1
                fails.append("process %d (%s): exit %d, stderr %r" % (
                    i, mode, p.returncode, p.stderr[-300:]))
    for f in fails[:20]:
        print("FAIL: " + f)
    print("fuzz: %d cases in the time bound; every case: no exception, lines"
          " accounted for, wrong types counted, exit status" % done)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or done == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
