"""Prompt templates (Jinja2 strings from conf/prompts/*.yaml) and few-shot selection."""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

import jinja2

from scenmine.config import cfg_dict
from scenmine.resources import PROMPTS_DIR

from .base import Example

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True, autoescape=False)


class Prompts:
    """Named templates; missing names fall back to conf/prompts/default.yaml."""

    def __init__(self, templates: Mapping | None = None):
        import yaml
        base = yaml.safe_load((PROMPTS_DIR / "default.yaml").read_text())
        self.templates = {**base, **{k: v for k, v in (cfg_dict(templates) or {}).items()
                                     if v is not None}}

    @property
    def examples(self) -> list[Example]:
        return [Example(e["prompt"], e["program"]) for e in self.templates.get("examples") or []]

    def render(self, name: str, **variables) -> str:
        text = self.templates[name]
        if isinstance(text, str) and text.endswith(".j2"):
            text = (PROMPTS_DIR / text).read_text()
        return _env.from_string(text).render(**variables).strip() + "\n"


def _tokens(text: str) -> Counter:
    return Counter(re.findall(r"[a-z]+", text.lower()))


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(a[t] * b[t] for t in a.keys() & b.keys())
    na, nb = math.sqrt(sum(v * v for v in a.values())), math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def select_examples(prompt: str, examples: list[Example], k: int,
                    retriever: str = "similarity") -> list[Example]:
    """The k examples to show: ``similarity`` (bag-of-words cosine), ``first`` or ``none``."""
    if k <= 0 or retriever == "none" or not examples:
        return []
    if retriever == "first":
        return list(examples[:k])
    if retriever != "similarity":
        raise ValueError(f"unknown generate.fewshot.retriever {retriever!r} "
                         "(similarity, first, none)")
    q = _tokens(prompt)
    scored = sorted(enumerate(examples), key=lambda ie: (-_cosine(q, _tokens(ie[1].prompt)),
                                                         -(ie[1].score or 0), ie[0]))
    return [ex for _, ex in scored[:k]]
