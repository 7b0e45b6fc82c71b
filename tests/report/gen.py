#!/usr/bin/env python3
# gen.py - chained audit records for the report's tests and bench.
#
# chain(records, prev, key) gives the lines of doc/audit-format.md: each
# line is {"v":2,<members>,"prev":"P","hash":"H"} with H the SHA-256 (or
# HMAC-SHA256 with a key) of the line without ,"hash":"H".  month() gives a
# month of records with known content: several listeners, a TLS version
# shift in the middle, exceptions planted on known days.  The expected
# numbers are computed by the tests from these records, not by the report.
#
#   python3 gen.py month FILE [POLICY]   a month, one file (POLICY: the
#                                        text of a start policy record)
#   python3 gen.py scale FILE N          N records (the bench)
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import datetime
import hashlib
import hmac
import json
import random
import sys

ZERO = "0" * 64
LISTENERS = (("submission", "587"), ("mx", "25"), ("submissions", "465"))
SHIFT_DAY = 15          # from this day of the month on, mx sees no TLS < 1.2
EXPOSURE_DAYS = (4, 19)     # credential exposures on submission
WOULD_DAYS = (9, 27)        # report-mode refusals let through on submissions
REFUSAL_DAYS = (2, 11, 23)  # plaintext refused on submission


def chain(records, prev=ZERO, key=None):
    """(lines as bytes, last hash) for records (dicts, "v" first)."""
    out = []
    for r in records:
        body = json.dumps(r, separators=(",", ":"))
        m = (body[:-1] + ',"prev":"%s"}' % prev).encode()
        h = (hmac.new(key, m, hashlib.sha256) if key else hashlib.sha256(m)).hexdigest()
        out.append(m[:-1] + b',"hash":"' + h.encode() + b'"}\n')
        prev = h
    return out, prev


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def session_records(sid, t, listener, port, client, tls_version, user,
                    decisions):
    """A session's decision records and its session record.

    decisions: [(rule, outcome, mode)]."""
    base = {"client_addr": client, "client_port": "40000",
            "listener": listener, "daemon_port": port,
            "tls": tls_version is not None}
    if tls_version:
        base.update(tls_version=tls_version, cipher=(
            "TLS_AES_256_GCM_SHA384" if tls_version == "TLSv1.3" else
            "ECDHE-RSA-AES256-GCM-SHA384" if tls_version == "TLSv1.2" else
            "ECDHE-RSA-AES256-SHA"), cipher_bits=256)
    base["auth"] = user is not None
    if user:
        base.update(auth_type="PLAIN", auth_authen=user)
    out = []
    for i, (rule, outcome, mode) in enumerate(decisions):
        exposed = user is not None and tls_version is None
        r = {"v": 2, "time": stamp(t + datetime.timedelta(seconds=1 + i)),
             "session": sid,
             "type": "credential-exposure" if exposed else "decision"}
        r.update(base)
        r.update(rule=rule, action="report" if mode == "report" else "reject",
                 outcome=outcome, mode=mode, exposure=exposed, trusted=False,
                 reason="test", auth_before_tls=False,
                 sender_domain="example.test" if user else "mx%d.test" % (
                     sum(map(ord, client)) % 7))
        out.append(r)
    s = {"v": 2, "time": stamp(t + datetime.timedelta(seconds=2 + len(decisions))),
         "session": sid, "type": "session", "started": stamp(t)}
    s.update(base)
    s.update(helos=2 if tls_version else 1, mails=len(decisions))
    out.append(s)
    return out


def policy_record(t, event, text):
    """A policy record: text as tlspolicy-milter -n prints it."""
    return {"v": 2, "time": stamp(t), "type": "policy", "event": event,
            "policy": hashlib.sha256(text.encode()).hexdigest(), "text": text}


