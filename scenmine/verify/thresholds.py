"""Keep / drop decisions from a scores table, and dropping predictions (no model calls here)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenmine.data.submission import empty_like

from .base import build_verifier
from .geometric import DEFAULT_LIMITS, geometric_score


def threshold_for(spec: dict, category: str, relational: bool) -> float:
    """``by_category[category]``, else ``by_kind[relational|unary]``, else ``threshold``."""
    by_cat = spec.get("by_category") or {}
    if by_cat.get(category) is not None:
        return float(by_cat[category])
    kind = (spec.get("by_kind") or {}).get("relational" if relational else "unary")
    return float(kind) if kind is not None else float(spec.get("threshold", 0.5))


def _passes(score: float, thr: float, on_error: str) -> bool:
    if score is None or not np.isfinite(score):
        return on_error != "drop"
    return bool(score >= thr)


def decide(scores: pd.DataFrame, vcfg: dict) -> pd.Series:
    """Boolean ``keep`` per row of ``scores`` under the verifier config ``vcfg``."""
    verifier, on_error = build_verifier(vcfg), vcfg.get("on_error", "keep")
    if not verifier.enabled or scores.empty:
        return pd.Series(True, index=scores.index, dtype=bool)
    geo = vcfg.get("geometric") or {}
    limits = {k: float(geo[k]) for k in DEFAULT_LIMITS if geo.get(k) is not None}
    keep = []
    for row in scores.itertuples(index=False):
        cat, rel = getattr(row, "category", "") or "", bool(getattr(row, "relational", False))
        votes = []
        if verifier.uses_vlm:
            votes.append(_passes(getattr(row, "vlm_p_yes", np.nan), threshold_for(vcfg, cat, rel), on_error))
        if verifier.uses_geometric:
            ev = getattr(row, "geo_evidence", None)
            score = geometric_score(json.loads(ev), limits) if isinstance(ev, str) else np.nan
            votes.append(_passes(score, threshold_for({"threshold": 1.0, **geo}, cat, rel), on_error))
        keep.append(any(votes) if vcfg.get("combine", "and") == "or" else all(votes))
    return pd.Series(keep, index=scores.index, dtype=bool)


def apply_thresholds(predictions: dict, scores: pd.DataFrame, cfg: Any) -> dict:
    """A copy of ``predictions`` ({(log_id, prompt): frames}) with dropped pairs emptied."""
    from .verifier import split_cfg

    vcfg, _ = split_cfg(cfg)
    out = dict(predictions)
    if scores is None or scores.empty:
        return out
    keep = decide(scores, vcfg)
    for (log_id, prompt), k in zip(zip(scores["log_id"], scores["prompt"]), keep):
        if not k and (log_id, prompt) in out:
            out[(log_id, prompt)] = empty_like(out[(log_id, prompt)])
    return out


def write_scores(scores: pd.DataFrame, out_dir: str | Path, stem: str = "verifier_scores") -> list[Path]:
    """``<stem>.parquet`` (everything, for tuning) and ``<stem>.csv`` (readable, no evidence column)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.parquet", out_dir / f"{stem}.csv"]
    scores.to_parquet(paths[0], index=False)
    scores.drop(columns=[c for c in ("geo_evidence",) if c in scores], errors="ignore").to_csv(paths[1], index=False)
    return paths


def read_scores(path: str | Path) -> pd.DataFrame:
    """A scores table written by ``write_scores`` (parquet preferred, CSV accepted)."""
    path = Path(path)
    if path.is_dir():
        path = next((p for p in (path / "verifier_scores.parquet", path / "verifier_scores.csv") if p.exists()), path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
