"""Generate the whole mini dataset: logs, splits, prompts and official ground truth."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from scenmine.data.synthetic import scenes, truth
from scenmine.data.synthetic.motion import SIZES, new_uuid
from scenmine.data.synthetic.prompts import PROMPTS
from scenmine.data.synthetic.world import build_world
from scenmine.data.synthetic.writer import Placement, write_log

NOISE_XY_M, NOISE_YAW_RAD = 0.03, 0.0015  # slow annotation jitter (truth: the exact state)
CITIES = ("PIT", "MIA", "ATX", "WDC", "PAO", "DTW")
EPOCH_NS = 315_960_000_000_000_000  # early 2020 in the logs' clock, like the real logs


def timestamps(rng: np.random.Generator) -> np.ndarray:
    """156 lidar sweep times at 10 Hz with microsecond jitter (int64 ns)."""
    base = EPOCH_NS + int(rng.integers(0, 20_000_000)) * 1_000_000_000
    jitter = rng.integers(-300, 300, scenes.N_T) * 1000
    return base + np.arange(scenes.N_T, dtype=np.int64) * 100_000_000 + jitter


def make_log(seed: int, index: int, flags: dict) -> dict:
    """Script one log; returns its id, actors, truth and placement (nothing written)."""
    rng = np.random.default_rng([seed, index])
    log_id = new_uuid(rng)
    ts = timestamps(rng)
    t = (ts - ts[0]) / 1e9
    world = build_world(rng)
    sc = scenes.build_scene(rng, t, world, flags, np.random.default_rng([seed, index, 2]))
    sc.ego.uuid, sc.ego.size = "ego", np.array(SIZES["EGO_VEHICLE"])
    actors = scenes.finalize(sc)
    place = Placement(float(rng.uniform(-np.pi, np.pi)),
                      np.round(rng.uniform([1500, 800], [9000, 5000]), 1),
                      float(np.round(rng.uniform(5, 80), 2)), CITIES[index % len(CITIES)],
                      int(rng.integers(10_000, 99_999)))
    noise = (np.random.default_rng([seed, index, 1]), NOISE_XY_M, NOISE_YAW_RAD)
    return {"log_id": log_id, "ts": ts, "world": world, "ego": sc.ego, "actors": actors,
            "place": place, "noise": noise, "truth": truth.compute(world, sc.ego, actors, t)}


def split_ids(log_ids: list[str]) -> dict[str, list[str]]:
    n = len(log_ids)
    n_eval = max(1, round(0.3 * n))
    n_train = n - 2 * n_eval
    return {"train": log_ids[:n_train], "val": log_ids[n_train:n_train + n_eval],
            "test": log_ids[n_train + n_eval:]}


def to_timestamps(masks: dict[str, np.ndarray], ts: np.ndarray) -> dict[str, np.ndarray]:
    return {u: ts[m] for u, m in masks.items() if m.any()}


def generate(out: Path, seed: int = 0, n_logs: int = 10) -> dict:
    """Write the dataset into ``out`` (must not exist); returns a per-log truth summary."""
    from scenmine.data.logs import load_log
    from scenmine.data.submission import build_frames, save_pkl

    if n_logs < 3:
        raise ValueError("the mini dataset needs at least 3 logs (train / val / test)")
    out.mkdir(parents=True)
    flags = scenes.design(n_logs)
    logs = [make_log(seed, i, flags[i]) for i in tqdm(range(n_logs), desc="dataset: logs", unit="log")]
    for lg in logs:
        write_log(out / "logs" / lg["log_id"], lg["world"], lg["ego"], lg["actors"], lg["ts"], lg["place"],
                  lg["noise"])
    splits = split_ids([lg["log_id"] for lg in logs])
    (out / "splits.json").write_text(json.dumps(splits, indent=1))
    (out / "prompts.json").write_text(json.dumps(
        [{"prompt": p["prompt"], "program": p["program"]} for p in PROMPTS], indent=1))
    summary = {}
    by_id = {lg["log_id"]: lg for lg in logs}
    for split, ids in tqdm(splits.items(), desc="dataset: ground truth", unit="split"):
        gt = {}
        for log_id in ids:
            lg, log = by_id[log_id], load_log(out / "logs" / log_id)
            summary[log_id] = {"split": split}
            for p in PROMPTS:
                referred, related = lg["truth"][p["key"]]
                referred, related = to_timestamps(referred, lg["ts"]), to_timestamps(related, lg["ts"])
                key = (sys.intern(log_id), sys.intern(p["prompt"]))
                frames = build_frames(log, referred, related, p["prompt"])
                for f in frames:  # one shared key object: pickles identically on every run
                    f["seq_id"], f["description"] = key, key[1]
                gt[key] = frames
                summary[log_id][p["prompt"]] = sorted(referred)
        save_pkl(gt, out / "ground_truth" / f"{split}.pkl")
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
