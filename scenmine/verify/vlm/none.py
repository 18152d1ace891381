"""The ``none`` backend: no model; every pair gets a constant P(yes) (default 1: keep all)."""
from __future__ import annotations

from .base import VLMAnswer, VLMRequest


class NoVLM:
    """Answers every request with ``p_yes`` without looking at it."""

    name = "none"

    def __init__(self, p_yes: float = 1.0, **_: object):
        self.p_yes = float(p_yes)
        self.calls = 0

    def cache_key(self) -> dict:
        return {"name": self.name, "p_yes": self.p_yes}

    def answer(self, requests: list[VLMRequest]) -> list[VLMAnswer]:
        return [VLMAnswer(self.p_yes, "none") for _ in requests]
