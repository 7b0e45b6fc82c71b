#!/usr/bin/env python3
# seal.py - the report's seal coverage over a log the real milter sealed
# (audit-seal-state, epochs of 2 s): a run with epoch-end seals, a reload
# and a SIGKILL (the next start writes a recovery seal), a stop, a start
# after two epochs passed (a gap), a stop.  The report verifies the chain
# with the verification key and prints exactly: the seals by reason (as
# many as the log has), the first and last epoch sealed, the gap, no
# decisions and no malformed lines; the same log without its last seal
# has as many records not covered as that seal counted.  The milter part
# needs root (it keeps the sealing state as root).  First, a generated
# 20 MB sealed log read in one range and in byte ranges by 4 processes:
# the coverage counted as it was written, both times.
#
#   python3 tests/report/seal.py REPORT MILTER
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PERIOD = 2
report, milter = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("PASS: " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)




def synthetic(path):
    """A generated sealed log of about 20 MB (not verifiable: the report
    only counts): seals of every reason, gaps, records after the last seal.
    The expected coverage, counted here as the log is written."""
    pad = "x" * 400
    n_sealed, tail, reasons, epochs, gaps = 0, 0, {}, [], []
    reasons_cycle = ("epoch-end", "epoch-end", "reopen", "stop", "recovery")
    with open(path, "w") as fp:
        e = 0
        for i in range(45000):
            t = "2026-11-%02dT%02d:%02d:%02d.000Z" % (
                1 + i // 3600 % 28, i // 60 % 24, i % 60, i % 60)
            if i % 97 == 96:
                reason = reasons_cycle[len(epochs) % 5]
                fp.write(json.dumps({"v": 2, "time": t, "type": "seal",
                                     "reason": reason, "records": tail,
                                     "from": t, "head": "0" * 64, "epoch": e,
                                     "prev": "0" * 64, "hash": "0" * 64},
                                    separators=(",", ":")) + "\n")
                reasons[reason] = reasons.get(reason, 0) + 1
                if epochs and e > epochs[-1] + 1:
                    gaps.append([epochs[-1] + 1, e - 1])
                epochs.append(e)
                tail = 0
                e += 1 if len(epochs) % 7 else 3     # every 7th: two missing
                continue
            fp.write(json.dumps({"v": 2, "time": t, "type": "policy",
                                 "event": "start", "policy": "0" * 64,
                                 "text": pad, "epoch": e, "prev": "0" * 64,
                                 "hash": "0" * 64},
                                separators=(",", ":")) + "\n")
            n_sealed += 1
            tail += 1
    return {"seals": len(epochs), "by_reason": dict(sorted(reasons.items())),
            "first_epoch": epochs[0], "last_epoch": epochs[-1], "gaps": gaps,
            "gap_count": len(gaps), "sealed_records": n_sealed,
            "not_covered": tail, "sealed": True}


tmp = tempfile.mkdtemp(prefix="report-seal-gen.")
try:
    big = os.path.join(tmp, "sealed.jsonl")
    want = synthetic(big)
    for jobs in ("1", "4"):
        p = subprocess.run([report, "--json", "--no-verify", "--jobs", jobs, big],
                           capture_output=True, text=True)
        got = json.loads(p.stdout)["seal_coverage"] if p.stdout else p.stderr
        check(got == want, "a generated 20 MB sealed log, --jobs %s (%s): %s" % (
            jobs, "byte ranges merged in chain order" if jobs != "1"
            else "one range", "as counted" if got == want else
            "got %s, want %s" % (got, want)))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if os.geteuid() != 0:
    print("SKIP: the real milter's sealing needs root (its state is root's)")
    finish()

w = tempfile.mkdtemp(prefix="report-seal.")
os.chmod(w, 0o755)
S, L = os.path.join(w, "seal"), os.path.join(w, "log")
os.mkdir(S, 0o700)
os.mkdir(L, 0o750)
shutil.chown(L, "nobody", "nogroup")
LOG = os.path.join(L, "audit.jsonl")
procs = []


def records():
    try:
        with open(LOG, encoding="utf-8") as fp:
            return [json.loads(x) for x in fp if x.endswith("\n")]
    except FileNotFoundError:
        return []


def seals(reason=None):
    return [r for r in records() if r.get("type") == "seal" and
            (reason is None or r.get("reason") == reason)]


def wait(cond, what, limit=8 * PERIOD):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    check(False, "timed out waiting for " + what)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name):
    err = open(os.path.join(w, name + ".err"), "wb")
    p = subprocess.Popen([milter, "-f", "-c", conf, "-p",
                          "inet:%d@127.0.0.1" % free_port()],
                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    procs.append(p)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def report_json(*args):
    verifier = [] if "--no-verify" in args else ["--verifier", milter]
    p = subprocess.run([report, "--json"] + verifier + list(args),
                       capture_output=True, text=True)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr
    except ValueError:
        return p.returncode, None, p.stdout + p.stderr


try:
    out = subprocess.run([milter, "--setup-keys", "--epoch", str(PERIOD),
                          "--state", os.path.join(S, "state")],
                         capture_output=True, text=True)
    vk = [x.split(": ", 1)[1] for x in out.stdout.splitlines()
          if x.startswith("verification key: ")]
    check(out.returncode == 0 and len(vk) == 1, "--setup-keys printed the key")
    if not vk:
        finish()
    vk = vk[0]
    conf = os.path.join(w, "sealed.conf")
    with open(conf, "w") as fp:
        fp.write("syslog no\nuserid nobody:nogroup\naudit-log %s\n"
                 "audit-seal-state %s\n[listener submission]\nport 587\n"
                 "require-tls yes\n" % (LOG, os.path.join(S, "state")))

    # run 1: two epoch ends, then a reload right after a seal and a SIGKILL
    p = start("run1")
    wait(lambda: len(seals("epoch-end")) >= 2, "two epoch-end seals")
    n = len(seals())
    wait(lambda: len(seals()) > n, "the next seal")
    p.send_signal(1)        # SIGHUP: a policy record, sealed, not yet sealed over
    wait(lambda: sum(r.get("type") == "policy" for r in records()) >= 2,
         "the reload's policy record")
    p.kill()
    p.wait()
    last = records()[-1]
    check(last.get("type") == "policy" and "epoch" in last,
          "the killed run left a sealed record after its last seal")
    # run 2: the recovery seal, then a stop
    p = start("run2")
    wait(lambda: len(seals("recovery")) == 1, "the recovery seal")
    stop(p)
    # run 3 after two epochs without the milter: a gap
    stopped = seals()[-1]["epoch"]
    with open(os.path.join(S, "state")) as fp:
        begin = int([x.split()[1] for x in fp if x.startswith("start ")][0])
    wait(lambda: (time.time() - begin) // PERIOD >= stopped + 3,
         "two epochs to pass", 5 * PERIOD)
    p = start("run3")
    wait(lambda: sum(r.get("type") == "policy" for r in records()) >= 4,
         "run 3's policy record")
    stop(p)

    all_seals = seals()
    epochs = [r["epoch"] for r in all_seals]
    reasons = {}
    for r in all_seals:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    gaps = [[a + 1, b - 1] for a, b in zip(epochs, epochs[1:]) if b > a + 1]
    check(reasons.get("stop") == 2 and reasons.get("recovery") == 1 and
          reasons.get("epoch-end", 0) >= 2 and gaps,
          "the milter's log: seals %s, gaps %s" % (reasons, gaps))

    rc, d, err = report_json("--verification-key", vk, LOG)
    if d is None:
        check(False, "report --json: exit %d: %s" % (rc, err))
        finish()
    sc = d["seal_coverage"]
    check(rc == 0 and d["integrity"]["verified"] is True,
          "the sealed log verifies with the verification key (exit %d: %s)"
          % (rc, d["integrity"]["first_problem"]))
    check(sc["seals"] == len(all_seals) and sc["by_reason"] == reasons,
          "seals by reason: %s (want %d, %s)" % (sc["by_reason"],
                                                 len(all_seals), reasons))
    check(sc["first_epoch"] == epochs[0] and sc["last_epoch"] == epochs[-1],
          "epochs sealed %s..%s" % (sc["first_epoch"], sc["last_epoch"]))
    check(sc["gaps"] == gaps and sc["gap_count"] == len(gaps),
          "gaps %s (want %s)" % (sc["gaps"], gaps))
    sealed = sum(1 for r in records() if "epoch" in r and r["type"] != "seal")
    check(sc["sealed_records"] == sealed and sc["not_covered"] == 0,
          "sealed records %d (want %d), none after the last seal" % (
              sc["sealed_records"], sealed))
    check(d["types"].get("seal") is None and d["types"].get("decision") is None
          and d["malformed"]["count"] == 0 and d["records"] == sealed,
          "seals are neither decisions nor malformed, nor counted as records:"
          " types %s" % d["types"])

    # the log without its last seal: the records it covered are not covered
    with open(LOG, "rb") as fp:
        lines = fp.readlines()
    cut = os.path.join(w, "cut.jsonl")
    with open(cut, "wb") as fp:
        fp.writelines(lines[:-1])
    want = all_seals[-1]["records"]
    rc, d, err = report_json("--no-verify", cut)
    check(d is not None and want >= 1 and
          d["seal_coverage"]["not_covered"] == want and
          d["seal_coverage"]["seals"] == len(all_seals) - 1,
          "without the last seal: %s not covered (want %d)" % (
              d and d["seal_coverage"]["not_covered"], want))
    t = subprocess.run([report, "--no-verify", cut], capture_output=True,
                       text=True).stdout
    check("  sealed records: %d, of which %d after the last seal" % (
        sealed, want) in t and "  epochs sealed:  %d..%d" % (
            epochs[0], epochs[-2]) in t, "the text report says the same")
    h = subprocess.run([report, "--no-verify", "--html", cut],
                       capture_output=True, text=True).stdout
    check("<h2>Seal coverage</h2>" in h and "of which %d after the last seal"
          % want in h, "the HTML report says the same")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(w, ignore_errors=True)
finish()
