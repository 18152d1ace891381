"""Benchmark of the atoms beyond RefAV's (scenmine.dsl.map_context, scenmine.dsl.behaviour).

``python -m scenmine.bench atoms [--logs DIR] [--no-dsl]``

Per log the log is loaded and warmed as in ``bench dsl``; then one small program per atom
runs with that atom's own per-log work cold (everything the atom caches on the log, the
road index included, is dropped before each run). Printed: per atom the median and maximum
milliseconds per log (target: median under 50 ms), the atoms' total against the total time
of ``bench dsl`` on the same logs (target: at most 20 % more), and the calibration figures the
atoms' defaults were chosen from (the README's "Atoms" section explains them).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from scenmine.bench.dsl import DEFAULT_LOGS, DEFAULT_PROGRAMS, bench, load_programs, run_program
from scenmine.bench.dsl import warm_log as _warm_log

_HEAD = ("everything = get_objects_of_category(log_dir, category='ANY')\n"
         "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
         "peds = get_objects_of_category(log_dir, category='PEDESTRIAN')\n"
         "ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')\n")
CALLS = {  # atom -> the call a program makes (on whole categories: the costly case)
    "in_lane_number": "in_lane_number(vehicles, log_dir, number=1)",
    "on_road_with_lanes": "on_road_with_lanes(vehicles, log_dir, min_lanes=2)",
    "on_one_way_road": "on_one_way_road(vehicles, log_dir)",
    "on_median": "on_median(everything, log_dir)",
    "near_infrastructure": "near_infrastructure(everything, log_dir, 'crosswalk', 5)",
    "nth_object_in_direction": "nth_object_in_direction(ego, vehicles, log_dir, 'forward', n=2)",
    "reversing": "reversing(vehicles, log_dir)",
    "making_u_turn": "making_u_turn(vehicles, log_dir)",
    "making_three_point_turn": "making_three_point_turn(vehicles, log_dir)",
    "parking": "parking(vehicles, log_dir)",
    "pulling_out": "pulling_out(vehicles, log_dir)",
    "cutting_in": "cutting_in(vehicles, vehicles, log_dir)",
    "overtaking": "overtaking(vehicles, vehicles, log_dir)",
    "yielding": "yielding(vehicles, everything, log_dir)",
    "running_stop_sign": "running_stop_sign(vehicles, log_dir)",
    "jaywalking": "jaywalking(peds, log_dir)",
}


def program(atom: str) -> str:
    return (f"{_HEAD}result = {CALLS[atom]}\n"
            "output_scenario(result, description, log_dir, output_dir)\n")


def warm(log_dir: Path):
    """(context, seconds): the log loaded and warmed as bench dsl does."""
    from scenmine.data.logs import load_log
    from scenmine.dsl.context import get_context

    seconds = _warm_log(log_dir)
    return get_context(load_log(log_dir)), seconds


def time_atoms(logs: list[Path]) -> tuple[dict, dict]:
    """({atom: [wall ms per log]}, {atom: [cpu ms per log]}), each atom's own work cold."""
    out: dict = {atom: [] for atom in CALLS}
    cpu: dict = {atom: [] for atom in CALLS}
    for log_dir in logs:
        ctx, _ = warm(log_dir)
        kept = set(ctx.cache)
        for atom in CALLS:
            for key in set(ctx.cache) - kept:
                del ctx.cache[key]
            res = run_program(program(atom), log_dir)
            if res["error"]:
                raise RuntimeError(f"{atom} on {log_dir.name}: {res['error']}")
            out[atom].append(res["seconds"] * 1e3)
            cpu[atom].append(res["cpu_seconds"] * 1e3)
    return out, cpu


