"""A fake ``run_program`` (same signature and result fields as scenmine.execute.runner)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CALLS: list[tuple[str, str]] = []


@dataclass
class FakeExecResult:
    ok: bool
    error: str | None = None
    seconds: float = 0.01
    scenario: dict | None = None
    referred: dict = field(default_factory=dict)
    related: dict = field(default_factory=dict)


def run_program(code: str, log_dir, timeout_s: float = 60.0, **kw) -> FakeExecResult:
    """'boom' in the code -> a runtime error; a log named '*empty*' -> nothing found;
    otherwise two vehicles and a pedestrian, at timestamps 1..3 ns."""
    CALLS.append((code, str(log_dir)))
    if "boom" in code:
        return FakeExecResult(False, "Traceback (most recent call last):\n  File \"<program>\", "
                              "line 2\nNameError: name 'boom' is not defined")
    if "empty" in Path(log_dir).name:
        return FakeExecResult(True, scenario={})
    referred = {"v1": [1, 2, 3], "v2": [2], "p1": [3]}
    return FakeExecResult(True, scenario={k: list(v) for k, v in referred.items()},
                          referred=referred, related={"r1": [1]})


def log_info(log_dir):
    """(uuid -> category, timestamps) for every fake log."""
    import numpy as np
    return ({"v1": "REGULAR_VEHICLE", "v2": "BUS", "p1": "PEDESTRIAN"},
            np.array([0, 1, 2, 3, 4, 5], dtype=np.int64))
