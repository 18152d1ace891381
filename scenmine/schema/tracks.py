"""Schema of the ``tracks`` group (conf/tracks/: refinement of tracker input, scenmine.tracks)."""
from __future__ import annotations

from dataclasses import dataclass

from .core import Group, key


@dataclass
class Prune:
    enabled: bool = key("drop phantom tracklets")
    max_score: float = key("dropped if the best score is below this ...", ge=0, le=1)
    max_frames: int = key("... and it has fewer boxes than this", ge=0)


@dataclass
class Dedup:
    enabled: bool = key("drop duplicate boxes of one object")
    min_iou: float = key("bird's-eye IoU from which the lower-scored box goes", gt=0, le=1)
    track_share: float = key("a track duplicated in more than this share of its boxes goes", ge=0, le=1)


@dataclass
class Reconnect:
    enabled: bool = key("split identity switches, join fragments, fill short gaps")
    max_gap_frames: int = key("longest gap joined / filled (frames at 10 Hz)", ge=0)
    max_distance_m: float = key("extrapolated end vs start distance at a one-frame gap (m)", ge=0)
    distance_per_s: float = key("allowed distance growth per second of gap (m/s)", ge=0)
    max_size_change: float = key("relative difference of median length and width allowed", ge=0)
    split_jump_m: float = key("split where a box is this far from its prediction (0: never)", ge=0)
    split_window: int = key("previous boxes the prediction's line is fitted to", ge=2)


@dataclass
class Smooth:
    enabled: bool = key("constant-velocity RTS smoother of positions")
    position_noise_m: float = key("measurement noise (std) of a box centre (m)", gt=0)
    accel_noise: float = key("process noise: white acceleration (std, m/s^2)", gt=0)
    median_size: bool = key("a track's boxes take its median size")


@dataclass
class Yaw:
    enabled: bool = key("repair 180-degree yaw flips")
    flip_deg: float = key("a yaw change over this between neighbouring boxes is a flip", gt=0, le=180)
    min_speed: float = key("m/s from which the direction of motion votes", ge=0)
    motion_weight: float = key("one moving box's vote vs one box of continuity", ge=0)
    noise_deg: float = key("measurement noise (std) of a box's yaw, degrees; 0: no yaw smoothing", ge=0)
    turn_accel: float = key("process noise of yaw smoothing: angular acceleration (std, rad/s^2)", gt=0)


@dataclass
class Static:
    enabled: bool = key("static objects keep one yaw")
    max_span_m: float = key("centre span under which a track is static (m)", ge=0)
    min_frames: int = key("fewest boxes of a static track", ge=1)
    skip_categories: list[str] = key("categories whose yaw is never frozen")


@dataclass
class Tracks:
    """Refinement of tracker input; each step runs when its ``enabled`` is set."""

    refine: bool = key("refine tracker tracks (dataset.tracks) before the DSL reads them")
    prune: Prune = key()
    dedup: Dedup = key()
    reconnect: Reconnect = key()
    smooth: Smooth = key()
    yaw: Yaw = key()
    static: Static = key()


SCHEMA = Group.single(Tracks)
