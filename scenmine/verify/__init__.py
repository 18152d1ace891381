"""Verifier stage: evidence rendering, VLM backends, scores (cached) and thresholds."""
from .base import PairPrediction
from .thresholds import apply_thresholds, decide, read_scores, write_scores
from .verifier import score_pairs

__all__ = ["PairPrediction", "apply_thresholds", "decide", "read_scores", "score_pairs", "write_scores"]
