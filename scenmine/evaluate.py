"""The one place that calls the official evaluator (av2.evaluation.scenario_mining.eval)."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from scenmine.progress import heartbeat

log = logging.getLogger("scenmine")
METRIC_NAMES = ("hota_temporal", "hota_track", "ts_ba", "log_ba")


@dataclass
class Evaluation:
    """The four official metrics, overall and per prompt."""

    metrics: dict[str, float]
    per_prompt: dict[str, dict[str, float]] = field(default_factory=dict)
    out_dir: Path | None = None


def _official_evaluate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from av2.evaluation.scenario_mining.eval import evaluate
    return evaluate


def _per_prompt(out_dir: Path) -> dict[str, dict[str, float]]:
    """Per-prompt metrics from the JSON files the official evaluator writes."""
    tables: dict[str, dict[str, float]] = {}
    sources = {"temporal_metrics.json": {"timestamp_balanced_accuracy_by_class": "ts_ba",
                                         "scenario_balanced_accuracy_by_class": "log_ba"},
               "spatiotemporal_metrics.json": {"hota_temporal_by_class": "hota_temporal",
                                               "hota_track_by_class": "hota_track"}}
    for name, keys in sources.items():
        path = out_dir / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        for key, metric in keys.items():
            for prompt, value in data.get(key, {}).items():
                tables.setdefault(prompt, {})[metric] = float(value)
    return tables


def evaluate(predictions: dict, ground_truth: dict, dataset_dir: str | Path | None,
             out_dir: str | Path | None = None, max_range_m: int = 50,
             objective_metric: str = "HOTA", quiet: bool = True,
             progress: str | None = None) -> Evaluation:
    """Score ``predictions`` against ``ground_truth`` (both official-format dicts).

    Only the pairs of the ground truth are scored; a pair missing from the predictions is an
    error (the pipeline always writes every pair, empty ones included). ``out_dir`` receives
    the evaluator's JSON files and confusion-matrix plots. ``progress``: a label to report the
    (long, opaque) official call under: what it scores, then a line every 20 s until it ends.
    """
    missing = [k for k in ground_truth if k not in predictions]
    if missing:
        raise ValueError(f"predictions lack {len(missing)} ground-truth pairs, e.g. {missing[0]}")
    preds = copy.deepcopy({k: predictions[k] for k in ground_truth})
    labels = copy.deepcopy(ground_truth)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    sink = io.StringIO()
    quiet_out = contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext()
    quiet_err = contextlib.redirect_stderr(sink) if quiet else contextlib.nullcontext()
    if progress:
        log.info("%s: the official evaluator scores %d pairs (%d prompts, %d logs)", progress,
                 len(labels), len({p for _, p in labels}), len({lg for lg, _ in labels}))
    with heartbeat(progress or "", enabled=bool(progress)), quiet_out, quiet_err, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = _official_evaluate()(preds, labels, objective_metric, max_range_m,
                                      None if dataset_dir is None else str(dataset_dir),
                                      None if out_dir is None else str(out_dir))
    metrics = dict(zip(METRIC_NAMES, (float(v) for v in values)))
    per_prompt = _per_prompt(Path(out_dir)) if out_dir is not None else {}
    return Evaluation(metrics, per_prompt, Path(out_dir) if out_dir else None)
