"""The Anthropic Messages API with tool use."""
from __future__ import annotations

import logging
import os

from .base import BackendError, ChatBackend, ChatResponse, ToolCall


def to_anthropic(messages: list[dict]) -> tuple[str, list[dict]]:
    """Neutral messages -> (system text, alternating user/assistant content blocks)."""
    system, out = [], []

    def push(role, blocks):
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": list(blocks)})

    for m in messages:
        if m["role"] == "system":
            system.append(m["content"])
        elif m["role"] == "tool":
            push("user", [{"type": "tool_result", "tool_use_id": m["tool_call_id"],
                           "content": m["content"]}])
        elif m["role"] == "assistant":
            blocks = [{"type": "text", "text": m["content"]}] if m.get("content") else []
            blocks += [{"type": "tool_use", "id": c["id"], "name": c["name"],
                        "input": c["arguments"]} for c in m.get("tool_calls") or []]
            push("assistant", blocks or [{"type": "text", "text": "(no answer)"}])
        else:
            push("user", [{"type": "text", "text": m["content"]}])
    return "\n\n".join(system), out


class AnthropicBackend(ChatBackend):
    """Messages API; ``base_url`` None means Anthropic's own endpoint."""

    name = "anthropic"

    def __init__(self, model: str, base_url: str | None = None,
                 api_key_env: str | None = "ANTHROPIC_API_KEY", **kw):
        super().__init__(model, **kw)
        self.base_url, self.api_key_env = base_url, api_key_env
        self._client = None

    def endpoint(self) -> str:
        return self.base_url or "https://api.anthropic.com"

    def client(self):
        if self._client is None:
            logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request
            import anthropic
            key = os.environ.get(self.api_key_env or "", "") or "not-needed"
            self._client = anthropic.Anthropic(api_key=key, base_url=self.base_url,
                                               timeout=self.timeout_s, max_retries=0)
        return self._client

    def _call(self, messages, tools) -> ChatResponse:
        import anthropic
        system, msgs = to_anthropic(messages)
        kwargs: dict = {"model": self.model, "messages": msgs, "max_tokens": self.completion_tokens()}
        if self.temperature is not None:  # not a named argument of every SDK version
            kwargs["extra_body"] = {"temperature": self.temperature}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [{"name": t["name"], "description": t.get("description", ""),
                                "input_schema": t.get("parameters") or
                                {"type": "object", "properties": {}}} for t in tools]
        try:
            resp = self.client().messages.create(**kwargs)
        except anthropic.AnthropicError as exc:
            from ._sdk import map_error
            raise map_error(exc, anthropic, self.endpoint(), self.api_key_env) from exc
        except ValueError as exc:  # a body that is not JSON
            raise BackendError("malformed", f"{self.endpoint()}: malformed response ({exc})") \
                from exc
        try:
            return self.parse(resp)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise BackendError("malformed", f"{self.endpoint()}: malformed response "
                               f"({exc!r})") from exc

    def parse(self, resp) -> ChatResponse:
        blocks = getattr(resp, "content", None)
        if not isinstance(blocks, list):
            raise BackendError("malformed", f"{self.endpoint()}: answer without content "
                               f"blocks: {str(resp)[:300]}")
        texts, calls = [], []
        for b in blocks:
            kind = getattr(b, "type", None)
            if kind == "text":
                texts.append(b.text)
            elif kind == "tool_use":
                calls.append(ToolCall.parse(b.id, b.name, b.input))
        usage = getattr(resp, "usage", None)
        return ChatResponse(text="".join(texts), tool_calls=calls,
                            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
                            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
                            finish_reason=getattr(resp, "stop_reason", None))
