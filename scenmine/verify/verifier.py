"""The verifier stage: score each positive (log, prompt) prediction, drop those under threshold.

``score_pairs(pairs, cfg) -> DataFrame`` (one row per positive pair, cached on disk) and
``apply_thresholds(predictions, scores, cfg) -> predictions``. Modes (``cfg.verifier.name``):
``none``, ``vlm`` (P(yes) of a VLM shown rendered evidence), ``geometric`` (track evidence),
``both``. Scores are cached by (log, prompt, program hash, evidence, rendering, prompt
template, VLM config), so a run that changes only thresholds makes no model calls.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from scenmine.config import cfg_dict
from scenmine.hashing import content_hash
from scenmine.store import Store

from .base import PairPrediction, build_verifier, evidence_hash, program_hash
from .geometric import DEFAULT_LIMITS, evidence_summary, geometric_evidence, geometric_score
from .vlm import build_backend

log_ = logging.getLogger(__name__)
GEO_VERSION = 1


def split_cfg(cfg: Any) -> tuple[dict, dict]:
    """(verifier config, vlm config) from a full run config or a verifier config alone."""
    d = cfg_dict(cfg) or {}
    if "verifier" in d:
        return cfg_dict(d["verifier"]) or {}, cfg_dict(d.get("vlm") or {"name": "none"})
    return d, cfg_dict(d.get("vlm") or {"name": "none"})


def _category(log, referred: dict) -> str:
    counts: Counter = Counter()
    for uid, ts in referred.items():
        i = log.track_index.get(uid)
        if i is not None:
            counts[str(log.categories[i])] += len(ts)
    return counts.most_common(1)[0][0] if counts else ""


def on_eval_grid(p: PairPrediction, eval_ts: np.ndarray) -> PairPrediction:
    """The pair restricted to the 2 Hz evaluation timestamps (what the submission holds), so
    that scores and cache keys agree whether a pair comes from execution or from frames."""
    def cut(d: dict) -> dict:
        out = {u: np.intersect1d(np.asarray(t, dtype=np.int64), eval_ts) for u, t in d.items()}
        return {u: t for u, t in out.items() if len(t)}
    return PairPrediction(p.log_id, p.log_dir, p.prompt, p.program, cut(p.referred), cut(p.related))


def _base_rows(pairs: list[PairPrediction]) -> tuple[list[dict], list]:
    from scenmine.data.logs import load_log

    rows, logs = [], []
    for p in pairs:
        if not p.positive:
            continue
        try:
            log = load_log(p.log_dir)
        except Exception as exc:  # noqa: BLE001 - recorded; the pair is then judged by on_error
            log_.warning("verifier: cannot load log %s: %s", p.log_id, exc)
            continue
        p = on_eval_grid(p, np.asarray(log.eval_timestamps))
        if not p.positive:
            continue
        rows.append({"log_id": p.log_id, "prompt": p.prompt, "program_hash": program_hash(p.program),
                     "evidence_hash": evidence_hash(p.referred, p.related),
                     "category": _category(log, p.referred), "relational": p.relational,
                     "n_referred": sum(1 for v in p.referred.values() if len(v)),
                     "n_related": sum(1 for v in p.related.values() if len(v))})
        logs.append((p, log))
    return rows, logs


def _score_geometric(rows, logs, cache: Store, vcfg: dict) -> None:
    limits = {**DEFAULT_LIMITS, **{k: v for k, v in (vcfg.get("geometric") or {}).items() if k in DEFAULT_LIMITS}}
    for row, (p, log) in zip(rows, logs):
        key = content_hash({"log": p.log_id, "prompt": p.prompt, "program": row["program_hash"],
                            "evidence": row["evidence_hash"], "geo_version": GEO_VERSION})
        ev = cache.get("geometric", key)
        if ev is None:
            ev = geometric_evidence(log, p.referred, p.related)
            cache.put("geometric", key, ev)
        row.update(evidence_summary(ev), geo_score=geometric_score(ev, limits), geo_evidence=json.dumps(ev))


def _score_vlm(rows, logs, cache: Store, vcfg: dict, vlm_cfg: dict, backend=None) -> int:
    from .prompts import build_request, load_template
    from .render import RenderConfig, render_evidence

    render_cfg = RenderConfig.from_cfg(vcfg.get("render"))
    template = load_template(vcfg.get("prompt", "legend_yes_no"))
    backend = backend or build_backend(vlm_cfg)
    todo = []
    for row, (p, log) in zip(rows, logs):
        key = content_hash({"log": p.log_id, "prompt": p.prompt, "program": row["program_hash"],
                            "evidence": row["evidence_hash"], "render": render_cfg.key(),
                            "template": template, "vlm": backend.cache_key()})
        row["vlm_key"] = key
        hit = cache.get("vlm", key)
        if hit is not None:
            row.update(vlm_p_yes=hit["p_yes"], vlm_answer=hit["raw"], vlm_cached=True, vlm_seconds=0.0)
        else:
            todo.append((row, p, log))
    batch = max(1, int(vcfg.get("batch_size", 8)))
    for i in tqdm(range(0, len(todo), batch), desc="verify: VLM", unit="batch",
                  disable=not todo or not vcfg.get("progress", True)):
        chunk = todo[i:i + batch]
        t0 = time.perf_counter()
        requests = []
        asked = []
        for row, p, log in chunk:
            try:
                ev = render_evidence(log, p.referred, p.related, render_cfg)
            except Exception as exc:  # noqa: BLE001 - one pair's failure is recorded, the run goes on
                row.update(vlm_p_yes=np.nan, vlm_answer="", vlm_cached=False, vlm_error=f"render: {exc}")
                continue
            row["vlm_frames"] = len(ev.timestamps)
            requests.append(build_request(template, p.prompt, ev, render_cfg.layout))
            asked.append(row)
        answers = backend.answer(requests) if requests else []
        dt = (time.perf_counter() - t0) / len(chunk)
        for row, (p_yes, raw) in zip(asked, answers):
            row.update(vlm_p_yes=float(p_yes), vlm_answer=raw, vlm_cached=False, vlm_seconds=dt)
            if np.isfinite(p_yes):
                cache.put("vlm", row["vlm_key"], {"p_yes": float(p_yes), "raw": raw})
            else:
                row["vlm_error"] = raw
    return sum(1 for row, _, _ in todo if "vlm_frames" in row)


def score_pairs(pairs: list[PairPrediction], cfg: Any, backend=None, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per positive pair with the scores the configured verifier needs.

    ``cfg``: the run config (``verifier`` and ``vlm`` groups) or a verifier config alone.
    ``df.attrs``: ``vlm_calls`` (requests sent to the model), ``cache_hits``.
    """
    vcfg, vlm_cfg = split_cfg(cfg)
    verifier = build_verifier(vcfg)
    mode = vcfg.get("name", "none")
    rows, logs = _base_rows(pairs) if verifier.enabled else ([], [])
    cache = Store(cache_dir if cache_dir is not None else vcfg.get("cache_dir"), codec="json",
                  fanout=True)  # root None: no cache
    calls = 0
    if verifier.uses_geometric:
        _score_geometric(rows, logs, cache, vcfg)
    if verifier.uses_vlm and rows:
        calls = _score_vlm(rows, logs, cache, vcfg, vlm_cfg, backend)
    df = pd.DataFrame(rows)
    hits = sum(cache.hits.values())
    df.attrs.update(vlm_calls=calls, cache_hits=hits)
    log_.info("verifier %s: %d pairs scored, %d model calls, %d cache hits", mode, len(rows), calls, hits)
    return df


