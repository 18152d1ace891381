"""The RefAV benchmark end to end on a miniature download: val scores, test submission, export."""
from __future__ import annotations

import json

import pytest

from scenmine import export, pipeline, track
from scenmine.data.submission import load_pkl


def run_cfg(make_cfg, tmp_path, overrides):
    return make_cfg([*overrides, f"tracking.dir={tmp_path / 'mlruns'}", "output.progress=false",
                     "execute.workers=2"])


@pytest.mark.slow  # two pipeline runs with the official evaluator
def test_val_run_scores_as_dataset_av2_with_the_official_ground_truth(refav_download, av2_mini,
                                                                        tmp_path, make_cfg):
    tracker = f"{refav_download.tracker_val}"
    refav = pipeline.run(run_cfg(make_cfg, tmp_path, [
        "dataset=refav", "dataset.split=val", f"dataset.sm_root={refav_download.sm_root}",
        f"dataset.av2_root={refav_download.av2_root}", f"dataset.tracker={tracker}",
        f"dataset.cache={tmp_path / 'cache'}"]), tmp_path / "refav")
    av2 = pipeline.run(run_cfg(make_cfg, tmp_path, [
        "dataset=av2", f"dataset.logs={av2_mini / 'logs'}", f"dataset.tracks={tracker}",
        f"dataset.ground_truth={refav_download.ground_truth}"]), tmp_path / "av2")
    names = ("hota_temporal", "hota_track", "ts_ba", "log_ba")
    assert refav.metrics["evaluated"] == 1 and refav.metrics["n_execution_failed"] == 0
    assert {k: refav.metrics[k] for k in names} == pytest.approx({k: av2.metrics[k] for k in names},
                                                                 abs=1e-9, rel=0)
    assert 0 < refav.metrics["hota_temporal"] < 1


def test_test_split_run_answers_exactly_the_listed_pairs_and_exports(refav_download, tmp_path,
                                                                     make_cfg, capsys):
    cfg = run_cfg(make_cfg, tmp_path, [
        "dataset=refav", "dataset.split=test", f"dataset.sm_root={refav_download.sm_root}",
        f"dataset.av2_root={refav_download.av2_root}",
        f"dataset.tracker={refav_download.tracker_test}", f"dataset.cache={tmp_path / 'cache'}"])
    result = pipeline.run(cfg, tmp_path / "test")
    listed = json.loads((refav_download.sm_root / "log_prompt_pairs_test.json").read_text())
    pairs = [(log_id, p) for log_id, prompts in listed.items() for p in prompts]
    submission = load_pkl(result.submission_path)
    assert list(submission) == pairs and result.metrics["n_execution_failed"] == 0
    assert result.evaluation is None and result.metrics["evaluated"] == 0
    run = track.client(cfg.tracking).get_run(result.run_id)
    assert run.data.tags["evaluation"].startswith("not evaluated") and "hota_temporal" not in run.data.metrics
    # tracker scores reach the submission (graded; 1.0 only for the synthesized ego track)
    scores = {float(s) for frames in submission.values() for f in frames for s in f["score"]}
    assert len({s for s in scores if s < 1.0}) > 100
    out = tmp_path / "challenge"
    assert export.main(["--run", result.run_id, "--out", str(out),
                        "--tracking-dir", str(tmp_path / "mlruns")]) == 0
    assert set(load_pkl(out / "spatiotemporal.pkl")) == set(pairs) == set(load_pkl(out / "temporal.pkl"))
    assert "validated 4 pairs (128 evaluation frames)" in capsys.readouterr().out


def test_export_refuses_a_test_submission_missing_a_listed_log(refav_download, tmp_path, make_cfg):
    sm = tmp_path / "sm"
    sm.mkdir()
    listed = json.loads((refav_download.sm_root / "log_prompt_pairs_test.json").read_text())
    listed["00000000-0000-0000-0000-000000000000"] = ["stopped car"]
    (sm / "log_prompt_pairs_test.json").write_text(json.dumps(listed))
    cfg = run_cfg(make_cfg, tmp_path, [
        "dataset=refav", "dataset.split=test", f"dataset.sm_root={sm}",
        f"dataset.av2_root={refav_download.av2_root}", f"dataset.tracker={refav_download.tracker_test}"])
    with pytest.raises(ValueError, match=r"1 pairs of the split cannot be answered, .*log not found"):
        export.expected_frames(cfg.dataset)
