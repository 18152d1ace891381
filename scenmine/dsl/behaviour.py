"""Behaviour atoms that real prompts ask for and RefAV lacks: reversing, U-turns, three-point
turns, parking and pulling out, cutting in, overtaking, yielding, running a stop sign and
jaywalking.

Every decision rests on evidence aggregated over time (scenmine.dsl.temporal): a condition
must hold for a minimum duration, dropouts of a few frames (a missed annotation, tracker
jitter) are bridged, heading changes are read from the box yaw with single-frame flips
(a tracker's 180-degree box flip) removed, and manoeuvres are whole events (a turn's total
angle, a pass from behind to ahead) rather than single-frame tests. Thresholds are
parameters; their defaults were chosen on the four real logs of ../shared/av2_mini
(see the README's "Atoms" section for how).

What the data allows: Argoverse 2 has stop signs as annotated objects (category STOP_SIGN)
but no traffic lights or signal states, so "running a stop sign" is detectable and
"running a red light" is not (there is no atom for it).
"""
from __future__ import annotations

import numpy as np

from scenmine.dsl.context import LogContext, _take, _unpack, get_context, pack
from scenmine.dsl.map_context import _number, _numbers, _unary, road_index
from scenmine.dsl.scenario import filter_by_mask
from scenmine.dsl.temporal import (
    close_gaps,
    drop_short,
    frame_period,
    frames,
    mark,
    persistent,
    run_ids,
    runs,
    transitions,
)

FLIP_STEP_DEG = 45.0        # a larger box-yaw step in one frame is a flip, not a turn
REVERSE_SPEED = 0.5         # m/s backwards that counts as reversing
MOVING_SPEED = 1.0          # m/s
REST_SPEED = 0.5            # m/s, mean over +-1 s: at rest (parked, waiting)


