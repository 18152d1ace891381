"""Pairwise geometry for the relational DSL functions, vectorised over (tracks, candidates, time).

The reference computes every pairwise quantity from a candidate's trajectory *restricted to the
timestamps it shares with the frame track*, then differentiates (central differences over the
neighbouring samples of that restricted sequence) and median-filters it (window ``min(7, n)``,
nearest padding, per axis). A track's own smoothed trajectory therefore differs from the
pair-restricted one only near the places where the frame track is missing. We compute the
per-track smoothing once per log and recompute exactly only those "dirty" (pair, time) points.

Frames: a track's frame at time t is its annotated box pose (raw, not smoothed) composed with the
ego pose; distances between boxes are 2-D footprint distances in the ego frame, like the
reference's ``cuboid_distance``.
"""
from __future__ import annotations

import weakref

import numpy as np

from scenmine.data.logs import LogData

EGO_FRONT = 4.877 / 2 + 1.422  # the reference's ego-box front offset (has_objects_in_relative_direction only)
WINDOW = 7                      # median-filter window of the reference

_GEOS: weakref.WeakKeyDictionary[LogData, Geometry] = weakref.WeakKeyDictionary()


def geometry(log: LogData) -> Geometry:
    """The per-log cached geometry object."""
    geo = _GEOS.get(log)
    if geo is None:
        geo = Geometry(log)
        _GEOS[log] = geo
    return geo


def smooth_points(X: np.ndarray, ts: np.ndarray, mask: np.ndarray, src: np.ndarray,
                  qs: np.ndarray, qt: np.ndarray, deriv: int) -> np.ndarray:
    """Reference smoothing of sequences defined by ``mask`` rows, evaluated at query points.

    X: (N, T, D) raw samples; ts: (T,) timestamps (ns); mask: (S, T) bool, the samples of each
    sequence; src: (S,) row of X that sequence s samples; (qs, qt): K query points, each a
    sequence index and a time index with mask[qs, qt] True. deriv 0 gives the median-filtered
    value, deriv 1 the median-filtered central difference (per second). Returns (K, D).
    """
    S, T = mask.shape
    K = len(qs)
    D = X.shape[-1]
    if K == 0:
        return np.zeros((0, D))
    C = np.cumsum(mask, axis=1, dtype=np.int64)
    n = C[:, -1][qs]                                  # (K,) sequence lengths
    key = (np.arange(S, dtype=np.int64)[:, None] * (T + 1) + C).ravel()
    row = qs.astype(np.int64)
    src_rows = src[qs]

    def time_of(rank: np.ndarray) -> np.ndarray:     # rank (K, W) -> time index (K, W)
        pos = np.searchsorted(key, row[:, None] * (T + 1) + rank + 1)
        return pos - row[:, None] * T

    r = C[qs, qt] - 1
    size = np.minimum(WINDOW, n)
    half = size // 2
    j = np.arange(WINDOW)
    off = j[None, :] - half[:, None]                  # (K, 7)
    use = j[None, :] < size[:, None]
    q = np.clip(r[:, None] + off, 0, (n - 1)[:, None])
    if deriv == 0:
        vals = X[src_rows[:, None], time_of(q)]       # (K, 7, D)
    else:
        a = time_of(np.clip(q - 1, 0, (n - 1)[:, None]))
        b = time_of(np.clip(q + 1, 0, (n - 1)[:, None]))
        dt = (ts[b] - ts[a]).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = (X[src_rows[:, None], b] - X[src_rows[:, None], a]) * (1e9 / dt)[..., None]
    vals = np.where(use[..., None], vals, np.nan)
    vals = np.sort(vals, axis=1)
    out = np.take_along_axis(vals, half[:, None, None].repeat(D, axis=2), axis=1)[:, 0]
    if deriv:
        out[n == 1] = 0.0
    return out


