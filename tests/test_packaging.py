"""A non-editable install, used from a folder outside the checkout: the config tree and data
files come from the installed package, the ``scenmine`` command exists, composing warns of nothing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    src = tmp_path / "src"  # a copy: building writes build/ and *.egg-info next to the sources
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("scenmine", "conf"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "wheel"), str(src)], check=True, timeout=600)
    venv = tmp_path / "venv"  # system site-packages: the dependencies, not scenmine's source
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    wheel = next((tmp_path / "wheel").glob("scenmine-*.whl"))
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    where = run(str(venv / "bin" / "python"), "-c",
                "import scenmine.resources as r; print(r.CONF_DIR, r.PROMPTS_DIR.is_dir())")
    assert where.stdout.split() == [str(venv / "lib" / f"python{sys.version_info.major}."
                                        f"{sys.version_info.minor}" / "site-packages" / "scenmine" / "conf"), "True"]
    composed = run(str(venv / "bin" / "scenmine"), "+exp=full", "backends=paper", "--cfg", "job")
    assert composed.returncode == 0 and "ClaudeCodeBackend" in composed.stdout, composed.stderr
    assert "warn" not in composed.stderr.lower()
    bad = run(str(venv / "bin" / "python"), "-m", "scenmine", "generate.strategy=agnet")
    assert bad.returncode == 2 and "generate.strategy='agnet' is not allowed" in bad.stdout + bad.stderr
    assert (elsewhere / "outputs").is_dir() and not (elsewhere / "mlruns").exists()
