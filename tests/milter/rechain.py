#!/usr/bin/env python3
"""rechain.py - rewrite records of an unkeyed audit file and chain it anew.

usage: rechain.py IN OUT LINE EXPR
Line LINE (1-based) of IN is parsed, EXPR (Python, with the record as r)
is run on it, and every line's "prev" and "hash" are recomputed from the
anchor on (SHA-256, as doc/audit-format.md says), so that only what EXPR
changed is wrong: the forgery the verifier must find by meaning, not by
hash.  The members keep their order; compact separators as the milter
writes.
"""
import hashlib
import json
import sys

src, dst, target, expr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prev = "0" * 64
out = []
for i, line in enumerate(open(src, encoding="utf-8"), 1):
    r = json.loads(line)
    if i == target:
        exec(expr, {}, {"r": r})
    r.pop("hash", None)
    r.pop("prev", None)
    r["prev"] = prev
    m = json.dumps(r, separators=(",", ":"), ensure_ascii=False)
    prev = hashlib.sha256(m.encode("utf-8")).hexdigest()
    out.append(m[:-1] + ',"hash":"' + prev + '"}\n')
open(dst, "w", encoding="utf-8").writelines(out)
