"""The code-generation interface shared by every backend and strategy."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Example:
    """A few-shot example: a prompt and a program known to work for it."""

    prompt: str
    program: str
    score: float | None = None


@dataclass
class Generation:
    """What a generator returns for one prompt.

    ``program`` is None when no usable program came out; ``error`` then says why
    (e.g. ``"cannot parse: ..."``, ``"no code in answer"``, ``"timeout"``).
    """

    prompt: str
    program: str | None
    error: str | None = None
    transcript: list[dict] = field(default_factory=list)
    usage: dict = field(default_factory=dict)  # calls, input_tokens, output_tokens, cost, seconds
    reason: str | None = None  # failure tag for counting (no_code, runtime_error, max_turns, ...)
    last_draft: str | None = None  # a failed prompt's last program, kept beside the error

    @property
    def ok(self) -> bool:
        return self.program is not None and self.error is None


class Generator(Protocol):
    """Turns a natural-language prompt into a scenario program."""

    name: str

    def generate(self, prompt: str, examples: list[Example] | None = None) -> Generation:
        """A program for ``prompt``. Generators that can use screening feedback (a critique
        of an earlier attempt) also accept ``feedback: str | None = None``."""
        ...


def accepts_feedback(generator) -> bool:
    """Whether ``generator.generate`` takes screening ``feedback`` (a wrapper answers for the
    generator it wraps, its ``inner``)."""
    inner = getattr(generator, "inner", None)
    if inner is not None:
        return accepts_feedback(inner)
    try:
        params = inspect.signature(generator.generate).parameters
    except (TypeError, ValueError):
        return False
    return "feedback" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def generate_with(generator, prompt: str, examples: list[Example] | None = None,
                  feedback: str | None = None) -> Generation:
    """``generator.generate``, passing ``feedback`` only to generators that take it."""
    if feedback is not None and accepts_feedback(generator):
        return generator.generate(prompt, examples, feedback=feedback)
    return generator.generate(prompt, examples)
