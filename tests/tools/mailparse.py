#!/usr/bin/python3
"""Parses one mail with Python's email package (a real MIME parser) and
prints what the tests check, as JSON: the headers as decoded (RFC 2047)
and as written, the text body, the parser's defects, whether every line
is CRLF-ended, and the longest line.

    mailparse.py FILE"""
import email
import email.policy
import json
import sys


def main():
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines = raw.split(b"\r\n")
    out = {
        "headers": {},
        "raw_headers": {},
        "header_count": {},
        "defects": [type(d).__name__ for d in msg.defects],
        "crlf_only": b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b""),
        # a List-Unsubscribe URL cannot be folded; RFC 5322 allows 998
        "longest_line": max(len(l) for l in lines if not l.lower().startswith(b"list-unsubscribe:")),
        "longest_any_line": max(len(l) for l in lines),
        "head_ascii": all(b < 128 for b in head),
        "content_type": msg.get_content_type(),
        "charset": msg.get_content_charset(),
        "body": None,
    }
    for name, value in msg.items():
        key = name.lower()
        out["headers"][key] = str(value)
        out["header_count"][key] = out["header_count"].get(key, 0) + 1
        for d in getattr(value, "defects", []):
            out["defects"].append(type(d).__name__)
    for name, value in email.message_from_bytes(raw, policy=email.policy.compat32).items():
        out["raw_headers"][name.lower()] = value
    to = msg["to"]
    if to is not None:
        out["to_addresses"] = [a.addr_spec for a in to.addresses]
        out["to_names"] = [a.display_name for a in to.addresses]
    body = msg.get_body(preferencelist=("plain",))
    if body is not None:
        out["body"] = body.get_content()
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
