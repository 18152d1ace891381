"""DSL benchmark: run the program library on real logs; time, memory and agreement.

``python -m scenmine.bench dsl [--logs DIR] [--programs DIR] [--only SUBSTR ...] [--json FILE]``

Per log, the log is loaded and its derived quantities computed once (load time: annotations,
poses, map, smoothed kinematics, lane assignment, relational geometry); then every program runs
in-process the way the pipeline runs it (scenmine.execute.sandbox's static check and restricted
globals, exec with the DSL NAMESPACE under ``output.capture()``). Printed per program: the median
and the maximum milliseconds per log after load, the number of referred (track, timestamp)
pairs, and where a reference answer exists (``--reference`` files, keyed by program id = file
stem) the mean Jaccard of referred (uuid, timestamp) pairs and of related (referred, related,
timestamp) triples, and how many logs match the referred-track set exactly. Then the per-log
load times, the total wall time and the peak resident memory of the process. Wall-clock and
process CPU milliseconds are both shown (CPU time is steadier on a shared machine).

reference_outputs_bench.json holds the reference implementation's (RefAV at the commit named in
../shared/refav_parity/README.md) raw answers for library programs, produced by running RefAV
itself on the four logs (one worker, 60-90 s cap per run: capped runs are recorded with an error
and not compared).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOGS = REPO.parent / "shared" / "av2_mini" / "logs"
DEFAULT_PROGRAMS = Path(__file__).resolve().parent / "programs"
DEFAULT_REFERENCES = (REPO.parent / "shared" / "refav_parity" / "reference_outputs.json",
                      Path(__file__).resolve().parent / "reference_outputs_bench.json")


# ----------------------------------------------------------------------------- programs
def load_programs(folder: Path, only: list[str] | None = None) -> list[tuple[str, str]]:
    """(id, code) of every ``*.py`` in folder (id = file stem), sorted, optionally filtered."""
    out = []
    for path in sorted(Path(folder).glob("*.py")):
        if path.name.startswith("_"):
            continue
        if only and not any(s in path.stem for s in only):
            continue
        out.append((path.stem, path.read_text()))
    return out


def bench_inputs(logs_dir: Path, programs_dir: Path, only: list[str] | None = None,
                 max_logs: int | None = None) -> tuple[list[Path], list[tuple[str, str]]] | None:
    """The log folders and (id, code) programs a benchmark runs on; None (after saying why on
    stderr) when either is empty."""
    logs_dir = Path(logs_dir)
    logs = sorted(p for p in logs_dir.iterdir() if p.is_dir()) if logs_dir.is_dir() else []
    logs = logs[:max_logs] if max_logs else logs
    if not logs:
        print(f"no logs under {logs_dir}", file=sys.stderr)
        return None
    programs = load_programs(programs_dir, only)
    if not programs:
        print(f"no programs under {programs_dir}", file=sys.stderr)
        return None
    return logs, programs


def warm_log(log_dir: Path) -> float:
    """Load a log and derive everything the DSL shares across calls; seconds taken."""
    from scenmine.data.logs import load_log
    from scenmine.dsl.context import get_context
    from scenmine.dsl.relational import _geo

    start = time.perf_counter()
    log = load_log(log_dir)
    ctx = get_context(log)
    _ = ctx.lane                       # map lanes + lane vote
    geo = _geo(ctx)
    geo.smoothed(0), geo.smoothed(1), geo.footprints()
    return time.perf_counter() - start


def run_program(code: str, log_dir: Path) -> dict:
    """Run one program like the pipeline does; {'scenario', 'seconds', 'error'}."""
    from scenmine.dsl import NAMESPACE
    from scenmine.dsl.output import capture
    from scenmine.execute.sandbox import compile_program, program_globals

    start = time.perf_counter()
    cpu = time.process_time()
    try:
        compiled = compile_program(code)
        env = program_globals(NAMESPACE, log_dir)
        with capture() as outputs:
            exec(compiled, env)  # noqa: S102 - library programs, checked, restricted globals
        if not outputs:
            raise ValueError("the program never called output_scenario")
        return {"scenario": outputs[-1][1], "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time() - cpu, "error": None}
    except Exception as exc:  # a failing program is reported, not fatal
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"scenario": None, "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time() - cpu, "error": line}


# ----------------------------------------------------------------------------- agreement
def _timestamps(value, acc: set) -> set:
    if isinstance(value, dict):
        for v in value.values():
            _timestamps(v, acc)
    else:
        acc.update(int(t) for t in value)
    return acc


def referred_pairs(scenario: dict) -> set:
    return {(u, t) for u, v in scenario.items() for t in _timestamps(v, set())}


def related_triples(scenario: dict) -> set:
    return {(u, r, t) for u, v in scenario.items() if isinstance(v, dict)
            for r, w in v.items() for t in _timestamps(w, set())}


def reference_sets(entry: dict) -> tuple[set, set] | None:
    """Referred pairs and related triples of a reference entry (reference_outputs.json format)."""
    if entry.get("error") or entry.get("raw") is None:
        return None
    raw = entry["raw"]
    pairs = {(u, int(t)) for u, v in raw.items() for t in v["timestamps"]}
    triples = {(u, r, int(t)) for u, v in raw.items() for r, ts in v.get("related", {}).items()
               for t in ts}
    return pairs, triples


def jaccard(a: set, b: set) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def load_references(paths) -> dict:
    refs: dict = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            for pid, logs in json.loads(path.read_text()).items():
                refs.setdefault(pid, {}).update(logs)
    return refs


# ----------------------------------------------------------------------------- main
def warm_imports() -> float:
    """Import what every log needs (numpy, scipy, av2's map API, the DSL) once; seconds."""
    start = time.perf_counter()
    import scipy.ndimage  # noqa: F401
    from av2.map.map_api import ArgoverseStaticMap  # noqa: F401

    import scenmine.dsl  # noqa: F401
    import scenmine.execute.sandbox  # noqa: F401
    return time.perf_counter() - start


def bench(logs: list[Path], programs: list[tuple[str, str]], references: dict,
          verbose: bool = False) -> dict:
    t_start = time.perf_counter()
    imports = warm_imports()
    rows = {pid: {"ms": [], "cpu_ms": [], "pairs": [], "errors": [], "jac": [], "jac_rel": [],
                  "exact": [], "ref_s": [], "cold_s": []} for pid, _ in programs}
    loads = {}
    for log_dir in logs:
        loads[log_dir.name] = warm_log(log_dir)
        for pid, code in programs:
            res = run_program(code, log_dir)
            row = rows[pid]
            row["ms"].append(res["seconds"] * 1e3)
            row["cpu_ms"].append(res["cpu_seconds"] * 1e3)
            if res["error"]:
                row["errors"].append(f"{log_dir.name[:8]}: {res['error']}")
                continue
            ours = referred_pairs(res["scenario"])
            row["pairs"].append(len(ours))
            ref = references.get(pid, {}).get(log_dir.name)
            sets = reference_sets(ref) if ref else None
            if ref and (ref.get("seconds") or ref.get("seconds_lower_bound")):
                # the reference ran each pair cold: charge our log load to every pair too
                row["ref_s"].append(float(ref.get("seconds") or ref["seconds_lower_bound"]))
                row["cold_s"].append(res["seconds"] + loads[log_dir.name])
            if sets is not None:
                row["jac"].append(jaccard(ours, sets[0]))
                row["jac_rel"].append(jaccard(related_triples(res["scenario"]), sets[1]))
                row["exact"].append({u for u, _ in ours} == {u for u, _ in sets[0]})
                if verbose and row["jac"][-1] < 1:
                    print(f"  {pid} {log_dir.name[:8]}: only ours {sorted(ours - sets[0])[:4]} "
                          f"only reference {sorted(sets[0] - ours)[:4]}", file=sys.stderr)
    total = time.perf_counter() - t_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"programs": rows, "loads": loads, "imports_s": imports, "total_s": total,
            "peak_rss_mb": peak_mb}