# ----------------------------------------------------------------------------- shared pieces
def heading_track(ctx: LogContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, lengths, heading): packed cumulative box heading in degrees per track, with
    steps over FLIP_STEP_DEG per frame (yaw flips and flip-backs) removed."""
    def compute():
        order, lengths = pack(ctx.valid)
        yaw = np.degrees(_take(ctx.yaw, order))
        step = np.diff(yaw, axis=1)
        step = (step + 180) % 360 - 180
        k = np.arange(1, yaw.shape[1])[None, :]
        step = np.where((k < lengths[:, None]) & np.isfinite(step)
                        & (np.abs(step) <= FLIP_STEP_DEG), step, 0.0)
        heading = np.concatenate([np.zeros((len(yaw), 1)), np.cumsum(step, axis=1)], axis=1)
        return order, lengths, heading
    return ctx.memo(("heading_track",), compute)


def at_rest(ctx: LogContext, max_speed: float = REST_SPEED, seconds: float = 1.0) -> np.ndarray:
    """(N, T) bool: the mean speed over +-``seconds`` (net displacement over the window,
    smoothed positions) is below ``max_speed`` m/s. Frame-to-frame speeds of a standing box
    jitter with its position (0.2 m of noise gives speeds near 1 m/s); a displacement over
    two seconds does not."""
    def compute():
        order, lengths = pack(ctx.valid)
        k = order.shape[1]
        idx = np.arange(k)[None, :]
        last = np.maximum(lengths - 1, 0)[:, None]
        times = (ctx.timestamps[order] - ctx.timestamps[0]) * 1e-9
        w = frames(ctx, seconds)
        hi, lo = np.minimum(idx + w, last), np.clip(idx - w, 0, last)
        pos = _take(ctx.pos[..., :2], order)
        step = np.take_along_axis(pos, hi[..., None], 1) - np.take_along_axis(pos, lo[..., None], 1)
        span = np.take_along_axis(times, hi, 1) - np.take_along_axis(times, lo, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(span > 0, np.linalg.norm(step, axis=-1) / np.where(span > 0, span, 1),
                            0.0)
            rest = mean < max_speed
        return _unpack(rest & (idx < lengths[:, None]), order, ctx.valid, fill=False)
    return ctx.memo(("at_rest", float(max_speed), float(seconds)), compute)


def forward_speed(ctx: LogContext) -> np.ndarray:
    """(N, T) signed speed along the box heading, m/s (negative when reversing)."""
    return ctx.vel_self[..., 0]


def _reversing_mask(ctx: LogContext, min_speed: float, min_duration: float,
                    include_parked: bool = False) -> np.ndarray:
    """Backwards faster than min_speed for min_duration, and the run really goes back:
    its net displacement against the box heading is at least half of min_speed *
    min_duration (velocity jitter of a parked box does not add up to a displacement)."""
    with np.errstate(invalid="ignore"):
        raw = (forward_speed(ctx) < -min_speed) & ctx.valid
    if not include_parked:
        raw &= ~ctx.stationary[:, None]
    held = persistent(ctx, raw, min_duration, 0.2)
    order, lengths = pack(ctx.valid)
    packed = _take(held, order)
    rows, starts, ends = runs(packed)
    if not len(rows):
        return held
    cols_s, cols_e = order[rows, starts], order[rows, ends - 1]
    moved = ctx.pos[rows, cols_e, :2] - ctx.pos[rows, cols_s, :2]
    yaw = ctx.yaw[rows, cols_s]
    back = -(moved[:, 0] * np.cos(yaw) + moved[:, 1] * np.sin(yaw))
    keep = back >= 0.5 * min_speed * min_duration
    # a vehicle cannot go from driving forwards to backwards without stopping: a run that
    # keeps the direction of travel of a moving sample before it is a flipped box heading
    before = order[rows, np.maximum(starts - 1, 0)]
    v0, v1 = ctx.vel[rows, before, :2], ctx.vel[rows, cols_s, :2]
    with np.errstate(invalid="ignore"):
        flipped = (starts > 0) & (ctx.speed[rows, before] >= MOVING_SPEED) & \
            (np.einsum("ij,ij->i", v0, v1) > 0)
    keep &= ~flipped
    return _unpack(mark(packed.shape, rows[keep], starts[keep], ends[keep]), order, ctx.valid,
                   fill=False)


# ----------------------------------------------------------------------------- reversing
def reversing(track_candidates, log_dir, min_speed=REVERSE_SPEED, min_duration=1.0):
    """Objects moving backwards (against their box heading).

    Backwards faster than ``min_speed`` for ``min_duration``, with a net displacement
    against the heading of at least half of min_speed * min_duration (so velocity jitter of
    a parked box, which reaches 1 m/s for single frames on the real logs, does not count).
    A run that continues the direction of travel of a moving sample just before it is a
    flipped box heading (tracker jitter), not reversing. Parked tracks (spanning under 3 m
    over the log) never reverse.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        min_speed: smallest backward speed in m/s (default 0.5).
        min_duration: shortest time in s it must last (default 1.0; dropouts up to 0.2 s
            are bridged).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept while it reverses.

    Example:
        backing_up = reversing(vehicles, log_dir)
    """
    return _unary("reversing", track_candidates, log_dir,
                  lambda ctx: _reversing_mask(ctx, min_speed, min_duration),
                  min_speed=min_speed, min_duration=min_duration)


# ----------------------------------------------------------------------------- big turns
def _big_turns(ctx: LogContext, min_angle: float, max_duration: float, min_rate: float,
               with_reverse: bool | None) -> np.ndarray:
    """(N, T) frames of turning runs whose total heading change is at least min_angle.

    A run is a stretch where the heading, differenced over +-0.5 s, turns one way faster
    than min_rate deg/s; pauses up to 2 s (a gear change) are bridged. ``with_reverse``:
    True keeps runs that include reversing, False runs without, None all.
    """
    order, lengths, heading = heading_track(ctx)
    m, k = heading.shape
    w = frames(ctx, 0.5)
    idx = np.arange(k)[None, :]
    last = np.maximum(lengths - 1, 0)[:, None]
    times = (ctx.timestamps[order] - ctx.timestamps[0]) * 1e-9      # packed seconds
    hi_i, lo_i = np.minimum(idx + w, last), np.clip(idx - w, 0, last)
    span = np.take_along_axis(times, hi_i, 1) - np.take_along_axis(times, lo_i, 1)
    turned = np.take_along_axis(heading, hi_i, 1) - np.take_along_axis(heading, lo_i, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(span > 0, turned / np.where(span > 0, span, 1), 0.0)   # deg/s
    inrow = idx < lengths[:, None]
    speed = _take(ctx.speed, order)
    reverse = _take(_reversing_mask(ctx, REVERSE_SPEED, 0.5), order)
    out = np.zeros((m, k), bool)
    for sign in (1, -1):
        turning = inrow & (sign * rate > min_rate)
        turning = close_gaps(turning, lengths, 2.0, times, frame_period(ctx))
        rows, starts, ends = runs(turning)
        if not len(rows):
            continue
        lo = np.maximum(starts - w, 0)
        hi = np.minimum(ends - 1 + w, last[rows, 0])
        total = sign * (heading[rows, hi] - heading[rows, lo])
        moved = np.array([np.nanmax(speed[r, s:e]) if e > s else 0.0
                          for r, s, e in zip(rows, starts, ends)])
        has_rev = np.array([reverse[r, s:e].any() for r, s, e in zip(rows, starts, ends)])
        duration = times[rows, ends - 1] - times[rows, starts]
        keep = (total >= min_angle) & (duration <= max_duration) & (moved >= MOVING_SPEED)
        if with_reverse is not None:
            keep &= has_rev == with_reverse
        out |= mark((m, k), rows[keep], starts[keep], ends[keep])
    return _unpack(out & inrow, order, ctx.valid, fill=False)


def making_u_turn(track_candidates, log_dir, min_angle=150, max_duration=20, min_rate=8):
    """Objects making a U-turn: one continuous turn that reverses the heading, no reversing.

    The heading is the box yaw (single-frame flips removed); a turn is a stretch where it
    changes one way faster than ``min_rate`` deg/s (pauses up to 2 s bridged) and the
    object moves at 1 m/s or more at some point. A turn with a reversing part is a
    three-point turn (making_three_point_turn), not a U-turn.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        min_angle: smallest total heading change in degrees (default 150; ordinary turns at
            intersections are 60-110 degrees on the real logs).
        max_duration: longest turn in s (default 20).
        min_rate: smallest heading rate in deg/s that counts as turning (default 8).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept during its U-turns.

    Example:
        u_turns = making_u_turn(vehicles, log_dir)
    """
    return _unary("making_u_turn", track_candidates, log_dir,
                  lambda ctx: _big_turns(ctx, min_angle, max_duration, min_rate, False),
                  min_angle=min_angle, max_duration=max_duration, min_rate=min_rate)


def making_three_point_turn(track_candidates, log_dir, min_angle=150, max_duration=40,
                            min_rate=5):
    """Objects turning around with a reversing part (three-point / K-turn).

    The box heading keeps turning the same way through a K-turn (forward, back, forward),
    so this is a turn of at least ``min_angle`` degrees, as in making_u_turn, that includes
    at least 0.5 s of reversing (0.5 m/s or more backwards).

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        min_angle: smallest total heading change in degrees (default 150).
        max_duration: longest manoeuvre in s (default 40).
        min_rate: smallest heading rate in deg/s that counts as turning (default 5).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept during the manoeuvre.

    Example:
        k_turns = making_three_point_turn(vehicles, log_dir)
    """
    return _unary("making_three_point_turn", track_candidates, log_dir,
                  lambda ctx: _big_turns(ctx, min_angle, max_duration, min_rate, True),
                  min_angle=min_angle, max_duration=max_duration, min_rate=min_rate)


# ----------------------------------------------------------------------------- parking
def _curbside(ctx: LogContext, row: int, col: int) -> bool:
    """At rest in a parking position: outside every lane segment, or in the right half of a
    curb lane (or a bike lane) so that traffic can pass."""
    q = int(ctx.lane[row, col])
    if q < 0:
        return True
    road = road_index(ctx)
    if road.from_curb[q] > 1 and road.motor[q]:
        return False
    across = ctx.lanes.across(ctx.pos[row, col, None, :2], q)[0]
    return bool(np.isfinite(across) and across >= 0.6) or not road.motor[q]


def _parking_events(ctx: LogContext, pulling_out: bool, parallel: bool, min_stop: float,
                    max_duration: float) -> np.ndarray:
    order, lengths = pack(ctx.valid)
    m, k = order.shape
    speed = _take(ctx.speed, order)
    inrow = np.arange(k)[None, :] < lengths[:, None]
    with np.errstate(invalid="ignore"):
        rest = persistent(ctx, at_rest(ctx), 0.0, 0.3)
        cruise = (speed >= 2.5) & inrow
    rest_p = _take(rest, order) & inrow
    reverse = _take(_reversing_mask(ctx, REVERSE_SPEED, 0.5), order)
    out = np.zeros((m, k), bool)
    times = (ctx.timestamps[order] - ctx.timestamps[0]) * 1e-9      # packed seconds
    step = frame_period(ctx)
    vehicle = ctx.category_mask("VEHICLE")
    rows, starts, ends = runs(rest_p)
    for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        n = int(lengths[r])
        t = times[r, :n]
        rested = t[e - 1] - t[s] + step
        if pulling_out:  # rest, then leave: the rest ends before the track does
            if e >= n or (rested < min_stop and s > 0):
                continue
            seg_lo = e
            hi = int(np.searchsorted(t, t[e] + max_duration, side="right"))
            later = np.flatnonzero(cruise[r, e:hi])
            seg_hi = e + int(later[0]) if len(later) else hi
            at = order[r, e - 1]
        else:  # arrive, then rest: the rest lasts min_stop or until the track ends
            if s == 0 or (rested < min_stop and e < n):
                continue
            seg_hi = s
            lo = int(np.searchsorted(t, t[s] - max_duration, side="left"))
            before = np.flatnonzero(cruise[r, lo:s])
            seg_lo = lo + (int(before[-1]) + 1 if len(before) else 0)
            at = order[r, s]
        if seg_hi <= seg_lo or np.nanmax(speed[r, seg_lo:seg_hi], initial=0) < MOVING_SPEED:
            continue
        if ctx.stationary[r] or not vehicle[r] or not _curbside(ctx, r, int(at)):
            continue
        if parallel and not reverse[r, seg_lo:seg_hi].any():
            continue
        out[r, seg_lo:seg_hi] = True
    return _unpack(out & inrow, order, ctx.valid, fill=False)


def parking(track_candidates, log_dir, parallel=False, min_stop=3.0, max_duration=20):
    """Vehicles pulling into a parking position and coming to rest there.

    The manoeuvre is the slow approach (below 2.5 m/s, at most ``max_duration`` s) that ends
    in a rest (under 0.5 m/s on average over +-1 s, so position jitter is not motion) of at
    least ``min_stop`` s (or until the track ends) outside every lane segment or in the
    right-hand part of the curb lane; stopping in the middle of a travel lane (traffic,
    lights) is not parking. ``parallel=True`` requires a reversing part (parallel parking).

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        parallel: require reversing into the spot (default False).
        min_stop: shortest rest in s after the manoeuvre (default 3.0).
        max_duration: longest manoeuvre in s (default 20).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept during the manoeuvre.

    Example:
        parallel_parkers = parking(vehicles, log_dir, parallel=True)
    """
    if not isinstance(parallel, (bool, np.bool_)):
        raise ValueError(f"parking: parallel must be True or False, got {parallel!r}")
    _number("parking", "min_stop", min_stop, 0)
    _number("parking", "max_duration", max_duration, 0)
    ctx = get_context(log_dir)
    mask = ctx.memo(("parking", bool(parallel), float(min_stop), float(max_duration)),
                    lambda: _parking_events(ctx, False, parallel, min_stop, max_duration))
    return filter_by_mask(track_candidates, ctx, mask)


def pulling_out(track_candidates, log_dir, min_stop=3.0, max_duration=20):
    """Vehicles leaving a parking position: at rest, then moving off.

    The mirror of parking: a rest (under 0.5 m/s on average over +-1 s) of at least
    ``min_stop`` s, or from the start of the track, outside every lane segment or in the
    right-hand part of the curb lane, followed by the move-off until the object reaches 2.5
    m/s (at most ``max_duration`` s).

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        min_stop: shortest rest in s before moving off (default 3.0).
        max_duration: longest manoeuvre in s (default 20).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept while pulling out.

    Example:
        leaving = pulling_out(vehicles, log_dir)
    """
    return _unary("pulling_out", track_candidates, log_dir,
                  lambda ctx: _parking_events(ctx, True, False, min_stop, max_duration),
                  min_stop=min_stop, max_duration=max_duration)


# ----------------------------------------------------------------------------- pair kernels
def _relational(function: str, kernel, track_candidates, related_candidates, log_dir,
                **params):
    """Check that every parameter is a number >= 0, then relate with the kernel."""
    from scenmine.dsl.relational import _relate

    _numbers(function, **params)
    return _relate(track_candidates, related_candidates, log_dir, kernel, **params)


def _pairs(ctx: LogContext, ti: np.ndarray, ci: np.ndarray, reach: float,
           moving_related: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ti, ci) of the pairs worth testing: different tracks, the track not
    parked (nor the related object, with ``moving_related``), and trajectories whose
    bounding boxes come within ``reach`` m of each other."""
    lo_t, hi_t = np.nanmin(ctx.pos[ti, :, :2], 1), np.nanmax(ctx.pos[ti, :, :2], 1)
    lo_c, hi_c = np.nanmin(ctx.pos[ci, :, :2], 1), np.nanmax(ctx.pos[ci, :, :2], 1)
    gap = np.maximum(lo_c[None] - hi_t[:, None], lo_t[:, None] - hi_c[None]).max(-1)
    ok = (gap <= reach) & (ti[:, None] != ci[None]) & ~ctx.stationary[ti][:, None]
    if moving_related:
        ok &= ~ctx.stationary[ci][None]
    ok &= (ctx.valid[ti].astype(np.int32) @ ctx.valid[ci].T.astype(np.int32)) > 0
    return np.nonzero(ok)


