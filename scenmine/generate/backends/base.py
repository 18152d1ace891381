"""The chat-backend interface: messages (+ tool schemas) in, an assistant message out.

Messages use one neutral, JSON-serialisable shape for every provider::

    {"role": "system" | "user", "content": str}
    {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}
    {"role": "tool", "tool_call_id": str, "name": str, "content": str}

Tools are ``{"name", "description", "parameters": <JSON schema>}``. Every backend gets
retries with exponential backoff, a concurrency limit, an on-disk answer cache, a ``record``
switch (answers written for :mod:`.replay`) and accounting from :class:`ChatBackend`;
subclasses implement only :meth:`ChatBackend._call`.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field

from .retry import BackendError, RetryPolicy, unreachable
from .store import ANSWERS, answer_key, answer_store

__all__ = ["BackendError", "ChatBackend", "ChatResponse", "ToolCall", "Usage", "unreachable"]

log = logging.getLogger(__name__)

@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict = field(default_factory=dict)
    error: str | None = None  # set when the model sent arguments that are not a JSON object

    @classmethod
    def parse(cls, id: str, name: str, raw) -> ToolCall:
        """Build from raw arguments (a JSON string or a dict), keeping bad JSON as an error."""
        if isinstance(raw, dict):
            return cls(id, name, raw)
        try:
            args = json.loads(raw or "{}")
        except (TypeError, ValueError) as exc:
            return cls(id, name, {}, f"arguments are not valid JSON ({exc}): {str(raw)[:200]}")
        if not isinstance(args, dict):
            return cls(id, name, {}, f"arguments must be a JSON object, got {str(raw)[:200]}")
        return cls(id, name, args)


@dataclass
class ChatResponse:
    """One assistant answer. ``cached``/``seconds``/``retries`` describe this call only."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    cost_usd: float | None = None  # when the provider reports it (Claude Code)
    cached: bool = False
    seconds: float = 0.0
    retries: int = 0

    def message(self) -> dict:
        msg: dict = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            msg["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments}
                                 for c in self.tool_calls]
        return msg

    def to_record(self) -> dict:
        rec = asdict(self)
        for k in ("cached", "seconds", "retries"):
            rec.pop(k)
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> ChatResponse:
        rec = dict(rec)
        calls = [ToolCall(**c) for c in rec.pop("tool_calls", [])]
        return cls(tool_calls=calls, **rec)


@dataclass
class Usage:
    """Accounting for a set of calls; ``as_dict`` gives Generation.usage."""

    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    retries: int = 0
    failed_calls: int = 0

    def add_failure(self, exc: BackendError) -> None:
        """A call that failed after ``exc.retries`` retries (it still counts)."""
        self.failed_calls += 1
        self.retries += getattr(exc, "retries", 0) or 0

    def add(self, resp: ChatResponse, cost: float) -> None:
        if resp.cached:
            self.cache_hits += 1
        else:
            self.calls += 1
            self.input_tokens += resp.input_tokens
            self.output_tokens += resp.output_tokens
            self.cost_usd += cost
        self.retries += resp.retries

    def as_dict(self) -> dict:
        return asdict(self)


