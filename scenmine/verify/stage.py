"""Stage 5 in a run: score positive pairs (VLM and/or track evidence), empty those that fail."""
from __future__ import annotations

from pathlib import Path

from scenmine.data.dataset import Dataset
from scenmine.data.submission import save_pkl
from scenmine.verify.base import PairPrediction, build_verifier
from scenmine.verify.thresholds import apply_thresholds, decide, write_scores
from scenmine.verify.verifier import score_pairs, split_cfg


def verify_submission(cfg, dataset: Dataset, programs: dict, executions: dict, submission: dict,
                      run_dir: Path, tracker) -> tuple[dict, dict]:
    """Stage 5: score positive pairs (VLM and/or track evidence); empty the ones that fail."""
    if not build_verifier(cfg.verifier).enabled:
        return submission, {}
    save_pkl(submission, run_dir / "submission_unverified.pkl")  # what tuning starts from

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
