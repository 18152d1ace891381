"""Scripted scenes: the ego drive plus events that make each prompt positive or negative.

Every event takes the scene context and a flag (positive variant or not) and adds actors.
Which events are positive in which log is decided by ``design`` so that each prompt has
positive and negative logs in every split.

Logs also carry near misses (``near_misses`` and the negative variants of some events):
things a naive program finds but the benchmark's annotators would not count, because the
referred track does not persist for 1.5 s, is more than 50 m from the ego or is off the road
(``truth.benchmark_rules``). The scripted truth leaves them out; the geometric verifier's
default limits are the same rules, so it can drop the predictions they cause.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenmine.data.synthetic import world as W
from scenmine.data.synthetic.motion import Actor, moving, rider, static

N_T, DT = 156, 0.1
VISIBLE_M = 80.0
EVENTS = ("left", "right", "lane_change", "parked", "stopped", "crosswalk", "jaywalk", "bus",
          "bike", "follow", "accel", "near_peds", "bike_right")


@dataclass
class Scene:
    """One log being scripted: time axis, map, ego and actors."""

    rng: np.random.Generator
    t: np.ndarray
    world: W.World
    ego: Actor | None = None
    actors: list[Actor] = field(default_factory=list)
    v_ego: float = 5.0
    t_cross: float = 7.5
    notes: dict = field(default_factory=dict)
    near_rng: np.random.Generator | None = None  # near misses draw from here: the other
                                                  # events stay as in generator version 1

    def path(self, route: list[int]) -> np.ndarray:
        return np.concatenate([self.world.lanes[i].centerline for i in route])

    def ego_x(self, t: float) -> float:
        return self.v_ego * (t - self.t_cross)

    def add(self, actor: Actor) -> Actor:
        self.actors.append(actor)
        return actor

    def drive(self, category, route_names, v, at_time, at_s, **kw) -> Actor:
        """A vehicle on a named route reaching arc length ``at_s`` at ``at_time`` (keys optional)."""
        route = self.world.route(*route_names)
        keys = kw.pop("keys", [(0.0, v), (self.t[-1], v)])
        s0 = at_s - _arc(keys, at_time)
        return self.add(moving(self.rng, category, self.t, self.path(route), keys, s0, route, **kw))


def _arc(keys, t_query: float) -> float:
    from scenmine.data.synthetic.motion import speed_profile
    return float(speed_profile(np.array([t_query]), keys)[0][0])


def design(n_logs: int) -> list[dict[str, bool]]:
    """Per log, whether each event is scripted as a positive (about two logs in three)."""
    return [{e: (i + k) % 3 != 0 for k, e in enumerate(EVENTS)} for i in range(n_logs)]


def build_scene(rng: np.random.Generator, t: np.ndarray, world: W.World, flags: dict,
                near_rng: np.random.Generator | None = None) -> Scene:
    sc = Scene(rng, t, world, v_ego=float(rng.uniform(4.3, 5.2)), t_cross=float(rng.uniform(6.5, 8.0)),
               near_rng=near_rng if near_rng is not None else np.random.default_rng(0))
    route = world.route("E1", "E1")
    entry = W.MAIN_LEN - 0.0  # arc length of the box centre along E1 (x = 0)
    keys = [(0.0, sc.v_ego), (t[-1], sc.v_ego)]
    sc.ego = moving(rng, "EGO_VEHICLE", t, sc.path(route), keys, entry - sc.v_ego * sc.t_cross, route)
    for name in EVENTS[:-2]:
        EVENT_FUNCS[name](sc, flags[name], flags)
    background(sc)
    near_misses(sc, flags)
    return sc


def ev_left(sc: Scene, pos: bool, flags) -> None:
    v, t_in = sc.rng.uniform(4.5, 5.5), sc.rng.uniform(0.3, 1.2)
    s_box = W.CROSS_LEN - W.YB
    sc.drive("REGULAR_VEHICLE", ("N1", "W1" if pos else "N1"), v, t_in, s_box)


def ev_right(sc: Scene, pos: bool, flags) -> None:
    v, t_in = sc.rng.uniform(4.5, 5.5), sc.rng.uniform(3.0, 8.0)
    sc.drive("REGULAR_VEHICLE", ("W2", "N1" if pos else "W2"), v, t_in, W.MAIN_LEN - W.XB)


def ev_lane_change(sc: Scene, pos: bool, flags) -> None:
    v = sc.rng.uniform(6.0, 7.5)
    t_lc = sc.rng.uniform(sc.t_cross - 1.5, sc.t_cross + 4.0)
    x_lc = sc.rng.uniform(30.0, 40.0)
    src, dst = ("W1", "W2") if sc.rng.random() < 0.5 else ("W2", "W1")
    if not pos:
        sc.drive("REGULAR_VEHICLE", ("W1", "W1"), v, t_lc, W.MAIN_LEN - x_lc)
        return
    length = v * 3.5
    a = sc.drive("REGULAR_VEHICLE", (src, src), v, t_lc, W.MAIN_LEN - x_lc,
                 lateral=(W.MAIN_LEN - x_lc - length / 2, length, 3.5 if src == "W2" else -3.5))
    a.route = sc.world.by_name[src + ":in"] + sc.world.route(dst, dst)


def ev_parked(sc: Scene, pos: bool, flags) -> None:
    if not pos:
        return
    side = 1.0 if sc.rng.random() < 0.5 else -1.0
    sc.notes["parked_side"] = side
    slots = sc.rng.choice([24.0, 32.0, 40.0], size=int(sc.rng.integers(1, 4)), replace=False)
    x = (W.PARK_X[0] + W.PARK_X[1]) / 2
    sc.notes["parked"] = []
    for y in sorted(slots):
        cat = "BOX_TRUCK" if sc.rng.random() < 0.2 else "REGULAR_VEHICLE"
        sc.notes["parked"].append(sc.add(static(sc.rng, cat, len(sc.t), (x, side * y), np.pi / 2)))


def ev_stopped(sc: Scene, pos: bool, flags) -> None:
    v0 = sc.rng.uniform(5.0, 6.5)
    if not pos:  # passes straight through once the ego has left the box
        sc.drive("REGULAR_VEHICLE", ("S1", "S1"), v0, sc.t_cross + sc.rng.uniform(2.5, 4.0),
                 W.CROSS_LEN - W.YB)
        return
    t_stop = sc.rng.uniform(1.5, 3.0)
    t_go = sc.t_cross + sc.rng.uniform(2.5, 3.5)
    keys = [(t_stop - v0 / 2, v0), (t_stop, 0.0), (t_go, 0.0), (t_go + 7.0, 5.6)]
    s_stop = W.CROSS_LEN - (W.YB + 0.6 + 2.3)
    sc.notes["stopped"] = sc.drive("REGULAR_VEHICLE", ("S1", "S1"), v0, t_stop, s_stop, keys=keys)


def ev_crosswalk(sc: Scene, pos: bool, flags) -> None:
    if not pos:
        return
    n = 1 if (not flags["near_peds"] and flags["stopped"]) else int(sc.rng.integers(2, 4))
    north = flags["stopped"] or sc.rng.random() < 0.5
    y_c = (1 if north else -1) * sc.rng.uniform(13.6, 15.0)
    t0, v = sc.rng.uniform(0.0, 3.0), sc.rng.uniform(1.2, 1.45)
    x0, x1 = W.PARK_X[1] + 0.6, -W.CROSS_HALF - 2.5
    for k in range(n):
        dy, dx = sc.rng.uniform(-0.6, 0.6), 0.9 * k
        path = np.array([[x0 - 0.1 * k, y_c + dy], [x1, y_c + dy]])
        sc.add(moving(sc.rng, "PEDESTRIAN", sc.t, path, [(t0 + dx / v, v), (sc.t[-1] + 1, v)]))


def ev_jaywalk(sc: Scene, pos: bool, flags) -> None:
    if not pos:
        return
    side = -sc.notes.get("parked_side", 1.0)
    y = side * sc.rng.uniform(26.0, 32.0)
    path = np.array([[-W.CROSS_HALF - 3.0, y], [W.PARK_X[1] + 2.5, y + sc.rng.uniform(-2, 2)]])
    v = sc.rng.uniform(1.3, 1.6)
    sc.add(moving(sc.rng, "PEDESTRIAN", sc.t, path, [(sc.rng.uniform(0.5, 3.5), v), (sc.t[-1] + 1, v)]))


def ev_bus(sc: Scene, pos: bool, flags) -> None:
    v, t_mid = sc.rng.uniform(6.0, 7.5), sc.rng.uniform(5.0, 10.0)
    lane = "EB" if (flags["near_peds"] and "parked" not in sc.notes) or sc.rng.random() < 0.5 else "WB"
    if not pos:
        lane = "E2" if lane == "EB" else "W2"
    x = sc.ego_x(t_mid)
    s = W.MAIN_LEN + (x if lane[0] == "E" else -x)
    sc.notes["bus"] = (sc.drive("BUS", (lane, lane), v, t_mid, s), lane)


def ev_bike(sc: Scene, pos: bool, flags) -> None:
    v = sc.rng.uniform(4.0, 5.0)
    if pos and flags["bike_right"]:      # eastbound bike lane, the ego passes it
        t_m = sc.rng.uniform(4.0, 10.0)
        b = sc.drive("BICYCLE", ("EK", "EK"), v, t_m, W.MAIN_LEN + sc.ego_x(t_m) + sc.rng.uniform(-2, 2))
    elif pos:                            # northbound bike lane on the cross road
        b = sc.drive("BICYCLE", ("NK", "NK"), v, sc.rng.uniform(1.0, 4.0), W.CROSS_LEN + W.YB + 1.0)
    elif flags["bike_right"] and "parked" in sc.notes:  # parked bicycle right of a parked car
        car = sc.notes["parked"][0]
        sc.add(static(sc.rng, "BICYCLE", len(sc.t), car.pos[0] + [W.PARK_W + 0.4, 1.0], np.pi / 2))
        return
    else:                                # bicycle ridden on the sidewalk (not a bike lane)
        y = -(W.MAIN_HALF + 5.0)
        x0 = sc.rng.uniform(-60.0, -45.0)
        path = np.array([[x0, y], [-W.XB - 6.0, y]])
        b = sc.add(moving(sc.rng, "BICYCLE", sc.t, path, [(0.0, v), (sc.t[-1], v)]))
    sc.add(rider(sc.rng, b))


def ev_follow(sc: Scene, pos: bool, flags) -> None:
    gap = sc.rng.uniform(11.0, 16.0) if pos else sc.rng.uniform(36.0, 42.0)
    sc.drive("REGULAR_VEHICLE", ("E1", "E1"), sc.v_ego, sc.t_cross, W.MAIN_LEN + gap)


def ev_accel(sc: Scene, pos: bool, flags) -> None:
    t_a = sc.rng.uniform(3.0, 8.0)
    # positive: 2 m/s^2 for 3.5 s; near miss: a 3 m/s^2 burst of 0.5-0.7 s (< 1.5 s)
    burst = 3.5 if pos else sc.near_rng.uniform(0.5, 0.7)
    v0, v1 = 2.5, 2.5 + (2.0 if pos else 3.0) * burst
    keys = [(t_a, v0), (t_a + burst, v1)]
    x = sc.ego_x(t_a) + sc.rng.uniform(4.0, 9.0)
    sc.drive("REGULAR_VEHICLE", ("E2", "E2"), v0, t_a, W.MAIN_LEN + x, keys=keys)


def ev_near_peds(sc: Scene, pos: bool, flags) -> None:
    if not pos:
        return
    if sc.notes.get("parked"):          # a group at the kerb beside a parked car
        car = sc.notes["parked"][-1]
        for k in range(int(sc.rng.integers(2, 4))):
            xy = car.pos[0] + [W.PARK_W / 2 + 1.4 + 0.5 * k, sc.rng.uniform(-1.5, 1.5)]
            sc.add(static(sc.rng, "PEDESTRIAN", len(sc.t), xy, sc.rng.uniform(-np.pi, np.pi)))
    elif sc.notes.get("bus", (None, ""))[1] == "EB":  # a group at the kerb as the bus passes
        bus = sc.notes["bus"][0]
        j = int(np.argmin(np.abs(sc.t - 8.0)))
        for k in range(int(sc.rng.integers(2, 4))):
            xy = (bus.pos[j, 0] + 2.0 * k, -(W.MAIN_HALF + 1.0 + 0.4 * k))
            sc.add(static(sc.rng, "PEDESTRIAN", len(sc.t), xy, sc.rng.uniform(-np.pi, np.pi)))


def background(sc: Scene) -> None:
    """Clutter: kerb-side bollards, signs, cones, sidewalk walkers, oncoming traffic."""
    rng = sc.rng
    for cx, cy in [(-W.XB - 1.5, -W.MAIN_HALF - 1.2), (W.XB + 1.5, W.MAIN_HALF + 1.2),
                   (-W.XB - 1.5, W.MAIN_HALF + 1.2), (W.XB + 1.5, -W.MAIN_HALF - 1.2)]:
        for k in range(int(rng.integers(1, 3))):
            sc.add(static(rng, "BOLLARD", len(sc.t), (cx + 1.2 * k * np.sign(cx), cy), 0.0))
    sc.add(static(rng, "SIGN", len(sc.t), (-W.XB - 3.0, -W.MAIN_HALF - 2.0), 0.0))
    for k in range(int(rng.integers(0, 3))):
        sc.add(static(rng, "CONSTRUCTION_CONE", len(sc.t), (-W.CROSS_HALF - 4.0, 30.0 + 2.5 * k), 0.0))
    for _ in range(int(rng.integers(1, 4))):  # walkers along the main-road sidewalks
        y = (1 if rng.random() < 0.5 else -1) * rng.uniform(16.8, 17.8)
        x0 = rng.uniform(15.0, 40.0) * (1 if rng.random() < 0.5 else -1)
        x1 = np.sign(x0) * (15.0 + 45.0 - abs(x0))
        v = rng.uniform(1.1, 1.5)
        sc.add(moving(rng, "PEDESTRIAN", sc.t, np.array([[x0, y], [x1, y]]), [(0.0, v), (sc.t[-1], v)]))
    v = rng.uniform(7.0, 9.0)
    sc.notes["oncoming"] = sc.drive("REGULAR_VEHICLE", ("W1", "W1"), v, rng.uniform(9.0, 13.0),
                                    W.MAIN_LEN - 30.0)


GLIMPSE_FRAMES = 8  # an annotation dropout: the track is seen this long (0.8 s) only


def _glimpse(sc: Scene, actor: Actor, t_mid: float, n: int = GLIMPSE_FRAMES) -> Actor:
    """Keep ``n`` frames of ``actor`` around ``t_mid`` (a track lost to occlusion)."""
    j = int(np.clip(np.argmin(np.abs(sc.t - t_mid)) - n // 2, 0, len(sc.t) - n))
    actor.valid = np.zeros(len(sc.t), bool)
    actor.valid[j:j + n] = True
    actor.tags.add("glimpse")
    return actor


def _near_ego_frame(sc: Scene, actor: Actor, dist: float) -> int:
    """The valid frame where ``actor`` is closest to ``dist`` m from the ego."""
    d = np.linalg.norm(actor.pos - sc.ego.pos, axis=1)
    return int(np.argmin(np.where(actor.valid, np.abs(d - dist), np.inf)))


def _clear_of_vehicles(sc: Scene, actor: Actor, when: np.ndarray, dist: float) -> bool:
    """No vehicle (ego included) within ``dist`` m of ``actor`` at the ``when`` frames."""
    from scenmine.data.synthetic.truth import VEHICLES

    for a in [sc.ego] + sc.actors:
        if a.category in VEHICLES:
            m = when & a.valid
            if m.any() and np.linalg.norm(a.pos[m] - actor.pos[m], axis=1).min() < dist:
                return False
    return True


def near_misses(sc: Scene, flags: dict) -> None:
    """Distractors in logs negative for the prompt they imitate (the truth excludes them).

    - turning: the oncoming car's heading wobbles by 55-70 degrees and back within 0.7 s;
    - bus in a bus lane: a bus seen for 0.8 s only, in the bus lane;
    - crossing pedestrian: a pedestrian first seen on the edge of a crossing walks off it
      along the sidewalk for 2.6 s (the crossing test holds for about half a second);
    - jaywalking: a pedestrian seen for 0.8 s only, on the road away from the crossings;
    - bicycle to a vehicle's right: a car with a bicycle to its right, > 50 m from the ego;
    - stopped at an intersection: a car waits 10-15 m before (not at) the box, from the south.
    (The accelerating near miss, a burst < 1 s, is that event's negative.)
    """
    main, sc.rng = sc.rng, sc.near_rng
    try:
        _near_misses(sc, flags)
    finally:
        sc.rng = main


def _near_misses(sc: Scene, flags: dict) -> None:
    rng = sc.rng
    car = sc.notes.get("oncoming")
    if car is not None and not (flags["left"] and flags["right"]) and car.valid.any():
        j = _near_ego_frame(sc, car, 25.0)
        n, amp = 7, np.radians(rng.uniform(55.0, 70.0)) * (1 if rng.random() < 0.5 else -1)
        # a small counter-swing on both sides ends the turn-like runs of yaw rate there
        blip = amp * np.sin(np.pi * np.arange(1, n + 1) / (n + 1))
        blip = np.concatenate([[-0.06 * amp] * 2, blip, [-0.06 * amp] * 2])
        j = int(np.clip(j - len(blip) // 2, 0, len(sc.t) - len(blip)))
        car.yaw[j:j + len(blip)] += blip
        car.yaw = np.angle(np.exp(1j * car.yaw))
        car.tags.add("heading_wobble")
    if not flags["bus"]:
        lane = "WB" if rng.random() < 0.5 else "EB"
        t_g = sc.t_cross + rng.uniform(-3.0, 3.0)
        x = sc.ego_x(t_g) + rng.uniform(15.0, 30.0)
        s = W.MAIN_LEN + (x if lane[0] == "E" else -x)
        _glimpse(sc, sc.drive("BUS", (lane, lane), rng.uniform(8.5, 10.0), t_g, s), t_g)
    if not flags["crosswalk"]:
        v, x0, y = rng.uniform(1.2, 1.5), W.PARK_X[1] + 1.0 - 0.3, rng.uniform(13.0, 15.5)
        path = np.array([[x0, y], [x0 + 60.0, y]])
        for t0 in rng.uniform(1.0, 8.0, 20):  # seen for 2.6 s, no vehicle within 12 m then
            ped = moving(rng, "PEDESTRIAN", sc.t, path, [(t0, v), (sc.t[-1] + 1, v)])
            ped.valid &= sc.t <= t0 + 2.6
            if _clear_of_vehicles(sc, ped, ped.valid, 12.0):
                break
        sc.add(ped).tags.add("edge")
    if not flags["jaywalk"]:
        t_g = sc.t_cross + rng.uniform(0.0, 2.0)
        x, y = sc.ego_x(t_g) + rng.uniform(15.0, 30.0), rng.uniform(8.0, 10.5)
        v = rng.uniform(1.3, 1.6)
        path = np.array([[x, y + v * 3], [x, y - v * 3]])  # at (x, y) at t_g
        ped = moving(rng, "PEDESTRIAN", sc.t, path, [(t_g - 3.0, v), (sc.t[-1] + 1, v)])
        sc.add(_glimpse(sc, ped, t_g))
    if not flags["stopped"]:
        v0, t_stop, gap = rng.uniform(5.0, 6.5), rng.uniform(1.5, 3.0), rng.uniform(10.0, 15.0)
        keys = [(t_stop - v0 / 2, v0), (t_stop, 0.0), (sc.t[-1], 0.0)]
        sc.drive("REGULAR_VEHICLE", ("N1", "N1"), v0, t_stop, W.CROSS_LEN - (W.YB + gap + 2.3),
                 keys=keys).tags.add("stops_short")
    if not flags["bike_right"]:
        v = rng.uniform(0.5, 0.7)
        s = W.MAIN_LEN + rng.uniform(95.0, 98.0)
        sc.drive("REGULAR_VEHICLE", ("W2", "W2"), v, 0.0, s).tags.add("far")
        sc.drive("BICYCLE", ("WK", "WK"), v, 0.0, s + rng.uniform(-1.0, 1.0)).tags.add("far")


EVENT_FUNCS = {"left": ev_left, "right": ev_right, "lane_change": ev_lane_change,
               "parked": ev_parked, "stopped": ev_stopped, "crosswalk": ev_crosswalk,
               "jaywalk": ev_jaywalk, "bus": ev_bus, "bike": ev_bike, "follow": ev_follow,
               "accel": ev_accel, "near_peds": ev_near_peds}


def finalize(sc: Scene) -> list[Actor]:
    """Limit each actor to one contiguous span within sight of the ego; drop short tracks
    (glimpses, scripted annotation dropouts, keep theirs)."""
    out = []
    for a in sc.actors:
        seen = a.valid & (np.linalg.norm(a.pos - sc.ego.pos, axis=1) <= VISIBLE_M)
        idx = np.flatnonzero(seen)
        if len(idx) < (4 if "glimpse" in a.tags else 8):
            continue
        runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
        best = max(runs, key=len)
        a.valid = np.zeros(len(sc.t), bool)
        a.valid[best] = True
        out.append(a)
    return out
