"""Video files of an animation: H.264 MP4 (PyAV) and a small animated WebP fallback (Pillow)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

MP4_OPTIONS = {"preset": "veryfast", "crf": "26", "threads": "1", "movflags": "+faststart"}
WEBP_EVERY = 5          # the fallback keeps every 5th frame at half size (2 Hz, the evaluation rate)


def _atomic(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def encode(frames: Iterable[np.ndarray], mp4: Path, webp: Path, fps: int = 10) -> int:
    """Write ``frames`` (H, W, 3 uint8, all one size) to ``mp4`` and ``webp``; the frame count.

    The MP4 is H.264 in yuv420p with the index up front (plays in Chromium, Firefox, Safari
    and from MLflow's artifact server); the WebP is a half-size 2 Hz preview (about half the MP4).
    """
    import av

    tmp_mp4, tmp_webp = _atomic(Path(mp4)), _atomic(Path(webp))
    small: list[Image.Image] = []
    n = 0
    container = av.open(str(tmp_mp4), "w", format="mp4")
    try:
        stream = None
        for n, frame in enumerate(frames, start=1):
            if stream is None:
                h, w = frame.shape[:2]
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height = w - w % 2, h - h % 2
                stream.pix_fmt = "yuv420p"
                stream.options = dict(MP4_OPTIONS)
            frame = frame[:stream.height, :stream.width]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
            if (n - 1) % WEBP_EVERY == 0:
                small.append(Image.fromarray(np.ascontiguousarray(frame[::2, ::2])))
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    finally:
        container.close()
    if not small:
        tmp_mp4.unlink(missing_ok=True)
        raise ValueError("no frames to encode")
    small[0].save(tmp_webp, format="WEBP", save_all=True, append_images=small[1:],
                  duration=round(1000 * WEBP_EVERY / fps), loop=0, quality=30, method=0)
    os.replace(tmp_mp4, mp4)
    os.replace(tmp_webp, webp)
    return n
