"""Relation kernels: boolean (tracks x candidates x timestamps) relations over a log's
geometry, one per relational DSL function (scenmine.dsl.relational assembles the dicts)."""
from __future__ import annotations

import numpy as np

from scenmine.dsl.relational_geometry import EGO_FRONT, Geometry

FREE_WILL = frozenset(["ANIMAL", "OFFICIAL_SIGNALER", "RAILED_VEHICLE", "ARTICULATED_BUS",
                       "WHEELED_RIDER", "SCHOOL_BUS", "MOTORCYCLIST", "TRUCK_CAB",
                       "VEHICULAR_TRAILER", "BICYCLIST", "MOTORCYCLE", "TRUCK", "BOX_TRUCK", "BUS",
                       "LARGE_VEHICLE", "PEDESTRIAN", "REGULAR_VEHICLE", "EGO_VEHICLE"])
CROSSING_SPEED = 0.2        # m/s, being_crossed_by's lateral-speed threshold
EGO_LENGTH = 4.877


def _sizes(geo: Geometry, ti: np.ndarray):
    """Half width, front and back offsets of each track's first box (reference conventions)."""
    size = geo.first_size[ti]
    return size[:, 0] / 2, size[:, 1] / 2


# ================================================================ kernels
def direction_kernel(ctx, geo, ti, ci, direction, min_number, max_number, within_distance,
                      lateral_thresh):
    V = geo.pair_valid(ti, ci)
    P = geo.relative_position(ti, ci, V)
    half_len, width = _sizes(geo, ti)
    front, back = half_len.copy(), -half_len
    ego = ti == geo.ego
    width[ego], front[ego], back[ego] = 1.0, EGO_FRONT, EGO_LENGTH - EGO_FRONT  # reference quirk
    w, f, bk = width[:, None, None], front[:, None, None], back[:, None, None]
    x, y = P[..., 0], P[..., 1]
    lat = lateral_thresh
    with np.errstate(invalid="ignore"):
        if direction == "left":
            D = (y > w) & (bk - lat < x) & (x < f + lat)
        elif direction == "right":
            D = (y < -w) & (bk - lat < x) & (x < f + lat)
        elif direction == "forward":
            D = (x > f) & (-w - lat < y) & (y < w + lat)
        elif direction == "backward":
            D = (x < bk) & (-w - lat < y) & (y < w + lat)
        else:                                   # unknown directions match nothing, as in the reference
            D = np.zeros(V.shape, bool)
    D &= V
    a, b, t = np.nonzero(D)
    sel = np.zeros(D.shape, bool)
    if len(a):
        if np.isinf(max_number):
            sel = geo.box_within_dense(ti, ci, D, within_distance)
        else:
            dist = np.full(D.shape, np.inf)
            dist[a, b, t] = geo.box_distance(ti[a], ci[b], t)
            order = np.argsort(dist, axis=1, kind="stable")
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(D.shape[1])[None, :, None], axis=1)
            sel = (dist <= within_distance) & (rank < max_number)
    count = sel.sum(axis=1, keepdims=True)
    return sel & (count >= min_number)


def facing_kernel(ctx, geo, ti, ci, within_angle, max_distance):
    V = geo.pair_valid(ti, ci)
    P = geo.relative_position(ti, ci, V)
    with np.errstate(invalid="ignore"):
        D = V & (np.abs(np.degrees(np.arctan2(P[..., 1], P[..., 0]))) <= within_angle)
    return _within(geo, ti, ci, D, max_distance)


def _within(geo, ti, ci, D, max_distance):
    if np.isinf(max_distance) and max_distance > 0:
        return D
    if not D.any():
        return D
    return geo.box_within_dense(ti, ci, D, max_distance)


