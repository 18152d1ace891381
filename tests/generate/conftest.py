"""Fixtures for generation tests: fakes on sys.path, a small DSL namespace, a fake runner."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

FAKES = Path(__file__).resolve().parents[1] / "fakes"
if str(FAKES) not in sys.path:
    sys.path.insert(0, str(FAKES))

GOOD = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
        "output_scenario(vehicles, description, log_dir, output_dir)\n")


def _ns() -> dict:
    def get_objects_of_category(log_dir, category):
        """All tracks of a category, with all their timestamps."""

    def has_velocity(track_candidates, log_dir, min_velocity=0.5, max_velocity=np.inf):
        """Tracks whose speed is within [min_velocity, max_velocity] m/s.

        Up to 0.5 m/s is annotation jitter."""

    def being_crossed_by(track_candidates, related_candidates, log_dir, direction="forward"):
        """Tracks whose half-midplane is crossed by a related object."""

    def scenario_not(func):
        """Candidates minus func's result, per timestamp."""

    def output_scenario(scenario, description, log_dir, output_dir, visualize=False, **kw):
        """Record the result for the (log, prompt) pair."""

    return {f.__name__: f for f in (get_objects_of_category, has_velocity, being_crossed_by,
                                    scenario_not, output_scenario)} | {
        "np": np, "Path": Path, "CATEGORIES": ["BUS", "PEDESTRIAN", "REGULAR_VEHICLE"]}


@pytest.fixture
def namespace() -> dict:
    return _ns()


@pytest.fixture
def fake_logs(tmp_path) -> list[Path]:
    logs = [tmp_path / "logs" / name for name in ("log_a", "log_empty", "log_c")]
    for p in logs:
        p.mkdir(parents=True)
    return logs


@pytest.fixture
def make_generator(namespace, fake_logs):
    """LLMGenerator over a backend with the fake runner, fake logs and namespace."""
    import fake_runner

    from scenmine.generate.strategies import LLMGenerator

    def make(backend, **kw):
        kw.setdefault("runner", fake_runner.run_program)
        kw.setdefault("logs", fake_logs)
        kw.setdefault("namespace", namespace)
        return LLMGenerator(backend, log_info=fake_runner.log_info, **kw)
    return make

