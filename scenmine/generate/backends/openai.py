"""Any OpenAI-compatible chat endpoint (OpenAI, GLM, Qwen, DeepSeek, `vllm serve`)."""
from __future__ import annotations

import json
import logging
import os

from .base import BackendError, ChatBackend, ChatResponse, ToolCall


def to_openai_messages(messages: list[dict]) -> list[dict]:
    """Neutral messages -> chat-completions messages every compatible server accepts.

    Content is always a string (llama-cpp-python's server refuses ``null`` beside tool
    calls), tool calls carry id/type/function with JSON-string arguments, and a tool result
    is sent only for a call of the assistant turn before it (others become user text).
    """
    out: list[dict] = []
    open_ids: set[str] = set()
    for m in messages:
        content = m.get("content")
        content = "" if content is None else str(content)
        if m["role"] == "assistant":
            msg = {"role": "assistant", "content": content}
            open_ids = set()
            if m.get("tool_calls"):
                msg["tool_calls"] = [{"id": str(c["id"]), "type": "function", "function": {
                    "name": str(c["name"]), "arguments": json.dumps(c.get("arguments") or {})}}
                    for c in m["tool_calls"]]
                open_ids = {str(c["id"]) for c in m["tool_calls"]}
            out.append(msg)
        elif m["role"] == "tool":
            if m.get("tool_call_id") in open_ids:
                out.append({"role": "tool", "tool_call_id": m["tool_call_id"],
                            "content": content})
            else:  # a result that answers no call of the last assistant turn
                out.append({"role": "user", "content": f"[{m.get('name', 'tool')} result]\n"
                            f"{content}"})
        else:
            out.append({"role": m["role"], "content": content})
    return out


def to_openai_tools(tools: list[dict]) -> list[dict]:
    return [{"type": "function", "function": {"name": t["name"], "description":
             t.get("description", ""), "parameters": t.get("parameters") or
             {"type": "object", "properties": {}}}} for t in tools]


class OpenAIBackend(ChatBackend):
    """Chat completions with tool calling; the API key comes from ``api_key_env``."""

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", extra_body: dict | None = None,
                 token_param: str = "max_tokens", **kw):
        super().__init__(model, **kw)
        self.base_url = base_url or "https://api.openai.com/v1"
        self.api_key_env = api_key_env
        self.extra_body = dict(extra_body or {})
        self.token_param = token_param  # "max_completion_tokens" for OpenAI reasoning models
        self._client = None

    def endpoint(self) -> str:
        return self.base_url

    def params(self) -> dict:
        return {**super().params(), **({"extra_body": self.extra_body} if self.extra_body
                                       else {})}

    def server_context_window(self) -> int | None:
        """The window from ``GET /models`` (vLLM: max_model_len; others: n_ctx, context_length,
        context_window, or meta.n_ctx_train), None when the server does not say."""
        entries = list(self.client().models.list().data)
        for entry in entries:
            if len(entries) > 1 and getattr(entry, "id", None) != self.model:
                continue
            info = entry.model_dump() if hasattr(entry, "model_dump") else dict(entry)
            info.update(info.get("meta") or {})
            for k in ("max_model_len", "context_length", "context_window", "n_ctx",
                      "max_context_length", "n_ctx_train"):
                if info.get(k):
                    return int(info[k])
        return None

    def client(self):
        if self._client is None:
            logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request
            import openai
            key = os.environ.get(self.api_key_env or "", "") or "not-needed"
            self._client = openai.OpenAI(api_key=key, base_url=self.base_url,
                                         timeout=self.timeout_s, max_retries=0)
        return self._client

    def _call(self, messages, tools) -> ChatResponse:
        import openai
        kwargs: dict = {"model": self.model, "messages": to_openai_messages(messages),
                        "temperature": self.temperature,
                        self.token_param: self.completion_tokens()}
        if tools:
            kwargs["tools"] = to_openai_tools(tools)
            if self.tool_choice:
                kwargs["tool_choice"] = self.tool_choice
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        try:
            resp = self.client().chat.completions.create(**kwargs)
        except openai.OpenAIError as exc:
            from ._sdk import map_error
            raise map_error(exc, openai, self.base_url, self.api_key_env) from exc
        except ValueError as exc:  # a body that is not JSON
            raise BackendError("malformed", f"{self.base_url}: malformed response ({exc})") \
                from exc
        return parse_completion(resp, self.base_url)


def parse_completion(resp, url: str) -> ChatResponse:
    """ChatCompletion -> ChatResponse; anything unexpected is a 'malformed' error."""
    try:
        return _parse_completion(resp, url)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise BackendError("malformed", f"{url}: malformed response ({exc!r})") from exc


def _parse_completion(resp, url: str) -> ChatResponse:
    choices = getattr(resp, "choices", None)
    if not choices:
        raise BackendError("malformed", f"{url}: answer without choices: {str(resp)[:300]}")
    msg = choices[0].message
    if msg is None:
        raise BackendError("malformed", f"{url}: answer without a message")
    calls = [ToolCall.parse(c.id or f"call_{i}", c.function.name, c.function.arguments)
             for i, c in enumerate(msg.tool_calls or [])]
    usage = getattr(resp, "usage", None)
    return ChatResponse(text=msg.content or "", tool_calls=calls,
                        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                        finish_reason=choices[0].finish_reason)
