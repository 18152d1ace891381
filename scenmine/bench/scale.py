"""Scale benchmark: the execute stage on a RefAV-test-sized synthetic split.

``python -m scenmine.bench scale [--logs 150] [--prompts 10] [--tracks 130] [--workers 1 2]
[--sample-logs N] [--json FILE]``

Builds (once, cached) a split of ``--logs`` synthetic logs from the embedded generator
(scenmine.data.synthetic: the scripted scene of each log plus parked and moving vehicles,
pedestrians, cyclists and street furniture up to ``--tracks`` tracks per log, like real
Argoverse 2 logs), pairs every log with ``--prompts`` RefAV-style programs from the DSL
benchmark library, and runs the execute stage (scenmine.execute.runner.execute_tasks: sandbox
processes, one log loaded once per worker, post-processing and official frames) with each
worker count. Reported per worker count: pairs/second, wall time, the peak resident memory of
the whole process tree (sampled from /proc, plus getrusage maxima of self and children), the
projected time for the RefAV test split (1,500 pairs), failures by reason, and a profile:
seconds per program and per log load, and the runner's overhead.

``--sample-logs N`` runs only the first N logs (the projection scales the measured rate).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REFAV_TEST_PAIRS = 1500
DEFAULT_PROGRAMS = Path(__file__).resolve().parent / "programs"
# RefAV-style programs from the DSL library (the first 24 are RefAV parity programs):
# categories, unary filters, map relations and relational functions, a spread of costs
DEFAULT_MIX = ("b01", "b03", "b05", "b07", "b09", "b13", "b15", "b17", "b21", "b23",
               "b02", "b04", "b06", "b08", "b10", "b11", "b12", "b14", "b16", "b18")
SCALE_VERSION = 1


# ----------------------------------------------------------------------------- the split
def _clutter(rng, t, world, ego, n: int):
    """About ``n`` extra actors around the ego's drive (before the visibility cut)."""
    import numpy as np

    from scenmine.data.synthetic import world as W
    from scenmine.data.synthetic.motion import moving, static
    from scenmine.data.synthetic.scenes import Scene

    sc = Scene(rng, t, world, ego=ego)
    routes = [("E1", "E1"), ("E2", "E2"), ("W1", "W1"), ("W2", "W2"), ("N1", "N1"),
              ("S1", "S1"), ("E1", "N1"), ("N1", "W1"), ("E2", "S1"), ("S1", "W2"),
              ("W2", "N1"), ("N1", "E2"), ("S1", "E1"), ("W1", "S1")]
    kerb = W.MAIN_HALF + 0.8
    for _ in range(n):
        r = rng.random()
        side = 1 if rng.random() < 0.5 else -1
        x = float(rng.uniform(-70, 70))
        try:
            if r < 0.30:  # moving traffic on any route, any time
                cat = rng.choice(["REGULAR_VEHICLE"] * 8 + ["BOX_TRUCK", "BUS"])
                v = float(rng.uniform(3.0, 12.0))
                sc.drive(str(cat), routes[int(rng.integers(len(routes)))], v,
                         float(rng.uniform(0, t[-1])), float(rng.uniform(20, 2 * W.MAIN_LEN - 20)))
            elif r < 0.45:  # parked: kerbside on the main road or in the cross road's strip
                if rng.random() < 0.5:
                    xy, yaw = (x, side * (W.MAIN_HALF - 1.0)), (0.0 if side < 0 else np.pi)
                else:
                    xy, yaw = (float(np.mean(W.PARK_X)), float(rng.uniform(W.YB + 3, 60))), np.pi / 2
                sc.add(static(rng, "REGULAR_VEHICLE", len(t), xy, yaw))
            elif r < 0.75:  # pedestrians walking along the sidewalks or standing
                y = side * float(rng.uniform(kerb + 1.0, kerb + 5.0))
                if rng.random() < 0.7:
                    v = float(rng.uniform(0.8, 1.6))
                    x1 = x + float(rng.choice([-1, 1])) * 40.0
                    sc.add(moving(rng, "PEDESTRIAN", t, np.array([[x, y], [x1, y]]),
                                  [(0.0, v), (t[-1], v)], clip_to_path=False))
                else:
                    sc.add(static(rng, "PEDESTRIAN", len(t), (x, y), float(rng.uniform(-np.pi, np.pi))))
            elif r < 0.80:  # cyclists in the bike lanes
                lane = routes[0] if side < 0 else routes[2]
                name = ("EK", "EK") if lane == routes[0] else ("WK", "WK")
                sc.drive("BICYCLE", name, float(rng.uniform(3, 6)), float(rng.uniform(0, t[-1])),
                         float(rng.uniform(20, 2 * W.MAIN_LEN - 20)))
            else:  # street furniture along the kerbs
                cat = str(rng.choice(["BOLLARD", "CONSTRUCTION_CONE", "SIGN"]))
                sc.add(static(rng, cat, len(t), (x, side * (kerb + 0.3)), 0.0))
        except (KeyError, ValueError, IndexError):  # a route this map lacks: skip the actor
            continue
    return sc