def _pair_frame(ctx: LogContext, rows: np.ndarray, frame_rows: np.ndarray):
    """For pairs (P,): position (P, T) x forward / y left of ``rows`` in the frame of
    ``frame_rows`` (smoothed centres, box heading of the frame object) and the cosine (P, T)
    between their headings. NaN where either is missing."""
    d = ctx.pos[rows, :, :2] - ctx.pos[frame_rows, :, :2]
    yaw = ctx.yaw[frame_rows]
    c, s = np.cos(yaw), np.sin(yaw)
    x = c * d[..., 0] + s * d[..., 1]
    y = -s * d[..., 0] + c * d[..., 1]
    return x, y, np.cos(ctx.yaw[rows] - yaw)


def _forgiving(ctx: LogContext, allowed: np.ndarray) -> np.ndarray:
    """``allowed`` (P, T) with breaks of up to 0.3 s forgiven (one jittery frame must not end
    a manoeuvre)."""
    return ~drop_short(~allowed, frames(ctx, 0.3) + 1)


def _scatter(shape, a, b, values) -> np.ndarray:
    out = np.zeros(shape, bool)
    out[a, b] = values
    return out


def cut_in_kernel(ctx, geo, ti, ci, max_distance, max_seconds, min_speed):
    a, b = _pairs(ctx, ti, ci, max_distance + 5)
    rt, rc = ti[a], ci[b]
    x, y, cos = _pair_frame(ctx, rt, rc)
    shared = ctx.valid[rt] & ctx.valid[rc]
    with np.errstate(invalid="ignore"):
        ahead = (x > 0) & (x <= max_distance)
        moving = (ctx.speed[rt] >= min_speed) & (ctx.speed[rc] >= MOVING_SPEED)
        start = shared & (np.abs(y) >= 2.5) & ahead
        end = shared & (np.abs(y) <= 1.0) & ahead & moving & (cos > 0.7)
        allowed = ~shared | (ahead & (cos > 0.5))
    hit = transitions(start, end, _forgiving(ctx, allowed), frames(ctx, max_seconds)) & shared
    return _scatter((len(ti), len(ci), ctx.n_times), a, b, hit)


