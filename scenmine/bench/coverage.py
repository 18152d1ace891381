"""Prompt coverage of the offline rules generator: which share of a prompt list it can express.

``python -m scenmine.bench coverage [--prompts FILE] [--log DIR] [--verbose]``

A prompt counts as expressed when the rules generator turns it into a program that passes
the sandbox's static check and runs without error on a real log (../shared/av2_mini, first
log; ``--log`` to choose). Printed: the share expressed, how many of those call an atom
beyond RefAV's (scenmine.dsl.map_context / scenmine.dsl.behaviour), and with ``--verbose``
each prompt's outcome (the parse error for the rest).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scenmine.bench.dsl import DEFAULT_LOGS, run_program
from scenmine.generate.extract import called_names

DEFAULT_PROMPTS = Path(__file__).resolve().parent / "prompts" / "public_style.txt"


def load_prompts(path: Path) -> list[str]:
    lines = Path(path).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def new_atoms() -> set[str]:
    from scenmine.dsl.behaviour import BEHAVIOUR_FUNCTIONS
    from scenmine.dsl.map_context import MAP_CONTEXT_FUNCTIONS

    return {f.__name__ for f in MAP_CONTEXT_FUNCTIONS + BEHAVIOUR_FUNCTIONS}


def coverage(prompts: list[str], log_dir: Path) -> list[dict]:
    """One row per prompt: {'prompt', 'ok', 'why', 'new_atoms'}."""
    from scenmine.generate.rules import RulesGenerator

    gen, atoms, rows = RulesGenerator(), new_atoms(), []
    for prompt in prompts:
        g = gen.generate(prompt)
        if not g.ok:
            rows.append({"prompt": prompt, "ok": False, "why": g.error, "new_atoms": []})
            continue
        res = run_program(g.program, log_dir)
        used = sorted(called_names(g.program) & atoms)
        rows.append({"prompt": prompt, "ok": res["error"] is None,
                     "why": res["error"] or "", "new_atoms": used})
    return rows


def report(rows: list[dict]) -> str:
    ok = [r for r in rows if r["ok"]]
    with_new = [r for r in ok if r["new_atoms"]]
    return (f"prompts: {len(rows)}; expressed by the rules generator: {len(ok)} "
            f"({100 * len(ok) / max(len(rows), 1):.1f} %); of these {len(with_new)} use atoms "
            f"beyond RefAV's ({', '.join(sorted({a for r in with_new for a in r['new_atoms']}))})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenmine.bench coverage",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS, help="one prompt a line")
    ap.add_argument("--log", type=Path, help="log folder to run the programs on "
                    "(default: the first log under ../shared/av2_mini/logs)")
    ap.add_argument("--verbose", action="store_true", help="print every prompt's outcome")
    args = ap.parse_args(argv)
    if not args.prompts.is_file():
        print(f"prompt list not found: {args.prompts} (pass --prompts FILE)", file=sys.stderr)
        return 2
    log_dir = args.log
    if log_dir is None:
        logs = sorted(p for p in DEFAULT_LOGS.iterdir() if p.is_dir()) if DEFAULT_LOGS.is_dir() \
            else []
        if not logs:
            print(f"no logs under {DEFAULT_LOGS} (pass --log DIR)", file=sys.stderr)
            return 2
        log_dir = logs[0]
    rows = coverage(load_prompts(args.prompts), log_dir)
    if args.verbose:
        for r in rows:
            mark = "ok  " if r["ok"] else "FAIL"
            extra = f"  [{', '.join(r['new_atoms'])}]" if r["new_atoms"] else ""
            print(f"{mark} {r['prompt']}{extra}" + ("" if r["ok"] else f"  -- {r['why']}"))
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
