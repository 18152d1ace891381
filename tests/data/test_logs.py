"""The log loader on real logs: shapes, frames, the synthesized ego, and bad input."""
import numpy as np
import pandas as pd
import pytest

from scenmine.data.logs import EGO_UUID, LogLoadError, load_log, quat_to_rotation, rotation_yaw
from scenmine.data.submission import load_pkl


def test_quaternion_yaw_round_trip():
    yaw = np.array([0.0, 0.5, -2.0, np.pi / 2])
    q = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], -1)
    assert np.allclose(rotation_yaw(quat_to_rotation(q)), yaw)


def test_real_log_arrays_match_official_ground_truth(av2_mini):
    """City-frame positions, yaw and sizes agree with the official ground-truth frames."""
    gt = load_pkl(av2_mini / "ground_truth" / "combined_gt_dev.pkl")
    for (log_id, _), frames in gt.items():
        log = load_log(av2_mini / "logs" / log_id)
        assert log.valid.shape == (len(log.uuids), len(log.timestamps))
        assert len(log.eval_timestamps) == len(frames) == 32
        for frame in frames[::7]:
            j = log.time_index[int(frame["timestamp_ns"])]
            rows = frame["track_id"]
            assert np.allclose(log.translation_city[rows, j], frame["translation_m"], atol=1e-3)
            assert np.allclose(log.size[rows, j], frame["size"], atol=1e-4)
            dyaw = np.angle(np.exp(1j * (log.yaw_city[rows, j] - frame["yaw"])))
            assert np.abs(dyaw).max() < 5e-3  # float32 yaw in the official files


def test_ego_track_synthesized_when_annotations_lack_it(av2_mini):
    log = load_log(av2_mini / "logs" / "adcf7d18-0510-35b0-a2fa-b4cea13a6d76")
    assert log.uuids[-1] == EGO_UUID and log.categories[-1] == "EGO_VEHICLE"
    assert log.valid[-1].all()
    assert np.allclose(log.translation_city[-1], log.ego_translation)
    assert not log.has_ego_annotations


def test_missing_and_corrupt_logs_fail_with_reason(tmp_path, real_log):
    with pytest.raises(LogLoadError, match="not a directory"):
        load_log(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogLoadError, match="no annotations file"):
        load_log(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "annotations.feather").write_bytes(b"not a feather file")
    with pytest.raises(LogLoadError, match="cannot read annotations.feather"):
        load_log(bad)
    cols = tmp_path / "cols"
    cols.mkdir()
    table = pd.read_feather(real_log / "annotations_with_ego.feather")
    table.drop(columns=["qz"]).to_feather(cols / "annotations.feather")
    with pytest.raises(LogLoadError, match="lacks columns"):
        load_log(cols)
    nan = tmp_path / "nan"
    nan.mkdir()
    table.loc[3, "tx_m"] = np.nan
    table.to_feather(nan / "annotations.feather")
    with pytest.raises(LogLoadError, match="NaN"):
        load_log(nan)


def test_log_without_map_fails_on_map_access(tmp_path, real_log):
    import shutil
    copy = tmp_path / real_log.name
    copy.mkdir()
    for name in ("annotations_with_ego.feather", "city_SE3_egovehicle.feather"):
        shutil.copy(real_log / name, copy / name)
    log = load_log(copy)
    with pytest.raises(LogLoadError, match="no vector map"):
        _ = log.map