def cutting_in(track_candidates, related_candidates, log_dir, max_distance=15, max_seconds=3,
               min_speed=2.0):
    """Tracks cutting in front of a related object: moving from beside it into its path.

    In the related object's frame the track goes from 2.5 m or more to the side to within
    1 m of its centre line within ``max_seconds``, staying ahead of it (up to
    ``max_distance`` m) and heading the same way; both move (the track at ``min_speed`` or
    more, the related object at 1 m/s or more). Kept: the frames of the cut.

    Args:
        track_candidates: scenario dict of the objects that cut in (e.g. vehicles).
        related_candidates: scenario dict of the objects cut off (e.g. the ego vehicle).
        log_dir: the log handle the program was given; pass it through unchanged.
        max_distance: farthest the track may be ahead, centre to centre, in m (default 15).
        max_seconds: longest duration of the cut in s (default 3).
        min_speed: slowest speed of the track in m/s (default 2.0).

    Returns:
        Relational scenario dict {track uuid: {related uuid: [timestamps]}}.

    Example:
        cutting_off_ego = cutting_in(vehicles, ego, log_dir)
    """
    return _relational("cutting_in", cut_in_kernel, track_candidates,
                       related_candidates, log_dir, max_distance=max_distance,
                       max_seconds=max_seconds, min_speed=min_speed)


