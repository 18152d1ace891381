"""Stage 3, semantic code review: programs checked against their prompt, and corrected.

``reviewer=none`` returns the programs unchanged; ``static`` runs the offline checks of
:mod:`scenmine.review.static` (fixing what ``reviewer.autofix`` names); ``llm`` then sends each
program, with the static findings, to a separate chat session (:mod:`scenmine.review.llm`)
whose corrected program replaces the original only after a static re-check and a dry run.
Each review is a store unit, so a resumed run does not review (or pay for) a program twice.
Logged: ``review.*`` metrics (programs changed, findings by code) and, under ``review/``,
findings.csv, changes.jsonl and side_by_side.html (before/after programs).
"""
from __future__ import annotations

import csv
import difflib
import html
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from scenmine.config import cfg_dict, instantiate_group
from scenmine.hashing import content_hash
from scenmine.review import static

log = logging.getLogger("scenmine")
REVIEW_VERSION = "1"


@dataclass
class ReviewRecord:
    """The review of one program: static findings, the LLM's answer, what runs."""

    prompt: str
    before: str
    after: str
    static: static.StaticReview
    llm: object | None = None  # llm.LLMReview

    @property
    def changed(self) -> bool:
        return self.after != self.before


def _autofix(value):
    value = cfg_dict(value)
    return True if value is True or value == "all" else tuple(value or ())


def _dry_run_fn(cfg, log_dir=None):
    """``program -> error | None`` on ``log_dir`` (default: the first log of the run's dataset)."""
    if not log_dir:
        from scenmine.data.dataset import load_dataset
        logs = load_dataset(cfg.dataset).logs
        log_dir = next(iter(logs.values()), None) if logs else None
    if not log_dir:
        return None
    from scenmine.execute.runner import run_program
    timeout = float(cfg.execute.timeout_s) if cfg.get("execute") else 60.0

    def dry_run(program: str) -> str | None:
        result = run_program(program, log_dir, "review dry run", timeout_s=timeout)
        return None if result.ok else (result.error or "failed")
    return dry_run


def review_one(prompt: str, program: str, autofix, reviewer=None) -> ReviewRecord:
    checked = static.review(prompt, program, autofix)
    record = ReviewRecord(prompt, program, checked.program, checked)
    if reviewer is not None:
        answer = reviewer.review(prompt, checked.program, checked.findings)
        record.llm = answer
        if answer.accepted and answer.proposed:
            record.after = answer.proposed
    return record


class NoReview:
    """``reviewer=none``: programs run as they were generated."""

    enabled = False
    concurrency = 1

    def prepare(self, cfg) -> None:
        """Bind to the run (its dataset and execution settings)."""

    def review(self, prompt: str, program: str) -> ReviewRecord:
        raise NotImplementedError("reviewer=none reviews nothing")


class StaticReview(NoReview):
    """``reviewer=static``: the offline checks of :mod:`scenmine.review.static`, applying the
    fixes ``autofix`` names (``all`` for every fixable code)."""

    enabled = True

    def __init__(self, autofix=tuple(static.DEFAULT_AUTOFIX)):
        self.autofix = _autofix(autofix)

    def review(self, prompt: str, program: str) -> ReviewRecord:
        return review_one(prompt, program, self.autofix)


class LLMReview(StaticReview):
    """``reviewer=llm``: the static review, then an LLM in a separate chat session
    (:mod:`scenmine.review.llm`) on its own ``backend`` (a ``_target_`` like the ``llm``
    group); its correction replaces the program only after a static re-check and, with
    ``dry_run``, one run on ``dry_run_log`` (default: the run's first log)."""

    def __init__(self, backend=None, autofix=tuple(static.DEFAULT_AUTOFIX), concurrency: int = 4,
                 dry_run: bool = True, dry_run_log: str | None = None,
                 system_prompt: str | None = None, user_prompt: str | None = None):
        super().__init__(autofix)
        if not backend:
            raise ValueError("reviewer=llm needs reviewer.backend (e.g. reviewer/backend from "
                             "conf/llm: openai, anthropic, claude_code, vllm, replay)")
        self.backend_cfg, self.concurrency = backend, max(1, int(concurrency))
        self.dry_run, self.dry_run_log = dry_run, dry_run_log
        self.system_prompt, self.user_prompt = system_prompt, user_prompt
        self.reviewer = None

    def prepare(self, cfg) -> None:
        from hydra.utils import instantiate

        from scenmine.review.llm import LLMReviewer
        backend = instantiate(self.backend_cfg, _convert_="all")
        dry_run = _dry_run_fn(cfg, self.dry_run_log) if self.dry_run else None
        self.reviewer = LLMReviewer(backend, self.autofix, self.system_prompt, self.user_prompt,
                                    dry_run)

    def review(self, prompt: str, program: str) -> ReviewRecord:
        return review_one(prompt, program, self.autofix, self.reviewer)


def build_reviewer(cfg):
    """The reviewer the ``reviewer`` group's ``_target_`` names, bound to the run ``cfg``."""
    reviewer = instantiate_group("reviewer", cfg.reviewer)
    reviewer.prepare(cfg)
    return reviewer


