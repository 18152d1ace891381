"""RefAV's ``scenario_mining_{split}_annotations.feather`` -> official ground truth, by log.

The feather holds, for every (log, prompt) pair, every annotated cuboid of the log at every
10 Hz timestamp (EGO frame, annotation columns) with ``log_id``, ``prompt`` and
``mining_category`` (REFERRED_OBJECT / RELATED_OBJECT / anything else). The benchmark builds
its ground truth from it as follows, and so does this module:

- a log's objects are the rows of the log's first prompt (in file order); its track ids are the
  order in which their uuids first appear there;
- one frame per evaluation timestamp: the log's sorted timestamps, every 5th from the first;
  a frame lists every object at that timestamp (file order), in the CITY frame (the ego pose
  at exactly that timestamp from the sensor log's ``city_SE3_egovehicle.feather``), with the
  yaw as the z angle of the city rotation, zero velocity;
- label 0 REFERRED_OBJECT where the pair's row says REFERRED_OBJECT at that timestamp, else 1
  RELATED_OBJECT where it says RELATED_OBJECT, else 2 OTHER_OBJECT.

The file is read in Arrow record batches (only the columns needed), and a log
is converted as soon as its last batch has been read, so memory holds about one log at a time
when the file is grouped by log (as the benchmark ships it), never the whole file.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from scenmine.data.logs import EVAL_STRIDE, POSE_COLUMNS, POSE_FILE, quat_to_rotation
from scenmine.data.submission import LABEL_NAMES, OTHER, REFERRED, RELATED

PAIR_COLUMNS = ("log_id", "prompt", "mining_category")
CUBOID_COLUMNS = ("timestamp_ns", "track_uuid", "length_m", "width_m", "height_m",
                  "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
COLUMNS = PAIR_COLUMNS + CUBOID_COLUMNS
MINING_LABELS = {"REFERRED_OBJECT": REFERRED, "RELATED_OBJECT": RELATED}


class AnnotationsError(ValueError):
    """The annotations file cannot be read (missing, truncated, wrong columns)."""


@dataclass
class LogTruth:
    """One log's ground truth: ``{prompt: frames}``, or the reason there is none."""

    log_id: str
    frames: dict[str, list[dict]]
    problem: str | None = None


# ----------------------------------------------------------------------------- reading
def _open(path: Path, columns: Iterable[str]) -> ipc.RecordBatchFileReader:
    """A batch reader over ``columns`` of a feather (Arrow IPC) file; AnnotationsError if not."""
    try:
        source = pa.OSFile(str(path))  # plain reads: a memory map would count the file in RSS
        schema = ipc.open_file(source).schema
    except (OSError, pa.ArrowInvalid) as exc:
        raise AnnotationsError(f"{path}: not a readable feather file (truncated or corrupt? "
                               f"download it again): {exc}") from exc
    missing = [c for c in COLUMNS if c not in schema.names]
    if missing:
        raise AnnotationsError(f"{path}: lacks columns {missing} (is it a RefAV "
                               f"scenario_mining_<split>_annotations.feather?)")
    fields = [schema.get_field_index(c) for c in columns]
    return ipc.open_file(source, options=ipc.IpcReadOptions(included_fields=fields))


def _batch(reader: ipc.RecordBatchFileReader, i: int, path: Path) -> pa.RecordBatch:
    try:
        return reader.get_batch(i)
    except (OSError, pa.ArrowInvalid) as exc:
        raise AnnotationsError(f"{path}: record batch {i} is unreadable (truncated or corrupt? "
                               f"download it again): {exc}") from exc


def batches_by_log(path: Path) -> dict[str, list[int]]:
    """Which record batches hold rows of which log (reads the ``log_id`` column only)."""
    reader = _open(path, ["log_id"])
    where: dict[str, list[int]] = {}
    for i in range(reader.num_record_batches):
        for log_id in pc.unique(_batch(reader, i, path).column(0)).to_pylist():
            where.setdefault(log_id, []).append(i)
    return where


