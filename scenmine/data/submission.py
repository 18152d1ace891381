"""Official scenario-mining frames: building them from a prediction, and pkl I/O.

A submission (and a ground truth) is ``{(log_id, prompt): [frame, ...]}`` with one frame per
2 Hz evaluation timestamp; each frame lists every tracked object in the CITY frame with a
label 0 REFERRED_OBJECT, 1 RELATED_OBJECT or 2 OTHER_OBJECT.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from scenmine.data import safe_pickle
from scenmine.data.logs import LogData

LABEL_NAMES = ("REFERRED_OBJECT", "RELATED_OBJECT", "OTHER_OBJECT")
REFERRED, RELATED, OTHER = 0, 1, 2

Timestamps = Mapping[str, "np.ndarray | list[int]"]


def _city_velocity(log: LogData) -> np.ndarray:
    """(N, T, 3) city-frame velocity in m/s by central differences (0 where undefined)."""
    if "city_velocity" not in log._cache:
        seconds = log.timestamps.astype(np.float64) * 1e-9
        pos = log.translation_city
        vel = np.zeros_like(pos)
        if len(seconds) > 2:
            dt = (seconds[2:] - seconds[:-2])[None, :, None]
            vel[:, 1:-1] = (pos[:, 2:] - pos[:, :-2]) / dt
        log._cache["city_velocity"] = np.nan_to_num(vel)
    return log._cache["city_velocity"]


def label_matrix(log: LogData, referred: Timestamps, related: Timestamps) -> np.ndarray:
    """(N, T) int labels: REFERRED where a track is referred, else RELATED, else OTHER."""
    labels = np.full(log.valid.shape, OTHER, np.int32)
    for value, uuid_ts in ((RELATED, related), (REFERRED, referred)):
        for uuid, ts in uuid_ts.items():
            row = log.track_index.get(uuid)
            if row is None:
                continue
            cols = np.flatnonzero(np.isin(log.timestamps, np.asarray(ts, np.int64)))
            labels[row, cols] = value
    return labels


def build_frames(log: LogData, referred: Timestamps, related: Timestamps, description: str,
                 scores: Mapping[str, float] | None = None) -> list[dict]:
    """One official frame per evaluation timestamp of ``log`` for one (log, prompt) pair.

    ``referred`` / ``related`` map track uuids to timestamps (ns); timestamps that are not
    evaluation timestamps are ignored. ``scores`` optionally gives a per-track confidence
    (default: the log's own per-detection score, 1.0 for annotations).
    """
    labels = label_matrix(log, referred, related)
    velocity = _city_velocity(log)
    score = log.score.copy()
    for uuid, value in (scores or {}).items():
        if uuid in log.track_index:
            score[log.track_index[uuid]] = value
    seq_id = (log.log_id, description)
    frames = []
    for j in range(0, len(log.timestamps), 5):
        rows = np.flatnonzero(log.valid[:, j])
        lab = labels[rows, j]
        frames.append({
            "seq_id": seq_id,
            "timestamp_ns": np.int64(log.timestamps[j]),
            "ego_translation_m": list(log.ego_translation[j]),
            "description": description,
            "translation_m": log.translation_city[rows, j].astype(np.float64),
            "size": log.size[rows, j].astype(np.float32),
            "yaw": log.yaw_city[rows, j].astype(np.float32),
            "velocity_m_per_s": velocity[rows, j].astype(np.float64),
            "label": lab.astype(np.int32),
            "name": np.array([LABEL_NAMES[v] for v in lab], dtype="<U31"),
            "track_id": rows.astype(np.int32),
            "score": np.nan_to_num(score[rows, j], nan=1.0).astype(np.float32),
        })
    return frames


def empty_like(frames: list[dict]) -> list[dict]:
    """The same frames with every object labelled OTHER (temporal frames: not positive).

    The result is a valid prediction even when ``frames`` are ground truth, which has no
    ``score``: every object gets confidence 1.0 there (the evaluator reads it per object).
    """
    out = []
    for frame in frames:
        frame = dict(frame)
        if "label" in frame:
            n = len(frame["label"])
            frame["label"] = np.full(n, OTHER, np.int32)
            frame["name"] = np.full(n, LABEL_NAMES[OTHER], "<U31")
            if "score" not in frame:
                frame["score"] = np.ones(n, np.float32)
        if "is_positive" in frame:
            frame["is_positive"] = False
        out.append(frame)
    return out


def referred_timestamps(frames: list[dict]) -> dict[int, np.ndarray]:
    """track_id -> evaluation timestamps where it is labelled REFERRED."""
    out: dict[int, list[int]] = {}
    for frame in frames:
        if "label" not in frame:
            continue
        for tid in np.asarray(frame["track_id"])[np.asarray(frame["label"]) == REFERRED]:
            out.setdefault(int(tid), []).append(int(frame["timestamp_ns"]))
    return {k: np.asarray(v, np.int64) for k, v in out.items()}


def to_temporal(frames: list[dict]) -> list[dict]:
    """The temporal-only form of a pair's frames: ``{timestamp_ns, is_positive}`` each."""
    return [{"timestamp_ns": int(f["timestamp_ns"]),
             "is_positive": bool(np.any(np.asarray(f.get("label", [])) == REFERRED))}
            for f in frames]


def save_pkl(data: dict, path: str | Path) -> Path:
    """Write a pickle atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return path


def load_pkl(path: str | Path) -> dict:
    """Read a submission or ground-truth pkl (restricted: scenmine.data.safe_pickle);
    ValueError if it is unsafe, unreadable or not the official shape."""
    data = safe_pickle.load(path)
    if not isinstance(data, dict) or not all(isinstance(k, tuple) and len(k) == 2 for k in data):
        raise ValueError(f"{path}: not a scenario-mining pkl (expected {{(log_id, prompt): frames}})")
    return data
