"""``python -m scenmine.execute``: benign programs run on a real log, hostile ones are stopped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENIGN = """description = 'stopped car'
cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
stopped = scenario_not(has_velocity)(cars, log_dir, min_velocity=0.5)
output_scenario(stopped, description, log_dir, output_dir)
"""

HOSTILE = {
    "import": "import os\nos.system('touch {marker}')\n",
    "dunder": "x = ().__class__.__base__.__subclasses__()\n",
    "file_write": "Path('{marker}').write_text('pwned')\n",
    "open": "open('{marker}', 'w').write('pwned')\n",
    "infinite_loop": "x = 0\nfor i in range(10**12):\n    x += 1\n",
    "memory_bomb": "x = [0] * (10**11)\n",
    "big_power": "x = 10 ** (10 ** 9)\n",
    "raises": "x = get_objects_of_category(log_dir, category='VEHICLE')\ny = x['nope']\n",
    "no_output": "x = get_objects_of_category(log_dir, category='VEHICLE')\n",
    "not_a_dict": "output_scenario([1, 2], 'd', log_dir, output_dir)\n",
}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scenmine.execute", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[2])


def test_benign_program_on_real_log(real_log, tmp_path):
    prog = tmp_path / "stopped.py"
    prog.write_text(BENIGN)
    out = tmp_path / "out.json"
    proc = run_cli("--log-dir", str(real_log), "--program", str(prog), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    scenario = json.loads(out.read_text())
    assert scenario and all(isinstance(ts, list) for ts in scenario.values())
    post = tmp_path / "post.json"
    assert run_cli("--log-dir", str(real_log), "--program", str(prog), "--out", str(post),
                   "--post").returncode == 0
    referred = json.loads(post.read_text())
    assert set(referred) <= set(scenario)
    assert all(t in scenario[u] for u, ts in referred.items() for t in ts)


def test_hostile_programs_fail_alone_without_side_effects(real_log, tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "programs"
    folder.mkdir()
    for name, code in HOSTILE.items():
        (folder / f"{name}.py").write_text(code.format(marker=marker))
    (folder / "benign.py").write_text(BENIGN)
    out = tmp_path / "results"
    start = time.perf_counter()
    proc = run_cli("--log-dir", str(real_log), "--program", str(folder), "--out", str(out),
                   "--timeout", "5", "--memory-mb", "3000", timeout=300)
    assert proc.returncode == 1
    assert (out / "benign.json").exists()
    reasons = {p.name.split(".")[0]: p.read_text().strip() for p in out.glob("*.error.txt")}
    assert set(reasons) == set(HOSTILE)
    assert reasons["import"].startswith("rejected:") and "import" in reasons["import"]
    assert reasons["dunder"].startswith("rejected:")
    assert reasons["file_write"].startswith("rejected:") and reasons["open"].startswith("rejected:")
    assert reasons["infinite_loop"].startswith("timeout")
    assert reasons["memory_bomb"].startswith(("memory", "crash"))
    assert reasons["big_power"].startswith(("timeout", "memory", "crash"))
    assert "KeyError" in reasons["raises"] and "line 2" in reasons["raises"]
    assert "never called output_scenario" in reasons["no_output"]
    assert "scenario dict" in reasons["not_a_dict"]
    assert not marker.exists()
    assert time.perf_counter() - start < 30 * len(HOSTILE)


def test_single_failing_program_exits_nonzero_and_writes_nothing(real_log, tmp_path):
    prog = tmp_path / "bad.py"
    prog.write_text("import os\n")
    out = tmp_path / "out.json"
    proc = run_cli("--log-dir", str(real_log), "--program", str(prog), "--out", str(out))
    assert proc.returncode == 1 and not out.exists()
    assert proc.stderr.strip().splitlines()[-1].startswith("error: rejected: line 1: imports")


@pytest.mark.parametrize("program", ["/no/such.py", "EMPTY_FOLDER"])
def test_missing_programs_are_usage_errors(real_log, tmp_path, program):
    (tmp_path / "empty").mkdir()
    program = str(tmp_path / "empty") if program == "EMPTY_FOLDER" else program
    proc = run_cli("--log-dir", str(real_log), "--program", program, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2


def test_confined_worker_reads_lazily_imported_dsl_modules_from_another_folder(real_log, tmp_path):
    """Landlock must grant scenmine's own folder: an editable install imports it through a
    finder (not sys.path), and lane functions import their module on first use."""
    prog = tmp_path / "lanes.py"
    prog.write_text("bikes = get_objects_of_category(log_dir, category='BICYCLE')\n"
                    "x = on_lane_type(bikes, log_dir, lane_type='BIKE')\n"
                    "output_scenario(x, description, log_dir, output_dir)\n")
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "scenmine.execute", "--log-dir", str(real_log),
                           "--program", str(prog), "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Permission denied" not in proc.stderr