def stream_logs(path: Path, log_ids: Iterable[str],
                where: dict[str, list[int]] | None = None) -> Iterator[tuple[str, pa.Table]]:
    """``(log_id, rows)`` for each of ``log_ids`` found in the file, as soon as its last batch
    is read; rows are the log's first prompt's rows plus every REFERRED/RELATED row."""
    where = batches_by_log(path) if where is None else where
    wanted = {log_id: where[log_id] for log_id in log_ids if log_id in where}
    last = {log_id: batches[-1] for log_id, batches in wanted.items()}
    needed = sorted({i for batches in wanted.values() for i in batches})
    reader = _open(path, COLUMNS)
    mined = pa.array(list(MINING_LABELS))
    first_prompt: dict[str, str] = {}
    pending: dict[str, list[pa.Table]] = {}
    for i in needed:
        batch = pa.Table.from_batches([_batch(reader, i, path)])
        logs = batch.column("log_id")
        for log_id in pc.unique(logs).to_pylist():
            if log_id not in wanted:
                continue
            rows = batch if len(wanted) == 1 else batch.filter(pc.equal(logs, log_id))
            if log_id not in first_prompt:
                first_prompt[log_id] = rows.column("prompt")[0].as_py()
            keep = pc.or_(pc.equal(rows.column("prompt"), first_prompt[log_id]),
                          pc.is_in(rows.column("mining_category"), value_set=mined))
            pending.setdefault(log_id, []).append(rows.filter(keep))
        for log_id in [k for k in pending if last[k] == i]:
            yield log_id, pa.concat_tables(pending.pop(log_id))


