"""Runs side by side: separate run folders, one fresh MLflow store created once."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _together(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen(c, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in commands]
    outs = [p.communicate(timeout=120) for p in procs]
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs)]


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    cmd = [sys.executable, "-m", "scenmine", "--cfg", "all", "--resolve"]
    first, second = _together([cmd, cmd], tmp_path)
    dirs = []
    for done in (first, second):
        assert done.returncode == 0, done.stderr[-2000:]
        dirs.append(re.search(r"^  run:\n    dir: (\S+)", done.stdout, re.M).group(1))
    assert dirs[0] != dirs[1]
    for d in dirs:  # <date>/<HH-MM-SS>-<microseconds>-<pid>: sortable by start time
        assert re.fullmatch(r"outputs/runs/\d{4}-\d\d-\d\d/\d\d-\d\d-\d\d-\d{6}-\d+", d), d


SCRIPT = """
import sys, time
from omegaconf import OmegaConf
from scenmine import track
start = float(sys.argv[1])
while time.time() < start:
    pass
cfg = OmegaConf.create({"dir": sys.argv[2], "experiment": "side", "enabled": True, "uri": None})
with track.start_run(cfg, run_name=sys.argv[3]) as tracker:
    tracker.log_metrics({"x": 1.0})
print("ok", tracker.run_id)
"""


@pytest.mark.slow  # the SQLite schema takes 10-20 s to create
def test_two_runs_on_a_fresh_mlflow_store_both_succeed(tmp_path):
    """Both processes create the SQLite schema and the experiment at the same moment
    (without the lock one died with ``duplicate column name: step``)."""
    (tmp_path / "race.py").write_text(SCRIPT)
    start = str(time.time() + 8)  # both past their imports, then released together
    cmds = [[sys.executable, "race.py", start, str(tmp_path / "mlruns"), name] for name in "ab"]
    results = _together(cmds, tmp_path)
    for done in results:
        assert done.returncode == 0, done.stderr[-2000:]
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("side").experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["a", "b"]
    assert all(r.info.status == "FINISHED" for r in runs)
