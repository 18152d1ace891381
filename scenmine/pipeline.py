"""The stages wired together: generate -> (screen) -> (review) -> execute -> (verify) -> evaluate.

Each stage reads and writes plain records; every finished unit is written to the run's
store as it completes, so an interrupted run resumes where it stopped. A failure of one
prompt or one (log, prompt) pair is recorded with its reason and the run goes on.
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from scenmine import results, review, screen, track
from scenmine.config import check_config, group_target
from scenmine.data.dataset import load_dataset
from scenmine.data.submission import save_pkl
from scenmine.evaluate import Evaluation, evaluate
from scenmine.execute.runner import ExecResult
from scenmine.execute.stage import execute_pairs
from scenmine.generate.accounting import usage_summary
from scenmine.generate.base import Generation
from scenmine.generate.stage import generate_programs
from scenmine.store import Store
from scenmine.verify.base import build_verifier
from scenmine.verify.stage import verify_submission

log = logging.getLogger("scenmine")


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
    """Wall seconds per stage, as ``seconds.<stage>`` metrics; ``skipped`` stages (named with
    the reason at the start of the run) are not timed, and a stage that raises says so."""

    def __init__(self, skipped: dict[str, str] | None = None):
        self.seconds: dict[str, float] = {}
        self.skipped = skipped or {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        if stage in self.skipped:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            log.error("%s failed after %.1f s", stage, time.perf_counter() - start)
            raise
        self.seconds[f"seconds.{stage}"] = time.perf_counter() - start
        log.info("%s done in %.1f s", stage, self.seconds[f"seconds.{stage}"])


def skipped_stages(cfg, dataset) -> dict[str, str]:
    """The optional stages this run leaves out, each with the setting that leaves it out."""
    skipped = {}
    if cfg.screening.name == "off" and not cfg.screening.library:
        skipped["screen"] = "screening=off"
    if not get_class(group_target("reviewer", cfg.reviewer)).enabled:
        skipped["review"] = "reviewer=none"
    if not build_verifier(cfg.verifier).enabled:
        skipped["verify"] = "verifier=none"
    if not cfg.view.enabled:
        skipped["view"] = "view.enabled=false"
    if dataset.ground_truth is None:
        skipped["evaluate"] = "no ground truth: only the submission is written"
    return skipped


def run(cfg: DictConfig, run_dir: str | Path) -> RunResult:
    """Run the whole pipeline once and log it as one MLflow run."""
    run_dir = Path(run_dir)
    check_config(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(cfg.dataset)
    store = Store(run_dir / "store", Path(cfg.resume) / "store" if cfg.get("resume") else None)
    failures: list[dict] = [{"stage": "dataset", "log_id": "", "prompt": p, "reason": r}
                            for p, r in dataset.skipped_prompts.items()]
    failures += [{"stage": "dataset", "log_id": log_id, "prompt": prompt, "reason": reason}
                 for (log_id, prompt), reason in dataset.failed_pairs.items()]
    start = time.perf_counter()
    with track.start_run(cfg.tracking, run_name=cfg.tracking.get("run_name")) as tracker:
        track.close_abandoned(tracker, run_dir, cfg.get("resume"))  # e.g. killed with SIGKILL
        track.record_run(tracker, run_dir)
        tracker.log_params(track.flatten(cfg))
        tracker.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.set_tags({"dataset": dataset.name, "split": dataset.split,
                          "run_dir": str(run_dir.resolve())})
        log.info("dataset %s/%s: %d logs, %d prompts, %d pairs", dataset.name, dataset.split,
                 len(dataset.logs), len(dataset.prompts), len(dataset.pairs))
        timer = StageTimer(skipped_stages(cfg, dataset))
        if timer.skipped:
            log.info("stages not run: %s", ", ".join(f"{stage} ({why})"
                                                     for stage, why in timer.skipped.items()))
        with timer("screen"):
            library = screen.build_library(cfg, store, tracker, failures)
        with timer("generate"):
            programs = generate_programs(cfg, dataset.prompts, store, failures, library)
        with timer("review"):
            programs = review.review_programs(cfg, programs, store, tracker, failures)
        with timer("execute"):
            executions = execute_pairs(cfg, dataset, programs, store, failures, tracker)
        submission = results.assemble_submission(dataset, executions)
        results.exclude_unscorable_truth(dataset, submission, failures)
        with timer("verify"):
            submission, verify_metrics = verify_submission(cfg, dataset, programs, executions,
                                                           submission, run_dir, tracker)
        submission_path = save_pkl(submission, run_dir / "submission.pkl")
        evaluation = None
        metrics = {**results.counts(dataset, programs, submission, failures), **verify_metrics}
        if dataset.ground_truth is not None:
            with timer("evaluate"):
                evaluation = evaluate(submission, dataset.ground_truth, dataset.logs_dir,
                                      run_dir / "evaluation",
                                      progress="evaluate" if cfg.output.progress else None)
            metrics.update(evaluation.metrics)
        metrics["evaluated"] = int(evaluation is not None)
        tracker.set_tags({"evaluation": "evaluated" if evaluation is not None else
                          f"not evaluated: no ground truth ({dataset.name}/{dataset.split})"})
        metrics.update(usage_summary(programs.values()))
        metrics.update(timer.seconds)
        metrics["wall_seconds"] = time.perf_counter() - start
        for kind in ("generate", "execute"):
            metrics[f"units.{kind}.reused"] = store.hits.get(kind, 0)
            metrics[f"units.{kind}.computed"] = store.writes.get(kind, 0)
        tracker.log_metrics(metrics)
        results.log_artifacts(tracker, run_dir, dataset, programs, executions, submission, failures,
                              evaluation)
        if cfg.view.enabled:
            with timer("view"):
                _render_view(cfg, run_dir, dataset, submission, tracker.run_id)
            metrics["seconds.view"] = timer.seconds["seconds.view"]
            tracker.log_metrics({"seconds.view": metrics["seconds.view"]})
        return RunResult(run_dir, metrics, programs, executions, failures, evaluation,
                         tracker.run_id, submission_path)


def _render_view(cfg: DictConfig, run_dir: Path, dataset, submission: dict, run_id: str | None):
    """``view.enabled``: the worst pairs rendered into ``run_dir/view`` and logged with the run;
    a failure here is reported and leaves the finished run as it is."""
    from scenmine.view import RunRecord, ViewConfig, build_view, log_to_mlflow

    record = RunRecord(run_dir, cfg, run_id, _submission=submission)
    record.__dict__["dataset"] = dataset      # already loaded (cached_property slot)
    try:
        index, _ = build_view(record, ViewConfig.from_cfg(cfg.view),
                              progress=cfg.output.get("progress", True))
        log_to_mlflow(cfg.tracking, record, index.parent)
    except Exception as exc:  # noqa: BLE001 - the run's results are already written and logged
        log.warning("view: not rendered: %s: %s", type(exc).__name__, exc)