def build_log(out: Path, seed: int, index: int, tracks: int) -> int:
    """Script log ``index`` with the embedded generator, add clutter up to ``tracks`` tracks
    and write it under ``out``; returns its track count."""
    import numpy as np

    from scenmine.data.synthetic import generate as G
    from scenmine.data.synthetic import scenes
    from scenmine.data.synthetic.writer import write_log

    lg = G.make_log(seed, index, scenes.design(index + 1)[index])
    t = (lg["ts"] - lg["ts"][0]) / 1e9
    rng = np.random.default_rng([seed, index, 7])
    actors = list(lg["actors"])
    while len(actors) + 1 < tracks:
        need = tracks - 1 - len(actors)
        extra = scenes.finalize(_clutter(rng, t, lg["world"], lg["ego"], int(need * 1.6) + 4))
        actors += extra[:need]
    write_log(out / lg["log_id"], lg["world"], lg["ego"], actors, lg["ts"], lg["place"],
              lg.get("noise"))
    return len(actors) + 1


def ensure_split(root: Path, n_logs: int, tracks: int, seed: int = 0, progress: bool = True) -> Path:
    """The split's folder of logs, generated (atomically) unless already there."""
    from tqdm import tqdm

    final = root / f"scale-v{SCALE_VERSION}-s{seed}-n{n_logs}-t{tracks}"
    if (final / "done.json").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        counts = [build_log(tmp / "logs", seed, i, tracks)
                  for i in tqdm(range(n_logs), desc="build split", unit="log", disable=not progress)]
        (tmp / "done.json").write_text(json.dumps({"n_logs": n_logs, "tracks": counts}))
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "done.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def pick_programs(folder: Path, n: int, mix=DEFAULT_MIX) -> list[tuple[str, str]]:
    """``n`` programs: the default mix first (by id prefix), then the rest of the library."""
    from scenmine.bench.dsl import load_programs

    library = load_programs(folder)
    chosen = [p for prefix in mix for p in library if p[0].startswith(prefix + "_")]
    chosen += [p for p in library if p not in chosen]
    return chosen[:n]


# ----------------------------------------------------------------------------- measuring
class MemorySampler:
    """Peak summed resident memory of this process and all its descendants (from /proc)."""

    def __init__(self, every_s: float = 0.2):
        self.every_s, self.peak_kb = every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss_kb(root: int) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/status"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            pid = int(stat.parent.name)
            parents[pid] = int(fields.get("PPid", "0").strip() or 0)
            rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
        tree, frontier = {root}, [root]
        while frontier:
            frontier = [p for p, pp in parents.items() if pp in frontier and p not in tree]
            tree.update(frontier)
        return sum(rss.get(p, 0) for p in tree)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self._tree_rss_kb(os.getpid()))
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its reaped children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_execute(logs: list[Path], programs: list[tuple[str, str]], workers: int,
                timeout_s: float, memory_mb: int, progress: bool) -> dict:
    """The execute stage on every (log, program) pair with ``workers`` sandbox processes."""
    from scenmine.execute.runner import Task, execute_tasks

    tasks = [Task(f"{log.name}|{pid}", log, code, pid) for log in logs for pid, code in programs]
    post = {"legacy": False, "relationship_distance": 50}
    cpu0 = _cpu_s()
    with MemorySampler() as mem:
        start = time.perf_counter()
        results = execute_tasks(tasks, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb,
                                post_options=post, progress=progress)
        wall = time.perf_counter() - start
    cpu = _cpu_s() - cpu0  # sandboxes are reaped when the stage ends, so they are counted
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    dedicated = cpu / max(1, min(workers, cores))  # wall time if the cores were ours alone
    by_program: dict[str, list[float]] = {}
    first_of_log: list[float] = []
    seen_logs: set[str] = set()
    failures: dict[str, int] = {}
    for task in tasks:
        r = results[task.key]
        log_id, pid = task.key.split("|", 1)
        if log_id not in seen_logs:  # the first pair of a log also pays for loading it
            seen_logs.add(log_id)
            first_of_log.append(r.seconds)
        else:
            by_program.setdefault(pid, []).append(r.seconds)
        if not r.ok:
            cause = str(r.error).split(":")[0]
            failures[cause] = failures.get(cause, 0) + 1
    busy = sum(r.seconds for r in results.values())
    return {"workers": workers, "pairs": len(tasks), "wall_s": wall,
            "pairs_per_s": len(tasks) / wall if wall else 0.0,
            "projected_refav_test_s": REFAV_TEST_PAIRS / (len(tasks) / wall) if wall else None,
            "cpu_s": cpu, "cpu_s_per_pair": cpu / len(tasks),
            "projected_refav_test_dedicated_s": REFAV_TEST_PAIRS * dedicated / len(tasks),
            "peak_rss_tree_mb": mem.peak_kb / 1024,
            "failures": failures,
            "profile": {"worker_busy_s": busy,
                        "runner_overhead_s": max(0.0, wall * workers - busy),
                        "first_pair_of_log_median_s": statistics.median(first_of_log) if first_of_log else 0,
                        "program_median_s": {p: statistics.median(v) for p, v in sorted(by_program.items())}}}


