"""Prompt templates (Jinja2 strings from conf/prompts/*.yaml) and few-shot selection."""
from __future__ import annotations

from collections.abc import Mapping

import jinja2

from scenmine.config import cfg_dict
from scenmine.resources import PROMPTS_DIR
from scenmine.retrieval import rank

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


def select_examples(prompt: str, examples: list[Example], k: int,
                    retriever: str = "similarity") -> list[Example]:
    """The k examples to show, by the one few-shot retriever (:mod:`scenmine.retrieval`:
    ``similarity`` is BM25 over prompt words, as for the screened library)."""
    return [examples[i] for i in rank(prompt, examples, k, retriever)]
