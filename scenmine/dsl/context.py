"""LogContext: one log's derived (N, T) arrays, computed once and shared by every DSL call.

Row ``i`` is track ``uuids[i]``, column ``j`` is ``timestamps[j]``; cells where a track is not
annotated are NaN (floats) or False (masks). Kinematics follow the reference: positions,
velocities and accelerations are computed over each track's own sequence of timestamps
(central differences over +-1 frame, one-sided at the ends), then median-filtered over time
(window ``min(7, length)``, edge values repeated). Velocities use the raw positions.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from scenmine.data.logs import EGO_CATEGORY, LogData, load_log

WINDOW = 7
VEHICLE_CATEGORIES = ("EGO_VEHICLE", "ARTICULATED_BUS", "BOX_TRUCK", "BUS", "LARGE_VEHICLE",
                      "MOTORCYCLE", "RAILED_VEHICLE", "REGULAR_VEHICLE", "SCHOOL_BUS", "TRUCK",
                      "TRUCK_CAB")
STATIONARY_SPAN_M = 3.0  # the reference's threshold (its docstring says 2 m)
# bottom-face corners (x, y, z signs) in the reference's vertex order 2, 6, 7, 3
_FOOTPRINT_SIGNS = np.array([[1, -1, -1], [-1, -1, -1], [-1, 1, -1], [1, 1, -1]], float)


# ----------------------------------------------------------------------------- packed tracks
def pack(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the valid columns first (in time order): (order (M,T), lengths (M,))."""
    return np.argsort(~mask, axis=1, kind="stable"), mask.sum(axis=1)


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values (M,T,...) gathered along axis 1 with index (M,K) -> (M,K,...)."""
    return values[np.arange(len(values))[:, None], index]


def _unpack(packed: np.ndarray, order: np.ndarray, mask: np.ndarray, fill=np.nan) -> np.ndarray:
    out = np.empty_like(packed)
    out[np.arange(len(packed))[:, None], order] = packed
    out[~mask] = fill
    return out


def _central_diff(packed: np.ndarray, t_s: np.ndarray, lengths: np.ndarray, wrap=False):
    """d/dt over +-1 sample of each packed row (one-sided at the ends; 0 for one sample)."""
    k = np.arange(packed.shape[1])[None, :]
    last = np.maximum(lengths - 1, 0)[:, None]
    nxt, prv = np.minimum(k + 1, last), np.maximum(np.minimum(k - 1, last), 0)
    diff = _take(packed, nxt) - _take(packed, prv)
    if wrap:
        diff = np.where(np.abs(diff) > np.pi, diff - np.sign(diff) * 2 * np.pi, diff)
    dt = _take(t_s, nxt) - _take(t_s, prv)
    dt = dt.reshape(dt.shape + (1,) * (packed.ndim - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(dt > 0, diff / np.where(dt > 0, dt, 1), 0.0)


def _median_filter(packed: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Median over a window of min(7, length) samples, 'nearest' edges (scipy's convention)."""
    out = packed.copy()
    width = np.minimum(lengths, WINDOW)
    k = np.arange(packed.shape[1])[None, :, None]
    for w in np.unique(width[width > 1]):
        rows = np.flatnonzero(width == w)
        offsets = np.arange(w) - w // 2
        idx = np.clip(k + offsets[None, None, :], 0, (lengths[rows] - 1)[:, None, None])
        sub = packed[rows]
        win = sub[np.arange(len(rows))[:, None, None], idx]  # (R, T, w, ...)
        out[rows] = np.sort(win, axis=2)[:, :, w // 2]
    return out


def track_derivative(values: np.ndarray, mask: np.ndarray, timestamps: np.ndarray, n: int = 0,
                     smooth: bool = True) -> np.ndarray:
    """n-th time derivative (per second) of (M,T,D) values over each row's masked samples.

    Matches the reference's get_nth_pos_deriv: differences of the raw samples, then a median
    filter. NaN outside ``mask``.
    """
    order, lengths = pack(mask)
    packed = _take(values, order)
    t_s = (timestamps[order] - timestamps[0]) * 1e-9
    for _ in range(n):
        packed = _central_diff(packed, t_s, lengths)
    if smooth:
        packed = _median_filter(packed, lengths)
    return _unpack(packed, order, mask)


def yaw_rate(yaw: np.ndarray, mask: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """(M,T) yaw derivative in rad/s over each row's samples, angle wrap handled, no filter."""
    order, lengths = pack(mask)
    t_s = (timestamps[order] - timestamps[0]) * 1e-9
    rate = _central_diff(_take(yaw, order), t_s, lengths, wrap=True)
    return _unpack(rate, order, mask)


def rotvec_z(rot: np.ndarray) -> np.ndarray:
    """z component of the rotation vector of (...,3,3) rotations (the reference's 'yaw')."""
    from scipy.spatial.transform import Rotation

    out = np.full(rot.shape[:-2], np.nan)
    ok = np.isfinite(rot).all(axis=(-1, -2))
    if ok.any():
        out[ok] = Rotation.from_matrix(rot[ok]).as_rotvec()[:, 2]
    return out


def rot_z(yaw: np.ndarray) -> np.ndarray:
    c, s, z, o = np.cos(yaw), np.sin(yaw), np.zeros_like(yaw), np.ones_like(yaw)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1),
                     np.stack([z, z, o], -1)], -2)