# ----------------------------------------------------------------------------- conversion
def read_poses(log_dir: Path) -> pd.DataFrame:
    """The sensor log's ego poses (city <- ego), sorted by timestamp."""
    path = Path(log_dir) / POSE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no ego poses: {path} is missing")
    poses = pd.read_feather(path, columns=list(POSE_COLUMNS))
    return poses.sort_values("timestamp_ns", kind="stable").reset_index(drop=True)


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def _frame_index(eval_stamps: np.ndarray, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each stamp among the evaluation stamps, and whether it is one of them."""
    at = np.minimum(np.searchsorted(eval_stamps, stamps), len(eval_stamps) - 1)
    return at, eval_stamps[at] == stamps


def _city_yaw(rotation: np.ndarray) -> np.ndarray:
    """Yaw as the benchmark takes it: the first 'zxy' Euler angle of the city rotation."""
    from scipy.spatial.transform import Rotation
    if not len(rotation):
        return np.zeros(0)
    return Rotation.from_matrix(rotation).as_euler("zxy")[:, 0]


def convert_log(log_id: str, rows: pa.Table, poses: pd.DataFrame) -> LogTruth:
    """One log's rows (see ``stream_logs``) and ego poses -> ``{prompt: frames}``."""
    prompts = rows.column("prompt").combine_chunks().dictionary_encode()
    prompt_code = prompts.indices.to_numpy(zero_copy_only=False)
    prompt_names = prompts.dictionary.to_pylist()
    base = prompt_code == prompt_code[0]
    stamps = _column(rows, "timestamp_ns").astype(np.int64)
    uuids = rows.column("track_uuid").to_numpy(zero_copy_only=False)
    track_code, track_uuids = pd.factorize(uuids[base])
    log_stamps = np.unique(stamps[base])
    eval_stamps = log_stamps[::EVAL_STRIDE]

    # the log's objects at the evaluation timestamps, one per (timestamp, uuid), file order
    base_rows = np.flatnonzero(base)
    frame_of, at_eval = _frame_index(eval_stamps, stamps[base_rows])
    key = frame_of * len(track_uuids) + track_code
    sel = np.flatnonzero(at_eval)
    _, first = np.unique(key[sel], return_index=True)
    sel = np.sort(sel[first])
    sel = sel[np.argsort(frame_of[sel], kind="stable")]
    obj_rows, obj_frame, obj_track, obj_key = base_rows[sel], frame_of[sel], track_code[sel], key[sel]

    pose_ts = poses["timestamp_ns"].to_numpy(np.int64)
    at = np.minimum(np.searchsorted(pose_ts, eval_stamps), len(pose_ts) - 1)
    if len(pose_ts) == 0 or (pose_ts[at] != eval_stamps).any():
        n_missing = len(eval_stamps) if len(pose_ts) == 0 else int((pose_ts[at] != eval_stamps).sum())
        return LogTruth(log_id, {}, f"no ego pose at {n_missing} of {len(eval_stamps)} evaluation "
                                    f"timestamps in {POSE_FILE}")
    ego_rot = quat_to_rotation(poses[["qw", "qx", "qy", "qz"]].to_numpy(float)[at])
    ego_trans = poses[["tx_m", "ty_m", "tz_m"]].to_numpy(float)[at]

    cuboids = rows.select(list(CUBOID_COLUMNS[2:])).take(pa.array(obj_rows))
    values = np.column_stack([_column(cuboids, c).astype(np.float64) for c in cuboids.column_names])
    size, quat, ego_xyz = values[:, 0:3], values[:, 3:7], values[:, 7:10]
    rot = ego_rot[obj_frame]
    translation = np.einsum("nij,nj->ni", rot, ego_xyz) + ego_trans[obj_frame]
    yaw = _city_yaw(np.einsum("nij,njk->nik", rot, quat_to_rotation(quat)))

    bounds = np.searchsorted(obj_frame, np.arange(len(eval_stamps) + 1))
    shared = []
    for k, t in enumerate(eval_stamps):
        s = slice(bounds[k], bounds[k + 1])
        n = s.stop - s.start
        shared.append({"timestamp_ns": np.int64(t), "ego_translation_m": list(ego_trans[k]),
                       "translation_m": translation[s].astype(np.float64),
                       "size": size[s].astype(np.float32), "yaw": yaw[s].astype(np.float32),
                       "velocity_m_per_s": np.zeros((n, 3)),
                       "track_id": obj_track[s].astype(np.int32)})

    category = rows.column("mining_category").to_numpy(zero_copy_only=False)
    names = np.array(LABEL_NAMES, dtype="<U31")
    frames: dict[str, list[dict]] = {}
    for code, prompt in enumerate(prompt_names):
        labels = np.full(len(obj_key), OTHER, np.int32)
        mine = np.flatnonzero(prompt_code == code)
        m_frame, ok = _frame_index(eval_stamps, stamps[mine])
        m_track = pd.Index(track_uuids).get_indexer(uuids[mine])
        ok &= m_track >= 0
        m_key = m_frame * len(track_uuids) + m_track
        for value in (RELATED, REFERRED):  # REFERRED wins where a row says both
            name = LABEL_NAMES[value]
            hit = m_key[ok & (category[mine] == name)]
            labels[np.isin(obj_key, hit)] = value
        frames[prompt] = [{"seq_id": (log_id, prompt), **f, "description": prompt,
                           "label": labels[bounds[k]:bounds[k + 1]],
                           "name": names[labels[bounds[k]:bounds[k + 1]]]}
                          for k, f in enumerate(shared)]
    for prompt in frames:  # the evaluator's dict order: seq_id, timestamp_ns, ego pose, ...
        frames[prompt] = [_ordered(f) for f in frames[prompt]]
    return LogTruth(log_id, frames)


FRAME_ORDER = ("seq_id", "timestamp_ns", "ego_translation_m", "description", "translation_m",
               "size", "yaw", "velocity_m_per_s", "label", "name", "track_id")


def _ordered(frame: dict) -> dict:
    return {k: frame[k] for k in FRAME_ORDER}


def convert(path: Path, log_dirs: dict[str, Path],
            on_log: Callable[[LogTruth], None], progress: bool = True) -> dict[str, str]:
    """Convert the logs of ``log_dirs`` (log_id -> sensor log folder) found in ``path``;
    ``on_log`` receives each log's truth as it is built. Returns ``{log_id: problem}`` for
    logs that could not be converted (absent from the file, no poses, ...)."""
    from tqdm import tqdm

    where = batches_by_log(path)
    problems = {log_id: f"no rows for this log in {path.name}" for log_id in log_dirs
                if log_id not in where}
    todo = [log_id for log_id in log_dirs if log_id in where]
    with tqdm(total=len(todo), desc="ground truth", unit="log", disable=not progress) as bar:
        for log_id, rows in stream_logs(path, todo, where):
            try:
                truth = convert_log(log_id, rows, read_poses(log_dirs[log_id]))
            except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:  # untrusted file
                truth = LogTruth(log_id, {}, f"cannot convert: {exc}")
            if truth.problem:
                problems[log_id] = truth.problem
            on_log(truth)
            bar.update()
    return problems