def _own_window_bounds(valid: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Per track and time: time indices of the own-sequence samples w before / after (clipped)."""
    N, T = valid.shape
    C = np.cumsum(valid, axis=1)
    n = C[:, -1]
    order = np.argsort(~valid, axis=1, kind="stable")     # time indices of ranks 0..n-1 first
    r = C - 1
    lo_rank = np.clip(r - w, 0, np.maximum(n - 1, 0)[:, None])
    hi_rank = np.clip(r + w, 0, np.maximum(n - 1, 0)[:, None])
    lo = np.take_along_axis(order, lo_rank, axis=1)
    hi = np.take_along_axis(order, hi_rank, axis=1)
    return lo, hi


def rot_z(yaw: np.ndarray) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    z, o = np.zeros_like(yaw), np.ones_like(yaw)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


class Geometry:
    """Per-log derived arrays the relational functions share (computed lazily, once)."""

    def __init__(self, log: LogData):
        self.log = log
        self.valid = log.valid
        self.N, self.T = log.valid.shape
        self.ts = log.timestamps.astype(np.int64)
        self.pos = np.nan_to_num(log.translation_city)            # raw city centroids
        # city <- object rotation from the raw box pose (annotations rotate about z only)
        yaw = np.nan_to_num(log.yaw_ego)
        self.rot = np.einsum("tij,ntjk->ntik", log.ego_rotation, rot_z(yaw))
        self.cat = np.asarray(log.categories).astype(str)
        ego = np.nonzero(self.cat == "EGO_VEHICLE")[0]
        self.ego = int(ego[0]) if len(ego) else -1
        first = np.argmax(log.valid, axis=1)
        self.first_size = np.nan_to_num(log.size[np.arange(self.N), first])   # (N, 3) l, w, h
        self._cache: dict = {}

    # ---- per-track smoothing -------------------------------------------------------------
    def smoothed(self, deriv: int) -> np.ndarray:
        """(N, T, 3) median-filtered city position (0) or velocity (1) of each track's own
        sequence; NaN where invalid."""
        key = ("smoothed", deriv)
        if key not in self._cache:
            out = np.full((self.N, self.T, 3), np.nan)
            qs, qt = np.nonzero(self.valid)
            out[qs, qt] = smooth_points(self.pos, self.ts, self.valid, np.arange(self.N), qs, qt, deriv)
            self._cache[key] = out
        return self._cache[key]

    def window_bounds(self, w: int):
        key = ("bounds", w)
        if key not in self._cache:
            self._cache[key] = _own_window_bounds(self.valid, w)
        return self._cache[key]

    # ---- pairwise ---------------------------------------------------------------------------
    def pair_valid(self, ti: np.ndarray, ci: np.ndarray) -> np.ndarray:
        """(A, B, T): both tracks annotated, and not the same track."""
        V = self.valid[ti][:, None, :] & self.valid[ci][None, :, :]
        V &= (ti[:, None] != ci[None, :])[..., None]
        return V

    def pair_smoothed(self, ti: np.ndarray, ci: np.ndarray, deriv: int, V: np.ndarray | None = None,
                      frame_restricts: bool = True) -> np.ndarray:
        """(A, B, T, 3) city position/velocity of candidate ci[b], smoothed over the timestamps it
        shares with track ti[a] (the reference's ``coordinate_frame=track`` restriction); NaN
        outside those timestamps. With ``frame_restricts=False`` (the ego as frame) the
        candidate's own smoothing is used."""
        if V is None:
            V = self.pair_valid(ti, ci)
        full = self.smoothed(deriv)[ci]                              # (B, T, 3)
        out = np.where(V[..., None], full[None], np.nan)
        if not frame_restricts:
            return out
        w = 3 + deriv
        lo, hi = self.window_bounds(w)
        miss = self.valid[ci][None, :, :] & ~V                       # candidate sample lost to the pair
        if not miss.any():
            return out
        A, B, T = V.shape
        cm = np.zeros((A, B, T + 1), np.int32)
        np.cumsum(miss, axis=2, out=cm[..., 1:])
        lo_b, hi_b = lo[ci], hi[ci]                                   # (B, T)
        cnt = (np.take_along_axis(cm, np.broadcast_to(hi_b[None] + 1, (A, B, T)), axis=2)
               - np.take_along_axis(cm, np.broadcast_to(lo_b[None], (A, B, T)), axis=2))
        dirty = V & (cnt > 0)
        if not dirty.any():
            return out
        da, db, dt = np.nonzero(dirty)
        pair_id = da * B + db
        uniq, inv = np.unique(pair_id, return_inverse=True)
        mask = V.reshape(A * B, T)[uniq]
        src = ci[uniq % B]
        vals = smooth_points(self.pos, self.ts, mask, src, inv, dt, deriv)
        out[da, db, dt] = vals
        return out

    def to_frame(self, ti: np.ndarray, vec: np.ndarray, is_position: bool) -> np.ndarray:
        """Express city vectors (A, B, T, 3) in the box frame of track ti[a] at each time."""
        R = self.rot[ti][:, None]                                     # (A, 1, T, 3, 3)
        if is_position:
            vec = vec - np.nan_to_num(self.log.translation_city[ti])[:, None]
        out = np.empty_like(vec)
        for i in range(3):                  # out_i = sum_j R[j, i] v_j (R transposed)
            out[..., i] = vec[..., 0] * R[..., 0, i] + vec[..., 1] * R[..., 1, i] \
                + vec[..., 2] * R[..., 2, i]
        return out

    def _relative(self, ti, ci, order: int, V):
        """Candidate positions (order 0) or velocities (order 1), smoothed over the shared
        timestamps, in each track's frame (velocities rotated only)."""
        if V is None:
            V = self.pair_valid(ti, ci)
        out = np.full(V.shape + (3,), np.nan)
        for frame_is_ego in (False, True):
            rows = (ti == self.ego) if frame_is_ego else (ti != self.ego)
            if not rows.any():
                continue
            sub = self.pair_smoothed(ti[rows], ci, order, V[rows], frame_restricts=not frame_is_ego)
            out[rows] = self.to_frame(ti[rows], sub, order == 0)
        return out

    def relative_position(self, ti, ci, V=None):
        """Candidate positions (smoothed over the shared timestamps) in each track's frame."""
        return self._relative(ti, ci, 0, V)

    def relative_velocity(self, ti, ci, V=None):
        """Candidate velocities (smoothed over the shared timestamps), rotated into track frames."""
        return self._relative(ti, ci, 1, V)

    def own_velocity_in_frame(self, ti: np.ndarray) -> np.ndarray:
        """(A, T, 3) each track's smoothed velocity rotated into its own box frame."""
        v = np.nan_to_num(self.smoothed(1)[ti])
        return np.einsum("atji,atj->ati", self.rot[ti], v)

    # ---- boxes --------------------------------------------------------------------------------
    def footprints(self) -> np.ndarray:
        """(N, T, 4, 2) ego-frame footprint corners of every box (NaN where invalid)."""
        if "corners" not in self._cache:
            log = self.log
            c, s = np.cos(log.yaw_ego), np.sin(log.yaw_ego)
            hl, hw = log.size[..., 0] / 2, log.size[..., 1] / 2
            sx = np.array([1, -1, -1, 1.0])
            sy = np.array([-1, -1, 1, 1.0])
            dx = hl[..., None] * sx
            dy = hw[..., None] * sy
            cx = log.translation_ego[..., 0, None] + c[..., None] * dx - s[..., None] * dy
            cy = log.translation_ego[..., 1, None] + s[..., None] * dx + c[..., None] * dy
            self._cache["corners"] = np.stack([cx, cy], -1)
            self._cache["radius"] = np.hypot(hl, hw)
        return self._cache["corners"]

    def box_distance(self, a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Exact footprint-to-footprint distance (0 when overlapping) for K (a, b, t) triples."""
        corners = self.footprints()
        out = np.empty(len(a))
        for s in range(0, len(a), 200_000):
            P = corners[a[s:s + 200_000], t[s:s + 200_000]]
            Q = corners[b[s:s + 200_000], t[s:s + 200_000]]
            out[s:s + 200_000] = _rect_distance(P, Q)
        return out

    def box_within_dense(self, ti: np.ndarray, ci: np.ndarray, D: np.ndarray, thresh: float) -> np.ndarray:
        """D & (footprint distance of (ti[a], ci[b]) at t <= thresh), for a dense (A, B, T) D."""
        self.footprints()
        rad = np.nan_to_num(self._cache["radius"])
        xy = np.nan_to_num(self.log.translation_ego[..., :2])
        xt, xc = xy[ti][:, None], xy[ci][None]
        dx = xt[..., 0] - xc[..., 0]
        dy = xt[..., 1] - xc[..., 1]
        d = np.sqrt(dx * dx + dy * dy)
        res = D & (d <= thresh)                               # box distance <= centre distance
        unsure = D & ~res & (d - rad[ti][:, None] - rad[ci][None] <= thresh)
        if unsure.any():
            a, b, t = np.nonzero(unsure)
            res[a, b, t] = self.box_distance(ti[a], ci[b], t) <= thresh
        return res

    def box_within(self, a: np.ndarray, b: np.ndarray, t: np.ndarray, thresh: float) -> np.ndarray:
        """box_distance(a, b, t) <= thresh, computing exact distances only where needed."""
        self.footprints()
        rad = self._cache["radius"]
        d = np.hypot(*(self.log.translation_ego[a, t, :2] - self.log.translation_ego[b, t, :2]).T)
        res = d <= thresh                                      # box distance <= centre distance
        unsure = ~res & (d - rad[a, t] - rad[b, t] <= thresh)
        if unsure.any():
            idx = np.nonzero(unsure)[0]
            res[idx] = self.box_distance(a[idx], b[idx], t[idx]) <= thresh
        return res


def _rect_distance(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(K,4,2) x (K,4,2) convex quads -> (K,) distance, 0 if they overlap (separating axes)."""
    def axes(R):
        e = np.roll(R, -1, axis=1) - R
        nrm = np.stack([-e[..., 1], e[..., 0]], -1)
        return nrm / np.linalg.norm(nrm, axis=-1, keepdims=True)

    ax = np.concatenate([axes(P), axes(Q)], axis=1)              # (K, 8, 2)
    pp = np.einsum("kad,kpd->kap", ax, P)
    qq = np.einsum("kad,kpd->kap", ax, Q)
    sep = (pp.max(-1) < qq.min(-1)) | (qq.max(-1) < pp.min(-1))
    overlap = ~sep.any(axis=1)

    def pts_to_edges(X, R):                                       # (K,4,2) points to R's edges
        a = R
        b = np.roll(R, -1, axis=1)
        ab = (b - a)[:, None]                                     # (K,1,4,2)
        ap = X[:, :, None] - a[:, None]                           # (K,4,4,2)
        tt = np.clip((ap * ab).sum(-1) / (ab * ab).sum(-1), 0, 1)
        closest = a[:, None] + tt[..., None] * ab
        return np.linalg.norm(X[:, :, None] - closest, axis=-1).min(axis=(1, 2))

    d = np.minimum(pts_to_edges(P, Q), pts_to_edges(Q, P))
    return np.where(overlap, 0.0, d)
