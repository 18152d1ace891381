"""Optuna tuning of the verifier thresholds over cached scores, on the real av2_mini logs."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

PROMPT = "vehicle with a bicycle to its right"
POS_LOG, NEG_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6", "3bffdcff-c3a7-38b6-a0f2-64196d130958"


@pytest.fixture(scope="module")
def tune_data(tmp_path_factory):
    """One prompt on two logs: a true positive, and a false positive made of a 1 s track."""
    from scenmine.data.logs import load_log
    from scenmine.data.submission import build_frames, save_pkl

    av2 = Path(__file__).resolve().parents[1].parent / "shared" / "av2_mini"
    if not (av2 / "logs").is_dir():
        pytest.skip(f"real logs not found at {av2}")
    gt_all = pickle.loads((av2 / "ground_truth" / "combined_gt_dev.pkl").read_bytes())
    neg = load_log(av2 / "logs" / NEG_LOG)
    gt = {(POS_LOG, PROMPT): gt_all[(POS_LOG, PROMPT)], (NEG_LOG, PROMPT): build_frames(neg, {}, {}, PROMPT)}
    j = neg.eval_timestamps[10:12]
    short = next(str(u) for i, u in enumerate(neg.uuids)
               if neg.valid[i, np.searchsorted(neg.timestamps, j)].all()
               and np.linalg.norm(neg.translation_ego[i, np.searchsorted(neg.timestamps, j[0]), :2]) < 40)
    tp = [{**f, "score": np.ones(len(f["label"]), np.float32)} for f in gt[(POS_LOG, PROMPT)]]
    preds = {(POS_LOG, PROMPT): tp, (NEG_LOG, PROMPT): build_frames(neg, {short: j}, {}, PROMPT)}
    root = tmp_path_factory.mktemp("tune")
    save_pkl(gt, root / "gt.pkl")
    (root / "base").mkdir()
    save_pkl(preds, root / "base" / "submission.pkl")
    return {"root": root, "gt": gt, "preds": preds, "logs": av2 / "logs"}


def _scores(d):
    from scenmine.verify import score_pairs
    from scenmine.verify.tuning import pairs_from_submission

    logs = {p.name: p for p in Path(d["logs"]).iterdir()}
    vcfg = {"name": "geometric", "geometric": {"threshold": 0.0}, "cache_dir": str(d["root"] / "cache")}
    return score_pairs(pairs_from_submission(d["preds"], logs), {"verifier": vcfg}), vcfg


@pytest.fixture(scope="module")
def subset_metrics(tune_data):
    from scenmine.verify.tuning import SubsetMetrics

    return SubsetMetrics(tune_data["preds"], tune_data["gt"], tune_data["logs"], _scores(tune_data)[0])


def _tcfg(d, **kw):
    import yaml
    defaults = yaml.safe_load((Path(__file__).resolve().parents[1] / "conf" / "tune" / "geometric.yaml").read_text())
    return {**defaults, "metric": "hota_temporal", "n_trials": 40, "seed": 3, "n_startup_trials": 10,
            "storage_dir": str(d["root"] / "studies"),
            "space": {"geometric.threshold": {"low": 0.0, "high": 1.0},
                      "geometric.min_persistence_s": {"low": 0.0, "high": 3.0, "step": 0.5}}, **kw}


def test_tuning_improves_reproducible_and_resumes(tune_data, subset_metrics):
    from scenmine.tune import tune_scores

    d, sm = tune_data, subset_metrics
    scores, vcfg = _scores(d)
    assert sorted(scores.log_id) == sorted([POS_LOG, NEG_LOG])
    a = tune_scores(d["preds"], d["gt"], d["logs"], scores, vcfg, _tcfg(d, study_name="a"), metrics=sm)
    calls = sm.calls
    assert a.n_trials == 40 and a.best_value > a.baseline_value
    assert a.best_verifier["geometric"]["min_persistence_s"] > 1.0  # the 1 s false positive goes
    assert calls <= 4  # two scored pairs: at most 4 keep-subsets ever evaluated, then lookups
    b = tune_scores(d["preds"], d["gt"], d["logs"], scores, vcfg, _tcfg(d, study_name="b"), metrics=sm)
    assert (b.best_value, b.best_params) == (a.best_value, a.best_params)  # same seed, same study
    c = tune_scores(d["preds"], d["gt"], d["logs"], scores, vcfg, _tcfg(d, study_name="a", n_trials=55), metrics=sm)
    assert c.n_trials == 55 and c.best_value >= a.best_value          # resumed from SQLite


def test_subset_metrics_equal_direct_evaluation(tune_data, subset_metrics):
    from scenmine.data.submission import empty_like
    from scenmine.evaluate import evaluate

    d, sm = tune_data, subset_metrics
    keep = {(NEG_LOG, PROMPT): False}
    direct = evaluate({k: empty_like(v) if not keep.get(k, True) else v for k, v in d["preds"].items()},
                      d["gt"], d["logs"]).metrics
    assert sm.metrics(keep) == pytest.approx(direct, abs=1e-12)


def test_run_writes_overlay_and_nested_mlflow_runs(tune_data, tmp_path, monkeypatch):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from scenmine import track, tune

    d = tune_data
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    conf = Path(__file__).resolve().parents[1] / "conf"
    over = ["dataset=av2", f"dataset.logs={d['logs']}", f"dataset.ground_truth={d['root'] / 'gt.pkl'}",
            f"tune.base_run={d['root'] / 'base'}", f"tune.storage_dir={tmp_path / 'tune'}",
            f"tune.overlay_dir={tmp_path / 'tuned'}", "tune.n_trials=12", f"tracking.dir={tmp_path / 'mlruns'}",
            f"verifier.cache_dir={tmp_path / 'cache'}", "verifier.geometric.threshold=0.0"]
    with initialize_config_dir(str(conf), version_base=None):
        cfg = compose("config", overrides=["exp=tune_verifier", *over])
    result = tune.run(cfg, tmp_path / "run")
    assert result.n_trials == 12 and result.best_value >= result.baseline_value
    assert (tmp_path / "run" / "verifier_scores.csv").exists()
    runs = track.client(cfg.tracking).search_runs([track.client(cfg.tracking).get_experiment_by_name(
        cfg.tracking.experiment).experiment_id])
    assert sum("mlflow.parentRunId" in r.data.tags for r in runs) == 12
    with initialize_config_dir(str(conf), version_base=None):
        tuned = compose("config", overrides=[f"hydra.searchpath=[file://{tmp_path / 'tuned'}]",
                                             f"exp={result.overlay_path.stem}"])
    assert OmegaConf.to_container(tuned.verifier, resolve=True) == result.best_verifier
