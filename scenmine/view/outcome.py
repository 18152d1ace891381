"""Prediction against truth for one (log, prompt) pair, frame by frame.

At each evaluation timestamp the predicted referred objects are matched to the true ones by
centre distance (greedy, nearest first, within ``MATCH_DISTANCE_M``, the official
evaluator's HOTA matching radius): a matched prediction is a true positive, an unmatched one a
false positive and an unmatched true object a miss.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenmine.data.submission import REFERRED, RELATED

MATCH_DISTANCE_M = 2.0
TP, FP, MISSED = "tp", "fp", "missed"
PREDICTED = "predicted"    # a referred object of a pair without ground truth


@dataclass
class Box:
    """An object's footprint in the city frame (for objects drawn from frames, not the log)."""

    track_id: int
    x: float
    y: float
    yaw: float
    length: float
    width: float


@dataclass
class FrameOutcome:
    """One evaluation timestamp: predicted boxes with their status, related ones, misses."""

    timestamp_ns: int
    predicted: list[tuple[Box, str]] = field(default_factory=list)   # (box, TP | FP | PREDICTED)
    related: list[Box] = field(default_factory=list)
    missed: list[Box] = field(default_factory=list)
    truth_positive: bool | None = None                                 # None: no ground truth

    @property
    def positive(self) -> bool:
        return bool(self.predicted)


@dataclass
class PairOutcome:
    """Every evaluation frame of a pair, and counts over them."""

    frames: list[FrameOutcome]
    has_truth: bool

    def count(self, status: str) -> int:
        """Object-frames with ``status`` (TP, FP or MISSED)."""
        if status == MISSED:
            return sum(len(f.missed) for f in self.frames)
        return sum(s == status for f in self.frames for _, s in f.predicted)

    @property
    def timestamps(self) -> np.ndarray:
        return np.array([f.timestamp_ns for f in self.frames], np.int64)

    @property
    def predicted_positive(self) -> np.ndarray:
        return np.array([f.positive for f in self.frames], bool)

    @property
    def truth_positive(self) -> np.ndarray | None:
        if not self.has_truth:
            return None
        return np.array([bool(f.truth_positive) for f in self.frames], bool)

    def timestamp_balanced_accuracy(self) -> float | None:
        """Balanced accuracy of the positive timestamps (the pair's share of Timestamp BA)."""
        truth = self.truth_positive
        if truth is None:
            return None
        pred = self.predicted_positive
        rates = [float(np.mean(pred[truth == v] == v)) for v in (True, False) if (truth == v).any()]
        return float(np.mean(rates)) if rates else None

    def summary(self) -> dict:
        """Per-pair figures for the gallery and the pair page."""
        out = {"frames": len(self.frames),
               "predicted_frames": int(self.predicted_positive.sum()),
               "tp": self.count(TP), "fp": self.count(FP)}
        if self.has_truth:
            ba = self.timestamp_balanced_accuracy()
            out.update({"missed": self.count(MISSED),
                        "truth_frames": int(self.truth_positive.sum()),
                        "timestamp_ba": None if ba is None else round(ba, 4)})
        return out


def _boxes(frame: dict, label: int) -> list[Box]:
    """Boxes of ``frame`` with ``label``; rows with malformed or non-finite values are skipped."""
    try:
        labels = np.asarray(frame["label"])
        pos = np.asarray(frame["translation_m"], float).reshape(len(labels), 3)
        size = np.asarray(frame["size"], float).reshape(len(labels), 3)
        yaw = np.asarray(frame["yaw"], float).reshape(len(labels))
        ids = np.asarray(frame["track_id"]).reshape(len(labels))
    except (KeyError, TypeError, ValueError):
        return []
    out = []
    for i in np.flatnonzero(labels == label):
        vals = (pos[i, 0], pos[i, 1], yaw[i], size[i, 0], size[i, 1])
        if np.all(np.isfinite(vals)):
            out.append(Box(int(ids[i]), *(float(v) for v in vals)))
    return out


def _match(pred: list[Box], truth: list[Box]) -> tuple[list[tuple[Box, str]], list[Box]]:
    """Greedy nearest-first matching within MATCH_DISTANCE_M."""
    if not pred or not truth:
        return [(b, FP) for b in pred], list(truth)
    d = np.hypot(np.array([[p.x - t.x for t in truth] for p in pred]),
                 np.array([[p.y - t.y for t in truth] for p in pred]))
    used_p, used_t = set(), set()
    for k in np.argsort(d, axis=None):
        i, j = np.unravel_index(k, d.shape)
        if d[i, j] > MATCH_DISTANCE_M:
            break
        if i not in used_p and j not in used_t:
            used_p.add(int(i))
            used_t.add(int(j))
    return ([(b, TP if i in used_p else FP) for i, b in enumerate(pred)],
            [b for j, b in enumerate(truth) if j not in used_t])


def pair_outcome(prediction: list[dict], truth: list[dict] | None) -> PairOutcome:
    """Match a pair's predicted frames against its true frames (``truth`` None: no truth)."""
    truth_at = {int(f["timestamp_ns"]): f for f in truth or [] if "timestamp_ns" in f}
    frames = []
    for frame in prediction:
        ts = int(frame["timestamp_ns"])
        pred = _boxes(frame, REFERRED)
        if truth is None:
            predicted, missed, positive = [(b, PREDICTED) for b in pred], [], None
        else:
            true_boxes = _boxes(truth_at[ts], REFERRED) if ts in truth_at else []
            predicted, missed = _match(pred, true_boxes)
            positive = bool(true_boxes)
        frames.append(FrameOutcome(ts, predicted, _boxes(frame, RELATED), missed, positive))
    return PairOutcome(frames, truth is not None)
