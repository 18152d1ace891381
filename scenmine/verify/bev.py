"""Bird's-eye-view evidence: map (drivable area, lanes, crosswalks) and tracks, ego frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .style import COLORS, font

_EGO_CATEGORY = "EGO_VEHICLE"


@dataclass
class MapPolygons:
    """The map's polygons in the city frame, with centres for quick range culling."""

    drivable: list[np.ndarray]
    lanes: list[np.ndarray]
    crosswalks: list[np.ndarray]

    def near(self, kind: str, xy: np.ndarray, radius: float) -> list[np.ndarray]:
        """Polygons of ``kind`` with a vertex within ``radius`` metres (box test) of ``xy``."""
        out = []
        for poly in getattr(self, kind):
            d = np.abs(poly[:, :2] - xy).max(axis=1)
            if d.min() <= radius:
                out.append(poly)
        return out


_CACHE: dict[str, MapPolygons] = {}


def _build(avm) -> MapPolygons:
    return MapPolygons(
        drivable=[np.asarray(a.xyz)[:, :2] for a in avm.vector_drivable_areas.values()],
        lanes=[np.asarray(s.polygon_boundary)[:, :2] for s in avm.vector_lane_segments.values()],
        crosswalks=[np.asarray(c.polygon)[:, :2] for c in avm.vector_pedestrian_crossings.values()],
    )


def map_polygons(log) -> MapPolygons | None:
    """City-frame map polygons of a log (None when its map cannot be loaded)."""
    key = str(log.log_dir)
    if key not in _CACHE:
        try:
            _CACHE[key] = _build(log.map)
        except Exception:  # noqa: BLE001 - a missing map still gets a track-only render
            return None
        while len(_CACHE) > 16:
            _CACHE.pop(next(iter(_CACHE)))
    return _CACHE[key]


# What the map layer draws, bottom up: (MapPolygons field, fill colour key, outline colour key).
MAP_LAYERS = (("drivable", "drivable", None), ("lanes", None, "lane"),
              ("crosswalks", "crosswalk", "crosswalk_edge"))


def draw_map(draw: ImageDraw.ImageDraw, polys: MapPolygons, to_px, centre_xy: np.ndarray,
             radius: float) -> None:
    """Draw the map polygons within ``radius`` m of ``centre_xy`` (city frame); ``to_px`` maps
    (N, 2) city points to a list of pixel tuples."""
    for kind, fill, outline in MAP_LAYERS:
        for poly in polys.near(kind, centre_xy, radius):
            if len(poly) >= 3:
                draw.polygon(to_px(poly), fill=COLORS.get(fill), outline=COLORS.get(outline))


def footprints(center: np.ndarray, yaw: np.ndarray, length: np.ndarray, width: np.ndarray) -> np.ndarray:
    """(N, 4, 2) corners of N boxes' footprints (front left, front right, rear right, rear left)."""
    l, w = np.asarray(length, float) / 2.0, np.asarray(width, float) / 2.0
    local = np.stack([np.stack([l, w], -1), np.stack([l, -w], -1), np.stack([-l, -w], -1),
                      np.stack([-l, w], -1)], axis=1)                       # (N, 4, 2)
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    x, y = local[..., 0], local[..., 1]
    return np.stack([x * c - y * s, x * s + y * c], -1) + np.asarray(center)[:, None, :2]


def footprint(center: np.ndarray, yaw: float, length: float, width: float) -> np.ndarray:
    """(4, 2) corners of one box's footprint (see ``footprints``)."""
    return footprints(np.asarray(center)[None], np.array([yaw]), np.array([length]),
                      np.array([width]))[0]


def render_bev(log, j: int, referred: set[str], related: set[str], size: tuple[int, int],
               range_m: float = 40.0, title: str = "", fit: bool = True) -> Image.Image:
    """BEV of timestamp index ``j`` in the ego frame (ego facing up), ``range_m`` to each side.

    With ``fit`` the view is centred on the ego and the highlighted objects and widened
    (up to 3x) so that they all show.
    """
    W, H = size
    cx = cy = 0.0
    rows = [i for i in np.flatnonzero(log.valid[:, j]) if str(log.uuids[i]) in referred | related]
    if fit and rows:
        pts = np.vstack([np.zeros((1, 2)), log.translation_ego[rows, j, :2]])
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        cx, cy = (lo + hi) / 2
        range_m = float(min(max(range_m, (hi - lo).max() / 2 + 8.0), 3 * range_m))
    scale = min(W, H) / (2.0 * range_m)

    def px(xy_ego: np.ndarray) -> list[tuple[float, float]]:
        # ego x (forward) -> up, ego y (left) -> left
        return [(W / 2 - (y - cy) * scale, H / 2 - (x - cx) * scale) for x, y in xy_ego[:, :2]]

    img = Image.new("RGB", (W, H), COLORS["background"])
    draw = ImageDraw.Draw(img, "RGBA")
    R, t = log.ego_rotation[j], log.ego_translation[j]
    polys = map_polygons(log)
    if polys is not None:
        radius = range_m * 1.5 + float(np.hypot(cx, cy))
        to_ego = lambda p: (np.c_[p, np.zeros(len(p))] - t) @ R
        draw_map(draw, polys, lambda p: px(to_ego(p)), t[:2], radius)
    line_w = max(1, round(min(W, H) / 256))
    min_px = 4.0
    valid = log.valid[:, j]
    order = sorted(np.flatnonzero(valid), key=lambda i: (str(log.uuids[i]) in referred,
                                                          str(log.uuids[i]) in related))
    for i in order:
        uid, cat = str(log.uuids[i]), str(log.categories[i])
        key = ("ego" if cat == _EGO_CATEGORY else "referred" if uid in referred
               else "related" if uid in related else "other")
        c, yaw, sz = log.translation_ego[i, j], float(log.yaw_ego[i, j]), log.size[i, j]
        if not np.all(np.isfinite(c[:2])) or not np.isfinite(yaw):
            continue
        length, width = (float(v) if np.isfinite(v) else 1.0 for v in sz[:2])
        length, width = max(length, min_px / scale), max(width, min_px / scale)  # stay visible
        draw.polygon(px(footprint(c, yaw, length, width)), fill=COLORS[key], outline=COLORS[key + "_edge"])
        nose = c[:2] + np.array([np.cos(yaw), np.sin(yaw)]) * length / 2
        draw.line(px(np.stack([c[:2], nose])), fill=COLORS[key + "_edge"], width=line_w)
    if title:
        f = font(max(10, H // 24))
        draw.rectangle([0, 0, W, H // 24 + 8], fill=(255, 255, 255, 200))
        draw.text((4, 2), title, fill=(0, 0, 0), font=f)
    return img
