"""output_scenario, the capture that records it, and the reference post-processing."""
from __future__ import annotations

import contextlib
from copy import deepcopy

import numpy as np

from scenmine.dsl.context import LogContext, get_context
from scenmine.dsl.scenario import is_empty, remove_empty_branches, timestamps_of, track_dict

RELATIONSHIP_DISTANCE_M = 50.0
_captures: list[list] = []


@contextlib.contextmanager
def capture():
    """Collect every ``output_scenario`` call made inside as ``(description, scenario)``."""
    records: list = []
    _captures.append(records)
    try:
        yield records
    finally:
        _captures.remove(records)


def _check(value, depth=0):
    if isinstance(value, dict):
        if depth > 32:
            raise ValueError("scenario dict nested too deeply")
        for key, child in value.items():
            if not isinstance(key, str):
                raise TypeError(f"scenario keys must be track uuids (str), got {type(key).__name__}")
            _check(child, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        for t in value:
            if not isinstance(t, (int, np.integer)) or isinstance(t, bool):
                raise TypeError(f"timestamps must be integers, got {type(t).__name__}")
    else:
        raise TypeError(f"a scenario value must be a dict or a list of timestamps, "
                        f"got {type(value).__name__}")


def output_scenario(scenario, description, log_dir, output_dir, visualize=False, **visualization_kwargs):
    """Hand in the program's result; every program ends with this call.

    Args:
        scenario: the final scenario dict.
        description: the description variable the program was given.
        log_dir: the log handle the program was given.
        output_dir: the output_dir variable the program was given.
        visualize: ignored (default False).

    Returns:
        None.

    Example:
        output_scenario(result, description, log_dir, output_dir)
    """
    if not isinstance(scenario, dict):
        raise TypeError(f"output_scenario expects a scenario dict, got {type(scenario).__name__}")
    _check(scenario)
    if _captures:
        _captures[-1].append((str(description), deepcopy(scenario)))


# ----------------------------------------------------------------------------- post-processing
def _filter_relationship_distance(scenario: dict, ctx: LogContext, max_distance: float) -> None:
    """Drop, in place, related objects never within ``max_distance`` m (centroids) of their
    referred object, recursing the way the reference does."""
    for uuid, related in list(scenario.items()):
        if not isinstance(related, dict):
            continue
        for rel_uuid, below in list(related.items()):
            if isinstance(below, dict):
                _filter_relationship_distance(related, ctx, max_distance)
            f, o = ctx.index.get(uuid), ctx.index.get(rel_uuid)
            near = False
            if f is not None and o is not None:
                cols = [ctx.time_index[t] for t in timestamps_of(below) if t in ctx.time_index]
                dist = np.linalg.norm(ctx.relative(f, o, 0)[0, cols], axis=-1)
                with np.errstate(invalid="ignore"):
                    near = bool(np.any(dist < max_distance))
            if not near:
                scenario[uuid].pop(rel_uuid)


def _filter_by_length(scenario: dict, min_timesteps: int) -> None:
    for uuid, value in list(scenario.items()):
        if isinstance(value, dict):
            _filter_by_length(value, min_timesteps)
        elif len(value) < min_timesteps:
            scenario.pop(uuid)


def _dilate(scenario: dict, ctx: LogContext, min_span_s: float) -> None:
    """Grow, in place, every run of listed timestamps shorter than ``min_span_s``
    symmetrically along the key's own track timestamps (the older reference step)."""
    step = (ctx.timestamps[1] - ctx.timestamps[0]) * 1e-9 if ctx.n_times > 1 else 0.1
    min_len = round(min_span_s / step)
    for uuid, value in scenario.items():
        if isinstance(value, dict):
            _dilate(value, ctx, min_span_s)
            continue
        i = ctx.index.get(uuid)
        if i is None:
            continue
        own = ctx.timestamps[ctx.valid[i]]
        on = np.isin(own, list(value))
        k = 0
        while k < len(on):
            if not on[k]:
                k += 1
                continue
            left, right = k - 1, k + 1
            while right < len(on) and on[right]:
                right += 1
            for _ in range((min_len - (right - left - 1)) // 2):
                if left >= 0:
                    on[left] = True
                    left -= 1
                if right < len(on):
                    on[right] = True
                    right += 1
            k = right
        scenario[uuid] = own[on].tolist()


def _descendants(value: dict, out: dict) -> None:
    for uuid, child in value.items():
        out.setdefault(uuid, set()).update(timestamps_of(child))
        if isinstance(child, dict):
            _descendants(child, out)


def post_process(scenario: dict, log_dir, relationship_distance: float | None = RELATIONSHIP_DISTANCE_M,
                 min_timesteps: int = 0, dilate_s: float | None = None, legacy: bool = False,
                 eval_only: bool = True) -> tuple[dict, dict]:
    """Referred and related objects after the reference's post-processing.

    Default (the current reference): drop empty branches and related objects never within
    ``relationship_distance`` m of their referred object. ``legacy=True`` adds the older
    steps: drop referrals of fewer than 2 timestamps, dilate short runs to 1.5 s (or set
    ``min_timesteps`` / ``dilate_s`` yourself). Related objects are those below a referred
    track that are never referred themselves (what the reference labels RELATED_OBJECT).
    Returns ``(referred, related)``: uuid -> sorted int64 timestamps, restricted to the
    2 Hz evaluation timestamps when ``eval_only`` (uuids left empty are dropped).
    """
    ctx = get_context(log_dir)
    if legacy:
        min_timesteps, dilate_s = max(min_timesteps, 2), dilate_s or 1.5
    result = remove_empty_branches(deepcopy(scenario))
    if min_timesteps:
        _filter_by_length(result, min_timesteps)
    if relationship_distance is not None and not is_empty(result):
        _filter_relationship_distance(result, ctx, relationship_distance)
    if dilate_s:
        _dilate(result, ctx, dilate_s)
    referred = track_dict(result)
    related: dict = {}
    for uuid, value in result.items():
        if isinstance(value, dict) and uuid in referred:
            _descendants(value, related)
    related = {u: sorted(ts) for u, ts in related.items() if u not in referred and ts}
    keep = set(ctx.log.eval_timestamps.tolist()) if eval_only else None
    return _finish(referred, ctx, keep), _finish(related, ctx, keep)


def _finish(objects: dict, ctx: LogContext, keep) -> dict:
    """uuid -> int64 array of the timestamps where the track is annotated (and kept)."""
    out = {}
    for uuid, ts in objects.items():
        i = ctx.index.get(uuid)
        if i is None:
            continue
        own = set(ctx.timestamps[ctx.valid[i]].tolist())
        ts = [t for t in ts if t in own and (keep is None or t in keep)]
        if ts:
            out[uuid] = np.array(sorted(ts), dtype=np.int64)
    return out
