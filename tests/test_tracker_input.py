"""Tracker predictions as input: the DSL runs on them and their scores reach the submission."""
from __future__ import annotations

import pickle

import numpy as np

from scenmine import pipeline
from scenmine.data.logs import load_log
from scenmine.data.submission import load_pkl


def tracker_pickle(log_dir, path, seed=0):
    """An AV2 tracking-submission pickle made from a log's annotations, with random scores."""
    log = load_log(log_dir)
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.3, 0.9, len(log.uuids))
    frames = []
    for j, t in enumerate(log.timestamps):
        rows = np.flatnonzero(log.valid[:, j])
        frames.append({"timestamp_ns": int(t), "translation_m": log.translation_city[rows, j],
                       "size": log.size[rows, j], "yaw": log.yaw_city[rows, j],
                       "name": log.categories[rows], "track_id": rows, "score": scores[rows]})
    path.write_bytes(pickle.dumps({log.log_id: frames}))
    return scores


def test_pipeline_on_tracker_predictions_carries_scores(av2_mini, tmp_path, make_cfg):
    log_id = "3bffdcff-c3a7-38b6-a0f2-64196d130958"
    tracks = tmp_path / "tracks.pkl"
    tracker_pickle(av2_mini / "logs" / log_id, tracks)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("stopped car\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / log_id).symlink_to(av2_mini / "logs" / log_id)
    cfg = make_cfg(["dataset=av2", f"dataset.logs={logs}", f"dataset.prompts={prompts}",
                    f"dataset.tracks={tracks}", f"tracking.dir={tmp_path / 'mlruns'}",
                    "output.progress=false"])
    result = pipeline.run(cfg, tmp_path / "out")
    assert result.metrics["n_execution_failed"] == 0
    frames = load_pkl(result.submission_path)[(log_id, "stopped car")]
    referred = np.concatenate([f["score"][f["label"] == 0] for f in frames])
    assert len(referred) and referred.min() >= 0.3 and referred.max() <= 0.9
    assert len(np.unique(np.round(referred, 5))) > 1  # graded, not a constant 1.0
