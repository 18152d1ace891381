"""Camera-based DSL functions: within_camera_view (calibration) and is_color (images).

AV2 layout: ``calibration/egovehicle_SE3_sensor.feather`` (ego <- camera poses),
``calibration/intrinsics.feather`` (pinhole fx, fy, cx, cy, image size) and images at
``sensors/cameras/<camera>/<timestamp_ns>.jpg``. Where a log lacks what a function needs, the
function returns its candidates unchanged and warns once per run, saying why (the reference
does the same for is_color; its within_camera_view fails on such logs).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from scenmine.dsl.color_model import model_classifier
from scenmine.dsl.context import LogContext, get_context, rot_z
from scenmine.dsl.scenario import filter_by_mask, to_scenario_dict

COLORS = ("white", "silver", "black", "red", "yellow", "blue")
_warned: set = set()


def reset_warnings() -> None:
    """Forget which warnings were given (a new run warns again)."""
    _warned.clear()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def _cameras(ctx: LogContext) -> dict | None:
    """{camera: (R ego<-cam (3,3), t (3,), fx, fy, cx, cy, width, height)} or None."""
    def load():
        import pandas as pd

        folder = ctx.log_dir / "calibration"
        try:
            poses = pd.read_feather(folder / "egovehicle_SE3_sensor.feather")
            intr = pd.read_feather(folder / "intrinsics.feather").set_index("sensor_name")
        except (OSError, KeyError, ValueError):
            return None
        from scenmine.data.logs import quat_to_rotation

        out = {}
        for row in poses.itertuples():
            if row.sensor_name in intr.index:
                k = intr.loc[row.sensor_name]
                rot = quat_to_rotation(np.array([row.qw, row.qx, row.qy, row.qz], float))
                out[row.sensor_name] = (rot, np.array([row.tx_m, row.ty_m, row.tz_m]), k.fx_px,
                                        k.fy_px, k.cx_px, k.cy_px, k.width_px, k.height_px)
        return out or None

    return ctx.memo(("cameras",), load)


def _corners_ego(ctx: LogContext) -> np.ndarray:
    """(N,T,8,3) box corners in the ego frame of each timestamp."""
    signs = np.array([[x, y, z] for x in (1, -1) for y in (1, -1) for z in (1, -1)], float)
    half = ctx.size[:, :, None, :] / 2 * signs[None, None]
    rot = rot_z(np.asarray(ctx.log.yaw_ego, float))
    return np.einsum("ntij,ntkj->ntki", rot, half) + np.asarray(ctx.log.translation_ego)[:, :, None]


def _project(ctx: LogContext, camera: str) -> tuple[np.ndarray, np.ndarray]:
    """Pixel boxes (N,T,4: u0, v0, u1, v1, clipped to the image) and visibility (N,T)."""
    def compute():
        rot, t, fx, fy, cx, cy, width, height = _cameras(ctx)[camera]
        pts = np.einsum("ji,ntkj->ntki", rot, _corners_ego(ctx) - t)  # camera: z forward
        front = pts[..., 2] > 0.1
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(front, fx * pts[..., 0] / pts[..., 2] + cx, np.nan)
            v = np.where(front, fy * pts[..., 1] / pts[..., 2] + cy, np.nan)
            box = np.stack([np.nanmin(u, -1), np.nanmin(v, -1), np.nanmax(u, -1),
                            np.nanmax(v, -1)], -1)
        box = np.clip(box, 0, [width, height, width, height])
        seen = front.any(-1) & (box[..., 2] > box[..., 0]) & (box[..., 3] > box[..., 1])
        return box, seen & ctx.valid

    import warnings as _w

    with _w.catch_warnings():
        _w.simplefilter("ignore", RuntimeWarning)  # all-NaN slices behind the camera
        return ctx.memo(("camera_boxes", camera), compute)


def within_camera_view(track_candidates, log_dir, camera=None, camera_name=None):
    """Objects whose box appears in a camera's image.

    ``camera_name`` is the reference's name for ``camera``.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        camera: a camera name such as 'ring_front_center', or None for any (default None).
        camera_name: the reference's name for camera (default None).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        seen = within_camera_view(peds, log_dir, camera='ring_front_center')
    """
    camera = camera if camera is not None else camera_name
    ctx = get_context(log_dir)
    cams = _cameras(ctx)
    if cams is None:
        _warn_once("within_camera_view", f"within_camera_view: log {ctx.log_dir.name} has no "
                   "camera calibration (calibration/egovehicle_SE3_sensor.feather, "
                   "intrinsics.feather); returning the candidates unchanged")
        return to_scenario_dict(track_candidates, ctx)
    names = [c for c in cams if camera is None or c == camera]
    if not names:
        raise ValueError(f"unknown camera {camera!r}; this log has {sorted(cams)}")
    seen = np.zeros(ctx.valid.shape, bool)
    for name in names:
        seen |= _project(ctx, name)[1]
    return filter_by_mask(track_candidates, ctx, seen)


def _images(ctx: LogContext) -> dict:
    """{camera: (sorted image timestamps, folder)} for cameras with images and calibration."""
    def find():
        cams, root = _cameras(ctx) or {}, ctx.log_dir / "sensors" / "cameras"
        out = {}
        for name in cams:
            files = sorted(int(p.stem) for p in (root / name).glob("*.jpg") if p.stem.isdigit())
            if files:
                out[name] = (np.array(files, dtype=np.int64), root / name)
        return out

    return ctx.memo(("camera_images",), find)


def classify_color(rgb: np.ndarray) -> str:
    """Name of the closest of the six DSL colours for a mean (r, g, b) in [0, 255]."""
    import colorsys

    h, s, v = colorsys.rgb_to_hsv(*(np.asarray(rgb, float) / 255.0))
    if v < 0.25:
        return "black"
    if s < 0.2:
        return "white" if v > 0.75 else "silver"
    hue = h * 360
    if hue < 20 or hue >= 330:
        return "red"
    if 35 <= hue < 75:
        return "yellow"
    if 180 <= hue < 260:
        return "blue"
    return "other"


def _track_colors(ctx: LogContext) -> dict:
    """{row: colour} from each track's largest fully projected box in any camera image."""
    from PIL import Image

    images = _images(ctx)
    best: dict = {}
    for name in images:
        box, seen = _project(ctx, name)
        area = np.where(seen, (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1]), 0)
        cols = area.argmax(axis=1)
        for r in np.flatnonzero(area.max(axis=1) > 0):
            if r not in best or area[r, cols[r]] > best[r][0]:
                best[r] = (area[r, cols[r]], name, cols[r], box[r, cols[r]])
    colors = {}
    model = model_classifier(COLORS)
    for r, (_, name, c, (u0, v0, u1, v1)) in best.items():
        stamps, folder = images[name]
        k = int(np.argmin(np.abs(stamps - ctx.timestamps[c])))
        with Image.open(Path(folder) / f"{stamps[k]}.jpg") as img:
            du, dv = (u1 - u0) / 4, (v1 - v0) / 4  # the box's central half
            crop = np.asarray(img.convert("RGB").crop((int(u0 + du), int(v0 + dv),
                                                       int(u1 - du) + 1, int(v1 - dv) + 1)))
        if crop.size:
            colors[r] = model(crop) if model else classify_color(np.median(crop.reshape(-1, 3), axis=0))
    return colors


def is_color(track_candidates, log_dir, color):
    """Objects of a colour, judged from the camera images.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        color: 'white', 'silver', 'black', 'red', 'yellow' or 'blue'.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere). Without camera images, or for an unknown
        colour, every candidate is kept.

    Example:
        red_cars = is_color(vehicles, log_dir, color='red')
    """
    ctx = get_context(log_dir)
    if not _images(ctx):
        _warn_once("is_color", f"is_color: log {ctx.log_dir.name} has no camera images with "
                   "calibration (sensors/cameras/<camera>/<timestamp_ns>.jpg); returning the "
                   "candidates unchanged")
        return to_scenario_dict(track_candidates, ctx)
    if color not in COLORS:
        return to_scenario_dict(track_candidates, ctx)
    colors = ctx.memo(("track_colors",), lambda: _track_colors(ctx))
    rows = np.array([colors.get(r) == color for r in range(ctx.n_tracks)])
    return filter_by_mask(track_candidates, ctx, ctx.valid & rows[:, None])
