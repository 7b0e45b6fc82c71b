#!/usr/bin/env python3
# chain.py - tlspolicy-report over a rotated set of audit files as an admin
# has them: 14 files from one chain, most gzip-compressed by logrotate (one
# compressed file without the .gz name), given in shell glob order
# (.1 .10 .11 ... .2); the report puts them in chain order and the real
# verifier (tlspolicy-milter --verify-audit) confirms the chain.  Then a
# missing middle file (a gap, named), a copy of a file and a second
# continuation (forks, named), the oldest files deleted by retention (no
# gap), a keyed log with and without --key-file, and a corrupt gzip file.
#
#   python3 chain.py REPORT MILTER
#
# Prints PASS/FAIL lines and "N passed, N failed".
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

passed = failed = 0
N_FILES, PER_FILE = 14, 60


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("PASS: " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def report(argv, cwd):
    p = subprocess.run([sys.executable, REPORT] + argv, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def files_line(out):
    for line in out.splitlines():
        if line.startswith("  files, oldest first: "):
            return line.split(": ", 1)[1].split(", ")
    return None


def rotation(d, records, key=None):
    """Write records as a logrotate set (delaycompress) in d; oldest first
    names.  audit.jsonl is the newest; .1 plain; .2 and older gzip."""
    lines, last = gen.chain(records, key=key)
    names = []
    for i in range(N_FILES):
        age = N_FILES - 1 - i            # 13 (oldest) .. 0 (current)
        name = "audit.jsonl" + ("" if age == 0 else ".%d" % age)
        chunk = b"".join(lines[i * PER_FILE:(i + 1) * PER_FILE])
        if age >= 2:
            name += ".gz"
            with gzip.open(os.path.join(d, name), "wb") as fp:
                fp.write(chunk)
        else:
            with open(os.path.join(d, name), "wb") as fp:
                fp.write(chunk)
        names.append(name)
    return names, lines, last


def main():
    global REPORT
    REPORT, milter = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    records = gen.month(per_day=8)[:N_FILES * PER_FILE]
    assert len(records) == N_FILES * PER_FILE
    with tempfile.TemporaryDirectory(prefix="report-chain.") as w:
        d = os.path.join(w, "logs.d")       # a directory name with a dot
        os.mkdir(d)
        oldest_first, lines, last = rotation(d, records)
        # one compressed file without the .gz name: found by its magic bytes
        os.rename(os.path.join(d, "audit.jsonl.5.gz"), os.path.join(d, "audit.jsonl.5"))
        oldest_first[oldest_first.index("audit.jsonl.5.gz")] = "audit.jsonl.5"
        glob = sorted(os.listdir(d))        # what audit.jsonl* gives
        ok(glob != oldest_first and glob[1] == "audit.jsonl.1" and
           glob[2] == "audit.jsonl.10.gz", "the glob order is not the chain order")
        rc, out, err = report(["--verifier", milter] + glob, d)
        first = out.splitlines()[0] if out else err
        ok(rc == 0 and first.startswith("Evidence verified: %d records" % len(records))
           and last in first,
           "14 files, 12 gzip, glob order: verified, %d records, last hash"
           " printed (exit %d: %s)" % (len(records), rc, first[:100]))
        ok(files_line(out) == oldest_first, "files put in chain order: %s" %
           " ".join(files_line(out) or ["?"]))
        ok("%d records (" % len(records) in out and "Malformed lines: 0" in out,
           "every record of the compressed files counted")

        # a middle file missing: a gap, named; the verifier fails too
        gone = "audit.jsonl.7.gz"
        after = "audit.jsonl.6.gz"
        rest = [n for n in glob if n != gone]
        rc, out, err = report(["--verifier", milter] + rest, d)
        ok(rc == 1 and out.startswith("EVIDENCE DOES NOT VERIFY: ") and
           "gap: %s starts from" % after in out,
           "missing %s: exit %d, first line says the evidence does not verify,"
           " the gap before %s named" % (gone, rc, after))
        ok(after in out.splitlines()[0] and ".gz" in out.splitlines()[0] and
           "tlspolicy-report." not in out.splitlines()[0],
           "the verifier's problem names the compressed file by its own name"
           " (%s)" % out.splitlines()[0][:90])
        rc, out, err = report(["--no-verify"] + rest, d)
        ok(rc == 1 and out.startswith("EVIDENCE INCOMPLETE: gap: %s" % after),
           "--no-verify: the gap is still the first line, exit 1")

        # a copy of a file given too: a fork (two files end with one hash)
        with gzip.open(os.path.join(d, "audit.jsonl.4.gz"), "rb") as a, \
                open(os.path.join(w, "copy-of-4"), "wb") as b:
            b.write(a.read())
        rc, out, err = report(["--no-verify"] + glob + ["../copy-of-4"], d)
        ok(rc == 1 and "fork: " in out and "../copy-of-4" in out.split("fork: ")[1]
           .splitlines()[0], "a copy of a file: a fork, named, exit 1")
        # a second continuation of audit.jsonl.9.gz: a fork
        base = lines[(N_FILES - 9) * PER_FILE - 1]        # last line of .9
        prev = json.loads(base)["hash"]
        other, _ = gen.chain(records[:5], prev=prev)
        with open(os.path.join(w, "other"), "wb") as fp:
            fp.writelines(other)
        rc, out, err = report(["--no-verify"] + glob + ["../other"], d)
        ok(rc == 1 and "continue audit.jsonl.9.gz" in out,
           "two files continue audit.jsonl.9.gz: a fork, named")

        # the oldest two deleted by retention: no gap, the anchor is the
        # last hash of the deleted file
        kept = [n for n in glob if n not in ("audit.jsonl.13.gz", "audit.jsonl.12.gz")]
        rc, out, err = report(["--no-verify"] + kept, d)
        anchor = json.loads(lines[2 * PER_FILE - 1])["hash"]
        ok(rc == 0 and "gap" not in out and files_line(out) == oldest_first[2:],
           "oldest files deleted: no gap, chain order kept (exit %d)" % rc)
        ok(("anchor %s" % anchor) in out.splitlines()[0] or "anchor:        %s" % anchor in out,
           "the anchor printed is the deleted file's last hash")

        # a keyed log: the key file goes to the verifier
        k = os.path.join(w, "key")
        with open(k, "wb") as fp:
            fp.write(b"s3cret key\n")
        kd = os.path.join(w, "keyed")
        os.mkdir(kd)
        rotation(kd, records[:200], key=b"s3cret key")
        kglob = sorted(os.listdir(kd))
        rc, out, err = report(["--verifier", milter, "--key-file", k] + kglob, kd)
        ok(rc == 0 and out.startswith("Evidence verified"),
           "keyed log with --key-file: verified (exit %d)" % rc)
        rc, out, err = report(["--verifier", milter] + kglob, kd)
        ok(rc == 1 and out.startswith("EVIDENCE DOES NOT VERIFY") and
           "hash mismatch" in out.splitlines()[0],
           "keyed log without the key: does not verify, exit 1")

        # --expect-head goes to the verifier: the true last hash verifies,
        # another says the tail was cut
        rc, out, err = report(["--verifier", milter, "--expect-head", last] + glob, d)
        ok(rc == 0 and out.startswith("Evidence verified"),
           "--expect-head with the last hash: verified")
        rc, out, err = report(["--verifier", milter, "--expect-head", "a" * 64] + glob, d)
        ok(rc == 1 and out.startswith("EVIDENCE DOES NOT VERIFY") and "a" * 64 in
           out.splitlines()[0], "--expect-head with another hash: does not verify")

        # the environment variable names the verifier too
        env = dict(os.environ, TLSPOLICY_VERIFIER=milter)
        p = subprocess.run([sys.executable, REPORT] + glob, cwd=d, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(p.returncode == 0 and p.stdout.startswith(b"Evidence verified"),
           "TLSPOLICY_VERIFIER names the verifier")
        env["TLSPOLICY_VERIFIER"] = os.path.join(w, "no-such-verifier")
        p = subprocess.run([sys.executable, REPORT] + glob, cwd=d, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(p.returncode == 1 and p.stdout.startswith(b"EVIDENCE NOT VERIFIED: ")
           and b"Traceback" not in p.stderr,
           "a verifier that cannot be run: the first line says so, exit 1")

        # a corrupt gzip file: a read error, exit 2, no report
        bad = os.path.join(d, "audit.jsonl.3.gz")
        with open(bad, "rb") as fp:
            data = fp.read()
        with open(bad, "wb") as fp:
            fp.write(data[:len(data) // 2])
        rc, out, err = report(["--no-verify"] + glob, d)
        ok(rc == 2 and "audit.jsonl.3.gz: cannot read" in err and not out
           and "Traceback" not in err, "a truncated gzip file: exit 2, named")
        shutil.rmtree(d)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
