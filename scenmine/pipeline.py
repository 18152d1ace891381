"""The stages wired together: generate -> (screen) -> (review) -> execute -> (verify) -> evaluate.

Each stage reads and writes plain records; every finished unit is written to the run's
store as it completes, so an interrupted run resumes where it stopped. A failure of one
prompt or one (log, prompt) pair is recorded with its reason and the run goes on.
"""
from __future__ import annotations

import contextlib
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from scenmine import review, screen, track
from scenmine.data.dataset import Dataset, ground_truth_problems, load_dataset
from scenmine.data.logs import LogLoadError, load_log
from scenmine.data.submission import build_frames, save_pkl
from scenmine.evaluate import Evaluation, evaluate
from scenmine.execute.runner import (
    ExecResult,
    Task,
    execute_tasks,
    share_arrays,
    wait_interruptibly,
)
from scenmine.generate.accounting import transcripts_json, usage_summary
from scenmine.generate.backends.base import BackendError
from scenmine.generate.base import Generation
from scenmine.store import Store, content_hash

log = logging.getLogger("scenmine")
ENGINE_VERSION = "1"
MAX_FAILURES_LOGGED = 20


@dataclass
class RunResult:
    """What a pipeline run produced (also logged to MLflow)."""

    run_dir: Path
    metrics: dict[str, float]
    programs: dict[str, Generation]
    executions: dict[tuple[str, str], ExecResult]
    failures: list[dict] = field(default_factory=list)
    evaluation: Evaluation | None = None
    run_id: str | None = None
    submission_path: Path | None = None


