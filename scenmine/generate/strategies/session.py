"""One prompt's conversation, shared by the strategies: messages, usage, validation."""
from __future__ import annotations

import ast
import time

from ..backends.base import ChatResponse, Usage
from ..base import Generation
from ..extract import Extraction, extract_program


class Session:
    """Messages and accounting for one prompt; ``gen`` is the owning LLMGenerator."""

    def __init__(self, gen, prompt: str, feedback: str | None = None):
        self.gen, self.prompt, self.screening_feedback = gen, prompt, feedback
        self.messages: list[dict] = []
        self.usage = Usage()
        self.t0 = time.perf_counter()
        self.counts = {"turns": 0, "tool_calls": 0, "error_retries": 0, "feedback_rounds": 0}

    # -- conversation ---------------------------------------------------------------------
    def add(self, role: str, content: str, **extra) -> None:
        self.messages.append({"role": role, "content": content, **extra})

    def ask(self, tools: list[dict] | None = None) -> ChatResponse:
        backend = self.gen.backend
        resp = backend.chat(list(self.messages), tools)
        self.usage.add(resp, backend.cost(resp))
        self.counts["turns"] += 1
        self.messages.append(resp.message())
        return resp

    def render(self, name: str, **variables) -> str:
        return self.gen.prompts.render(name, prompt=self.prompt,
                                       screening_feedback=self.screening_feedback, **variables)

    # -- programs -------------------------------------------------------------------------
    def check(self, ext: Extraction) -> tuple[str | None, str | None, str | None]:
        """(program, error, reason): static check, then one training log if configured."""
        if ext.program is None:
            return None, ext.error, "no_code"
        if ext.error:
            return ext.program, ext.error, "cannot_parse"
        program = ext.program
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
        if self.gen.check_on_log and box.can_run:
            s = box.run(program, box.logs[0])
            if not s["ok"]:
                return program, f"runtime error on training log {s['log']}:\n{s['error']}", \
                    "runtime_error"
        return program, None, None

    def check_text(self, text: str):
        return self.check(extract_program(text))

    def feedback_text(self, program: str) -> str | None:
        """Execution feedback on N training logs, or None when it is off / exhausted."""
        gen = self.gen
        if not gen.feedback_logs or not gen.toolbox.can_run or \
                self.counts["feedback_rounds"] >= gen.feedback_rounds:
            return None
        from ..tools import format_feedback
        self.counts["feedback_rounds"] += 1
        return format_feedback(gen.toolbox.run_many(program, gen.feedback_logs))

    # -- results --------------------------------------------------------------------------
    def result(self, program: str | None, error: str | None = None,
               reason: str | None = None) -> Generation:
        usage = self.usage.as_dict()
        usage["seconds"] = time.perf_counter() - self.t0
        usage.update(self.counts)
        return Generation(self.prompt, program if error is None else None, error,
                          transcript=self.messages, usage=usage, reason=reason)
