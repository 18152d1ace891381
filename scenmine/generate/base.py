"""The code-generation interface shared by every backend and strategy."""
from __future__ import annotations

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