def review_programs(cfg, programs: dict, store, tracker, failures) -> dict:
    """Return the programs to execute (``reviewer=none``: unchanged)."""
    reviewer = build_reviewer(cfg)
    if not reviewer.enabled:
        return programs
    settings = (REVIEW_VERSION, cfg_dict(cfg.reviewer))
    records: dict[str, ReviewRecord] = {}
    todo = []
    for prompt, gen in programs.items():
        if not gen.ok:
            continue
        key = content_hash("review", settings, prompt, gen.program)
        cached = store.get("review", key)
        if cached is not None:
            records[prompt] = cached
        else:
            todo.append((prompt, gen.program, key))

    def one(item):
        prompt, program, key = item
        try:
            record = reviewer.review(prompt, program)
        except Exception as exc:
            if getattr(exc, "fatal", False):
                raise
            log.warning("review failed for %r: %s", prompt, exc)
            failures.append({"stage": "review", "log_id": "", "prompt": prompt,
                             "reason": f"review: {type(exc).__name__}: {exc}"})
            return prompt, None
        if record.llm is None or not record.llm.error:
            store.put("review", key, record)
        return prompt, record

    with ThreadPoolExecutor(reviewer.concurrency) as pool:
        for prompt, record in pool.map(one, todo):
            if record is not None:
                records[prompt] = record
    for prompt, record in records.items():
        if record.llm is not None and record.llm.error:
            failures.append({"stage": "review", "log_id": "", "prompt": prompt,
                             "reason": f"review: {record.llm.error}"})
    out = dict(programs)
    for prompt, record in records.items():
        if record.changed:
            gen = programs[prompt]
            out[prompt] = replace(gen, program=record.after,
                                  transcript=[*gen.transcript, {"role": "review",
                                                                "before": record.before}])
    log_review(tracker, Path(store.root).parent / "review", records, programs)
    return out


def review_metrics(records: dict[str, ReviewRecord], programs: dict) -> dict[str, float]:
    metrics = {"review.n_reviewed": len(records),
               "review.programs_changed": sum(r.changed for r in records.values())}
    for code in static.ALL_CODES:
        found = [f for r in records.values() for f in r.static.findings if f.code == code]
        metrics[f"review.findings.{code}"] = len(found)
        metrics[f"review.fixed.{code}"] = sum(f.fixed for f in found)
    llm = [r.llm for r in records.values() if r.llm is not None]
    if llm:
        metrics.update({"review.llm.reviewed": len(llm),
                        "review.llm.incorrect": sum(a.verdict == "incorrect" for a in llm),
                        "review.llm.proposed": sum(a.proposed is not None for a in llm),
                        "review.llm.accepted": sum(a.accepted for a in llm),
                        "review.llm.rejected": sum(a.rejected_because is not None for a in llm),
                        "review.llm.errors": sum(a.error is not None for a in llm)})
    return metrics


def side_by_side(records: list[ReviewRecord]) -> str:
    """One HTML page: for each changed program, before and after side by side, plus reasons."""
    differ = difflib.HtmlDiff(wrapcolumn=90)
    style = ("<style>table.diff{font-family:monospace;font-size:12px;border:1px solid #ccc}"
             ".diff_add{background:#cfc}.diff_chg{background:#ffa}.diff_sub{background:#fcc}"
             "</style>")
    parts = ["<html><head><meta charset='utf-8'><title>review: before / after</title>",
             style + "</head><body>"]
    for r in records:
        parts.append(f"<h3>{html.escape(r.prompt)}</h3><ul>")
        for f in r.static.findings:
            parts.append(f"<li>{html.escape(str(f))}</li>")
        if r.llm is not None:
            parts.append(f"<li>llm verdict: {html.escape(str(r.llm.verdict))}; "
                         f"{html.escape('; '.join(r.llm.reasons))}</li>")
        parts.append("</ul>")
        parts.append(differ.make_table(r.before.splitlines(), r.after.splitlines(),
                                       "before", "after"))
    parts.append("</body></html>")
    return "\n".join(parts)


def log_review(tracker, out_dir: Path, records: dict[str, ReviewRecord], programs: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "findings.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["prompt", "code", "severity", "line", "fixed", "message"])
        for prompt, r in sorted(records.items()):
            for f in r.static.findings:
                writer.writerow([prompt, f.code, f.severity, f.line, f.fixed, f.message])
    changed = [r for _, r in sorted(records.items()) if r.changed]
    with open(out_dir / "changes.jsonl", "w") as fh:
        for _, r in sorted(records.items()):
            row = {"prompt": r.prompt, "changed": r.changed, "before": r.before, "after": r.after,
                   "findings": [f.as_dict() for f in r.static.findings],
                   "llm": r.llm.as_dict() if r.llm is not None else None}
            fh.write(json.dumps(row) + "\n")
    (out_dir / "side_by_side.html").write_text(side_by_side(changed))
    metrics = review_metrics(records, programs)
    log.info("review: %d programs reviewed, %d changed", metrics["review.n_reviewed"],
             metrics["review.programs_changed"])
    tracker.log_metrics(metrics)
    tracker.log_artifact(out_dir, "review")
