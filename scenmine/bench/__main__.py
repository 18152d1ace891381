"""``python -m scenmine.bench <subcommand> [options]``: dsl | scale | view."""
from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "dsl": ("scenmine.bench.dsl", "the DSL program library on real logs: time, memory, agreement"),
    "scale": ("scenmine.bench.scale", "the execute stage on a RefAV-test-sized synthetic split: "
              "pairs/s, memory, projection"),
    "view": ("scenmine.bench.view", "the scenario viewer: seconds to render one pair over its "
             "whole log, one core"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        print(f"usage: python -m scenmine.bench {{{','.join(SUBCOMMANDS)}}} [options]")
        for name, (_, what) in SUBCOMMANDS.items():
            print(f"  {name:6s} {what}")
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
