"""Map-based DSL functions, batched over every (track, timestamp) of a log and cached."""
from __future__ import annotations

import numpy as np

from scenmine.dsl.context import LogContext, _take, _unpack, get_context, pack
from scenmine.dsl.geometry import dilate_polygon, inside_pairs, polygons_overlap
from scenmine.dsl.scenario import (
    filter_by_mask,
    prepare_relational,
    relational_output,
    relations_from_mask,
)

STOP_SIGN_RIGHT_M = 7.0


def _lane_mask(ctx: LogContext, per_lane: np.ndarray) -> np.ndarray:
    lane = ctx.lane
    return (lane >= 0) & per_lane[np.maximum(lane, 0)]


def on_lane_type(track_candidates, log_dir, lane_type):
    """Objects on a lane of one type.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        lane_type: 'VEHICLE', 'BIKE' or 'BUS'.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        in_bus_lane = on_lane_type(buses, log_dir, lane_type='BUS')
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, _lane_mask(ctx, ctx.lanes.lane_type == lane_type))


def on_intersection(track_candidates, log_dir):
    """Objects on an intersection (their lane segment is part of one).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        crossing_cars = on_intersection(vehicles, log_dir)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, _lane_mask(ctx, ctx.lanes.is_intersection))


def on_road(track_candidates, log_dir):
    """Objects on a road or bike lane segment (not parking lots or sidewalks).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        peds_on_road = on_road(peds, log_dir)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, ctx.lane >= 0)


def _points_in_any(ctx: LogContext, polygons) -> np.ndarray:
    """(N,T) bool: smoothed centre inside any of the polygons."""
    rows, cols = np.nonzero(ctx.valid)
    inside = np.zeros(ctx.valid.shape, bool)
    pi, _ = inside_pairs(ctx.pos[rows, cols, :2], polygons)
    inside[rows[pi], cols[pi]] = True
    return inside


def near_intersection(track_candidates, log_dir, threshold=5):
    """Objects whose centre is within a distance of an intersection.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        threshold: distance in m from the intersection's area (default 5).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        approaching = near_intersection(vehicles, log_dir, threshold=10)
    """
    ctx = get_context(log_dir)

    def compute():
        lanes = ctx.lanes
        polys = [dilate_polygon(lanes.polygons[q], threshold)
                 for q in np.flatnonzero(lanes.is_intersection)]
        return _points_in_any(ctx, polys)

    return filter_by_mask(track_candidates, ctx, ctx.memo(("near_intersection", threshold), compute))


def in_drivable_area(track_candidates, log_dir):
    """Objects whose centre is inside the map's drivable area.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        peds_in_road = in_drivable_area(peds, log_dir)
    """
    ctx = get_context(log_dir)
    return filter_by_mask(track_candidates, ctx, drivable_mask(ctx))


def drivable_mask(ctx: LogContext) -> np.ndarray:
    """(N,T) bool: smoothed centre inside the map's drivable area (cached per log)."""
    def compute():
        return _points_in_any(ctx, [da.xyz[:, :2] for da in ctx.map.get_scenario_vector_drivable_areas()])

    return ctx.memo(("in_drivable_area",), compute)


def _crossing_overlap(ctx: LogContext, distance: float) -> np.ndarray:
    """(N,T,C) bool: box overlaps crosswalk c grown by ``distance`` m (separating axes)."""
    def compute():
        crossings = [pc.polygon[:, :2] for pc in ctx.map.get_scenario_ped_crossings()]
        out = np.zeros(ctx.valid.shape + (len(crossings),), bool)
        foot = ctx.footprint("city")[ctx.valid]
        boxes = np.concatenate([foot, foot[:, :1]], axis=1)
        lo, hi = boxes.min(axis=1), boxes.max(axis=1)
        cells = np.argwhere(ctx.valid)
        for c, poly in enumerate(crossings):
            grown = dilate_polygon(poly, distance) if distance else poly
            cand = np.flatnonzero((lo <= grown.max(0)).all(1) & (hi >= grown.min(0)).all(1))
            r, t = cells[cand].T
            out[r, t, c] = polygons_overlap(boxes[cand], grown)
        return out

    return ctx.memo(("crossing_overlap", distance), compute)


def _crossing_mask(ctx: LogContext, within_distance: float) -> np.ndarray:
    """The reference's crossing test, including its chaining quirk.

    At a track's first timestamp every crossing is tested; afterwards only the crossings
    that the (undilated) box overlapped at the previous timestamp, so the chain breaks for
    good at the first timestamp where the box overlaps no crossing.
    """
    touch = _crossing_overlap(ctx, 0)
    if touch.shape[-1] == 0:
        return np.zeros(ctx.valid.shape, bool)
    near = _crossing_overlap(ctx, within_distance)
    n, t, c = touch.shape
    order, length = pack(ctx.valid)
    touch_p, near_p = _take(touch, order), _take(near, order)
    k = np.arange(t)[None, :]
    any_touch = touch_p.any(-1) & (k < length[:, None])
    alive = np.concatenate([np.ones((n, 1), bool),
                            np.logical_and.accumulate(any_touch, axis=1)[:, :-1]], axis=1)
    listed = np.concatenate([np.ones((n, 1, c), bool), touch_p[:, :-1]], axis=1)
    hit = (listed & near_p).any(-1) & alive
    return _unpack(hit, order, ctx.valid, fill=False)


