"""Run-level accounting of generations, ready for MLflow (metrics + a transcripts artifact)."""
from __future__ import annotations

import json
from collections import Counter

SUMMED = ("calls", "cache_hits", "input_tokens", "output_tokens", "cost_usd", "retries",
          "failed_calls", "error_retries", "feedback_rounds", "turns", "tool_calls",
          "truncated", "repaired", "trimmed", "fallbacks")


def failure_reason(gen) -> str:
    """The failure tag of a failed Generation (its ``reason``, else the error's prefix)."""
    reason = getattr(gen, "reason", None)
    if reason:
        return reason
    return (gen.error or "unknown").split(":")[0].strip().replace(" ", "_")[:40]


def usage_summary(generations, prefix: str = "gen_") -> dict:
    """Totals over prompts, wall time per prompt, and failure counts by reason."""
    gens = list(generations)
    out = {f"{prefix}{k}": 0 for k in SUMMED}
    seconds = []
    for g in gens:
        for k in SUMMED:
            out[f"{prefix}{k}"] += g.usage.get(k, 0) or 0
        seconds.append(float(g.usage.get("seconds", 0.0) or 0.0))
    failed = [g for g in gens if not g.ok]
    out[f"{prefix}prompts"] = len(gens)
    out[f"{prefix}failed"] = len(failed)
    out[f"{prefix}seconds_total"] = sum(seconds)
    out[f"{prefix}seconds_per_prompt_mean"] = sum(seconds) / len(seconds) if seconds else 0.0
    out[f"{prefix}seconds_per_prompt_max"] = max(seconds, default=0.0)
    for reason, n in Counter(failure_reason(g) for g in failed).items():
        out[f"{prefix}failed_{reason}"] = n
    return out


def transcripts_json(generations) -> str:
    """Every prompt's program, error, usage and full transcript (a JSON artifact)."""
    return json.dumps([{"prompt": g.prompt, "program": g.program, "error": g.error,
                        "last_draft": getattr(g, "last_draft", None),
                        "reason": getattr(g, "reason", None), "usage": g.usage,
                        "transcript": g.transcript} for g in generations],
                      indent=1, ensure_ascii=False, default=str)
