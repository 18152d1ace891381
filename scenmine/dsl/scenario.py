"""Scenario dicts: conversion to and from (N,T) masks, restriction, combinators.

A scenario dict is flat ``{uuid: [ts, ...]}`` or relational ``{uuid: {related: [ts] | dict}}``;
timestamp collections may be lists, sets or arrays. Functions here never mutate their inputs
(the reference's scenario_or sometimes does; that side effect is not reproduced).
"""
from __future__ import annotations

import inspect

import numpy as np

from scenmine.dsl.context import LogContext, get_context


def is_relational(value) -> bool:
    return isinstance(value, dict)


def _ints(value) -> set:
    return set(value.tolist()) if isinstance(value, np.ndarray) else set(value)


def timestamp_set(value) -> set:
    """Set of every timestamp in a scenario value (list, set, array or nested dict)."""
    if not isinstance(value, dict):
        return _ints(value)
    out: set = set()
    for child in value.values():
        out |= timestamp_set(child)
    return out


def timestamps_of(value) -> list:
    """Sorted union of every timestamp in a scenario value."""
    return sorted(timestamp_set(value))


def copy_scenario(value):
    """Copy of a scenario value (dicts and timestamp lists are new objects)."""
    if isinstance(value, dict):
        return {k: copy_scenario(v) for k, v in value.items()}
    return sorted(_ints(value)) if not isinstance(value, list) else list(value)


def at_timestamps(value, kept):
    """Restrict a scenario value to the timestamps in ``kept``; empty branches dropped."""
    kept = kept if isinstance(kept, (set, frozenset)) else _ints(kept)
    if not isinstance(value, dict):
        return sorted(kept.intersection(value.tolist() if isinstance(value, np.ndarray) else value))
    out = {}
    for uuid, child in value.items():
        sub = at_timestamps(child, kept)
        if len(sub):
            out[uuid] = sub
    return out


def remove_empty_branches(scenario: dict) -> dict:
    """Drop, in place, every key whose subtree holds no timestamp; returns the dict."""
    if isinstance(scenario, dict):
        for uuid in list(scenario):
            if not timestamp_set(scenario[uuid]):
                del scenario[uuid]
            else:
                remove_empty_branches(scenario[uuid])
    return scenario


def track_dict(scenario: dict) -> dict:
    """{referred uuid: sorted timestamps} over entries with at least one timestamp."""
    out = {}
    for uuid, value in scenario.items():
        ts = timestamp_set(value)
        if ts:
            out[uuid] = sorted(ts)
    return out


def is_empty(scenario: dict) -> bool:
    return not any(timestamp_set(v) for v in scenario.values())


def to_scenario_dict(obj, log_dir, copy: bool = True) -> dict:
    """A scenario dict from a dict (copied unless ``copy=False``), uuid(s) (all their
    timestamps) or a timestamp."""
    if isinstance(obj, dict):
        return copy_scenario(obj) if copy else obj
    ctx = get_context(log_dir)
    if isinstance(obj, str):
        obj = [obj]
    if isinstance(obj, (list, tuple, np.ndarray, set)):
        out = {}
        for uuid in obj:
            i = ctx.index.get(uuid)
            out[uuid] = [] if i is None else ctx.timestamps[ctx.valid[i]].tolist()
        return out
    if isinstance(obj, (int, np.integer)):
        j = ctx.time_index.get(int(obj))
        rows = [] if j is None else np.flatnonzero(ctx.valid[:, j])
        return {ctx.uuids[i]: [int(obj)] for i in rows}
    return {u: ctx.timestamps[ctx.valid[i]].tolist() for i, u in enumerate(ctx.uuids)}


# ----------------------------------------------------------------------------- masks
def mask_of(scenario: dict, ctx: LogContext) -> np.ndarray:
    """(N,T) bool of each referred track's timestamps (union over its subtree)."""
    mask = np.zeros(ctx.valid.shape, bool)
    for uuid, value in scenario.items():
        i = ctx.index.get(uuid)
        if i is None:
            continue
        cols = [ctx.time_index[t] for t in timestamp_set(value) if t in ctx.time_index]
        mask[i, cols] = True
    return mask


