"""Tracker-like noise on clean tracks: what a 3D detector + tracker does to the annotations.

``make_noisy(log, NoiseOptions(seed=...)) -> LogData`` (seeded, deterministic) applies:
identity switches between nearby objects of one category, fragmentation (a track split in two
with a few frames missing), dropped frames, centre / size / yaw noise, 180-degree yaw flips over
a few frames, scores (true tracks high, duplicates lower), duplicate boxes over part of a track
and phantom tracklets with low scores near real objects. Used by ``python -m scenmine.bench
tracks`` and the refinement tests; the ego track is untouched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenmine.data.logs import LogData
from scenmine.tracks.boxes import Tracks, to_log, wrap


@dataclass(frozen=True)
class NoiseOptions:
    seed: int = 0
    position_m: float = 0.25        # centre noise (std, x and y; half of it on z)
    size_rel: float = 0.05          # relative size noise (std)
    yaw_rad: float = 0.05           # yaw noise (std)
    flip_track: float = 0.2         # share of tracks with a flipped-yaw segment ...
    flip_frames: tuple = (2, 8)     # ... of this many boxes
    switch_pair: float = 0.3        # share of close same-category pairs that swap identities ...
    switch_distance_m: float = 3.0  # ... where they come this close
    fragment_track: float = 0.2     # share of tracks (20+ boxes) split in two ...
    fragment_gap: tuple = (1, 5)    # ... with this many frames missing between the pieces
    drop_box: float = 0.05          # share of boxes missed
    duplicate_track: float = 0.05   # share of tracks with a duplicate box over a segment
    phantoms: int = 20              # phantom tracklets per log (3-15 boxes, low scores)
    true_score: tuple = (0.5, 0.95)
    false_score: tuple = (0.1, 0.35)


def make_noisy(log: LogData, options: NoiseOptions | None = None) -> LogData:
    """The log with tracker-like noise on its tracks (module docstring)."""
    opt = options or NoiseOptions()
    rng = np.random.default_rng(opt.seed)
    tracks = Tracks.of(log)
    tracks.score = np.where(tracks.valid, rng.uniform(*opt.true_score, tracks.n)[:, None], np.nan)
    tracks = _switch_identities(tracks, opt, rng)
    tracks = _fragment(tracks, opt, rng)
    tracks.clear(tracks.valid & (rng.random(tracks.valid.shape) < opt.drop_box))
    _perturb(tracks, opt, rng)
    _flip_yaw(tracks, opt, rng)
    extra = [_duplicates(tracks, opt, rng), _phantoms(tracks, opt, rng)]
    tracks = _concat([tracks] + [e for e in extra if e is not None])
    return to_log(log, tracks.take(tracks.valid.any(axis=1)))


def _concat(parts: list[Tracks]) -> Tracks:
    first = parts[0]
    return Tracks(*(np.concatenate([getattr(p, name) for p in parts])
                    for name in ("uuids", "categories", "valid", "pos", "yaw", "size", "score")),
                  seconds=first.seconds)


def _swap_tails(tracks: Tracks, a: int, b: int, j: int) -> None:
    for name in ("valid", "pos", "yaw", "size", "score"):
        arr = getattr(tracks, name)
        arr[[a, b], j:] = arr[[b, a], j:]


def _switch_identities(tracks: Tracks, opt: NoiseOptions, rng) -> Tracks:
    """Swap the futures of close same-category pairs (each track switches at most once)."""
    rows, cols = np.triu_indices(tracks.n, 1)
    same = tracks.categories[rows] == tracks.categories[cols]
    rows, cols = rows[same], cols[same]
    dist = np.linalg.norm(tracks.pos[rows, :, :2] - tracks.pos[cols, :, :2], axis=-1)
    close = np.nan_to_num(dist, nan=np.inf) < opt.switch_distance_m
    used = np.zeros(tracks.n, bool)
    for p in np.flatnonzero(close.any(axis=1)):
        a, b = rows[p], cols[p]
        if used[a] or used[b] or rng.random() >= opt.switch_pair:
            continue
        j = int(rng.choice(np.flatnonzero(close[p])))
        _swap_tails(tracks, a, b, j)
        used[[a, b]] = True
    return tracks


def _fragment(tracks: Tracks, opt: NoiseOptions, rng) -> Tracks:
    """Split some tracks: the tail after a short gap becomes a new track."""
    first, last, count = tracks.spans()
    chosen = np.flatnonzero((count >= 20) & (rng.random(tracks.n) < opt.fragment_track))
    if not len(chosen):
        return tracks
    tails = tracks.take(chosen)
    for i, row in enumerate(chosen):
        cut = int(rng.integers(first[row] + 5, last[row] - 5))
        gap = int(rng.integers(opt.fragment_gap[0], opt.fragment_gap[1] + 1))
        head_mask = np.zeros(tracks.valid.shape[1], bool)
        head_mask[cut:] = True
        tail_mask = np.zeros_like(head_mask)
        tail_mask[:cut + gap] = True
        tracks.clear(np.outer(np.arange(tracks.n) == row, head_mask))
        tails.clear(np.outer(np.arange(tails.n) == i, tail_mask))
    tails.uuids = np.array([f"{u}~frag" for u in tails.uuids], object)
    return _concat([tracks, tails])


def _perturb(tracks: Tracks, opt: NoiseOptions, rng) -> None:
    shape = tracks.pos.shape
    noise = rng.normal(0, opt.position_m, shape) * np.array([1, 1, 0.5])
    tracks.pos += noise
    tracks.size *= np.clip(rng.normal(1, opt.size_rel, shape), 0.5, 1.5)
    tracks.yaw = wrap(tracks.yaw + rng.normal(0, opt.yaw_rad, tracks.yaw.shape))


def _flip_yaw(tracks: Tracks, opt: NoiseOptions, rng) -> None:
    _, _, count = tracks.spans()
    for row in np.flatnonzero((count > opt.flip_frames[1] + 2) & (rng.random(tracks.n) < opt.flip_track)):
        cols = np.flatnonzero(tracks.valid[row])
        length = int(rng.integers(opt.flip_frames[0], opt.flip_frames[1] + 1))
        start = int(rng.integers(1, len(cols) - length))
        seg = cols[start:start + length]
        tracks.yaw[row, seg] = wrap(tracks.yaw[row, seg] + np.pi)


def _duplicates(tracks: Tracks, opt: NoiseOptions, rng) -> Tracks | None:
    """Second boxes of one object over 10-30 frames, slightly offset, with lower scores."""
    _, _, count = tracks.spans()
    chosen = np.flatnonzero((count >= 12) & (rng.random(tracks.n) < opt.duplicate_track))
    if not len(chosen):
        return None
    dup = tracks.take(chosen)
    for i in range(dup.n):
        cols = np.flatnonzero(dup.valid[i])
        length = int(rng.integers(10, min(30, len(cols)) + 1))
        start = int(rng.integers(0, len(cols) - length + 1))
        keep = np.zeros(dup.valid.shape[1], bool)
        keep[cols[start:start + length]] = True
        dup.clear(np.outer(np.arange(dup.n) == i, ~keep))
    dup.pos += rng.normal(0, opt.position_m, dup.pos.shape) * np.array([1, 1, 0.5])
    dup.score = np.where(dup.valid, dup.score - rng.uniform(0.2, 0.4, dup.n)[:, None], np.nan)
    dup.score = np.clip(dup.score, 0.05, None)
    dup.uuids = np.array([f"{u}~dup" for u in dup.uuids], object)
    return dup


def _phantoms(tracks: Tracks, opt: NoiseOptions, rng) -> Tracks | None:
    """Short static tracklets with low scores, 3-15 m from a real object, its category."""
    if not opt.phantoms or not tracks.valid.any():
        return None
    n, t = opt.phantoms, tracks.valid.shape[1]
    src_r, src_c = np.nonzero(tracks.valid)
    pick = rng.integers(0, len(src_r), n)
    r, c = src_r[pick], src_c[pick]
    valid = np.zeros((n, t), bool)
    length = rng.integers(3, 16, n)
    for i in range(n):
        valid[i, c[i]:c[i] + length[i]] = True
    angle = rng.uniform(-np.pi, np.pi, n)
    offset = rng.uniform(3, 15, n)[:, None] * np.stack([np.cos(angle), np.sin(angle), 0 * angle], -1)
    centre = tracks.pos[r, c] + offset
    pos = np.where(valid[..., None], centre[:, None] + rng.normal(0, opt.position_m, (n, t, 3)), np.nan)
    yaw = np.where(valid, rng.uniform(-np.pi, np.pi, n)[:, None], np.nan)
    size = np.where(valid[..., None], tracks.size[r, c][:, None], np.nan)
    score = np.where(valid, rng.uniform(*opt.false_score, (n, t)), np.nan)
    return Tracks(np.array([f"phantom-{i}" for i in range(n)], object), tracks.categories[r],
                  valid, pos, yaw, size, score, tracks.seconds)
