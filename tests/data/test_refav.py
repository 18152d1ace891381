"""dataset=refav: pairs, ground truth built from the annotations feather, sensor root, tracker."""
from __future__ import annotations

import itertools
import json
import pickle
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pytest
from omegaconf import OmegaConf

from scenmine.data import mining_truth, refav
from scenmine.data.dataset import DatasetError, load_dataset
from scenmine.evaluate import evaluate


def refav_cfg(download, tmp_path, **over):
    cfg = {"_target_": "scenmine.data.refav.load_refav", "name": "refav", "split": "val",
           "sm_root": str(download.sm_root), "av2_root": str(download.av2_root), "tracker": None,
           "max_logs": None, "cache": str(tmp_path / "cache"), "progress": False}
    return OmegaConf.create({**cfg, **over})


def copy_sm(download, tmp_path):
    """A writable copy of the scenario-mining download."""
    sm = tmp_path / "sm"
    shutil.copytree(download.sm_root, sm)
    return sm


def assert_same_frames(built: dict, official: dict) -> None:
    assert list(built) == list(official)
    for pair, frames in official.items():
        assert len(built[pair]) == len(frames)
        for mine, theirs in zip(built[pair], frames):
            assert list(mine) == list(theirs)
            for key, value in theirs.items():
                if isinstance(value, np.ndarray):
                    assert mine[key].dtype == value.dtype and mine[key].shape == value.shape, key
                    np.testing.assert_allclose(mine[key], value, rtol=0, atol=1e-6, err_msg=key) \
                        if value.dtype.kind == "f" else np.testing.assert_array_equal(mine[key], value)
                elif key == "ego_translation_m":
                    np.testing.assert_allclose(mine[key], value, rtol=0, atol=1e-6)
                else:
                    assert mine[key] == value and type(mine[key]) is type(value), key


@pytest.mark.slow  # two runs of the official evaluator
def test_built_ground_truth_is_the_official_one_and_scores_identically(refav_download, tmp_path):
    dataset = load_dataset(refav_cfg(refav_download, tmp_path))
    official = pickle.loads(refav_download.ground_truth.read_bytes())
    assert dataset.pairs == list(official) and not dataset.failed_pairs
    assert_same_frames(dataset.ground_truth, official)
    predictions = pickle.loads((refav_download.ground_truth.parent
                                / "combined_predictions_dev.pkl").read_bytes())
    logs = refav_download.av2_root / "val"
    ours = evaluate(predictions, dataset.ground_truth, logs).metrics
    theirs = evaluate(predictions, official, logs).metrics
    assert ours == pytest.approx(theirs, abs=1e-9, rel=0)
    assert dataset.logs_dir == logs and dataset.tracks is None


def test_conversion_does_not_depend_on_row_grouping(refav_download, tmp_path):
    """Logs interleaved across record batches convert to the same frames as grouped ones."""
    source = refav_download.sm_root / "scenario_mining_val_annotations.feather"
    table = feather.read_table(source)
    per_log = []  # each log's rows in their order, in blocks; then the two logs' blocks alternate
    for log_id in dict.fromkeys(table.column("log_id").to_pylist()):
        rows = table.filter(pc.equal(table.column("log_id"), log_id))
        per_log.append([rows.slice(i, 1500) for i in range(0, len(rows), 1500)])
    mixed = [b for blocks in itertools.zip_longest(*per_log) for b in blocks if b is not None]
    shuffled = tmp_path / "mixed.feather"
    feather.write_feather(pa.concat_tables(mixed), shuffled, chunksize=1500)
    where = mining_truth.batches_by_log(shuffled)
    first, second = where.values()
    assert min(second) < max(first)  # the logs' rows alternate between batches
    logs = {log_id: refav_download.av2_root / "val" / log_id for log_id in where}
    built = {}
    problems = mining_truth.convert(shuffled, logs, lambda t: built.update(
        {(t.log_id, p): f for p, f in t.frames.items()}), progress=False)
    assert not problems
    official = pickle.loads(refav_download.ground_truth.read_bytes())
    assert_same_frames({k: built[k] for k in official}, official)