def mask_to_dict(mask: np.ndarray, ctx: LogContext, keep_empty: bool = False) -> dict:
    """Flat scenario dict from an (N,T) mask."""
    out = {}
    for i in range(len(mask)):
        if keep_empty or mask[i].any():
            out[ctx.uuids[i]] = ctx.timestamps[mask[i]].tolist()
    return out


def filter_by_mask(track_candidates, log_dir, mask: np.ndarray) -> dict:
    """The reference's unary wrapper: every candidate, restricted to where ``mask`` holds.

    ``mask`` is the condition over the whole log (N,T); candidates keep their structure.
    """
    ctx = get_context(log_dir)
    out = {}
    col = ctx.time_index.get
    for uuid, value in to_scenario_dict(track_candidates, ctx, copy=False).items():
        i = ctx.index.get(uuid)
        if i is None:
            out[uuid] = {} if isinstance(value, dict) else []
        elif isinstance(value, dict):
            out[uuid] = at_timestamps(value, set(ctx.timestamps[mask[i]].tolist()))
        else:  # flat: look the timestamps up as columns
            cols = np.fromiter((col(t, -1) for t in value), dtype=np.int64, count=len(value))
            cols = np.unique(cols[cols >= 0])
            out[uuid] = ctx.timestamps[cols[mask[i, cols]]].tolist()
    return out


# ----------------------------------------------------------------------------- relational
def prepare_relational(track_candidates, related_candidates, log_dir) -> tuple[dict, dict]:
    """Both candidate dicts, each restricted to the timestamps present in the other."""
    tracks = to_scenario_dict(track_candidates, log_dir, copy=False)
    related = to_scenario_dict(related_candidates, log_dir, copy=False)
    t_ts, r_ts = timestamp_set(tracks), timestamp_set(related)
    return at_timestamps(tracks, r_ts), at_timestamps(related, t_ts)


def relational_output(tracks: dict, related: dict, relations: dict) -> dict:
    """The reference's relational wrapper output.

    ``relations`` is ``{track uuid: {related uuid: timestamps}}`` as computed over whole
    tracks, with one entry per track in ``tracks`` (an empty dict when nothing relates).
    Relations are limited to the track's candidate timestamps and take the related
    candidate's own value (a list, or its subtree when relational) at those timestamps.
    """
    out = {uuid: {} for uuid in relations}
    for uuid, value in tracks.items():
        if isinstance(value, dict) and uuid in relations:
            out[uuid] = at_timestamps(value, timestamps_of(relations[uuid]))
    for uuid, rels in relations.items():
        own = timestamp_set(tracks[uuid])
        for rel_uuid, rel_ts in rels.items():
            eligible = own.intersection(rel_ts)
            out[uuid][rel_uuid] = at_timestamps(related[rel_uuid], eligible)
    return out


def relations_from_mask(track_uuids, related_uuids, rel: np.ndarray, ctx: LogContext) -> dict:
    """{track: {related: timestamps}} from a (Nt, Nr, T) bool array; every track present."""
    out = {}
    for a, uuid in enumerate(track_uuids):
        hits = np.flatnonzero(rel[a].any(axis=1))
        out[uuid] = {related_uuids[b]: ctx.timestamps[rel[a, b]].tolist() for b in hits}
    return out


# ----------------------------------------------------------------------------- combinators
def scenario_and(scenario_dicts: list) -> dict:
    """Objects and timestamps present in every scenario of a list (intersection).

    Args:
        scenario_dicts: a list of scenario dicts, e.g. [moving, on_road_vehicles].

    Returns:
        Scenario dict with the objects in all of them, at their common timestamps; relations
        are merged.

    Example:
        moving_at_crossing = scenario_and([moving, at_crossing])
    """
    if not scenario_dicts:
        return {}
    common = track_dict(scenario_dicts[0])
    for scenario in scenario_dicts[1:]:
        other = track_dict(scenario)
        common = {u: sorted(set(ts).intersection(other[u])) for u, ts in common.items()
                  if u in other}
    out = {}
    for uuid, ts in common.items():
        for scenario in scenario_dicts:
            part = at_timestamps(scenario[uuid], ts)
            if uuid not in out:
                out[uuid] = part
            else:
                out[uuid] = _merge(out[uuid], part, uuid, union=False)
    return out


