"""Optuna over cached verifier scores: ``python -m scenmine +exp=tune_verifier``.

Takes a finished run on the validation split (``tune.base_run``: a run folder or an MLflow
run id; none: runs the pipeline once with ``verifier=none`` into a reusable folder under
``tune.storage_dir``), scores its positive pairs with the configured verifier (cached, see
``scenmine.verify``), then searches ``tune.space`` (keys of the verifier config) maximising
``tune.metric`` as the official evaluator computes it. The study lives in SQLite under
``tune.storage_dir`` and resumes; each trial is a nested MLflow run; the best thresholds are
written as a ``# @package _global_`` overlay (``<overlay_dir>/exp/<name>.yaml``).
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from scenmine.config import cfg_dict
from scenmine.hashing import content_hash
from scenmine.verify.base import build_verifier
from scenmine.verify.thresholds import decide, write_scores
from scenmine.verify.tuning import SubsetMetrics

log = logging.getLogger("scenmine")
BASE_KEYS = ("dataset", "llm", "generate", "screening", "reviewer", "execute", "prompts", "seed")


@dataclass
class TuneResult:
    study_name: str
    storage: str
    metric: str
    best_value: float
    baseline_value: float
    best_params: dict
    best_verifier: dict
    n_trials: int
    evaluator_calls: int
    overlay_path: Path | None = None


def set_dotted(d: dict, key: str, value) -> None:
    *head, last = key.split(".")
    for k in head:
        if not isinstance(d.get(k), dict):
            d[k] = {}
        d = d[k]
    d[last] = value


def get_dotted(d: dict, key: str):
    for k in key.split("."):
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def suggest(trial, space: dict) -> dict:
    """Trial values for ``space``: {key: {low, high[, step, log, int]} | {choices: [...]}}."""
    out = {}
    for key, spec in space.items():
        if "choices" in spec:
            out[key] = trial.suggest_categorical(key, list(spec["choices"]))
        elif spec.get("int"):
            out[key] = trial.suggest_int(key, int(spec["low"]), int(spec["high"]), step=int(spec.get("step", 1)))
        else:
            out[key] = trial.suggest_float(key, float(spec["low"]), float(spec["high"]), step=spec.get("step"),
                                           log=bool(spec.get("log", False)))
    return out


def with_params(vcfg: dict, params: dict) -> dict:
    v = copy.deepcopy(vcfg)
    for key, value in params.items():
        set_dotted(v, key, value)
    return v


def _baseline_params(vcfg: dict, space: dict) -> dict:
    """The untuned values of the searched keys, clipped into the space (enqueued as trial 0)."""
    out = {}
    for key, spec in space.items():
        value = get_dotted(vcfg, key)
        if "choices" in spec:
            out[key] = value if value in spec["choices"] else spec["choices"][0]
        else:
            lo, hi = float(spec["low"]), float(spec["high"])
            value = spec.get("default", lo if value is None else min(max(float(value), lo), hi))
            step = spec.get("step")
            out[key] = lo + round((value - lo) / step) * step if step else value
    return out


def tune_scores(predictions: dict, ground_truth: dict, dataset_dir, scores: pd.DataFrame, vcfg: dict, tcfg: dict,
                tracking=None, metrics: SubsetMetrics | None = None) -> TuneResult:
    """Run (or resume) the study over ``scores``; each trial is evaluated by the official evaluator."""
    import optuna

    from scenmine import track

    metric, space = tcfg["metric"], dict(tcfg["space"])
    storage_dir = Path(tcfg["storage_dir"])
    storage_dir.mkdir(parents=True, exist_ok=True)
    name = tcfg["study_name"] or f"{vcfg['name']}-{metric}-" + content_hash(
        [sorted(scores.get("vlm_key", pd.Series(dtype=str)).astype(str)), sorted(map(str, ground_truth)),
         space, vcfg, scores.get("evidence_hash", pd.Series(dtype=str)).tolist()], length=10)
    storage = f"sqlite:///{(storage_dir / 'studies.db').resolve()}"
    sm = metrics or SubsetMetrics(predictions, ground_truth, dataset_dir, scores, int(tcfg["eval_workers"]))
    if tcfg["warmup"] == "subsets":  # else: evaluate the keep-subsets trials ask for
        primary = "vlm_p_yes" if build_verifier(vcfg).uses_vlm and "vlm_p_yes" in scores else "geo_score"
        order = {p: list(g.sort_values(primary, ascending=False).log_id) if primary in g else None
                 for p, g in scores.groupby("prompt")} if len(scores) else {}
        t0 = time.perf_counter()
        sm.ensure({(p, s) for p in sm.prompts for s in sm.subsets(p, order.get(p), int(tcfg["exhaustive_max"]))})
        log.info("tune: %d keep-subsets evaluated in %.1f s", len(sm.table), time.perf_counter() - t0)
    keys = list(zip(scores.get("log_id", []), scores.get("prompt", [])))

    def value_of(v: dict) -> dict:
        return sm.metrics(dict(zip(keys, decide(scores, v)))) if keys else sm.metrics({})

    baseline = value_of(vcfg)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=int(tcfg["seed"]), n_startup_trials=int(tcfg["n_startup_trials"]))
    study = optuna.create_study(study_name=name, storage=storage, direction=tcfg["direction"],
                                sampler=sampler, load_if_exists=True)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not study.trials:
        study.enqueue_trial(_baseline_params(vcfg, space))

    def objective(trial) -> float:
        params = suggest(trial, space)
        v = with_params(vcfg, params)
        m = value_of(v)
        kept = int(decide(scores, v).sum()) if keys else 0
        for k, val in m.items():
            trial.set_user_attr(k, val)
        trial.set_user_attr("n_kept", kept)
        if tracking is not None:
            with track.start_run(tracking, run_name=f"{name}/trial-{trial.number}", nested=True) as t:
                t.log_params({"trial": trial.number, **params})
                t.log_metrics({**m, "n_kept": kept})
        return m[metric]

    total = int(tcfg["n_trials"])
    remaining = max(0, total - len(done))
    log.info("tune: %d of %d trials to run (%d done earlier), %s %s", remaining, total, len(done),
             "maximising" if tcfg["direction"] == "maximize" else "minimising", metric)

    def report(study, trial):
        if trial.value is not None:
            log.info("tune: trial %d/%d %s %.4f (best %.4f)", trial.number + 1, total, metric,
                     trial.value, study.best_value)

    if remaining:
        study.optimize(objective, n_trials=remaining, timeout=tcfg["timeout_s"], callbacks=[report])
    best = study.best_trial
    best_v = with_params(vcfg, best.params)
    return TuneResult(name, storage, metric, float(best.value), float(baseline[metric]), dict(best.params), best_v,
                      len(study.trials), sm.calls)


def write_overlay(result: TuneResult, path: str | Path, note: str = "") -> Path:
    """The best verifier config as an experiment overlay (``+exp=<name>`` once on the search path)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (f"# @package _global_\n# Tuned by scenmine.tune: study {result.study_name} ({result.n_trials} trials), "
            f"{result.metric} {result.best_value:.4f} (untuned {result.baseline_value:.4f}). {note}\n")
    body = {"defaults": [{"override /verifier": result.best_verifier["name"]}], "verifier": result.best_verifier}
    path.write_text(head + yaml.safe_dump(body, sort_keys=False))
    return path


