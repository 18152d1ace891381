"""Lane-segment lookups of one log's map, batched over every (track, timestamp).

The reference puts a point in a lane segment when the point is inside the segment's polygon
(ray casting) and any of 50 arc-length samples of either boundary lies within 5 m (L-inf)
of it. Each track then gets one lane per timestamp by a greedy vote: the lane that holds the
most of the track's timestamps takes them, ties go to the later intersection lane whose turn
direction agrees with the track's mean yaw rate; repeat with the rest.
"""
from __future__ import annotations

import numpy as np

from scenmine.dsl.geometry import inside_pairs, pad_polygons, point_in_polygon

NEARBY_M = 5.0
TIE_YAW_RATE = 0.15  # rad/s


def turn_direction(ls) -> str | None:
    """'left' / 'right' / 'straight' for intersection lane segments, else None (reference rule)."""
    if ls is None or not ls.is_intersection:
        return None
    right, left = ls.right_lane_boundary.xyz[:, :2], ls.left_lane_boundary.xyz[:, :2]
    start, end = right[0] - left[0], right[-1] - left[-1]
    change = np.arctan2(end[0], end[1]) - np.arctan2(start[0], start[1])
    if abs(change) > np.pi:
        change += -2 * np.pi if change > 0 else 2 * np.pi
    if change > np.pi / 6:
        return "right"
    if change < -np.pi / 6:
        return "left"
    return "straight"


