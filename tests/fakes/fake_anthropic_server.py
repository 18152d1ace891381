"""A fake Anthropic Messages API server (POST /v1/messages), scripted."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scripted_http import error, serving  # noqa: F401

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


def canned(path, body) -> dict:
    """Answers any conversation: text program, or list_functions then submit with tools."""
    from fake_openai_server import CANNED
    if not body or not body.get("tools"):
        return text(f"Here you go:\n```python\n{CANNED}```")
    seen_result = any(isinstance(m.get("content"), list) and any(
        b.get("type") == "tool_result" for b in m["content"]) for m in body.get("messages", []))
    return tools(("submit", {"program": CANNED})) if seen_result else \
        tools(("list_functions", {}))


if __name__ == "__main__":
    import argparse

    from scripted_http import ScriptedServer
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--lifetime-s", type=float, default=3600)
    a = ap.parse_args()
    srv = ScriptedServer(canned, PATHS, a.lifetime_s, a.port).start()
    print(f"fake Anthropic server on {srv.url} for {a.lifetime_s:.0f} s", flush=True)
    srv._timer.join()
