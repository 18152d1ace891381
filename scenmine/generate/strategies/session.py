"""One prompt's conversation, shared by the strategies: messages, usage, budget, checks."""
from __future__ import annotations

import ast
import logging
import time

from ..answers import copied, normalized, truncated
from ..backends.base import BackendError, ChatResponse, Usage
from ..base import Example, Generation
from ..budget import ContextBudget, cap_text, message_chars
from ..extract import Extraction, extract_program
from ..repair import repair
from ..tools import ERROR_CHARS

log = logging.getLogger(__name__)


class Session:
    """Messages and accounting for one prompt; ``gen`` is the owning LLMGenerator."""

    def __init__(self, gen, prompt: str, feedback: str | None = None):
        self.gen, self.prompt, self.screening_feedback = gen, prompt, feedback
        self.messages: list[dict] = []
        self.usage = Usage()
        self.t0 = time.perf_counter()
        self.counts = {"turns": 0, "tool_calls": 0, "error_retries": 0, "feedback_rounds": 0,
                       "truncated": 0, "repaired": 0, "trimmed": 0}
        self.examples: list[Example] = []  # the few-shot examples shown
        self.failed: dict[str, str] = {}  # normalized program -> its error
        self.last_draft: str | None = None  # the latest program seen, for failure reports
        self.best: str | None = None  # the latest program that ran (possibly empty)
        self._system: tuple | None = None  # how the system prompt was built (to rebuild it)
        self.side_calls: list[dict] = []  # one-off calls beside the conversation (steps)

    # -- conversation ---------------------------------------------------------------------
    def add(self, role: str, content: str, **extra) -> None:
        self.messages.append({"role": role, "content": content, **extra})

    def budget(self) -> ContextBudget:
        backend = self.gen.backend
        return ContextBudget(backend.window(), backend.max_tokens,
                             **({"chars_per_token": backend.chars_per_token * 0.85}
                                if backend.chars_per_token else {}))

    def ask(self, tools: list[dict] | None = None) -> ChatResponse:
        """One request, fitted to the context budget; a context-length refusal shrinks the
        request (the server's window learnt from the error) and is retried once."""
        backend = self.gen.backend
        for attempt in (0, 1):
            try:
                msgs, max_tokens = self.budget().fit(self.messages, tools)
            except ValueError as exc:
                raise BackendError("context_length", str(exc)) from exc
            if len(msgs) != len(self.messages):
                self.counts["trimmed"] += 1
            try:
                resp = backend.chat(list(msgs), tools, max_tokens=(
                    max_tokens if max_tokens != backend.max_tokens else None))
                break
            except BackendError as exc:
                self.usage.add_failure(exc)
                if exc.reason != "context_length" or attempt:
                    raise
                window = exc.context_window or (self.budget().tokens(msgs, tools) +
                                                max_tokens) * 3 // 4
                backend.context_window = min(window, backend.window() or window)
                # the estimate was too optimistic: count more tokens per character from now
                seen = exc.prompt_tokens
                ratio = message_chars(msgs, tools) / seen if seen else \
                    self.budget().chars_per_token * 0.75
                backend.chars_per_token = max(1.5, min(ratio, backend.chars_per_token or ratio))
                log.info("%s: request over the context window; shrinking to %d tokens",
                         backend.name, backend.context_window)
                if self._system and self.messages and self.messages[0]["role"] == "system":
                    self.messages[0]["content"] = self.system_prompt(*self._system[:2],
                                                                     **self._system[2])
        self.usage.add(resp, backend.cost(resp))
        self.counts["turns"] += 1
        self.messages.append(resp.message())
        return resp

    def ask_aside(self, step: str, messages: list[dict]) -> str:
        """One call outside the conversation (a planning step): counted, kept in the
        transcript under ``step``, its text returned."""
        backend = self.gen.backend
        resp = backend.chat(list(messages))
        self.usage.add(resp, backend.cost(resp))
        self.counts["turns"] += 1
        self.side_calls.append({"step": step, "messages": list(messages),
                                "answer": resp.text})
        return resp.text

    def render(self, name: str, **variables) -> str:
        prompts = self.gen.prompts
        guides = [prompts.render(g, prompt=self.prompt).strip()
                  for g in (prompts.templates.get("guides") or [])]
        variables.setdefault("tool_list", "")
        return prompts.render(name, prompt=self.prompt, guides=guides,
                              screening_feedback=self.screening_feedback, **variables)

    def system_prompt(self, template: str, examples: list[Example],
                      reference: str | None = None, **variables) -> str:
        """The system prompt at its largest that fits the budget: the DSL reference shrinks
        by relevance (fewer functions in full), then examples drop by similarity rank. A
        given ``reference`` (already a selection) is kept whole; only examples drop."""
        self._system = (template, examples, variables)
        gen, budget = self.gen, self.budget()
        limit = budget.prompt_limit
        n_funcs = len(gen.function_docs())
        levels = [(None, len(examples))] + [(n, len(examples)) for n in (12, 8, 5, 3, 0)
                                           if n < n_funcs and reference is None] + \
            [(0, k) for k in range(len(examples) - 1, -1, -1)]
        text = ""
        for n_full, k in levels:
            text = self.render(template, dsl_reference=reference if reference is not None
                               else gen.reference(self.prompt, n_full),
                               examples=examples[:k], **variables)
            self.examples = examples[:k]
            if limit is None or budget.tokens([{"content": text}, {"content": self.prompt}]) \
                    <= limit * 0.8:  # room left for a retry or two
                break
        return text

    # -- programs -------------------------------------------------------------------------
    def check_answer(self, resp: ChatResponse) -> tuple[str | None, str | None, str | None]:
        """(program, error, reason) of an answer: truncation, copying, then :meth:`check`."""
        cut = truncated(resp.text, resp.finish_reason)
        if cut:
            self.counts["truncated"] += 1
            return None, cut, "truncated"
        return self.check(extract_program(resp.text), resp.text)

    def check(self, ext: Extraction, answer: str = "") -> tuple[str | None, str | None,
                                                                str | None]:
        """(program, error, reason): copy and resubmission checks, the static check, one
        training log (repairs of known misuse tried on a runtime error), and an empty
        result on every training log."""
        if ext.program is None:
            return None, ext.error, "no_code"
        self.last_draft = ext.program
        if ext.error:
            return ext.program, ext.error, "cannot_parse"
        program = ext.program
        shown = self.messages[0]["content"] if self.messages else ""
        why = copied(program, answer, self.prompt, self.examples + self.gen.prompts.examples,
                     shown)
        if why:
            return program, why, "copied"
        key = normalized(program)
        if key in self.failed:
            return program, ("this is the same program as before, which failed with:\n"
                             f"{self.failed[key]}\nChange the program."), "resubmitted"
        program, err, reason = self._check_program(program)
        if err is not None and reason == "runtime_error":
            fixed = repair(program, self.gen.namespace_or_dsl())
            if fixed is not None:
                new, err2, reason2 = self._check_program(fixed)
                if err2 is None or reason2 == "empty_result":
                    self.counts["repaired"] += 1
                    program, err, reason = new, err2, reason2
        if err is not None and reason != "empty_result":
            self.failed[key] = err
        if err is None or reason == "empty_result":
            self.best = program
        self.last_draft = program
        return program, err, reason

    def _check_program(self, program: str) -> tuple[str, str | None, str | None]:
        try:
            from scenmine.execute.sandbox import ProgramRejected, check_program
        except ImportError:
            try:
                ast.parse(program)
            except SyntaxError as exc:
                return program, f"cannot parse: {exc}", "cannot_parse"
        else:
            try:
                check_program(program)
            except ProgramRejected as exc:
                return program, f"rejected by the static check: {exc}", "invalid_program"
        box = self.gen.toolbox
        if not (self.gen.check_on_log and box.can_run):
            return program, None, None
        s = box.run(program, box.logs[0])
        if not s["ok"]:
            return program, cap_text(f"runtime error on training log {s['log']}:\n"
                                     f"{s['error']}", ERROR_CHARS), "runtime_error"
        if s.get("referred_tracks"):
            return program, None, None
        others = [box.run(program, p) for p in box.logs[1:]]
        if any(o["ok"] and o.get("referred_tracks") for o in others):
            return program, None, None
        from ..tools import format_feedback
        return program, cap_text(
            "the program runs but finds nothing on any of the training logs:\n" +
            format_feedback([s] + others) + "\nLoosen thresholds, use category unions, or "
            "drop conditions the description does not name.", ERROR_CHARS), "empty_result"

    def check_text(self, text: str):
        return self.check(extract_program(text), text)

    def feedback_text(self, program: str) -> str | None:
        """Execution feedback on N training logs, or None when it is off / exhausted."""
        gen = self.gen
        if not gen.feedback_logs or not gen.toolbox.can_run or \
                self.counts["feedback_rounds"] >= gen.feedback_rounds:
            return None
        from ..tools import format_feedback
        self.counts["feedback_rounds"] += 1
        return cap_text(format_feedback(gen.toolbox.run_many(program, gen.feedback_logs)),
                        ERROR_CHARS)

    # -- results --------------------------------------------------------------------------
    def result(self, program: str | None, error: str | None = None,
               reason: str | None = None) -> Generation:
        usage = self.usage.as_dict()
        usage["seconds"] = time.perf_counter() - self.t0
        usage.update(self.counts)
        transcript = [{"role": "step", "step": c["step"], "messages": c["messages"],
                       "content": c["answer"]} for c in self.side_calls] + self.messages
        gen = Generation(self.prompt, program if error is None else None, error,
                         transcript=transcript, usage=usage, reason=reason)
        gen.last_draft = self.last_draft if error is not None else None
        return gen
