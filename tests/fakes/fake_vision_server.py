"""A fake OpenAI-compatible vision chat server on 127.0.0.1 (real HTTP), with log-probabilities.

``with FakeVisionServer(rules={"bicycle": 0.9}, default=0.2) as srv: ... srv.base_url ...``
P(yes) of a request is the value of the first rule whose key occurs in its text (else
``default``). Every image must be a decodable base64 data URL; requests are recorded.
"""
from __future__ import annotations

import base64
import io
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


class FakeVisionServer:
    def __init__(self, rules: dict[str, float] | None = None, default: float = 0.5, logprobs: bool = True,
                 fail_first: int = 0, model: str = "fake-qwen3-vl"):
        self.rules, self.default, self.logprobs = dict(rules or {}), default, logprobs
        self.fail_first, self.model = fail_first, model
        self.requests: list[dict] = []  # {"text", "image_sizes", "body"}
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def p_yes(self, text: str) -> float:
        return next((p for key, p in self.rules.items() if key in text), self.default)

    def completion(self, body: dict) -> dict:
        texts, sizes = [], []
        for msg in body["messages"]:
            content = msg["content"]
            for part in [{"type": "text", "text": content}] if isinstance(content, str) else content:
                if part["type"] == "text":
                    texts.append(part["text"])
                elif part["type"] == "image_url":
                    head, data = part["image_url"]["url"].split(",", 1)
                    assert head.startswith("data:image/") and head.endswith(";base64"), head
                    sizes.append(Image.open(io.BytesIO(base64.b64decode(data))).size)
        text = "\n".join(texts)
        with self.lock:
            self.requests.append({"text": text, "image_sizes": sizes, "body": body})
        p = min(max(self.p_yes(text), 1e-6), 1 - 1e-6)
        word = "Yes" if p >= 0.5 else "No"
        choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": word}}
        if self.logprobs and body.get("logprobs"):
            top = [{"token": "Yes", "logprob": math.log(p * 0.9)}, {"token": "No", "logprob": math.log((1 - p) * 0.9)},
                   {"token": "yes", "logprob": math.log(p * 0.05)}, {"token": "no", "logprob": math.log((1 - p) * 0.05)},
                   {"token": "Maybe", "logprob": math.log(0.05)}]
            top = sorted(top, key=lambda t: -t["logprob"])[: int(body.get("top_logprobs") or 1)]
            chosen = next(t for t in top if t["token"] == word) if any(t["token"] == word for t in top) else top[0]
            choice["logprobs"] = {"content": [{**chosen, "top_logprobs": top}]}
        return {"id": f"fake-{self.calls}", "object": "chat.completion", "model": body.get("model", self.model),
                "choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    def __enter__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                with server.lock:
                    fail = server.fail_first > 0
                    server.fail_first -= fail
                if fail:
                    return self._send(503, {"error": {"message": "warming up"}})
                try:
                    self._send(200, server.completion(body))
                except (KeyError, AssertionError, ValueError, OSError) as exc:
                    self._send(400, {"error": {"message": f"bad request: {exc!r}"}})

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
