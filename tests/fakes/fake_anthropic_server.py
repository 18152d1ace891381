"""A fake Anthropic Messages API server (POST /v1/messages), scripted."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scripted_http import error, serving  # noqa: E402,F401

PATHS = ("/v1/messages",)


def message(content: str | None = None, tool_uses=None, input_tokens: int = 13,
            output_tokens: int = 5) -> dict:
    blocks = [{"type": "text", "text": content}] if content else []
    blocks += [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
               for i, (name, args) in enumerate(tool_uses or [])]
    return {"status": 200, "json": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "fake",
        "content": blocks, "stop_reason": "tool_use" if tool_uses else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}}


def text(content: str, **kw) -> dict:
    return message(content, **kw)


def tools(*uses, **kw) -> dict:
    return message(None, list(uses), **kw)


def malformed() -> dict:
    return {"status": 200, "raw": "<html>gateway</html>", "content_type": "application/json"}


def serve(script, lifetime_s: float = 30.0):
    return serving(script, PATHS, lifetime_s)