def overtake_kernel(ctx, geo, ti, ci, max_lateral, max_seconds, related_min_speed):
    a, b = _pairs(ctx, ti, ci, max_lateral + 1, moving_related=related_min_speed > 0)
    rt, rc = ti[a], ci[b]
    x, y, cos = _pair_frame(ctx, rt, rc)
    shared = ctx.valid[rt] & ctx.valid[rc]
    half = (np.nanmax(ctx.size[rt, :, 0], axis=1) + np.nanmax(ctx.size[rc, :, 0], axis=1)) / 4
    half = np.nan_to_num(half)[:, None]
    with np.errstate(invalid="ignore"):
        beside = (np.abs(y) >= 1.0) & (np.abs(y) <= max_lateral) & (cos > 0.7)
        moving = (ctx.speed[rt] >= MOVING_SPEED) & (ctx.speed[rc] >= related_min_speed)
        start = shared & beside & (x <= -half)
        end = shared & beside & (x >= half) & moving
        allowed = ~shared | (beside & moving)
    hit = transitions(start, end, _forgiving(ctx, allowed), frames(ctx, max_seconds)) & shared
    return _scatter((len(ti), len(ci), ctx.n_times), a, b, hit)


def overtaking(track_candidates, related_candidates, log_dir, max_lateral=8, max_seconds=15,
               related_min_speed=1.0):
    """Tracks overtaking (passing) a related object: from behind it to ahead of it, beside it.

    In the related object's frame the track moves from behind (centre more than half the two
    lengths behind) to ahead (as far in front) within ``max_seconds``, staying 1 to
    ``max_lateral`` m to the side (another lane) and heading the same way, both moving.
    Kept: the frames of the pass. related_min_speed=0 also counts passing parked objects.

    Args:
        track_candidates: scenario dict of the objects that overtake.
        related_candidates: scenario dict of the objects overtaken.
        log_dir: the log handle the program was given; pass it through unchanged.
        max_lateral: largest sideways distance in m, centre to centre (default 8).
        max_seconds: longest duration of the pass in s (default 15).
        related_min_speed: slowest speed of the overtaken object in m/s (default 1.0).

    Returns:
        Relational scenario dict {track uuid: {related uuid: [timestamps]}}.

    Example:
        passing_ego = overtaking(vehicles, ego, log_dir)
    """
    return _relational("overtaking", overtake_kernel, track_candidates,
                       related_candidates, log_dir, max_lateral=max_lateral,
                       max_seconds=max_seconds, related_min_speed=related_min_speed)