# ----------------------------------------------------------------------------- calibration
def calibration(logs: list[Path]) -> list[str]:
    """Figures from the real logs behind the atoms' defaults."""
    from scenmine.dsl.behaviour import (
        REVERSE_SPEED,
        _big_turns,
        _reversing_mask,
        forward_speed,
        heading_track,
    )
    from scenmine.dsl.temporal import persistent, runs

    turn_peaks, reverse_jitter, lane_gaps, moving_rev = [], [], [], []
    parked_flagged = parked_total = moving_flagged = moving_total = 0
    parked_displaced = moving_displaced = 0
    for log_dir in logs:
        ctx, _ = warm(log_dir)
        vehicles = ctx.category_mask("VEHICLE")
        # largest heading change of any turning run (min_angle=0), per moving vehicle
        turns = _big_turns(ctx, 0.0, 1e9, 8.0, None)
        order, lengths, heading = heading_track(ctx)
        for r in np.flatnonzero(vehicles & ~ctx.stationary & turns.any(1)):
            cols = np.flatnonzero(turns[r][order[r, :lengths[r]]])
            if len(cols):
                turn_peaks.append(float(np.ptp(heading[r, cols.min():cols.max() + 1])))
        with np.errstate(invalid="ignore"):
            back = -forward_speed(ctx)
        parked = vehicles & ctx.stationary
        reverse_jitter += back[parked][np.isfinite(back[parked])].tolist()
        moving = vehicles & ~ctx.stationary
        moving_rev += back[moving][np.isfinite(back[moving])].tolist()
        with np.errstate(invalid="ignore"):
            sustained = persistent(ctx, (back > REVERSE_SPEED) & ctx.valid, 1.0, 0.2)
        displaced = _reversing_mask(ctx, REVERSE_SPEED, 1.0, include_parked=True)
        parked_displaced += int((displaced.any(1) & parked).sum())
        moving_displaced += int((displaced.any(1) & moving).sum())
        parked_flagged += int((sustained.any(1) & parked).sum())
        parked_total += int(parked.sum())
        moving_flagged += int((sustained.any(1) & moving).sum())
        moving_total += int(moving.sum())
        # lane dropouts: runs of 'no lane' between two lane frames of moving vehicles
        lane = np.take_along_axis(ctx.lane, order, 1)
        inrow = np.arange(lane.shape[1])[None] < lengths[:, None]
        rows, starts, ends = runs((lane < 0) & inrow & moving[:, None])
        inner = (starts > 0) & (ends < lengths[rows])
        lane_gaps += ((ends - starts)[inner]).tolist()
    pct = lambda xs, q: float(np.percentile(xs, q)) if len(xs) else float("nan")  # noqa: E731
    gaps = np.asarray(lane_gaps)
    return [
        f"turning runs of moving vehicles: {len(turn_peaks)}; largest heading change "
        f"{max(turn_peaks, default=0):.0f} deg, 95th percentile {pct(turn_peaks, 95):.0f} deg "
        "(U-turn / three-point turn threshold: 150 deg)",
        f"backward speed of parked vehicles (jitter): 99.9th percentile "
        f"{pct(reverse_jitter, 99.9):.2f} m/s, max {max(reverse_jitter, default=0):.2f} m/s; "
        f"moving vehicles: 99.9th percentile {pct(moving_rev, 99.9):.2f} m/s "
        "(reversing threshold: 0.5 m/s for 1 s)",
        f"backwards at 0.5 m/s or more for 1 s: parked vehicles {parked_flagged}/{parked_total}, "
        f"moving vehicles {moving_flagged}/{moving_total}; also displaced 0.25 m or more "
        f"backwards (reversing's rule): parked {parked_displaced}, moving {moving_displaced}",
        f"lane dropouts inside moving vehicles' tracks: {len(gaps)}, of 1-2 frames "
        f"{int(((gaps >= 1) & (gaps <= 2)).sum())} (bridged: 0.2 s), longer "
        f"{int((gaps > 2).sum())}",
    ]


def report(times: dict, cpu: dict, dsl: dict | None) -> str:
    """Per atom wall and CPU ms per log (CPU time is steadier on a shared machine; the
    50 ms target is checked on it), and the atoms' share of bench dsl's time."""
    med = statistics.median
    lines = [f"{'atom':26s} {'med ms':>7s} {'cpu ms':>7s} {'max ms':>7s}  (per log, own work cold)"]
    for atom, ms in times.items():
        flag = "" if med(cpu[atom]) < 50 else "  over the 50 ms target"
        lines.append(f"{atom:26s} {med(ms):7.1f} {med(cpu[atom]):7.1f} {max(ms):7.1f}{flag}")
    total = sum(sum(ms) for ms in times.values()) / 1e3
    total_cpu = sum(sum(ms) for ms in cpu.values()) / 1e3
    worst = max(cpu, key=lambda a: med(cpu[a]))
    lines.append(f"atoms: {len(times)}; total {total:.2f} s (cpu {total_cpu:.2f} s) over the "
                 f"logs; slowest cpu median {worst} {med(cpu[worst]):.1f} ms")
    if dsl:
        lines.append(f"bench dsl on the same logs: total {dsl['total_s']:.2f} s, programs "
                     f"{dsl['programs_s']:.2f} s (cpu {dsl['programs_cpu_s']:.2f} s); the new "
                     f"atoms add {100 * total / dsl['total_s']:.1f} % to its total "
                     f"({100 * total_cpu / dsl['programs_cpu_s']:.1f} % of its program cpu "
                     "time; target: at most 20 %)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenmine.bench atoms",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="folder of log folders")
    ap.add_argument("--no-dsl", action="store_true", help="skip the bench dsl comparison")
    ap.add_argument("--no-calibration", action="store_true", help="skip the calibration figures")
    args = ap.parse_args(argv)
    logs = sorted(p for p in args.logs.iterdir() if p.is_dir()) if args.logs.is_dir() else []
    if not logs:
        print(f"no logs under {args.logs}", file=sys.stderr)
        return 2
    dsl = None
    if not args.no_dsl:
        result = bench(logs, load_programs(DEFAULT_PROGRAMS), {})
        rows = result["programs"].values()
        dsl = {"total_s": result["total_s"],
               "programs_s": sum(sum(r["ms"]) for r in rows) / 1e3,
               "programs_cpu_s": sum(sum(r["cpu_ms"]) for r in rows) / 1e3}
    start = time.perf_counter()
    times, cpu = time_atoms(logs)
    print(report(times, cpu, dsl))
    print(f"(atoms timed in {time.perf_counter() - start:.1f} s)")
    if not args.no_calibration:
        print("\ncalibration on the real logs:")
        for line in calibration(logs):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
