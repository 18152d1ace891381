"""Camera-based DSL functions (placeholder; replaced below)."""
from __future__ import annotations

from scenmine.dsl.scenario import to_scenario_dict


def is_color(track_candidates, log_dir, color):
    return to_scenario_dict(track_candidates, log_dir)


def within_camera_view(track_candidates, log_dir, camera=None):
    return to_scenario_dict(track_candidates, log_dir)
