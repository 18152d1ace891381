"""Schema of conf/report.yaml, the primary config of ``python -m scenmine.report``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import check_node, key, plain
from .root import Tracking

Metric = Literal["hota_temporal", "hota_track", "ts_ba", "log_ba"]


@dataclass
class PerPrompt:
    metric: Metric = key("the per-prompt metric compared across runs")
    min_spread: float = key("list prompts whose best and worst run differ by at least this", ge=0)
    max_rows: int = key("most prompts listed", ge=0)


@dataclass
class Report:
    """Which runs to compare, what to show, where the report goes."""

    name: str = key("report folder under out_root")
    out_root: str = key("folder of the reports")
    title: str | None = key("heading of report.md (default: what was compared)")
    runs: list[str] = key("MLflow run ids or run names (the first selector given wins)")
    sweep: str | None = key("a sweep's parent run id, its sweep dir, or latest")
    experiment: str | None = key("an MLflow experiment name: all its pipeline runs")
    baseline: str | None = key("run id, run name or label the deltas refer to")
    include_failed: bool = key("also list runs that did not finish")
    metrics: list[Metric] = key("the metrics compared (table and chart)")
    counts: list[str] = key("count columns (MLflow metrics)")
    stages: list[str] = key("what each stage did (MLflow metrics)")
    cost: list[str] = key("cost columns (MLflow metrics)")
    digits: int = key("decimals in the tables", ge=0, le=12)
    per_prompt: PerPrompt = key()
    log_run: bool = key("log the report as a run of log_experiment")
    log_experiment: str = key("MLflow experiment of the report runs")
    tracking: Tracking = key()


def check(cfg) -> None:
    """Refuse a report config on the first key that breaks the schema (ConfigError, one line)."""
    data = plain(cfg)
    data.pop("hydra", None)
    check_node("", data, Report, {})