def report(result: dict) -> str:
    lines = [f"split: {result['n_logs']} logs x {result['n_programs']} programs = "
             f"{result['n_logs'] * result['n_programs']} pairs; tracks per log: median "
             f"{result['tracks_median']:.0f} (min {result['tracks_min']}, max {result['tracks_max']}); "
             f"ran {result['ran_logs']} logs; cores available: {result['cores']}; "
             f"load average at start: {result['loadavg']}",
             f"{'workers':>7} {'pairs':>6} {'wall s':>8} {'pairs/s':>8} {'1500 pairs':>11} "
             f"{'CPU s/pair':>10} {'1500, own cores':>15} {'peak RSS MB':>12} failures"]
    for r in result["runs"]:
        proj = r["projected_refav_test_s"]
        lines.append(f"{r['workers']:>7} {r['pairs']:>6} {r['wall_s']:>8.1f} {r['pairs_per_s']:>8.2f} "
                     f"{proj / 60:>9.1f} m {r['cpu_s_per_pair']:>10.3f} "
                     f"{r['projected_refav_test_dedicated_s'] / 60:>13.1f} m "
                     f"{r['peak_rss_tree_mb']:>12.0f} {r['failures'] or '-'}")
    lines.append("(1500 pairs: projected from the measured wall time on this machine as loaded; "
                 "own cores: from CPU seconds, as if the cores were not shared)")
    lines.append(f"getrusage max RSS: self {result['maxrss_self_mb']:.0f} MB, largest child "
                 f"{result['maxrss_children_mb']:.0f} MB")
    last = result["runs"][-1]["profile"]
    lines.append(f"profile ({result['runs'][-1]['workers']} workers): sandbox busy "
                 f"{last['worker_busy_s']:.1f} s, runner overhead {last['runner_overhead_s']:.1f} "
                 f"worker-s, first pair of a log (includes the log load) median "
                 f"{last['first_pair_of_log_median_s']:.2f} s")
    slow = sorted(last["program_median_s"].items(), key=lambda kv: -kv[1])
    lines.append("program median s/log: " + ", ".join(f"{p} {s:.3f}" for p, s in slow))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenmine.bench scale",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=int, default=150, help="logs in the synthetic split")
    ap.add_argument("--prompts", type=int, default=10, help="programs per log")
    ap.add_argument("--tracks", type=int, default=130, help="tracks per log (real logs: ~100-250)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sample-logs", type=int, help="run only the first N logs of the split")
    ap.add_argument("--programs", type=Path, default=DEFAULT_PROGRAMS)
    ap.add_argument("--root", type=Path, help="cache folder (default $SCENMINE_CACHE or ~/.cache/scenmine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="per-pair time limit, s")
    ap.add_argument("--memory-mb", type=int, default=4096, help="per-sandbox address-space limit")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    from scenmine.data.synthetic import default_root

    progress = not args.no_progress
    start = time.perf_counter()
    split = ensure_split(args.root or default_root(), args.logs, args.tracks, args.seed, progress)
    build_s = time.perf_counter() - start
    counts = json.loads((split / "done.json").read_text())["tracks"]
    logs = sorted((split / "logs").iterdir())[: args.sample_logs or None]
    programs = pick_programs(args.programs, args.prompts)
    result = {"split": str(split), "build_s": build_s, "n_logs": args.logs,
              "n_programs": len(programs), "programs": [p for p, _ in programs],
              "ran_logs": len(logs), "tracks_median": statistics.median(counts),
              "tracks_min": min(counts), "tracks_max": max(counts),
              "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
              "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()), "runs": []}
    for workers in args.workers:
        result["runs"].append(run_execute(logs, programs, workers, args.timeout, args.memory_mb,
                                          progress))
        print(f"workers={workers}: {result['runs'][-1]['pairs_per_s']:.2f} pairs/s", file=sys.stderr)
    result["maxrss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["maxrss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