def at_pedestrian_crossing(track_candidates, log_dir, within_distance=1,
                           fix_reference_bugs=False):
    """Objects at a pedestrian crossing (their box within a distance of one).

    Like the reference, a track that is not on a crossing at its first timestamp is never
    reported (its crossing list is replaced by the previous timestamp's hits);
    ``fix_reference_bugs=True`` tests every crossing at every timestamp instead.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        within_distance: distance in m between box and crossing (default 1; 0 = overlapping).
        fix_reference_bugs: test every crossing at every timestamp (default False: as the
            reference, an object not at a crossing at its first timestamp is never reported).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept only at the timestamps where
        the condition holds (an empty list elsewhere).

    Example:
        peds_crossing = at_pedestrian_crossing(peds, log_dir, within_distance=0)
    """
    ctx = get_context(log_dir)
    if fix_reference_bugs:
        mask = ctx.memo(("at_pedestrian_crossing_fixed", within_distance),
                        lambda: _crossing_overlap(ctx, within_distance).any(-1) & ctx.valid)
        return filter_by_mask(track_candidates, ctx, mask)
    mask = ctx.memo(("at_pedestrian_crossing", within_distance),
                    lambda: _crossing_mask(ctx, within_distance))
    return filter_by_mask(track_candidates, ctx, mask)


# ----------------------------------------------------------------------------- stop signs
def stop_sign_lane(ctx: LogContext, row: int) -> int:
    """Lane index the reference attributes to a stop sign (-1 if none near).

    The reference never updates its best distance, so it takes the LAST non-intersection
    lane within 10 m (or the last lane at all when all are intersections).
    """
    first = np.flatnonzero(ctx.valid[row])[0]
    near = ctx.lanes.nearby(ctx.pos[row, first, :2], 10)
    plain = [q for q in near if not ctx.lanes.is_intersection[q]]
    return int(plain[-1]) if plain else (int(near[-1]) if len(near) else -1)


def _stop_sign_relations(ctx: LogContext, tracks: list, signs: list, forward_thresh) -> np.ndarray:
    """(Nt, Ns, T) bool: track in the sign's lane, just before it, facing it."""
    from scenmine.dsl.context import rot_z, rotvec_z

    t_rows, s_rows = ctx.rows(tracks), ctx.rows(signs)
    rel = np.zeros((len(t_rows), len(s_rows), ctx.n_times), bool)
    lane = ctx.lane
    for b, s in enumerate(s_rows):
        sign_lane = stop_sign_lane(ctx, s)
        if sign_lane < 0:
            continue
        frames = np.full(len(t_rows), s)
        pos = ctx.relative(frames, t_rows, 0)
        shared = ctx.valid[t_rows] & ctx.valid[s][None]
        # the reference pairs the k-th shared timestamp with the sign's k-th own box
        sign_cols = np.flatnonzero(ctx.valid[s])
        sign_yaw = np.zeros(shared.shape)
        order, length = pack(shared)
        for a in range(len(t_rows)):
            cols = order[a, :length[a]]
            sign_yaw[a, cols] = ctx.log.yaw_ego[s, sign_cols[:len(cols)]]
        sign_rot = np.einsum("tij,ptjk->ptik", ctx.log.ego_rotation, rot_z(sign_yaw))
        relative = np.einsum("ptji,ptjk->ptik", sign_rot, ctx.rot_city[t_rows])
        yaw = np.degrees(rotvec_z(np.where(shared[..., None, None], relative, np.nan)))
        with np.errstate(invalid="ignore"):
            ok = (pos[..., 0] > -1) & (pos[..., 0] < forward_thresh)
            ok &= (pos[..., 1] > -STOP_SIGN_RIGHT_M) & (pos[..., 1] < 0)
            ok &= (yaw >= 90) | (yaw <= -90)
        rel[:, b] = ok & shared & (lane[t_rows] == sign_lane)
    return rel


def at_stop_sign(track_candidates, log_dir, forward_thresh=10):
    """Objects in the lane of a stop sign, within a distance in front of it.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        log_dir: the log handle the program was given; pass it through unchanged.
        forward_thresh: distance in m in front of the sign (default 10).

    Returns:
        Relational scenario dict {uuid: {stop sign uuid: [timestamps]}}.

    Example:
        waiting = at_stop_sign(vehicles, log_dir)
    """
    ctx = get_context(log_dir)
    signs = ctx.category_uuids("STOP_SIGN")
    tracks, related = prepare_relational(track_candidates, signs, ctx)
    track_uuids, sign_uuids = list(tracks), list(related)
    rel = _stop_sign_relations(ctx, track_uuids, sign_uuids, forward_thresh)
    return relational_output(tracks, related, relations_from_mask(track_uuids, sign_uuids, rel, ctx))
