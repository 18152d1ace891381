"""Schema of the ``view`` group (conf/view/default.yaml): the scenario viewer (scenmine/view)."""
from __future__ import annotations

from dataclasses import dataclass

from .core import Group, key


@dataclass
class View:
    enabled: bool = key("render the worst pairs at the end of a pipeline run")
    worst: int | None = key("how many pairs, worst per-prompt HOTA-Temporal first (null: all)", ge=0)
    size: list[int] = key("map view (width, height) in pixels")
    range_m: float = key("half-width of the view around the ego, metres", gt=0)
    fps: int = key("frames per second of the MP4 (the logs are 10 Hz)", ge=1)
    camera_frames: int = key("camera images per pair where the log has images", ge=0)
    workers: int | None = key("processes across logs (null: one per core)", ge=1)


SCHEMA = Group.single(View)
