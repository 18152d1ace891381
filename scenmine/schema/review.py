"""Schema of the ``reviewer`` group (conf/reviewer/*.yaml), by ``name``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import Group, key


@dataclass
class NoReview:
    name: Literal["none"] = key()
    _target_: str = key("the class this option runs")


@dataclass
class StaticReview:
    """reviewer=static: static checks with their fixes."""

    name: Literal["static"] = key()
    _target_: str = key("the class this option runs")
    autofix: list[str] | Literal["all"] = key("finding codes whose fixes are applied (all: every fixable code)")


@dataclass
class LLMReview(StaticReview):
    """reviewer=llm: static review, then an LLM review session."""

    name: Literal["llm"] = key()
    concurrency: int = key("programs reviewed at once", ge=1)
    dry_run: bool = key("run a correction once before accepting it")
    dry_run_log: str | None = key("log folder for the dry run (null: the run's first log)")
    system_prompt: str | None = key("the reviewer's instructions ({reference}: DSL reference)")
    user_prompt: str | None = key("the request ({prompt}, {program}, {findings})")
    backend: dict = key("the reviewer's own chat backend (any conf/llm option, or ${llm})", group="llm")


SCHEMA = Group("name", {"none": NoReview, "static": StaticReview, "llm": LLMReview})
