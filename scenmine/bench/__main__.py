"""``python -m scenmine.bench <subcommand> [options]``: dsl | coverage | atoms | scale | convert | tracks | view."""
from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "dsl": ("scenmine.bench.dsl", "the DSL program library on real logs: time, memory, agreement"),
    "coverage": ("scenmine.bench.coverage", "share of a prompt list the offline rules generator "
                 "can express (runs each program on a real log)"),
    "atoms": ("scenmine.bench.atoms", "the atoms beyond RefAV's on real logs: ms per log, share "
              "of the DSL benchmark's time, calibration figures"),
    "scale": ("scenmine.bench.scale", "the execute stage on a RefAV-test-sized synthetic split: "
              "pairs/s, memory, projection"),
    "convert": ("scenmine.bench.convert", "RefAV annotations feather -> ground truth: rows/s, peak "
                "memory, projection to the 5 GB train file"),
    "tracks": ("scenmine.bench.tracks", "track refinement on noisy tracker-like tracks of the real "
               "logs: HOTA-Temporal recovered, time per log"),
    "view": ("scenmine.bench.view", "the scenario viewer: seconds to render one pair over its "
             "whole log, one core"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        print(f"usage: python -m scenmine.bench {{{','.join(SUBCOMMANDS)}}} [options]")
        for name, (_, what) in SUBCOMMANDS.items():
            print(f"  {name:8s} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module_name = SUBCOMMANDS[argv[0]][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        print(f"subcommand {argv[0]!r} is not available ({module_name} is not installed yet)")
        return 2
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