def report(result: dict) -> str:
    lines = [f"{'program':48s} {'med ms':>7s} {'cpu ms':>7s} {'max ms':>7s} {'pairs':>6s} "
             f"{'jaccard':>8s} {'rel jac':>8s} {'exact':>6s}"]
    medians, cpu_medians, jacs, exacts = [], [], [], []
    for pid, row in result["programs"].items():
        med = statistics.median(row["ms"]) if row["ms"] else float("nan")
        cpu = statistics.median(row["cpu_ms"]) if row["cpu_ms"] else float("nan")
        medians.append(med)
        cpu_medians.append(cpu)
        jac = f"{statistics.mean(row['jac']):.3f}" if row["jac"] else "-"
        rel = f"{statistics.mean(row['jac_rel']):.3f}" if row["jac_rel"] else "-"
        exact = f"{sum(row['exact'])}/{len(row['exact'])}" if row["exact"] else "-"
        jacs += row["jac"]
        exacts += row["exact"]
        lines.append(f"{pid[:48]:48s} {med:7.1f} {cpu:7.1f} {max(row['ms'], default=0):7.1f} "
                     f"{sum(row['pairs']):6d} {jac:>8s} {rel:>8s} {exact:>6s}")
        for err in row["errors"]:
            lines.append(f"    error {err}")
    lines.append("")
    lines.append(f"imports (once per process): {result['imports_s'] * 1e3:.0f} ms")
    for log_id, seconds in result["loads"].items():
        lines.append(f"load {log_id}: {seconds * 1e3:.0f} ms")
    run_ms = sum(sum(r["ms"]) for r in result["programs"].values())
    lines.append(f"programs: {len(medians)}; median of per-program medians "
                 f"{statistics.median(medians):.1f} ms per log (cpu {statistics.median(cpu_medians):.1f} ms); "
                 f"program time {run_ms / 1e3:.2f} s; "
                 f"total (loads included) {result['total_s']:.2f} s")
    lines.append(f"peak resident memory: {result['peak_rss_mb']:.0f} MB")
    if jacs:
        lines.append(f"agreement with the reference: {len(jacs)} (program, log) pairs, mean Jaccard "
                     f"{statistics.mean(jacs):.4f}, exact referred tracks {sum(exacts)}/{len(exacts)} "
                     f"({100 * sum(exacts) / len(exacts):.1f} %)")
    ref_s = [t for r in result["programs"].values() for t in r["ref_s"]]
    if ref_s:
        cold_s = sum(t for r in result["programs"].values() for t in r["cold_s"])
        lines.append(f"speed vs the reference (RefAV, cold, one worker; runs stopped at 60 s count "
                     f"as 60 s, so this is a lower bound): {len(ref_s)} pairs, reference "
                     f"{sum(ref_s):.0f} s, scenmine {cold_s:.1f} s with the log load charged to every "
                     f"pair -> {sum(ref_s) / max(cold_s, 1e-9):.0f}x faster")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenmine.bench dsl", description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="folder of log folders")
    ap.add_argument("--programs", type=Path, default=DEFAULT_PROGRAMS, help="folder of *.py programs")
    ap.add_argument("--only", nargs="*", help="run only programs whose id contains one of these")
    ap.add_argument("--reference", nargs="*", type=Path, default=list(DEFAULT_REFERENCES),
                    help="reference_outputs.json-format files to compare with (by program id)")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    ap.add_argument("--verbose", action="store_true", help="print disagreements")
    args = ap.parse_args(argv)
    inputs = bench_inputs(args.logs, args.programs, args.only)
    if inputs is None:
        return 2
    logs, programs = inputs
    result = bench(logs, programs, load_references(args.reference), verbose=args.verbose)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
