"""Agreement of the canonical programs, run with scenmine's DSL, with the scripted truth.

``python -m scenmine.data.synthetic.check [ROOT]`` prints, per prompt, the (track, 2 Hz
timestamp) precision and recall of the DSL's referred objects against the ground truth, the
positive logs of each (truth, DSL, and DSL after the geometric verifier's default limits,
which drop the near misses the truth leaves out), and the official metrics of the DSL's
answers.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def run_program(code: str, log_dir: Path, prompt: str) -> tuple[dict, dict]:
    """Execute one program in-process with the DSL; post-processed (referred, related)."""
    from scenmine import dsl
    from scenmine.dsl.output import capture, post_process

    scope = dict(dsl.NAMESPACE, log_dir=Path(log_dir), output_dir=Path("/nonexistent"),
                 description=prompt)
    with capture() as out:
        exec(compile(code, "<program>", "exec"), scope)  # noqa: S102 (our own canonical programs)
    if not out:
        return {}, {}
    return post_process(out[-1][1], log_dir)


def pairs(frames: list[dict]) -> set[tuple[int, int]]:
    """(track_id, timestamp) of the REFERRED objects of one pair's frames."""
    return {(int(tid), int(f["timestamp_ns"])) for f in frames
            for tid in np.asarray(f["track_id"])[np.asarray(f["label"]) == 0]}


def verified(log, referred: dict, related: dict) -> bool:
    """Whether the geometric verifier (default limits: the benchmark's rules) keeps a pair."""
    from scenmine.verify.geometric import geometric_evidence, geometric_score

    return geometric_score(geometric_evidence(log, referred, related)) >= 1.0


def agreement(root: Path, evaluate: bool = True, log_ids: list[str] | None = None) -> dict:
    """Per prompt: tp / fp / fn counts, positive logs (truth, DSL, DSL kept by the geometric
    verifier: ``ver_logs``), their mismatches with the truth, ``ver_fp`` (false positives in
    the pairs the verifier keeps); official metrics."""
    import json

    from scenmine.data.logs import load_log
    from scenmine.data.submission import build_frames, load_pkl

    prompts = json.loads((root / "prompts.json").read_text())
    splits = json.loads((root / "splits.json").read_text())
    gt, preds = {}, {}
    for split in splits:
        gt.update(load_pkl(root / "ground_truth" / f"{split}.pkl"))
    table = {p["prompt"]: {"tp": 0, "fp": 0, "fn": 0, "gt_logs": 0, "dsl_logs": 0, "ver_logs": 0,
                           "dsl_log_errors": 0, "ver_log_errors": 0, "ver_fp": 0} for p in prompts}
    log_ids = log_ids or [i for ids in splits.values() for i in ids]
    gt = {k: v for k, v in gt.items() if k[0] in log_ids}
    for log_id in log_ids:
        log_dir = root / "logs" / log_id
        log = load_log(log_dir)
        for p in prompts:
            referred, related = run_program(p["program"], log_dir, p["prompt"])
            frames = build_frames(log, referred, related, p["prompt"])
            preds[(log_id, p["prompt"])] = frames
            a, b = pairs(frames), pairs(gt[(log_id, p["prompt"])])
            row = table[p["prompt"]]
            row["tp"] += len(a & b)
            row["fp"] += len(a - b)
            row["fn"] += len(b - a)
            kept = bool(a) and verified(log, referred, related)
            row["gt_logs"] += bool(b)
            row["dsl_logs"] += bool(a)
            row["ver_logs"] += kept
            row["ver_fp"] += len(a - b) if kept else 0
            row["dsl_log_errors"] += bool(a) != bool(b)
            row["ver_log_errors"] += kept != bool(b)
    result = {"per_prompt": table}
    if evaluate:
        from scenmine.evaluate import evaluate as official

        ev = official(preds, gt, root / "logs")
        result["metrics"] = ev.metrics
    return result


def main(argv: list[str]) -> None:
    from scenmine.data.synthetic import ensure_mini_dataset

    root = Path(argv[0]) if argv else ensure_mini_dataset()
    res = agreement(root)
    print(f"{'prompt':45s} {'tp':>5s} {'fp':>5s} {'fn':>5s} {'logs gt/dsl/verified':>20s} "
          f"{'log errors dsl/verified':>23s}")
    for prompt, r in res["per_prompt"].items():
        logs = f"{r['gt_logs']}/{r['dsl_logs']}/{r['ver_logs']}"
        errors = f"{r['dsl_log_errors']}/{r['ver_log_errors']}"
        print(f"{prompt:45s} {r['tp']:5d} {r['fp']:5d} {r['fn']:5d} {logs:>20s} {errors:>23s}")
    print(res.get("metrics"))


if __name__ == "__main__":
    main(sys.argv[1:])
