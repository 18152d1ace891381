"""Temporal aggregation of per-frame evidence, over each track's own sequence of frames.

Behaviour atoms decide on evidence held over time rather than on single frames: a condition
must hold for a minimum duration, and short dropouts (a missed annotation frame, one frame of
tracker jitter) do not split it. Everything works on (N, T) masks in "packed" order (each
row's annotated frames first, in time order), so a frame the tracker missed is skipped, not
counted as evidence against.
"""
from __future__ import annotations

import numpy as np

from scenmine.dsl.context import LogContext, _take, _unpack, pack


def frame_period(ctx: LogContext) -> float:
    """The log's frame period in seconds (0.1 for a 10 Hz log)."""
    step = np.median(np.diff(ctx.timestamps)) * 1e-9 if ctx.n_times > 1 else 0.1
    return float(step) or 0.1


def frames(ctx: LogContext, seconds: float) -> int:
    """Number of frames spanning ``seconds`` at the log's frame rate (at least 1)."""
    return max(1, int(round(float(seconds) / frame_period(ctx))))


def _positions(packed: np.ndarray, times: np.ndarray | None) -> np.ndarray:
    return np.broadcast_to(np.arange(packed.shape[1], dtype=float), packed.shape) \
        if times is None else times


def close_gaps(packed: np.ndarray, lengths: np.ndarray, max_gap: float,
               times: np.ndarray | None = None, step: float = 1.0) -> np.ndarray:
    """Packed (M, K) bool with False runs between two True samples set to True when the gap
    lasts at most ``max_gap``: samples by default, or seconds when ``times`` (M, K) gives
    each sample's time and ``step`` the frame period (so missed frames count as time).
    Runs at a row's ends are left alone."""
    if max_gap <= 0:
        return packed
    m, k = packed.shape
    idx = np.broadcast_to(np.arange(k), (m, k))
    inrow = idx < lengths[:, None]
    hit = packed & inrow
    prev = np.maximum.accumulate(np.where(hit, idx, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(hit, idx, k)[:, ::-1], axis=1)[:, ::-1]
    pos = _positions(packed, times)
    both = (prev >= 0) & (nxt < k)
    span = np.take_along_axis(pos, np.clip(nxt, 0, k - 1), 1) - \
        np.take_along_axis(pos, np.clip(prev, 0, k - 1), 1) - step
    return (hit | (both & (span <= max_gap + 1e-6 * step))) & inrow


def runs(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end exclusive) of every True run of a packed (M, K) mask."""
    m = len(packed)
    padded = np.concatenate([np.zeros((m, 1), bool), packed, np.zeros((m, 1), bool)], axis=1)
    edges = np.diff(padded.astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return rows, starts, ends


def mark(shape, rows, starts, ends) -> np.ndarray:
    """Packed bool (M, K) with [start, end) of each listed run set."""
    marks = np.zeros((shape[0], shape[1] + 1), np.int32)
    np.add.at(marks, (rows, starts), 1)
    np.add.at(marks, (rows, ends), -1)
    return np.cumsum(marks, axis=1)[:, :shape[1]] > 0


def drop_short(packed: np.ndarray, min_len: float, times: np.ndarray | None = None,
               step: float = 1.0) -> np.ndarray:
    """Packed (M, K) bool with True runs shorter than ``min_len`` removed: samples by
    default, or seconds from first to last sample plus one frame when ``times`` is given."""
    if min_len <= step:
        return packed
    rows, starts, ends = runs(packed)
    pos = _positions(packed, times)
    length = pos[rows, ends - 1] - pos[rows, starts] + step
    keep = length >= min_len - 1e-6 * step
    return mark(packed.shape, rows[keep], starts[keep], ends[keep])


def persistent(ctx: LogContext, mask: np.ndarray, min_seconds: float = 0.0,
               max_gap_seconds: float = 0.0, valid: np.ndarray | None = None) -> np.ndarray:
    """(N, T) mask kept only where it holds for ``min_seconds`` over the track's own frames,
    after closing dropouts of up to ``max_gap_seconds`` (hysteresis against jitter).
    Durations are measured on timestamps, so frames the tracker missed count as time."""
    valid = ctx.valid if valid is None else valid
    order, lengths = pack(valid)
    packed = _take(mask & valid, order)
    times = (ctx.timestamps[order] - ctx.timestamps[0]) * 1e-9
    step = frame_period(ctx)
    packed = close_gaps(packed, lengths, max_gap_seconds, times, step)
    packed = drop_short(packed, min_seconds, times, step)
    return _unpack(packed, order, valid, fill=False)


def run_ids(packed: np.ndarray) -> np.ndarray:
    """Packed (M, K) int: 1-based id of each True run within its row, 0 outside runs."""
    start = packed & ~np.concatenate([np.zeros((len(packed), 1), bool), packed[:, :-1]], axis=1)
    return np.where(packed, np.cumsum(start, axis=1), 0)


def unwrap_packed(angle: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Packed (M, K) angles (rad, NaN where unknown) unwrapped along each row; unknown samples
    take the previous known value (the first known one at the start), so a row's cumulative
    heading change is read off directly. Rows with no known value stay NaN."""
    m, k = angle.shape
    idx = np.broadcast_to(np.arange(k), (m, k))
    known = np.isfinite(angle) & (idx < lengths[:, None])
    last = np.maximum.accumulate(np.where(known, idx, -1), axis=1)
    first = np.argmax(known, axis=1)
    fill = np.where(last >= 0, last, first[:, None])
    filled = np.take_along_axis(angle, fill, axis=1)
    step = np.diff(filled, axis=1)
    step = (step + np.pi) % (2 * np.pi) - np.pi
    out = np.concatenate([filled[:, :1], filled[:, :1] + np.nancumsum(step, axis=1)], axis=1)
    out[~known.any(axis=1)] = np.nan
    return out


def transitions(start: np.ndarray, end: np.ndarray, allowed: np.ndarray, window: int):
    """Frames from the last ``start`` frame before an ``end`` frame to that end (last axis =
    time), when the end comes within ``window`` frames of it and every frame from start to
    end is ``allowed``. Frames that are neither (missing, or in between) do not break it."""
    t_len = start.shape[-1]
    t = np.arange(t_len)
    last_start = np.maximum.accumulate(np.where(start, t, -1), axis=-1)
    hi = np.flip(np.minimum.accumulate(np.flip(np.where(end, t, t_len), -1), axis=-1), -1)
    hi_c = np.clip(hi, 0, t_len - 1)
    lo = np.where(hi < t_len, np.take_along_axis(last_start, hi_c, -1), -1)  # start before hi
    last_end = np.maximum.accumulate(np.where(end, t, -1), axis=-1)
    end_before = np.concatenate([np.full(start.shape[:-1] + (1,), -1), last_end[..., :-1]], -1)
    bad = np.concatenate([np.zeros(start.shape[:-1] + (1,), int),
                          np.cumsum(~allowed, axis=-1)], -1)
    lo_c = np.clip(lo, 0, t_len - 1)
    n_bad = np.take_along_axis(bad, hi_c + 1, -1) - np.take_along_axis(bad, lo_c, -1)
    return (lo >= 0) & (t >= lo) & (hi - lo <= window) & (end_before < lo) & (n_bad == 0)
