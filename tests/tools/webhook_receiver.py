#!/usr/bin/env python3
"""A webhook receiver for tests/check_webhooks.c, checking what arrives with
its own code (hmac, hashlib, base64), not the service's.

    webhook_receiver.py PORT

POST /_plan {"answers": [...], "secrets": ["whsec_...", ...]} sets the
answers to give, in order, to the deliveries that come next (then 200 each),
and the secrets to verify signatures against. An answer is {"status": n},
optionally with "retry_after" (a Retry-After value) and "location", or
{"sleep": s} (answer 200 after s seconds); "body_bytes": n makes the
answer's body n bytes long, and "stall": s waits s seconds after its first
100 000 bytes before the rest. GET /_log gives every delivery
received, in order: its webhook-id, webhook-timestamp, path, body, the
number of signatures and, for each secret given, whether one of the
signatures verifies with it. A delivery is logged when it arrives, before
it is answered.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
answers = []
secrets = []
log = []


def verify(secret, msg_id, ts, body, signatures):
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in signatures)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=(), stall=0):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if stall:
            self.wfile.write(body[:100000])
            self.wfile.flush()
            time.sleep(stall)
            body = body[100000:]
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/_log":
            return self.reply(404)
        with lock:
            body = json.dumps(log).encode()
        self.reply(200, body, [("Content-Type", "application/json")])

    def do_POST(self):
        global answers, secrets
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_plan":
            plan = json.loads(body)
            with lock:
                answers = list(plan.get("answers", []))
                secrets = list(plan.get("secrets", []))
            return self.reply(204)
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        header = self.headers.get("webhook-signature", "")
        entries = header.split(" ") if header else []
        signatures = [e[3:] for e in entries if e.startswith("v1,")]
        with lock:
            entry = {
                "id": msg_id,
                "timestamp": ts,
                "path": self.path,
                "content_type": self.headers.get("Content-Type", ""),
                "bytes": len(body),
                "signatures": len(entries),
                "well_formed": len(signatures) == len(entries),
                "verified": [verify(s, msg_id, ts, body, signatures) for s in secrets],
            }
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body"] = None
            log.append(entry)
            answer = answers.pop(0) if answers else {"status": 200}
        if "sleep" in answer:
            time.sleep(answer["sleep"])
            answer = {"status": 200}
        headers = []
        if "retry_after" in answer:
            headers.append(("Retry-After", str(answer["retry_after"])))
        if "location" in answer:
            headers.append(("Location", answer["location"]))
        body = b"answer from the test receiver"
        if "body_bytes" in answer:
            body = b"x" * answer["body_bytes"]
        try:
            self.reply(answer["status"], body, headers, answer.get("stall", 0))
        except OSError:
            pass  # the worker gave up or was killed meanwhile


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a worker killed or timed out mid-exchange is what some tests do


def main():
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
