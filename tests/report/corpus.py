#!/usr/bin/env python3
# corpus.py - the hostile-input corpus for tlspolicy-report.
#
#   python3 corpus.py DIR      writes DIR/NAME.jsonl and DIR/expect.json
#
# Each case is a file of valid records with hostile lines among them, and
# the number of lines the report must count as malformed.  Cases are built
# here rather than stored because some are large (a 3 MiB line, 100,000
# brackets) and some hold bytes a text file in git should not (invalid
# UTF-8, NUL, raw ESC).  The output is the same on every run.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors

import json
import os
import sys

SESSION = {"v": 2, "time": "2026-11-24T09:00:01.000Z", "session": "A.1",
           "type": "session", "started": "2026-11-24T08:59:59.000Z",
           "client_addr": "192.0.2.10", "client_port": "50123",
           "listener": "submission", "daemon_name": "mx.example.test",
           "daemon_addr": "192.0.2.1", "daemon_port": "587", "tls": True,
           "tls_version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
           "cipher_bits": 256, "cert_subject": "CN=c", "cert_issuer": "CN=ca",
           "verify": "OK", "auth": True, "auth_type": "PLAIN",
           "auth_authen": "alice@example.test", "helos": 2, "mails": 1,
           "mta_version": "Postfix 3.7.11", "facts_problem": "none",
           "prev": "0" * 64, "hash": "1" * 64}
DECISION = {"v": 2, "time": "2026-11-24T09:00:00.000Z", "session": "A.1",
            "type": "decision", "queue_id": "4Q1", "client_addr": "192.0.2.10",
            "client_port": "50123", "listener": "submission",
            "daemon_port": "587", "tls": True, "tls_version": "TLSv1.3",
            "cipher": "TLS_AES_256_GCM_SHA384", "cipher_bits": 256,
            "auth": True, "auth_type": "PLAIN",
            "auth_authen": "alice@example.test", "rule": "none",
            "action": "reject", "outcome": "accept",
            "reply": "250 2.0.0 ok", "mode": "enforce", "exposure": False,
            "trusted": False, "reason": "all rules passed",
            "prev": "0" * 64, "hash": "2" * 64}
# A value of the wrong JSON type for each member (bool is not a number).
WRONG = {str: [["x"], {"a": "b"}, None, 5, True, 1.5],
         int: ["5", None, True, 1.5, [1], {"n": 1}],
         bool: ["true", 1, 0, None, [True]]}
TYPES = {"v": int, "time": str, "session": str, "type": str, "started": str,
         "queue_id": str, "client_addr": str, "client_port": str,
         "listener": str, "daemon_name": str, "daemon_addr": str,
         "daemon_port": str, "tls": bool, "tls_version": str, "cipher": str,
         "cert_subject": str, "cert_issuer": str, "verify": str, "auth": bool,
         "auth_type": str, "auth_authen": str, "rule": str, "action": str,
         "outcome": str, "reply": str, "mode": str, "exposure": bool,
         "trusted": bool, "reason": str, "helos": int, "mails": int,
         "mta_version": str, "facts_problem": str, "prev": str, "hash": str}


def line(r):
    return json.dumps(r, separators=(",", ":")).encode() + b"\n"


def good():
    return line(DECISION) + line(SESSION)


def with_member(base, key, value):
    r = dict(base)
    r[key] = value
    return line(r)


