"""A fake OpenAI-compatible chat server (POST /v1/chat/completions), scripted.

Run it by hand for an end-to-end check: ``python tests/fakes/fake_openai_server.py
--port 8000`` answers every request with a canned program (through list_functions and
submit when the request carries tools).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scripted_http import ScriptedServer, error, serving

PATHS = ("/chat/completions",)
CANNED = ("description = 'moving vehicle'\n"
          "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
          "moving = has_velocity(vehicles, log_dir, min_velocity=0.5)\n"
          "output_scenario(moving, description, log_dir, output_dir)\n")


def completion(content: str | None = None, tool_calls=None, finish="stop",
               prompt_tokens: int = 11, completion_tokens: int = 7) -> dict:
    msg = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = [{"id": f"call_{i}", "type": "function", "function": {
            "name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
            for i, (name, args) in enumerate(tool_calls)]
        finish = "tool_calls"
    return {"status": 200, "json": {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": "fake", "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens}}}


def text(content: str, **kw) -> dict:
    return completion(content, **kw)


def tools(*calls, **kw) -> dict:
    """``tools(("dry_run", {"program": ...}), ...)``; a str argument is sent verbatim."""
    return completion(None, list(calls), **kw)


def malformed() -> dict:
    return {"status": 200, "raw": "this is not json {", "content_type": "application/json"}


def canned(path, body) -> dict:
    """Answers any conversation: text program, or list_functions then submit with tools."""
    if not body or not body.get("tools"):
        return text(f"Here you go:\n```python\n{CANNED}```")
    if not any(m.get("role") == "tool" for m in body.get("messages", [])):
        return tools(("list_functions", {}))
    return tools(("submit", {"program": CANNED}))


def serve(script, lifetime_s: float = 30.0):
    return serving(script, PATHS, lifetime_s)


__all__ = ["ScriptedServer", "completion", "error", "malformed", "serve", "text", "tools"]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--lifetime-s", type=float, default=3600)
    a = ap.parse_args()
    srv = ScriptedServer(canned, PATHS, a.lifetime_s, a.port).start()
    print(f"fake OpenAI server on {srv.url}/v1 for {a.lifetime_s:.0f} s", flush=True)
    srv._timer.join()
