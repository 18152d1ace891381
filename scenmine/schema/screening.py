"""Schema of the ``screening`` group (conf/screening/*.yaml), by ``name``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .core import Group, key


@dataclass
class Screening:
    """Training-set screening (screening=default) builds the few-shot library; screening=off
    keeps the same settings and screens nothing (an earlier library can still be used)."""

    name: Literal["default", "off"] = key()
    library: str | None = key("library.jsonl, run folder or MLflow run id to use instead of screening")
    threshold: float = key("TS-BA a program needs on its training logs", ge=0, le=1)
    max_iterations: int = key("generations per prompt, the first included", ge=1)
    split: Literal["train", "val", "test"] = key("dataset split screened")
    max_prompts: int | None = key("screen only the first N training prompts", ge=1)
    stop_on_repeat: bool = key("stop a prompt when the generator repeats a program")
    dataset: dict[str, Any] = key("overrides of the dataset config for screening")


SCHEMA = Group("name", {"default": Screening, "off": Screening})
