"""Scripted ground truth: which tracks satisfy each prompt at which timestamps.

Computed from the exact scripted state (positions, headings, speeds, accelerations, lanes),
with the thresholds of the RefAV definitions the canonical programs use, so that the truth
covers every actor, also ones that satisfy a prompt by coincidence. Then the benchmark's
annotation rules (``benchmark_rules``): a referred track counts only if it satisfies the
prompt for at least 1.5 s in a row while within 50 m of the ego and 5 m of the drivable area;
near misses (brief blips, tracks seen for a moment, far or off-road objects) are left out.
"""
from __future__ import annotations

import numpy as np
import shapely

from scenmine.data.synthetic.motion import Actor
from scenmine.data.synthetic.world import World

VEHICLES = {"EGO_VEHICLE", "ARTICULATED_BUS", "BOX_TRUCK", "BUS", "LARGE_VEHICLE", "MOTORCYCLE",
            "RAILED_VEHICLE", "REGULAR_VEHICLE", "SCHOOL_BUS", "TRUCK", "TRUCK_CAB"}
Result = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]  # referred, related: uuid -> (T,) bool
MIN_PERSISTENCE_S = 1.5  # benchmark: referred tracks persist >= 1.5 s (3 evaluation timestamps)
MAX_EGO_DIST_M = 50.0    # ... only objects within 50 m of the ego are annotated
MAX_ROAD_DIST_M = 5.0    # ... and within 5 m of the drivable area
FRAME_S = 0.1


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a (T,) mask."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def annotatable(world: World, ego: Actor, every: list[Actor]) -> np.ndarray:
    """(N, T) bool: within MAX_EGO_DIST_M of the ego and MAX_ROAD_DIST_M of the drivable area."""
    pos = np.stack([a.pos for a in every])
    near = np.linalg.norm(pos - ego.pos[None], axis=-1) <= MAX_EGO_DIST_M
    road = shapely.union_all([shapely.Polygon(p) for p in world.areas.values()])
    off = shapely.distance(road, shapely.points(pos.reshape(-1, 2))).reshape(pos.shape[:2])
    return near & (off <= MAX_ROAD_DIST_M)


def benchmark_rules(mask: np.ndarray, ok: np.ndarray) -> bool:
    """Whether annotators would count a referred track: ``mask`` holds for >= 1.5 s in a row
    where the track is annotatable (``ok``)."""
    return longest_run(mask & ok) * FRAME_S >= MIN_PERSISTENCE_S - 1e-9


def footprints(a: Actor) -> np.ndarray:
    """(T,) shapely boxes of the actor's footprint (None where invalid)."""
    l, w = a.size[0] / 2, a.size[1] / 2
    c, s = np.cos(a.yaw), np.sin(a.yaw)
    corners = np.array([[l, w], [-l, w], [-l, -w], [l, -w]])
    xy = a.pos[:, None, :] + np.einsum("tij,kj->tki", np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1), corners)
    return shapely.polygons(xy)


def lanes_of(world: World, actors: list[Actor]) -> np.ndarray:
    """(N, T) lane id under each actor's centroid (-1: none); route lanes win in the box."""
    road = [ln for ln in world.lanes.values() if not ln.is_intersection]
    box = [ln for ln in world.lanes.values() if ln.is_intersection]
    pos = np.stack([a.pos for a in actors])
    out = np.full(pos.shape[:2], -1, np.int64)
    x, y = pos[..., 0], pos[..., 1]
    for ln in box + road:  # road lanes are disjoint; they overwrite connectors where they meet
        out[shapely.contains_xy(shapely.Polygon(ln.polygon), x, y)] = ln.id
    for n, a in enumerate(actors):
        for lid in a.route:
            ln = world.lanes[lid]
            if ln.is_intersection:
                hit = shapely.contains_xy(shapely.Polygon(ln.polygon), x[n], y[n])
                out[n, hit & np.isin(out[n], [b.id for b in box])] = lid
    return out


