"""Verifier stage: evidence rendering, VLM backends, scores (cached) and thresholds."""
from .base import PairPrediction
from .verifier import apply_thresholds, decide, read_scores, score_pairs, write_scores

__all__ = ["PairPrediction", "apply_thresholds", "decide", "read_scores", "score_pairs", "write_scores"]