def yield_kernel(ctx, geo, ti, ci, max_speed, forward_distance, min_duration):
    a, b = _pairs(ctx, ti, ci, forward_distance + 8, moving_related=True)
    rt, rc = ti[a], ci[b]
    x, y, _ = _pair_frame(ctx, rc, rt)                      # related, in the track's frame
    shared = ctx.valid[rt] & ctx.valid[rc]
    yaw = ctx.yaw[rt]
    lat_v = -np.sin(yaw) * ctx.vel[rc, :, 0] + np.cos(yaw) * ctx.vel[rc, :, 1]
    with np.errstate(invalid="ignore"):
        # slowing (braking at 0.5 m/s^2 or more) or (nearly) stopped, in a lane
        slow = (ctx.speed[rt] <= max_speed) & (at_rest(ctx)[rt]
                                               | (ctx.acc_self[rt, :, 0] <= -0.5))
        slow &= ctx.lane[rt] >= 0
        in_front = (x > 0) & (x <= forward_distance) & (np.abs(y) <= 8)
        crossing = (np.abs(lat_v) >= 0.5) & ((np.abs(y) <= 1.5) | (np.sign(lat_v) == -np.sign(y)))
        raw = shared & slow & in_front & crossing
    hit = persistent(ctx, raw, min_duration, 0.3, shared)
    return _scatter((len(ti), len(ci), ctx.n_times), a, b, hit)


