"""``python -m scenmine.view --run <run id | run folder> [--prompt TEXT] [--log ID] [--worst N]``.

Renders each chosen (log, prompt) pair of a run (an MP4 and a small animated WebP of the
bird's-eye view over the whole log with outcomes against the ground truth, a timeline strip,
camera frames where the log has images) and writes the gallery ``<run folder>/view/index.html``;
logs it with the run in MLflow when the run is known there.
"""
from __future__ import annotations

import argparse
import logging
import sys

from omegaconf import OmegaConf


def main(argv: list[str] | None = None) -> int:
    from scenmine.view import ViewConfig, build_view, log_to_mlflow, open_run

    parser = argparse.ArgumentParser(prog="python -m scenmine.view",
                                     description=__doc__.split("\n\n")[0].split("``")[0].strip()
                                     or "Render a run's mined scenarios.")
    parser.add_argument("--run", required=True, help="MLflow run id or run folder (outputs/runs/...)")
    parser.add_argument("--prompt", help="only this prompt")
    parser.add_argument("--log", dest="log_id", help="only this log id")
    parser.add_argument("--worst", type=int, default=None,
                        help="only the N worst pairs (default: every chosen pair)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    parser.add_argument("--size", type=int, help="width and height of the map view, px "
                        "(default: view.size of conf/view/default.yaml)")
    parser.add_argument("--range-m", type=float, help="half-width of the view, metres (default: view.range_m)")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the view with the run")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--tracking-dir", default="mlruns", help="local MLflow store (default mlruns)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (overrides --tracking-dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    tracking = OmegaConf.create({"uri": args.tracking_uri, "dir": args.tracking_dir,
                                 "enabled": not args.no_mlflow})
    given = {"worst": args.worst, "workers": args.workers, "range_m": args.range_m,
             "size": None if args.size is None else [args.size - args.size % 2] * 2}
    cfg = ViewConfig.defaults(**{k: v for k, v in given.items() if v is not None or k == "worst"})
    try:
        record = open_run(args.run, tracking)
        index, views = build_view(record, cfg, args.prompt, args.log_id, not args.no_progress)
        link = None if args.no_mlflow else log_to_mlflow(tracking, record, index.parent)
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"view failed: {exc}", file=sys.stderr)
        return 2
    failed = sum(1 for v in views if v.error)
    print(f"{len(views) - failed} pairs rendered{f', {failed} failed (see their cards)' if failed else ''}")
    print(f"gallery: {index.resolve().as_uri()}")
    if link:
        print(f"in MLflow: run {record.run_id}, artifact view/index.html (UI route {link})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
