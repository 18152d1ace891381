"""How close the rules generator's programs come to the human-written reference programs.

Runs the generated program for each description of ``refav_parity/programs.json`` on the
real logs with scenmine's DSL, post-processes it like ``output_scenario`` does, and compares
the referred (uuid, evaluation timestamp) pairs with the reference's ``post`` output::

    python -m scenmine.generate.rules.parity [--only p13,p14] [--set moving_min_velocity=null]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from scenmine.generate.rules.generator import RulesGenerator

_SHARED = Path(__file__).resolve().parents[4] / "shared"


def run_program(program: str, log_dir: Path, description: str):
    """Execute a program with the DSL namespace; returns the post-processed referred dict."""
    from scenmine.dsl import NAMESPACE
    from scenmine.dsl.output import capture, post_process
    with tempfile.TemporaryDirectory() as out, capture() as records:
        exec(compile(program, "<rules>", "exec"),  # noqa: S102 - our own generated program
             {**NAMESPACE, "log_dir": log_dir, "output_dir": Path(out), "description": description})
    if len(records) != 1:
        raise RuntimeError(f"program recorded {len(records)} outputs")
    referred, _ = post_process(records[0][1], log_dir)
    return referred


def pairs(referred: dict) -> set:
    return {(u, int(t)) for u, ts in referred.items() for t in ts}


def compare(ours: set, ref: set) -> dict:
    inter = len(ours & ref)
    return {"ours": len(ours), "ref": len(ref), "both": inter,
            "jaccard": inter / len(ours | ref) if ours | ref else 1.0}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parity", type=Path, default=_SHARED / "refav_parity")
    ap.add_argument("--logs", type=Path, default=_SHARED / "av2_mini" / "logs")
    ap.add_argument("--only", default="", help="comma-separated program ids")
    ap.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                    help="a RulesGenerator option, e.g. moving_min_velocity=null")
    args = ap.parse_args(argv)
    programs = json.loads((args.parity / "programs.json").read_text())
    reference = json.loads((args.parity / "reference_outputs.json").read_text())
    only = set(filter(None, args.only.split(",")))
    options = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    gen, report = RulesGenerator(**options), {}
    for ref in programs:
        if only and ref["id"] not in only:
            continue
        g = gen.generate(ref["description"])
        for log_id, entry in reference[ref["id"]].items():
            row = {"error": g.error}
            if g.ok:
                t0 = time.perf_counter()
                try:
                    ours = pairs(run_program(g.program, args.logs / log_id, ref["description"]))
                    row.update(compare(ours, pairs(entry["post"])))
                except Exception as exc:  # noqa: BLE001 - report and go on
                    row["error"] = f"{type(exc).__name__}: {exc}"
                row["seconds"] = round(time.perf_counter() - t0, 2)
            report[(ref["id"], log_id)] = row
            print(ref["id"], log_id[:8], ref["description"][:50].ljust(50),
                  row.get("error") or "ours {ours:4d} ref {ref:4d} both {both:4d} "
                  "jaccard {jaccard:.2f}  {seconds}s".format(**row), flush=True)
    done = [r for r in report.values() if "jaccard" in r]
    if done:
        exact = sum(r["ours"] == r["ref"] == r["both"] for r in done)
        print(f"{len(done)}/{len(report)} pairs ran; identical {exact}; mean jaccard "
              f"{sum(r['jaccard'] for r in done) / len(done):.3f}")
    return report


if __name__ == "__main__":
    main()