def cases():
    """(name, bytes, malformed lines, extra report arguments)."""
    c = []
    c.append(("valid", good(), 0, []))
    c.append(("deep-array", good() + b"[" * 100000 + b"\n", 1, []))
    c.append(("deep-object", good() + b'{"a":' * 100000 + b"1" + b"}" * 100000
              + b"\n", 1, []))
    c.append(("deep-in-member", good() + b'{"v":2,"time":"2026-11-24T09:00:00.000Z",'
              b'"x":' + b"[" * 50000 + b"]" * 50000 + b"}\n", 1, []))
    c.append(("listener-list", good() + with_member(SESSION, "listener", ["x"]), 1, []))
    c.append(("tls-version-number-html", good() + with_member(SESSION, "tls_version", 5)
              + with_member(DECISION, "tls_version", 5), 2, ["--html"]))
    c.append(("tls-version-number-json", good() + with_member(SESSION, "tls_version", 5),
              1, ["--json"]))
    c.append(("time-mixed-types", good() + with_member(SESSION, "time", 1732438800)
              + with_member(DECISION, "time", None)
              + with_member(SESSION, "time", ["2026-11-24T09:00:00.000Z"])
              + with_member(SESSION, "time", "yesterday")
              + with_member(SESSION, "time", "2026-02-30T09:00:00.000Z")
              + with_member(SESSION, "time", "2026-11-24T09:00:00Z"), 6, []))
    c.append(("time-missing", good() + line({k: v for k, v in SESSION.items()
                                             if k != "time"}), 1, []))
    c.append(("type-list", good() + with_member(SESSION, "type", ["session"]), 1, []))
    c.append(("type-unknown", good() + with_member(SESSION, "type", "policy"), 0, []))
    c.append(("invalid-utf8", good() + line(SESSION).replace(
        b"alice", b"al\xff\xfe\xc3ice"), 1, []))
    c.append(("huge-line", good() + b'{"v":2,"time":"2026-11-24T09:00:00.000Z",'
              b'"reason":"' + b"A" * (3 << 20) + b'"}\n' + good(), 1, []))
    c.append(("huge-line-over-blocks", good() + b'{"v":2,"reason":"' +
              b"B" * (9 << 20) + b'"}\n' + good(), 1, []))
    c.append(("huge-last-line-torn", good() + b'{"v":2,"reason":"' +
              b"C" * (5 << 20), 1, []))
    c.append(("long-value-under-limit", good() + with_member(
        SESSION, "listener", "L" * 500000), 0, []))
    esc = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m\r\n\x00\x7f\u202e\u2028"
    c.append(("terminal-escapes", good() + with_member(DECISION, "auth_authen", esc)
              + with_member(SESSION, "listener", esc)
              + with_member(dict(DECISION, type="credential-exposure",
                                 exposure=True, tls=False, rule="auth-requires-tls",
                                 outcome="reject"), "auth_authen", esc), 0, []))
    c.append(("terminal-escapes-html", good() + with_member(
        DECISION, "auth_authen", esc + "<script>alert(1)</script>"), 0, ["--html"]))
    c.append(("lone-surrogate", good() + line(SESSION).replace(
        b"alice", b"\\ud800\\udfff\\ud800x"), 0, []))
    c.append(("huge-integer", good() + line(SESSION).replace(
        b'"helos":2', b'"helos":' + b"9" * 5000), 1, []))
    c.append(("float-nan-inf", good() + line(SESSION).replace(
        b'"cipher_bits":256', b'"cipher_bits":NaN') + line(SESSION).replace(
        b'"mails":1', b'"mails":1e999') + line(SESSION).replace(
        b'"helos":2', b'"helos":-Infinity'), 3, []))
    c.append(("not-objects", good() + b'[1,2]\n"str"\n42\nnull\ntrue\n', 5, []))
    c.append(("blank-and-nul", good() + b"\n   \n\x00\x00\x00\n\t\n", 4, []))
    c.append(("duplicate-key", good() + line(SESSION)[:-2]
              + b',"tls":"yes"}\n', 1, []))
    c.append(("bom", b"\xef\xbb\xbf" + good(), 1, []))
    c.append(("truncated-last", good() + line(SESSION)[:-40], 1, []))
    c.append(("crlf", good() + line(SESSION)[:-1] + b"\r\n", 0, []))
    c.append(("not-json-garbage", good() + b"\x1b[2J\x07 not json {\n", 1, []))
    c.append(("v-missing", good() + line({k: v for k, v in SESSION.items()
                                          if k != "v"}), 1, []))
    c.append(("mails-negative", good() + with_member(SESSION, "mails", -5), 1, []))
    wrong = b""
    n = 0
    for key, t in sorted(TYPES.items()):
        for value in WRONG[t]:
            wrong += with_member(SESSION if key in SESSION else DECISION,
                                 key, value)
            n += 1
    for value in (None, True, "many", 1.5, [256]):
        if value == "many":
            continue        # cipher_bits may be a string (a malformed macro)
        wrong += with_member(SESSION, "cipher_bits", value)
        n += 1
    c.append(("wrong-type-every-member", good() + wrong, n, []))
    pol = {"v": 2, "time": "2026-11-24T08:00:00.000Z", "type": "policy",
           "event": "start", "policy": "f" * 64,
           "text": "listener submission (line 1): \x1b]0;x\x07\n  require-tls"
                   " \x1b[2J yes; \u202e\n  replies: x\n" + "[default] (" * 5000}
    c.append(("policy-hostile-text", line(pol) + good(), 0, []))
    c.append(("policy-hostile-text-html", line(pol) + good(), 0, ["--html"]))
    c.append(("policy-wrong-types", good() + with_member(pol, "text", ["x"]) +
              with_member(pol, "event", 1) + with_member(pol, "policy", None), 3, []))
    c.append(("empty-file", b"", 0, []))
    return c


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expect = {}
    for name, data, n_bad, args in cases():
        with open(os.path.join(out, name + ".jsonl"), "wb") as fp:
            fp.write(data)
        expect[name] = {"malformed": n_bad, "args": args,
                        "first_bad": 1 if name == "bom" else 3,
                        "lines": data.count(b"\n") + (0 if data.endswith(b"\n")
                                                      or not data else 1)}
    with open(os.path.join(out, "expect.json"), "w") as fp:
        json.dump(expect, fp, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