def _base_run_dir(cfg, tcfg: dict, dataset) -> Path:
    """The finished run to tune on: a folder, an MLflow run id, or a pipeline run made here."""
    base = tcfg["base_run"]
    if base and Path(str(base)).is_dir():
        return Path(str(base))
    if base:
        from scenmine import track

        tags = track.client(cfg.tracking).get_run(str(base)).data.tags
        if "run_dir" not in tags:
            raise ValueError(f"tune.base_run: MLflow run {base} has no run_dir tag")
        return Path(tags["run_dir"])
    from scenmine import pipeline

    gt = Path(dataset.ground_truth_path) if dataset.ground_truth_path else None
    stamp = [str(gt), gt.stat().st_size, gt.stat().st_mtime_ns] if gt and gt.exists() else None
    key = content_hash([{k: cfg_dict(cfg[k]) if isinstance(cfg.get(k), DictConfig) else cfg.get(k) for k in BASE_KEYS},
                        stamp, sorted(dataset.logs)], length=12)
    run_dir = Path(tcfg["storage_dir"]) / f"base-{key}"
    if not (run_dir / "submission.pkl").exists():
        base_cfg = copy.deepcopy(cfg)
        OmegaConf.set_struct(base_cfg, False)
        base_cfg.verifier = {"name": "none"}
        base_cfg.pop("tune", None)
        log.info("tune: running the pipeline on the %s split into %s", cfg.dataset.get("split"), run_dir)
        pipeline.run(base_cfg, run_dir)
    return run_dir


