"""Run scenario programs on one log: ``python -m scenmine.execute``.

    python -m scenmine.execute --log-dir DIR --program FILE --out OUT.json [--post]
    python -m scenmine.execute --log-dir DIR --program A.py --program B.py --out OUTDIR
    python -m scenmine.execute --log-dir DIR --program PROGRAMS_DIR --out OUTDIR

Writes the scenario dict each program passed to output_scenario as JSON (with ``--post``:
referred uuid -> evaluation timestamps after post-processing). With one program, a failure
exits non-zero with a one-line reason and writes nothing; with several, each failure writes
``<stem>.error.txt`` next to the results and the exit code is 1 if any failed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from scenmine.execute.channel import clean_text
from scenmine.execute.confine import IsolationUnavailable
from scenmine.execute.runner import ExecResult, Task, execute_tasks


def to_jsonable(value):
    """Scenario dicts (nested, numpy timestamps) -> plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [to_jsonable(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def result_json(result: ExecResult, post: bool, eval_timestamps: np.ndarray | None) -> dict:
    if not post:
        return to_jsonable(result.scenario)
    keep = set(int(t) for t in eval_timestamps) if eval_timestamps is not None else None
    return {uuid: [int(t) for t in ts if keep is None or int(t) in keep]
            for uuid, ts in result.referred.items()}


def write_json(path: Path, value) -> str | None:
    """Write ``value`` as JSON; the reason instead of raising when it cannot be written
    (e.g. an integer too long to print), so one result never loses the others."""
    try:
        text = json.dumps(value)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        return clean_text(f"output: result cannot be written as JSON: {exc}")
    path.write_text(text)
    return None


def program_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.py")) if p.is_dir() else [p])
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenmine.execute", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", required=True, help="an Argoverse 2 log folder")
    parser.add_argument("--program", action="append", required=True,
                        help="a program file, or a folder of *.py programs (repeatable)")
    parser.add_argument("--out", required=True, help="JSON file (one program) or folder")
    parser.add_argument("--post", action="store_true", help="write post-processed referrals")
    parser.add_argument("--description", default="", help="the prompt text")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per program")
    parser.add_argument("--memory-mb", type=int, default=4096, help="worker memory limit")
    parser.add_argument("--max-result-mb", type=float, default=16.0, help="cap on one result")
    parser.add_argument("--isolation", default="best_effort",
                        help="best_effort, required, or comma-separated OS layers to require")
    args = parser.parse_args(argv)

    files = program_files(args.program)
    if not files:
        print(f"error: no programs found in {args.program}", file=sys.stderr)
        return 2
    missing = [f for f in files if not f.is_file()]
    if missing:
        print(f"error: program file not found: {missing[0]}", file=sys.stderr)
        return 2
    tasks = [Task(f.stem, Path(args.log_dir), f.read_text(), args.description) for f in files]
    isolation = args.isolation if args.isolation in ("best_effort", "required") \
        else [layer.strip() for layer in args.isolation.split(",") if layer.strip()]
    try:
        results = execute_tasks(tasks, workers=1, timeout_s=args.timeout,
                                memory_mb=args.memory_mb, progress=len(tasks) > 1,
                                isolation=isolation, max_result_mb=args.max_result_mb)
    except (ValueError, IsolationUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    eval_ts = None
    if args.post:
        from scenmine.data.logs import load_log
        eval_ts = load_log(args.log_dir).eval_timestamps
    out = Path(args.out)
    if len(tasks) == 1:
        result = results[tasks[0].key]
        if not result.ok:
            print(f"error: {result.error}", file=sys.stderr)
            return 1
        out.parent.mkdir(parents=True, exist_ok=True)
        problem = write_json(out, result_json(result, args.post, eval_ts))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
        return int(problem is not None)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for task in tasks:
        result = results[task.key]
        error = result.error if not result.ok else write_json(
            out / f"{task.key}.json", result_json(result, args.post, eval_ts))
        if error:
            failed += 1
            (out / f"{task.key}.error.txt").write_text(error + "\n")
            print(f"{clean_text(task.key, 200)}: {error}", file=sys.stderr)
    return int(failed > 0)


if __name__ == "__main__":
    sys.exit(main())
