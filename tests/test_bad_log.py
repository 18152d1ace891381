"""A corrupt log fails its own (log, prompt) pair only: the pair is counted and listed as a
failure, scored as an empty prediction, and every other pair is scored as usual."""
from __future__ import annotations

import csv
import os
import shutil

import numpy as np
import pytest

from scenmine import pipeline
from scenmine.data.logs import load_log
from scenmine.data.submission import build_frames, empty_like, load_pkl

BAD_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"


def test_empty_prediction_from_ground_truth_is_a_valid_prediction(av2_mini, real_log):
    """Ground-truth frames (no ``score``) emptied have every key a prediction frame has."""
    gt = load_pkl(av2_mini / "ground_truth" / "combined_gt_dev.pkl")
    frames = empty_like(next(iter(gt.values())))
    wanted = set(build_frames(load_log(real_log), {}, {}, "x")[0])
    for frame in frames:
        assert wanted <= set(frame)
        assert len(frame["score"]) == len(frame["label"]) and np.all(frame["label"] == 2)


@pytest.mark.slow
def test_corrupt_annotations_fail_one_pair_and_the_rest_is_scored(av2_mini, make_cfg, tmp_path):
    data = tmp_path / "av2_mini"
    shutil.copytree(av2_mini, data)
    (data / "logs" / BAD_LOG / "annotations_with_ego.feather").write_bytes(os.urandom(1000))
    cfg = make_cfg(["dataset=av2", f"dataset.logs={data / 'logs'}",
                    f"dataset.ground_truth={data / 'ground_truth' / 'combined_gt_dev.pkl'}",
                    f"tracking.dir={tmp_path / 'mlruns'}", "output.progress=false",
                    "execute.workers=1"])
    result = pipeline.run(cfg, tmp_path / "run")  # was: KeyError 'score' in the evaluator
    m = result.metrics
    assert m["n_pairs"] == 2 and m["n_execution_failed"] == 1
    assert 0 < m["hota_temporal"] < 1 and m["log_ba"] > 0  # the other pair is scored
    with open(tmp_path / "run" / "failures.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["stage"], r["log_id"]) for r in rows] == [("execute", BAD_LOG)]
    assert "annotations_with_ego.feather" in rows[0]["reason"]
    assert set(result.evaluation.per_prompt) == {"stopped car", "vehicle with a bicycle to its right"}