def run(cfg: DictConfig, run_dir: str | Path) -> TuneResult:
    """The ``+exp=tune_verifier`` entry: base run -> scores (cached) -> study -> overlay."""
    from scenmine import track
    from scenmine.data.dataset import load_dataset
    from scenmine.data.submission import load_pkl
    from scenmine.verify import score_pairs
    from scenmine.verify.tuning import pairs_from_submission, read_programs

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tcfg, vcfg = cfg_dict(cfg.tune), cfg_dict(cfg.verifier)
    if not build_verifier(vcfg).enabled:
        raise ValueError("tuning needs a verifier: verifier=geometric | vlm | both")
    dataset = load_dataset(cfg.dataset)
    if dataset.ground_truth is None:
        raise ValueError(f"tuning needs ground truth; dataset {dataset.name}/{dataset.split} has none")
    base = _base_run_dir(cfg, tcfg, dataset)
    sub = base / "submission_unverified.pkl"
    if not sub.exists() and (base / "verifier").is_dir():
        raise ValueError(f"tune.base_run {base}: its submission.pkl is already verified and it has no "
                         "submission_unverified.pkl; tune on a run made with verifier=none")
    predictions = load_pkl(sub if sub.exists() else base / "submission.pkl")
    predictions = {k: v for k, v in predictions.items() if k in dataset.ground_truth}
    pairs = pairs_from_submission(predictions, dataset.logs, read_programs(base))
    scores = score_pairs(pairs, cfg)
    if pairs and scores.empty:
        raise ValueError(f"tune.base_run {base}: its positive predictions match no evaluation timestamp of "
                         "the dataset's logs (a run on another version of the data?)")
    paths = write_scores(scores, run_dir)
    with track.start_run(cfg.tracking, run_name=tcfg["run_name"] or "tune-verifier",
                         tags={"scenmine.role": "tune", "base_run_dir": str(base.resolve()),
                               "run_dir": str(run_dir.resolve())}) as tracker:
        tracker.log_params({f"tune.{k}": v for k, v in track.flatten(tcfg).items()})
        tracker.log_params({f"verifier.{k}": v for k, v in track.flatten(vcfg).items()})
        start = time.perf_counter()
        result = tune_scores(predictions, dataset.ground_truth, dataset.logs_dir, scores, vcfg, tcfg,
                             cfg.tracking if tracker.run is not None else None)
        name = tcfg["overlay_name"] or f"tuned_{result.study_name}"
        result.overlay_path = write_overlay(result, Path(tcfg["overlay_dir"]) / "exp" / f"{name}.yaml",
                                            f"Base run: {base}.")
        (run_dir / "best_verifier.yaml").write_text(result.overlay_path.read_text())
        tracker.log_metrics({f"best_{result.metric}": result.best_value, f"untuned_{result.metric}": result.baseline_value,
                             "n_trials": result.n_trials, "evaluator_calls": result.evaluator_calls,
                             "vlm_calls": scores.attrs.get("vlm_calls", 0), "tune_seconds": time.perf_counter() - start})
        tracker.set_tags({"study": result.study_name, "storage": result.storage, "overlay": str(result.overlay_path)})
        for path in [*paths, run_dir / "best_verifier.yaml"]:
            tracker.log_artifact(path)
    log.info("tune: best %s %.4f (untuned %.4f) after %d trials (%d official evaluator calls); overlay %s",
             result.metric, result.best_value, result.baseline_value, result.n_trials, result.evaluator_calls,
             result.overlay_path)
    return result


def describe(result: TuneResult) -> str:
    """What a tuning run found, and the command that uses its overlay."""
    return (f"best {result.metric} {result.best_value:.4f} (untuned {result.baseline_value:.4f}), "
            f"{result.n_trials} trials; overlay {result.overlay_path}\n"
            f"use it: python -m scenmine --config-dir {result.overlay_path.parent.parent} "
            f"+exp={result.overlay_path.stem} dataset.split=test")
