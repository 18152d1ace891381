"""Resumable runs: a run killed with SIGKILL mid-way, re-run, gives the uninterrupted run's
metrics and recomputes only the units that were not finished; Ctrl-C stops cleanly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scenmine import pipeline, track
from scenmine.data.submission import load_pkl
from scenmine.evaluate import METRIC_NAMES

REPO = Path(__file__).resolve().parents[1]
PROMPTS = ["parked vehicle", "vehicle turning left", "accelerating vehicle"]
N_LOGS = 2


@pytest.fixture(scope="module")
def setup(mini_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    (tmp / "prompts.txt").write_text("\n".join(PROMPTS) + "\n")
    overrides = [f"dataset.root={mini_root.parent}", f"dataset.max_logs={N_LOGS}",
                 f"dataset.prompts={tmp / 'prompts.txt'}", f"tracking.dir={tmp / 'mlruns'}",
                 "output.progress=false", "execute.workers=1"]
    return tmp, overrides


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _all_gone(pids: set[int], limit_s: float) -> bool:
    """Whether every process of ``pids`` has exited within ``limit_s`` (the multiprocessing
    resource tracker, for one, leaves a moment after its parent)."""
    deadline = time.monotonic() + limit_s
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _start(overrides: list[str], run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "scenmine", *overrides, f"hydra.run.dir={run_dir}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=run_dir.parent)


def _wait_for_units(proc: subprocess.Popen, run_dir: Path, n: int = 1, limit_s: float = 120) -> set[int]:
    """Wait until ``n`` executed pairs are in the store; the run's child processes then."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if len(list((run_dir / "store" / "execute").glob("*.pkl"))) >= n:
            return _children(proc.pid)
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the run stored no executed pair in time")


def _stable(metrics: dict) -> dict:
    names = [*METRIC_NAMES, "n_prompts", "n_pairs", "n_programs", "n_generation_failed",
             "n_execution_failed", "n_empty_predictions"]
    return {k: metrics[k] for k in names}


def _same_submission(a: Path, b: Path) -> None:
    sa, sb = load_pkl(a), load_pkl(b)
    assert set(sa) == set(sb)
    for key in sa:
        assert [np.asarray(f["label"]).tolist() for f in sa[key]] == \
               [np.asarray(f["label"]).tolist() for f in sb[key]], key


def test_killed_run_resumes_with_identical_metrics(setup, make_cfg):
    tmp, overrides = setup
    n_pairs = N_LOGS * len(PROMPTS)
    proc = _start(overrides, tmp / "killed")
    children = _wait_for_units(proc, tmp / "killed")
    proc.send_signal(signal.SIGKILL)  # kill -9 mid-way through the execute stage
    proc.wait(30)
    stored = len(list((tmp / "killed" / "store" / "execute").glob("*.pkl")))
    assert 0 < stored < n_pairs
    assert len(list((tmp / "killed" / "store" / "generate").glob("*.pkl"))) == len(PROMPTS)
    assert _all_gone(children, 15)  # sandbox processes die with their run

    killed_run = json.loads((tmp / "killed" / track.RUN_RECORD).read_text())["run_id"]
    mlflow_client = track.client(make_cfg(overrides).tracking)
    assert mlflow_client.get_run(killed_run).info.status == "RUNNING"  # nobody could close it

    cfg = make_cfg(overrides)
    resumed = pipeline.run(cfg, tmp / "killed")  # the same command, same run folder
    m = resumed.metrics
    killed = mlflow_client.get_run(killed_run)  # the resume closes the killed run, linked
    assert killed.info.status == "KILLED" and killed.data.tags["scenmine.resumed_by"] == resumed.run_id
    after = mlflow_client.get_run(resumed.run_id)
    assert after.info.status == "FINISHED" and after.data.tags["scenmine.resumes"] == killed_run
    assert m["units.generate.reused"] == len(PROMPTS) and m["units.generate.computed"] == 0
    assert m["units.execute.reused"] == stored  # nothing finished before the kill is redone
    assert m["units.execute.computed"] == n_pairs - stored

    fresh = pipeline.run(cfg, tmp / "fresh")  # an uninterrupted run
    assert fresh.metrics["units.execute.computed"] == n_pairs
    assert _stable(m) == _stable(fresh.metrics)
    _same_submission(resumed.submission_path, fresh.submission_path)

    # resume=<run folder> from a new folder reuses every unit of the finished run
    again = pipeline.run(make_cfg([*overrides, f"resume={tmp / 'killed'}"]), tmp / "again")
    assert again.metrics["units.execute.reused"] == n_pairs
    assert again.metrics["units.execute.computed"] == 0
    assert _stable(again.metrics) == _stable(fresh.metrics)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(setup):
    tmp, overrides = setup
    run_dir = tmp / "interrupted"
    proc = _start([*overrides, "execute.workers=2"], run_dir)
    children = _wait_for_units(proc, run_dir)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    err = out + err  # Hydra's log handler writes to stdout
    assert proc.returncode == 130, err[-3000:]
    assert time.monotonic() - start < 30
    assert f"hydra.run.dir={run_dir}" in err and f"resume={run_dir}" in err
    assert "Traceback" not in err
    assert _all_gone(children, 10)  # sandbox processes stopped with the run
    assert not list((run_dir / "store").rglob("*.tmp"))  # no torn units
