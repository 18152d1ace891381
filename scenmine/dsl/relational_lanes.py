"""Lane groupings used by in_same_lane and on_relative_side_of_road.

"Semantic lane": the chain of lane segments that make up one lane as people speak of it; from a
segment, follow the best-aligned predecessor and successor (cosine of the segments' start-to-end
directions) that is not a turning intersection segment, repeatedly. A turning intersection
segment is a lane of its own. "Road side": the segments reachable from a semantic lane through
left/right neighbours whose shared boundary coincides (the same travel direction); the opposite
side is the road side of the first neighbour across a non-coinciding boundary. Both follow the
reference's rules; results are cached per log and per lane segment.
"""
from __future__ import annotations

import numpy as np

EDGE_MATCH_M = 0.1


class LaneGroups:
    """Semantic-lane and road-side membership over a LaneIndex (indices in map order)."""

    def __init__(self, lanes):
        self.lanes = lanes
        self.segments = lanes.segments
        self.index = lanes.id_to_index
        self._orient: dict[int, np.ndarray] = {}
        self._semantic: dict[int, list[int]] = {}
        self._side: dict[tuple[int, str], frozenset] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _orientation(self, k: int) -> np.ndarray:
        if k not in self._orient:
            ls = self.segments[k]
            try:
                c = self.lanes.avm.get_lane_segment_centerline(ls.id)
            except Exception:
                c = (ls.left_lane_boundary.xyz[[0, -1]] + ls.right_lane_boundary.xyz[[0, -1]]) / 2
            v = c[-1] - c[0]
            self._orient[k] = v / np.linalg.norm(v + 1e-8)
        return self._orient[k]

    def _straightish(self, k: int) -> bool:
        return (not self.segments[k].is_intersection) or self.lanes.turn[k] == "straight"

    def _best(self, k: int, ids, start: float) -> int | None:
        d0 = self._orientation(k)
        best, best_sim = None, start
        for i in ids:
            j = self.index.get(int(i))
            if j is None:
                continue
            d1 = self._orientation(j)
            sim = float(np.dot(d1, d0) / (np.linalg.norm(d1) * np.linalg.norm(d0)))
            if self._straightish(j) and sim > best_sim:
                best, best_sim = j, sim
        return best

    # -- public ----------------------------------------------------------------------------
    def semantic_lane(self, k: int) -> list[int]:
        """Segment indices of the semantic lane through segment k (k first)."""
        if k < 0:
            return []
        if k in self._semantic:
            return self._semantic[k]
        lane = [k]
        if self._straightish(k):
            for attr, start in (("predecessors", 0.0), ("successors", -np.inf)):
                stack = [k]
                while stack:
                    cur = stack.pop()
                    nxt = self._best(cur, getattr(self.segments[cur], attr) or [], start)
                    if nxt is not None and nxt not in lane:
                        lane.append(nxt)
                        stack.append(nxt)
        self._semantic[k] = lane
        return lane

    def road_side(self, k: int, side: str) -> frozenset:
        """Segment indices on the 'same' or 'opposite' side of the road from segment k."""
        if k < 0:
            return frozenset()
        key = (k, side)
        if key in self._side:
            return self._side[key]
        frontier = list(self.semantic_lane(k))
        same: list[int] = []
        opposite: list[int] = []
        while frontier:
            cur = frontier.pop(0)
            same.append(cur)
            ls = self.segments[cur]
            for nb_attr, own_edge, nb_edge in (("left_neighbor_id", "left_lane_boundary", "right_lane_boundary"),
                                               ("right_neighbor_id", "right_lane_boundary", "left_lane_boundary")):
                nb_id = getattr(ls, nb_attr)
                if not nb_id or int(nb_id) not in self.index:
                    continue
                j = self.index[int(nb_id)]
                a = getattr(ls, own_edge).xyz[:, :2]
                b = getattr(self.segments[j], nb_edge).xyz[:, :2]
                gap = np.linalg.norm(a[0] - b[0]) + np.linalg.norm(a[-1] - b[-1])
                if j in opposite or j in same:
                    continue
                if gap < EDGE_MATCH_M:
                    frontier.append(j)
                else:
                    opposite.append(j)
        if side == "same":
            result = frozenset(same)
        elif side == "opposite":
            result = self.road_side(opposite[0], "same") if opposite else frozenset()
        else:
            raise ValueError(f"side must be 'same' or 'opposite', not {side!r}")
        self._side[key] = result
        return result

    def membership(self, rows: np.ndarray, kind: str, side: str | None = None) -> np.ndarray:
        """(len(rows), n_segments) bool: segment j belongs to the group of segment rows[i]."""
        out = np.zeros((len(rows), len(self.segments)), bool)
        for i, k in enumerate(rows.tolist()):
            members = self.semantic_lane(k) if kind == "semantic" else self.road_side(k, side)
            if members:
                out[i, list(members)] = True
        return out
