"""Evidence rendering on the real logs: BEV panels / frames, and the camera path."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from scenmine.verify.render import RenderConfig, render_evidence, select_frames
from scenmine.verify.style import COLORS


def _has_color(img: Image.Image, rgb: tuple, tol: int = 10) -> int:
    a = np.asarray(img.convert("RGB")).astype(int)
    return int((np.abs(a - np.array(rgb[:3])).max(axis=-1) <= tol).sum())


def test_select_frames_spreads_over_positives():
    ts = np.arange(100, dtype=np.int64) * 100
    picks = select_frames(ts, ts[[10, 11, 12, 50, 51, 90]], 4)
    assert len(picks) == 4 and picks[0] == 10 and picks[-1] == 90
    assert select_frames(ts, np.array([5, 7]), 4) == []  # no positive on the log's clock
    assert select_frames(ts, ts[[20]], 4, context_s=1.0) == [10, 20, 30]


def test_bev_panel_on_real_logs(gt_pairs):
    from scenmine.data.logs import load_log

    for pair in gt_pairs[0]:
        log = load_log(pair.log_dir)
        ev = render_evidence(log, pair.referred, pair.related, RenderConfig(frames=4, image_size=(512, 384)))
        assert len(ev.images) == 1 and ev.images[0].size == (512, 384)
        assert len(ev.timestamps) == 4 and ev.sources == ["bev"] * 4 and ev.kind == "bev"
        img = ev.images[0]
        assert len(img.convert("RGB").getcolors(1 << 20)) > 20          # map, boxes, text
        assert _has_color(img, COLORS["referred"]) > 50                # referred objects drawn
        assert _has_color(img, COLORS["ego"]) > 20                     # ego drawn
        assert _has_color(img, COLORS["drivable"]) > 0.05 * 512 * 384  # map drawn


def test_bev_single_frames_with_related(gt_pairs):
    from scenmine.data.logs import load_log

    pair = gt_pairs[0][0]
    log = load_log(pair.log_dir)
    first = next(iter(pair.referred))
    other = next(str(u) for u in log.uuids if str(u) not in pair.referred and u != "ego")
    ev = render_evidence(log, pair.referred, {other: log.timestamps}, RenderConfig(frames=3, layout="single",
                                                                                   image_size=(256, 256)))
    assert [im.size for im in ev.images] == [(256, 256)] * 3
    assert all(_has_color(im, COLORS["related"]) > 0 for im in ev.images)
    assert first in pair.referred


def _camera_log(tmp_path, av2_mini, frames=slice(68, 88)):
    """The calibrated real log plus synthetic images: the AV2 sensors/cameras layout."""
    from scenmine.data.logs import load_log

    src = av2_mini / "logs" / "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
    dst = tmp_path / src.name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.npy"))
    for npy in (src / "map").glob("*.npy"):
        (dst / "map" / npy.name).symlink_to(npy)
    log = load_log(dst)
    cam_dir = dst / "sensors" / "cameras" / "ring_front_center"
    cam_dir.mkdir(parents=True)
    for ts in log.timestamps[frames]:
        Image.new("RGB", (1550, 2048), (40, 40, 40)).save(cam_dir / f"{int(ts) + 3_000_000}.jpg")
    return log


def test_camera_frames_with_projected_boxes(tmp_path, av2_mini):
    log = _camera_log(tmp_path, av2_mini)
    j = 78
    ahead = [str(log.uuids[i]) for i in np.flatnonzero(log.valid[:, j])
             if 5 < log.translation_ego[i, j, 0] < 60 and abs(log.translation_ego[i, j, 1]) < 0.5 * log.translation_ego[i, j, 0]]
    assert ahead, "the log has objects ahead of the ego"
    referred = {u: log.timestamps[j - 10:j + 10] for u in ahead}
    ev = render_evidence(log, referred, {}, RenderConfig(frames=2, layout="single", image_size=(300, 400)))
    assert len(ev.images) == 2
    assert ev.kind == "camera" and set(ev.sources) == {"ring_front_center"}
    for img in ev.images:
        assert img.size == (300, 400)
        assert _has_color(img, COLORS["referred"], tol=40) > 20  # projected boxes on the image
    bev = render_evidence(log, referred, {}, RenderConfig(frames=2, source="bev"))
    assert bev.kind == "bev"


def test_no_positive_timestamps_gives_no_images(gt_pairs):
    from scenmine.data.logs import load_log

    log = load_log(gt_pairs[0][0].log_dir)
    assert render_evidence(log, {}, {}).images == []


@pytest.mark.parametrize("layout", ["panel", "single"])
def test_render_config_from_mapping(layout):
    cfg = RenderConfig.from_cfg({"frames": 2, "layout": layout, "image_size": [64, 32], "unknown": 1})
    assert cfg.image_size == (64, 32) and cfg.layout == layout
