"""Bird's-eye-view animation of a (log, prompt) pair over the whole log.

North-up city frame following the ego. The map (drivable area, lane polygons, crosswalks) is
rasterised ONCE per log (``MapLayer``) and every frame starts from a crop of it; the tracks,
outcome colours, labels, clock and the timeline strip are drawn on top with PIL.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from scenmine.data.logs import EGO_CATEGORY, LogData
from scenmine.verify.bev import draw_map, footprint, footprints, map_polygons
from scenmine.verify.style import COLORS, font

from .outcome import MISSED, PREDICTED, TP, Box, PairOutcome

STRIP_H = 40            # timeline strip under the map, pixels
MATCH_ROW_M = 1.0       # a frame's box is drawn as the log track within this distance
HOLD_S = 0.3            # an evaluation frame's outcome colours the 10 Hz frames this close


@dataclass
class AnimationConfig:
    """How the animation is drawn (from the ``view`` config node: ``ViewConfig.animation``)."""

    size: tuple[int, int]     # (W, H) of the map part, pixels (even numbers)
    range_m: float            # half-width of the view around the ego, metres
    fps: int

    @property
    def metres_per_px(self) -> float:
        return 2.0 * self.range_m / min(self.size)


class MapLayer:
    """The map of one log rasterised once over the region the ego drives through."""

    def __init__(self, log: LogData, cfg: AnimationConfig):
        self.mpp = cfg.metres_per_px
        W, H = cfg.size
        ego = log.ego_translation[:, :2]
        ego = ego[np.all(np.isfinite(ego), axis=1)]
        ego = ego if len(ego) else np.zeros((1, 2))
        margin = np.array([W, H]) * self.mpp   # a full view on every side: crops stay inside
        self.lo = ego.min(axis=0) - margin
        hi = ego.max(axis=0) + margin
        self.shape = tuple(np.ceil((hi - self.lo) / self.mpp).astype(int)[::-1])  # (rows, cols)
        self.image = Image.new("RGB", self.shape[::-1], COLORS["background"])
        polys = map_polygons(log)
        self.has_map = polys is not None
        if polys is not None:
            centre = (self.lo + hi) / 2
            radius = float(np.abs(hi - self.lo).max())
            draw_map(ImageDraw.Draw(self.image, "RGBA"), polys, self.to_px_list, centre, radius)
        self.pixels = np.asarray(self.image)

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        """City (..., 2) -> raster pixels (..., 2) as (column, row)."""
        col = (xy[..., 0] - self.lo[0]) / self.mpp
        row = self.shape[0] - (xy[..., 1] - self.lo[1]) / self.mpp
        return np.stack([col, row], axis=-1)

    def to_px_list(self, xy: np.ndarray) -> list[tuple[float, float]]:
        return [tuple(p) for p in self.to_px(np.asarray(xy)[:, :2]).tolist()]

    def crop(self, centre_xy: np.ndarray, size: tuple[int, int]) -> tuple[Image.Image, np.ndarray]:
        """A ``size`` view centred on ``centre_xy`` and the raster pixel of its top-left corner."""
        W, H = size
        c = self.to_px(np.asarray(centre_xy, float))
        x0 = int(np.clip(round(c[0] - W / 2), 0, self.shape[1] - W))
        y0 = int(np.clip(round(c[1] - H / 2), 0, self.shape[0] - H))
        return Image.fromarray(self.pixels[y0:y0 + H, x0:x0 + W].copy()), np.array([x0, y0])


@dataclass
class _Overlay:
    """What one evaluation frame adds: status per log row, and boxes not found in the log."""

    rows: dict[int, str]
    boxes: list[tuple[Box, str]]
    ids: dict[int, str]


def _row_of(log: LogData, box: Box, j: int | None, candidates: np.ndarray | None = None) -> int | None:
    """The log row whose track is at ``box`` at column ``j`` (within MATCH_ROW_M), else None."""
    if j is None:
        return None
    rows = candidates if candidates is not None else np.flatnonzero(log.valid[:, j])
    rows = [int(r) for r in rows if 0 <= r < log.n_tracks and log.valid[r, j]]
    if not rows:
        return None
    d = np.hypot(log.translation_city[rows, j, 0] - box.x, log.translation_city[rows, j, 1] - box.y)
    k = int(np.argmin(d))
    return rows[k] if d[k] <= MATCH_ROW_M else None


def overlays(log: LogData, outcome: PairOutcome) -> list[_Overlay]:
    """Per evaluation frame: the log rows to colour and the boxes to draw from the frames."""
    out = []
    for f in outcome.frames:
        j = log.time_index.get(f.timestamp_ns)
        rows: dict[int, str] = {}
        boxes: list[tuple[Box, str]] = []
        ids: dict[int, str] = {}
        items = [(b, "related") for b in f.related] + list(f.predicted) + [(b, MISSED) for b in f.missed]
        for box, status in items:
            # a predicted track_id is the row of the log it was mined from; check, then search
            row = _row_of(log, box, j, np.array([box.track_id])) if status != MISSED else None
            row = row if row is not None else _row_of(log, box, j)
            if row is None:
                boxes.append((box, status))
            elif status != "related" or row not in rows:
                rows[row] = status
                ids[row] = str(log.uuids[row])[:8]
        out.append(_Overlay(rows, boxes, ids))
    return out


def timeline_strip(outcome: PairOutcome, width: int) -> Image.Image:
    """Two rows over the log's evaluation frames: where the prediction is positive (green:
    some true positive, orange: only false positives) and where the truth is (magenta)."""
    img = Image.new("RGB", (width, STRIP_H), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    n = max(1, len(outcome.frames))
    label_w, f = 44, font(11)
    draw.text((2, 3), "pred", fill=(0, 0, 0), font=f)
    draw.text((2, 21), "truth", fill=(0, 0, 0), font=f)
    cell = (width - label_w) / n
    for k, fr in enumerate(outcome.frames):
        x0, x1 = label_w + k * cell, label_w + (k + 1) * cell
        if fr.predicted:
            key = "tp" if any(s in (TP, PREDICTED) for _, s in fr.predicted) else "fp"
            draw.rectangle([x0, 3, x1, 17], fill=COLORS[key])
        if fr.truth_positive:
            draw.rectangle([x0, 21, x1, 35], fill=COLORS["missed"])
    if not outcome.has_truth:
        draw.text((label_w + 4, 21), "no ground truth", fill=(120, 120, 120), font=f)
    return img


class _Labels:
    """Track-id labels rendered once each and stamped as bitmaps (text rendering is slow)."""

    def __init__(self, size: int = 12):
        self.font = font(size)
        self.masks: dict[str, Image.Image] = {}

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, colour) -> None:
        mask = self.masks.get(text)
        if mask is None:
            left, top, right, bottom = self.font.getbbox(text)
            mask = Image.new("L", (right + 1, bottom + 1))
            ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=self.font)
            self.masks[text] = mask
        draw.bitmap((int(xy[0]) + 6, int(xy[1]) - 14), mask, fill=colour)


def _draw_box(draw, pts: list, key: str, outline_only: bool) -> None:
    if outline_only:
        draw.polygon(pts, outline=COLORS[key + "_edge"], width=3)
    else:
        draw.polygon(pts, fill=COLORS[key], outline=COLORS[key + "_edge"])


def frames(log: LogData, outcome: PairOutcome, layer: MapLayer, cfg: AnimationConfig,
           title: str = "") -> Iterator[np.ndarray]:
    """(H + STRIP_H, W, 3) uint8 frames, one per log timestamp."""
    W, H = cfg.size
    overlay = overlays(log, outcome)
    eval_ts = outcome.timestamps
    strip = np.asarray(timeline_strip(outcome, W))
    labels, clock_font = _Labels(12), font(14)
    ts = log.timestamps.astype(np.int64)
    t0, t_end = int(ts[0]), (int(ts[-1]) - int(ts[0])) / 1e9
    is_ego = log.categories == EGO_CATEGORY
    n = max(1, len(outcome.frames))
    reach = 0.75 * max(W, H) * layer.mpp + 10.0          # tracks farther from the ego are culled
    min_side = 3 * layer.mpp
    size = np.where(np.isfinite(log.size[..., :2]), np.maximum(log.size[..., :2], min_side), 1.0)
    drawable = log.valid & np.all(np.isfinite(log.translation_city[..., :2]), -1) & np.isfinite(log.yaw_city)
    for j in range(len(ts)):
        k = int(np.argmin(np.abs(eval_ts - ts[j]))) if len(eval_ts) else None
        ov = overlay[k] if k is not None and abs(int(eval_ts[k]) - int(ts[j])) <= HOLD_S * 1e9 else None
        ego_xy = log.ego_translation[j, :2]
        view, origin = layer.crop(ego_xy, (W, H))
        draw = ImageDraw.Draw(view, "RGBA")
        status = ov.rows if ov else {}
        rows = np.flatnonzero(drawable[:, j])
        rows = rows[np.abs(log.translation_city[rows, j, :2] - ego_xy).max(axis=1) < reach]
        rows = sorted(rows.tolist(), key=lambda r: (r in status, status.get(r) == MISSED))  # outcomes on top
        corners = footprints(log.translation_city[rows, j, :2], log.yaw_city[rows, j],
                             size[rows, j, 0], size[rows, j, 1])
        pixels = layer.to_px(corners) - origin
        centres = pixels.mean(axis=1).tolist()
        for r, pts, centre in zip(rows, pixels.tolist(), centres):
            key = status.get(r) or ("ego" if is_ego[r] else "other")
            _draw_box(draw, [tuple(p) for p in pts], key, key in (MISSED, "related"))
            nose = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)   # heading tick
            draw.line([tuple(centre), nose], fill=COLORS[key + "_edge"], width=1)
            if key not in ("other", "ego"):
                labels.draw(draw, centre, ov.ids[r], COLORS[key + "_edge"])
        for box, key in ov.boxes if ov else []:
            pts = layer.to_px(footprint(np.array([box.x, box.y]), box.yaw, box.length, box.width)) - origin
            _draw_box(draw, [tuple(p) for p in pts.tolist()], key, True)
            labels.draw(draw, tuple(pts.mean(axis=0)), f"#{box.track_id}", COLORS[key + "_edge"])
        draw.rectangle([0, 0, W, 20], fill=(255, 255, 255, 210))
        draw.text((4, 3), f"t {(int(ts[j]) - t0) / 1e9:5.1f} / {t_end:.1f} s  {title}"[:90],
                  fill=(0, 0, 0), font=clock_font)
        out = np.empty((H + STRIP_H, W, 3), np.uint8)
        out[:H] = np.asarray(view)
        out[H:] = strip
        if k is not None:                     # the timeline cursor
            x = int(44 + (k + 0.5) * (W - 44) / n)
            out[H:, max(0, x - 1):x + 1] = 0
        yield out
