"""Load one Argoverse 2 sensor-format log into dense per-track arrays.

This is the one place that reads a log. Everything is indexed by (track, timestamp):
row ``i`` is ``uuids[i]`` and column ``j`` is ``timestamps[j]``; cells where a track is
not annotated are NaN and ``valid`` is False there.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

EGO_UUID = "ego"
EGO_CATEGORY = "EGO_VEHICLE"
EGO_SIZE = (4.877, 2.0, 1.473)
EVAL_STRIDE = 5  # evaluation frames: every 5th 10 Hz timestamp (2 Hz), starting with the first

ANNOTATION_FILES = ("annotations_with_ego.feather", "annotations.feather")
ANNOTATION_COLUMNS = ("timestamp_ns", "track_uuid", "category", "length_m", "width_m", "height_m",
                      "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
POSE_FILE = "city_SE3_egovehicle.feather"
POSE_COLUMNS = ("timestamp_ns", "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")


class LogLoadError(RuntimeError):
    """A log could not be loaded; the message names the log and the cause."""


def quat_to_rotation(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z) -> (..., 3, 3) rotation matrices."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def rotation_yaw(rot: np.ndarray) -> np.ndarray:
    """Yaw (rotation about z) of (..., 3, 3) rotation matrices."""
    return np.arctan2(rot[..., 1, 0], rot[..., 0, 0])


@dataclass(eq=False)
class LogData:
    """Dense arrays of one log's tracks and ego poses (see docs/architecture.md)."""

    log_id: str
    log_dir: Path
    timestamps: np.ndarray
    uuids: np.ndarray
    categories: np.ndarray
    valid: np.ndarray
    translation_ego: np.ndarray
    translation_city: np.ndarray
    yaw_ego: np.ndarray
    yaw_city: np.ndarray
    size: np.ndarray
    score: np.ndarray
    ego_rotation: np.ndarray
    ego_translation: np.ndarray
    has_ego_annotations: bool = True
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_tracks(self) -> int:
        return len(self.uuids)

    @property
    def eval_timestamps(self) -> np.ndarray:
        return self.timestamps[::EVAL_STRIDE]

    @property
    def track_index(self) -> dict[str, int]:
        if "track_index" not in self._cache:
            self._cache["track_index"] = {u: i for i, u in enumerate(self.uuids)}
        return self._cache["track_index"]

    @property
    def time_index(self) -> dict[int, int]:
        if "time_index" not in self._cache:
            self._cache["time_index"] = {int(t): j for j, t in enumerate(self.timestamps)}
        return self._cache["time_index"]

    @property
    def map(self):
        """The log's vector map (av2 ArgoverseStaticMap), loaded once."""
        if "map" not in self._cache:
            self._cache["map"] = load_map(self.log_dir)
        return self._cache["map"]


def load_map(log_dir: Path, build_raster: bool = False):
    """Load ``log_dir/map`` with av2's map API; LogLoadError if absent or unreadable."""
    from av2.map.map_api import ArgoverseStaticMap

    map_dir = Path(log_dir) / "map"
    if not any(map_dir.glob("log_map_archive_*.json")):
        raise LogLoadError(f"log {Path(log_dir).name}: no vector map (map/log_map_archive_*.json)")
    try:
        return ArgoverseStaticMap.from_map_dir(map_dir, build_raster=build_raster)
    except Exception as exc:  # av2 raises assorted errors on corrupt maps
        raise LogLoadError(f"log {Path(log_dir).name}: cannot read map: {exc}") from exc


def _read_feather(path: Path, columns: tuple[str, ...], log_id: str) -> pd.DataFrame:
    try:
        df = pd.read_feather(path)
    except Exception as exc:
        raise LogLoadError(f"log {log_id}: cannot read {path.name}: {exc}") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LogLoadError(f"log {log_id}: {path.name} lacks columns {missing}")
    numeric = [c for c in columns if c not in ("track_uuid", "category")]
    bad = df[numeric].isna().any(axis=1)
    if bad.any():
        raise LogLoadError(f"log {log_id}: {path.name} has {int(bad.sum())} rows with NaN values")
    return df


def _annotation_path(log_dir: Path) -> Path:
    for name in ANNOTATION_FILES:
        if (log_dir / name).exists():
            return log_dir / name
    raise LogLoadError(f"log {log_dir.name}: no annotations file ({' or '.join(ANNOTATION_FILES)})")


