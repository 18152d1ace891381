"""scenmine.export: validation of both submission forms, files written, the upload command."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from scenmine.data.submission import load_pkl, save_pkl
from scenmine.export import (
    RunSubmission,
    SubmissionError,
    expected_frames,
    export,
    main,
    upload_commands,
    validate_spatiotemporal,
    validate_temporal,
)


@pytest.fixture(scope="module")
def gt_path(mini_root):
    return mini_root / "ground_truth" / "test.pkl"


@pytest.fixture(scope="module")
def gt(gt_path):
    data = load_pkl(gt_path)
    keys = list(data)[:6]
    return {k: data[k] for k in keys}


@pytest.fixture()
def submission(gt):
    """A valid submission: the ground truth frames themselves."""
    return copy.deepcopy(gt)


@pytest.fixture(scope="module")
def expected(gt):
    return {k: np.asarray([f["timestamp_ns"] for f in v], np.int64) for k, v in gt.items()}


def test_valid_submission_passes(submission, expected):
    validate_spatiotemporal(submission, expected)


def test_missing_frame_is_rejected_by_pair_and_frame(submission, expected):
    key = next(iter(submission))
    dropped = submission[key].pop(3)
    with pytest.raises(SubmissionError) as err:
        validate_spatiotemporal(submission, expected)
    message = str(err.value)
    assert repr(key[0]) in message and repr(key[1]) in message
    assert f"missing evaluation frame timestamp_ns={int(dropped['timestamp_ns'])}" in message


def test_missing_pair_and_extra_pair(submission, expected):
    key = next(iter(submission))
    frames = submission.pop(key)
    submission[("not-a-log", "some prompt")] = frames
    with pytest.raises(SubmissionError) as err:
        validate_spatiotemporal(submission, expected)
    assert f"pair ({key[0]!r}, {key[1]!r}): missing" in str(err.value)
    assert "not a pair of the split" in str(err.value)


@pytest.mark.parametrize("field, value, needle", [
    ("label", lambda f: f["label"].astype(np.float32), "dtype"),
    ("translation_m", lambda f: f["translation_m"][:, :2], "shape"),
    ("score", lambda f: f["score"][:-1] if len(f["score"]) else np.zeros(1, np.float32), "rows"),
    ("yaw", lambda f: list(f["yaw"]), "numpy array"),
    ("timestamp_ns", lambda f: float(f["timestamp_ns"]), "must be an int"),
])
def test_bad_types_and_shapes(submission, expected, field, value, needle):
    key = next(k for k, v in submission.items() if len(v[0]["label"]))
    frame = submission[key][0]
    frame[field] = value(frame)
    with pytest.raises(SubmissionError, match=needle):
        validate_spatiotemporal(submission, expected)


def test_frames_out_of_order(submission, expected):
    key = next(iter(submission))
    submission[key][0], submission[key][1] = submission[key][1], submission[key][0]
    with pytest.raises(SubmissionError, match="order"):
        validate_spatiotemporal(submission, expected)


def test_temporal_form(submission, expected):
    from scenmine.data.submission import to_temporal

    temporal = {k: to_temporal(v) for k, v in submission.items()}
    validate_temporal(temporal, expected)
    key = next(iter(temporal))
    temporal[key] = temporal[key][:-1]
    with pytest.raises(SubmissionError, match="missing evaluation frame"):
        validate_temporal(temporal, expected)


def test_export_writes_both_files(submission, expected, tmp_path):
    files = export(RunSubmission("test", submission, None), tmp_path, expected)
    spatio, temporal = load_pkl(files["spatiotemporal"]), load_pkl(files["temporal"])
    assert set(spatio) == set(temporal) == set(expected)
    key = next(iter(expected))
    assert [f["timestamp_ns"] for f in temporal[key]] == expected[key].tolist()
    assert all(set(f) == {"timestamp_ns", "is_positive"} for f in temporal[key])
    assert (tmp_path / "manifest.json").exists()


def test_export_refuses_to_write_an_invalid_submission(submission, expected, tmp_path):
    submission[next(iter(submission))].pop()
    with pytest.raises(SubmissionError):
        export(RunSubmission("test", submission, None), tmp_path / "out", expected)
    assert not (tmp_path / "out" / "spatiotemporal.pkl").exists()


def test_cli_on_a_run_folder(submission, gt_path, tmp_path, capsys):
    run = tmp_path / "run"
    save_pkl(submission, run / "submission.pkl")
    gt = load_pkl(gt_path)
    save_pkl({k: gt[k] for k in submission}, tmp_path / "gt.pkl")
    assert main(["--run", str(run), "--out", str(tmp_path / "out"),
                 "--ground-truth", str(tmp_path / "gt.pkl")]) == 0
    out = capsys.readouterr().out
    assert f"evalai challenge 2469 phase 4899 submit --file {tmp_path / 'out' / 'spatiotemporal.pkl'} --large" in out
    with open(run / "submission.pkl", "rb") as fh:
        broken = pickle.load(fh)
    next(iter(broken.values())).pop(0)
    save_pkl(broken, run / "submission.pkl")
    assert main(["--run", str(run), "--out", str(tmp_path / "out2"),
                 "--ground-truth", str(tmp_path / "gt.pkl")]) == 2
    assert "missing evaluation frame" in capsys.readouterr().err


def test_expected_frames_from_the_dataset_config(mini_root):
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"name": "mini", "split": "test", "seed": 0, "n_logs": 10,
                            "root": str(mini_root), "max_logs": 1, "prompts": None})
    frames = expected_frames(cfg)
    assert frames and all(v.dtype == np.int64 and len(v) for v in frames.values())


def test_upload_command_names_the_phase():
    text = upload_commands({"temporal": "t.pkl"}, 2469, 4899, None)
    assert "evalai challenge 2469 phase <temporal phase id> submit --file t.pkl --large" in text
