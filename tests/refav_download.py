"""A miniature RefAV download built from ../shared/av2_mini (tests only).

Layout as RefAV's README has it: ``sm/`` (the scenario-mining add-on: pairs files and the
annotations feather), ``sensor/{val,test}/<log_id>/`` (the Argoverse 2 sensor dataset; test
logs carry no annotations) and ``tracker_{val,test}.pkl`` (tracking submissions with noise
and scores). The feather is made from the real annotations and the official ground truth, so
the ground truth built from it must equal ``combined_gt_dev.pkl``.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

GT_LOGS = ("3b3570b4-7b0b-3268-a571-b0889dbf40b6", "3bffdcff-c3a7-38b6-a0f2-64196d130958")
OTHER_LOGS = ("adcf7d18-0510-35b0-a2fa-b4cea13a6d76", "7fab2350-7eaf-3b7e-a39d-6937a4c1bede")
# the test split: each log has its own prompts (not every prompt on every log)
TEST_PAIRS = {GT_LOGS[0]: ["stopped car", "vehicle with a bicycle to its right"],
              OTHER_LOGS[0]: ["pedestrian crossing in front of the ego vehicle"],
              OTHER_LOGS[1]: ["stopped car"]}
NAMES = ("REFERRED_OBJECT", "RELATED_OBJECT", "OTHER_OBJECT")


@dataclass
class Download:
    root: Path
    sm_root: Path
    av2_root: Path
    tracker_val: Path
    tracker_test: Path
    ground_truth: Path      # the official combined ground truth of the val pairs


def annotations(log_dir: Path) -> pd.DataFrame:
    name = "annotations_with_ego.feather"
    return pd.read_feather(log_dir / name if (log_dir / name).exists() else log_dir / "annotations.feather")


def mining_rows(table: pd.DataFrame, frames: list[dict]) -> pd.Series:
    """mining_category of every row of a log for one prompt, from its official frames (2 Hz);
    rows between evaluation timestamps carry the label of the evaluation frame before them."""
    uuids = pd.unique(table["track_uuid"])
    stamps = np.array([int(f["timestamp_ns"]) for f in frames])
    label = {}
    for k, f in enumerate(frames):
        for tid, lab in zip(f["track_id"], f["label"]):
            label[(k, uuids[int(tid)])] = NAMES[int(lab)]
    frame_of = np.searchsorted(stamps, table["timestamp_ns"].to_numpy(), side="right") - 1
    return pd.Series([label.get((int(k), u), "OTHER_OBJECT")
                      for k, u in zip(frame_of, table["track_uuid"])], index=table.index)


def tracker_frames(log_dir: Path, rng: np.random.Generator) -> list[dict]:
    """A tracking submission of one log: annotations in the city frame, jittered, with scores."""
    from scenmine.data.logs import load_log
    log = load_log(log_dir)
    score = rng.uniform(0.2, 0.95, log.n_tracks)
    frames = []
    for j, t in enumerate(log.timestamps):
        rows = np.flatnonzero(log.valid[:, j] & (log.categories != "EGO_VEHICLE"))
        frames.append({"timestamp_ns": int(t),
                       "translation_m": log.translation_city[rows, j] + rng.normal(0, 0.15, (len(rows), 3)),
                       "size": log.size[rows, j].astype(np.float32),
                       "yaw": (log.yaw_city[rows, j] + rng.normal(0, 0.02, len(rows))).astype(np.float32),
                       "velocity_m_per_s": np.zeros((len(rows), 3)),
                       "label": np.zeros(len(rows), np.int32),
                       "name": log.categories[rows].astype("<U31"), "track_id": rows.astype(np.int32),
                       "score": score[rows].astype(np.float32)})
    return frames


def build(av2_mini: Path, root: Path, seed: int = 0) -> Download:
    av2_mini = Path(av2_mini).resolve()
    logs = av2_mini / "logs"
    gt_path = av2_mini / "ground_truth" / "combined_gt_dev.pkl"
    gt = pickle.loads(gt_path.read_bytes())
    sm, sensor = root / "sm", root / "sensor"
    sm.mkdir(parents=True)
    parts = []
    for (log_id, prompt), frames in gt.items():
        table = annotations(logs / log_id)
        parts.append(table.assign(log_id=log_id, prompt=prompt,
                                  mining_category=mining_rows(table, frames)))
    feather.write_feather(pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False),
                          sm / "scenario_mining_val_annotations.feather", chunksize=4000)
    val_pairs: dict[str, list[str]] = {}
    for log_id, prompt in gt:
        val_pairs.setdefault(log_id, []).append(prompt)
    (sm / "log_prompt_pairs_val.json").write_text(json.dumps(val_pairs))
    (sm / "log_prompt_pairs_test.json").write_text(json.dumps(TEST_PAIRS))
    for log_id in GT_LOGS + OTHER_LOGS:
        (sensor / "val").mkdir(parents=True, exist_ok=True)
        (sensor / "val" / log_id).symlink_to(logs / log_id)
    for log_id in TEST_PAIRS:  # test logs: poses and map only, no annotations
        folder = sensor / "test" / log_id
        folder.mkdir(parents=True)
        for name in ("city_SE3_egovehicle.feather", "map"):
            (folder / name).symlink_to(logs / log_id / name)
    rng = np.random.default_rng(seed)
    tracker_val, tracker_test = root / "tracker_val.pkl", root / "tracker_test.pkl"
    tracker_val.write_bytes(pickle.dumps({k: tracker_frames(logs / k, rng) for k in val_pairs}))
    tracker_test.write_bytes(pickle.dumps({k: tracker_frames(logs / k, rng) for k in TEST_PAIRS}))
    return Download(root, sm, sensor, tracker_val, tracker_test, gt_path)