class StageTimer:
    """Wall seconds per stage, as ``seconds.<stage>`` metrics."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[f"seconds.{stage}"] = time.perf_counter() - start
            log.info("%s done in %.1f s", stage, self.seconds[f"seconds.{stage}"])


def _cfg_dict(node) -> dict:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)


class ConfigError(ValueError):
    """A configuration problem, found before any work starts; the message names the key."""


def check_config(cfg) -> None:
    """Fail fast on settings that would only break later (execution options, resume folder)."""
    ex = cfg.execute
    backend = ex.get("backend", "local")
    if backend not in ("local", "ray"):
        raise ConfigError(f"execute.backend: unknown backend {backend!r} (one of: local, ray)")
    if backend == "ray":
        from scenmine.execute import ray_backend
        if not ray_backend.available():
            raise ConfigError("execute.backend=ray needs the ray package: pip install 'scenmine[ray]' "
                              "(or set execute.backend=local)")
    workers = ex.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"execute.workers: {workers!r} is not a number of processes >= 1 "
                          "(null: one per core)")
    for key, low in (("timeout_s", 0), ("memory_mb", -1)):
        value = ex.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= low:
            raise ConfigError(f"execute.{key}: {value!r} is not a positive number")
    resume = cfg.get("resume")
    if resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume: no such run folder {resume}")
        if not (Path(resume) / "store").is_dir():
            raise ConfigError(f"resume: {resume} holds no store/ folder (not a scenmine run folder)")


def training_logs(cfg) -> list[Path]:
    """Training-split log folders for dry runs and execution feedback (may be empty)."""
    if cfg.dataset.name == "mini":
        split_cfg = OmegaConf.merge(cfg.dataset, {"split": "train"})
        return list(load_dataset(split_cfg).logs.values())
    folder = cfg.dataset.get("train_logs")
    return sorted(p for p in Path(folder).iterdir() if p.is_dir()) if folder else []


def build_generator(cfg, logs: list[Path] | None = None):
    """The configured code generator (``llm`` + ``generate`` + ``prompts`` groups)."""
    from scenmine.generate import build_generator as build
    return build(cfg, logs=training_logs(cfg) if logs is None else logs)


def generate_programs(cfg, prompts: list[str], store: Store, failures: list[dict],
                      library=None) -> dict[str, Generation]:
    """Stage 1: one program per prompt, reused from the store when already generated."""
    generator = build_generator(cfg)
    k = int(cfg.generate.fewshot.k) if library is not None else 0
    examples = {p: (library.retrieve(p, k) if k else []) for p in prompts}
    settings = (_cfg_dict(cfg.llm), _cfg_dict(cfg.generate))

    def key(prompt: str) -> str:
        shots = [(e.prompt, e.program) for e in examples[prompt]]
        return content_hash("generate", prompt, settings, shots)

    results: dict[str, Generation] = {}
    todo = []
    for prompt in prompts:
        cached = store.get("generate", key(prompt))
        if cached is not None:
            results[prompt] = cached
        else:
            todo.append(prompt)

    def one(prompt: str) -> Generation:
        start = time.perf_counter()
        try:
            gen = generator.generate(prompt, examples[prompt])
        except BackendError as exc:
            if exc.fatal:  # a configuration problem (unreachable server, bad key): stop now
                raise
            gen = Generation(prompt, None, error=f"backend: {exc}", reason=exc.reason)
        except Exception as exc:  # a backend failure fails only this prompt
            gen = Generation(prompt, None, error=f"backend: {type(exc).__name__}: {exc}")
        gen.usage.setdefault("seconds", time.perf_counter() - start)
        store.put("generate", key(prompt), gen)
        return gen

    workers = max(1, int(cfg.generate.get("concurrency", 1)))
    pool = ThreadPoolExecutor(workers)
    try:
        with tqdm(total=len(todo), desc="generate", unit="prompt",
                  disable=not cfg.output.progress or not todo) as bar:
            for future in wait_interruptibly([pool.submit(one, prompt) for prompt in todo]):
                gen = future.result()
                results[gen.prompt] = gen
                bar.update(1)
    except BaseException:  # Ctrl-C or a fatal backend error: drop the prompts not yet started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)  # calls in flight finish and are stored
    for prompt in prompts:
        if not results[prompt].ok:
            failures.append({"stage": "generate", "log_id": "", "prompt": prompt,
                             "reason": results[prompt].error})
    return results


def _execution_key(program: str, log_dir: Path, post: dict) -> str:
    files = sorted(p for p in log_dir.glob("*.feather"))
    fingerprint = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return content_hash("execute", ENGINE_VERSION, program, log_dir.name, fingerprint, post)


def execute_pairs(cfg, dataset: Dataset, programs: dict[str, Generation], store: Store,
                  failures: list[dict]) -> dict[tuple[str, str], ExecResult]:
    """Stage 4: run each prompt's program on each of its logs (sandboxed, in parallel)."""
    post = _cfg_dict(cfg.execute.post)
    if cfg.dataset.get("tracks"):  # tracker predictions replace the annotations
        post["tracks"] = str(Path(cfg.dataset.tracks).resolve())
    results: dict[tuple[str, str], ExecResult] = {}
    tasks, keys = [], {}
    frame_pool: dict = {}  # identical frame arrays of all pairs, kept once (share_arrays)
    for log_id, prompt in dataset.pairs:
        gen = programs.get(prompt)
        if gen is None or not gen.ok:
            continue
        log_dir = dataset.logs.get(log_id)
        if log_dir is None:
            failures.append({"stage": "execute", "log_id": log_id, "prompt": prompt,
                             "reason": "log: not found in dataset.logs"})
            continue
        key = _execution_key(gen.program, log_dir, post)
        cached = store.get("execute", key)
        if cached is not None:
            share_arrays(cached.frames, frame_pool)
            results[(log_id, prompt)] = cached
            continue
        task_key = f"{log_id}|{prompt}"
        keys[task_key] = (key, (log_id, prompt))
        tasks.append(Task(task_key, log_dir, gen.program, prompt))

    def persist(result: ExecResult) -> None:
        key, pair = keys[result.key]
        if not result.error or not result.error.startswith(("timeout", "crash")):
            store.put("execute", key, result)
        results[pair] = result

    execute_tasks(tasks, workers=cfg.execute.get("workers"), timeout_s=float(cfg.execute.timeout_s),
                  memory_mb=int(cfg.execute.memory_mb), post_options=post, on_result=persist,
                  progress=bool(cfg.output.progress), backend=cfg.execute.get("backend", "local"),
                  backend_options=_cfg_dict(cfg.execute.get("ray") or {}), frame_pool=frame_pool)
    for (log_id, prompt), result in sorted(results.items()):
        if not result.ok:
            failures.append({"stage": "execute", "log_id": log_id, "prompt": prompt,
                             "reason": result.error})
    return results


