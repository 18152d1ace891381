"""Track-refinement benchmark: what tracker noise costs the program library and what
refinement wins back.

``python -m scenmine.bench tracks [--logs DIR] [--programs DIR] [--only SUBSTR ...] [--seed 0]
[--json FILE]``

Per real log: (a) the clean annotations, (b) tracker-like noisy tracks made from them
(scenmine.tracks.noise, seeded per log), (c) (b) refined with the default ``tracks`` options
(scenmine.tracks.refinement). Every library program runs on each variant in-process, the way the
sandbox runs it (scenmine.bench.dsl.run_program, then the execute stage's post-processing and
official frames). (a)'s outputs are the ground truth; (b) and (c) are scored against it with
the official evaluator's HOTA-Temporal steps (scenmine.evaluate.hota_temporal_by_prompt):
per program and overall (the mean over programs, as the evaluator averages over prompts),
plus (a) against itself as the ceiling (programs with no answer on these logs score 0 there). Then refinement is timed on each noisy log and on a dense one
(hundreds of tracks). The last line reads
``refinement recovers N % of the HOTA-Temporal lost to noise (noisy X, refined Y)``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from scenmine.bench.dsl import DEFAULT_LOGS, DEFAULT_PROGRAMS, bench_inputs, run_program

VARIANTS = ("clean", "noisy", "refined")
LOSS_LIMIT = 0.02  # a program should not lose more than this to refinement


def variants(log_dir: Path, seed: int, refine_options=None, noise_options=None) -> dict:
    """The clean, noisy and refined LogData of one log, and refinement's seconds."""
    from dataclasses import replace

    from scenmine.data.logs import load_log
    from scenmine.tracks import NoiseOptions, make_noisy, refine

    clean = load_log(log_dir)
    noisy = make_noisy(clean, replace(noise_options or NoiseOptions(), seed=seed))
    start = time.perf_counter()
    refined = refine(noisy, refine_options)
    return {"clean": clean, "noisy": noisy, "refined": refined,
            "refine_s": time.perf_counter() - start}


def program_frames(log, pid: str, code: str) -> tuple[list[dict], str | None]:
    """Official frames of one program's answer on ``log`` (empty frames if it fails)."""
    from scenmine.data.submission import build_frames
    from scenmine.dsl.context import use_log
    from scenmine.dsl.output import post_process

    use_log(log)
    result = run_program(code, log.log_dir)
    if result["error"]:
        return build_frames(log, {}, {}, pid), result["error"]
    referred, related = post_process(result["scenario"], log.log_dir)
    return build_frames(log, referred, related, pid), None


def bench(logs: list[Path], programs: list[tuple[str, str]], seed: int = 0,
          noise_options=None, dense_phantoms: int = 300, progress: bool = True,
          eval_chunk: int = 16) -> dict:
    import scipy.optimize  # noqa: F401 - imported once per process, before refinement is timed

    from scenmine.execute.worker import forget_logs
    from scenmine.tracks import NoiseOptions, make_noisy, refine

    submissions: dict = {name: {} for name in VARIANTS}
    errors: list[str] = []
    timing: list[dict] = []
    for i, log_dir in enumerate(logs):
        logs_of = variants(log_dir, seed + i, noise_options=noise_options)
        timing.append({"log": log_dir.name, "tracks": int(logs_of["noisy"].n_tracks),
                       "seconds": logs_of["refine_s"]})
        for name in VARIANTS:
            for pid, code in programs:
                frames, error = program_frames(logs_of[name], pid, code)
                submissions[name][(log_dir.name, pid)] = frames
                if error:
                    errors.append(f"{name} {log_dir.name[:8]} {pid}: {error}")
        if progress:
            print(f"[{i + 1}/{len(logs)}] {log_dir.name}: {len(programs)} programs x 3 variants",
                  file=sys.stderr)
        if i < len(logs) - 1:
            forget_logs()  # this log's arrays, maps and DSL caches are not needed again
    # refinement time on a dense tracker output: many phantoms and duplicates on top
    dense = make_noisy(logs_of["clean"], NoiseOptions(seed=seed, phantoms=dense_phantoms,
                                                       duplicate_track=0.3))
    start = time.perf_counter()
    refine(dense)
    timing.append({"log": f"{logs[-1].name} (dense)", "tracks": int(dense.n_tracks),
                   "seconds": time.perf_counter() - start})

    scores = score_variants(submissions, [pid for pid, _ in programs], logs[0].parent, eval_chunk)
    return {"scores": scores, "timing": timing, "errors": errors,
            "programs": [pid for pid, _ in programs], "logs": [p.name for p in logs]}


