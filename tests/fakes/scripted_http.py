"""A scripted HTTP server on 127.0.0.1 for fake LLM APIs (bounded: it stops by itself).

A *script* is a list of replies served in order, or a callable ``(path, body) -> reply``.
A reply is a dict: ``{"status": int, "json": obj}``, ``{"status": int, "raw": str}`` and
optional ``"headers"``/``"delay_s"``. Every request body is kept in ``server.requests``.
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script, paths: tuple[str, ...], lifetime_s: float = 30.0,
                 port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.script, self.paths = script, paths
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._timer = threading.Timer(lifetime_s, self.shutdown)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_reply(self, path: str, body, headers: dict | None = None) -> dict:
        with self.lock:
            self.requests.append({"path": path, "body": body, "headers": headers or {}})
            if callable(self.script):
                return self.script(path, body)
            if not self.script:
                return {"status": 400, "json": {"error": {"message": "fake script exhausted",
                                                          "type": "invalid_request_error"}}}
            return self.script.pop(0)

    def start(self) -> ScriptedServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # e.g. GET /v1/models; a script sees body None
        self.do_POST()

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        path = self.path.split("?")[0]
        if not any(path.endswith(p) for p in self.server.paths):
            reply = {"status": 404, "json": {"error": {"message": f"no route {path}"}}}
        else:
            reply = self.server.next_reply(path, body, {k.lower(): v for k, v in
                                                        self.headers.items()})
        time.sleep(reply.get("delay_s", 0))
        data = reply["raw"].encode() if "raw" in reply else json.dumps(reply["json"]).encode()
        self.send_response(reply.get("status", 200))
        self.send_header("content-type", reply.get("content_type", "application/json"))
        self.send_header("content-length", str(len(data)))
        for k, v in (reply.get("headers") or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serving(script, paths, lifetime_s: float = 30.0):
    server = ScriptedServer(script, paths, lifetime_s).start()
    try:
        yield server
    finally:
        server.stop()


def error(status: int, message: str = "scripted error", retry_after=None) -> dict:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return {"status": status, "json": {"error": {"message": message, "type": "error"}},
            "headers": headers}
