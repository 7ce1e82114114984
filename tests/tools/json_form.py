#!/usr/bin/env python3
"""Judges a JSON answer by the contract's form, with Python's own parser:
compact (no space after ':' or ','), UTF-8 without \\u escapes for
printable characters, every time RFC 3339 in UTC with Z, every mean with at
most one decimal. Usage: json_form.py FILE; prints what is wrong, exits 1."""
import json, re, sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
wrong = []

def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(x, path + "." + k)
            if k.startswith("mean") and isinstance(x, float) and round(x, 1) != x:
                wrong.append("%s.%s = %r has more than one decimal" % (path, k, x))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (path, i))
    elif isinstance(v, str) and TIME.match(v) and not RFC3339_Z.match(v):
        wrong.append("%s = %r is not RFC 3339 UTC with Z" % (path, v))

text = open(sys.argv[1], encoding="utf-8").read()
doc = json.loads(text)
compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
if compact != text:
    at = next((i for i, (a, b) in enumerate(zip(compact, text)) if a != b), min(len(compact), len(text)))
    wrong.append("not compact at %d: %r vs %r" % (at, text[max(0, at - 30):at + 30], compact[max(0, at - 30):at + 30]))
walk(doc, "$")
for w in wrong:
    print(w)
sys.exit(1 if wrong else 0)
