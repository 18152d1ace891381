"""LLM generators: a chat backend + a strategy (``single_pass``, ``agent`` or ``decompose``)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..backends.base import BackendError, ChatBackend
from ..base import Example, Generation
from ..prompts import Prompts, select_examples
from ..tools import Toolbox
from .agent import agent
from .decompose import decompose
from .session import Session
from .single_pass import single_pass

log = logging.getLogger(__name__)
STRATEGIES: dict[str, Callable] = {"single_pass": single_pass, "agent": agent,
                                   "decompose": decompose}


class LLMGenerator:
    """Implements the Generator protocol; model failures become failed Generations, only
    fatal backend errors (unreachable server, bad credentials, missing replay) raise."""

    def __init__(self, backend: ChatBackend, strategy: str = "single_pass",
                 prompts: Prompts | None = None, max_error_retries: int = 2,
                 execution_feedback: int = 0, feedback_rounds: int = 1, max_turns: int = 12,
                 fewshot_k: int = 3, retriever: str = "similarity", runner: Callable | None = None,
                 logs=(), dry_run_timeout_s: float = 60.0, check_on_log: bool = True,
                 concurrency: int = 4, namespace: dict | None = None,
                 log_info: Callable | None = None, tools: str = "auto",
                 final_after: int | None = None, max_repeats: int = 2,
                 fallback_after: int = 2):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown generate.strategy {strategy!r}: {sorted(STRATEGIES)}")
        if tools not in ("native", "text", "auto"):
            raise ValueError(f"unknown generate.tools {tools!r}: native, text or auto")
        self.tools_mode, self.max_repeats = tools, int(max_repeats)
        self.final_after = int(final_after) if final_after else max(1, int(max_turns) - 2)
        self.fallback_after = int(fallback_after)
        self.backend, self.strategy = backend, strategy
        self.prompts = prompts or Prompts()
        self.max_error_retries, self.max_turns = int(max_error_retries), int(max_turns)
        self.feedback_logs, self.feedback_rounds = int(execution_feedback), int(feedback_rounds)
        self.fewshot_k, self.retriever = int(fewshot_k), retriever
        self.check_on_log, self.concurrency = check_on_log, max(1, int(concurrency))
        self.namespace = namespace
        self.toolbox = Toolbox(runner, logs, namespace, dry_run_timeout_s, log_info=log_info)
        self.name = f"{backend.name}:{backend.model}/{strategy}"
        self._docs: dict = {}
        self._docs_lock = threading.Lock()

    # -- DSL documentation, generated once --------------------------------------------------
    def _doc(self, what: str):
        from .. import docs
        with self._docs_lock:
            if what not in self._docs:
                fn = {"reference": docs.reference_text, "functions": docs.list_functions,
                      "categories": docs.categories, "function_docs": docs.function_docs}[what]
                self._docs[what] = fn(self.namespace)
            return self._docs[what]

    def reference(self, prompt: str | None = None, n_full: int | None = None) -> str:
        """The DSL reference; with ``n_full``, only the functions most relevant to
        ``prompt`` in full (the context budget's smaller forms)."""
        if n_full is None:
            return self._doc("reference")
        from .. import docs
        return docs.reference_text(self.namespace, prompt, n_full)

    def function_docs(self) -> dict:
        return self._doc("function_docs")

    def namespace_or_dsl(self) -> dict:
        """The namespace programs run with (the DSL's unless a test gave one)."""
        from .. import docs
        return self.namespace if self.namespace is not None else docs.dsl_namespace()

    def function_list(self) -> str:
        return self._doc("functions")

    def categories(self) -> list[str]:
        return self._doc("categories")

    # -- Generator protocol ---------------------------------------------------------------
    def generate(self, prompt: str, examples: list[Example] | None = None,
                 feedback: str | None = None) -> Generation:
        """One program for ``prompt``; ``feedback`` (screening) critiques an earlier attempt."""
        pool = list(examples) if examples else self.prompts.examples
        shots = select_examples(prompt, pool, self.fewshot_k, self.retriever)
        session = Session(self, prompt, feedback)
        try:
            return STRATEGIES[self.strategy](session, shots)
        except BackendError as exc:
            if exc.fatal:
                raise
            return session.result(None, f"backend {exc.reason}: {exc}", f"backend_{exc.reason}")
        except Exception as exc:
            if type(exc).__name__ == "DocsUnavailable":
                raise
            log.exception("generation failed for %r", prompt)
            return session.result(None, f"internal error: {type(exc).__name__}: {exc}",
                                  "internal")

    def generate_many(self, prompts: list[str], examples: list[Example] | None = None
                      ) -> list[Generation]:
        """All prompts, ``concurrency`` at a time (a vllm backend batches them)."""
        if self.concurrency == 1 or len(prompts) <= 1:
            return [self.generate(p, examples) for p in prompts]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda p: self.generate(p, examples), prompts))


__all__ = ["STRATEGIES", "LLMGenerator", "agent", "decompose", "single_pass"]