def _empty_prediction(dataset: Dataset, log_id: str, prompt: str) -> list[dict] | None:
    """Frames with no referred object, from the log or else from the ground-truth frames."""
    try:
        return build_frames(load_log(dataset.logs[log_id]), {}, {}, prompt)
    except (KeyError, LogLoadError):
        if dataset.ground_truth and (log_id, prompt) in dataset.ground_truth:
            return [{**f, "label": np.full(len(f["label"]), 2, np.int32),
                     "name": np.full(len(f["label"]), "OTHER_OBJECT", "<U31")}
                    for f in dataset.ground_truth[(log_id, prompt)]]
    return None


def assemble_submission(dataset: Dataset, executions: dict) -> dict:
    """The official submission: every pair present, failed pairs as empty predictions."""
    submission = {}
    for log_id, prompt in dataset.pairs:
        result = executions.get((log_id, prompt))
        frames = result.frames if result is not None and result.frames else None
        frames = frames or _empty_prediction(dataset, log_id, prompt)
        if frames is not None:
            submission[(log_id, prompt)] = frames
        else:  # no log to build frames from and no ground truth to copy them from
            log.warning("pair (%s, %r) is left out of the submission: its log cannot be read "
                        "and there is no ground truth for it", log_id, prompt)
    return submission


def _evaluator_log_problem(logs_dir: Path, log_id: str) -> str | None:
    """Why the official evaluator could not read a log's map and poses (it needs both to
    prune objects outside the region of interest, and one missing log stops it), or None."""
    log_dir = Path(logs_dir) / log_id
    if not log_dir.is_dir():
        return f"log not found: no folder {log_dir} for the evaluator's map and poses"
    if not any((log_dir / "map").glob("log_map_archive_*.json")) or \
            not any((log_dir / "map").glob("*_ground_height_surface____*.npy")):
        return "no map: the evaluator needs the log's vector map and ground-height raster"
    if not (log_dir / "city_SE3_egovehicle.feather").is_file():
        return "no poses: the evaluator needs the log's city_SE3_egovehicle.feather"
    return None


def exclude_unscorable_truth(dataset: Dataset, submission: dict, failures: list[dict]) -> None:
    """Ground-truth pairs that cannot be scored (no frames, missing frames or keys, a log
    the evaluator cannot read) are recorded as failures and left out of the evaluation;
    the rest is scored as usual."""
    if not dataset.ground_truth:
        return
    problems = ground_truth_problems(dataset.ground_truth, submission)
    for (log_id, prompt), reason in problems.items():
        failures.append({"stage": "ground_truth", "log_id": log_id, "prompt": prompt,
                         "reason": f"{reason}; left out of the evaluation"})
    unreadable = {log_id: _evaluator_log_problem(dataset.logs_dir, log_id)
                  for log_id in {k[0] for k in dataset.ground_truth}}
    for (log_id, prompt) in dataset.ground_truth:
        if unreadable[log_id] and (log_id, prompt) not in problems:
            problems[(log_id, prompt)] = unreadable[log_id]
            failures.append({"stage": "evaluate", "log_id": log_id, "prompt": prompt,
                             "reason": f"{unreadable[log_id]}; left out of the evaluation"})
    if problems:
        kept = {k: v for k, v in dataset.ground_truth.items() if k not in problems}
        dataset.ground_truth = kept or None