# ----------------------------------------------------------------------------- the context
class LogContext:
    """Derived arrays of one log. Cheap kinematics eagerly, map lookups lazily (once each)."""

    def __init__(self, log: LogData):
        self.log = log
        self.log_dir = Path(log.log_dir)
        self.uuids = np.asarray(log.uuids, dtype=object)
        self.categories = np.asarray(log.categories).astype(str)
        self.timestamps = np.asarray(log.timestamps, dtype=np.int64)
        self.valid = np.asarray(log.valid, bool)
        self.n_tracks, self.n_times = self.valid.shape
        self.index = {u: i for i, u in enumerate(self.uuids)}
        self.time_index = {int(t): j for j, t in enumerate(self.timestamps)}
        ego = np.flatnonzero(self.categories == EGO_CATEGORY)
        self.ego_index = int(ego[0]) if len(ego) else None
        self.ego_uuid = self.uuids[self.ego_index] if len(ego) else None
        self.cache: dict = {}  # (function, params) -> result, for this log

        ts = self.timestamps
        self.raw_pos = np.asarray(log.translation_city, float)
        # city <- object rotation; annotation cuboids rotate about the ego z axis only
        self.rot_city = np.einsum("tij,ntjk->ntik", log.ego_rotation, rot_z(log.yaw_ego))
        self.size = np.asarray(log.size, float)
        self.pos = track_derivative(self.raw_pos, self.valid, ts, 0)
        self.vel = track_derivative(self.raw_pos, self.valid, ts, 1)
        self.acc = track_derivative(self.raw_pos, self.valid, ts, 2)
        self.vel_self = np.einsum("ntji,ntj->nti", self.rot_city, self.vel)
        self.acc_self = np.einsum("ntji,ntj->nti", self.rot_city, self.acc)
        self.speed = np.linalg.norm(self.vel, axis=-1)
        self.yaw = rotvec_z(self.rot_city)
        self.yaw_rate = yaw_rate(self.yaw, self.valid, ts)
        self.pos_ego = np.einsum("tji,ntj->nti", log.ego_rotation,
                                 self.pos - log.ego_translation[None])
        span = np.nanmax(self.pos, axis=1) - np.nanmin(self.pos, axis=1)
        self.stationary = np.linalg.norm(np.nan_to_num(span), axis=-1) < STATIONARY_SPAN_M

    # -- identities ---------------------------------------------------------------------
    def rows(self, uuids) -> np.ndarray:
        """Row indices of uuids (unknown uuids dropped)."""
        return np.array([self.index[u] for u in uuids if u in self.index], dtype=int)

    def category_mask(self, category: str) -> np.ndarray:
        """(N,) bool: tracks of an AV2 category, or the super-categories ANY / VEHICLE."""
        if category == "ANY":
            return np.ones(self.n_tracks, bool)
        if category == "VEHICLE":
            return np.isin(self.categories, VEHICLE_CATEGORIES)
        return self.categories == category

    def category_uuids(self, category: str) -> list:
        return list(self.uuids[self.category_mask(category)])

    @property
    def dt_first(self) -> np.ndarray:
        """(N,) seconds between each track's first two timestamps (0 if seen once)."""
        order, lengths = pack(self.valid)
        t = self.timestamps[order[:, :2]]
        return np.where(lengths > 1, (t[:, 1] - t[:, 0]) * 1e-9, 0.0)

    # -- geometry -----------------------------------------------------------------------
    def footprint(self, frame: str = "city") -> np.ndarray:
        """(N,T,4,2) bottom-face corners (reference vertex order 2, 6, 7, 3), raw boxes."""
        key = ("footprint", frame)
        if key not in self.cache:
            corners = _FOOTPRINT_SIGNS[None, None] * self.size[:, :, None, :] / 2
            if frame == "city":
                rot, trans = self.rot_city, self.raw_pos
            else:
                rot = rot_z(self.log.yaw_ego)
                trans = np.asarray(self.log.translation_ego, float)
            pts = np.einsum("ntij,ntkj->ntki", rot, corners) + trans[:, :, None, :]
            self.cache[key] = pts[..., :2]
        return self.cache[key]

    def relative(self, frame_rows, other_rows, n: int = 0) -> np.ndarray:
        """(P,T,3) n-th derivative of ``other``'s city position in ``frame``'s box frame.

        As the reference: smoothed over the timestamps both tracks share; positions are
        relative to the frame's raw box, derivatives only rotated. NaN where not shared.
        """
        f, o = np.atleast_1d(frame_rows), np.atleast_1d(other_rows)
        mask = self.valid[f] & self.valid[o]
        full = {0: self.pos, 1: self.vel, 2: self.acc}[n][o] if n <= 2 else None
        same = (mask == self.valid[o]).all(axis=1)
        vals = np.empty(mask.shape + (3,))
        if full is not None:
            vals[same] = full[same]
        redo = ~same if full is not None else np.ones(len(o), bool)
        if redo.any():
            vals[redo] = track_derivative(self.raw_pos[o[redo]], mask[redo], self.timestamps, n)
        vals[~mask] = np.nan
        if n == 0:
            vals = vals - self.raw_pos[f]
        return np.einsum("ptji,ptj->pti", self.rot_city[f], vals)

    # -- map (lazy) -----------------------------------------------------------------------
    @property
    def map(self):
        return self.log.map

    @property
    def lanes(self):
        """The log's LaneIndex (scenmine.dsl.lanes), built once."""
        if "lanes" not in self.cache:
            from scenmine.dsl.lanes import LaneIndex

            self.cache["lanes"] = LaneIndex(self.map)
        return self.cache["lanes"]

    @property
    def lane(self) -> np.ndarray:
        """(N,T) int: index into ``lanes.segments`` of each (track, t)'s lane, -1 if none."""
        if "lane" not in self.cache:
            from scenmine.dsl.lanes import assign_lanes

            self.cache["lane"] = assign_lanes(self)
        return self.cache["lane"]

    def warm(self) -> LogContext:
        """Compute the per-log map lookups now (lanes, drivable area, crossings, turns)."""
        from scenmine.dsl import map_functions as mf
        from scenmine.dsl import unary

        none: dict = {}
        _ = self.lane
        for func in (mf.in_drivable_area, mf.at_pedestrian_crossing, mf.near_intersection,
                     unary.turning):
            func(none, self)
        return self

    def memo(self, key, compute):
        """Cache ``compute()`` under ``key`` for this log."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


def context_of(log: LogData) -> LogContext:
    """The LogContext of a LogData (built once, stored on it)."""
    ctx = log._cache.get("dsl_context")
    if ctx is None:
        ctx = log._cache["dsl_context"] = LogContext(log)
    return ctx


class LogHandle:
    """The log a program runs on, as the program sees it (``log_dir``): an opaque handle.

    Programs only pass it to DSL functions, which resolve it with ``get_context``; it has
    no readable attributes, cannot be changed, and is no path (nothing reaches the file
    system through it).
    """

    __slots__ = ("_path",)

    def __init__(self, path):
        object.__setattr__(self, "_path", str(path))

    def __setattr__(self, name, value):
        raise AttributeError("the log handle is read-only")

    def __delattr__(self, name):
        raise AttributeError("the log handle is read-only")

    def __reduce__(self):
        raise TypeError("a log handle cannot be pickled")

    def __repr__(self) -> str:
        return "<log>"

    def __eq__(self, other) -> bool:
        return isinstance(other, LogHandle) and other._path == self._path

    def __hash__(self) -> int:
        return hash(self._path)


class OutputHandle:
    """``output_dir`` as programs see it: accepted by output_scenario, nothing else."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<output>"


@functools.lru_cache(maxsize=64)
def _resolve(log_dir: str) -> str:
    return str(Path(log_dir).resolve())


_registered: dict[str, LogData] = {}


def use_log(log: LogData) -> LogContext:
    """Make ``get_context(log.log_dir)`` return this log in this process (e.g. a log whose
    tracks are tracker predictions, scenmine.data.logs.load_tracker_log)."""
    _registered[_resolve(str(log.log_dir))] = log
    return context_of(log)


def get_context(log_dir) -> LogContext:
    """LogContext of ``log_dir`` (a LogHandle, a path, or a LogData / LogContext), cached
    per log."""
    if isinstance(log_dir, LogContext):
        return log_dir
    if isinstance(log_dir, LogData):
        return context_of(log_dir)
    if isinstance(log_dir, LogHandle):
        log_dir = log_dir._path
    elif not isinstance(log_dir, (str, Path)):
        raise TypeError(f"log_dir must be the program's log_dir, not a {type(log_dir).__name__}")
    key = _resolve(str(log_dir))
    return context_of(_registered.get(key) or load_log(key))
