"""Actors and their kinematics: a path (polyline) followed with a piecewise-linear speed."""
from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field

import numpy as np

SIZES = {  # category -> (length, width, height) means
    "REGULAR_VEHICLE": (4.6, 1.9, 1.6), "BOX_TRUCK": (7.5, 2.5, 3.3), "BUS": (12.2, 2.6, 3.2),
    "PEDESTRIAN": (0.6, 0.6, 1.7), "BICYCLE": (1.8, 0.6, 1.2), "BICYCLIST": (1.8, 0.6, 1.75),
    "BOLLARD": (0.25, 0.25, 1.0), "CONSTRUCTION_CONE": (0.4, 0.4, 0.7), "SIGN": (0.3, 0.8, 2.4),
    "EGO_VEHICLE": (4.877, 2.0, 1.473),
}


def new_uuid(rng: np.random.Generator) -> str:
    """A uuid4 string drawn from ``rng`` (deterministic)."""
    return str(uuidlib.UUID(bytes=rng.bytes(16), version=4))


def draw_size(rng: np.random.Generator, category: str) -> np.ndarray:
    base = np.array(SIZES[category])
    return np.round(base * rng.uniform(0.93, 1.07, 3), 3)


@dataclass(eq=False)
class Actor:
    """One track: per-timestamp state in the local frame (T timestamps)."""

    uuid: str
    category: str
    size: np.ndarray        # (3,) length, width, height
    pos: np.ndarray         # (T, 2)
    yaw: np.ndarray         # (T,)
    speed: np.ndarray       # (T,) scripted speed, m/s
    accel: np.ndarray       # (T,) scripted longitudinal acceleration, m/s^2
    valid: np.ndarray       # (T,) bool
    route: list[int] = field(default_factory=list)      # lane ids the actor drives along
    lane_change: np.ndarray | None = None               # (T,) bool, scripted lateral move
    tags: set[str] = field(default_factory=set)


def speed_profile(t: np.ndarray, keys: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arc length, speed and acceleration at times ``t`` for speed keyframes [(time, v)].

    Speed is linear between keyframes and constant outside them; arc length starts at 0 at
    the first keyframe time (negative before it).
    """
    kt = np.array([k[0] for k in keys], float)
    kv = np.array([k[1] for k in keys], float)
    v = np.interp(t, kt, kv)
    slope = np.diff(kv) / np.maximum(np.diff(kt), 1e-9) if len(kt) > 1 else np.zeros(0)
    seg = np.clip(np.searchsorted(kt, t, side="right") - 1, -1, len(kt) - 1)
    inside = (seg >= 0) & (seg < len(kt) - 1)
    acc = np.where(inside, slope[np.clip(seg, 0, max(len(slope) - 1, 0))] if len(slope) else 0.0, 0.0)
    # exact integral of the piecewise-linear speed from kt[0]
    knot_s = np.concatenate([[0.0], np.cumsum(np.diff(kt) * (kv[1:] + kv[:-1]) / 2)])
    k = np.clip(seg, 0, len(kt) - 1)
    s = knot_s[k] + (t - kt[k]) * (kv[k] + v) / 2
    s = np.where(t < kt[0], (t - kt[0]) * kv[0], s)
    return s, v, acc


def resample(line: np.ndarray, step: float = 0.25) -> np.ndarray:
    """Densify a polyline to about ``step`` metres between points."""
    line = np.asarray(line, float)
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    keep = np.concatenate([[True], seg > 1e-9])
    s, line = s[keep], line[keep]
    u = np.linspace(0, s[-1], max(2, int(np.ceil(s[-1] / step)) + 1))
    return np.stack([np.interp(u, s, line[:, 0]), np.interp(u, s, line[:, 1])], 1)


def follow(path: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, heading and inside-path mask at arc lengths ``s`` along a dense path."""
    cum = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    heading = np.unwrap(np.arctan2(*np.gradient(path, axis=0)[:, ::-1].T))
    sc = np.clip(s, 0, cum[-1])
    pos = np.stack([np.interp(sc, cum, path[:, 0]), np.interp(sc, cum, path[:, 1])], 1)
    # positions beyond the ends extrapolate along the end headings
    over = np.clip(s - cum[-1], 0, None) + np.clip(s, None, 0)
    yaw = np.interp(sc, cum, heading)
    pos = pos + over[:, None] * np.stack([np.cos(yaw), np.sin(yaw)], 1)
    return pos, np.angle(np.exp(1j * yaw)), (s >= 0) & (s <= cum[-1])


def smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0, 1)
    return u * u * (3 - 2 * u)


def moving(rng, category: str, t: np.ndarray, path: np.ndarray, keys, s0: float = 0.0,
           route=None, lateral=None, clip_to_path: bool = True) -> Actor:
    """An actor following ``path`` from arc length ``s0`` (at the first keyframe) with speed keys.

    ``lateral``: optional (start arc length, length, offset) lane change, offset to the left.
    """
    path = resample(path)
    s, v, acc = speed_profile(t, keys)
    s = s + s0
    pos, yaw, inside = follow(path, s)
    change = None
    if lateral is not None:
        start, length, off = lateral
        u = (s - start) / length
        d = off * smoothstep(u)
        heading = np.stack([np.cos(yaw), np.sin(yaw)], 1)
        pos = pos + d[:, None] * np.stack([-heading[:, 1], heading[:, 0]], 1)
        # heading of the offset path: atan of lateral slope
        slope = off * 6 * np.clip(u, 0, 1) * (1 - np.clip(u, 0, 1)) / length
        yaw = np.angle(np.exp(1j * (yaw + np.arctan(slope))))
        change = (u > 0) & (u < 1)
    valid = inside if clip_to_path else np.ones(len(t), bool)
    return Actor(new_uuid(rng), category, draw_size(rng, category), pos, yaw, v, acc, valid,
                 list(route or []), change)


def static(rng, category: str, n_t: int, xy, yaw: float) -> Actor:
    """A motionless actor at ``xy`` with heading ``yaw``."""
    pos = np.repeat(np.asarray(xy, float)[None], n_t, 0)
    return Actor(new_uuid(rng), category, draw_size(rng, category), pos, np.full(n_t, float(yaw)),
                 np.zeros(n_t), np.zeros(n_t), np.ones(n_t, bool))


def rider(rng, bike: Actor) -> Actor:
    """The BICYCLIST riding ``bike`` (same footprint and motion)."""
    size = bike.size.copy()
    size[2] = np.round(SIZES["BICYCLIST"][2] * rng.uniform(0.95, 1.05), 3)
    return Actor(new_uuid(rng), "BICYCLIST", size, bike.pos.copy(), bike.yaw.copy(),
                 bike.speed.copy(), bike.accel.copy(), bike.valid.copy(), list(bike.route),
                 None if bike.lane_change is None else bike.lane_change.copy())
