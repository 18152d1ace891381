"""LLM review: a separate chat session checks a program against its prompt.

The reviewer gets the prompt, the program (after static fixes), the DSL reference and the
static findings, and answers with a JSON object ``{"verdict", "reasons", "program"}``. A
corrected program replaces the original only when it passes the static review without new
errors and, when a dry-run log is given, runs on it in the sandbox.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from scenmine.review import contract, static

log = logging.getLogger(__name__)

SYSTEM = """You review scenario-mining programs for the Argoverse 2 RefAV benchmark.
A program is a short Python snippet over a fixed DSL of atomic functions; it must find the
objects and timestamps that match a natural-language description. Check the program against
the description for: wrong relation direction (left/right, forward/backward, who is related
to whom), the referred object (the output's top-level objects must be the FIRST object the
description mentions, e.g. "vehicle with a bicycle to its right" refers vehicles), missing
implicit map constraints (vehicles on the road / drivable area), unrealistic thresholds
(speeds in m/s, accelerations in m/s^2, distances in m, angles in degrees), wrong
categories, function or argument names, and results computed but never output.

Answer with ONE JSON object and nothing else:
{"verdict": "correct" | "incorrect", "reasons": ["..."], "program": "<the full corrected program, or the same program when correct>"}

# DSL reference
{reference}
"""

USER = """Description: {prompt}

Program:
```python
{program}
```

Static checker findings:
{findings}
"""


@dataclass
class LLMReview:
    """One LLM review; ``accepted`` says whether its program replaced the original."""

    verdict: str | None = None
    reasons: list[str] = field(default_factory=list)
    proposed: str | None = None
    accepted: bool = False
    rejected_because: str | None = None
    error: str | None = None
    usage: dict = field(default_factory=dict)
    static: static.StaticReview | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["static"] = [f.as_dict() for f in self.static.findings] if self.static else []
        return d


def reference_text() -> str:
    """The DSL reference generated from the DSL itself, else from the static contract."""
    try:
        from scenmine.generate import docs
        return docs.reference_text()
    except Exception:  # noqa: BLE001 - the contract is a sufficient reference
        lines = [f"{name}({', '.join(params)})" for name, params in
                 ((n, [p for p, _ in ps]) for n, ps in contract.CONTRACT.items())]
        return "\n".join(lines) + "\n\nCategories: " + ", ".join(sorted(contract.CATEGORIES))


def parse_answer(text: str) -> tuple[str | None, list[str], str | None]:
    """(verdict, reasons, program) from the reviewer's answer; tolerant of code fences and
    surrounding prose. Without JSON, a fenced program counts as a correction."""
    text = text or ""
    candidates = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start:end + 1])
    for raw in candidates:
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and ("verdict" in data or "program" in data):
            reasons = data.get("reasons") or []
            reasons = [reasons] if isinstance(reasons, str) else [str(r) for r in reasons]
            verdict = str(data.get("verdict", "")).strip().lower() or None
            program = data.get("program")
            return verdict, reasons, program if isinstance(program, str) and program.strip() \
                else None
    from scenmine.generate.extract import extract_program
    found = extract_program(text)
    if found.program and found.error is None:
        return "incorrect", ["(answer was not JSON; took its program)"], found.program
    return None, [], None


class LLMReviewer:
    """Reviews programs with a chat backend (any ``conf/llm`` backend: ``reviewer.backend``)."""

    def __init__(self, backend, autofix=static.DEFAULT_AUTOFIX, system: str | None = None,
                 user: str | None = None, dry_run: Callable[[str], str | None] | None = None,
                 reference: str | None = None):
        if not hasattr(backend, "chat"):
            raise ValueError(f"reviewer.backend: {type(backend).__name__} is not a chat "
                             "backend (use one of conf/llm: openai, anthropic, claude_code, "
                             "vllm, replay)")
        self.backend, self.autofix = backend, autofix
        self.system, self.user = system or SYSTEM, user or USER
        self.dry_run = dry_run
        self._reference = reference

    @property
    def reference(self) -> str:
        if self._reference is None:
            self._reference = reference_text()
        return self._reference

    def messages(self, prompt: str, program: str, findings: list[static.Finding]) -> list[dict]:
        shown = "\n".join(f"- {f}" for f in findings) or "(none)"
        return [{"role": "system", "content": self.system.replace("{reference}", self.reference)},
                {"role": "user", "content": self.user.format(prompt=prompt, program=program,
                                                             findings=shown)}]

    def review(self, prompt: str, program: str, findings: list[static.Finding]) -> LLMReview:
        from scenmine.generate.backends.base import BackendError
        try:
            resp = self.backend.chat(self.messages(prompt, program, findings))
        except BackendError as exc:
            if exc.fatal:
                raise
            return LLMReview(error=f"backend {exc.reason}: {exc}")
        usage = {"input_tokens": resp.input_tokens, "output_tokens": resp.output_tokens,
                 "cached": resp.cached, "seconds": resp.seconds}
        verdict, reasons, proposed = parse_answer(resp.text)
        out = LLMReview(verdict, reasons, proposed, usage=usage)
        if verdict is None and proposed is None:
            out.error = f"unreadable answer: {resp.text[:200]!r}"
            return out
        if proposed is None or proposed.strip() == program.strip():
            return out
        if not proposed.endswith("\n"):
            proposed += "\n"
        checked = static.review(prompt, proposed, self.autofix)
        out.static = checked
        before = {(f.code, f.message) for f in static.review(prompt, program, ()).errors}
        new_errors = [f for f in checked.errors if (f.code, f.message) not in before]
        if new_errors:
            out.rejected_because = "static: " + "; ".join(str(f) for f in new_errors)
            return out
        if self.dry_run is not None:
            error = self.dry_run(checked.program)
            if error:
                out.rejected_because = f"dry run: {error}"
                return out
        out.proposed, out.accepted = checked.program, True
        return out
