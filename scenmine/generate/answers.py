"""Checks of a model's answer for what it is, before its program is run.

* truncated: the server stopped at the token limit (``finish_reason == "length"``) or a code
  fence was opened and never closed; such an answer is asked again, never run;
* copied: the program is one of the few-shot examples (for another description), or the
  answer echoes the prompt's own text (a base model continuing the prompt).
"""
from __future__ import annotations

import re

from .base import Example

FENCE_MARK = re.compile(r"^\s*```", re.MULTILINE)
CODE_LINE = re.compile(r"^(\w+\s*=\s*\w+\(|output_scenario\(|\w+\s*=\s*\w+$)")


def truncated(text: str | None, finish_reason: str | None) -> str | None:
    """Why the answer is cut off, or None."""
    if finish_reason == "length":
        return "the answer was cut off at the token limit (finish_reason=length)"
    if text and len(FENCE_MARK.findall(text)) % 2 == 1:
        return "the answer ends inside an unterminated ``` code block"
    return None


def normalized(program: str) -> str:
    """Program text without comments, blank lines and spacing (for comparisons)."""
    lines = []
    for ln in program.splitlines():
        ln = ln.split("#", 1)[0]
        ln = re.sub(r"\s+", "", ln).replace('"', "'")
        if ln and not ln.startswith("description="):
            lines.append(ln)
    return "\n".join(lines)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z]+", text.lower()))


def copied(program: str, answer: str, prompt: str, examples: list[Example],
           shown: str = "") -> str | None:
    """Why the answer is a copy (a few-shot example's program for another description, or
    the prompt's text echoed back), or None."""
    norm = normalized(program)
    for ex in examples:
        if normalized(ex.program) == norm and _words(ex.prompt) != _words(prompt):
            return (f"the program is a copy of the example for {ex.prompt!r}, not a program "
                    f"for {prompt!r}")
    if shown:
        prompt_lines = {ln.strip() for ln in shown.splitlines() if len(ln.strip()) >= 25}
        answer_lines = [ln.strip() for ln in answer.splitlines() if len(ln.strip()) >= 25]
        echoed = [ln for ln in answer_lines if ln in prompt_lines and not CODE_LINE.match(ln)]
        if len(echoed) >= 5 and len(echoed) >= 0.3 * len(answer_lines):
            return ("the answer repeats the instructions instead of answering them; answer "
                    "with only the program")
    return None