def turns(a: Actor, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left / right turning masks: same-sign yaw-rate runs turning more than 45 degrees."""
    idx = np.flatnonzero(a.valid)
    left, right = np.zeros(len(a.valid), bool), np.zeros(len(a.valid), bool)
    if len(idx) < 3:
        return left, right
    yaw = np.unwrap(a.yaw[idx])
    rate = np.gradient(yaw) / dt[idx]
    sign = np.where(np.abs(rate) > np.radians(0.5), np.sign(rate), 0)
    edges = np.flatnonzero(np.diff(sign) != 0) + 1
    for run in np.split(np.arange(len(idx)), edges):
        total = np.degrees(np.sum(rate[run] * dt[idx][run]))
        if sign[run[0]] > 0 and total > 45:
            left[idx[run]] = True
        elif sign[run[0]] < 0 and total < -45:
            right[idx[run]] = True
    return left, right


def at_crossing(world: World, a: Actor, fp: np.ndarray, within: float = 1.0) -> np.ndarray:
    """Footprint within ``within`` m of a crossing, iterating crossings as the reference does.

    The reference only checks, at each timestamp, the crossings the object overlapped at the
    previous one (all of them at its first timestamp), so a track that does not start on a
    crossing is never at one.
    """
    polys = [shapely.Polygon(p) for p in world.crossing_polygons()]
    grown = [p.buffer(within, join_style="mitre") for p in polys]
    out = np.zeros(len(a.valid), bool)
    current = list(range(len(polys)))
    for j in np.flatnonzero(a.valid):
        if not current:
            break
        out[j] = any(shapely.intersects(grown[k], fp[j]) for k in current)
        current = [k for k in range(len(polys)) if shapely.intersects(polys[k], fp[j])]
    return out


def compute(world: World, ego: Actor, actors: list[Actor], t: np.ndarray) -> dict[str, Result]:
    """Per prompt key (see prompts.py), referred and related masks per uuid."""
    every = [ego] + actors
    dt = np.gradient(t)
    lane = lanes_of(world, every)
    lane_type = np.vectorize(lambda i: world.lanes[i].lane_type if i >= 0 else "", otypes=[object])(lane)
    fps = {a.uuid: footprints(a) for a in every}
    veh = [k for k, a in enumerate(every) if a.category in VEHICLES]
    peds = [k for k, a in enumerate(every) if a.category == "PEDESTRIAN"]
    valid = np.stack([a.valid for a in every])
    ok = annotatable(world, ego, every) & valid
    res: dict[str, Result] = {}

    def flat(masks: dict[int, np.ndarray]) -> Result:
        return {every[k].uuid: m & valid[k] for k, m in masks.items()
                if benchmark_rules(m & valid[k], ok[k])}, {}

    extent = {k: np.linalg.norm(np.ptp(every[k].pos[valid[k]], axis=0)) for k in veh}
    parked = {k for k in veh if extent[k] < 3.0}
    turn = {k: turns(every[k], dt) for k in veh}
    res["turn_left"] = flat({k: turn[k][0] for k in veh})
    res["turn_right"] = flat({k: turn[k][1] for k in veh})
    res["lane_change"] = flat({k: every[k].lane_change & ~turn[k][0] & ~turn[k][1]
                               for k in veh if every[k].lane_change is not None})
    res["parked"] = flat({k: valid[k] for k in parked})
    inter = shapely.union_all([shapely.Polygon(ln.polygon) for ln in world.lanes.values() if ln.is_intersection])
    res["stopped_intersection"] = flat({
        k: (every[k].speed <= 0.5) & (shapely.distance(inter, shapely.points(every[k].pos)) <= 5.0)
        for k in veh if k not in parked})
    crossing = {k: at_crossing(world, every[k], fps[every[k].uuid]) for k in peds}
    res["ped_crossing"] = flat({k: crossing[k] & (every[k].speed >= 0.5) for k in peds})
    res["jaywalk"] = flat({k: (lane[k] >= 0) & ~crossing[k] for k in peds})
    res["bus_lane"] = flat({k: lane_type[k] == "BUS" for k, a in enumerate(every) if a.category == "BUS"})
    res["bike_lane"] = flat({k: lane_type[k] == "BIKE" for k, a in enumerate(every)
                             if a.category in ("BICYCLE", "BICYCLIST")})
    bikes = [k for k, a in enumerate(every) if a.category == "BICYCLE"]
    res["bike_right"] = relational(every, veh, bikes, fps, valid, _right_of, ok=ok)
    res["near_peds"] = relational(every, veh, peds, fps, valid, _near, min_count=2, ok=ok)
    res["follow"] = relational(every, [0], [k for k in veh if k != 0], fps, valid,
                               lambda ev, i, j, d: _follows(ev, lane, world, i, j), ok=ok)
    acc = {k: every[k].accel >= 1.0 for k in veh if k not in parked}
    res["accelerating"] = flat(acc)
    return res


def _rel(every, i, j) -> np.ndarray:
    """(T, 2) position of actor j in actor i's frame."""
    a, b = every[i], every[j]
    d = b.pos - a.pos
    c, s = np.cos(a.yaw), np.sin(a.yaw)
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], 1)


