"""Replay answers recorded by any backend (``llm.record=true``), offline and exact."""
from __future__ import annotations

import threading

from .base import BackendError, ChatBackend, ChatResponse
from .store import ANSWERS, answer_store, conversation_key


class MissingRecording(BackendError):
    """No recorded answer for this conversation (always fatal: the replay is incomplete)."""

    def __init__(self, message: str):
        super().__init__("missing_recording", message, fatal=True)


class ReplayBackend(ChatBackend):
    """Looks answers up by content hash in ``dir``.

    With ``model`` set, the key is the recording backend's own (model + messages + tools +
    ``params``); with ``model`` null, any recorded model matches the conversation, and a
    conversation recorded under several models is an error asking for ``llm.model``.
    """

    name = "replay"

    def __init__(self, dir: str = "recordings", model: str | None = None,
                 params: dict | None = None, supports_tools: bool = True, **kw):
        kw.pop("record", None)
        kw["max_retries"] = 0  # a recorded failure is replayed once, as it happened
        super().__init__(model, **kw)
        self.store = answer_store(dir)
        self._params = dict(params) if params is not None else None
        self.supports_tools = supports_tools
        self._index: dict[str, list[dict]] | None = None
        self._index_lock = threading.Lock()

    def endpoint(self) -> str:
        return str(self.store.root)

    def params(self) -> dict:
        return self._params if self._params is not None else {}

    def index(self) -> dict[str, list[dict]]:
        with self._index_lock:
            if self._index is None:
                idx: dict[str, list[dict]] = {}
                for rec in self.store.records(ANSWERS):
                    ck = conversation_key(rec["messages"], rec.get("tools"))
                    idx.setdefault(ck, []).append(rec)
                self._index = idx
        return self._index

    def _call(self, messages, tools) -> ChatResponse:
        if self.model is not None and self._params is not None:
            key = self.key(messages, tools)
            rec = self.store.get(ANSWERS, key)
            if rec is None:
                raise MissingRecording(f"no recorded answer with key {key} in {self.endpoint()}"
                                       f" (model {self.model!r}); record it first with "
                                       "llm.record=true on the original backend")
            return _replayed(rec)
        ck = conversation_key(messages, tools)
        recs = [r for r in self.index().get(ck, [])
                if self.model is None or r.get("model") == self.model]
        if not recs:
            last = next((m.get("content", "") for m in reversed(messages)
                         if m.get("role") == "user"), "")
            raise MissingRecording(
                f"no recorded answer for conversation key {ck} in {self.endpoint()} "
                f"(model {self.model!r}; last user message: {str(last)[:120]!r}); record it "
                "first with llm.record=true on the original backend")
        if len({r.get("model") for r in recs}) > 1:
            models = sorted({str(r.get("model")) for r in recs})
            raise MissingRecording(f"conversation key {ck} was recorded for several models "
                                   f"{models}; choose one with llm.model=...")
        return _replayed(recs[0])


def _replayed(rec: dict) -> ChatResponse:
    """The recorded answer, or the recorded failure raised again (same reason and text)."""
    if "response" not in rec and isinstance(rec.get("error"), dict):
        err = rec["error"]
        exc = BackendError(str(err.get("reason", "server_error")), str(err.get("message", "")))
        exc.retries = int(err.get("retries", 0) or 0)
        raise exc
    resp = ChatResponse.from_record(rec["response"])
    resp.cached = True  # a replayed answer costs nothing
    return resp