def verify_submission(cfg, dataset: Dataset, programs: dict, executions: dict, submission: dict,
                      run_dir: Path, tracker) -> tuple[dict, dict]:
    """Stage 5: score positive pairs (VLM and/or track evidence); empty the ones that fail."""
    if cfg.verifier.name == "none":
        return submission, {}
    save_pkl(submission, run_dir / "submission_unverified.pkl")  # what tuning starts from
    from scenmine.verify import PairPrediction, apply_thresholds, decide, score_pairs, write_scores
    from scenmine.verify.verifier import split_cfg

    pairs = [PairPrediction(log_id, dataset.logs[log_id], prompt, programs[prompt].program,
                            result.referred, result.related)
             for (log_id, prompt), result in sorted(executions.items()) if result.ok and result.referred]
    scores = score_pairs(pairs, cfg)
    verified = apply_thresholds(submission, scores, cfg)
    for path in write_scores(scores, run_dir / "verifier"):
        tracker.log_artifact(path, "verifier")
    kept = int(decide(scores, split_cfg(cfg)[0]).sum()) if not scores.empty else 0
    return verified, {"verify.scored": len(scores), "verify.dropped": len(scores) - kept,
                      "verify.vlm_calls": scores.attrs.get("vlm_calls", 0),
                      "verify.cache_hits": scores.attrs.get("cache_hits", 0)}


def per_prompt_table(dataset: Dataset, programs: dict, executions: dict,
                     evaluation: Evaluation | None) -> pd.DataFrame:
    """One row per prompt: metrics, program status, pairs executed, failed and empty."""
    rows = []
    for prompt in dataset.prompts:
        pairs = [p for p in dataset.pairs if p[1] == prompt]
        done = [executions[p] for p in pairs if p in executions]
        gen = programs.get(prompt)
        row = {"prompt": prompt, "program_ok": bool(gen and gen.ok), "pairs": len(pairs),
               "executed_ok": sum(r.ok for r in done),
               "empty_predictions": sum(1 for p in pairs if not (executions.get(p) and executions[p].referred))}
        row.update(evaluation.per_prompt.get(prompt, {}) if evaluation else {})
        rows.append(row)
    return pd.DataFrame(rows)


def counts(dataset: Dataset, programs: dict, executions: dict, failures: list[dict]) -> dict:
    """The run's count metrics (stable names)."""
    n_empty = sum(1 for p in dataset.pairs if not (executions.get(p) and executions[p].referred))
    return {"n_prompts": len(dataset.prompts), "n_pairs": len(dataset.pairs), "n_logs": len(dataset.logs),
            "n_programs": sum(1 for g in programs.values() if g.ok),
            "n_generation_failed": sum(1 for g in programs.values() if not g.ok),
            "n_execution_failed": sum(1 for f in failures if f["stage"] == "execute"),
            "n_empty_predictions": n_empty}