def _ego_poses(log_dir: Path, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """City <- ego rotation (T,3,3) and translation (T,3) at each timestamp (nearest pose)."""
    path = log_dir / POSE_FILE
    if not path.exists():
        raise LogLoadError(f"log {log_dir.name}: missing {POSE_FILE}")
    poses = _read_feather(path, POSE_COLUMNS, log_dir.name).sort_values("timestamp_ns")
    pose_ts = poses["timestamp_ns"].to_numpy(np.int64)
    idx = np.clip(np.searchsorted(pose_ts, timestamps), 0, len(pose_ts) - 1)
    prev = np.clip(idx - 1, 0, len(pose_ts) - 1)
    idx = np.where(np.abs(pose_ts[prev] - timestamps) < np.abs(pose_ts[idx] - timestamps), prev, idx)
    rot = quat_to_rotation(poses[["qw", "qx", "qy", "qz"]].to_numpy(float)[idx])
    return rot, poses[["tx_m", "ty_m", "tz_m"]].to_numpy(float)[idx]


def frame_from_table(log_dir: Path, table: pd.DataFrame, score: np.ndarray | None = None,
                     add_ego: bool = True) -> LogData:
    """Build LogData from an ego-frame cuboid table (annotation columns) of one log."""
    log_dir = Path(log_dir)
    timestamps = np.unique(table["timestamp_ns"].to_numpy(np.int64))
    uuids = pd.unique(table["track_uuid"].astype(object)).astype(object)
    has_ego = bool((table["category"] == EGO_CATEGORY).any())
    track_of = {u: i for i, u in enumerate(uuids)}
    n, t = len(uuids) + (0 if has_ego or not add_ego else 1), len(timestamps)
    rows = table["track_uuid"].map(track_of).to_numpy()
    cols = np.searchsorted(timestamps, table["timestamp_ns"].to_numpy(np.int64))

    categories = np.empty(n, dtype=object)
    categories[rows] = table["category"].to_numpy()
    valid = np.zeros((n, t), bool)
    valid[rows, cols] = True
    translation_ego = np.full((n, t, 3), np.nan)
    translation_ego[rows, cols] = table[["tx_m", "ty_m", "tz_m"]].to_numpy(float)
    size = np.full((n, t, 3), np.nan)
    size[rows, cols] = table[["length_m", "width_m", "height_m"]].to_numpy(float)
    rot_ego = np.full((n, t, 3, 3), np.nan)
    rot_ego[rows, cols] = quat_to_rotation(table[["qw", "qx", "qy", "qz"]].to_numpy(float))
    scores = np.full((n, t), np.nan)
    scores[rows, cols] = 1.0 if score is None else score

    if n > len(uuids):  # synthesize the ego track at the ego-frame origin, as the reference does
        uuids = np.append(uuids, EGO_UUID).astype(object)
        categories[-1] = EGO_CATEGORY
        valid[-1] = True
        translation_ego[-1] = 0.0
        size[-1] = EGO_SIZE
        rot_ego[-1] = np.eye(3)
        scores[-1] = 1.0

    ego_rot, ego_trans = _ego_poses(log_dir, timestamps)
    translation_city = np.einsum("tij,ntj->nti", ego_rot, translation_ego) + ego_trans[None]
    rot_city = np.einsum("tij,ntjk->ntik", ego_rot, rot_ego)
    return LogData(
        log_id=log_dir.name, log_dir=log_dir, timestamps=timestamps, uuids=uuids,
        categories=categories.astype(str), valid=valid, translation_ego=translation_ego,
        translation_city=translation_city, yaw_ego=rotation_yaw(rot_ego),
        yaw_city=rotation_yaw(rot_city), size=size, score=scores, ego_rotation=ego_rot,
        ego_translation=ego_trans, has_ego_annotations=has_ego)


@functools.lru_cache(maxsize=16)
def _load_cached(log_dir: str, mtime_ns: int) -> LogData:
    path = Path(log_dir)
    table = _read_feather(_annotation_path(path), ANNOTATION_COLUMNS, path.name)
    if table.empty:
        raise LogLoadError(f"log {path.name}: the annotations file has no rows")
    return frame_from_table(path, table)


def load_log(log_dir: str | Path, tracks: str | Path | None = None, refine=None) -> LogData:
    """Load a log once per process (cached by resolved path and file time).

    ``tracks``: a tracker-predictions pickle (AV2 tracking submission) whose tracks replace
    the annotations; its scores are kept. ``refine``: RefineOptions (scenmine.tracks) applied
    to those tracks (annotations are never refined).
    """
    path = Path(log_dir).resolve()
    if not path.is_dir():
        raise LogLoadError(f"log {path.name}: {path} is not a directory")
    if tracks is not None:
        return _load_tracker_cached(str(path), str(Path(tracks).resolve()), refine)
    return _load_cached(str(path), _annotation_path(path).stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _tracker_predictions(path: str) -> dict:
    from scenmine.data.safe_pickle import UnsafePickle, load
    try:
        return load(path)
    except UnsafePickle as exc:
        raise LogLoadError(f"tracker predictions {exc}") from None


@functools.lru_cache(maxsize=16)
def _load_tracker_cached(log_dir: str, tracks: str, refine=None) -> LogData:
    return load_tracker_log(log_dir, _tracker_predictions(tracks), refine=refine)


# ----------------------------------------------------------------------------- tracker input
TRACKER_TOPK = 100
# the reference keeps 200 tracks for these labels (its list misspells REGULAR_VEHICLE)
TRACKER_TOPK_LARGE = ("REGULAR_VEHCILE", "PEDESTRIAN", "BOLLARD", "CONSTRUCTION_CONE",
                      "CONSTRUCTION_BARREL")


def _kept_track_ids(frames: list[dict], large=TRACKER_TOPK_LARGE) -> set:
    """The reference's score filter: per label, the tracks with the highest summed score."""
    stats: dict = {}
    for frame in frames:
        labels = frame["label"] if "label" in frame else frame["name"]
        for tid, score, label in zip(frame["track_id"], frame["score"], labels):
            seen, total, _ = stats.get(tid, ([], 0.0, label))
            stats[tid] = (seen + [int(frame["timestamp_ns"])], total + float(score), label)
    by_label: dict = {}
    for tid, (_, total, label) in stats.items():
        by_label.setdefault(label, []).append((tid, total))
    kept, per_frame = set(), {int(f["timestamp_ns"]): 0 for f in frames}
    for label, ids in by_label.items():
        ids.sort(key=lambda row: row[1], reverse=True)
        top = min(200 if label in large else TRACKER_TOPK, len(ids))
        for tid, _ in ids[:top]:
            kept.add(tid)
            for t in stats[tid][0]:
                per_frame[t] += 1
        i = max(top - 1, 0)
        for t in per_frame:  # noqa: PLC0206 - every frame keeps at least one track if possible
            while per_frame[t] == 0 and i < len(ids):
                if t in stats[ids[i][0]][0]:
                    kept.add(ids[i][0])
                    for u in stats[ids[i][0]][0]:
                        per_frame[u] += 1
                i += 1
    return kept


def tracker_table(log_dir: Path, frames: list[dict], filter_tracks: bool = True):
    """Tracking-submission frames of one log (city-frame boxes) -> (annotation table, scores).

    As the reference converts them: boxes go to the ego frame of their timestamp, the yaw to
    the z angle of the ego-frame rotation; with ``filter_tracks`` the reference's per-label
    top-k by summed score is applied.
    """
    from scipy.spatial.transform import Rotation

    log_dir = Path(log_dir)
    frames = [f for f in frames if len(f["track_id"])]
    if not frames:
        raise LogLoadError(f"log {log_dir.name}: the tracker predictions have no boxes")
    has_score = all("score" in f for f in frames)
    kept = _kept_track_ids(frames) if filter_tracks and has_score else None
    stamps = np.array([int(f["timestamp_ns"]) for f in frames], dtype=np.int64)
    ego_rot, ego_trans = _ego_poses(log_dir, stamps)
    parts = []
    for f, rot, trans in zip(frames, ego_rot, ego_trans):
        ids = np.asarray(f["track_id"])
        keep = np.ones(len(ids), bool) if kept is None else np.isin(ids, list(kept))
        city = np.asarray(f["translation_m"], float)[keep]
        ego = (city - trans) @ rot
        yaw_city = np.asarray(f["yaw"], float)[keep]
        rel = np.einsum("ji,njk->nik", rot, Rotation.from_euler("z", yaw_city[:, None]).as_matrix())
        yaw = Rotation.from_matrix(rel).as_euler("zxy")[:, 0] if len(rel) else yaw_city
        size = np.asarray(f["size"], float)[keep]
        names = np.asarray(f.get("name", f.get("label")))[keep]
        parts.append(pd.DataFrame({
            "timestamp_ns": int(f["timestamp_ns"]), "track_uuid": ids[keep].astype(str),
            "category": names.astype(str), "length_m": size[:, 0], "width_m": size[:, 1],
            "height_m": size[:, 2], "qw": np.cos(yaw / 2), "qx": 0.0, "qy": 0.0,
            "qz": np.sin(yaw / 2), "tx_m": ego[:, 0], "ty_m": ego[:, 1], "tz_m": ego[:, 2],
            "score": np.asarray(f["score"], float)[keep] if has_score else 1.0}))
    table = pd.concat(parts, ignore_index=True)
    return table, table["score"].to_numpy(float)


def load_tracker_log(log_dir: str | Path, predictions, filter_tracks: bool = True,
                     refine=None) -> LogData:
    """LogData whose tracks are a tracker's predictions instead of the annotations.

    ``predictions``: the tracking-submission dict ``{log_id: [frame, ...]}`` (or a path to its
    pickle), or this log's list of frames. Frames hold city-frame ``translation_m``, ``size``,
    ``yaw``, ``name`` (or ``label``), ``track_id`` and ``score``; scores are kept in
    ``LogData.score``. The ego track is synthesized as for annotations without one.
    ``refine``: RefineOptions (scenmine.tracks.refinement) to repair the tracks with.
    """
    path = Path(log_dir).resolve()
    if isinstance(predictions, (str, Path)):
        predictions = _tracker_predictions(str(predictions))
    frames = predictions.get(path.name) if isinstance(predictions, dict) else predictions
    if frames is None:
        raise LogLoadError(f"log {path.name}: not in the tracker predictions")
    table, score = tracker_table(path, list(frames), filter_tracks)
    log = frame_from_table(path, table, score=score)
    if refine is not None:
        from scenmine.tracks.refinement import refine as refine_tracks
        log = refine_tracks(log, refine)
    return log