def _gradient_along(values: np.ndarray, V: np.ndarray) -> np.ndarray:
    """np.gradient (unit spacing) of each row's samples where V, in time order."""
    T = V.shape[-1]
    idx = np.arange(T)
    prev = np.where(V, idx, -1)
    prev = np.maximum.accumulate(prev, axis=-1)
    prev = np.concatenate([np.full(V.shape[:-1] + (1,), -1), prev[..., :-1]], axis=-1)
    nxt = np.where(V, idx, T)
    nxt = np.minimum.accumulate(nxt[..., ::-1], axis=-1)[..., ::-1]
    nxt = np.concatenate([nxt[..., 1:], np.full(V.shape[:-1] + (1,), T)], axis=-1)
    has_p, has_n = prev >= 0, nxt < T
    vp = np.take_along_axis(values, np.clip(prev, 0, T - 1), axis=-1)
    vn = np.take_along_axis(values, np.clip(nxt, 0, T - 1), axis=-1)
    out = np.zeros(values.shape)
    both = has_p & has_n
    out[both] = (vn[both] - vp[both]) / 2
    only_n = has_n & ~has_p
    out[only_n] = vn[only_n] - values[only_n]
    only_p = has_p & ~has_n
    out[only_p] = values[only_p] - vp[only_p]
    return np.where(V, out, np.nan)


