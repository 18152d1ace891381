"""A run's outputs: the official submission, per-prompt tables, counts and artifacts."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from scenmine.data.dataset import Dataset, ground_truth_problems
from scenmine.data.logs import LogLoadError, load_log
from scenmine.data.submission import build_frames, empty_like
from scenmine.evaluate import Evaluation
from scenmine.generate.accounting import transcripts_json

log = logging.getLogger("scenmine")
MAX_FAILURES_LOGGED = 20


def _empty_prediction(dataset: Dataset, log_id: str, prompt: str) -> list[dict] | None:
    """Frames with no referred object, from the log or else from the ground-truth frames."""
    try:
        return build_frames(load_log(dataset.logs[log_id], tracks=dataset.tracks), {}, {}, prompt)
    except (KeyError, LogLoadError):
        if dataset.ground_truth and (log_id, prompt) in dataset.ground_truth:
            return empty_like(dataset.ground_truth[(log_id, prompt)])
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


def is_empty(frames: list[dict] | None) -> bool:
    """Whether a pair's prediction refers no object at any frame (a missing one is empty)."""
    return not any(np.any(np.asarray(f.get("label", [])) == 0) for f in frames or [])


def per_prompt_table(dataset: Dataset, programs: dict, executions: dict, submission: dict,
                     evaluation: Evaluation | None) -> pd.DataFrame:
    """One row per prompt: metrics, program status, pairs executed, failed and empty (in the
    final submission, after verification)."""
    rows = []
    for prompt in dataset.prompts:
        pairs = [p for p in dataset.pairs if p[1] == prompt]
        done = [executions[p] for p in pairs if p in executions]
        gen = programs.get(prompt)
        row = {"prompt": prompt, "program_ok": bool(gen and gen.ok), "pairs": len(pairs),
               "executed_ok": sum(r.ok for r in done),
               "empty_predictions": sum(is_empty(submission.get(p)) for p in pairs)}
        row.update(evaluation.per_prompt.get(prompt, {}) if evaluation else {})
        rows.append(row)
    return pd.DataFrame(rows)


def counts(dataset: Dataset, programs: dict, submission: dict, failures: list[dict]) -> dict:
    """The run's count metrics (stable names); empty predictions are counted in the final
    submission (after verification), a pair missing from it counting as empty."""
    n_empty = sum(is_empty(submission.get(p)) for p in dataset.pairs)
    return {"n_prompts": len(dataset.prompts), "n_pairs": len(dataset.pairs), "n_logs": len(dataset.logs),
            "n_programs": sum(1 for g in programs.values() if g.ok),
            "n_generation_failed": sum(1 for g in programs.values() if not g.ok),
            "n_execution_failed": sum(1 for f in failures if f["stage"] == "execute"),
            "n_empty_predictions": n_empty}


def failed_program_text(gen) -> str:
    """A failed prompt's program file: the reason (commented) and its last draft, if any."""
    reason = "\n".join(f"# {ln}" for ln in str(gen.error).splitlines()) or "#"
    text = f"# generation failed:\n{reason}\n"
    draft = getattr(gen, "last_draft", None)  # generations stored before it existed lack it
    return text + (f"# last draft:\n{draft.rstrip()}\n" if draft else "")


def log_artifacts(tracker, run_dir: Path, dataset, programs, executions, submission, failures,
                  evaluation):
    """Programs, per-prompt metrics, failures, submission and evaluator plots."""
    prog_dir = run_dir / "programs"
    prog_dir.mkdir(exist_ok=True)
    for i, (prompt, gen) in enumerate(sorted(programs.items())):
        body = gen.program if gen.ok else failed_program_text(gen)
        (prog_dir / f"{i:03d}.py").write_text(f"# prompt: {prompt}\n{body}")
    (run_dir / "transcripts.json").write_text(transcripts_json(programs.values()))
    table = per_prompt_table(dataset, programs, executions, submission, evaluation)
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