def run(cfg: DictConfig, run_dir: str | Path) -> RunResult:
    """Run the whole pipeline once and log it as one MLflow run."""
    run_dir = Path(run_dir)
    check_config(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(cfg.dataset)
    store = Store(run_dir / "store", Path(cfg.resume) / "store" if cfg.get("resume") else None)
    failures: list[dict] = [{"stage": "dataset", "log_id": "", "prompt": p, "reason": r}
                            for p, r in dataset.skipped_prompts.items()]
    start = time.perf_counter()
    with track.start_run(cfg.tracking, run_name=cfg.tracking.get("run_name")) as tracker:
        tracker.log_params(track.flatten(cfg))
        tracker.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.set_tags({"dataset": dataset.name, "split": dataset.split,
                          "run_dir": str(run_dir.resolve())})
        log.info("dataset %s/%s: %d logs, %d prompts, %d pairs", dataset.name, dataset.split,
                 len(dataset.logs), len(dataset.prompts), len(dataset.pairs))
        timer = StageTimer()
        with timer("screen"):
            library = screen.build_library(cfg, store, tracker, failures)
        with timer("generate"):
            programs = generate_programs(cfg, dataset.prompts, store, failures, library)
        with timer("review"):
            programs = review.review_programs(cfg, programs, store, tracker, failures)
        with timer("execute"):
            executions = execute_pairs(cfg, dataset, programs, store, failures)
        submission = assemble_submission(dataset, executions)
        exclude_unscorable_truth(dataset, submission, failures)
        with timer("verify"):
            submission, verify_metrics = verify_submission(cfg, dataset, programs, executions,
                                                           submission, run_dir, tracker)
        submission_path = save_pkl(submission, run_dir / "submission.pkl")
        evaluation = None
        metrics = {**counts(dataset, programs, executions, failures), **verify_metrics}
        if dataset.ground_truth is not None:
            with timer("evaluate"):
                evaluation = evaluate(submission, dataset.ground_truth, dataset.logs_dir,
                                      run_dir / "evaluation")
            metrics.update(evaluation.metrics)
        else:
            log.warning("no ground truth for this dataset: evaluation skipped; the submission "
                        "is at %s", submission_path)
        metrics.update(usage_summary(programs.values()))
        metrics.update(timer.seconds)
        metrics["wall_seconds"] = time.perf_counter() - start
        for kind in ("generate", "execute"):
            metrics[f"units.{kind}.reused"] = store.hits.get(kind, 0)
            metrics[f"units.{kind}.computed"] = store.writes.get(kind, 0)
        tracker.log_metrics(metrics)
        _log_artifacts(tracker, run_dir, dataset, programs, executions, failures, evaluation)
        return RunResult(run_dir, metrics, programs, executions, failures, evaluation,
                         tracker.run_id, submission_path)


def _log_artifacts(tracker, run_dir: Path, dataset, programs, executions, failures, evaluation):
    """Programs, per-prompt metrics, failures, submission and evaluator plots."""
    prog_dir = run_dir / "programs"
    prog_dir.mkdir(exist_ok=True)
    for i, (prompt, gen) in enumerate(sorted(programs.items())):
        body = gen.program if gen.ok else f"# generation failed: {gen.error}\n"
        (prog_dir / f"{i:03d}.py").write_text(f"# prompt: {prompt}\n{body}")
    (run_dir / "transcripts.json").write_text(transcripts_json(programs.values()))
    table = per_prompt_table(dataset, programs, executions, evaluation)
    table.to_csv(run_dir / "per_prompt_metrics.csv", index=False)
    pd.DataFrame(failures, columns=["stage", "log_id", "prompt", "reason"]).to_csv(
        run_dir / "failures.csv", index=False)
    for f in failures[:MAX_FAILURES_LOGGED]:
        where = f"log {f['log_id']}, " if f["log_id"] else ""
        log.warning("failed %s (%sprompt %r): %s", f["stage"], where, f["prompt"], f["reason"])
    if len(failures) > MAX_FAILURES_LOGGED:
        log.warning("... and %d more failures", len(failures) - MAX_FAILURES_LOGGED)
    if failures:
        log.warning("%d failures, listed in %s", len(failures), run_dir / "failures.csv")
    by_reason: dict[str, int] = {}
    for f in failures:
        cause = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(f["reason"]).split(":")[0].strip())[:60]
        key = f"failures.{f['stage']}.{cause}"
        by_reason[key] = by_reason.get(key, 0) + 1
    tracker.log_metrics(by_reason)
    for path in ("programs", "per_prompt_metrics.csv", "failures.csv", "submission.pkl",
                 "transcripts.json"):
        tracker.log_artifact(run_dir / path, "programs" if path == "programs" else None)
    if evaluation is not None and evaluation.out_dir is not None:
        tracker.log_artifact(evaluation.out_dir, "evaluation")