def _right_of(every, i, j, dist):
    half_w = 1.0 if every[i].category == "EGO_VEHICLE" else every[i].size[1] / 2
    return (_rel(every, i, j)[:, 1] < -half_w) & (dist <= 10.0)


def _near(every, i, j, dist):
    return dist <= 5.0


def _follows(every, lane, world, i, j):
    """The reference's ``following`` test of track i behind lead j (exact state)."""
    a, b = every[i], every[j]
    rel = _rel(every, i, j)
    half_l, half_w = a.size[0] / 2, a.size[1] / 2
    hb = np.stack([np.cos(b.yaw - a.yaw), np.sin(b.yaw - a.yaw)], 1)
    similar = hb[:, 0] > 0.5
    ahead = (half_l < rel[:, 0]) & (rel[:, 0] < 25 + half_l)
    out = np.zeros(len(rel), bool)
    for t in np.flatnonzero(ahead & similar & (lane[i] >= 0) & (lane[j] >= 0)):
        la, lb = world.lanes[lane[i][t]], world.lanes[lane[j][t]]
        same = la.id == lb.id or lb.id in la.successors
        beside = lb.id in (la.left_neighbor, la.right_neighbor) and (
            -half_w <= rel[t, 1] + b.size[1] / 2 <= half_w or -half_w <= rel[t, 1] - b.size[1] / 2 <= half_w)
        out[t] = (same and abs(rel[t, 1]) < 5) or beside
    return out


def relational(every, tracks, cands, fps, valid, test, min_count: int = 1, ok=None) -> Result:
    """Tracks with at least ``min_count`` candidates passing ``test`` (i, j, distance) -> mask;
    with ``ok`` ((N, T) annotatable), only tracks that pass ``benchmark_rules``."""
    referred, related = {}, {}
    for i in tracks:
        hits = {}
        for j in cands:
            if j == i:
                continue
            both = valid[i] & valid[j]
            if not both.any():
                continue
            dist = np.full(len(both), np.inf)
            dist[both] = shapely.distance(fps[every[i].uuid][both], fps[every[j].uuid][both])
            m = test(every, i, j, dist) & both
            if m.any():
                hits[j] = m
        if not hits:
            continue
        count = np.sum(list(hits.values()), axis=0)
        hit = count >= min_count
        if hit.any() if ok is None else benchmark_rules(hit, ok[i]):
            referred[every[i].uuid] = hit
            for j, m in hits.items():
                if (m & hit).any():
                    related[every[j].uuid] = related.get(every[j].uuid, False) | (m & hit)
    return referred, related
