"""The parallel runner: serial and parallel paths agree; hostile programs fail only themselves."""
from __future__ import annotations

import time

import numpy as np
import pytest

from scenmine.execute.runner import ExecResult, Task, execute_tasks

GOOD = {
    "parked": "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
              "result = stationary(vehicles, log_dir)\n"
              "output_scenario(result, description, log_dir, output_dir)\n",
    "bus_lane": "buses = get_objects_of_category(log_dir, category='BUS')\n"
                "result = on_lane_type(buses, log_dir, lane_type='BUS')\n"
                "output_scenario(result, description, log_dir, output_dir)\n",
    "peds_near": "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
                 "peds = get_objects_of_category(log_dir, category='PEDESTRIAN')\n"
                 "result = near_objects(vehicles, peds, log_dir, distance_thresh=15, min_objects=2)\n"
                 "output_scenario(result, description, log_dir, output_dir)\n",
}
# name -> (program, expected error prefix)
HOSTILE = {
    "loop": ("for i in range(10**12):\n    pass\n", "timeout: program ran past"),
    "c_loop": ("x = sum(range(10**13))\n", "timeout: program ran past"),  # no bytecode: hard kill
    "memory_bomb": ("x = np.ones((100000, 100000))\n", "memory:"),
    # grows 800 MB at a time up to the address-space limit (calloc: pages never touched)
    "growing_memory": ("x = [np.zeros(10**8) for i in range(1000)]\n", "memory:"),
    "raises": ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
               "x = vehicles['no such track']\n", "error: KeyError"),
    "not_a_dict": ("output_scenario([1, 2, 3], description, log_dir, output_dir)\n",
                   "error: TypeError: output_scenario expects a scenario dict"),
    "returns_nothing": ("x = 1\n", "error: ValueError: the program never called output_scenario"),
    "prose": ("Sure! This program finds the vehicles you asked for.", "rejected:"),
}


@pytest.fixture(scope="module")
def logs(mini_root):
    return sorted((mini_root / "logs").iterdir())[:2]


def _same(a: ExecResult, b: ExecResult) -> bool:
    def ts(d):
        return {k: np.asarray(v).tolist() for k, v in d.items()}
    frames_a = [(int(f["timestamp_ns"]), np.asarray(f["label"]).tolist()) for f in a.frames or []]
    frames_b = [(int(f["timestamp_ns"]), np.asarray(f["label"]).tolist()) for f in b.frames or []]
    return (a.ok, a.error, ts(a.referred), ts(a.related), frames_a) == \
        (b.ok, b.error, ts(b.referred), ts(b.related), frames_b)


def test_serial_and_parallel_give_identical_results(logs):
    tasks = [Task(f"{log.name}|{name}", log, code, name) for log in logs
             for name, code in GOOD.items()]
    tasks.append(Task(f"{logs[0].name}|raises", logs[0], HOSTILE["raises"][0], "raises"))
    seen = []
    serial = execute_tasks(tasks, workers=1, timeout_s=30, progress=False,
                           on_result=lambda r: seen.append(r.key))
    parallel = execute_tasks(tasks, workers=2, timeout_s=30, progress=False)
    assert sorted(seen) == sorted(t.key for t in tasks)  # on_result saw every pair once
    assert set(serial) == set(parallel) == {t.key for t in tasks}
    for key in serial:
        assert _same(serial[key], parallel[key]), key
    assert sum(r.ok for r in serial.values()) == len(tasks) - 1
    assert any(r.referred for r in serial.values())  # the programs found something
    for r in serial.values():  # every pair has one frame per evaluation timestamp
        assert r.frames and len(r.frames) == len(serial[tasks[0].key].frames)


def test_hostile_programs_fail_only_themselves_each_within_30s(logs):
    # the hard-kill program on its own log, the rest (and good programs after them) on another,
    # so both sandbox processes are busy and a killed worker is replaced for the next program
    tasks = [Task("c_loop", logs[1], HOSTILE["c_loop"][0], "c_loop"),
             Task("after_kill", logs[1], GOOD["parked"], "parked")]
    tasks += [Task(name, logs[0], code, name) for name, (code, _) in HOSTILE.items()
              if name != "c_loop"]
    tasks.append(Task("good_last", logs[0], GOOD["parked"], "parked"))
    start = time.perf_counter()
    results = execute_tasks(tasks, workers=2, timeout_s=2, memory_mb=4096, progress=False)
    wall = time.perf_counter() - start
    for name, (_, prefix) in HOSTILE.items():
        r = results[name]
        assert not r.ok and r.error.startswith(prefix), (name, r.error)
        assert r.seconds < 30, (name, r.seconds)
        assert r.frames is None or all(not (np.asarray(f["label"]) == 0).any() for f in r.frames)
    assert "killed" in results["c_loop"].error
    assert results["after_kill"].ok and results["good_last"].ok
    assert wall < 90


def test_failed_pair_still_has_empty_frames(logs):
    """A failing program yields frames with no referred object (an empty prediction)."""
    r = execute_tasks([Task("x", logs[0], HOSTILE["raises"][0], "d")], workers=1, timeout_s=10,
                      progress=False)["x"]
    assert not r.ok and r.frames
    assert all((np.asarray(f["label"]) != 0).all() for f in r.frames)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="execute.backend"):
        execute_tasks([], backend="spark")


def test_ray_backend_matches_local(logs):
    pytest.importorskip("ray", reason="ray is an optional extra (pip install 'scenmine[ray]')")
    import ray as ray_mod

    from scenmine.execute import ray_backend
    tasks = [Task(f"{log.name}|{name}", log, code, name) for log in logs
             for name, code in GOOD.items()]
    tasks += [Task("loop", logs[0], HOSTILE["loop"][0], "loop"),
              Task("raises", logs[1], HOSTILE["raises"][0], "raises")]
    seen = []
    try:
        ray_mod.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False)
        remote = execute_tasks(tasks, timeout_s=5, progress=False, backend="ray",
                               on_result=lambda r: seen.append(r.key))
        # a per-task hard limit: a log task that overruns it fails its pairs with a timeout
        stuck = ray_backend.execute_tasks([Task("c_loop", logs[0], HOSTILE["c_loop"][0], "c")],
                                          timeout_s=1, progress=False, task_timeout_s=5)
    finally:
        ray_mod.shutdown()
    local = execute_tasks(tasks, workers=2, timeout_s=5, progress=False)
    assert sorted(seen) == sorted(t.key for t in tasks)
    for key in local:
        assert _same(local[key], remote[key]), key
    assert remote["loop"].error.startswith("timeout")
    assert stuck["c_loop"].error.startswith("timeout: ray task")


def test_scale_benchmark_split_and_measurement(tmp_path):
    """bench scale: logs with the asked track count, the execute stage measured end to end."""
    from scenmine.bench import scale
    split = scale.ensure_split(tmp_path, n_logs=1, tracks=60, progress=False)
    assert json_tracks(split) == [60]
    logs = sorted((split / "logs").iterdir())
    programs = scale.pick_programs(scale.DEFAULT_PROGRAMS, 2)
    run = scale.run_execute(logs, programs, workers=1, timeout_s=30, memory_mb=4096, progress=False)
    assert run["pairs"] == 2 and not run["failures"] and run["pairs_per_s"] > 0
    assert 0 < run["peak_rss_tree_mb"] < 4096 and run["cpu_s"] > 0


def json_tracks(split):
    import json
    return json.loads((split / "done.json").read_text())["tracks"]