def heading_toward_kernel(ctx, geo, ti, ci, angle_threshold, minimum_speed, max_distance):
    V = geo.pair_valid(ti, ci)
    P = geo.relative_position(ti, ci, V)                       # candidate in track frame
    vel = geo.own_velocity_in_frame(ti)[:, None]                # (A, 1, T, 3)
    back = geo.relative_position(ci, ti, V.transpose(1, 0, 2)).transpose(1, 0, 2, 3)
    dist = np.linalg.norm(np.nan_to_num(back), axis=-1)
    radial = _gradient_along(dist, V)                           # metres per frame, as the reference
    vdir = vel / (np.linalg.norm(vel, axis=-1, keepdims=True) + 1e-8)
    pdir = P / np.linalg.norm(P + 1e-8, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        angle = np.degrees(np.arccos(np.sum(vdir * pdir, axis=-1)))
        D = V & (-radial >= minimum_speed) & (angle <= angle_threshold)
    return _within(geo, ti, ci, D, max_distance)


def _segments_hit(ok: np.ndarray, V: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Mark every run of ``ok`` samples (consecutive among V samples) that contains a seed."""
    T = V.shape[-1]
    idx = np.arange(T)
    prev = np.maximum.accumulate(np.where(V, idx, -1), axis=-1)
    prev = np.concatenate([np.full(V.shape[:-1] + (1,), -1), prev[..., :-1]], axis=-1)
    prev_ok = np.take_along_axis(ok, np.clip(prev, 0, T - 1), axis=-1) & (prev >= 0)
    start = ok & ~prev_ok
    label = np.cumsum(start, axis=-1)                           # run id per row (1-based)
    hit = np.zeros(V.shape[:-1] + (T + 1,), bool)
    s = np.nonzero(seeds & ok)
    hit[s[:-1] + (label[s],)] = True
    return ok & np.take_along_axis(hit, label, axis=-1)


def _crossing(geo, ti, ci, V, pos, vel, direction, in_direction, forward_thresh, lateral_thresh):
    """being_crossed_by for one rotation; returns (marked (A,B,T), any trigger per pair)."""
    rot = {"left": ((1, 1), (0, -1)), "right": ((1, -1), (0, 1)), "backward": ((0, -1), (1, -1))}
    (ix, sx), (iy, sy) = rot.get(direction, ((0, 1), (1, 1)))
    x, y, vy = sx * pos[..., ix], sy * pos[..., iy], sy * vel[..., iy]
    half_len, half_w = _sizes(geo, ti)
    hl, fwd = half_len[:, None, None], (half_len + forward_thresh)[:, None, None]
    lb, rb = -half_w[:, None, None], half_w[:, None, None]
    T = V.shape[-1]
    prev = np.maximum.accumulate(np.where(V, np.arange(T), -1), axis=-1)
    prev = np.concatenate([np.full(V.shape[:-1] + (1,), -1), prev[..., :-1]], axis=-1)
    y0 = np.take_along_axis(y, np.clip(prev, 0, T - 1), axis=-1)
    with np.errstate(invalid="ignore"):
        cross = ((y0 < lb) & (lb < y)) | ((y < rb) & (rb < y0)) | ((y0 < rb) & (rb < y)) \
            | ((y < lb) & (lb < y0))
        trig = V & (prev >= 0) & cross & (np.abs(vy) > CROSSING_SPEED) & (hl <= x) & (x <= fwd)
        sign = np.sign(y - y0)
    marked = np.zeros(V.shape, bool)
    for d in (1, -1):
        if (d == 1 and in_direction == "clockwise") or (d == -1 and in_direction == "counterclockwise"):
            continue
        t_d = trig & (sign == d)
        if not t_d.any():
            continue
        seeds = t_d.copy()
        a, b, t = np.nonzero(t_d)
        seeds[a, b, prev[a, b, t]] = True
        with np.errstate(invalid="ignore"):
            ok = V & (d * y < lateral_thresh) & (d * vy > CROSSING_SPEED)
        marked |= _segments_hit(ok, V, seeds)
    return marked, trig.any(axis=-1)


def crossed_kernel(ctx, geo, ti, ci, direction, in_direction, forward_thresh, lateral_thresh,
                    fix_reference_bugs):
    V = geo.pair_valid(ti, ci)
    pos = geo.relative_position(ti, ci, V)
    vel = geo.relative_velocity(ti, ci, V)
    args = (in_direction, forward_thresh, lateral_thresh)
    marked, trig = _crossing(geo, ti, ci, V, pos, vel, direction, *args)
    if direction in ("left", "right", "backward") and not fix_reference_bugs:
        # The reference overwrites its `direction` argument with the crossing sign at the first
        # crossing it meets; every later candidate of that track is then seen in the forward frame.
        fwd_marked, _ = _crossing(geo, ti, ci, V, pos, vel, "forward", *args)
        first = np.where(trig.any(1), np.argmax(trig, axis=1), trig.shape[1])   # (A,)
        later = np.arange(len(ci))[None, :] > first[:, None]
        marked = np.where(later[..., None], fwd_marked, marked)
    return marked


def near_kernel(ctx, geo, ti, ci, distance_thresh, min_objects, include_self):
    V = geo.pair_valid(ti, ci)
    if include_self:
        V |= (ti[:, None] == ci[None, :])[..., None] & geo.valid[ti][:, None]
    near = _within(geo, ti, ci, V, distance_thresh)
    if not min_objects:
        min_objects = len(ci)
    count = near.sum(axis=1, keepdims=True)
    return near & (count >= min_objects)


def _heading_vectors(ctx, geo):
    """(N, T, 3) the reference's 'box heading' fallback: raw centre + box x axis - smoothed centre."""
    def make():
        return geo.pos + geo.rot[..., :, 0] - np.nan_to_num(geo.smoothed(0))
    return ctx.memo("relational_heading_vectors", make)


def _unit_headings(ctx, geo):
    """Per track and time: unit velocity, unit box-heading fallback (the reference's
    normalisation, 1e-8 inside the norm), speed, and the free-will flag."""
    def make():
        vel = np.nan_to_num(geo.smoothed(1))
        hv = _heading_vectors(ctx, geo)
        unit = lambda v: v / np.linalg.norm(v + 1e-8, axis=-1, keepdims=True)  # noqa: E731
        fw = np.isin(geo.cat, list(FREE_WILL))
        return unit(vel), unit(hv), np.linalg.norm(vel, axis=-1), fw
    return ctx.memo("relational_unit_headings", make)


def relative_heading_kernel(ctx, geo, ti, ci, direction):
    V = geo.pair_valid(ti, ci)
    vu, hu, speed, fw = _unit_headings(ctx, geo)
    tn, rn = speed[ti][:, None], speed[ci][None]                  # (A,1,T), (1,B,T)
    b1 = (tn < 1) & fw[ti][:, None, None] & (rn > 1)
    b2 = ~b1 & (rn < 1) & fw[ci][None, :, None] & (tn > 0.5)
    skip = ~b1 & ~b2 & ((tn < 1) | (rn < 1))

    def dot(x, y):                                                # per-track units -> (A,B,T)
        x, y = x[ti][:, None], y[ci][None]
        return x[..., 0] * y[..., 0] + x[..., 1] * y[..., 1] + x[..., 2] * y[..., 2]

    cos = np.where(b1, dot(hu, vu), np.where(b2, dot(vu, hu), dot(vu, vu)))
    with np.errstate(invalid="ignore"):
        angle = np.degrees(np.arccos(cos))
        if direction == "same":
            D = angle <= 45
        elif direction == "perpendicular":
            D = (45 < angle) & (angle < 135)
        elif direction == "opposite":
            D = (135 <= angle) & (angle < 180)
        else:
            D = np.zeros(V.shape, bool)
    return V & ~skip & D


def _lane_groups(ctx):
    from scenmine.dsl.relational_lanes import LaneGroups

    return ctx.memo("relational_lane_groups", lambda: LaneGroups(ctx.lanes))


def lane_group_kernel(ctx, geo, ti, ci, kind, side=None):
    V = geo.pair_valid(ti, ci)
    lane = ctx.lane
    lt, lc = lane[ti], lane[ci]                                 # (A, T), (B, T)
    groups = _lane_groups(ctx)
    used = np.unique(lt[lt >= 0])
    if len(used) == 0:
        return np.zeros(V.shape, bool)
    member = groups.membership(used, kind, side)               # (U, n_segments)
    row = np.searchsorted(used, np.clip(lt, 0, None))
    ok_t = lt >= 0
    M = member[row[:, None, :], np.clip(lc, 0, None)[None, :, :]]
    return V & M & ok_t[:, None, :] & (lc >= 0)[None]


def following_kernel(ctx, geo, ti, ci):
    V = geo.pair_valid(ti, ci)
    P = geo.relative_position(ti, ci, V)
    cv = geo.relative_velocity(ti, ci, V)
    tv = geo.own_velocity_in_frame(ti)[:, None]                 # (A, 1, T, 3)
    # candidate yaw in the track's frame (raw boxes)
    yaw = geo.log.yaw_city
    cyaw = yaw[ci][None] - yaw[ti][:, None]
    cn = np.linalg.norm(cv, axis=-1, keepdims=True)
    ch = np.where(cn > 0.5, cv[..., :2] / np.linalg.norm(cv[..., :2] + 1e-8, axis=-1, keepdims=True),
                  np.stack([np.cos(cyaw), np.sin(cyaw)], -1))
    tn = np.linalg.norm(tv, axis=-1, keepdims=True)
    th = np.where(tn > 0.5, tv[..., :2] / np.linalg.norm(tv[..., :2] + 1e-8, axis=-1, keepdims=True),
                  np.array([1.0, 0.0]))
    sim = np.sum(th * ch, axis=-1)
    half_len, half_w = _sizes(geo, ti)
    cw = (geo.first_size[ci, 1] / 2)[None, :, None]
    hl, tw = half_len[:, None, None], half_w[:, None, None]
    x, y = P[..., 0], P[..., 1]
    lanes = ctx.lanes
    lane = ctx.lane
    lt, lc = lane[ti][:, None], lane[ci][None]
    both = (lt >= 0) & (lc >= 0)
    ltc, lcc = np.clip(lt, 0, None), np.clip(lc, 0, None)
    same = ltc == lcc
    succ_matrix = np.zeros((len(lanes.segments), len(lanes.segments)), bool)
    for k in np.unique(lt[lt >= 0]).tolist():
        for s in lanes.segments[k].successors or []:
            j = lanes.id_to_index.get(int(s))
            if j is not None:
                succ_matrix[k, j] = True
    succ = succ_matrix[ltc, lcc]
    neighbour = (lanes.left_neighbor[ltc] == lcc) | (lanes.right_neighbor[ltc] == lcc)
    with np.errstate(invalid="ignore"):
        ahead = (hl < x) & (x < 25 + hl)
        in_lane = (same | succ) & ahead & (-5 < y) & (y < 5) & (sim > 0.5)
        beside = neighbour & ahead & (((-tw <= y + cw) & (y + cw <= tw)) | ((-tw <= y - cw) & (y - cw <= tw))) \
            & (sim > 0.5)
    return V & both & (in_lane | beside)
