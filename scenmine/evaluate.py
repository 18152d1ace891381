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


def _require_every_pair(predictions: dict, ground_truth: dict) -> None:
    """A ground-truth pair missing from the predictions is an error (the pipeline always
    writes every pair, empty ones included)."""
    missing = [k for k in ground_truth if k not in predictions]
    if missing:
        raise ValueError(f"predictions lack {len(missing)} ground-truth pairs, e.g. {missing[0]}")


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
    _require_every_pair(predictions, ground_truth)
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


def hota_temporal_by_prompt(predictions: dict, ground_truth: dict, dataset_dir: str | Path,
                            max_range_m: int = 50, chunk: int = 16) -> dict[str, float]:
    """HOTA-Temporal per prompt alone, through the official evaluator's own steps.

    ``evaluate`` runs the whole official evaluation: HOTA-Temporal, HOTA-Track, both balanced
    accuracies and their plots, loading a log's map once per pair. A benchmark that needs only
    HOTA-Temporal over many prompts on a few logs calls this instead: the same steps (range
    and drivable-area filters, referred objects as the prompt's class, score thresholds tuned
    for HOTA with a 2 m match distance), each log's map loaded once, prompts scored ``chunk``
    at a time (the evaluator's memory grows with the pairs). Same numbers as ``evaluate``'s
    per-prompt HOTA-Temporal (tests/test_evaluate.py compares them).
    """
    from unittest import mock

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from av2.evaluation.scenario_mining import SEQ_ID_PROMPT_INDICES
        from av2.evaluation.scenario_mining import eval as official
        from av2.evaluation.tracking.eval import _tune_score_thresholds

    _require_every_pair(predictions, ground_truth)
    load_maps = official.load_mapped_avm_and_egoposes
    loaded: dict = {}

    def load_each_log_once(log_ids, root):
        for log_id in set(log_ids) - set(loaded):
            avms, poses = load_maps([log_id], root)
            loaded[log_id] = (avms[log_id], poses[log_id])
        return ({i: loaded[i][0] for i in log_ids}, {i: loaded[i][1] for i in log_ids})

    def filtered(sequences: dict) -> dict:
        seqs = official.relabel_sequence_ids(copy.deepcopy(sequences))
        seqs = official.filter_max_dist(seqs, max_range_m)
        return official.filter_drivable_area(seqs, str(dataset_dir))

    scores: dict[str, float] = {}
    with mock.patch.object(official, "load_mapped_avm_and_egoposes", load_each_log_once), \
            warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        labels = filtered(ground_truth)
        preds = filtered({k: predictions[k] for k in ground_truth})
        prompts = sorted({k[SEQ_ID_PROMPT_INDICES] for k in labels})
        for start in range(0, len(prompts), chunk):
            part = set(prompts[start:start + chunk])
            keys = [k for k in labels if k[SEQ_ID_PROMPT_INDICES] in part]
            part_labels = official.classify_referred_objects(copy.deepcopy({k: labels[k] for k in keys}))
            part_preds = official.classify_referred_objects(copy.deepcopy({k: preds[k] for k in keys}))
            _, best, _ = _tune_score_thresholds(part_labels, part_preds, "HOTA", sorted(part),
                                                num_thresholds=10, match_distance_m=2)
            scores.update({prompt: float(value) for prompt, value in best.items()})
    return scores
