#!/usr/bin/env python3
"""A fake Graph API and WSAPI instance on loopback, so scripts never reach Meta or WSAPI.

Usage: fake-upstream.py PORT
  GET  /<version>/<phone number id>            -> the number's details (credential check)
  POST /<version>/<phone number id>/messages   -> a wamid (Cloud API send)
  GET  /instance/details                       -> an instance (WSAPI credential check)
  POST /messages/...                           -> a message id (WSAPI send)
Every request is counted; GET /_stats returns the counts.
"""
import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTER = itertools.count(1)
STATS = {"graph_sends": 0, "wsapi_sends": 0, "checks": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def do_GET(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts == ["_stats"]:
            with LOCK:
                return self.answer(200, STATS)
        with LOCK:
            STATS["checks"] += 1
        if parts == ["instance", "details"]:
            return self.answer(200, {"id": "instance-1", "phoneNumber": "14155550000", "pushName": "Fake"})
        if len(parts) == 2:
            return self.answer(200, {"id": parts[1], "display_phone_number": "+1 415-555-0000",
                                     "verified_name": "Fake Business", "quality_rating": "GREEN"})
        return self.answer(404, {"error": {"message": "unknown path", "code": 100}})

    def do_POST(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body = self.body()
        n = next(COUNTER)
        if len(parts) == 3 and parts[2] == "messages":
            with LOCK:
                STATS["graph_sends"] += 1
            to = str(body.get("to", "")).lstrip("+")
            return self.answer(200, {"messaging_product": "whatsapp",
                                     "contacts": [{"input": body.get("to"), "wa_id": to}],
                                     "messages": [{"id": f"wamid.FAKE{n}"}]})
        if parts and parts[0] == "messages":
            with LOCK:
                STATS["wsapi_sends"] += 1
            return self.answer(200, {"id": f"WSAPI{n}"})
        return self.answer(404, {"error": {"message": "unknown path", "code": 100}})


if __name__ == "__main__":
    port = int(sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