def yielding(track_candidates, related_candidates, log_dir, max_speed=2.0, forward_distance=15,
             min_duration=1.0):
    """Tracks yielding to a related object: slowing or stopped while it crosses their path ahead.

    The track is in a lane segment, at ``max_speed`` m/s or less and braking (0.5 m/s^2 or
    more) or at rest (under 0.5 m/s on average over +-1 s; parked tracks never yield), while
    the related object is ahead of it (up to ``forward_distance`` m, at most 8 m to the
    side) and moving across its path (0.5 m/s or more sideways, toward or over its centre
    line), for at least ``min_duration`` s (dropouts up to 0.3 s bridged).

    Args:
        track_candidates: scenario dict of the objects that yield (e.g. vehicles).
        related_candidates: scenario dict of the objects given way to (e.g. pedestrians).
        log_dir: the log handle the program was given; pass it through unchanged.
        max_speed: fastest the track may go in m/s (default 2.0).
        forward_distance: farthest ahead the related object may be in m (default 15).
        min_duration: shortest time in s (default 1.0).

    Returns:
        Relational scenario dict {track uuid: {related uuid: [timestamps]}}.

    Example:
        yielding_to_peds = yielding(vehicles, peds, log_dir)
    """
    return _relational("yielding", yield_kernel, track_candidates,
                       related_candidates, log_dir, max_speed=max_speed,
                       forward_distance=forward_distance, min_duration=min_duration)


# ----------------------------------------------------------------------------- rule breaking
def _stop_sign_runs(ctx: LogContext, stop_speed: float, forward_thresh: float) -> np.ndarray:
    from scenmine.dsl.map_functions import _stop_sign_relations

    out = np.zeros(ctx.valid.shape, bool)
    signs = ctx.category_uuids("STOP_SIGN")
    movers = [u for u in ctx.uuids[~ctx.stationary] if u not in set(signs)]
    if not signs or not movers:
        return out
    zone = np.zeros(ctx.valid.shape, bool)
    zone[ctx.rows(movers)] = _stop_sign_relations(ctx, movers, signs, forward_thresh).any(1)
    zone = persistent(ctx, zone, 0.0, 0.3)
    order, lengths = pack(ctx.valid)
    zp, speed = _take(zone, order), _take(ctx.speed, order)
    ids = run_ids(zp)
    for r in np.flatnonzero(ids.max(axis=1) > 0):
        for run in range(1, ids[r].max() + 1):
            cols = np.flatnonzero(ids[r] == run)
            if len(cols) >= 3 and np.nanmin(speed[r, cols]) >= stop_speed:
                out[r, order[r, cols]] = True
    return out


