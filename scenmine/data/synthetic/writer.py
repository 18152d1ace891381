"""Write one scripted log in the Argoverse 2 sensor-dataset layout."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import feather

from scenmine.data.synthetic.motion import Actor
from scenmine.data.synthetic.world import World

RASTER_SCALE = 1 / 0.3  # ground-height raster: 30 cm cells, as in the real logs
ANNOTATION_DTYPES = {"timestamp_ns": "int64", "track_uuid": object, "category": object,
                     "length_m": "float64", "width_m": "float64", "height_m": "float64",
                     "qw": "float64", "qx": "float64", "qy": "float64", "qz": "float64",
                     "tx_m": "float64", "ty_m": "float64", "tz_m": "float64",
                     "num_interior_pts": "int64"}


@dataclass
class Placement:
    """Local map frame -> city frame (rotation, translation), ground height and city name."""

    theta: float
    origin: np.ndarray
    z: float
    city: str
    city_num: int

    def xy(self, p: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.theta), np.sin(self.theta)
        p = np.asarray(p, float)
        return np.stack([c * p[..., 0] - s * p[..., 1], s * p[..., 0] + c * p[..., 1]], -1) + self.origin


def _quat_z(yaw: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(yaw / 2), np.zeros_like(yaw), np.zeros_like(yaw), np.sin(yaw / 2)], -1)


def wobble(rng: np.random.Generator, n: int, sigma: float, frames: float = 4.0) -> np.ndarray:
    """Slow jitter: white noise smoothed over about ``frames`` frames, scaled to ``sigma``."""
    k = np.exp(-0.5 * (np.arange(-3 * frames, 3 * frames + 1) / frames) ** 2)
    z = np.convolve(rng.normal(0, 1, n + len(k) - 1), k / np.sqrt(np.sum(k * k)), mode="valid")
    return sigma * z


def annotations(ego: Actor, actors: list[Actor], ts: np.ndarray,
                noise: tuple[np.random.Generator, float, float] | None = None) -> pd.DataFrame:
    """Ego-frame cuboids of every valid (actor, timestamp), sorted by timestamp.

    ``noise`` = (rng, position sigma m, yaw sigma rad): annotation jitter, as in real labels.
    """
    rows = []
    c, s = np.cos(ego.yaw), np.sin(ego.yaw)
    for order, a in enumerate(actors):
        j = np.flatnonzero(a.valid)
        d = a.pos[j] - ego.pos[j]
        x, y = c[j] * d[:, 0] + s[j] * d[:, 1], -s[j] * d[:, 0] + c[j] * d[:, 1]
        yaw = a.yaw[j] - ego.yaw[j]
        if noise is not None:
            rng, sigma_xy, sigma_yaw = noise
            x, y = x + wobble(rng, len(j), sigma_xy), y + wobble(rng, len(j), sigma_xy)
            yaw = yaw + wobble(rng, len(j), sigma_yaw)
        q = _quat_z(np.angle(np.exp(1j * yaw)))
        l, w, h = a.size
        dist = np.hypot(x, y)
        pts = np.maximum(1, np.round(4.0e4 * l * h / (dist ** 2 + 25.0))).astype(np.int64)
        rows.append(pd.DataFrame({
            "timestamp_ns": ts[j], "track_uuid": a.uuid, "category": a.category,
            "length_m": l, "width_m": w, "height_m": h, "qw": q[:, 0], "qx": q[:, 1],
            "qy": q[:, 2], "qz": q[:, 3], "tx_m": x, "ty_m": y, "tz_m": np.full(len(j), h / 2),
            "num_interior_pts": pts, "_order": order}))
    df = pd.concat(rows, ignore_index=True).sort_values(["timestamp_ns", "_order"], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True).astype(ANNOTATION_DTYPES)


def ego_poses(ego: Actor, ts: np.ndarray, place: Placement) -> pd.DataFrame:
    xy = place.xy(ego.pos)
    q = _quat_z(np.angle(np.exp(1j * (ego.yaw + place.theta))))
    return pd.DataFrame({"timestamp_ns": ts.astype(np.int64), "qw": q[:, 0], "qx": q[:, 1],
                         "qy": q[:, 2], "qz": q[:, 3], "tx_m": xy[:, 0], "ty_m": xy[:, 1],
                         "tz_m": np.full(len(ts), place.z)})


def _pts(line: np.ndarray, place: Placement) -> list[dict]:
    xy = np.round(place.xy(line), 2)
    return [{"x": float(x), "y": float(y), "z": round(place.z, 2)} for x, y in xy]


def vector_map(world: World, place: Placement) -> dict:
    """The map archive JSON in the Argoverse 2 schema."""
    crossings = {str(i): {"edge1": _pts(e1, place), "edge2": _pts(e2, place), "id": i}
                 for i, (e1, e2) in world.crossings.items()}
    lanes = {str(ln.id): {
        "id": ln.id, "is_intersection": ln.is_intersection, "lane_type": ln.lane_type,
        "left_lane_boundary": _pts(ln.left, place), "left_lane_mark_type": ln.left_mark,
        "right_lane_boundary": _pts(ln.right, place), "right_lane_mark_type": ln.right_mark,
        "successors": list(ln.successors), "predecessors": list(ln.predecessors),
        "right_neighbor_id": ln.right_neighbor, "left_neighbor_id": ln.left_neighbor,
    } for ln in world.lanes.values()}
    areas = {str(i): {"area_boundary": _pts(p, place), "id": i} for i, p in world.areas.items()}
    return {"pedestrian_crossings": crossings, "lane_segments": lanes, "drivable_areas": areas}


def _feather(df: pd.DataFrame, path: Path) -> None:
    """Feather v2 without an index column, like the real logs' files."""
    feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), path)


def write_log(log_dir: Path, world: World, ego: Actor, actors: list[Actor], ts: np.ndarray,
              place: Placement, noise=None) -> None:
    """annotations.feather, city_SE3_egovehicle.feather and map/ for one log."""
    log_id = log_dir.name
    map_dir = log_dir / "map"
    map_dir.mkdir(parents=True)
    _feather(annotations(ego, actors, ts, noise), log_dir / "annotations.feather")
    _feather(ego_poses(ego, ts, place), log_dir / "city_SE3_egovehicle.feather")
    vmap = vector_map(world, place)
    name = f"log_map_archive_{log_id}____{place.city}_city_{place.city_num}.json"
    (map_dir / name).write_text(json.dumps(vmap))
    corners = np.concatenate([place.xy(p) for p in world.areas.values()])
    lo = np.floor(corners.min(0)) - 10.0
    hi = np.ceil(corners.max(0)) + 10.0
    w, h = (np.ceil((hi - lo) * RASTER_SCALE).astype(int) + 1)
    height = np.full((h, w), place.z, dtype=np.float16)
    np.save(map_dir / f"{log_id}_ground_height_surface____{place.city}.npy", height)
    sim2 = {"R": [1.0, 0.0, 0.0, 1.0], "t": [float(-lo[0]), float(-lo[1])], "s": RASTER_SCALE}
    (map_dir / f"{log_id}___img_Sim2_city.json").write_text(json.dumps(sim2))
