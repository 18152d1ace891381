"""Stage 2, training-set screening: the few-shot library later runs retrieve examples from.

With ``screening=off`` no screening runs; a library given in ``screening.library`` is still
loaded, so one screening run serves many experiments.
"""
from __future__ import annotations

from scenmine.generate.base import Example


class Library:
    """Curated prompt-program pairs; ``retrieve`` returns the k most similar to a prompt."""

    def __init__(self, examples: list[Example]):
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def retrieve(self, prompt: str, k: int) -> list[Example]:
        raise NotImplementedError("retrieval lands with the screening stage")


def build_library(cfg, store, tracker, failures) -> Library | None:
    """The few-shot library for this run, or None when screening is off and none is given."""
    if cfg.screening.name == "off" and not cfg.screening.get("library"):
        return None
    raise ValueError(f"screening: {cfg.screening.name!r} with library "
                     f"{cfg.screening.get('library')!r} is not available yet")
