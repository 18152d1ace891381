"""Camera evidence: AV2 calibration, nearest images and projected 3D boxes."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Edges of a cuboid over the corner order produced by ``box_corners``.
_EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]


def quat_to_mat(qw: float, qx: float, qy: float, qz: float) -> np.ndarray:
    """Rotation matrix of a unit quaternion (scalar first)."""
    n = np.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
    w, x, y, z = qw / n, qx / n, qy / n, qz / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def box_corners(center: np.ndarray, yaw: float, size: np.ndarray) -> np.ndarray:
    """(8, 3) corners of a cuboid (length, width, height) with heading ``yaw`` about z."""
    l, w, h = size / 2.0
    local = np.array([[l, w, h], [l, -w, h], [-l, -w, h], [-l, w, h],
                      [l, w, -h], [l, -w, -h], [-l, -w, -h], [-l, w, -h]])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return local @ rot.T + center


@dataclass
class Camera:
    """One camera: intrinsics, ego <- sensor pose and the timestamps of its images."""

    name: str
    K: np.ndarray
    width: int
    height: int
    rotation: np.ndarray      # ego <- sensor
    translation: np.ndarray   # ego <- sensor
    image_dir: Path
    image_ts: np.ndarray      # sorted int64

    def nearest_image(self, ts: int, max_gap_ns: int = 100_000_000) -> Path | None:
        """Path of the image closest in time to ``ts`` (None when none within ``max_gap_ns``)."""
        if not len(self.image_ts):
            return None
        i = int(np.clip(np.searchsorted(self.image_ts, ts), 1, len(self.image_ts)) - 1)
        cands = self.image_ts[i:i + 2]
        best = int(cands[np.argmin(np.abs(cands - ts))])
        return self.image_dir / f"{best}.jpg" if abs(best - ts) <= max_gap_ns else None

    def project(self, points_ego: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (M, 2) of ego-frame points and their depth (M,) along the optical axis."""
        cam = (points_ego - self.translation) @ self.rotation
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam @ self.K.T)[:, :2] / z[:, None]
        return uv, z

    def box_edges(self, center: np.ndarray, yaw: float, size: np.ndarray) -> list[tuple] | None:
        """Pixel segments of a box's edges in front of the camera; None when none visible."""
        uv, z = self.project(box_corners(center, yaw, size))
        segs = [(tuple(uv[a]), tuple(uv[b])) for a, b in _EDGES if z[a] > 0.1 and z[b] > 0.1]
        return segs or None

    def sees(self, center: np.ndarray) -> bool:
        """True when a point (ego frame) projects inside the image in front of the camera."""
        uv, z = self.project(center[None])
        u, v = uv[0]
        return bool(z[0] > 0.5 and 0 <= u < self.width and 0 <= v < self.height)


@functools.lru_cache(maxsize=16)
def load_cameras(log_dir: str) -> dict[str, Camera]:
    """Cameras of a log that has both calibration and images ({} otherwise)."""
    root = Path(log_dir)
    cam_root, calib = root / "sensors" / "cameras", root / "calibration"
    if not cam_root.is_dir() or not (calib / "intrinsics.feather").exists():
        return {}
    intr = pd.read_feather(calib / "intrinsics.feather").set_index("sensor_name")
    poses = pd.read_feather(calib / "egovehicle_SE3_sensor.feather").set_index("sensor_name")
    cams = {}
    for d in sorted(p for p in cam_root.iterdir() if p.is_dir()):
        if d.name not in intr.index or d.name not in poses.index:
            continue
        ts = np.sort(np.array([int(p.stem) for p in d.glob("*.jpg") if p.stem.isdigit()], dtype=np.int64))
        if not len(ts):
            continue
        i, p = intr.loc[d.name], poses.loc[d.name]
        K = np.array([[i.fx_px, 0.0, i.cx_px], [0.0, i.fy_px, i.cy_px], [0.0, 0.0, 1.0]])
        cams[d.name] = Camera(d.name, K, int(i.width_px), int(i.height_px),
                              quat_to_mat(p.qw, p.qx, p.qy, p.qz),
                              np.array([p.tx_m, p.ty_m, p.tz_m], dtype=float), d, ts)
    return cams
