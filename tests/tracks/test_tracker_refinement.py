"""Refinement reaches tracker input where it is loaded: the sandbox worker and the execute stage."""
from __future__ import annotations

import pickle

import numpy as np

from scenmine.data.logs import load_log
from scenmine.tracks import NoiseOptions, RefineOptions, make_noisy

PROGRAM = """
cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
output_scenario(cars, 'cars', log_dir, output_dir)
"""


def noisy_tracker_pickle(log_dir, path) -> None:
    """An AV2 tracking-submission pickle of the log's annotations with tracker-like noise."""
    noisy = make_noisy(load_log(log_dir), NoiseOptions(seed=1, phantoms=30, duplicate_track=0.2))
    frames = []
    for j, t in enumerate(noisy.timestamps):
        rows = np.flatnonzero(noisy.valid[:-1, j])  # the ego (last row) is not a detection
        frames.append({"timestamp_ns": int(t), "translation_m": noisy.translation_city[rows, j],
                       "size": noisy.size[rows, j], "yaw": noisy.yaw_city[rows, j],
                       "name": noisy.categories[rows], "track_id": noisy.uuids[rows].astype(str),
                       "score": noisy.score[rows, j]})
    path.write_bytes(pickle.dumps({noisy.log_id: frames}))


def test_the_worker_refines_tracker_logs_when_asked(real_log, tmp_path, make_cfg):
    from scenmine.config import cfg_dict
    from scenmine.execute.worker import run_one

    tracks = tmp_path / "tracks.pkl"
    noisy_tracker_pickle(real_log, tracks)
    raw = run_one(str(real_log), PROGRAM, "cars", 60, {"tracks": str(tracks)})
    node = cfg_dict(make_cfg(["tracks=default"]).tracks)
    refined = run_one(str(real_log), PROGRAM, "cars", 60, {"tracks": str(tracks), "refine": node})
    assert raw["ok"] and refined["ok"], (raw["error"], refined["error"])
    tracks_seen = [len(set(np.concatenate([f["track_id"] for f in r["frames"]])))
                   for r in (raw, refined)]
    assert tracks_seen[1] < 0.9 * tracks_seen[0]    # phantoms, duplicates, fragments gone
    assert len(refined["referred"]) < len(raw["referred"])  # fragments joined, ghosts gone


def test_the_execute_stage_passes_the_tracks_node_with_tracker_input(monkeypatch, make_cfg, tmp_path):
    from scenmine.execute import stage

    seen = {}
    monkeypatch.setattr(stage, "execute_tasks", lambda tasks, **kw: seen.update(kw["post_options"]))
    for overrides, expected in ((["tracks=default"], None),
                                ([f"dataset.tracks={tmp_path}/t.pkl"], None),
                                ([f"dataset.tracks={tmp_path}/t.pkl", "tracks=default"], RefineOptions())):
        seen.clear()
        cfg = make_cfg(["dataset=av2", f"dataset.logs={tmp_path}", *overrides])
        dataset = type("D", (), {"pairs": [], "logs": {}, "tracks": cfg.dataset.tracks})()
        stage.execute_pairs(cfg, dataset, {}, store=None, failures=[])
        got = RefineOptions.from_dict(seen["refine"]) if "refine" in seen else None
        assert got == expected