def scenario_or(scenario_dicts: list) -> dict:
    """Objects and timestamps present in any scenario of a list (union).

    Args:
        scenario_dicts: a list of scenario dicts, e.g. [cars, trucks].

    Returns:
        Scenario dict with every object of every input, at all their timestamps.

    Example:
        large = scenario_or([buses, trucks])
    """
    if not scenario_dicts:
        return {}
    out = copy_scenario(scenario_dicts[0])
    for scenario in scenario_dicts[1:]:
        for uuid, child in scenario.items():
            if uuid not in out:
                out[uuid] = copy_scenario(child)
            else:
                out[uuid] = _merge(out[uuid], copy_scenario(child), uuid, union=True)
    return out


def _merge(current, new, uuid, union: bool):
    """Combine two values of one key; a flat value joins a relational one under its own uuid."""
    if isinstance(new, dict) and isinstance(current, dict):
        return scenario_or([current, new])
    if isinstance(new, dict):
        new[uuid] = current
        return new
    if isinstance(current, dict):
        current[uuid] = new
        return current
    a, b = _ints(current), _ints(new)
    return sorted(a | b) if union else sorted(a & b)


def _log_dir_arg(func, args, kwargs):
    """Find log_dir in a DSL call (positional per the function's signature, or keyword)."""
    if "log_dir" in kwargs:
        return kwargs["log_dir"]
    params = list(inspect.signature(func).parameters)
    if "log_dir" not in params:
        raise ValueError(f"{getattr(func, '__name__', func)} takes no 'log_dir' parameter")
    return args[params.index("log_dir") - 1]


def scenario_not(func):
    """Negate a DSL function: it returns a function that keeps the candidates where the original does not hold.

    Args:
        func: a DSL function taking track_candidates first (unary or relational).

    Returns:
        A function with func's arguments returning a scenario dict: the candidates minus func's
        result, per timestamp.

    Example:
        not_at_crossing = scenario_not(at_pedestrian_crossing)(peds, log_dir)
    """

    def wrapper(track_candidates, *args, **kwargs):
        log_dir = _log_dir_arg(func, args, kwargs)
        name = getattr(func, "__name__", "")
        source = args[0] if name == "get_objects_in_relative_direction" else track_candidates
        tracks = to_scenario_dict(source, log_dir)
        result = remove_empty_branches(func(track_candidates, *args, **kwargs))
        out = {}
        for uuid, value in tracks.items():
            if uuid in result:
                out[uuid] = at_timestamps(value, timestamp_set(value) - timestamp_set(result[uuid]))
            else:
                out[uuid] = value
        return out

    wrapper.__name__ = f"scenario_not_{getattr(func, '__name__', 'func')}"
    return wrapper


def reverse_relationship(func):
    """Swap who is referred in a relational function: the related objects become the result.

    Args:
        func: a relational DSL function (track_candidates, related_candidates, log_dir, ...).

    Returns:
        A function with func's arguments returning a relational scenario dict keyed by the
        related objects.

    Example:
        peds_crossing_ego = reverse_relationship(being_crossed_by)(ego, peds, log_dir)
    """

    def wrapper(track_candidates, related_candidates, log_dir, *args, **kwargs):
        if getattr(func, "__name__", "") == "get_objects_in_relative_direction":
            from scenmine.dsl import NAMESPACE

            return NAMESPACE["has_objects_in_relative_direction"](
                track_candidates, related_candidates, log_dir, *args, **kwargs)
        tracks = remove_empty_branches(to_scenario_dict(track_candidates, log_dir))
        related = remove_empty_branches(to_scenario_dict(related_candidates, log_dir))
        result = remove_empty_branches(func(tracks, related, log_dir, *args, **kwargs))
        pairs = [(t, r) for t, rels in result.items() for r in rels
                 if (t in tracks and r in related) or (t in related and r in tracks and t != r)]
        paired = set(pairs)
        out: dict = {}
        for t, r in pairs:
            rel_ts = timestamps_of(result[t][r])
            rest = {k: v for k, v in result[t].items() if (t, k) not in paired}
            if not rest or not timestamp_set(rest):
                rest = rel_ts
            part = {t: at_timestamps(rest, rel_ts)}
            out[r] = part if r not in out else scenario_or([part, out[r]])
        return out

    wrapper.__name__ = f"reverse_{getattr(func, '__name__', 'func')}"
    return wrapper