def month(year=2026, mon=11, per_day=40, seed=11, policies=()):
    """Records of one month, in time order; policies: [(datetime, event,
    text)] become policy records."""
    rnd = random.Random(seed)
    first = datetime.datetime(year, mon, 1)
    days = (datetime.datetime(year + mon // 12, mon % 12 + 1, 1) - first).days
    recs = []
    n = 0
    for d in range(days):
        day = first + datetime.timedelta(days=d)
        sessions = []
        for listener, port in LISTENERS:
            for k in range(per_day + rnd.randrange(per_day // 2)):
                t = day + datetime.timedelta(seconds=rnd.randrange(86000))
                sessions.append((t, listener, port, k))
        sessions.sort()
        for t, listener, port, k in sessions:
            n += 1
            sid = "%x.%d" % (d, n)
            client = "192.0.2.%d" % (1 + n % 250)
            if listener == "mx":
                old = d + 1 < SHIFT_DAY
                v = rnd.choice((None, "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
                               if old else (None, "TLSv1.2", "TLSv1.3", "TLSv1.3"))
                mails = rnd.randrange(3)
                recs.extend(session_records(sid, t, listener, port, client, v,
                                            None, [("none", "accept", "enforce")]
                                            * mails))
            else:
                v = rnd.choice(("TLSv1.2", "TLSv1.3"))
                user = "user%d@example.test" % (n % 17)
                mails = rnd.randrange(1, 3) if k % 5 else 0
                recs.extend(session_records(sid, t, listener, port, client, v,
                                            user, [("none", "accept", "enforce")]
                                            * mails))
        noon = day + datetime.timedelta(hours=12)
        if d + 1 in EXPOSURE_DAYS:
            recs.extend(session_records("x%d" % d, noon, "submission", "587",
                                        "198.51.100.%d" % d, None,
                                        "leaky%d@example.test" % d,
                                        [("auth-requires-tls", "reject", "enforce")]))
        if d + 1 in WOULD_DAYS:
            recs.extend(session_records("w%d" % d, noon, "submissions", "465",
                                        "203.0.113.%d" % d, "TLSv1.1",
                                        "old%d@example.test" % d,
                                        [("min-tls-version", "would-reject", "report")]
                                        * 2))
        if d + 1 in REFUSAL_DAYS:
            recs.extend(session_records("r%d" % d, noon, "submission", "587",
                                        "203.0.113.200", None, None,
                                        [("require-tls", "reject", "enforce")]))
    recs.extend(policy_record(t, event, text) for t, event, text in policies)
    recs.sort(key=lambda r: r["time"])
    return recs


def scale(path, n):
    """n chained records written to path (the bench): sessions of three
    listeners spread over November, two of three with one decision
    (plaintext refused on the submission listeners), the lines formatted
    from templates of session_records' output."""
    t0 = datetime.datetime(2026, 11, 1)
    step = 30 * 86400.0 / max(n, 1)
    templates = []
    for k in range(15):
        listener, port = LISTENERS[k % 3]
        v = ("TLSv1.3", "TLSv1.2", "TLSv1.3", None, "TLSv1.1")[k % 5]
        user = "u%d@example.test" % k if listener != "mx" and v else None
        decision = ("require-tls", "reject", "enforce") if listener != "mx" \
            and not v else ("none", "accept", "enforce")
        recs = session_records("SID", t0, listener, port, "192.0.2.%d" % k, v,
                               user, [decision] if k % 3 else [])
        forms = []
        for r in recs:
            r["time"] = "TIME"
            if "started" in r:
                r["started"] = "TIME"
            body = json.dumps(r, separators=(",", ":"))
            forms.append(body[:-1].replace("%", "%%").replace(
                '"TIME"', '"%s"').replace('"SID"', '"%s"') + ',"prev":"')
        templates.append(forms)
    prev = ZERO
    sha = hashlib.sha256
    written = k = 0
    with open(path, "wb", buffering=1 << 20) as fp:
        while written < n:
            forms = templates[k % 15]
            base = t0 + datetime.timedelta(seconds=written * step)
            when = base.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (base.microsecond // 1000)
            sid = "%x.%d" % (written, k)
            k += 1
            for form in forms[:n - written]:
                m = ((form % ((when, sid, when) if form.count("%s") == 3
                              else (when, sid))) + prev + '"}').encode()
                prev = sha(m).hexdigest()
                fp.write(m[:-1] + b',"hash":"' + prev.encode() + b'"}\n')
                written += 1
    return written


def main(argv):
    if argv[1] == "month":
        policies = []
        if len(argv) > 3:       # a start policy: tlspolicy-milter -n output
            with open(argv[3]) as fp:
                policies.append((datetime.datetime(2026, 11, 1), "start", fp.read()))
        lines, _ = chain(month(policies=policies))
        with open(argv[2], "wb") as fp:
            fp.writelines(lines)
    elif argv[1] == "scale":
        print(scale(argv[2], int(argv[3])))
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
