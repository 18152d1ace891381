"""A strict fake OpenAI-compatible server: it refuses what llama-cpp-python's server refuses.

Wraps any script of :mod:`fake_openai_server` (a list or a callable) and checks each request
first, answering the way llama-cpp-python 0.3's server does:

* an assistant message whose ``content`` is not a string -> HTTP 500 (pydantic validation:
  ``Input should be a valid string``);
* a tool call without id/type/function or with non-string JSON arguments -> HTTP 500;
* a tool result whose ``tool_call_id`` answers no call of the assistant turn before it ->
  HTTP 400;
* messages + ``max_tokens`` over ``n_ctx`` tokens (characters / ``chars_per_token``) -> HTTP
  400 ``This model's maximum context length is N tokens...``.

``GET /v1/models`` reports ``n_ctx`` under ``meta`` as llama.cpp servers do. Refused
requests are kept in ``server.refused``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_openai_server import PATHS  # noqa: E402
from scripted_http import ScriptedServer, error  # noqa: E402


def _validation(loc: str, msg: str) -> dict:
    return error(500, f"1 validation error for ChatCompletionRequest\n{loc}\n  {msg}")


def refusal(body: dict, n_ctx: int, chars_per_token: float) -> dict | None:
    """The error reply a strict server gives to ``body``, or None when it accepts it."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _validation("messages", "Field required")
    open_ids: set = set()
    chars = 0
    for i, m in enumerate(body["messages"]):
        role, content = m.get("role"), m.get("content")
        if role == "assistant":
            if not isinstance(content, str):
                return _validation(f"messages.{i}.ChatCompletionRequestAssistantMessage."
                                   "content", "Input should be a valid string")
            open_ids = set()
            for j, call in enumerate(m.get("tool_calls") or []):
                fn = call.get("function") if isinstance(call, dict) else None
                if not (isinstance(call, dict) and call.get("id") and
                        call.get("type") == "function" and isinstance(fn, dict) and
                        isinstance(fn.get("name"), str) and
                        isinstance(fn.get("arguments"), str)):
                    return _validation(f"messages.{i}.tool_calls.{j}", "Field required")
                try:
                    json.loads(fn["arguments"])
                except ValueError:
                    return _validation(f"messages.{i}.tool_calls.{j}.function.arguments",
                                       "Invalid JSON")
                open_ids.add(call["id"])
        elif role == "tool":
            if m.get("tool_call_id") not in open_ids:
                return error(400, f"messages.{i}: tool result {m.get('tool_call_id')!r} "
                                  "answers no tool call of the previous assistant message")
        elif not isinstance(content, str):
            return _validation(f"messages.{i}.content", "Input should be a valid string")
        chars += len(str(content or "")) + len(json.dumps(m.get("tool_calls") or ""))
    chars += len(json.dumps(body.get("tools") or ""))
    prompt_tokens = int(chars / chars_per_token) + 4 * len(body["messages"])
    completion = int(body.get("max_tokens") or 0)
    if prompt_tokens + completion > n_ctx:
        return error(400, f"This model's maximum context length is {n_ctx} tokens. However, "
                          f"you requested {prompt_tokens + completion} tokens ({prompt_tokens}"
                          f" in the messages, {completion} in the completion). Please reduce "
                          "the length of the messages or completion.")
    return None


class StrictServer(ScriptedServer):
    """``StrictServer(script, n_ctx=8192)``; ``models_info=False`` hides ``n_ctx``."""

    def __init__(self, script, n_ctx: int = 8192, chars_per_token: float = 3.5,
                 models_info: bool = True, lifetime_s: float = 60.0):
        super().__init__(script, PATHS + ("/models",), lifetime_s)
        self.n_ctx, self.chars_per_token, self.models_info = n_ctx, chars_per_token, models_info
        self.refused: list[tuple[dict, dict]] = []
        self.accepted = 0

    def next_reply(self, path: str, body, headers: dict | None = None) -> dict:
        if path.endswith("/models"):
            meta = {"n_ctx": self.n_ctx} if self.models_info else {}
            return {"status": 200, "json": {"object": "list", "data": [
                {"id": "qwen2.5-coder-1.5b", "object": "model", "owned_by": "me",
                 "meta": meta}]}}
        bad = refusal(body, self.n_ctx, self.chars_per_token)
        if bad is not None:
            with self.lock:
                self.refused.append((body, bad))
                self.requests.append({"path": path, "body": body, "headers": headers or {}})
            return bad
        self.accepted += 1
        return super().next_reply(path, body, headers)


def serve_strict(script, **kw):
    """Context manager: a started StrictServer, stopped on exit."""
    from contextlib import contextmanager

    @contextmanager
    def running():
        server = StrictServer(script, **kw).start()
        try:
            yield server
        finally:
            server.stop()
    return running()
