"""Relational DSL functions on hand-built logs whose answers can be checked by hand.

A small synthetic log: the ego parked at the city origin (identity poses, so ego frame = city
frame), three parallel eastbound lanes 3.5 m wide (y in [-1.75, 1.75], [1.75, 5.25],
[5.25, 8.75]) and whatever tracks a test places, sampled at 10 Hz.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.ndimage import median_filter
from synthetic_log import write_log  # tests/dsl/synthetic_log.py (on sys.path)

from scenmine.dsl import relational as R
from scenmine.dsl import scenario as S
from scenmine.dsl.relational_geometry import smooth_points

T = 40
TS = 1_000_000_000 + np.arange(T, dtype=np.int64) * 100_000_000
LANE_W = 3.5


def _lane(lid, y0, left=None, right=None):
    pts = lambda y: [{"x": float(x), "y": y, "z": 0.0} for x in (-100.0, 0.0, 100.0)]  # noqa: E731
    return {"id": lid, "is_intersection": False, "lane_type": "VEHICLE",
            "left_lane_boundary": pts(y0 + LANE_W / 2), "right_lane_boundary": pts(y0 - LANE_W / 2),
            "left_lane_mark_type": "DASHED_WHITE", "right_lane_mark_type": "DASHED_WHITE",
            "left_neighbor_id": left, "right_neighbor_id": right, "predecessors": [], "successors": []}


def _write_map(folder):
    lanes = {"1": _lane(1, 0.0, left=2), "2": _lane(2, LANE_W, left=3, right=1),
             "3": _lane(3, 2 * LANE_W, right=2)}
    area = [{"x": x, "y": y, "z": 0.0} for x, y in ((-100, -2), (100, -2), (100, 9), (-100, 9))]
    data = {"lane_segments": lanes, "pedestrian_crossings": {},
            "drivable_areas": {"1": {"id": 1, "area_boundary": area}}}
    (folder / "map").mkdir()
    (folder / "map" / "log_map_archive_synthetic.json").write_text(json.dumps(data))


def make_log(tmp_path, tracks: dict):
    """tracks: uuid -> (category, (T,2) xy or callable(t_s) -> (x, y), yaw, (l, w), frames)."""
    boxes = [(j, uuid, cat, *path(j * 0.1), yaw, size)
             for uuid, (cat, path, yaw, size, frames) in tracks.items() for j in frames]
    return write_log(tmp_path / "synthetic", TS, boxes, _write_map)


ALL = range(T)
CAR = (4.0, 2.0)


def ts(frames):
    return [int(TS[j]) for j in frames]


def related_ts(result, uuid, rel):
    return S.timestamps_of(result.get(uuid, {}).get(rel, []))


# ----------------------------------------------------------------------------- crossings
@pytest.fixture
def crossing_log(tmp_path):
    """A parked car facing east at (20, 0); a pedestrian 6 m ahead of it walking north at
    1.5 m/s from y=-6 (crosses the car's forward midplane at t=4 s)."""
    return make_log(tmp_path, {
        "car": ("REGULAR_VEHICLE", lambda t: (20.0, 0.0), 0.0, CAR, ALL),
        "ped": ("PEDESTRIAN", lambda t: (26.0, -6.0 + 1.5 * t), np.pi / 2, (0.5, 0.5), ALL),
    })


def test_pedestrian_crossing_the_forward_midplane(crossing_log):
    res = R.being_crossed_by({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log)
    y = -6.0 + 1.5 * np.arange(T) * 0.1
    # moving left (+y) past the car's sides: related from the start while y < lateral_thresh (5)
    assert related_ts(res, "car", "ped") == ts(np.flatnonzero(y < 5))
    # it moves counterclockwise (from the track's right to its left), never clockwise
    assert related_ts(R.being_crossed_by({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log,
                                         in_direction="clockwise"), "car", "ped") == []
    assert related_ts(R.being_crossed_by({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log,
                                         in_direction="counterclockwise"), "car", "ped") \
        == ts(np.flatnonzero(y < 5))
    # the plane reaches 1 m past the front: a pedestrian 6 m ahead (4 m past the front) is out
    assert related_ts(R.being_crossed_by({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log,
                                         forward_thresh=1), "car", "ped") == []
    # the left half-midplane is never crossed
    assert related_ts(R.being_crossed_by({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log,
                                         direction="left"), "car", "ped") == []


def test_crossing_restricted_to_scenario_timestamps(crossing_log):
    res = R.being_crossed_by({"car": ts(range(10))}, {"ped": ts(ALL)}, crossing_log)
    assert related_ts(res, "car", "ped") == ts(range(10))
    rev = S.reverse_relationship(R.being_crossed_by)({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log)
    assert set(rev) == {"ped"} and set(rev["ped"]) == {"car"}


def test_facing_toward_cone(crossing_log):
    res = R.facing_toward({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log)
    y = -6.0 + 1.5 * np.arange(T) * 0.1
    expect = np.abs(np.degrees(np.arctan2(y, 6.0))) <= 22.5
    assert related_ts(res, "car", "ped") == ts(np.flatnonzero(expect))
    # footprint distance 6 - 2 - 0.25 = 3.75 m at closest: max_distance 3 excludes it
    assert related_ts(R.facing_toward({"car": ts(ALL)}, {"ped": ts(ALL)}, crossing_log,
                                      max_distance=3), "car", "ped") == []


# ----------------------------------------------------------------------------- lanes
@pytest.fixture
def lanes_log(tmp_path):
    """Car 'a' in lane 1, car 'b' two lanes over (lane 3) alongside it, car 'c' 15 m ahead of 'a'
    in lane 1 and an oncoming car 'd' in lane 2 heading west (drifting a little: the reference's
    'opposite' excludes exactly 180 degrees); all at 8 m/s."""
    return make_log(tmp_path, {
        "a": ("REGULAR_VEHICLE", lambda t: (-40 + 8 * t, 0.0), 0.0, CAR, ALL),
        "b": ("REGULAR_VEHICLE", lambda t: (-40 + 8 * t, 2 * LANE_W), 0.0, CAR, ALL),
        "c": ("REGULAR_VEHICLE", lambda t: (-25 + 8 * t, 0.0), 0.0, CAR, ALL),
        "d": ("REGULAR_VEHICLE", lambda t: (40 - 8 * t, LANE_W + 0.02 * t), np.pi, CAR, ALL),
    })


def test_vehicle_two_lanes_over(lanes_log):
    cars = S.to_scenario_dict(["a", "b", "c", "d"], lanes_log)
    a = {"a": cars["a"]}
    left = R.has_objects_in_relative_direction(a, cars, lanes_log, direction="left", lateral_thresh=1)
    assert set(left["a"]) == {"b", "d"} or set(left["a"]) == {"b"}
    assert related_ts(left, "a", "b") == ts(ALL)
    # 'b' is 7 m to the left: 5 m between the 2 m wide footprints
    assert R.has_objects_in_relative_direction(a, {"b": cars["b"]}, lanes_log, direction="left",
                                               within_distance=4.9)["a"] == {}
    assert related_ts(R.has_objects_in_relative_direction(a, {"b": cars["b"]}, lanes_log,
                                                          direction="left", within_distance=5.1),
                      "a", "b") == ts(ALL)
    same_lane = R.in_same_lane(a, cars, lanes_log)
    assert set(same_lane["a"]) == {"c"}
    side = R.on_relative_side_of_road(a, cars, lanes_log, side="same")
    assert set(side["a"]) == {"b", "c", "d"}  # lane boundaries coincide: one road side
    assert R.on_relative_side_of_road(a, cars, lanes_log, side="opposite")["a"] == {}
    with pytest.raises(ValueError):
        R.on_relative_side_of_road(a, cars, lanes_log)


def test_following_and_relative_heading(lanes_log):
    cars = S.to_scenario_dict(["a", "b", "c", "d"], lanes_log)
    fol = R.following({"a": cars["a"]}, cars, lanes_log)
    assert set(fol["a"]) == {"c"} and related_ts(fol, "a", "c") == ts(ALL)
    assert R.following({"c": cars["c"]}, {"a": cars["a"]}, lanes_log)["c"] == {}
    opp = R.heading_in_relative_direction_to({"a": cars["a"]}, cars, lanes_log, direction="opposite")
    assert set(opp["a"]) == {"d"}
    same = R.heading_in_relative_direction_to({"a": cars["a"]}, cars, lanes_log, direction="same")
    assert set(same["a"]) == {"b", "c"}
    assert R.heading_in_relative_direction_to({"a": cars["a"]}, cars, lanes_log,
                                              direction="perpendicular")["a"] == {}


def test_get_objects_in_relative_direction_swaps_roles(lanes_log):
    cars = S.to_scenario_dict(["a", "b", "c", "d"], lanes_log)
    ahead = R.get_objects_in_relative_direction({"a": cars["a"]}, cars, lanes_log, direction="forward",
                                                lateral_thresh=0.5)
    assert set(ahead) == {"c"} and set(ahead["c"]) == {"a"}
    # unknown direction strings match nothing (reference behaviour)
    assert R.get_objects_in_relative_direction({"a": cars["a"]}, cars, lanes_log,
                                               direction="front") == {}


# ----------------------------------------------------------------------------- counting
@pytest.fixture
def peds_log(tmp_path):
    """Ego at the origin; pedestrians standing 6, 9 and 14 m ahead of it; one walking toward it
    at 6 m/s from 30 m and one at 3 m/s from 20 m, both on the x axis offset sideways."""
    return make_log(tmp_path, {
        "p6": ("PEDESTRIAN", lambda t: (6.0, 0.0), 0.0, (0.5, 0.5), ALL),
        "p9": ("PEDESTRIAN", lambda t: (9.0, 0.5), 0.0, (0.5, 0.5), ALL),
        "p14": ("PEDESTRIAN", lambda t: (14.0, -0.5), 0.0, (0.5, 0.5), ALL),
        "fast": ("PEDESTRIAN", lambda t: (-30 + 6 * t, 3.0), 0.0, (0.5, 0.5), range(20)),
        "slow": ("PEDESTRIAN", lambda t: (-20 + 3 * t, -3.0), 0.0, (0.5, 0.5), ALL),
    })


def test_max_number_relates_the_closest(peds_log):
    peds = S.to_scenario_dict(["p6", "p9", "p14"], peds_log)
    ego = {"ego": ts(ALL)}
    res = R.has_objects_in_relative_direction(ego, peds, peds_log, direction="forward", max_number=1)
    assert set(res["ego"]) == {"p6"}
    res = R.has_objects_in_relative_direction(ego, peds, peds_log, direction="forward", min_number=3)
    assert set(res["ego"]) == {"p6", "p9", "p14"}
    assert R.has_objects_in_relative_direction(ego, peds, peds_log, direction="forward",
                                               min_number=4)["ego"] == {}
    near = R.near_objects(ego, peds, peds_log, distance_thresh=10, min_objects=2)
    assert set(near["ego"]) == {"p6", "p9"}
    group = S.reverse_relationship(R.near_objects)(ego, peds, peds_log, distance_thresh=20, min_objects=3)
    assert set(group) == {"p6", "p9", "p14"}


def test_ego_box_quirk(peds_log):
    """The ego's front is 3.86 m ahead of its origin; its 'back' is +1.02 m (reference quirk)."""
    ego = {"ego": ts(ALL)}
    peds = S.to_scenario_dict(["p6"], peds_log)
    back = R.has_objects_in_relative_direction(ego, peds, peds_log, direction="backward")
    assert back["ego"] == {}
    fwd = R.has_objects_in_relative_direction(ego, peds, peds_log, direction="forward")
    assert related_ts(fwd, "ego", "p6") == ts(ALL)


def test_heading_toward_speed_is_per_frame(peds_log):
    peds = S.to_scenario_dict(["fast", "slow"], peds_log)
    ego = {"ego": ts(ALL)}
    res = R.heading_toward(peds, ego, peds_log, angle_threshold=45)
    # 6 m/s is 0.6 m per frame (>= 0.5); 3 m/s is 0.3 m per frame
    assert "ego" in res["fast"] and res["slow"] == {}
    res = R.heading_toward(peds, ego, peds_log, angle_threshold=45, minimum_speed=0.2)
    assert "ego" in res["slow"]


# ----------------------------------------------------------------------------- edge cases
def test_empty_and_disjoint_inputs(peds_log):
    peds = S.to_scenario_dict(["p6", "p9"], peds_log)
    for fn in R.RELATIONAL_FUNCTIONS.values():
        kw = {"direction": "forward"} if "direction" in fn.__code__.co_varnames[3:4] else {}
        if fn.__name__ == "heading_in_relative_direction_to":
            kw = {"direction": "same"}
        if fn.__name__ == "on_relative_side_of_road":
            kw = {"side": "same"}
        assert fn({}, peds, peds_log, **kw) == {}
        assert fn(peds, {}, peds_log, **kw) == {}
    # related candidates with no common timestamps: the tracks drop out
    assert R.near_objects({"p6": ts(range(5))}, {"p9": ts(range(10, 20))}, peds_log) == {}
    # a timestamp the related track is not annotated at still counts as 'present'
    res = R.near_objects({"p6": ts(range(25, 30))}, {"fast": ts(range(25, 30))}, peds_log)
    assert res == {"p6": {}}


def test_tracks_seen_once(tmp_path):
    log = make_log(tmp_path, {
        "once": ("PEDESTRIAN", lambda t: (5.0, 0.0), 0.0, (0.5, 0.5), [10]),
        "car": ("REGULAR_VEHICLE", lambda t: (0.0, 20.0), 0.0, CAR, ALL),
        "other": ("PEDESTRIAN", lambda t: (5.0, 1.0), 0.0, (0.5, 0.5), [10, 11]),
    })
    ego = {"ego": ts(ALL)}
    once = {"once": ts([10])}
    assert related_ts(R.near_objects(ego, once, log, distance_thresh=5), "ego", "once") == ts([10])
    assert related_ts(R.near_objects(once, {"other": ts([10, 11])}, log, distance_thresh=2),
                      "once", "other") == ts([10])
    for fn, kw in ((R.heading_toward, {}), (R.being_crossed_by, {}), (R.following, {}),
                   (R.facing_toward, {}), (R.heading_in_relative_direction_to, {"direction": "same"}),
                   (R.in_same_lane, {})):
        out = fn(once, {"car": ts(ALL), "other": ts([10, 11])}, log, **kw)
        assert set(out) <= {"once"}


def test_nested_relational_inputs(lanes_log):
    cars = S.to_scenario_dict(["a", "b", "c", "d"], lanes_log)
    near = R.near_objects({"a": cars["a"]}, cars, lanes_log, distance_thresh=20)    # a -> {b, c, ...}
    assert "c" in near["a"]
    # relational track input: earlier relations are kept next to the new ones
    nested = R.in_same_lane(near, cars, lanes_log)
    assert "c" in nested["a"] and "b" in nested["a"]
    # relational related input: the related object's own subtree is carried
    fol = R.following({"a": cars["a"]}, R.near_objects({"c": cars["c"]}, cars, lanes_log,
                                                      distance_thresh=20), lanes_log)
    assert isinstance(fol["a"]["c"], dict) and "a" in fol["a"]["c"]
    both = S.scenario_and([near, cars])
    assert "a" in both and "a" in both["a"]                 # reference quirk: self under itself
    either = S.scenario_or([near, {"d": cars["d"]}])
    assert set(either) == {"a", "d"}
    not_near = S.scenario_not(R.near_objects)(cars, cars, lanes_log, distance_thresh=1)
    assert set(not_near) == set(cars) and not_near["a"] == cars["a"]
    rev = S.reverse_relationship(R.in_same_lane)(near, cars, lanes_log)
    assert "c" in rev and "a" in rev["c"]


# ----------------------------------------------------------------------------- smoothing
def test_pair_restricted_smoothing_matches_scipy():
    """smooth_points on arbitrary sample masks equals scipy's median filter of the samples."""
    rng = np.random.default_rng(0)
    N, TT = 6, 30
    X = rng.normal(size=(N, TT, 3)).cumsum(axis=1)
    t = (np.arange(TT) * 1e8 + rng.integers(0, 1000, TT)).astype(np.int64)
    t.sort()
    mask = rng.random((N, TT)) < 0.6
    mask[0] = False
    mask[0, 5] = True                       # a sequence of one sample
    mask[1, :] = False
    mask[1, 3:7] = True                     # a short sequence (window 4)
    qs, qt = np.nonzero(mask)
    for deriv in (0, 1):
        got = smooth_points(X, t, mask, np.arange(N), qs, qt, deriv)
        for s in range(N):
            cols = np.flatnonzero(mask[s])
            vals = X[s, cols]
            if deriv:
                if len(cols) == 1:
                    vals = np.zeros_like(vals)
                else:
                    i = np.arange(len(cols))
                    nx, pv = np.minimum(i + 1, len(cols) - 1), np.maximum(i - 1, 0)
                    vals = (vals[nx] - vals[pv]) * 1e9 / (t[cols][nx] - t[cols][pv])[:, None]
            if len(cols) > 1:
                vals = median_filter(vals, size=min(7, len(cols)), mode="nearest", axes=0)
            np.testing.assert_allclose(got[qs == s], vals, atol=1e-9)
