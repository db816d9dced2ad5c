#!/usr/bin/env python3
# stand_in.py PORT MODE: a hostile stand-in for the vpo daemon, for the client's tests.
#   inject   - vpo-shaped answers whose strings carry ESC, OSC, BEL, CR, newline, C1 and RLO
#   deep     - every answer is JSON nested 200,000 levels deep
#   huge     - every answer claims and streams 200 MiB
#   busy     - POST /api/jobs creates job j1; every GET of it is 503 with Retry-After: 1
#   noid     - POST /api/jobs answers 201 with a job that has no id
#   garbled  - every connection gets bytes that are not HTTP
import http.server
import json
import socketserver
import sys

port, mode = int(sys.argv[1]), sys.argv[2]
EVIL = "/media/x\u001b]0;owned\u0007\u001b[2J\rrow\nforged\u009b31m\u202eeulb.mkv"


def job(status="completed"):
    return {"id": "j1", "type": "scan", "status": status, "priority": 100, "path": EVIL,
            "progress_percent": 100.0, "attempts": 1, "created_at": "2026-12-05T08:00:00Z",
            "started_at": None, "completed_at": None, "error": "bad\u001b[31m\nthing",
            "summary": None}


def inject(method, path):
    if path.startswith("/health"):
        return 200, {"status": "healthy", "database": "connected\u001b[5m", "uptime_seconds": 1,
                     "version": "0.1.0\u0007", "shutting_down": False,
                     "database_error": "x\u001b]52;c;AAAA\u0007"}
    if path.startswith("/api/library"):
        return 200, {"files": 1, "missing": 0, "bytes": 5, "by_extension": {"mk\u001bv": 1},
                     "last_scan_at": None}
    if path.startswith("/api/files"):
        return 200, {"files": [{"path": EVIL, "size": 5, "modified_at": "2026-12-05T08:00:00Z",
                                "missing": False, "missing_since": None,
                                "scanned_at": "2026-12-05T08:00:00Z"}], "total": 1}
    if method == "POST":
        return 201, job("queued")
    if path.startswith("/api/jobs/"):
        return 200, job("failed")
    return 200, {"jobs": [job()], "total": 1}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, extra=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, method):
        if mode == "inject":
            return self.answer(*inject(method, self.path))
        if mode == "deep":
            return self.answer(200, b"[" * 200000 + b"]" * 200000)
        if mode == "huge":
            size = 200 << 20
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b'"' + b"x" * (1 << 20)
            try:
                for _ in range(200):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if mode in ("busy", "noid"):
            if method == "POST":
                body = job("queued")
                if mode == "noid":
                    del body["id"]
                return self.answer(201, body)
            return self.answer(503, {"error": "draining", "code": "SHUTTING_DOWN"},
                               {"Retry-After": "1"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.handle_any("POST")


class Garbled(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(b"\x16\x03\x01 this is not HTTP\r\n\r\n")


socketserver.TCPServer.allow_reuse_address = True
if mode == "garbled":
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Garbled)
else:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
server.serve_forever()
