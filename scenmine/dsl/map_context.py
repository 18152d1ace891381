"""Map and context atoms beyond RefAV's: road layout (lanes, medians, one-way roads), named
infrastructure, and the n-th object in a direction.

What Argoverse 2 carries, and so what these atoms can see: the vector map has lane segments
(type VEHICLE, BUS or BIKE; left/right neighbours, which may be oncoming lanes; lane-marking
types; predecessors), pedestrian crossings and drivable areas. There are no parking lanes,
driveways, medians, traffic lights or signal states in the map; the annotations have the
categories STOP_SIGN, SIGN, BOLLARD, CONSTRUCTION_CONE/BARREL, MESSAGE_BOARD_TRAILER,
TRAFFIC_LIGHT_TRAILER and MOBILE_PEDESTRIAN_CROSSING_SIGN. Medians and one-way roads are
therefore derived from lane geometry (see each atom).

Per-log road facts are computed once (``RoadIndex``, cached on the LogContext); every atom is a
lookup of the track's voted lane (``ctx.lane``) or a batched point query.
"""
from __future__ import annotations

import numpy as np

from scenmine.dsl.context import LogContext, get_context
from scenmine.dsl.scenario import filter_by_mask
from scenmine.dsl.temporal import persistent

SAMPLE_SPACING_M = 2.0      # centre-line samples of lanes, for point queries
OPPOSITE_COS = -0.7         # headings more than ~135 degrees apart are opposite
SAME_COS = 0.0              # a neighbour pointer to a lane heading the other way is oncoming
LANE_GAP_S = 0.2            # lane-based atoms close dropouts up to this long
MEDIAN_NEIGHBOURS = 16      # centre-line samples looked at around a point for on_median
ONE_WAY_SEARCH_M = 25.0
MEDIAN_MAX_DISTANCE_M = 10.0

# element name -> annotation categories (objects) or a map layer
ANNOTATED_ELEMENTS = {
    "stop_sign": ("STOP_SIGN",),
    "sign": ("SIGN", "STOP_SIGN"),
    "bollard": ("BOLLARD",),
    "construction": ("CONSTRUCTION_CONE", "CONSTRUCTION_BARREL", "MESSAGE_BOARD_TRAILER"),
    "traffic_light_trailer": ("TRAFFIC_LIGHT_TRAILER",),
    "crossing_sign": ("MOBILE_PEDESTRIAN_CROSSING_SIGN",),
}
MAP_ELEMENTS = ("crosswalk", "bike_lane", "bus_lane")
ELEMENTS = tuple(ANNOTATED_ELEMENTS) + MAP_ELEMENTS
NOT_IN_AV2 = {
    "traffic_light": "Argoverse 2 has no traffic-light annotations or signal states "
                     "(use near_intersection for signalised junctions)",
    "parking_lane": "Argoverse 2 maps have no parking lanes (lane types are VEHICLE, BUS, BIKE)",
    "driveway": "Argoverse 2 maps have no driveways",
    "median": "use on_median for objects on a median",
    "intersection": "use near_intersection(candidates, log_dir, threshold) for intersections",
}


def _choice(function: str, param: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{function}: {param} must be one of {', '.join(map(repr, options))}, "
                         f"got {value!r}")


