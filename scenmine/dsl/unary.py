"""Unary DSL functions: each keeps the candidates' timestamps where a per-log (N,T) mask holds.

Masks are computed over whole tracks (as the reference does), cached per log and parameters,
then intersected with the candidates (``filter_by_mask``).
"""
from __future__ import annotations

import numpy as np

from scenmine.dsl.context import LogContext, _take, _unpack, get_context, pack
from scenmine.dsl.scenario import filter_by_mask, to_scenario_dict

TURN_ANGLE_DEG = 45.0
LANE_CHANGE_MIN_VY = 0.1  # m/s, on the CITY y velocity, as the reference
LANE_CHANGE_MIN_COS = 0.5


def get_objects_of_category(log_dir, category) -> dict:
    """Every object of one category, with all the timestamps it is annotated at.

    Args:
        log_dir: the log handle the program was given; pass it through unchanged.
        category: an AV2 category name such as 'PEDESTRIAN' or 'BOX_TRUCK', 'EGO_VEHICLE', or
            the super-categories 'VEHICLE' (every vehicle type, ego included) and 'ANY'.

    Returns:
        Scenario dict {uuid: [timestamps]}; empty when the log has no such object.

    Example:
        peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
    """
    ctx = get_context(log_dir)
    return to_scenario_dict(ctx.category_uuids(category), ctx)


def is_category(track_candidates, log_dir, category):
    """The candidates that belong to a category.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        category: a category name, 'VEHICLE' or 'ANY' (as get_objects_of_category).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        buses = is_category(vehicles, log_dir, category='BUS')
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, ctx.valid & ctx.category_mask(category)[:, None])


def stationary(track_candidates, log_dir):
    """Parked objects: the smoothed path spans less than 3 m over the whole log.

    For objects stopped for a while (at a light) use has_velocity(..., max_velocity=0.5).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere). A stationary object matches at all its
        timestamps.

    Example:
        parked = stationary(vehicles, log_dir)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, ctx.valid & ctx.stationary[:, None])


def _band(ctx: LogContext, values: np.ndarray, lo, hi) -> np.ndarray:
    """lo <= values <= hi on valid cells of non-stationary tracks."""
    with np.errstate(invalid="ignore"):
        inside = (values >= lo) & (values <= hi)
    return inside & ctx.valid & ~ctx.stationary[:, None]


def has_velocity(track_candidates, log_dir, min_velocity=0.5, max_velocity=np.inf):
    """Objects moving at a speed within a band.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        min_velocity: lowest speed in m/s (default 0.5; below 0.5 m/s is annotation jitter).
        max_velocity: highest speed in m/s (default np.inf).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere). Stationary (parked) objects never match.

    Example:
        fast = has_velocity(vehicles, log_dir, min_velocity=10)
        stopped = has_velocity(vehicles, log_dir, min_velocity=0, max_velocity=0.5)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, _band(ctx, ctx.speed, min_velocity, max_velocity))


def accelerating(track_candidates, log_dir, min_accel=0.65, max_accel=np.inf):
    """Objects accelerating forward (or braking) within a band.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        min_accel: lowest forward acceleration in m/s^2 (default 0.65; below -1 is braking).
        max_accel: highest forward acceleration in m/s^2 (default np.inf).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        braking = accelerating(vehicles, log_dir, min_accel=-np.inf, max_accel=-1)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, _band(ctx, ctx.acc_self[..., 0], min_accel,
                                                       max_accel))


def has_lateral_acceleration(track_candidates, log_dir, min_accel=-np.inf, max_accel=np.inf):
    """Objects whose sideways acceleration (left positive) is within a band.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        min_accel: lowest lateral acceleration in m/s^2 (default -np.inf).
        max_accel: highest lateral acceleration in m/s^2 (default np.inf).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        swerving = has_lateral_acceleration(vehicles, log_dir, min_accel=2)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, _band(ctx, ctx.acc_self[..., 1], min_accel,
                                                       max_accel))


# ----------------------------------------------------------------------------- turning
def _turn_masks(ctx: LogContext) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) (N,T) masks of the reference's turn segmentation.

    The yaw rate (deg/s) is cut into runs of one sign (a zero sample is a run of its own);
    each run, extended by the first sample of the next run, is a turn when its integrated
    angle exceeds 45 degrees.
    """
    order, length = pack(ctx.valid)
    rate = np.degrees(_take(ctx.yaw_rate, order))
    n, t = rate.shape
    k = np.arange(t)[None, :]
    inrow = k < length[:, None]
    sign = np.sign(np.where(inrow, rate, 0.0))
    prev = np.concatenate([np.zeros((n, 1)), sign[:, :-1]], axis=1)
    start = inrow & ((k == 0) | (sign != prev) | (prev == 0))
    last = np.maximum(length - 1, 0)[:, None]
    starts_at = np.where(start, k, t)
    after = np.concatenate([np.minimum.accumulate(starts_at[:, ::-1], axis=1)[:, ::-1][:, 1:],
                            np.full((n, 1), t)], axis=1)
    end = np.minimum(after, last)
    csum = np.cumsum(np.where(inrow, rate, 0.0), axis=1)
    before = np.where(k > 0, _take(csum, np.maximum(k - 1, 0)), 0.0)
    angle = (_take(csum, end) - before) * ctx.dt_first[:, None]
    evaluated = start & (k < last)
    out = []
    for turn in (evaluated & (angle > TURN_ANGLE_DEG), evaluated & (angle < -TURN_ANGLE_DEG)):
        marks = np.zeros((n, t + 1))
        r, s = np.nonzero(turn)
        np.add.at(marks, (r, s), 1)
        np.add.at(marks, (r, end[r, s] + 1), -1)
        packed = (np.cumsum(marks, axis=1)[:, :t] > 0) & inrow
        out.append(_unpack(packed, order, ctx.valid, fill=False))
    return out[0], out[1]