def test_ground_truth_is_cached_by_file_content(refav_download, tmp_path, monkeypatch):
    cfg = refav_cfg(refav_download, tmp_path, sm_root=str(copy_sm(refav_download, tmp_path)))
    first = load_dataset(cfg).ground_truth
    refav._LOADED.clear()
    monkeypatch.setattr(refav, "convert", lambda *a, **k: pytest.fail("converted again"))
    assert load_dataset(cfg).ground_truth.keys() == first.keys()
    # new content (one pair's labels changed): converted again, with the new labels
    refav._LOADED.clear()
    path = tmp_path / "sm" / "scenario_mining_val_annotations.feather"
    table = feather.read_table(path)
    category = pa.array(["OTHER_OBJECT"] * len(table))
    feather.write_feather(table.set_column(table.schema.get_field_index("mining_category"),
                                           "mining_category", category), path)
    calls = []
    monkeypatch.setattr(refav, "convert", lambda *a, **k: calls.append(1) or mining_truth.convert(*a, **k))
    rebuilt = load_dataset(cfg).ground_truth
    assert calls and all((f["label"] == 2).all() for frames in rebuilt.values() for f in frames)


def test_missing_logs_and_missing_truth_fail_one_pair_each(refav_download, tmp_path):
    sm = copy_sm(refav_download, tmp_path)
    pairs = json.loads((sm / "log_prompt_pairs_val.json").read_text())
    first_log = next(iter(pairs))
    pairs[first_log].append("a prompt the annotations never saw")
    pairs["00000000-0000-0000-0000-000000000000"] = ["stopped car"]
    (sm / "log_prompt_pairs_val.json").write_text(json.dumps(pairs))
    dataset = load_dataset(refav_cfg(refav_download, tmp_path, sm_root=str(sm)))
    assert len(dataset.pairs) == 2 and dataset.ground_truth.keys() == set(dataset.pairs)
    reasons = dataset.failed_pairs
    assert reasons[("00000000-0000-0000-0000-000000000000", "stopped car")].startswith("log not found")
    assert reasons[(first_log, "a prompt the annotations never saw")].startswith(
        "no ground truth: no rows for this prompt in scenario_mining_val_annotations.feather")


def test_truncated_feather_is_a_one_line_error(refav_download, tmp_path):
    sm = copy_sm(refav_download, tmp_path)
    path = sm / "scenario_mining_val_annotations.feather"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match=r"dataset.sm_root: .*truncated or corrupt") as err:
        load_dataset(refav_cfg(refav_download, tmp_path, sm_root=str(sm)))
    assert "\n" not in str(err.value)


def test_sensor_root_one_level_off_is_corrected_or_refused(refav_download, tmp_path):
    root = refav_download.av2_root
    corrected = {root / "val": root / "val", root.parent: root / "val"}  # too low, too high
    for given, want in corrected.items():
        refav._LOADED.clear()
        assert load_dataset(refav_cfg(refav_download, tmp_path, av2_root=str(given))).logs_dir == want
    refused = {root / "val" / "3bffdcff-c3a7-38b6-a0f2-64196d130958":
               "is a single log folder", tmp_path / "nowhere": "no such folder",
               tmp_path: "has no val/ folder"}
    for given, reason in refused.items():
        with pytest.raises(DatasetError, match=f"dataset.av2_root: .*{reason}.*holding train/ val/ test/"):
            load_dataset(refav_cfg(refav_download, tmp_path, av2_root=str(given)))
    with pytest.raises(DatasetError, match="is the val split but dataset.split=test"):
        load_dataset(refav_cfg(refav_download, tmp_path, split="test", av2_root=str(root / "val"),
                               tracker=str(refav_download.tracker_test)))


def test_test_split_needs_a_tracker_and_lists_exactly_its_pairs(refav_download, tmp_path):
    with pytest.raises(DatasetError, match=r"^dataset.tracker: .*dataset.tracker=<tracker>_test.pkl$"):
        load_dataset(refav_cfg(refav_download, tmp_path, split="test"))
    dataset = load_dataset(refav_cfg(refav_download, tmp_path, split="test",
                                     tracker=str(refav_download.tracker_test)))
    listed = json.loads((refav_download.sm_root / "log_prompt_pairs_test.json").read_text())
    assert dataset.pairs == [(k, p) for k, prompts in listed.items() for p in prompts]
    assert dataset.ground_truth is None and dataset.tracks == refav_download.tracker_test
