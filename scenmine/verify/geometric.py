"""The offline (geometric) verifier: evidence from the tracks, score under tunable limits.

``geometric_evidence`` is computed once per pair (and cached): for every referred track at
every 2 Hz evaluation timestamp where it is referred, its distance to the ego, to the
drivable area and to the nearest related object. ``geometric_score`` turns that into a score
in [0, 1] under limits that can be tuned without recomputing anything.
"""
from __future__ import annotations

import numpy as np

EVAL_PERIOD_S = 0.5
_ROAD_CACHE: dict[str, object] = {}
DEFAULT_LIMITS = {"min_persistence_s": 1.5, "max_ego_dist_m": 50.0, "max_road_dist_m": 5.0,
                  "max_related_dist_m": 50.0}


def _drivable(log):
    key = str(log.log_dir)
    if key not in _ROAD_CACHE:
        import shapely

        polys = [shapely.Polygon(np.asarray(a.xyz)[:, :2]) for a in log.map.vector_drivable_areas.values()]
        _ROAD_CACHE[key] = shapely.union_all([p.buffer(0) for p in polys if len(p.exterior.coords) >= 4])
        while len(_ROAD_CACHE) > 16:
            _ROAD_CACHE.pop(next(iter(_ROAD_CACHE)))
    return _ROAD_CACHE[key]


def road_distance(log, xy_city: np.ndarray) -> np.ndarray:
    """Distance (m) of city-frame points to the drivable area (0 inside; NaN without a map)."""
    import shapely

    try:
        area = _drivable(log)
    except Exception:  # noqa: BLE001 - a log without a map: unknown road distance
        return np.full(len(xy_city), np.nan)
    return shapely.distance(shapely.points(xy_city), area) if len(xy_city) else np.zeros(0)


def geometric_evidence(log, referred: dict, related: dict) -> dict:
    """Per (referred track, evaluation timestamp): track number, eval index, ego/road/related distance."""
    eval_ts = np.asarray(log.eval_timestamps, dtype=np.int64)
    eval_cols = np.searchsorted(np.asarray(log.timestamps), eval_ts)
    index = log.track_index
    rel_rows = [index[u] for u in related if u in index]
    rel_active = np.zeros((len(rel_rows), len(eval_ts)), bool)
    for r, uid in enumerate(u for u in related if u in index):
        rel_active[r] = np.isin(eval_ts, np.asarray(related[uid], dtype=np.int64))
    out = {"track": [], "k": [], "ego": [], "rel": [], "xy": []}
    for n, (uid, ts) in enumerate(referred.items()):
        i = index.get(uid)
        if i is None:
            continue
        ks = np.flatnonzero(np.isin(eval_ts, np.asarray(ts, dtype=np.int64)))
        ks = ks[log.valid[i, eval_cols[ks]]]
        if not len(ks):
            continue
        js = eval_cols[ks]
        xy = log.translation_city[i, js, :2]
        if rel_rows:
            d = np.linalg.norm(log.translation_city[rel_rows][:, js, :2] - xy[None], axis=-1)
            d = np.where(rel_active[:, ks] & np.isfinite(d), d, np.inf).min(axis=0)
        else:
            d = np.full(len(ks), np.nan)
        out["track"] += [n] * len(ks)
        out["k"] += ks.tolist()
        out["ego"] += np.linalg.norm(log.translation_ego[i, js, :2], axis=-1).tolist()
        out["rel"] += d.tolist()
        out["xy"].append(xy)
    xy = np.vstack(out.pop("xy")) if out["xy"] else np.zeros((0, 2))
    out["road"] = road_distance(log, xy).tolist()
    out["has_related"] = bool(rel_rows)
    for key in ("ego", "rel", "road"):  # JSON-safe: NaN -> None, inf -> 1e9
        out[key] = [None if np.isnan(x) else round(float(min(x, 1e9)), 2) for x in out[key]]
    return out


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def longest_runs(track: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Longest run of consecutive evaluation indices per track (one value per distinct track)."""
    if not len(k):
        return np.zeros(0, int)
    order = np.lexsort((k, track))
    t, kk = track[order], k[order]
    new = np.r_[True, (t[1:] != t[:-1]) | (kk[1:] != kk[:-1] + 1)]
    run_id = np.cumsum(new) - 1
    lengths = np.bincount(run_id)
    run_track = t[new]
    return np.array([lengths[run_track == u].max() for u in np.unique(run_track)])


def geometric_score(evidence: dict, limits: dict | None = None) -> float:
    """min(1, longest in-limits run of a referred track / min_persistence_s); 0 with no evidence.

    A (track, timestamp) is in limits when it is within ``max_ego_dist_m`` of the ego, within
    ``max_road_dist_m`` of the drivable area and (pairs with related objects) within
    ``max_related_dist_m`` of a related object. Unknown distances count as in limits.
    """
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    track, k = np.asarray(evidence["track"], int), np.asarray(evidence["k"], int)
    if not len(k):
        return 0.0
    ego, road, rel = _arr(evidence["ego"]), _arr(evidence["road"]), _arr(evidence["rel"])
    ok = ~(ego > lim["max_ego_dist_m"]) & ~(road > lim["max_road_dist_m"])
    if evidence.get("has_related"):
        ok &= ~(rel > lim["max_related_dist_m"])
    runs = longest_runs(track[ok], k[ok])
    best_s = (runs.max() if len(runs) else 0) * EVAL_PERIOD_S
    if lim["min_persistence_s"] <= 0:
        return float(best_s > 0)
    return float(min(1.0, best_s / lim["min_persistence_s"]))


def evidence_summary(evidence: dict) -> dict:
    """Columns for the scores table (threshold-independent)."""
    ego, road, rel = _arr(evidence["ego"]), _arr(evidence["road"]), _arr(evidence["rel"])
    runs = longest_runs(np.asarray(evidence["track"], int), np.asarray(evidence["k"], int))
    nanmed = lambda a: float(np.nanmedian(a)) if len(a) and np.isfinite(a).any() else np.nan
    return {"geo_persistence_s": float(runs.max() * EVAL_PERIOD_S) if len(runs) else 0.0,
            "geo_min_ego_dist_m": float(np.nanmin(ego)) if len(ego) else np.nan,
            "geo_median_ego_dist_m": nanmed(ego), "geo_median_road_dist_m": nanmed(road),
            "geo_median_related_dist_m": nanmed(rel[rel < 1e8]) if len(rel) else np.nan}