class LaneIndex:
    """Arrays over the map's lane segments, in the map's own order."""

    def __init__(self, avm):
        from av2.geometry.interpolate import interp_arc

        self.avm = avm
        self.segments = list(avm.vector_lane_segments.values())
        self.ids = np.array([ls.id for ls in self.segments], dtype=np.int64)
        self.id_to_index = {int(i): k for k, i in enumerate(self.ids)}
        self.is_intersection = np.array([bool(ls.is_intersection) for ls in self.segments])
        self.lane_type = np.array([getattr(ls.lane_type, "value", str(ls.lane_type))
                                   for ls in self.segments])
        self.turn = [turn_direction(ls) for ls in self.segments]
        self.left_neighbor = self._indices([ls.left_neighbor_id for ls in self.segments])
        self.right_neighbor = self._indices([ls.right_neighbor_id for ls in self.segments])
        self.polygons = [ls.polygon_boundary[:, :2] for ls in self.segments]
        self.left_bounds = [ls.left_lane_boundary.xyz[:, :2] for ls in self.segments]
        self.right_bounds = [ls.right_lane_boundary.xyz[:, :2] for ls in self.segments]
        samples = {"right": [], "left": []}
        for ls in self.segments:
            for side, found in samples.items():
                bound = getattr(ls, f"{side}_lane_boundary").xyz[:, :2]
                try:
                    found.append(interp_arc(50, bound))
                except Exception:  # noqa: BLE001 - degenerate boundary: av2 falls back likewise
                    found.append(bound)
        # per boundary (L, S, 2), padded by repeating the last sample; NaN samples (as av2 can
        # produce) make that boundary never 'nearby', as in av2
        self.samples = [pad_polygons(samples[side])[0] for side in ("right", "left")]

    def _near(self, xy: np.ndarray, lanes) -> np.ndarray:
        """(K,) bool: a boundary of lane k has a sample within 5 m (L-inf) of point k."""
        near = np.zeros(len(xy), bool)
        for pts in self.samples:
            with np.errstate(invalid="ignore"):
                near |= np.abs(pts[lanes] - xy[:, None, :]).max(-1).min(-1) < NEARBY_M
        return near

    def _indices(self, ids) -> np.ndarray:
        return np.array([self.id_to_index.get(int(i), -1) if i is not None else -1 for i in ids])

    def containing(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, lane) index pairs, sorted, where the reference finds the point in the lane."""
        pi, li = inside_pairs(xy, self.polygons)
        if len(pi) == 0:
            return pi, li
        keep = self._near(xy[pi], li)
        return pi[keep], li[keep]

    def across(self, xy: np.ndarray, q: int) -> np.ndarray:
        """Fraction across lane q from its left boundary of points (M,2); NaN outside it."""
        if q < 0:
            return np.full(len(xy), np.nan)
        return within_lane(np.asarray(xy, float)[:, :2], self.left_bounds[q],
                           self.right_bounds[q], self.polygons[q])[1]

    def nearby(self, xy: np.ndarray, radius: float) -> np.ndarray:
        """Lane indices (map order) with a boundary sample within ``radius`` (L-inf) of xy."""
        xy = np.asarray(xy, float)[:2]
        near = np.zeros(len(self.segments), bool)
        for pts in self.samples:
            with np.errstate(invalid="ignore"):
                near |= np.abs(pts - xy).max(-1).min(-1) < radius
        return np.flatnonzero(near)


def _vote(cols: np.ndarray, lanes: np.ndarray, rate: np.ndarray, turn: list) -> dict:
    """Greedy lane vote of one track: {col: lane}. Pairs come sorted by (col, lane)."""
    buckets: dict[int, set] = {}
    for c, q in zip(cols.tolist(), lanes.tolist()):
        buckets.setdefault(q, set()).add(c)
    out = {}
    while buckets:
        most, best = 0, None
        for q, members in buckets.items():
            if len(members) > most:
                most, best = len(members), q
            elif len(members) == most:
                w = float(np.mean(rate[list(members)]))
                t = turn[q]
                if (t == "left" and w > TIE_YAW_RATE) or (t == "right" and w < -TIE_YAW_RATE) \
                        or (t == "straight" and -TIE_YAW_RATE < w < TIE_YAW_RATE):
                    most, best = len(members), q
        taken = buckets.pop(best)
        out.update(dict.fromkeys(taken, best))
        for q in list(buckets):
            buckets[q] -= taken
            if not buckets[q]:
                del buckets[q]
    return out


def assign_lanes(ctx) -> np.ndarray:
    """(N,T) int lane index per (track, timestamp) from smoothed positions; -1 if none."""
    index = ctx.lanes
    rows, cols = np.nonzero(ctx.valid)
    pi, li = index.containing(ctx.pos[rows, cols, :2])
    out = np.full(ctx.valid.shape, -1, dtype=int)
    if len(pi) == 0:
        return out
    tr, tc = rows[pi], cols[pi]
    bounds = np.flatnonzero(np.diff(tr)) + 1
    for seg in np.split(np.arange(len(pi)), bounds):
        r = int(tr[seg[0]])
        for c, q in _vote(tc[seg], li[seg], ctx.yaw_rate[r], index.turn).items():
            out[r, c] = q
    return out


def pos_within_lane(pos: np.ndarray, ls) -> tuple[float | None, float | None]:
    """(fraction along, fraction across from the left boundary) of pos in a lane segment.

    Mirrors the reference's get_pos_within_lane, including its use of the absolute projection
    length; (None, None) outside the lane's polygon.
    """
    if ls is None:
        return None, None
    along, across = within_lane(np.asarray(pos, float)[None, :2], ls.left_lane_boundary.xyz[:, :2],
                                ls.right_lane_boundary.xyz[:, :2], ls.polygon_boundary[:, :2])
    return (None, None) if np.isnan(across[0]) else (float(along[0]), float(across[0]))


def within_lane(xy: np.ndarray, left: np.ndarray, right: np.ndarray, polygon: np.ndarray):
    """Vectorised pos_within_lane over points (M,2): (along, across) arrays, NaN outside."""
    rows = np.arange(len(xy))
    found = []
    for line in (left, right):
        start, seg = line[:-1], np.diff(line, axis=0)
        length = np.sqrt(np.einsum("ij,ij->i", seg, seg))
        direction = seg / length[:, None]
        dot = np.einsum("mij,ij->mi", xy[:, None, :] - start[None], direction)  # (M,S)
        proj = dot[..., None] * direction[None]
        plen = np.abs(dot)
        point = np.where((plen <= length)[..., None], start[None] + proj, line[None, 1:])
        k = np.argmin(np.sum((xy[:, None, :] - point) ** 2, axis=-1), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(length)])
        found.append((start[k] + proj[rows, k], cum[k] + plen[rows, k], cum[-1]))
    (lp, ld, lt), (rp, rd, rt) = found
    along = ((ld + rd) / 2) / ((lt + rt) / 2)
    width = np.hypot(*(lp - rp).T)
    across = np.abs(np.einsum("ij,ij->i", xy - lp, (lp - rp) / width[:, None])) / width
    inside = point_in_polygon(xy, polygon)
    return np.where(inside, along, np.nan), np.where(inside, across, np.nan)
