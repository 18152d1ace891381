"""The synthetic vector map, in a local frame with the intersection at the origin.

Layout (right-hand traffic). A main road runs along x with, per direction from the centre
line outwards, two VEHICLE lanes, a BUS lane and a BIKE lane; a cross road runs along y with
one VEHICLE lane and one BIKE lane per direction and a parking strip on its east side. The
4-way intersection box is |x| <= XB, |y| <= YB; its connectors (straight, left and right
turns) are intersection lane segments, and four pedestrian crossings lie inside the box.
The layout is point-symmetric: westbound / southbound lanes are the eastbound / northbound
ones rotated by 180 degrees.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

LANE_W, BIKE_W, PARK_W = 3.5, 1.8, 2.5
MAIN_HALF = 3 * LANE_W + BIKE_W            # 12.3: main-road half width
CROSS_HALF = LANE_W + BIKE_W               # 5.3: cross-road half width (west side)
PARK_X = (CROSS_HALF, CROSS_HALF + PARK_W)  # parking strip east of the northbound bike lane
XB, YB = CROSS_HALF + 4.0, MAIN_HALF + 4.0  # intersection box (crossings fill the outer 4 m)
MAIN_LEN, CROSS_LEN = 110.0, 90.0           # road extents from the origin
N_MAIN_SEG, N_CROSS_SEG = 4, 3

# eastbound lanes: (name, type, centre y, width); northbound: (name, type, centre x, width)
EAST = [("E1", "VEHICLE", -1.75, LANE_W), ("E2", "VEHICLE", -5.25, LANE_W),
        ("EB", "BUS", -8.75, LANE_W), ("EK", "BIKE", -11.4, BIKE_W)]
NORTH = [("N1", "VEHICLE", 1.75, LANE_W), ("NK", "BIKE", 4.4, BIKE_W)]
MARKS = {"E1": ("DOUBLE_SOLID_YELLOW", "DASHED_WHITE"), "E2": ("DASHED_WHITE", "SOLID_WHITE"),
         "EB": ("SOLID_WHITE", "SOLID_WHITE"), "EK": ("SOLID_WHITE", "NONE"),
         "N1": ("DOUBLE_SOLID_YELLOW", "SOLID_WHITE"), "NK": ("SOLID_WHITE", "NONE")}
# intersection connectors from an approach lane to an exit lane (eastbound / northbound side)
CONNECT = [("E1", "E1", "straight"), ("E1", "N1", "left"), ("E2", "E2", "straight"),
           ("E2", "S1", "right"), ("EB", "EB", "straight"), ("EK", "EK", "straight"),
           ("N1", "N1", "straight"), ("N1", "W1", "left"), ("N1", "E2", "right"),
           ("NK", "NK", "straight")]
OPPOSITE = {"E": "W", "N": "S", "W": "E", "S": "N"}


@dataclass
class Lane:
    """One lane segment: boundaries (n, 2) ordered along the driving direction."""

    id: int
    name: str
    lane_type: str
    left: np.ndarray
    right: np.ndarray
    left_mark: str = "NONE"
    right_mark: str = "NONE"
    is_intersection: bool = False
    successors: list[int] = field(default_factory=list)
    predecessors: list[int] = field(default_factory=list)
    left_neighbor: int | None = None
    right_neighbor: int | None = None
    dense: np.ndarray | None = None  # a finely sampled centreline for motion along curves

    @property
    def centerline(self) -> np.ndarray:
        return self.dense if self.dense is not None else (self.left + self.right) / 2

    @property
    def polygon(self) -> np.ndarray:
        return np.concatenate([self.right, self.left[::-1]])


@dataclass
class World:
    """Lanes, crossings (edge pairs) and drivable areas of one map, local frame."""

    lanes: dict[int, Lane]
    crossings: dict[int, tuple[np.ndarray, np.ndarray]]
    areas: dict[int, np.ndarray]
    by_name: dict[str, list[int]]          # road lane name -> segment ids, in driving order
    connectors: dict[tuple[str, str], int]  # (approach name, exit name) -> connector id

    def route(self, start: str, end: str | None = None) -> list[int]:
        """Lane ids from approach lane ``start`` through the box to exit ``end`` (None: stop)."""
        ids = list(self.by_name[start + ":in"])
        if end is not None:
            ids += [self.connectors[(start, end)]] + self.by_name[end + ":out"]
        return ids

    def crossing_polygons(self) -> list[np.ndarray]:
        return [np.array([e1[0], e1[1], e2[1], e2[0]]) for e1, e2 in self.crossings.values()]


def rot180(xy: np.ndarray) -> np.ndarray:
    return -np.asarray(xy, float)


def _rename(name: str) -> str:
    return OPPOSITE[name[0]] + name[1:]


def _straight(p0, p1, n: int = 6) -> np.ndarray:
    return np.linspace(p0, p1, n)


def _bezier(p0, h0, p3, h3, n: int = 12) -> np.ndarray:
    """Cubic Bezier from p0 (heading h0) to p3 (heading h3)."""
    p0, p3, h0, h3 = (np.asarray(v, float) for v in (p0, p3, h0, h3))
    d = p3 - p0  # quarter-ellipse-like: control legs along each heading's own extent
    p1, p2 = p0 + 0.5523 * abs(d @ h0) * h0, p3 - 0.5523 * abs(d @ h3) * h3
    u = np.linspace(0, 1, n)[:, None]
    return ((1 - u) ** 3) * p0 + 3 * u * (1 - u) ** 2 * p1 + 3 * u * u * (1 - u) * p2 + u ** 3 * p3


def offset(line: np.ndarray, d: float) -> np.ndarray:
    """Offset a polyline by d metres to its left (negative: right)."""
    tangent = np.gradient(line, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    return line + d * np.stack([-tangent[:, 1], tangent[:, 0]], 1)


def _lane_geometry() -> tuple[dict, dict]:
    """Road lane centrelines/widths per named lane (both directions) and entry/exit poses."""
    roads, poses = {}, {}
    for name, kind, c, w in EAST + NORTH:
        east = name[0] == "E"
        edge, length, n = (XB, MAIN_LEN, N_MAIN_SEG) if east else (YB, CROSS_LEN, N_CROSS_SEG)
        cuts = np.linspace(-length, -edge, n + 1)
        def pt(a, c=c, east=east):
            return [a, c] if east else [c, a]
        pairs = list(pairwise(cuts))
        roads[name + ":in"] = (kind, w, [np.array([pt(a), pt(b)]) for a, b in pairs])
        roads[name + ":out"] = (kind, w, [np.array([pt(-b), pt(-a)]) for a, b in pairs[::-1]])
        head = (1, 0) if east else (0, 1)
        poses[name] = (tuple(pt(-edge)), head, tuple(pt(edge)), head)
    for key in list(roads):  # the opposite directions, by point symmetry
        kind, w, segs = roads[key]
        roads[_rename(key)] = (kind, w, [rot180(s) for s in segs])
    for name in list(poses):
        p_in, h_in, p_out, h_out = poses[name]
        poses[_rename(name)] = (tuple(rot180(p_in)), tuple(rot180(h_in)), tuple(rot180(p_out)), tuple(rot180(h_out)))
    return roads, poses


def build_world(rng: np.random.Generator) -> World:
    """The map of one log (ids drawn from ``rng``, geometry fixed)."""
    next_id = iter(range(int(rng.integers(38_000_000, 48_000_000)), 10**9))
    roads, poses = _lane_geometry()
    lanes: dict[int, Lane] = {}
    by_name: dict[str, list[int]] = {}
    for key, (kind, w, segs) in roads.items():
        name = key.split(":")[0]
        left_mark, right_mark = MARKS[name[0].replace("W", "E").replace("S", "N") + name[1:]]
        ids = []
        for seg in segs:
            line = _straight(seg[0], seg[1])
            lane = Lane(next(next_id), name, kind, offset(line, w / 2), offset(line, -w / 2),
                        left_mark, right_mark)
            lanes[lane.id] = lane
            ids.append(lane.id)
        for a, b in pairwise(ids):
            lanes[a].successors.append(b)
            lanes[b].predecessors.append(a)
        by_name[key] = ids
    connectors = {}
    for src, dst, _turn in CONNECT + [(_rename(a), _rename(b), t) for a, b, t in CONNECT]:
        p0, h0 = poses[src][:2]
        p3, h3 = poses[dst][2:]
        line = _bezier(p0, h0, p3, h3) if src[0] != dst[0] else _straight(p0, p3, 8)
        kind, w, _ = roads[src + ":in"]
        lane = Lane(next(next_id), f"{src}>{dst}", kind, offset(line, w / 2), offset(line, -w / 2),
                    is_intersection=True)
        if src[0] != dst[0]:
            lane.dense = _bezier(p0, h0, p3, h3, n=200)
        lanes[lane.id] = lane
        connectors[(src, dst)] = lane.id
        last_in, first_out = by_name[src + ":in"][-1], by_name[dst + ":out"][0]
        lane.predecessors.append(last_in)
        lane.successors.append(first_out)
        lanes[last_in].successors.append(lane.id)
        lanes[first_out].predecessors.append(lane.id)
    _link_neighbours(lanes, by_name)
    crossings = {}
    main_x = (-XB, -CROSS_HALF)
    cross_x = (-CROSS_HALF - 1.0, PARK_X[1] + 1.0)
    for edges in ([[(main_x[0], -MAIN_HALF - 1), (main_x[0], MAIN_HALF + 1)],
                   [(main_x[1], -MAIN_HALF - 1), (main_x[1], MAIN_HALF + 1)]],
                  [[(-main_x[0], MAIN_HALF + 1), (-main_x[0], -MAIN_HALF - 1)],
                   [(-main_x[1], MAIN_HALF + 1), (-main_x[1], -MAIN_HALF - 1)]],
                  [[(cross_x[0], YB), (cross_x[1], YB)], [(cross_x[0], MAIN_HALF), (cross_x[1], MAIN_HALF)]],
                  [[(cross_x[1], -YB), (cross_x[0], -YB)], [(cross_x[1], -MAIN_HALF), (cross_x[0], -MAIN_HALF)]]):
        crossings[int(rng.integers(1_000_000, 9_999_999))] = tuple(np.array(e, float) for e in edges)
    areas = {}
    for x0, x1, y0, y1 in ((-MAIN_LEN, MAIN_LEN, -MAIN_HALF, MAIN_HALF),
                           (-CROSS_HALF, PARK_X[1], MAIN_HALF, CROSS_LEN),
                           (-CROSS_HALF, PARK_X[1], -CROSS_LEN, -MAIN_HALF)):
        areas[int(rng.integers(1_000_000, 9_999_999))] = np.array(
            [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
    return World(lanes, crossings, areas, by_name, connectors)


def _link_neighbours(lanes: dict[int, Lane], by_name: dict[str, list[int]]) -> None:
    """Left/right neighbours between parallel road segments (same index along the road)."""
    order = {"E": ["E1", "E2", "EB", "EK"], "N": ["N1", "NK"]}
    for d, names in order.items():
        o = OPPOSITE[d]
        for suffix in (":in", ":out"):
            for prefix in (d, o):
                seq = [prefix + n[1:] + suffix for n in names]
                for inner, outer in pairwise(seq):
                    for a, b in zip(by_name[inner], by_name[outer]):
                        lanes[a].right_neighbor, lanes[b].left_neighbor = b, a
            # across the centre line: the opposite inner lane (reversed segment order)
            osfx = ":out" if suffix == ":in" else ":in"
            a_ids, b_ids = by_name[d + "1" + suffix], by_name[o + "1" + osfx][::-1]
            for a, b in zip(a_ids, b_ids):
                lanes[a].left_neighbor, lanes[b].left_neighbor = b, a