def score_variants(submissions: dict, programs: list[str], dataset_dir: Path, chunk: int) -> dict:
    """HOTA-Temporal of each variant against the clean answers, per program and overall.

    The official evaluator scores each prompt (here: program) on its own and averages over
    prompts; scenmine.evaluate.hota_temporal_by_prompt runs its HOTA-Temporal steps alone,
    ``chunk`` programs at a time, and the overall figure is the mean over programs.
    """
    from scenmine.evaluate import hota_temporal_by_prompt

    truth = submissions["clean"]
    scores = {}
    for name in VARIANTS:
        per_program = hota_temporal_by_prompt(submissions[name], truth, dataset_dir, chunk=chunk)
        values = [per_program.get(p, float("nan")) for p in programs]
        scores[name] = {"per_program": per_program,
                        "overall": float(statistics.fmean(values)) if values else float("nan")}
    return scores


def recovery(clean: float, noisy: float, refined: float) -> float:
    """Share (%) of the HOTA-Temporal that noise costs which refinement wins back."""
    lost = clean - noisy
    return 100.0 * (refined - noisy) / lost if lost > 1e-12 else float("nan")


def report(result: dict) -> str:
    s = result["scores"]
    lines = [f"{'program':48s} {'noisy':>7s} {'refined':>8s} {'change':>7s}"]
    losers = []
    for pid in result["programs"]:
        noisy = s["noisy"]["per_program"].get(pid, float("nan"))
        refined = s["refined"]["per_program"].get(pid, float("nan"))
        flag = ""
        if refined < noisy - LOSS_LIMIT:
            losers.append(pid)
            flag = "  <- loses"
        lines.append(f"{pid[:48]:48s} {noisy:7.3f} {refined:8.3f} {refined - noisy:+7.3f}{flag}")
    for err in result["errors"]:
        lines.append(f"    error {err}")
    lines.append("")
    for row in result["timing"]:
        lines.append(f"refinement of {row['log']}: {row['tracks']} tracks in "
                     f"{row['seconds'] * 1e3:.0f} ms")
    per_log = [row["seconds"] for row in result["timing"]]
    lines.append(f"refinement time per log: median {statistics.median(per_log) * 1e3:.0f} ms, "
                 f"max {max(per_log) * 1e3:.0f} ms (target < 2000 ms)")
    deltas = [s["refined"]["per_program"].get(p, float("nan")) - s["noisy"]["per_program"].get(p, float("nan"))
              for p in result["programs"]]
    lines.append(f"programs: {len(result['programs'])} on {len(result['logs'])} logs; refined better "
                 f"on {sum(d > 1e-9 for d in deltas)}, worse on {sum(d < -1e-9 for d in deltas)}, "
                 f"worse by more than {LOSS_LIMIT} on {len(losers)}"
                 + (f" ({', '.join(losers)})" if losers else ""))
    clean, noisy, refined = (s[name]["overall"] for name in VARIANTS)
    lines.append(f"HOTA-Temporal against the clean annotations' answers: clean {clean:.4f} "
                 f"(ceiling), noisy {noisy:.4f}, refined {refined:.4f}")
    lines.append(f"refinement recovers {recovery(clean, noisy, refined):.0f} % of the HOTA-Temporal "
                 f"lost to noise (noisy {noisy:.3f}, refined {refined:.3f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenmine.bench tracks",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="folder of log folders")
    ap.add_argument("--programs", type=Path, default=DEFAULT_PROGRAMS, help="folder of *.py programs")
    ap.add_argument("--only", nargs="*", help="run only programs whose id contains one of these")
    ap.add_argument("--max-logs", type=int, default=None, help="use only the first N logs")
    ap.add_argument("--seed", type=int, default=0, help="noise seed (log i uses seed + i)")
    ap.add_argument("--dense-phantoms", type=int, default=300,
                    help="phantom tracklets added to the log whose refinement is timed densely")
    ap.add_argument("--eval-chunk", type=int, default=16,
                    help="programs per official-evaluator call (its memory grows with the pairs)")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    inputs = bench_inputs(args.logs, args.programs, args.only, args.max_logs)
    if inputs is None:
        return 2
    logs, programs = inputs
    result = bench(logs, programs, args.seed, dense_phantoms=args.dense_phantoms,
                   progress=not args.quiet, eval_chunk=max(1, args.eval_chunk))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