def _number(function: str, param: str, value, low: float = 0.0, integer: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or np.isnan(value) or value < low or (integer and float(value) != int(value)
                                                     and np.isfinite(value)):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{function}: {param} must be {kind} >= {low:g}, got {value!r}")


def _numbers(function: str, **values) -> None:
    """_number(function, name, value, 0) for every keyword."""
    for param, value in values.items():
        _number(function, param, value, 0)


def _unary(function: str, track_candidates, log_dir, compute, **params) -> dict:
    """A unary atom with numeric parameters (each checked to be >= 0): the (N, T) mask
    ``compute(ctx)`` is cached per log and parameters, then applied to the candidates."""
    _numbers(function, **params)
    ctx = get_context(log_dir)
    key = (function, *(float(v) for v in params.values()))
    return filter_by_mask(track_candidates, ctx, ctx.memo(key, lambda: compute(ctx)))


# ----------------------------------------------------------------------------- road index
class RoadIndex:
    """Road-layout facts per lane segment of one map (arrays in LaneIndex order).

    - ``heading`` (L, 2): unit direction of travel (start to end of the centre line);
    - ``same_left`` / ``same_right`` (L,): neighbour lane heading the same way, else -1;
    - ``from_curb`` (L,): 1 for the right-most motor lane of its direction, 2 next, ...
      (bike lanes are not counted and get 0);
    - ``lanes`` (L,): motor lanes of the segment's direction; ``oncoming_lanes`` (L,): those of
      the nearest oncoming road within ``ONE_WAY_SEARCH_M`` to its left (0 if none);
    - ``one_way`` (L,): motor lane with no oncoming lane to its left.
    Intersection segments rarely have neighbours: they take these values from their
    predecessor (or successor) segment.
    """

    def __init__(self, lanes, one_way_search: float = ONE_WAY_SEARCH_M):
        from scipy.spatial import cKDTree

        self.motor = lanes.lane_type != "BIKE"
        n = len(self.motor)
        # LaneIndex keeps 50 arc-length samples of each boundary: their mean is the centre line
        centre = (lanes.samples[0] + lanes.samples[1]) / 2 if n else np.zeros((0, 50, 2))
        k = centre.shape[1]
        step = np.diff(centre, axis=1)
        tangent = np.concatenate([step, step[:, -1:]], axis=1)
        tangent /= np.maximum(np.linalg.norm(tangent, axis=-1, keepdims=True), 1e-9)
        v = centre[:, -1] - centre[:, 0]
        self.heading = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)
        self.centre = centre
        # keep about one sample per SAMPLE_SPACING_M for point queries
        length = np.nansum(np.linalg.norm(step, axis=-1), axis=1)
        stride = np.maximum(1, np.floor(SAMPLE_SPACING_M * (k - 1) / np.maximum(length, 1e-9)))
        i = np.arange(k)[None, :]
        keep = ((i % stride[:, None].astype(int)) == 0) | (i == k - 1)
        keep &= np.isfinite(centre).all(-1) & (self.motor & ~lanes.is_intersection)[:, None]
        owner = np.broadcast_to(np.arange(n)[:, None], (n, k))
        self.points, self.tangents, self.owner = centre[keep], tangent[keep], owner[keep]
        self.tree = cKDTree(self.points) if len(self.points) else None

        def same(nbr):
            safe = np.maximum(nbr, 0)
            cos = np.einsum("ij,ij->i", self.heading, self.heading[safe])
            return np.where((nbr >= 0) & (cos > SAME_COS) & self.motor[safe], nbr, -1)

        self.same_left, self.same_right = same(lanes.left_neighbor), same(lanes.right_neighbor)
        right_count = self._chain(self.same_right)
        left_count = self._chain(self.same_left)
        self.from_curb = np.where(self.motor, right_count + 1, 0)
        self.lanes = np.where(self.motor, right_count + left_count + 1, 0)
        opposite = self._oncoming(lanes, one_way_search)
        self.oncoming_lanes = np.where(opposite >= 0, self.lanes[np.maximum(opposite, 0)], 0)
        self.one_way = self.motor & (opposite < 0)
        self._inherit(lanes)

    @staticmethod
    def _chain(nbr: np.ndarray) -> np.ndarray:
        """How many steps each lane can walk along ``nbr`` (cycles stop at 10)."""
        count = np.zeros(len(nbr), int)
        cur = np.arange(len(nbr))
        for _ in range(10):
            nxt = np.where(cur >= 0, nbr[np.maximum(cur, 0)], -1)
            count += nxt >= 0
            cur = nxt
        return count

    def _oncoming(self, lanes, search: float) -> np.ndarray:
        """(L,) nearest lane heading the other way to the left of each motor lane, else -1."""
        o = lanes.left_neighbor  # a left-neighbour pointer to an opposite lane is decisive
        safe = np.maximum(o, 0)
        direct = (o >= 0) & self.motor & self.motor[safe] & \
            (np.einsum("ij,ij->i", self.heading, self.heading[safe]) < OPPOSITE_COS)
        out = np.where(direct, o, -1)
        todo = np.flatnonzero(self.motor & ~direct)
        if self.tree is None or not len(todo):
            return out
        k = self.centre.shape[1]
        pick = np.array([k // 4, k // 2, (3 * k) // 4])
        probes = self.centre[todo][:, pick].reshape(-1, 2)
        probe_lane = np.repeat(todo, len(pick))
        probe_tan = np.repeat(self.heading[todo], len(pick), axis=0)
        fine = np.isfinite(probes).all(1)
        probes, probe_lane, probe_tan = probes[fine], probe_lane[fine], probe_tan[fine]
        hits = self.tree.query_ball_point(probes, search)
        sizes = np.fromiter((len(h) for h in hits), int, len(hits))
        if sizes.sum() == 0:
            return out
        src = np.repeat(np.arange(len(probes)), sizes)
        dst = np.concatenate([np.asarray(h, int) for h in hits if len(h)])
        rel = self.points[dst] - probes[src]
        t = probe_tan[src]
        left = t[:, 0] * rel[:, 1] - t[:, 1] * rel[:, 0] > 0
        opp = np.einsum("ij,ij->i", t, self.tangents[dst]) < OPPOSITE_COS
        dist = np.linalg.norm(rel, axis=1)
        sel = np.flatnonzero(left & opp)
        sel = sel[np.lexsort((dist[sel], probe_lane[src[sel]]))]   # by lane, nearest first
        lane_of = probe_lane[src[sel]]
        first = np.r_[True, lane_of[1:] != lane_of[:-1]] if len(sel) else np.zeros(0, bool)
        out[lane_of[first]] = self.owner[dst[sel[first]]]
        return out

    def _inherit(self, lanes) -> None:
        idx = lanes.id_to_index
        for q in np.flatnonzero(lanes.is_intersection):
            seg = lanes.segments[q]
            near = [idx.get(int(i), -1) for i in list(seg.predecessors) + list(seg.successors)]
            near = [p for p in near if p >= 0 and not lanes.is_intersection[p] and self.motor[p]]
            if near and self.motor[q]:
                p = near[0]
                self.from_curb[q], self.lanes[q] = self.from_curb[p], self.lanes[p]
                self.oncoming_lanes[q], self.one_way[q] = self.oncoming_lanes[p], self.one_way[p]


def road_index(ctx: LogContext) -> RoadIndex:
    """The log's RoadIndex, built once."""
    return ctx.memo(("road_index",), lambda: RoadIndex(ctx.lanes))


def _lane_lookup(ctx: LogContext, per_lane: np.ndarray) -> np.ndarray:
    """(N, T) bool: the track's lane has the property; dropouts up to LANE_GAP_S closed."""
    lane = ctx.lane
    mask = (lane >= 0) & per_lane[np.maximum(lane, 0)]
    return persistent(ctx, mask, 0.0, LANE_GAP_S)


# ----------------------------------------------------------------------------- lane atoms
def in_lane_number(track_candidates, log_dir, number=1, counted_from="curb"):
    """Objects in the n-th motor lane of their direction of travel, counted from the curb.

    Lanes are the map's lane segments of type VEHICLE or BUS whose neighbour pointers head the
    same way as the object's lane; bike lanes are not counted (an object in a bike lane is in
    no numbered lane). Intersection segments take the numbering of the road they continue.
    Dropouts in the lane assignment of up to 0.2 s are bridged.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        number: lane number, 1 = the lane next to the curb (default 1).
        counted_from: "curb" (right-most lane is 1, right-hand traffic) or "center"
            (the lane next to the centre line / oncoming traffic is 1). Default "curb".

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept at the timestamps where it is
        in that lane.

    Example:
        curb_lane_cars = in_lane_number(cars, log_dir, number=1)
        fast_lane = in_lane_number(vehicles, log_dir, number=1, counted_from="center")
    """
    _number("in_lane_number", "number", number, 1, integer=True)
    _choice("in_lane_number", "counted_from", counted_from, ("curb", "center"))
    ctx = get_context(log_dir)
    road = road_index(ctx)
    index = road.from_curb if counted_from == "curb" else road.lanes - road.from_curb + 1
    per_lane = road.motor & (index == int(number))
    mask = ctx.memo(("in_lane_number", int(number), counted_from),
                    lambda: _lane_lookup(ctx, per_lane))
    return filter_by_mask(track_candidates, ctx, mask)


def on_road_with_lanes(track_candidates, log_dir, min_lanes=1, max_lanes=np.inf,
                       both_directions=False):
    """Objects on a road with a given number of motor lanes.

    Motor lanes are lane segments of type VEHICLE or BUS. By default the lanes of the
    object's own direction of travel are counted; with
    ``both_directions=True`` the lanes of the nearest oncoming road (within 25 m to the left)
    are added. Bike lanes are never counted; objects outside lanes are never kept.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        min_lanes: fewest lanes, inclusive (default 1).
        max_lanes: most lanes, inclusive (default np.inf).
        both_directions: count the oncoming lanes too (default False).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept where its road has
        min_lanes..max_lanes lanes.

    Example:
        multi_lane = on_road_with_lanes(vehicles, log_dir, min_lanes=3)
        two_lane_road = on_road_with_lanes(cars, log_dir, min_lanes=2, max_lanes=2,
                                           both_directions=True)
    """
    _number("on_road_with_lanes", "min_lanes", min_lanes, 0)
    _number("on_road_with_lanes", "max_lanes", max_lanes, 0)
    if not isinstance(both_directions, (bool, np.bool_)):
        raise ValueError(f"on_road_with_lanes: both_directions must be True or False, "
                         f"got {both_directions!r}")
    ctx = get_context(log_dir)
    road = road_index(ctx)
    count = road.lanes + (road.oncoming_lanes if both_directions else 0)
    per_lane = road.motor & (count >= min_lanes) & (count <= max_lanes)
    mask = ctx.memo(("on_road_with_lanes", float(min_lanes), float(max_lanes),
                     bool(both_directions)), lambda: _lane_lookup(ctx, per_lane))
    return filter_by_mask(track_candidates, ctx, mask)


def on_one_way_road(track_candidates, log_dir):
    """Objects in a motor lane of a one-way road.

    A lane is one-way when neither its left-neighbour pointer nor any lane centre line within
    25 m to its left heads the opposite way (so a divided road with a wide median counts as
    two-way). Maps are cropped around the log: near the crop edge an oncoming road may be
    missing, which reads as one-way. Intersection segments take the value of the road they
    continue.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept where it is on a one-way road.

    Example:
        one_way_cars = on_one_way_road(cars, log_dir)
        wrong_way = scenario_and([one_way_cars, heading_in_relative_direction_to(
            one_way_cars, other_cars, log_dir, direction="opposite")])
    """
    ctx = get_context(log_dir)
    road = road_index(ctx)
    mask = ctx.memo(("on_one_way_road",), lambda: _lane_lookup(ctx, road.one_way))
    return filter_by_mask(track_candidates, ctx, mask)


# ----------------------------------------------------------------------------- medians
def _median_mask(ctx: LogContext, max_distance: float) -> np.ndarray:
    """(N, T) raw on-median test of every annotated cell outside the lanes. A track that
    never moves 3 m (ctx.stationary) is tested once, at its median position."""
    from scenmine.dsl.geometry import inside_pairs

    road = road_index(ctx)
    out = np.zeros(ctx.valid.shape, bool)
    cand = ctx.valid & (ctx.lane < 0)
    if road.tree is None or not cand.any():
        return out
    rows, cols = np.nonzero(cand & ~ctx.stationary[:, None])
    still = np.flatnonzero(ctx.stationary & cand.any(axis=1))
    with np.errstate(invalid="ignore"):
        p = np.concatenate([ctx.pos[rows, cols, :2],
                            np.nanmedian(ctx.pos[still, :, :2], axis=1).reshape(-1, 2)])
    hit = np.zeros(len(p), bool)
    drivable = [da.xyz[:, :2] for da in ctx.map.get_scenario_vector_drivable_areas()]
    off = np.ones(len(p), bool)
    off[inside_pairs(p, drivable)[0]] = False
    q = np.flatnonzero(off)
    k = min(MEDIAN_NEIGHBOURS, len(road.points))
    dist, idx = road.tree.query(p[q], k=k, distance_upper_bound=max_distance)
    dist, idx = dist.reshape(len(q), k), idx.reshape(len(q), k)
    found = np.isfinite(dist)
    j = np.where(found, idx, 0)
    t = road.tangents[j]                                    # (M, K, 2)
    rel = p[q][:, None, :] - road.points[j]
    left = found & (t[..., 0] * rel[..., 1] - t[..., 1] * rel[..., 0] > 0)
    first = np.argmax(left, axis=1)                         # the nearest sample it is left of
    ref = np.take_along_axis(t, first[:, None, None].repeat(2, 2), axis=1)  # (M, 1, 2)
    opposite = left & (np.einsum("mkd,mkd->mk", t, ref) < OPPOSITE_COS)
    hit[q] = left.any(axis=1) & opposite.any(axis=1)
    out[rows, cols] = hit[:len(rows)]
    out[still] = hit[len(rows):, None] & cand[still]
    return out


def on_median(track_candidates, log_dir, max_distance=MEDIAN_MAX_DISTANCE_M, min_duration=0.5):
    """Objects on a median: off the road surface, between two roads of opposite directions.

    Argoverse 2 maps do not mark medians, so a point is on a median when it is outside the
    drivable area (raised or planted medians are not road surface; painted ones are, and do
    not count) and in no lane segment, and lies to the LEFT of lane centre lines of both
    directions within ``max_distance`` m (between the two carriageways of a divided road,
    where a sidewalk is to the right of its road). Intersection segments are ignored. The
    condition must hold for ``min_duration`` s (dropouts up to 0.2 s bridged). A track
    that never moves 3 m is tested once, at its median position.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        max_distance: largest distance in m from the object's centre to the lane centre lines
            on either side (default 10; half a wide median plus half a lane).
        min_duration: shortest time in s the object must stay there (default 0.5).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept where it is on a median.

    Example:
        peds_on_median = on_median(peds, log_dir)
    """
    return _unary("on_median", track_candidates, log_dir,
                  lambda ctx: persistent(ctx, _median_mask(ctx, max_distance), min_duration,
                                         LANE_GAP_S),
                  max_distance=max_distance, min_duration=min_duration)


# ----------------------------------------------------------------------------- infrastructure
def _element_positions(ctx: LogContext, categories) -> tuple[np.ndarray, np.ndarray]:
    """(E, T, 2) positions and (E, T) presence of annotated elements. A stationary element
    (spans < 3 m) is placed at its median position at every timestamp, so a frame where it
    was not annotated (occluded, out of range) does not hide it."""
    rows = np.flatnonzero(np.isin(ctx.categories, categories))
    pos = ctx.pos[rows, :, :2].copy()
    present = ctx.valid[rows].copy()
    still = ctx.stationary[rows]
    if still.any():
        pos[still] = np.nanmedian(pos[still], axis=1)[:, None, :]
        present[still] = True
    return pos, present


def _near_element_mask(ctx: LogContext, element: str, distance: float,
                       cells: np.ndarray | None = None) -> np.ndarray:
    """(N, T) bool: within ``distance`` of the element, tested on ``cells`` (default: every
    annotated cell)."""
    from scenmine.dsl.geometry import dilate_polygon, inside_pairs

    cells = ctx.valid if cells is None else cells

    if element in ANNOTATED_ELEMENTS:
        pos, present = _element_positions(ctx, ANNOTATED_ELEMENTS[element])
        out = np.zeros(ctx.valid.shape, bool)
        for e in range(len(pos)):  # elements are few; each is one (N, T) distance test
            d = np.linalg.norm(ctx.pos[..., :2] - pos[e][None], axis=-1)
            with np.errstate(invalid="ignore"):
                out |= (d <= distance) & present[e][None]
        self_rows = np.isin(ctx.categories, ANNOTATED_ELEMENTS[element])
        if len(pos) == 1:  # an element is not near itself
            out[self_rows] = False
        return out & cells
    lanes = ctx.lanes
    if element == "crosswalk":
        polys = [pc.polygon[:, :2] for pc in ctx.map.get_scenario_ped_crossings()]
    else:
        pick = {"bike_lane": lanes.lane_type == "BIKE", "bus_lane": lanes.lane_type == "BUS"}[
            element]
        polys = [lanes.polygons[q] for q in np.flatnonzero(pick)]
    out = np.zeros(ctx.valid.shape, bool)
    rows, cols = np.nonzero(cells)
    if polys and len(rows):
        grown = [dilate_polygon(p, distance) if distance else p for p in polys]
        hit, _ = inside_pairs(ctx.pos[rows, cols, :2], grown)
        out[rows[hit], cols[hit]] = True
    return out


def near_infrastructure(track_candidates, log_dir, element, within_distance=10):
    """Objects near a named piece of road infrastructure that the map or annotations carry.

    Annotated elements ("stop_sign", "sign" (any sign, stop signs included), "bollard",
    "construction" (cones, barrels, message-board trailers), "traffic_light_trailer",
    "crossing_sign") are measured centre to centre; a stationary element counts at every
    timestamp, even where it was not annotated. Map elements ("crosswalk", "bike_lane",
    "bus_lane") are measured from the object's centre to the element's polygon (0 inside);
    for intersections use near_intersection. Argoverse 2 has no traffic lights (no
    category, no signal state), no parking lanes and no driveways: asking for them raises
    an error that says so.

    Args:
        track_candidates: scenario dict of the objects to test.
        log_dir: the log handle the program was given; pass it through unchanged.
        element: one of the names above.
        within_distance: largest distance in m (default 10).

    Returns:
        Scenario dict {uuid: [timestamps]}: every candidate, kept where the element is within
        reach.

    Example:
        peds_near_stop_sign = near_infrastructure(peds, log_dir, "stop_sign", within_distance=5)
        cars_by_bike_lane = near_infrastructure(cars, log_dir, "bike_lane", within_distance=1)
    """
    if element in NOT_IN_AV2:
        raise ValueError(f"near_infrastructure: {element!r} is not available: "
                         f"{NOT_IN_AV2[element]}; elements: {', '.join(ELEMENTS)}")
    _choice("near_infrastructure", "element", element, ELEMENTS)
    _number("near_infrastructure", "within_distance", within_distance, 0)
    ctx = get_context(log_dir)
    mask = ctx.memo(("near_infrastructure", element, float(within_distance)),
                    lambda: _near_element_mask(ctx, element, float(within_distance)))
    return filter_by_mask(track_candidates, ctx, mask)


# ----------------------------------------------------------------------------- n-th object
def _nth_kernel(ctx, geo, ti, ci, direction, n, within_distance, lateral_thresh):
    """(A, B, T): candidate b is the n-th closest (footprint distance, candidate order on
    ties, as RefAV ranks) of those in ``direction`` of track a within reach."""
    from scenmine.dsl.relational_kernels import direction_kernel

    sel = direction_kernel(ctx, geo, ti, ci, direction, 0, np.inf, within_distance,
                           lateral_thresh)
    out = np.zeros(sel.shape, bool)
    a, b, t = np.nonzero(sel)
    if len(a) == 0:
        return out
    dist = np.full(sel.shape, np.inf)
    dist[a, b, t] = geo.box_distance(ti[a], ci[b], t)
    order = np.argsort(dist, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(sel.shape[1])[None, :, None], axis=1)
    return sel & (rank == n - 1)


def nth_object_in_direction(track_candidates, related_candidates, log_dir, direction, n=1,
                            within_distance=50, lateral_thresh=np.inf):
    """The n-th closest related object in a direction of each track, as the referred object.

    The related objects found become the referred objects, as with
    get_objects_in_relative_direction. Directions and distances are those of
    has_objects_in_relative_direction (the direction is decided on centroids in the track's
    frame; distance is footprint to footprint). At a timestamp with fewer than ``n``
    objects in that direction nothing is returned.

    Args:
        track_candidates: scenario dict of the objects to look from (e.g. the ego vehicle).
        related_candidates: scenario dict of the objects to count (e.g. vehicles).
        log_dir: the log handle the program was given; pass it through unchanged.
        direction: "forward", "backward", "left" or "right".
        n: which one, 1 = the closest (default 1).
        within_distance: largest footprint distance in m (default 50).
        lateral_thresh: largest sideways offset in m beyond the track's sides for
            forward/backward (beyond its front/back for left/right); default np.inf.

    Returns:
        Relational scenario dict {n-th object uuid: {track uuid: [timestamps]}}.

    Example:
        second_car_ahead = nth_object_in_direction(ego, vehicles, log_dir, "forward", n=2,
                                                   lateral_thresh=1.5)
    """
    from scenmine.dsl.relational import _relate
    from scenmine.dsl.scenario import reverse_relationship

    _choice("nth_object_in_direction", "direction", direction,
            ("forward", "backward", "left", "right"))
    _number("nth_object_in_direction", "n", n, 1, integer=True)
    _number("nth_object_in_direction", "within_distance", within_distance, 0)
    _number("nth_object_in_direction", "lateral_thresh", lateral_thresh, 0)

    def has_nth(tracks, related, log, direction, n, within_distance, lateral_thresh):
        return _relate(tracks, related, log, _nth_kernel, direction=direction, n=int(n),
                       within_distance=within_distance, lateral_thresh=lateral_thresh)

    has_nth.__name__ = "has_nth_object_in_direction"
    return reverse_relationship(has_nth)(track_candidates, related_candidates, log_dir,
                                         direction, n, within_distance, lateral_thresh)


MAP_CONTEXT_FUNCTIONS = (in_lane_number, on_road_with_lanes, on_one_way_road, on_median,
                         near_infrastructure, nth_object_in_direction)