def turn_mask(ctx: LogContext, direction=None) -> np.ndarray:
    left, right = ctx.memo(("turning",), lambda: _turn_masks(ctx))
    if direction == "left":
        return left
    if direction == "right":
        return right
    return left | right


def turning(track_candidates, log_dir, direction=None):
    """Objects turning left, right or either way (heading changes by more than 45 degrees).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'left', 'right' or None for either (default None).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere). Timestamps cover the whole turn.

    Example:
        left_turns = turning(vehicles, log_dir, direction='left')
    """
    ctx = get_context(log_dir)
    if direction not in ("left", "right", None):
        direction = None  # the reference falls back to either direction
    return filter_by_mask(track_candidates, ctx, turn_mask(ctx, direction))


# ----------------------------------------------------------------------------- lane changes
def _boundary_cos(bound: np.ndarray, side: str, pos: np.ndarray, vel: np.ndarray) -> float:
    """|cos| between the track's velocity and the crossed boundary near pos (reference rule)."""
    near = int(np.argmin(np.linalg.norm(bound - pos[:2], axis=1)))
    # the reference clamps the left side with min(0, ...) instead of max(0, ...)
    lo = max(0, near - 1) if side == "right" else min(0, near - 1)
    direction = bound[min(len(bound) - 1, near + 1)] - bound[lo]
    direction = direction / np.linalg.norm(direction + 1e-8)
    with np.errstate(invalid="ignore", divide="ignore"):
        heading = vel[:2] / np.linalg.norm(vel[:2])
    return abs(float(np.dot(direction, heading)))


def _lane_change_mask(ctx: LogContext, direction) -> np.ndarray:
    lanes, lane = ctx.lanes, ctx.lane
    order, length = pack(ctx.valid)
    lp = _take(lane, order)
    vy = np.abs(_take(ctx.vel[..., 1], order))
    prev, cur = lp[:, :-1], lp[:, 1:]
    ok = (prev >= 0) & (cur >= 0) & (vy[:, 1:] >= LANE_CHANGE_MIN_VY)
    ok &= (np.arange(1, lp.shape[1])[None, :] < length[:, None])
    safe = np.maximum(prev, 0)
    right_ev = ok & (lanes.right_neighbor[safe] == cur)
    left_ev = ok & ~right_ev & (lanes.left_neighbor[safe] == cur)
    out = np.zeros(ctx.valid.shape, bool)
    for side, events in (("right", right_ev), ("left", left_ev)):
        if direction not in (None, side):
            continue
        for r, k in zip(*np.nonzero(events)):
            k += 1
            cols = order[r, :length[r]]
            pos, vel = ctx.pos[r, cols], ctx.vel[r, cols]
            q = lp[r, k - 1]
            bound = (lanes.right_bounds if side == "right" else lanes.left_bounds)[q]
            if _boundary_cos(bound, side, pos[k], vel[k]) >= LANE_CHANGE_MIN_COS:
                for c in _expand(ctx, lp[r, :length[r]], pos, k, side):
                    out[r, cols[c]] = True
    return out & ~turn_mask(ctx, None)


def _expand(ctx: LogContext, lane_seq, pos, k: int, side: str) -> list[int]:
    """Sample indices around a lane crossing at k while the lateral position keeps moving."""
    across = np.full(len(lane_seq), np.nan)
    for q in np.unique(lane_seq[lane_seq >= 0]):
        on = lane_seq == q
        across[on] = ctx.lanes.across(pos[on, :2], int(q))

    def moving(i, j):  # from sample i to j; the reference skips None and 0.0 alike
        a, b = across[i], across[j]
        if not (a and b) or np.isnan(a) or np.isnan(b):
            return False
        return a > b if side == "left" else a < b

    picked, s = [], k - 1
    while s > 0:
        if s == k - 1 or moving(s, s + 1):
            picked.append(s)
            s -= 1
        else:
            break
    e = k
    while e < len(lane_seq):
        if e == k or moving(e - 1, e):
            picked.append(e)
            e += 1
        else:
            break
    return picked


def changing_lanes(track_candidates, log_dir, direction=None):
    """Objects changing lanes to the left, right or either way (map lanes, not while turning).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'left', 'right' or None for either (default None).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        cutting_in = changing_lanes(vehicles, log_dir, direction='left')
    """
    ctx = get_context(log_dir)
    if direction not in ("left", "right", None):
        direction = None
    mask = ctx.memo(("changing_lanes", direction), lambda: _lane_change_mask(ctx, direction))
    return filter_by_mask(track_candidates, ctx, mask)
