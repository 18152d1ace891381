"""Relational DSL functions: relations between referred tracks and related candidates.

Names, parameters and defaults follow the RefAV contract (docs/scenario-dsl.md). Every
function evaluates a boolean relation over (tracks x candidates x timestamps) on the whole log
at once (scenmine.dsl.relational_geometry), then assembles the scenario dict the way the
reference's relational wrapper does:

- inputs may be flat ``{uuid: [ts]}``, relational ``{uuid: {related: ...}}``, a uuid list or one
  uuid; each side is first restricted to the timestamps the other side has at all;
- the relation itself is computed from the tracks' whole trajectories (counts such as
  ``min_number`` / ``min_objects`` consider every remaining candidate at every timestamp where it
  is annotated, not only its scenario timestamps);
- the result keeps every remaining track (possibly with an empty dict); per related candidate it
  lists the relation's timestamps that are also in both scenario inputs; nested related inputs stay
  nested; a relational track input keeps its earlier relations at the new timestamps.

Reference bugs are reproduced by default and fixed with ``fix_reference_bugs=True`` (documented
on each function where it matters).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from scenmine.dsl.relational_geometry import Geometry, geometry
from scenmine.dsl.relational_kernels import (
    crossed_kernel,
    direction_kernel,
    facing_kernel,
    following_kernel,
    heading_toward_kernel,
    lane_group_kernel,
    near_kernel,
    relative_heading_kernel,
)


# ================================================================ scenario-dict plumbing
def _context(log_dir):
    from scenmine.dsl.context import get_context

    return get_context(log_dir)


def _geo(ctx) -> Geometry:
    return ctx.memo("relational_geometry", lambda: geometry(ctx.log))


def _as_dict(candidates, ctx) -> dict:
    """The reference's to_scenario_dict: dict as is, uuid(s) -> all their timestamps."""
    if isinstance(candidates, dict):
        return candidates
    if isinstance(candidates, str):
        candidates = [candidates]
    out = {}
    for u in list(candidates):
        i = ctx.index.get(u)
        out[u] = [] if i is None else ctx.timestamps[ctx.valid[i]].tolist()
    return out


def _all_timestamps(value, acc: set) -> set:
    if isinstance(value, dict):
        for v in value.values():
            _all_timestamps(v, acc)
    else:
        acc.update(int(t) for t in value)
    return acc


def _leaves(value, acc: list) -> list:
    if isinstance(value, dict):
        for v in value.values():
            _leaves(v, acc)
    else:
        acc.append(np.asarray(list(value), dtype=np.int64).ravel())
    return acc


def _mask(value, ctx) -> np.ndarray:
    m = np.zeros(ctx.n_times, bool)
    if isinstance(value, dict):
        parts = _leaves(value, [])
        ts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    else:
        ts = np.asarray(list(value), dtype=np.int64).ravel()
    if len(ts):
        pos = np.clip(np.searchsorted(ctx.timestamps, ts), 0, ctx.n_times - 1)
        m[pos[ctx.timestamps[pos] == ts]] = True
    return m


