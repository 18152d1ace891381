"""vLLM's offline engine for local models (optional extra ``vllm``, imported lazily).

Concurrent ``chat`` calls (one per prompt thread) are gathered into one ``LLM.chat`` batch
by a worker thread, so a run over many prompts is batched without changing the strategies.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from .base import BackendError, ChatBackend, ChatResponse


class VLLMBackend(ChatBackend):
    """``vllm.LLM(model, **engine_kwargs)``; text only (the agent describes its tools in the prompt)."""

    name = "vllm"
    supports_tools = False
    config_key = "llm.model"

    def __init__(self, model: str, engine_kwargs: dict | None = None, max_batch: int = 64,
                 batch_wait_s: float = 0.05, max_concurrency: int = 64, **kw):
        super().__init__(model, max_concurrency=max_concurrency, **kw)
        self.engine_kwargs = dict(engine_kwargs or {})
        if self.context_window is None and self.engine_kwargs.get("max_model_len"):
            self.context_window = int(self.engine_kwargs["max_model_len"])
        self.max_batch, self.batch_wait_s = int(max_batch), float(batch_wait_s)
        self._llm = None
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def endpoint(self) -> str:
        return f"vllm:{self.model}"

    def engine(self):
        if self._llm is None:
            try:
                import vllm
            except ImportError as exc:
                raise BackendError("unreachable", "llm=vllm needs the optional extra: pip "
                                   "install 'scenmine[vllm]'", fatal=True) from exc
            self._llm = vllm.LLM(model=self.model, **self.engine_kwargs)
        return self._llm

    def _call(self, messages, tools) -> ChatResponse:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, daemon=True,
                                                name="vllm-batcher")
                self._worker.start()
        fut: Future = Future()
        self._queue.put(([{"role": m["role"], "content": m.get("content") or ""}
                          for m in messages if m["role"] in ("system", "user", "assistant")],
                         fut))
        return fut.result()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            try:
                while len(batch) < self.max_batch:
                    batch.append(self._queue.get(timeout=self.batch_wait_s))
            except queue.Empty:
                pass
            try:
                results = self.generate_batch([m for m, _ in batch])
            except BackendError as exc:
                results = [exc] * len(batch)
            except Exception as exc:  # noqa: BLE001 - surface engine errors per call
                results = [BackendError("server_error", f"vllm: {type(exc).__name__}: {exc}")
                           ] * len(batch)
            for (_, fut), res in zip(batch, results):
                (fut.set_exception if isinstance(res, BaseException) else fut.set_result)(res)

    def generate_batch(self, conversations: list[list[dict]]) -> list[ChatResponse]:
        """One engine call over several conversations."""
        llm = self.engine()
        import vllm
        sampling = vllm.SamplingParams(temperature=self.temperature, max_tokens=self.completion_tokens())
        outs = llm.chat(conversations, sampling_params=sampling, use_tqdm=False)
        answers = []
        for out in outs:
            comp = out.outputs[0]
            answers.append(ChatResponse(
                text=comp.text, input_tokens=len(out.prompt_token_ids or []),
                output_tokens=len(comp.token_ids or []), finish_reason=comp.finish_reason))
        return answers
