"""End to end: the real config composed with hydra.compose, run on the embedded dataset."""
from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from scenmine import pipeline
from scenmine.track import tracking_uri


@pytest.fixture(scope="module")
def mini_run(mini_root, tmp_path_factory, make_cfg):
    """One default run on the embedded test split (rules generator, no screening/review/VLM)."""
    tmp = tmp_path_factory.mktemp("run")
    cfg = make_cfg([f"dataset.root={mini_root.parent}", f"tracking.dir={tmp / 'mlruns'}",
                    "output.progress=false"])
    return cfg, pipeline.run(cfg, tmp / "out")


def test_default_run_scores_and_logs_to_mlflow(mini_run):
    cfg, result = mini_run
    m = result.metrics
    for name in ("hota_temporal", "hota_track", "ts_ba", "log_ba"):
        assert 0.0 <= m[name] <= 1.0
    assert m["n_prompts"] >= 12 and m["n_generation_failed"] == 0
    assert m["n_execution_failed"] == 0
    assert m["hota_temporal"] > 0.5 and m["ts_ba"] > 0.7  # the offline baseline is meaningful
    mlflow.set_tracking_uri(tracking_uri(cfg.tracking))
    run = mlflow.get_run(result.run_id)
    assert run.data.metrics["hota_temporal"] == pytest.approx(m["hota_temporal"])
    assert run.data.params["llm._target_"].endswith("RulesGenerator")
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id)}
    assert {"config.yaml", "programs", "submission.pkl", "per_prompt_metrics.csv",
            "failures.csv", "evaluation"} <= artifacts


def test_submission_has_every_pair_and_frame(mini_run):
    from scenmine.data.submission import load_pkl
    from scenmine.data.synthetic import dataset_name
    cfg, result = mini_run
    sub = load_pkl(result.submission_path)
    gt = load_pkl(Path(cfg.dataset.root) / dataset_name(0) / "ground_truth" / "test.pkl")
    assert set(sub) == set(gt)
    assert all(len(sub[k]) == len(gt[k]) for k in gt)


def test_rerun_in_same_folder_reuses_every_unit(mini_run):
    cfg, first = mini_run
    again = pipeline.run(cfg, first.run_dir)
    assert again.metrics["hota_temporal"] == pytest.approx(first.metrics["hota_temporal"])
    assert again.metrics["units.execute.reused"] == first.metrics["n_pairs"]
    assert again.metrics["units.execute.computed"] == 0


def test_real_logs_with_official_ground_truth(av2_mini, tmp_path, make_cfg):
    cfg = make_cfg(["dataset=av2", f"dataset.logs={av2_mini / 'logs'}",
                    f"dataset.ground_truth={av2_mini / 'ground_truth' / 'combined_gt_dev.pkl'}",
                    f"tracking.dir={tmp_path / 'mlruns'}", "output.progress=false"])
    result = pipeline.run(cfg, tmp_path / "out")
    assert result.metrics["n_pairs"] == 2 and result.metrics["n_execution_failed"] == 0
    assert result.metrics["hota_temporal"] > 0.3


def test_prompts_without_ground_truth_skip_evaluation(av2_mini, tmp_path, make_cfg):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("stopped car\nblorp zoink\n")
    cfg = make_cfg(["dataset=av2", f"dataset.logs={av2_mini / 'logs'}", f"dataset.prompts={prompts}",
                    "dataset.max_logs=1", f"tracking.dir={tmp_path / 'mlruns'}",
                    "output.progress=false"])
    result = pipeline.run(cfg, tmp_path / "out")
    assert result.evaluation is None and "hota_temporal" not in result.metrics
    assert result.metrics["n_generation_failed"] == 1
    assert any(f["stage"] == "generate" and "cannot parse" in f["reason"] for f in result.failures)
    assert result.submission_path.exists()


@pytest.mark.parametrize("overrides,message", [
    (["dataset=av2"], "no value for dataset.logs"),
    (["dataset=av2", "dataset.logs=/no/such/folder", "dataset.prompts=/no/such.txt"],
     "dataset.logs: no such folder"),
    (["execute.wrkers=3"], "execute.wrkers"),
])
def test_configuration_errors_fail_fast_naming_the_key(tmp_path, overrides, message):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "scenmine", *overrides,
                           f"tracking.dir={tmp_path / 'mlruns'}", f"hydra.run.dir={tmp_path / 'run'}"],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert not (tmp_path / "run" / "store").exists()  # failed before any work


def test_geometric_verifier_empties_near_miss_pairs(mini_run, make_cfg, tmp_path):
    """The embedded logs hold near misses; the offline verifier drops them, Log-BA rises."""
    base_cfg, base = mini_run
    cfg = make_cfg([f"dataset.root={base_cfg.dataset.root}", f"tracking.dir={tmp_path / 'mlruns'}",
                    "output.progress=false", "verifier=geometric",
                    f"verifier.cache_dir={tmp_path / 'cache'}"])
    verified = pipeline.run(cfg, tmp_path / "out")
    m = verified.metrics
    assert m["verify.dropped"] > 0 and m["verify.vlm_calls"] == 0
    assert m["n_empty_predictions"] == base.metrics["n_empty_predictions"] + m["verify.dropped"]
    assert m["log_ba"] > base.metrics["log_ba"]
    assert (tmp_path / "out" / "submission_unverified.pkl").exists()