def _at(value, keep: np.ndarray, ctx):
    """The reference's scenario_at_timestamps with a (T,) keep mask; drops emptied branches."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = _at(v, keep, ctx)
            if len(sub):
                out[k] = sub
        return out
    ts = np.unique(np.asarray(list(value), dtype=np.int64))
    if not len(ts):
        return []
    pos = np.clip(np.searchsorted(ctx.timestamps, ts), 0, ctx.n_times - 1)
    return ts[(ctx.timestamps[pos] == ts) & keep[pos]].tolist()


def _relate(track_candidates, related_candidates, log_dir, kernel, **params) -> dict:
    """Run ``kernel(ctx, geo, ti, ci, **params) -> (A, B, T) bool`` under the reference's
    relational wrapper semantics (see the module docstring)."""
    ctx = _context(log_dir)
    tdict = _as_dict(track_candidates, ctx)
    rdict = _as_dict(related_candidates, ctx)
    tkeys = list(tdict)
    rkeys = list(rdict)
    tm = np.zeros((len(tkeys), ctx.n_times), bool)
    rm = np.zeros((len(rkeys), ctx.n_times), bool)
    for a, k in enumerate(tkeys):
        tm[a] = _mask(tdict[k], ctx)
    for b, k in enumerate(rkeys):
        rm[b] = _mask(rdict[k], ctx)
    t_union, r_union = tm.any(0), rm.any(0)
    tm &= r_union
    rm &= t_union
    tsel = [a for a in range(len(tkeys)) if tm[a].any()]
    rsel = [b for b in range(len(rkeys)) if rm[b].any()]
    result: dict = {tkeys[a]: {} for a in tsel}
    t_known = [a for a in tsel if tkeys[a] in ctx.index]
    r_known = [b for b in rsel if rkeys[b] in ctx.index]
    if not t_known or not r_known:
        return result
    ti = ctx.rows([tkeys[a] for a in t_known])
    ci = ctx.rows([rkeys[b] for b in r_known])
    M = kernel(ctx, _geo(ctx), ti, ci, **params)
    M &= ctx.valid[ti][:, None] & ctx.valid[ci][None]
    has = M.any(axis=2)
    track_m = tm[t_known]                           # (A, T) restricted track timestamps
    cand_m = rm[r_known]
    elig = M & track_m[:, None, :]
    ts = ctx.timestamps
    for a, ka in enumerate(t_known):
        uuid = tkeys[ka]
        tval = tdict[uuid]
        row: dict = {}
        if isinstance(tval, dict):
            row = _at(tval, M[a].any(0) & track_m[a], ctx)
        for b in np.flatnonzero(has[a]).tolist():
            rk = rkeys[r_known[b]]
            rval = rdict[rk]
            if isinstance(rval, dict):
                row[rk] = _at(rval, elig[a, b] & cand_m[b], ctx)
            else:
                row[rk] = ts[elig[a, b] & cand_m[b]].tolist()
        result[uuid] = row
    return result


# ================================================================ public functions
def has_objects_in_relative_direction(track_candidates: dict, related_candidates: dict, log_dir: Path,
                                      direction: Literal["forward", "backward", "left", "right"],
                                      min_number: int = 1, max_number: int = np.inf,
                                      within_distance: float = 50,
                                      lateral_thresh: float = np.inf) -> dict:
    """Objects with related objects in a direction of their own frame.

    A related centroid is 'forward' when ahead of the track's front and within ``lateral_thresh``
    of its sides (left/right/backward alike); it counts when its footprint is within
    ``within_distance`` m of the track's footprint. Relates the ``max_number`` closest per
    timestamp. The ego's box front is 4.877/2 + 1.422 m ahead of its origin here (its back is then
    +1.0165 m, a reference quirk we keep). Unknown direction strings match nothing.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'forward', 'backward', 'left' or 'right' (of the tracked object).
        min_number: fewest related objects that must be there (default 1).
        max_number: most related objects related per timestamp, the closest first (default
            np.inf).
        within_distance: distance in m between the footprints (default 50).
        lateral_thresh: distance in m beyond the object's sides (default np.inf).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        result = has_objects_in_relative_direction(vehicles, bikes, log_dir, direction='right', within_distance=10)
    """
    return _relate(track_candidates, related_candidates, log_dir, direction_kernel,
                   direction=direction, min_number=min_number, max_number=max_number,
                   within_distance=within_distance, lateral_thresh=lateral_thresh)


def get_objects_in_relative_direction(track_candidates: dict, related_candidates: dict,
                                      log_dir: Path,
                                      direction: Literal["forward", "backward", "left", "right"],
                                      min_number: int = 0, max_number: int = np.inf,
                                      within_distance: float = 50,
                                      lateral_thresh: float = np.inf) -> dict:
    """The related objects found in a direction of the candidates (they become the result).

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'forward', 'backward', 'left' or 'right' (of the track candidates).
        min_number: fewest related objects (default 0).
        max_number: most related objects per timestamp, the closest first (default np.inf).
        within_distance: distance in m between the footprints (default 50).
        lateral_thresh: distance in m beyond the candidates' sides (default np.inf).

    Returns:
        Relational scenario dict keyed by the related objects that were found.

    Example:
        car_ahead_of_ego = get_objects_in_relative_direction(ego, vehicles, log_dir, direction='forward', max_number=1)
    """
    from scenmine.dsl import scenario

    return scenario.reverse_relationship(has_objects_in_relative_direction)(
        track_candidates, related_candidates, log_dir, direction, min_number=min_number,
        max_number=max_number, within_distance=within_distance, lateral_thresh=lateral_thresh)


def facing_toward(track_candidates: dict, related_candidates: dict, log_dir: Path,
                  within_angle: float = 22.5, max_distance: float = 50) -> dict:
    """Objects whose front points at a related object.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        within_angle: half-angle in degrees (default 22.5).
        max_distance: distance in m between footprints (default 50).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        facing_ego = facing_toward(peds, ego, log_dir)
    """
    return _relate(track_candidates, related_candidates, log_dir, facing_kernel,
                   within_angle=within_angle, max_distance=max_distance)


def heading_toward(track_candidates: dict, related_candidates: dict, log_dir: Path,
                   angle_threshold: float = 22.5, minimum_speed: float = 0.5,
                   max_distance: float = np.inf) -> dict:
    """Objects moving toward a related object.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        angle_threshold: angle in degrees between velocity and the direction to the related
            object (default 22.5).
        minimum_speed: closing speed in metres per 0.1 s frame (default 0.5, about 5 m/s).
        max_distance: distance in m (default np.inf).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        approaching = heading_toward(vehicles, peds, log_dir)
    """
    return _relate(track_candidates, related_candidates, log_dir, heading_toward_kernel,
                   angle_threshold=angle_threshold, minimum_speed=minimum_speed,
                   max_distance=max_distance)


def being_crossed_by(track_candidates: dict, related_candidates: dict, log_dir: Path,
                     direction: Literal["forward", "backward", "left", "right"] = "forward",
                     in_direction: Literal["clockwise", "counterclockwise", "either"] = "either",
                     forward_thresh: float = 10, lateral_thresh: float = 5, *,
                     fix_reference_bugs: bool = False) -> dict:
    """Objects whose side (a plane out of it) is crossed by a related object.

    The plane reaches forward_thresh m beyond the track's half length; the crossing object stays
    related while it keeps moving across (over 0.2 m/s) and is within lateral_thresh m of the
    midplane. Reference bug kept by default: after the first crossing found for a track, later
    candidates are tested in the track's forward frame whatever ``direction`` says;
    ``fix_reference_bugs=True`` tests every candidate in the requested direction.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'forward', 'backward', 'left' or 'right' (default 'forward').
        in_direction: 'clockwise', 'counterclockwise' or 'either' (default 'either').
        forward_thresh: how far the plane reaches beyond the object, in m (default 10).
        lateral_thresh: distance in m from the plane while still crossing (default 5).
        fix_reference_bugs: test every crossing in the requested direction (default False).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        ego_crossed = being_crossed_by(ego, peds, log_dir, direction='forward')
    """
    return _relate(track_candidates, related_candidates, log_dir, crossed_kernel,
                   direction=direction, in_direction=in_direction, forward_thresh=forward_thresh,
                   lateral_thresh=lateral_thresh, fix_reference_bugs=fix_reference_bugs)


def near_objects(track_candidates: dict, related_candidates: dict, log_dir: Path,
                 distance_thresh: float = 10, min_objects: int = 1,
                 include_self: bool = False) -> dict:
    """Objects with at least a number of related objects nearby.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        distance_thresh: distance in m between footprints (default 10).
        min_objects: fewest related objects nearby (default 1; 0 = all of them).
        include_self: count the object itself when it is also related (default False).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        crowded = near_objects(vehicles, peds, log_dir, distance_thresh=10, min_objects=3)
    """
    return _relate(track_candidates, related_candidates, log_dir, near_kernel,
                   distance_thresh=distance_thresh, min_objects=min_objects,
                   include_self=include_self)


def following(track_candidates: dict, related_candidates: dict, log_dir: Path) -> dict:
    """Objects driving behind a related object in the same lane, heading the same way.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        ego_following = following(ego, vehicles, log_dir)
    """
    return _relate(track_candidates, related_candidates, log_dir, following_kernel)


def heading_in_relative_direction_to(track_candidates, related_candidates, log_dir,
                                     direction: Literal["same", "opposite", "perpendicular"]):
    """Objects travelling in the same, opposite or a perpendicular direction to a related one.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: 'same' (0-45 degrees), 'perpendicular' (45-135) or 'opposite' (135-180).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        oncoming = heading_in_relative_direction_to(vehicles, ego, log_dir, direction='opposite')
    """
    return _relate(track_candidates, related_candidates, log_dir, relative_heading_kernel,
                   direction=direction)


def in_same_lane(track_candidates: dict, related_candidates: dict, log_dir: Path) -> dict:
    """Objects in the same lane as a related object.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        same_lane = in_same_lane(vehicles, ego, log_dir)
    """
    return _relate(track_candidates, related_candidates, log_dir, lane_group_kernel,
                   kind="semantic")


def on_relative_side_of_road(track_candidates: dict, related_candidates: dict, log_dir: Path,
                             side=Literal["same", "opposite"]) -> dict:
    """Objects on the same or the opposite side of the road as a related object.

    Args:
        track_candidates: scenario dict of the objects to test (e.g. from
            get_objects_of_category).
        related_candidates: scenario dict of the objects to relate them to.
        log_dir: the log handle the program was given; pass it through unchanged.
        side: 'same' or 'opposite' (required).

    Returns:
        Relational scenario dict {uuid: {related uuid: [timestamps]}}: the candidates, each
        with the related objects that satisfy the relation and when.

    Example:
        opposite = on_relative_side_of_road(vehicles, ego, log_dir, side='opposite')
    """
    if side not in ("same", "opposite"):
        raise ValueError(f"on_relative_side_of_road: side must be 'same' or 'opposite', not {side!r}")
    return _relate(track_candidates, related_candidates, log_dir, lane_group_kernel,
                   kind="road_side", side=side)


RELATIONAL_FUNCTIONS = {f.__name__: f for f in (
    has_objects_in_relative_direction, get_objects_in_relative_direction, facing_toward,
    heading_toward, being_crossed_by, near_objects, following, heading_in_relative_direction_to,
    in_same_lane, on_relative_side_of_road)}
