"""Schema of the ``tune`` group (conf/tune/*.yaml, selected by +exp=tune_verifier)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .core import Group, key

Metric = Literal["hota_temporal", "hota_track", "ts_ba", "log_ba"]


@dataclass
class Space:
    """One searched parameter: a range (low, high[, step, log]) or a list of choices."""

    low: float = key("lower bound", optional=True)
    high: float = key("upper bound", optional=True)
    step: float = key("grid step", gt=0, optional=True)
    log: bool = key("sample on a log scale", optional=True)
    choices: list[Any] = key("categorical choices", optional=True)
    default: Any = key("value of the base configuration", optional=True)


@dataclass
class Tune:
    metric: Metric = key("the metric tuned")
    direction: Literal["maximize", "minimize"] = key()
    n_trials: int = key("trials in the study (a resumed study runs only the rest)", ge=1)
    timeout_s: float | None = key("stop after this many seconds", gt=0)
    seed: int = key("sampler seed")
    n_startup_trials: int = key("random trials before TPE", ge=0)
    base_run: str | None = key("run folder or MLflow run id of a finished run on the tuned split")
    storage_dir: str = key("studies.db and base runs")
    study_name: str | None = key("default: from the verifier, metric, space and scores")
    overlay_dir: str = key("the best config goes to <overlay_dir>/exp/<overlay_name>.yaml")
    overlay_name: str | None = key("default: tuned_<study_name>")
    warmup: Literal["none", "subsets"] = key("evaluate keep-subsets lazily or all first")
    exhaustive_max: int = key("warmup=subsets: prompts with <= this many scored pairs", ge=0)
    eval_workers: int = key("official evaluator calls at a time", ge=1)
    run_name: str | None = key("MLflow run name")
    space: dict[str, Space] = key("searched parameters: verifier-config path -> range")
    combine: Any = key("verifier=both: the searched combination", optional=True)


SCHEMA = Group.single(Tune)