class ChatBackend:
    """Base class: robustness, caching, recording and accounting around ``_call``.

    ``context_window`` is the model's window in tokens (None: ask the server where the backend
    can, see :meth:`window`); ``tool_choice`` is sent with tool schemas when set (``auto``).
    A per-call ``max_tokens`` (the context budget lowers it) is what :meth:`completion_tokens`
    returns inside ``_call``.
    """

    name = "chat"
    supports_tools = True  # native tool calling
    text_tools = True  # the agent may describe tools in the prompt when there is no native way
    config_key = "llm.base_url"  # what to change when the server cannot be reached

    def __init__(self, model: str | None = None, *, temperature: float = 0.0,
                 max_tokens: int = 4096, timeout_s: float = 120.0, max_retries: int = 4,
                 backoff_s: float = 1.0, backoff_max_s: float = 30.0, max_concurrency: int = 4,
                 cache_dir: str | None = None, record: bool = False,
                 record_dir: str = "recordings", price_input_per_mtok: float | None = None,
                 price_output_per_mtok: float | None = None, context_window: int | None = None,
                 tool_choice: str | None = None, **extra):
        if extra:
            log.warning("%s: ignoring unknown options %s", type(self).__name__, sorted(extra))
        self.model, self.temperature, self.max_tokens = model, temperature, int(max_tokens)
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.retry = RetryPolicy(int(max_retries), float(backoff_s), float(backoff_max_s))
        self.prices = (price_input_per_mtok, price_output_per_mtok)
        self.context_window = int(context_window) if context_window else None
        self.tool_choice = tool_choice or None
        self.cache = answer_store(cache_dir) if cache_dir else None
        self.recorder = answer_store(record_dir) if record else None
        self._sem = threading.BoundedSemaphore(max(1, int(max_concurrency)))
        self._lock = threading.Lock()
        self._local = threading.local()
        self.totals = Usage()
        self.ever_answered = False
        self.chars_per_token: float | None = None  # learnt from the server's token counts

    # -- what subclasses provide -------------------------------------------------------
    def completion_tokens(self) -> int:
        """The completion budget of the call in progress (``max_tokens`` unless lowered)."""
        return getattr(self._local, "max_tokens", None) or self.max_tokens

    def params(self) -> dict:
        """Sampling parameters that change the answer (part of the cache/replay key)."""
        out = {"temperature": self.temperature, "max_tokens": self.completion_tokens()}
        if self.tool_choice:
            out["tool_choice"] = self.tool_choice
        return out

    def endpoint(self) -> str:
        return self.name

    def server_context_window(self) -> int | None:
        """The window the server reports for ``model`` (None where it cannot say)."""
        return None

    def window(self) -> int | None:
        """``context_window`` from config, else from the server (asked once)."""
        if self.context_window is None and not getattr(self, "_window_asked", False):
            self._window_asked = True
            try:
                self.context_window = self.server_context_window()
            except Exception as exc:  # noqa: BLE001 - model info is optional
                log.debug("%s: no model info (%s)", self.name, exc)
        return self.context_window

    def _call(self, messages: list[dict], tools: list[dict] | None) -> ChatResponse:
        raise NotImplementedError

    # -- the public call ---------------------------------------------------------------
    def key(self, messages: list[dict], tools: list[dict] | None = None) -> str:
        return answer_key(self.model, messages, tools, self.params())

    def cost(self, resp: ChatResponse) -> float:
        p_in, p_out = self.prices
        if p_in is None and p_out is None:
            return float(resp.cost_usd or 0.0)
        return (resp.input_tokens * (p_in or 0) + resp.output_tokens * (p_out or 0)) / 1e6

    def _record(self, key: str, messages, tools, **outcome) -> dict:
        return {"key": key, "backend": self.name, "model": self.model, "params": self.params(),
                "messages": messages, "tools": tools, **outcome}

    def chat(self, messages: list[dict], tools: list[dict] | None = None, *,
             max_tokens: int | None = None) -> ChatResponse:
        """Answer ``messages``; raises BackendError once retries are spent.

        A failed call is recorded (``llm.record``) with its error, so that a replay fails the
        same way instead of stopping the run.
        """
        self._local.max_tokens = int(max_tokens) if max_tokens else None
        try:
            return self._chat(messages, tools)
        finally:
            self._local.max_tokens = None

    def _chat(self, messages, tools) -> ChatResponse:
        key = self.key(messages, tools)
        t0 = time.perf_counter()
        rec = self.cache.get(ANSWERS, key) if self.cache else None
        if rec is not None and "response" in rec:
            resp = ChatResponse.from_record(rec["response"])
            resp.cached = True
        else:
            try:
                resp = self._call_with_retries(messages, tools)
            except BackendError as exc:
                if self.recorder and not exc.fatal:
                    self.recorder.put(ANSWERS, key, self._record(key, messages, tools, error={
                        "reason": exc.reason, "message": str(exc), "retries": exc.retries}))
                with self._lock:
                    self.totals.add_failure(exc)
                raise
        resp.seconds = time.perf_counter() - t0
        record = self._record(key, messages, tools, response=resp.to_record())
        if self.cache and not resp.cached:
            self.cache.put(ANSWERS, key, record)
        if self.recorder:
            self.recorder.put(ANSWERS, key, record)
        if resp.input_tokens and not resp.cached:
            self._learn_token_ratio(messages, tools, resp.input_tokens)
        with self._lock:
            self.totals.add(resp, self.cost(resp))
            self.totals.seconds += resp.seconds
        return resp

    def _learn_token_ratio(self, messages, tools, input_tokens: int) -> None:
        """Characters per prompt token seen on this server (the budget's estimate)."""
        chars = len(json.dumps(messages, ensure_ascii=False)) + \
            len(json.dumps(tools or [], ensure_ascii=False))
        if input_tokens < 64:  # too short to tell (or a fake's fixed count)
            return
        ratio = min(max(chars / input_tokens, 2.0), 5.0)
        with self._lock:
            self.chars_per_token = ratio if self.chars_per_token is None else \
                min(self.chars_per_token, ratio)

    def _call_with_retries(self, messages, tools) -> ChatResponse:
        def once() -> ChatResponse:
            with self._sem:  # the client's timeout starts inside _call: queueing is free
                return self._call(messages, tools)

        def on_error(exc: BackendError, attempt: int) -> None:
            if exc.reason == "unreachable" and not self.ever_answered:
                exc.fatal = attempt >= self.max_retries

        resp, retries = self.retry.run(once, self.name, on_error)
        self.ever_answered = True
        resp.retries = retries
        return resp
