"""Evidence for a (log, prompt) pair: frames around the predicted positive timestamps.

Camera images with the referred / related objects' projected 3D boxes when the log has
cameras, else bird's-eye-view renders (``bev.py``); single frames or one time-indexed panel.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .bev import render_bev
from .camera import load_cameras
from .style import COLORS, font

DEFAULT_CAMERAS = ("ring_front_center", "ring_front_left", "ring_front_right", "ring_side_left",
                   "ring_side_right", "ring_rear_left", "ring_rear_right")


@dataclass
class RenderConfig:
    """How evidence is drawn (part of the score cache key)."""

    frames: int = 4                      # frames per pair
    layout: str = "panel"                # "panel" (one grid image) | "single" (one image per frame)
    image_size: tuple[int, int] = (768, 768)  # (W, H) of each returned image
    source: str = "auto"                 # "auto" (camera if the log has images) | "bev" | "camera"
    bev_range_m: float = 40.0            # BEV half-width around the ego
    bev_fit: bool = True                 # re-centre / widen the BEV to show highlighted objects
    context_s: float = 0.0               # extend the frame window before / after the positives
    cameras: tuple[str, ...] = DEFAULT_CAMERAS
    max_camera_gap_s: float = 0.1        # nearest image must be this close to the frame

    @classmethod
    def from_cfg(cls, cfg: Any | None) -> RenderConfig:
        """From a mapping (e.g. ``cfg.verifier.render``); unknown keys are ignored."""
        if cfg is None:
            return cls()
        d = {k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg}
        if "image_size" in d:
            d["image_size"] = tuple(int(v) for v in d["image_size"])
        if "cameras" in d:
            d["cameras"] = tuple(d["cameras"])
        return cls(**d)

    def key(self) -> dict:
        return asdict(self)


@dataclass
class Evidence:
    """Rendered images of a pair and what they show."""

    images: list[Image.Image]
    timestamps: list[int]
    sources: list[str] = field(default_factory=list)   # "bev" or a camera name, per frame

    @property
    def kind(self) -> str:
        return "camera" if any(s != "bev" for s in self.sources) else "bev"


def select_frames(log_ts: np.ndarray, positive_ts: np.ndarray, n: int, context_s: float = 0.0) -> list[int]:
    """Indices into ``log_ts`` of ``n`` frames spread over the positive timestamps."""
    pos = np.intersect1d(np.asarray(positive_ts, dtype=np.int64), log_ts)
    if not len(pos):
        return []
    idx = np.searchsorted(log_ts, pos)
    if context_s > 0:
        step = max(1, round(context_s * 10))
        idx = np.union1d(idx, [max(0, idx[0] - step), min(len(log_ts) - 1, idx[-1] + step)])
    picks = idx[np.unique(np.round(np.linspace(0, len(idx) - 1, min(n, len(idx)))).astype(int))]
    return [int(i) for i in picks]


def _active(d: dict[str, np.ndarray], ts: int) -> set[str]:
    return {str(u) for u, t in d.items() if ts in set(np.asarray(t, dtype=np.int64).tolist())}


def _fit(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Letterbox ``img`` into ``size`` keeping its aspect ratio."""
    W, H = size
    s = min(W / img.width, H / img.height)
    im = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BILINEAR)
    out = Image.new("RGB", size, (0, 0, 0))
    out.paste(im, ((W - im.width) // 2, (H - im.height) // 2))
    return out


def _camera_frame(log, j: int, referred: set[str], related: set[str], cams: dict, cfg: RenderConfig,
                  size: tuple[int, int], title: str) -> tuple[Image.Image, str] | None:
    """Full camera image with projected boxes, from the camera seeing most referred objects."""
    ts = int(log.timestamps[j])
    rows = {str(u): i for i, u in enumerate(log.uuids)}
    ref_rows = [rows[u] for u in referred if u in rows and log.valid[rows[u], j]]
    best, best_n = None, 0
    for name in cfg.cameras:
        cam = cams.get(name)
        if cam is None or cam.nearest_image(ts, int(cfg.max_camera_gap_s * 1e9)) is None:
            continue
        n = sum(cam.sees(log.translation_ego[i, j]) for i in ref_rows)
        if n > best_n:
            best, best_n = cam, n
    if best is None:
        return None
    img = Image.open(best.nearest_image(ts, int(cfg.max_camera_gap_s * 1e9))).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(2, round(img.height / 300))
    for uid, key in [(u, "related") for u in related] + [(u, "referred") for u in referred]:
        i = rows.get(uid)
        if i is None or not log.valid[i, j]:
            continue
        segs = best.box_edges(log.translation_ego[i, j], float(log.yaw_ego[i, j]), log.size[i, j])
        for a, b in segs or []:
            draw.line([a, b], fill=COLORS[key], width=width)
    out = _fit(img, size)
    if title:
        ImageDraw.Draw(out).text((4, 2), f"{title}  {best.name}", fill=(255, 255, 0),
                                 font=font(max(10, size[1] // 24)))
    return out, best.name


def _panel(tiles: list[Image.Image], size: tuple[int, int]) -> Image.Image:
    cols = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    W, H = size
    tw, th = W // cols, H // rows
    out = Image.new("RGB", size, (255, 255, 255))
    for k, tile in enumerate(tiles):
        out.paste(tile.resize((tw - 2, th - 2), Image.BILINEAR), ((k % cols) * tw + 1, (k // cols) * th + 1))
    return out


def render_evidence(log, referred: dict, related: dict, cfg: RenderConfig | None = None) -> Evidence:
    """Images of the frames around ``referred``'s timestamps (``log``: a ``LogData``)."""
    cfg = cfg or RenderConfig()
    positive = np.concatenate([np.asarray(v, dtype=np.int64) for v in referred.values()] or [np.zeros(0, np.int64)])
    picks = select_frames(np.asarray(log.timestamps), positive, cfg.frames, cfg.context_s)
    cams = load_cameras(str(log.log_dir)) if cfg.source in ("auto", "camera") else {}
    if cfg.layout == "panel":
        cols = math.ceil(math.sqrt(max(1, len(picks))))
        rows = math.ceil(max(1, len(picks)) / cols)
        tile = (cfg.image_size[0] // cols, cfg.image_size[1] // rows)
    else:
        tile = tuple(cfg.image_size)
    t0 = int(log.timestamps[0])
    images, stamps, sources = [], [], []
    for k, j in enumerate(picks):
        ts = int(log.timestamps[j])
        title = f"{k + 1}/{len(picks)} t={(ts - t0) / 1e9:.1f}s"
        ref, rel = _active(referred, ts), _active(related, ts)
        got = _camera_frame(log, j, ref, rel, cams, cfg, tile, title) if cams else None
        if got is None:
            got = (render_bev(log, j, ref, rel, tile, cfg.bev_range_m, title, cfg.bev_fit), "bev")
        images.append(got[0])
        stamps.append(ts)
        sources.append(got[1])
    if cfg.layout == "panel" and images:
        images = [_panel(images, tuple(cfg.image_size))]
    return Evidence(images, stamps, sources)
