"""Helpers to compare the DSL with the reference's answers in ../shared/refav_parity.

Shared by the parity tests of every DSL module: load the programs and reference outputs,
run a program the way the pipeline does (plain exec with the DSL namespace, under capture),
and compare (referred uuid, timestamp) sets.
"""
from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
LOGS = SHARED / "av2_mini" / "logs"
PARITY = SHARED / "refav_parity"
SKIP_REASON = f"reference data not found at {PARITY} / {LOGS} (dev machines and CI have ../shared)"


def available() -> bool:
    return (PARITY / "programs.json").is_file() and LOGS.is_dir()


@lru_cache(maxsize=1)
def programs() -> list[dict]:
    return json.loads((PARITY / "programs.json").read_text()) if available() else []


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads((PARITY / "reference_outputs.json").read_text())


def log_dir(log_id: str) -> Path:
    return LOGS / log_id


def calls(code: str) -> set[str]:
    """Names of the functions a program calls (including wrapped ones: scenario_not(f))."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
    return names


def missing(code: str) -> list[str]:
    """DSL names a program uses that scenmine.dsl does not provide yet."""
    from scenmine.dsl import MISSING

    return sorted(calls(code) & set(MISSING))


def run(code: str, log: Path, output_dir: Path | None = None):
    """Run a program like the pipeline: returns the scenario passed to output_scenario."""
    from scenmine.dsl import NAMESPACE
    from scenmine.dsl.output import capture

    scope = dict(NAMESPACE, log_dir=Path(log), output_dir=Path(output_dir or "/tmp/scenmine-out"),
                 description="")
    with capture() as records:
        exec(compile(code, "<program>", "exec"), scope)  # noqa: S102 - trusted test programs
    assert records, "the program never called output_scenario"
    return records[-1][1]


def referred_pairs(scenario: dict) -> set[tuple[str, int]]:
    from scenmine.dsl.scenario import timestamps_of

    return {(u, t) for u, v in scenario.items() for t in timestamps_of(v)}


def reference_pairs(entry: dict) -> set[tuple[str, int]]:
    return {(u, int(t)) for u, v in entry["raw"].items() for t in v["timestamps"]}


def jaccard(a: set, b: set) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def compare(scenario: dict, entry: dict) -> dict:
    """Jaccard of (uuid, timestamp) pairs and whether the referred-track sets match."""
    ours, ref = referred_pairs(scenario), reference_pairs(entry)
    ours_tracks, ref_tracks = {u for u, _ in ours}, {u for u, _ in ref}
    return {"jaccard": jaccard(ours, ref), "exact_tracks": ours_tracks == ref_tracks,
            "extra": sorted(ours_tracks - ref_tracks), "lacking": sorted(ref_tracks - ours_tracks),
            "n_ours": len(ours), "n_ref": len(ref)}


def compare_post(scenario: dict, log: Path, entry: dict) -> dict:
    """Post-processed referred / related (uuid, eval timestamp) sets against the reference."""
    from scenmine.dsl.output import post_process

    referred, related = post_process(scenario, log)
    flat = lambda d: {(u, int(t)) for u, ts in d.items() for t in ts}
    return {"referred": jaccard(flat(referred), flat(entry["post"])),
            "related": jaccard(flat(related), flat(entry.get("post_related", {})))}
