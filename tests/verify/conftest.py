"""Fixtures of the verifier tests: ground-truth pairs on the real logs and the fake VLM server."""
from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "fake_vision_server.py"


def _load_fake():
    spec = importlib.util.spec_from_file_location("fake_vision_server", FAKES)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.FakeVisionServer


FakeVisionServer = _load_fake()


@pytest.fixture
def fake_vision():
    """Factory: ``with fake_vision(rules=..., default=...) as srv``."""
    return FakeVisionServer


def pair_from_frames(log, frames, prompt: str, program: str | None = None):
    """A PairPrediction from official-format frames (track_id = row of the log's uuids)."""
    from scenmine.verify import PairPrediction

    ref: dict[str, list[int]] = {}
    rel: dict[str, list[int]] = {}
    for f in frames:
        for lab, tid in zip(f["label"], f["track_id"]):
            d = ref if lab == 0 else rel if lab == 1 else None
            if d is not None:
                d.setdefault(str(log.uuids[tid]), []).append(int(f["timestamp_ns"]))
    arr = lambda d: {k: np.asarray(v, np.int64) for k, v in d.items()}
    return PairPrediction(log.log_id, log.log_dir, prompt, program, arr(ref), arr(rel))


@pytest.fixture(scope="session")
def gt_pairs(av2_mini):
    """(pairs, ground truth dict) of the two ground-truth prompts of av2_mini."""
    from scenmine.data.logs import load_log

    gt = pickle.loads((av2_mini / "ground_truth" / "combined_gt_dev.pkl").read_bytes())
    pairs = [pair_from_frames(load_log(av2_mini / "logs" / lid), frames, prompt) for (lid, prompt), frames in gt.items()]
    return pairs, gt