def running_stop_sign(track_candidates, log_dir, stop_speed=1.0, forward_thresh=10):
    """Objects that pass a stop sign without stopping.

    The stop zone is at_stop_sign's (in the sign's lane, up to ``forward_thresh`` m before
    it, facing it); an object runs the sign when its speed stays at ``stop_speed`` m/s or
    more through a visit of the zone (at least 3 frames; dropouts up to 0.3 s bridged).
    Argoverse 2 has no traffic lights or signal states, so there is no red-light
    counterpart.

    Args:
        track_candidates: scenario dict of the objects to test (usually vehicles).
        log_dir: the log handle the program was given; pass it through unchanged.
        stop_speed: speed in m/s below which the object counts as having stopped
            (default 1.0; a rolling stop at walking pace counts as a stop).
        forward_thresh: length in m of the zone before the sign (default 10).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept while it runs the sign.

    Example:
        ran_stop_sign = running_stop_sign(vehicles, log_dir)
    """
    return _unary("running_stop_sign", track_candidates, log_dir,
                  lambda ctx: _stop_sign_runs(ctx, stop_speed, forward_thresh),
                  stop_speed=stop_speed, forward_thresh=forward_thresh)


def _jaywalk_mask(ctx: LogContext, crosswalk_distance: float, min_speed: float,
                  min_duration: float, crossing_only: bool) -> np.ndarray:
    from scenmine.dsl.map_context import _near_element_mask

    lane = ctx.lane
    road = road_index(ctx)
    safe = np.maximum(lane, 0)
    with np.errstate(invalid="ignore"):
        raw = (lane >= 0) & road.motor[safe] & ~ctx.lanes.is_intersection[safe] & \
            (ctx.speed >= min_speed) & ~ctx.category_mask("VEHICLE")[:, None]
    raw &= ~_near_element_mask(ctx, "crosswalk", float(crosswalk_distance), raw)
    with np.errstate(invalid="ignore", divide="ignore"):
        if crossing_only:
            h = road.heading[safe]
            cos = np.abs(h[..., 0] * ctx.vel[..., 0] + h[..., 1] * ctx.vel[..., 1]) / ctx.speed
            raw &= cos < np.cos(np.radians(45))
    return persistent(ctx, raw, min_duration, 0.3)


def jaywalking(track_candidates, log_dir, crosswalk_distance=2.0, min_speed=0.5,
               min_duration=1.0, crossing_only=True):
    """Objects (pedestrians) walking across a road away from a crosswalk.

    A composite, for anything but vehicles: in a motor lane segment that is not part of
    an intersection (crossing at a junction uses the unmarked crosswalk), more than
    ``crosswalk_distance`` m from every pedestrian crossing, moving at ``min_speed`` m/s or
    more and, with ``crossing_only``, at more than 45 degrees to the lane's direction; for
    at least ``min_duration`` s (dropouts up to 0.3 s bridged).

    Args:
        track_candidates: scenario dict of the objects to test (usually pedestrians).
        log_dir: the log handle the program was given; pass it through unchanged.
        crosswalk_distance: distance in m from a crosswalk that still counts as using it
            (default 2.0).
        min_speed: slowest walking speed in m/s (default 0.5).
        min_duration: shortest time in s (default 1.0).
        crossing_only: require walking across the lane, not along it (default True).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept while it jaywalks.

    Example:
        jaywalkers = jaywalking(peds, log_dir)
    """
    _number("jaywalking", "crosswalk_distance", crosswalk_distance, 0)
    _number("jaywalking", "min_speed", min_speed, 0)
    _number("jaywalking", "min_duration", min_duration, 0)
    if not isinstance(crossing_only, (bool, np.bool_)):
        raise ValueError(f"jaywalking: crossing_only must be True or False, got {crossing_only!r}")
    ctx = get_context(log_dir)
    mask = ctx.memo(("jaywalking", float(crosswalk_distance), float(min_speed),
                     float(min_duration), bool(crossing_only)),
                    lambda: _jaywalk_mask(ctx, crosswalk_distance, min_speed, min_duration,
                                          crossing_only))
    return filter_by_mask(track_candidates, ctx, mask)


BEHAVIOUR_FUNCTIONS = (reversing, making_u_turn, making_three_point_turn, parking, pulling_out,
                       cutting_in, overtaking, yielding, running_stop_sign, jaywalking)
