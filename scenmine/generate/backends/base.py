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

from .store import AnswerStore, answer_key

log = logging.getLogger(__name__)

RETRYABLE = frozenset({"rate_limited", "server_error", "timeout", "unreachable"})


class BackendError(RuntimeError):
    """A failed call. ``reason`` is a short tag (rate_limited, server_error, timeout,
    unreachable, auth, bad_request, malformed, cli_error); ``fatal`` errors stop the run
    (configuration problems), the others are recorded as a failure of one prompt."""

    def __init__(self, reason: str, message: str, *, fatal: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.reason, self.fatal, self.retry_after = reason, fatal, retry_after

    @property
    def retryable(self) -> bool:
        return self.reason in RETRYABLE and not self.fatal


def unreachable(url: str, detail: str, key: str = "llm.base_url") -> BackendError:
    """The error for a server that never answered: names the URL and the key to change."""
    return BackendError("unreachable", f"cannot reach the LLM server at {url} ({detail}); "
                        f"start it or point the config at a reachable one: {key}=...")


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
    """Base class: robustness, caching, recording and accounting around ``_call``."""

    name = "chat"
    supports_tools = True
    config_key = "llm.base_url"  # what to change when the server cannot be reached

    def __init__(self, model: str | None = None, *, temperature: float = 0.0,
                 max_tokens: int = 4096, timeout_s: float = 120.0, max_retries: int = 4,
                 backoff_s: float = 1.0, backoff_max_s: float = 30.0, max_concurrency: int = 4,
                 cache_dir: str | None = None, record: bool = False,
                 record_dir: str = "recordings", price_input_per_mtok: float | None = None,
                 price_output_per_mtok: float | None = None, **extra):
        if extra:
            log.warning("%s: ignoring unknown options %s", type(self).__name__, sorted(extra))
        self.model, self.temperature, self.max_tokens = model, temperature, max_tokens
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.prices = (price_input_per_mtok, price_output_per_mtok)
        self.cache = AnswerStore(cache_dir) if cache_dir else None
        self.recorder = AnswerStore(record_dir) if record else None
        self._sem = threading.BoundedSemaphore(max(1, int(max_concurrency)))
        self._lock = threading.Lock()
        self.totals = Usage()
        self.ever_answered = False

    # -- what subclasses provide -------------------------------------------------------
    def params(self) -> dict:
        """Sampling parameters that change the answer (part of the cache/replay key)."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def endpoint(self) -> str:
        return self.name

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

    def chat(self, messages: list[dict], tools: list[dict] | None = None) -> ChatResponse:
        """Answer ``messages``; raises BackendError once retries are spent."""
        key = self.key(messages, tools)
        t0 = time.perf_counter()
        rec = self.cache.get(key) if self.cache else None
        if rec is not None:
            resp = ChatResponse.from_record(rec["response"])
            resp.cached = True
        else:
            resp = self._call_with_retries(messages, tools)
        resp.seconds = time.perf_counter() - t0
        record = {"key": key, "backend": self.name, "model": self.model,
                  "params": self.params(), "messages": messages, "tools": tools,
                  "response": resp.to_record()}
        if self.cache and not resp.cached:
            self.cache.put(key, record)
        if self.recorder:
            self.recorder.put(key, record)
        with self._lock:
            self.totals.add(resp, self.cost(resp))
            self.totals.seconds += resp.seconds
        return resp

    def _call_with_retries(self, messages, tools) -> ChatResponse:
        attempt = 0
        while True:
            try:
                with self._sem:
                    resp = self._call(messages, tools)
                self.ever_answered = True
                resp.retries = attempt
                return resp
            except BackendError as exc:
                if exc.reason == "unreachable" and not self.ever_answered:
                    exc.fatal = attempt >= self.max_retries
                if not exc.retryable or attempt >= self.max_retries:
                    raise
                delay = min(self.backoff_s * 2 ** attempt, self.backoff_max_s)
                if exc.retry_after is not None:
                    delay = min(max(exc.retry_after, 0.0), self.backoff_max_s)
                log.warning("%s: %s (%s); retry %d/%d in %.2fs", self.name, exc.reason, exc,
                            attempt + 1, self.max_retries, delay)
                time.sleep(delay)
                attempt += 1
