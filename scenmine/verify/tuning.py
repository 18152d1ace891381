"""Helpers of the threshold tuning: pairs back from submission frames, and memoised metrics.

The official evaluator scores each prompt as its own class and averages the classes, and a
verifier decision only empties or keeps one (log, prompt) pair. So the metric of a set of
decisions is the mean over prompts of the evaluator's per-prompt value for *which of that
prompt's positive pairs are kept*. ``SubsetMetrics`` asks the official evaluator for those
per-prompt values (one call per prompt and keep-subset: with one class, the class average the
evaluator returns is that class's value) and memoises them, so repeated decisions are lookups. Objects never referred in a sequence are removed before the call:
the evaluator discards them itself (``classify_referred_objects``), so results are identical.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from scenmine.data.submission import empty_like

from .base import PairPrediction

OBJECT_KEYS = ("translation_m", "size", "yaw", "label", "name", "track_id", "score", "velocity_m_per_s")


def read_programs(run_dir: str | Path) -> dict[str, str]:
    """prompt -> program from a run's ``programs/*.py`` (first line ``# prompt: ...``)."""
    out = {}
    for path in sorted(Path(run_dir, "programs").glob("*.py")):
        text = path.read_text()
        m = re.match(r"# prompt: (.*)\n", text)
        if m:
            out[m.group(1)] = text[m.end():]
    return out


def pairs_from_submission(predictions: dict, logs: dict[str, Path], programs: dict[str, str] | None = None
                          ) -> list[PairPrediction]:
    """PairPredictions of the positive pairs of an official-format dict (track_id = log row)."""
    from scenmine.data.logs import load_log

    pairs = []
    for (log_id, prompt), frames in predictions.items():
        if log_id not in logs or not any((np.asarray(f.get("label", [])) == 0).any() for f in frames):
            continue
        uuids = load_log(logs[log_id]).uuids
        ref: dict[str, list[int]] = {}
        rel: dict[str, list[int]] = {}
        for f in frames:
            for lab, tid in zip(np.asarray(f["label"]), np.asarray(f["track_id"])):
                d = ref if lab == 0 else rel if lab == 1 else None
                if d is not None and 0 <= tid < len(uuids):
                    d.setdefault(str(uuids[tid]), []).append(int(f["timestamp_ns"]))
        arr = {u: np.asarray(t, np.int64) for u, t in ref.items()}
        pairs.append(PairPrediction(log_id, logs[log_id], prompt, (programs or {}).get(prompt), arr,
                                    {u: np.asarray(t, np.int64) for u, t in rel.items()}))
    return pairs


def compact(frames: list[dict]) -> list[dict]:
    """Frames keeping only objects whose track is referred somewhere in the sequence."""
    ever = set()
    for f in frames:
        if "label" in f:
            ever.update(np.asarray(f["track_id"])[np.asarray(f["label"]) == 0].tolist())
    out = []
    for f in frames:
        g = dict(f)
        if "label" in g:
            keep = np.isin(np.asarray(g["track_id"]), list(ever))
            for k in OBJECT_KEYS:
                if k in g:
                    g[k] = np.asarray(g[k])[keep]
        out.append(g)
    return out


class SubsetMetrics:
    """Official per-prompt metrics of keep-subsets of each prompt's verifiable pairs, memoised."""

    def __init__(self, predictions: dict, ground_truth: dict, dataset_dir, scores: pd.DataFrame,
                 workers: int = 2):
        self.gt = {k: compact(v) for k, v in ground_truth.items()}
        self.full = {k: compact(predictions[k]) for k in ground_truth}
        self.dataset_dir, self.workers = dataset_dir, int(workers)
        verifiable = {(a, b) for a, b in zip(scores.get("log_id", []), scores.get("prompt", []))}
        self.prompts = list(dict.fromkeys(p for _, p in ground_truth))
        self.logs_of = {p: [k[0] for k in ground_truth if k[1] == p] for p in self.prompts}
        self.candidates = {p: sorted(lg for lg in self.logs_of[p] if (lg, p) in verifiable) for p in self.prompts}
        self.table: dict[tuple[str, frozenset], dict[str, float]] = {}
        self.calls = 0

    def subsets(self, prompt: str, order: list[str] | None = None, exhaustive_max: int = 4) -> list[frozenset]:
        """All keep-subsets of a prompt's candidates (<= exhaustive_max of them), else prefixes of ``order``."""
        c = self.candidates[prompt]
        if len(c) <= exhaustive_max:
            return [frozenset(s) for r in range(len(c) + 1) for s in itertools.combinations(c, r)]
        order = [lg for lg in (order or c) if lg in c]
        return [frozenset(order[:i]) for i in range(len(order) + 1)]

    def ensure(self, wanted: set[tuple[str, frozenset]]) -> None:
        """Evaluate every (prompt, kept logs) not yet known: one official evaluator call each
        (its class average is then that class's value), ``workers`` calls at a time."""
        from concurrent.futures import ThreadPoolExecutor

        todo = sorted((p, s) for p, s in wanted if (p, s) not in self.table)
        if not todo:
            return
        if self.workers > 1 and len(todo) > 1:
            # the evaluator wrapper swaps sys.stdout/stderr per call; around the threads, restore them once
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                    ThreadPoolExecutor(min(self.workers, len(todo))) as pool:
                values = list(pool.map(self._evaluate_one, todo))
        else:
            values = [self._evaluate_one(key) for key in todo]
        self.table.update(zip(todo, values))

    def _evaluate_one(self, key: tuple[str, frozenset]) -> dict[str, float]:
        """The official metrics of one prompt with only the logs in ``key[1]`` kept."""
        from scenmine.evaluate import evaluate

        prompt, kept = key
        preds, gt = {}, {}
        for log_id in self.logs_of[prompt]:
            frames = self.full[(log_id, prompt)]
            if log_id in self.candidates[prompt] and log_id not in kept:
                frames = empty_like(frames)
            preds[(log_id, prompt)] = compact(frames)
            gt[(log_id, prompt)] = [dict(f) for f in self.gt[(log_id, prompt)]]  # evaluator sets seq_id
        self.calls += 1
        return dict(evaluate(preds, gt, self.dataset_dir, None).metrics)

    def metrics(self, keep: dict[tuple[str, str], bool]) -> dict[str, float]:
        """Class-averaged metrics of a set of decisions ((log_id, prompt) -> keep; missing: keep)."""
        kept = {p: frozenset(lg for lg in self.candidates[p] if keep.get((lg, p), True)) for p in self.prompts}
        self.ensure(set(kept.items()))
        per = {p: self.table[(p, s)] for p, s in kept.items()}
        names = sorted({m for v in per.values() for m in v})
        return {m: float(np.mean([per[p][m] for p in self.prompts if m in per[p]])) for m in names}
