"""The atoms beyond RefAV's (dsl.map_context, dsl.behaviour) on a hand-built log.

Map (city frame = ego frame, identity ego poses; the synthesised ego sits at the origin):
  a divided east-west road, x in [-100, 100]:
    lane 1 east  y in [-8.5, -5.0]  (curb lane, left neighbour 2)
    lane 2 east  y in [-5.0, -1.5]  (right neighbour 1)
    median       y in [-1.5,  1.5]  (no lane, not drivable)
    lane 3 west  y in [ 1.5,  5.0]  (single lane)
    crosswalk    x in [40, 44] across the whole road
  a one-way road, y in [-100, 100]:
    lane 7 BIKE  x in [203.5, 205] north, listed first
    lane 5 north x in [200, 203.5]
    stop sign at (206, 50) facing south (for northbound traffic)
Tracks run at 10 Hz for 25 s; expected answers follow from the paths by hand.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_log import write_log  # tests/dsl/synthetic_log.py (on sys.path)

from scenmine.dsl import NAMESPACE as D
from scenmine.dsl import scenario as S
from scenmine.dsl.context import get_context
from scenmine.dsl.map_context import road_index
from scenmine.dsl.temporal import close_gaps, drop_short, transitions

HZ, T = 10, 250
TS = 3_000_000_000 + np.arange(T, dtype=np.int64) * 100_000_000
CAR, PED = (4.0, 2.0), (0.6, 0.6)


def _pts(*xy):
    return [{"x": float(x), "y": float(y), "z": 0.0} for x, y in xy]


def _lane(lid, left, right, kind="VEHICLE", left_id=None, right_id=None):
    """A straight lane from its left and right boundary (start, end) points."""
    mid = lambda a, b: ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)  # noqa: E731
    return {"id": lid, "is_intersection": False, "lane_type": kind,
            "left_lane_boundary": _pts(left[0], mid(*left), left[1]),
            "right_lane_boundary": _pts(right[0], mid(*right), right[1]),
            "left_lane_mark_type": "SOLID_YELLOW", "right_lane_mark_type": "SOLID_WHITE",
            "left_neighbor_id": left_id, "right_neighbor_id": right_id, "predecessors": [],
            "successors": []}


def _east(lid, y0, y1, **kw):
    return _lane(lid, ((-100, y1), (100, y1)), ((-100, y0), (100, y0)), **kw)


def write_map(folder):
    lanes = [_east(1, -8.5, -5.0, left_id=2), _east(2, -5.0, -1.5, right_id=1),
             _lane(3, ((100, 1.5), (-100, 1.5)), ((100, 5.0), (-100, 5.0))),   # westbound
             _lane(7, ((203.5, -100), (203.5, 100)), ((205, -100), (205, 100)), "BIKE"),
             _lane(5, ((200, -100), (200, 100)), ((203.5, -100), (203.5, 100)))]
    area = lambda x0, x1, y0, y1: {"area_boundary": _pts((x0, y0), (x1, y0), (x1, y1),  # noqa: E731
                                                          (x0, y1))}
    data = {"lane_segments": {str(ls["id"]): ls for ls in lanes},
            "pedestrian_crossings": {"9": {"id": 9, "edge1": _pts((40, -8.5), (40, 5)),
                                           "edge2": _pts((44, -8.5), (44, 5))}},
            "drivable_areas": {str(i): {"id": i, **a} for i, a in enumerate([
                area(-100, 100, -8.5, -1.5), area(-100, 100, 1.5, 5.0),
                area(200, 205, -100, 100)], 1)}}
    (folder / "map").mkdir()
    (folder / "map" / "log_map_archive_atoms.json").write_text(json.dumps(data))


def integrate(x, y, yaw, phases):
    """Frames of a path: phases of (seconds, signed speed m/s, yaw rate deg/s)."""
    out = []
    for seconds, v, rate in phases:
        for _ in range(int(round(seconds * HZ))):
            out.append((x, y, yaw))
            yaw += np.radians(rate) / HZ
            x += v * np.cos(yaw) / HZ
            y += v * np.sin(yaw) / HZ
    return out


def straight(x0, y0, vx, vy=0.0, frames=range(T)):
    return {j: (x0 + vx * j / HZ, y0 + vy * j / HZ, np.arctan2(vy, vx) if vx or vy else 0.0)
            for j in frames}


def make_log(tmp_path, tracks: dict):
    """tracks: uuid -> (category, {frame: (x, y, yaw)}, (length, width))."""
    boxes = [(j, uuid, cat, x, y, yaw, size) for uuid, (cat, path, size) in tracks.items()
             for j, (x, y, yaw) in path.items()]
    return write_log(tmp_path / "atoms", TS, boxes, write_map)


def frames_of(path_list, start=0):
    return {start + j: p for j, p in enumerate(path_list)}


# ---- paths -------------------------------------------------------------------------------
# U-turn: east in lane 2 at 5 m/s for 5 s, a 180-degree left arc (36 deg/s for 5 s), west.
U_TURN = frames_of(integrate(-60, -3.25, 0.0, [(5, 5, 0), (5, 5, 36), (10, 5, 0)]))
# the same with one frame missing in the arc and a one-frame 180-degree yaw flip on the way in
U_TURN_NOISY = {j: (x, y, yaw + (np.pi if j == 20 else 0)) for j, (x, y, yaw) in U_TURN.items()
                if j != 75}
# a 90-degree turn
RIGHT_ANGLE = frames_of(integrate(-60, -6.75, 0.0, [(5, 5, 0), (3, 5, 30), (10, 5, 0)]))
# K-turn: forward left 90 deg, reverse while turning 45, forward 45, then away
K_TURN = frames_of(integrate(-20, -6.75, 0.0, [(2, 3, 0), (3, 2, 30), (0.5, 0, 0), (1.5, -2, 30),
                                               (0.5, 0, 0), (1.5, 2, 30), (4, 3, 0)]))
# straight at 8 m/s with a 180-degree box flip for two frames (tracker jitter)
FLIPPY = {j: (x, y, yaw + (np.pi if j in (50, 51) else 0))
          for j, (x, y, yaw) in straight(-90, -3.25, 8.0).items()}
# the same with the box heading flipped for 1.5 s (10 s to 11.5 s): looks like reversing
FLIPPED_LONG = {j: (x, y, yaw + (np.pi if 100 <= j < 115 else 0))
                for j, (x, y, yaw) in straight(-90, -3.25, 8.0, frames=range(200)).items()}
# backing up at 2 m/s between 5 s and 8 s
BACKER = frames_of(integrate(0, -6.75, 0.0, [(5, 0, 0), (3, -2, 0), (5, 0, 0)]))


def _parker():
    """East in lane 1 at 5 m/s, then within 4 s slows and slides right to y = -9.5 (outside
    the lane), rests for 8 s."""
    out = {}
    for j in range(180):
        t = j / HZ
        if t < 5:
            out[j] = (-50 + 5 * t, -6.75, 0.0)
        elif t < 9:
            s = (t - 5) / 4
            out[j] = (-25 + 10 * (s - s * s / 2) * 2, -6.75 - 2.75 * s * s * (3 - 2 * s), 0.0)
        else:
            out[j] = (-25 + 10, -9.5, 0.0)
    return out


def _stopper():
    """Northbound at 8 m/s, stops 3 m before the stop sign (y = 47) for 2 s, then goes."""
    out, y, v = {}, 0.0, 8.0
    for j in range(T):
        t = j / HZ
        out[j] = (201.75, y, np.pi / 2)
        if 40 <= y < 47 and t < 12:
            v = max(0.0, v - 0.8)
        elif t >= 12:
            v = min(8.0, v + 0.4)
        y += v / HZ
    return out


PARKER = _parker()
# the parker played backwards in time and mirrored about its spot: rests, then drives off east
PULLER = {j: (-30 - PARKER[179 - j][0], PARKER[179 - j][1], 0.0) for j in range(180)}
TRAFFIC = {j: (p[0], -3.25, 0.0) for j, p in PARKER.items()}  # stops in lane 2, no slide

TRACKS = {
    "u_turner": ("REGULAR_VEHICLE", U_TURN, CAR),
    "u_noisy": ("REGULAR_VEHICLE", U_TURN_NOISY, CAR),
    "corner": ("REGULAR_VEHICLE", RIGHT_ANGLE, CAR),
    "k_turner": ("REGULAR_VEHICLE", K_TURN, CAR),
    "flippy": ("REGULAR_VEHICLE", FLIPPY, CAR),
    "flipped_long": ("REGULAR_VEHICLE", FLIPPED_LONG, CAR),
    "backer": ("REGULAR_VEHICLE", BACKER, CAR),
    "parker": ("REGULAR_VEHICLE", PARKER, CAR),
    "puller": ("REGULAR_VEHICLE", PULLER, CAR),
    "in_traffic": ("REGULAR_VEHICLE", TRAFFIC, CAR),
    # lanes: lane 1 (curb), lane 2, lane 3 (west), lane 5 (one way)
    "curb_car": ("REGULAR_VEHICLE", straight(-90, -6.75, 0.0, frames=range(40)), CAR),
    "inner_car": ("REGULAR_VEHICLE", straight(-90, -3.25, 0.0, frames=range(40)), CAR),
    "west_car": ("REGULAR_VEHICLE", {j: (90.0, 3.25, np.pi) for j in range(40)}, CAR),
    "one_way_car": ("REGULAR_VEHICLE", {j: (201.75, -80.0, np.pi / 2) for j in range(40)}, CAR),
    # medians: standing on it the whole time; on it for 3 frames only; on the north sidewalk
    "median_ped": ("PEDESTRIAN", {j: (-30.0, 0.0, 0.0) for j in range(40)}, PED),
    "blip_ped": ("PEDESTRIAN", {j: (-40.0, 0.0 if 10 <= j < 14 else 7.5, 0.0)
                                for j in range(40)}, PED),
    "north_ped": ("PEDESTRIAN", {j: (-20.0, 7.0, 0.0) for j in range(40)}, PED),
    # crossing the road at x = 0 (jaywalking) and on the crosswalk at x = 42; walking along
    "jaywalker": ("PEDESTRIAN", straight(0, -10.0, 0.0, 1.2, frames=range(80)), PED),
    "xwalker": ("PEDESTRIAN", straight(42, -10.0, 0.0, 1.2, frames=range(80)), PED),
    "along": ("PEDESTRIAN", straight(-80, -7.0, 1.2, frames=range(80)), PED),
    # a stop sign and two northbound cars: one runs it, one stops
    "sign": ("STOP_SIGN", {j: (206.0, 50.0, -np.pi / 2) for j in range(T)}, (0.2, 0.8)),
    "runner": ("REGULAR_VEHICLE", straight(201.75, 0.0, 0.0, 8.0, frames=range(120)), CAR),
    "stopper": ("REGULAR_VEHICLE", _stopper(), CAR),
    # cut-in: 'slow' drives lane 2 at 10 m/s; 'cutter' 8 m ahead in lane 1 moves over in 2 s
    "slow": ("REGULAR_VEHICLE", straight(-90, -3.25, 10.0, frames=range(100, 160)), CAR),
    "cutter": ("REGULAR_VEHICLE", {j: (-82.0 + j, -6.75 + 3.5 * np.clip((j - 120) / 20, 0, 1),
                                       0.0) for j in range(100, 160)}, CAR),
    # overtaking: 'passer' at 12 m/s in lane 1 passes 'cruiser' at 5 m/s in lane 2
    "cruiser": ("REGULAR_VEHICLE", {j: (-60 + 5 * (j - 160) / HZ, -3.25, 0.0)
                                    for j in range(160, 250)}, CAR),
    "passer": ("REGULAR_VEHICLE", {j: (-80 + 12 * (j - 160) / HZ, -6.75, 0.0)
                                   for j in range(160, 250)}, CAR),
    # yielding: 'yielder' drives lane 2 and stops at x = 17.5 while 'crosser' walks across at
    # x = 24 (6.5 m ahead), y = -10 + 1.2 t, seen from 4 s to 10 s
    "yielder": ("REGULAR_VEHICLE", frames_of(integrate(0, -3.25, 0.0, [(3, 5, 0), (1, 2.5, 0),
                                                                       (6, 0, 0)])), CAR),
    "crosser": ("PEDESTRIAN", straight(24, -10.0, 0.0, 1.2, frames=range(40, 100)), PED),
}
# vehicles after each other ahead of 'viewer' in lane 2 (x = 20 + 10 k), all static
TRACKS.update({f"queue{k}": ("REGULAR_VEHICLE", {j: (30.0 + 10 * k, -3.25, 0.0)
                                                 for j in range(20)}, CAR) for k in range(3)})
TRACKS["viewer"] = ("REGULAR_VEHICLE", {j: (20.0, -3.25, 0.0) for j in range(20)}, CAR)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("atoms"), TRACKS)


def one(log, uuid):
    return {uuid: TS[sorted(TRACKS[uuid][1])].tolist()}


def got(result, uuid):
    return set(S.timestamps_of(result.get(uuid, [])))


def secs(result, uuid):
    return sorted((t - TS[0]) / 1e9 for t in got(result, uuid))


def everyone(log):
    return D["get_objects_of_category"](log, "ANY")


# ---- temporal helpers ------------------------------------------------------------------
def test_gap_closing_and_minimum_runs_by_hand():
    m = np.array([[1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0]], bool)
    assert close_gaps(m, np.array([12]), 1).astype(int).tolist() == \
        [[1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0]]
    assert drop_short(m, 2).astype(int).tolist() == [[0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0]]
    start = np.array([0, 1, 0, 0, 0, 0, 0, 1, 0, 0], bool)
    end = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 0], bool)
    # start at 1, end at 3 within 3 frames; the start at 7 never ends
    assert np.flatnonzero(transitions(start, end, np.ones(10, bool), 3)).tolist() == [1, 2, 3]
    assert not transitions(start, end, np.ones(10, bool), 1).any()
    blocked = np.ones(10, bool)
    blocked[2] = False
    assert not transitions(start, end, blocked, 3).any()


# ---- road layout -----------------------------------------------------------------------
def test_road_index_counts_lanes_by_hand(log):
    ctx = get_context(log)
    road = road_index(ctx)
    q = {int(i): k for k, i in enumerate(ctx.lanes.ids)}
    assert [int(road.lanes[q[i]]) for i in (1, 2, 3, 5, 7)] == [2, 2, 1, 1, 0]
    assert [int(road.from_curb[q[i]]) for i in (1, 2, 3, 5)] == [1, 2, 1, 1]
    assert [int(road.oncoming_lanes[q[i]]) for i in (1, 2, 3, 5)] == [1, 1, 2, 0]
    assert [bool(road.one_way[q[i]]) for i in (1, 2, 3, 5, 7)] == [False, False, False, True,
                                                                     False]


def test_lane_number_and_lane_count(log):
    cars = {u: v for u, v in everyone(log).items()
            if u in ("curb_car", "inner_car", "west_car", "one_way_car")}
    curb1 = D["in_lane_number"](cars, log, number=1)
    assert {u for u, v in curb1.items() if v} == {"curb_car", "west_car", "one_way_car"}
    center1 = D["in_lane_number"](cars, log, number=1, counted_from="center")
    assert {u for u, v in center1.items() if v} == {"inner_car", "west_car", "one_way_car"}
    assert got(curb1, "curb_car") == set(TS[:40].tolist())
    two = D["on_road_with_lanes"](cars, log, min_lanes=2)
    assert {u for u, v in two.items() if v} == {"curb_car", "inner_car"}
    three_total = D["on_road_with_lanes"](cars, log, min_lanes=3, max_lanes=3,
                                          both_directions=True)
    assert {u for u, v in three_total.items() if v} == {"curb_car", "inner_car", "west_car"}
    one_way = D["on_one_way_road"](cars, log)
    assert {u for u, v in one_way.items() if v} == {"one_way_car"}
    with pytest.raises(ValueError, match="counted_from"):
        D["in_lane_number"](cars, log, number=1, counted_from="left")
    with pytest.raises(ValueError, match="number"):
        D["in_lane_number"](cars, log, number=0)


def test_on_median_needs_both_directions_and_persistence(log):
    peds = D["get_objects_of_category"](log, "PEDESTRIAN")
    result = D["on_median"](peds, log)
    assert got(result, "median_ped") == set(TS[:40].tolist())
    assert got(result, "north_ped") == set()       # only one direction's lanes to its left
    # 4 frames there: the 7-frame median smoothing keeps them (4 of 7), but 0.4 s is less
    # than min_duration (0.5 s); a 3-frame blip would not survive the smoothing at all
    assert got(result, "blip_ped") == set()
    brief = D["on_median"](peds, log, min_duration=0)
    assert got(brief, "blip_ped") == set(TS[10:14].tolist())


def test_near_infrastructure(log):
    cars = one(log, "runner")
    near = D["near_infrastructure"](cars, log, "stop_sign", within_distance=10)
    # the runner is at y = 0.8 t (8 m/s from y = 0), 4.25 m beside the sign's x: within 10 m
    # of (206, 50) while |y - 50| <= sqrt(100 - 4.25^2) = 9.05
    expect = {int(TS[j]) for j in range(120) if abs(0.8 * j - 50) <= 9.05}
    assert abs(len(got(near, "runner")) - len(expect)) <= 2
    assert got(near, "runner") <= {int(TS[j]) for j in range(120) if abs(0.8 * j - 50) <= 9.3}
    peds = D["get_objects_of_category"](log, "PEDESTRIAN")
    cw = D["near_infrastructure"](peds, log, "crosswalk", within_distance=1)
    assert got(cw, "xwalker") and not got(cw, "jaywalker")
    with pytest.raises(ValueError, match="no traffic-light"):
        D["near_infrastructure"](peds, log, "traffic_light")
    with pytest.raises(ValueError, match="element"):
        D["near_infrastructure"](peds, log, "lamp_post")


def test_nth_object_in_direction(log):
    viewer = one(log, "viewer")
    queue = {u: v for u, v in everyone(log).items() if u.startswith("queue")}
    second = D["nth_object_in_direction"](viewer, queue, log, "forward", n=2)
    assert {u for u, v in second.items() if S.timestamp_set(v)} == {"queue1"}
    assert set(second["queue1"]) == {"viewer"}
    third = D["nth_object_in_direction"](viewer, queue, log, "forward", n=3)
    assert {u for u, v in third.items() if S.timestamp_set(v)} == {"queue2"}
    fourth = D["nth_object_in_direction"](viewer, queue, log, "forward", n=4)
    assert not S.timestamp_set(fourth)
    with pytest.raises(ValueError, match="direction"):
        D["nth_object_in_direction"](viewer, queue, log, "ahead")


# ---- behaviour ---------------------------------------------------------------------------
def test_u_turn_by_hand_and_robust_to_jitter(log):
    cars = D["get_objects_of_category"](log, "VEHICLE")
    u = D["making_u_turn"](cars, log)
    assert {k for k, v in u.items() if v} == {"u_turner", "u_noisy"}
    times = secs(u, "u_turner")
    assert 4.5 <= times[0] <= 5.6 and 9.4 <= times[-1] <= 10.5   # the arc is 5 s to 10 s
    assert secs(u, "u_noisy")[0] <= 5.6 and secs(u, "u_noisy")[-1] >= 9.4
    k = D["making_three_point_turn"](cars, log)
    assert {key for key, v in k.items() if v} == {"k_turner"}
    assert not got(D["making_u_turn"](one(log, "corner"), log, min_angle=100), "corner")
    assert got(D["making_u_turn"](one(log, "corner"), log, min_angle=80), "corner")


def test_reversing(log):
    result = D["reversing"](D["get_objects_of_category"](log, "VEHICLE"), log)
    assert {k for k, v in result.items() if v} == {"backer", "k_turner"}
    times = secs(result, "backer")
    assert 4.9 <= times[0] <= 5.5 and 7.5 <= times[-1] <= 8.1


def test_parking_and_pulling_out(log):
    cars = D["get_objects_of_category"](log, "VEHICLE")
    parked = D["parking"](cars, log)
    assert {k for k, v in parked.items() if v} == {"parker"}
    times = secs(parked, "parker")
    assert times[0] >= 4.5 and times[-1] <= 9.5   # the slow approach, 5 s to 9 s
    assert not any(D["parking"](cars, log, parallel=True).values())   # no reversing
    leaving = D["pulling_out"](cars, log)
    assert {k for k, v in leaving.items() if v} == {"puller"}
    assert 8.5 <= secs(leaving, "puller")[0] <= 9.5


def test_cutting_in_and_overtaking(log):
    cars = D["get_objects_of_category"](log, "VEHICLE")
    cut = D["cutting_in"](cars, one(log, "slow"), log)
    assert {k for k, v in cut.items() if S.timestamp_set(v)} == {"cutter"}
    times = sorted((t - TS[0]) / 1e9 for t in cut["cutter"]["slow"])
    assert times[0] >= 11.9 and times[-1] <= 14.1          # the move is 12 s to 14 s
    passed = D["overtaking"](cars, one(log, "cruiser"), log)
    assert {k for k, v in passed.items() if S.timestamp_set(v)} == {"passer"}
    # passer x = -80 + 12 s, cruiser x = -60 + 5 s (s since 16 s): level at s = 20/7
    times = sorted((t - TS[0]) / 1e9 - 16 for t in passed["passer"]["cruiser"])
    assert times[0] <= 20 / 7 <= times[-1] and times[-1] - times[0] <= 1.5
    assert not S.timestamp_set(D["overtaking"](one(log, "cruiser"), one(log, "passer"), log))


def test_yielding_and_stop_signs(log):
    cars = D["get_objects_of_category"](log, "VEHICLE")
    at_sign = D["at_stop_sign"](cars, log)
    assert got(at_sign, "runner") and got(at_sign, "stopper")
    ran = D["running_stop_sign"](cars, log)
    assert {k for k, v in ran.items() if v} == {"runner"}
    assert got(ran, "runner") <= got(at_sign, "runner")
    peds = D["get_objects_of_category"](log, "PEDESTRIAN")
    assert not S.timestamp_set(D["yielding"](one(log, "runner"), peds, log))
    gave_way = D["yielding"](cars, peds, log)
    assert {k for k, v in gave_way.items() if S.timestamp_set(v)} == {"yielder"}
    assert set(gave_way["yielder"]) == {"crosser"}
    times = sorted((t - TS[0]) / 1e9 for t in gave_way["yielder"]["crosser"])
    # crosser y = -10 + 1.2 t; it stops counting once 1.5 m past the car's centre line
    # (y > -1.75, t > 6.875 s); the car stops at 4 s (rest is judged over +-1 s)
    assert 3.9 <= times[0] <= 5.0 and 6.5 <= times[-1] <= 7.0


def test_jaywalking(log):
    peds = D["get_objects_of_category"](log, "PEDESTRIAN")
    result = D["jaywalking"](peds, log)
    # 'crosser' crosses 16 m from the crosswalk: jaywalking too
    assert {k for k, v in result.items() if v} == {"jaywalker", "crosser"}
    # in a lane while y in [-8.5, -1.5] (y = -10 + 1.2 t): t in [1.25, 7.1] s
    times = secs(result, "jaywalker")
    assert 1.2 <= times[0] <= 1.6 and 6.7 <= times[-1] <= 7.2
    assert got(D["jaywalking"](peds, log, crossing_only=False), "along")


# ---- documentation and contract -------------------------------------------------------------
def test_new_atoms_are_documented_and_known_to_the_reviewer():
    import inspect

    from scenmine.dsl.behaviour import BEHAVIOUR_FUNCTIONS
    from scenmine.dsl.map_context import ELEMENTS, MAP_CONTEXT_FUNCTIONS
    from scenmine.generate.docs import function_docs, get_function_doc
    from scenmine.review.contract import VALUES, signatures

    docs, sigs = function_docs(), signatures()
    for func in MAP_CONTEXT_FUNCTIONS + BEHAVIOUR_FUNCTIONS:
        name = func.__name__
        assert name in docs and name in sigs, name
        doc = inspect.getdoc(func)
        assert "\n" not in doc.split("\n\n")[0], name     # a one-line summary
        for section in ("Args:", "Returns:", "Example:"):
            assert section in doc, (name, section)
        for param in inspect.signature(func).parameters:
            assert f"{param}:" in doc, (name, param)
        relational = "related_candidates" in inspect.signature(func).parameters
        assert docs[name].kind == ("relational" if relational else "unary")
        assert get_function_doc(name).startswith(name + "(")
    assert VALUES[("near_infrastructure", "element")] == ELEMENTS
