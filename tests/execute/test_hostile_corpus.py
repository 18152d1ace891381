"""A generated corpus of ~50 hostile programs: no side effects, bounded time, and the benign
program run after each one in the same worker answers exactly as when run alone.

The corpus is generated here (attacks x disguises), never stored as data: attacks that the
static check rejects, attribute reads the allowlist refuses, resource attacks the limits stop,
lies to the runner, and programs that succeed while trying to leave state behind.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import pytest

from scenmine.execute.runner import Task, execute_tasks

TIMEOUT_S = 3.0
BENIGN = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
          "output_scenario(stationary(vehicles, log_dir), description, log_dir, output_dir)\n")
ATTACKS = {  # name -> statement(s) using {marker}, a path the program must never create
    "import": "import os\nos.system('touch {marker}')",
    "from_import": "from os import system\nsystem('touch {marker}')",
    "dunder_import": "m = __import__('os')",
    "builtins_open": "open('{marker}', 'w')",
    "eval": "eval(\"open('{marker}', 'w')\")",
    "getattr": "getattr(log_dir, 'touch')()",
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "format_attr": "x = '{{0.__class__}}'.format(log_dir)",
    "globals": "g = globals()",
    "path_class": "Path('{marker}').touch()",
    "log_dir_link": "log_dir.link_to('{marker}')",
    "log_dir_resolve": "x = log_dir.resolve()",
    "output_dir_owner": "x = output_dir.owner()",
    "array_resize": "a = np.zeros(514)\nv = a[:]\na.resize(200000, refcheck=False)",
    "array_view": "a = np.zeros(8)\nb = a.view(np.int64)",
    "array_base": "a = np.zeros(8)\nb = a[1:].base",
    "array_tofile": "a = np.zeros(8)\na.tofile('{marker}')",
    "keys_mapping": "d = {{'a': 1}}\nm = d.keys().mapping",
    "method_self": "x = [1]\ns = x.append.__self__",
    "np_module": "x = np.linalg.norm.__globals__",
    "set_attribute": "np.zeros = None",
    "print_flood": "for i in range(10**9):\n    print('\\x1b[2J\\r' * 100)",
    "recursion": "def f(n):\n    return f(n + 1)\nf(0)",
    "memory": "x = np.ones((100000, 100000))",
    "c_loop": "x = sum(range(10**13))",
    "huge_error": "raise ValueError('\\x1b]0;pwned\\x07' * 100000)",
    "foreign_timestamps": "output_scenario({{'u': [1, 2, 3]}}, description, log_dir, output_dir)\n"
                          "x = 1 // 0",
    "huge_int_scenario": "output_scenario({{'u': [10 ** 5000]}}, description, log_dir, output_dir)",
}
DISGUISES = {  # how the attack is wrapped
    "plain": lambda code: code,
    "after_dsl": lambda code: "v = get_objects_of_category(log_dir, category='VEHICLE')\n" + code,
}
# programs that succeed while trying to leave state behind for the next program
SURVIVORS = {
    "mutate_result": "x = get_objects_of_category(log_dir, category='VEHICLE')\n"
                     "for k in x:\n    x[k] = []\noutput_scenario(x, description, log_dir, output_dir)",
    "mutate_lists": "x = get_objects_of_category(log_dir, category='ANY')\n"
                    "for k in x:\n    x[k].clear() if isinstance(x[k], list) else None\n"
                    "output_scenario(x, description, log_dir, output_dir)",
    "giant_output_scenario": "x = {{str(i): [] for i in range(150000)}}\n"
                             "output_scenario(x, description, log_dir, output_dir)",
}


def corpus(marker_dir: Path) -> dict[str, str]:
    programs = {f"{name}-{how}": wrap(code.format(marker=marker_dir / f"{name}-{how}")) + "\n"
                for name, code in ATTACKS.items() for how, wrap in DISGUISES.items()
                if not (how == "after_dsl" and name in ("c_loop", "print_flood", "memory"))}
    programs.update({name: code.format() + "\n" for name, code in SURVIVORS.items()})
    return programs


def tree_state(folder: Path) -> list:
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def forkserver_children() -> list[int]:
    from multiprocessing import forkserver
    server = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if server is None:
        return []
    kids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{server}\n" in status:
            kids.append(int(pid))
    return kids


@pytest.mark.slow
def test_hostile_corpus_leaves_nothing_behind(mini_root, tmp_path):
    log_dir = sorted((mini_root / "logs").iterdir())[0]
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    programs = corpus(marker_dir)
    assert len(programs) >= 50
    before = tree_state(log_dir)
    alone = execute_tasks([Task("alone", log_dir, BENIGN, "d")], workers=1, timeout_s=30,
                          progress=False)["alone"]
    tasks = []
    for name, code in programs.items():
        tasks += [Task(name, log_dir, code, "d"), Task(f"{name}/next", log_dir, BENIGN, "d")]
    results = execute_tasks(tasks, workers=1, timeout_s=TIMEOUT_S, memory_mb=3000,
                            progress=False, max_result_mb=1)
    for name in programs:
        hostile, benign = results[name], results[f"{name}/next"]
        assert hostile.ok == (name in ("mutate_result", "mutate_lists")), (name, hostile.error)
        # the hard kill comes at the limit plus the 10 s grace; 2 s for the kill itself
        assert hostile.seconds < TIMEOUT_S + 10 + 2, (name, hostile.seconds)
        assert hostile.error is None or (len(hostile.error) < 2200 and "\x1b" not in hostile.error
                                         and "\r" not in hostile.error), name
        assert benign.ok and benign.referred == alone.referred, name
        assert benign.scenario == alone.scenario, name
    assert results["giant_output_scenario"].error.startswith("result: larger than the 1 MB")
    assert not list(marker_dir.iterdir())
    assert tree_state(log_dir) == before
    assert not forkserver_children()  # every sandbox process is gone
    assert not mp.active_children()
