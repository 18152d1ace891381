"""Stage 3, semantic code review: programs checked against their prompt, and corrected."""
from __future__ import annotations


def review_programs(cfg, programs: dict, store, tracker, failures) -> dict:
    """Return the programs to execute (``reviewer=none``: unchanged)."""
    if cfg.reviewer.name == "none":
        return programs
    raise ValueError(f"reviewer: unknown reviewer {cfg.reviewer.name!r}")
