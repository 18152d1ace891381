"""Colours and fonts of the evidence renders (the VLM prompt legends describe these)."""
from __future__ import annotations

import functools

from PIL import ImageFont

COLORS = {
    "background": (250, 250, 250),
    "drivable": (205, 205, 205),
    "lane": (150, 150, 150),
    "crosswalk": (250, 225, 120, 200),
    "crosswalk_edge": (200, 160, 40),
    "other": (170, 170, 170),
    "other_edge": (90, 90, 90),
    "referred": (0, 190, 60),
    "referred_edge": (0, 100, 20),
    "related": (30, 110, 255),
    "related_edge": (0, 40, 160),
    "ego": (230, 30, 30),
    "ego_edge": (120, 0, 0),
    # the scenario viewer's outcomes against the ground truth (scenmine/view)
    "tp": (0, 190, 60),
    "tp_edge": (0, 100, 20),
    "fp": (255, 140, 0),
    "fp_edge": (170, 80, 0),
    "missed": (200, 0, 200),
    "missed_edge": (200, 0, 200),
    "predicted": (0, 190, 60),
    "predicted_edge": (0, 100, 20),
}


@functools.lru_cache(maxsize=8)
def font(size: int):
    """A scalable default font (bitmap fallback on old Pillow)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()
