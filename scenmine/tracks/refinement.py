"""Track refinement: repair a tracker's output before the DSL reads it.

``refine(log, options) -> LogData`` applies, in this order, each step whose ``enabled`` is set:

1. ``prune``: drop short tracklets whose scores are all low (phantom detections).
2. ``dedup``: where two boxes of the same category overlap (bird's-eye IoU), keep the one with
   the higher score; a track that is a duplicate most of its life goes entirely.
3. ``reconnect``: split tracks where the box jumps away from the line fitted to its previous
   boxes (an identity switch), join a tracklet that ends to one that starts within a short gap when
   class, size and the extrapolated position agree (optimal assignment); as the last step of
   all, gaps of up to ``max_gap_frames`` inside every track are filled by interpolation.
4. ``smooth``: a constant-velocity Rauch-Tung-Striebel smoother of the positions (vectorised over
   all tracks and axes, real time steps); sizes become each track's median (rigid objects).
5. ``yaw``: heading continuity (a jump over ``flip_deg`` between boxes starts a flipped segment)
   and, for moving boxes, alignment with the direction of motion decide each segment's
   orientation; a flip of 180 degrees is undone. Then the unwrapped yaws go through the same
   RTS smoother (constant turn rate), so that the yaw rate the turning atoms integrate is not
   the difference of two noisy boxes.
6. ``static``: a track whose centre stays within ``max_span_m`` keeps one yaw (its mean).

Everything is array code over (track, time); one log of a few hundred tracks takes well under
a second (``python -m scenmine.bench tracks`` times it).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from scenmine.data.logs import LogData
from scenmine.dsl.context import pack, track_derivative
from scenmine.tracks.boxes import Tracks, to_log, wrap


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class PruneOptions:
    enabled: bool = True
    max_score: float = 0.4       # a tracklet goes if its best score is below this ...
    max_frames: int = 20         # ... and it has fewer boxes than this


@dataclass(frozen=True)
class DedupOptions:
    enabled: bool = True
    min_iou: float = 0.4         # bird's-eye IoU from which two same-category boxes are duplicates
    track_share: float = 0.5     # a track duplicated in more than this share of its boxes goes


@dataclass(frozen=True)
class ReconnectOptions:
    enabled: bool = True
    max_gap_frames: int = 10     # join / fill gaps of up to this many missing frames (10 Hz)
    max_distance_m: float = 2.0  # extrapolated end vs start distance at a gap of one frame ...
    distance_per_s: float = 2.0  # ... growing by this much per second of gap
    max_size_change: float = 0.3  # relative difference of the median length and width
    split_jump_m: float = 1.5    # split a track where a box is this far from its prediction ...
    split_window: int = 5        # ... a line fitted to up to this many previous boxes


@dataclass(frozen=True)
class SmoothOptions:
    enabled: bool = True
    position_noise_m: float = 0.2    # measurement noise (standard deviation) of a box centre
    accel_noise: float = 0.3         # process noise: white acceleration, m/s^2 (std)
    median_size: bool = True         # sizes of a track become its median size


@dataclass(frozen=True)
class YawOptions:
    enabled: bool = True
    flip_deg: float = 135.0      # a yaw change over this between neighbouring boxes is a flip
    min_speed: float = 2.0       # m/s from which the direction of motion votes on the heading
    motion_weight: float = 2.0   # weight of one moving box's vote vs one box of continuity
    noise_deg: float = 3.0       # measurement noise (std) of a box's yaw; 0: yaws are not smoothed
    turn_accel: float = 0.5      # process noise: white angular acceleration (std, rad/s^2)


@dataclass(frozen=True)
class StaticOptions:
    enabled: bool = True
    max_span_m: float = 1.0      # a track whose smoothed centre spans less than this is static
    min_frames: int = 5
    skip_categories: tuple = ("PEDESTRIAN",)  # people turn on the spot: their yaw is kept


@dataclass(frozen=True)
class RefineOptions:
    """The ``tracks`` config node minus its ``refine`` switch (hashable: used as a cache key)."""

    prune: PruneOptions = field(default_factory=PruneOptions)
    dedup: DedupOptions = field(default_factory=DedupOptions)
    reconnect: ReconnectOptions = field(default_factory=ReconnectOptions)
    smooth: SmoothOptions = field(default_factory=SmoothOptions)
    yaw: YawOptions = field(default_factory=YawOptions)
    static: StaticOptions = field(default_factory=StaticOptions)

    @classmethod
    def from_dict(cls, node: dict | None) -> RefineOptions:
        """From a ``tracks`` config node (as a dict); a bad key or value raises ValueError
        naming it."""
        node = dict(node or {})
        node.pop("refine", None)
        kinds = {f.name: f.default_factory for f in fields(cls)}
        unknown = sorted(set(node) - set(kinds))
        if unknown:
            raise ValueError(f"tracks: unknown key(s) {unknown}; known: {sorted(kinds)}")
        return cls(**{name: _step(name, kinds[name](), step) for name, step in node.items()})


def _step(name: str, default, values: dict | None):
    """One step's options from a dict, each value checked against the default's type."""
    out = {}
    for key, value in dict(values or {}).items():
        if not hasattr(default, key):
            known = sorted(f.name for f in fields(default))
            raise ValueError(f"tracks.{name}: unknown key {key!r}; known: {known}")
        want = getattr(default, key)
        if isinstance(want, tuple) and isinstance(value, (list, tuple)):
            value = tuple(value)
        elif isinstance(want, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(want) or (isinstance(value, (int, float)) and value < 0):
            raise ValueError(f"tracks.{name}.{key}: {value!r} is not a valid value "
                             f"(expected a non-negative {type(want).__name__}, like {want!r})")
        out[key] = value
    return replace(default, **out)


def options_from_cfg(cfg) -> RefineOptions | None:
    """RefineOptions of a run's config (``cfg.tracks``, checked even when off), or None when
    refinement is off. A bad key or value raises ValueError naming it."""
    from scenmine.config import cfg_dict

    node = cfg.get("tracks")
    if node is None:
        return None
    node = cfg_dict(node)
    if not isinstance(node.get("refine", False), bool):
        raise ValueError(f"tracks.refine: {node['refine']!r} is not true or false")
    options = RefineOptions.from_dict(node)
    return options if node.get("refine") else None


# ----------------------------------------------------------------------------- entry point
def refine(log: LogData, options: RefineOptions | None = None) -> LogData:
    """The log with its (tracker) tracks refined; the ego track is left as it is."""
    options = options or RefineOptions()
    tracks = Tracks.of(log)
    if options.prune.enabled:
        tracks = prune(tracks, options.prune)
    if options.dedup.enabled:
        tracks = dedup(tracks, options.dedup)
    if options.reconnect.enabled:
        tracks = reconnect(tracks, options.reconnect)
    velocity = smooth(tracks, options.smooth) if options.smooth.enabled else None
    if velocity is None:  # differences of neighbouring boxes, as the DSL takes them
        velocity = track_derivative(tracks.pos, tracks.valid, tracks.seconds * 1e9, 1, smooth=False)
    if options.yaw.enabled:
        repair_yaw(tracks, velocity, options.yaw)
        if options.yaw.noise_deg > 0:
            smooth_yaw(tracks, options.yaw)
    if options.static.enabled:
        freeze_static_yaw(tracks, options.static)
    if options.reconnect.enabled:  # last: interpolating across a flipped yaw would hide the flip
        fill_gaps(tracks, options.reconnect.max_gap_frames)
    return to_log(log, tracks)


# ----------------------------------------------------------------------------- 1. prune
def prune(tracks: Tracks, opt: PruneOptions) -> Tracks:
    """Drop tracks with fewer than ``max_frames`` boxes whose best score is below ``max_score``."""
    best = np.nanmax(np.where(tracks.valid, tracks.score, -np.inf), axis=1)
    count = tracks.valid.sum(axis=1)
    return tracks.take(~((best < opt.max_score) & (count < opt.max_frames)) & (count > 0))


# ----------------------------------------------------------------------------- 2. dedup
def _corners(pos: np.ndarray, yaw: np.ndarray, size: np.ndarray) -> np.ndarray:
    """(..., 4, 2) bird's-eye corners of boxes."""
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], float)
    local = signs * size[..., None, :2] / 2
    c, s = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
    return np.stack([c * local[..., 0] - s * local[..., 1],
                     s * local[..., 0] + c * local[..., 1]], -1) + pos[..., None, :2]


def bev_iou(pos_a, yaw_a, size_a, pos_b, yaw_b, size_b) -> np.ndarray:
    """Bird's-eye IoU of box pairs, in a's frame with b as its bounding rectangle there.

    Exact when the yaws agree modulo 90 degrees (duplicates of one object); an upper bound
    otherwise.
    """
    corners = _corners(pos_b, yaw_b, size_b) - pos_a[..., None, :2]
    c, s = np.cos(yaw_a)[..., None], np.sin(yaw_a)[..., None]
    x = c * corners[..., 0] + s * corners[..., 1]
    y = -s * corners[..., 0] + c * corners[..., 1]
    half = size_a[..., :2] / 2
    ix = np.clip(np.minimum(x.max(-1), half[..., 0]) - np.maximum(x.min(-1), -half[..., 0]), 0, None)
    iy = np.clip(np.minimum(y.max(-1), half[..., 1]) - np.maximum(y.min(-1), -half[..., 1]), 0, None)
    inter = ix * iy
    union = size_a[..., 0] * size_a[..., 1] + size_b[..., 0] * size_b[..., 1] - inter
    return inter / np.maximum(union, 1e-9)


def dedup(tracks: Tracks, opt: DedupOptions) -> Tracks:
    """Remove the lower-scored of overlapping same-category boxes (see the module docstring)."""
    n = tracks.n
    if n < 2:
        return tracks
    # candidate pairs: same category, at some time closer than the larger half-diagonal
    rows, cols = np.triu_indices(n, 1)
    same = tracks.categories[rows] == tracks.categories[cols]
    rows, cols = rows[same], cols[same]
    both = tracks.valid[rows] & tracks.valid[cols]
    keep = both.any(axis=1)
    rows, cols, both = rows[keep], cols[keep], both[keep]
    if not len(rows):
        return tracks
    pair, t = np.nonzero(both)
    a, b = rows[pair], cols[pair]
    dist = np.linalg.norm(tracks.pos[a, t, :2] - tracks.pos[b, t, :2], axis=-1)
    reach = np.linalg.norm(np.maximum(tracks.size[a, t, :2], tracks.size[b, t, :2]), axis=-1) / 2
    near = dist < reach
    a, b, t = a[near], b[near], t[near]
    iou = bev_iou(tracks.pos[a, t], tracks.yaw[a, t], tracks.size[a, t],
                  tracks.pos[b, t], tracks.yaw[b, t], tracks.size[b, t])
    dup = iou >= opt.min_iou
    a, b, t = a[dup], b[dup], t[dup]
    if not len(a):
        return tracks
    # the loser of each overlap: the lower mean score (equal scores, as annotations have: both
    # kept, nothing tells which box is the ghost)
    count = tracks.valid.sum(axis=1)
    mean_score = np.nanmean(np.where(tracks.valid, tracks.score, np.nan), axis=1)
    differ = mean_score[a] != mean_score[b]
    a, b, t = a[differ], b[differ], t[differ]
    loser = np.where(mean_score[a] < mean_score[b], a, b)
    removed = np.zeros_like(tracks.valid)
    removed[loser, t] = True
    whole = removed.sum(axis=1) > opt.track_share * np.maximum(count, 1)
    removed[whole] = tracks.valid[whole]
    tracks.clear(removed)
    return tracks.take(tracks.valid.any(axis=1))


# ----------------------------------------------------------------------------- 3. reconnect
def split_jumps(tracks: Tracks, opt: ReconnectOptions) -> Tracks:
    """Cut tracks where a box lies ``split_jump_m`` from the prediction of its previous boxes
    (one tracker identity covering two objects); pieces get new uuids.

    The prediction is the least-squares line (position over time) through up to
    ``split_window`` previous boxes, so one noisy box does not make a jump.
    """
    order, count = pack(tracks.valid)
    n = tracks.n
    idx = np.arange(n)[:, None]
    p = tracks.pos[idx, order, :2]
    s = tracks.seconds[order]
    k = np.arange(order.shape[1])[None]
    sums = {name: 0.0 for name in ("n", "t", "tt", "p", "tp")}
    for back in range(1, max(opt.split_window, 2) + 1):
        ok_b = (k >= back) & (k < count[:, None])
        pb, sb = np.roll(p, back, axis=1), np.roll(s, back, axis=1)
        dt = np.where(ok_b, sb - s, 0.0)                  # <= 0: time before box k
        w = ok_b.astype(float)
        sums["n"] = sums["n"] + w
        sums["t"] = sums["t"] + w * dt
        sums["tt"] = sums["tt"] + w * dt * dt
        pb = np.where(ok_b[..., None], pb, 0.0)
        sums["p"] = sums["p"] + w[..., None] * pb
        sums["tp"] = sums["tp"] + (w * dt)[..., None] * pb
    det = sums["n"] * sums["tt"] - sums["t"] ** 2
    ok = (k >= 2) & (k < count[:, None]) & (det > 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        # intercept at dt = 0 (box k's time) of the least-squares line through the window
        pred = (sums["p"] * sums["tt"][..., None] - sums["t"][..., None] * sums["tp"]) \
            / np.where(ok, det, 1.0)[..., None]
        err = np.linalg.norm(p - pred, axis=-1)
    cut = ok & (err > opt.split_jump_m)
    # the boxes right after a cut are predicted from a window that still holds the other
    # object's boxes: only the first cut of every split_window boxes counts
    recent = np.zeros_like(cut)
    for back in range(1, max(opt.split_window, 2)):
        recent[:, back:] |= cut[:, :-back]
    cut &= ~recent
    if not cut.any():
        return tracks
    piece = np.cumsum(cut, axis=1)                      # piece number along each packed row
    piece_full = np.zeros(tracks.valid.shape, int)
    piece_full[idx, order] = piece
    piece_full[~tracks.valid] = -1
    n_pieces = piece.max(axis=1) + 1
    rows = np.repeat(np.arange(n), n_pieces)
    which = np.concatenate([np.arange(m) for m in n_pieces])
    out = tracks.take(rows)
    mask = piece_full[rows] == which[:, None]
    out.clear(~mask)
    out.uuids = np.array([u if w == 0 else f"{u}#{w}" for u, w in zip(out.uuids, which)], object)
    return out


def _end_state(tracks: Tracks, first: np.ndarray, last: np.ndarray, count: np.ndarray,
               at_end: bool, window: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity (x, y) at each track's last (or first) box, velocity over up to
    ``window`` boxes there."""
    order, _ = pack(tracks.valid)
    n = tracks.n
    idx = np.arange(n)
    if at_end:
        k_end = np.maximum(count - 1, 0)
        k_ref = np.maximum(count - window, 0)
    else:
        k_end = np.zeros(n, int)
        k_ref = np.minimum(window - 1, np.maximum(count - 1, 0))
    j_end, j_ref = order[idx, k_end], order[idx, k_ref]
    p_end, p_ref = tracks.pos[idx, j_end, :2], tracks.pos[idx, j_ref, :2]
    dt = tracks.seconds[j_end] - tracks.seconds[j_ref]
    with np.errstate(invalid="ignore", divide="ignore"):
        vel = np.where(np.abs(dt)[:, None] > 0, (p_end - p_ref) / np.where(dt == 0, 1, dt)[:, None], 0.0)
    return p_end, np.nan_to_num(vel)


def reconnect(tracks: Tracks, opt: ReconnectOptions) -> Tracks:
    """Split at jumps, join tracklets across short gaps (module docstring); ``refine`` fills
    the gaps (fill_gaps) once the yaws are repaired."""
    from scipy.optimize import linear_sum_assignment

    if opt.split_jump_m and opt.split_jump_m > 0:
        tracks = split_jumps(tracks, opt)
    first, last, count = tracks.spans()
    end_p, end_v = _end_state(tracks, first, last, count, at_end=True)
    start_p, start_v = _end_state(tracks, first, last, count, at_end=False)
    med = np.nanmedian(np.where(tracks.valid[..., None], tracks.size, np.nan)[..., :2], axis=1)
    gap = first[None, :] - last[:, None] - 1                      # (ender a, starter b)
    ok = (gap >= 0) & (gap <= opt.max_gap_frames) & (count[:, None] > 0) & (count[None] > 0)
    ok &= tracks.categories[:, None] == tracks.categories[None, :]
    rel = np.abs(med[:, None] - med[None]) / np.maximum(np.maximum(med[:, None], med[None]), 1e-3)
    ok &= (rel <= opt.max_size_change).all(axis=-1)
    a, b = np.nonzero(ok)
    if len(a):
        dt = tracks.seconds[first[b]] - tracks.seconds[last[a]]
        fwd = np.linalg.norm(end_p[a] + end_v[a] * dt[:, None] - start_p[b], axis=-1)
        bwd = np.linalg.norm(start_p[b] - start_v[b] * dt[:, None] - end_p[a], axis=-1)
        dist = np.minimum(fwd, bwd)
        limit = opt.max_distance_m + opt.distance_per_s * np.maximum(dt - 0.1, 0)
        close = dist <= limit
        a, b, dist, limit = a[close], b[close], dist[close], limit[close]
    if len(a):
        ua, ia = np.unique(a, return_inverse=True)
        ub, ib = np.unique(b, return_inverse=True)
        cost = np.full((len(ua), len(ub)), 1e6)
        cost[ia, ib] = dist / limit
        ra, rb = linear_sum_assignment(cost)
        good = cost[ra, rb] < 1e6
        successor = np.full(tracks.n, -1)
        successor[ua[ra[good]]] = ub[rb[good]]
        tracks = _merge_chains(tracks, successor)
    return tracks


def _merge_chains(tracks: Tracks, successor: np.ndarray) -> Tracks:
    """Merge each chain a -> successor[a] -> ... into its head's row (time-disjoint pieces)."""
    has_pred = np.zeros(tracks.n, bool)
    has_pred[successor[successor >= 0]] = True
    head = np.arange(tracks.n)
    for start in np.flatnonzero(~has_pred):
        nxt = successor[start]
        while nxt >= 0:
            head[nxt] = start
            nxt = successor[nxt]
    for row in np.flatnonzero(head != np.arange(tracks.n)):
        h, cells = head[row], tracks.valid[row]
        tracks.pos[h, cells] = tracks.pos[row, cells]
        tracks.yaw[h, cells] = tracks.yaw[row, cells]
        tracks.size[h, cells] = tracks.size[row, cells]
        tracks.score[h, cells] = tracks.score[row, cells]
        tracks.valid[h, cells] = True
    return tracks.take(head == np.arange(tracks.n))


def fill_gaps(tracks: Tracks, max_gap: int) -> None:
    """Fill runs of up to ``max_gap`` missing columns inside each track by linear
    interpolation (yaw along the shorter arc; size and score of the box before the gap)."""
    n, t = tracks.valid.shape
    # for every column: previous and next valid column of the row
    col = np.where(tracks.valid, np.arange(t)[None], -1)
    prev = np.maximum.accumulate(col, axis=1)
    col_n = np.where(tracks.valid, np.arange(t)[None], t)
    nxt = np.minimum.accumulate(col_n[:, ::-1], axis=1)[:, ::-1]
    hole = ~tracks.valid & (prev >= 0) & (nxt < t) & (nxt - prev - 1 <= max_gap)
    if not hole.any():
        return
    r, c = np.nonzero(hole)
    p0, p1 = prev[r, c], nxt[r, c]
    s = tracks.seconds
    w = (s[c] - s[p0]) / np.maximum(s[p1] - s[p0], 1e-9)
    tracks.pos[r, c] = tracks.pos[r, p0] + w[:, None] * (tracks.pos[r, p1] - tracks.pos[r, p0])
    tracks.yaw[r, c] = wrap(tracks.yaw[r, p0] + w * wrap(tracks.yaw[r, p1] - tracks.yaw[r, p0]))
    tracks.size[r, c] = tracks.size[r, p0]
    tracks.score[r, c] = np.minimum(tracks.score[r, p0], tracks.score[r, p1])
    tracks.valid[r, c] = True


# ----------------------------------------------------------------------------- 4. smooth
def rts_smooth(z: np.ndarray, seconds: np.ndarray, r: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Constant-velocity Kalman filter + Rauch-Tung-Striebel smoother of many 1-D series.

    ``z`` (M, T) observations, NaN where missing; each series is smoothed from its first to its
    last observation (NaN outside). ``r``: observation variance, ``q``: white-acceleration
    spectral density. Returns smoothed (position, velocity), each (M, T). Vectorised over the
    series: the Python loop runs over time only.
    """
    m, t = z.shape
    seen = ~np.isnan(z)
    started = np.cumsum(seen, axis=1) > 0
    alive = started & (np.cumsum(seen[:, ::-1], axis=1)[:, ::-1] > 0)
    xf = np.zeros((t, m, 2))
    pf = np.zeros((t, m, 3))                      # covariance (p00, p01, p11)
    xp = np.zeros((t, m, 2))
    pp = np.zeros((t, m, 3))
    x = np.zeros((m, 2))
    p = np.zeros((m, 3))
    big = 100.0
    for j in range(t):
        dt = seconds[j] - seconds[j - 1] if j else 0.0
        # predict
        x0 = x[:, 0] + dt * x[:, 1]
        p00 = p[:, 0] + 2 * dt * p[:, 1] + dt * dt * p[:, 2] + q * dt ** 3 / 3
        p01 = p[:, 1] + dt * p[:, 2] + q * dt ** 2 / 2
        p11 = p[:, 2] + q * dt
        first = seen[:, j] & ~(started[:, j - 1] if j else np.zeros(m, bool))
        x0 = np.where(first, z[:, j], x0)
        x1 = np.where(first, 0.0, x[:, 1])
        p00 = np.where(first, r, p00)
        p01 = np.where(first, 0.0, p01)
        p11 = np.where(first, big, p11)
        xp[j, :, 0], xp[j, :, 1] = x0, x1
        pp[j] = np.stack([p00, p01, p11], -1)
        # update
        upd = seen[:, j] & ~first
        s = p00 + r
        k0, k1 = p00 / s, p01 / s
        innov = np.where(upd, np.nan_to_num(z[:, j]) - x0, 0.0)
        k0, k1 = np.where(upd, k0, 0.0), np.where(upd, k1, 0.0)
        x = np.stack([x0 + k0 * innov, x1 + k1 * innov], -1)
        p = np.stack([(1 - k0) * p00, (1 - k0) * p01, p11 - k1 * p01], -1)
        xf[j], pf[j] = x, p
    xs = xf.copy()
    for j in range(t - 2, -1, -1):
        dt = seconds[j + 1] - seconds[j]
        go = alive[:, j] & alive[:, j + 1]
        a00, a01, a11 = pf[j, :, 0], pf[j, :, 1], pf[j, :, 2]
        # C = Pf F^T Pp^-1 with F = [[1, dt], [0, 1]]
        b00, b01, b10, b11 = a00 + dt * a01, a01, a01 + dt * a11, a11
        q00, q01, q11 = pp[j + 1, :, 0], pp[j + 1, :, 1], pp[j + 1, :, 2]
        det = np.maximum(q00 * q11 - q01 * q01, 1e-12)
        i00, i01, i11 = q11 / det, -q01 / det, q00 / det
        c00, c01 = b00 * i00 + b01 * i01, b00 * i01 + b01 * i11
        c10, c11 = b10 * i00 + b11 * i01, b10 * i01 + b11 * i11
        d0, d1 = xs[j + 1, :, 0] - xp[j + 1, :, 0], xs[j + 1, :, 1] - xp[j + 1, :, 1]
        xs[j, :, 0] = np.where(go, xf[j, :, 0] + c00 * d0 + c01 * d1, xf[j, :, 0])
        xs[j, :, 1] = np.where(go, xf[j, :, 1] + c10 * d0 + c11 * d1, xf[j, :, 1])
    pos, vel = xs[..., 0].T.copy(), xs[..., 1].T.copy()
    pos[~alive], vel[~alive] = np.nan, np.nan
    return pos, vel


def smooth(tracks: Tracks, opt: SmoothOptions) -> np.ndarray:
    """Smooth positions in place (RTS); sizes to each track's median. Returns velocities."""
    n, t = tracks.valid.shape
    z = np.where(tracks.valid[..., None], tracks.pos, np.nan).transpose(0, 2, 1).reshape(n * 3, t)
    pos, vel = rts_smooth(z, tracks.seconds, opt.position_noise_m ** 2, opt.accel_noise ** 2)
    pos = pos.reshape(n, 3, t).transpose(0, 2, 1)
    vel = vel.reshape(n, 3, t).transpose(0, 2, 1)
    tracks.pos[tracks.valid] = pos[tracks.valid]
    if opt.median_size:
        med = np.nanmedian(np.where(tracks.valid[..., None], tracks.size, np.nan), axis=1)
        tracks.size[:] = np.where(tracks.valid[..., None], med[:, None], np.nan)
    vel[~tracks.valid] = np.nan
    return vel


# ----------------------------------------------------------------------------- 5. yaw
def repair_yaw(tracks: Tracks, velocity: np.ndarray, opt: YawOptions) -> None:
    """Undo 180-degree flips in place (module docstring, step 5)."""
    order, count = pack(tracks.valid)
    n, t = tracks.valid.shape
    idx = np.arange(n)[:, None]
    k = np.arange(t)[None]
    inside = k < count[:, None]
    yaw = tracks.yaw[idx, order]
    step = np.abs(wrap(np.diff(yaw, axis=1)))
    flip = np.concatenate([np.zeros((n, 1), bool), (step > np.radians(opt.flip_deg)) & inside[:, 1:]], axis=1)
    parity = np.cumsum(flip, axis=1) % 2                 # 1: opposite to the track's first box
    aligned = wrap(yaw + np.pi * parity)                 # continuous, first box's orientation
    v = velocity[idx, order, :2]
    speed = np.linalg.norm(v, axis=-1)
    moving = inside & (speed >= opt.min_speed)
    heading = np.arctan2(v[..., 1], v[..., 0])
    agree = np.where(moving, np.sign(np.cos(aligned - heading)), 0.0)
    # votes for keeping the first box's orientation: continuity (boxes of parity 0 vs 1) and motion
    votes = np.where(inside, np.where(parity == 0, 1.0, -1.0), 0.0).sum(axis=1)
    votes += opt.motion_weight * agree.sum(axis=1)
    fixed = wrap(aligned + np.where(votes < 0, np.pi, 0.0)[:, None])
    tracks.yaw[idx, order] = np.where(inside, fixed, yaw)
    tracks.yaw[~tracks.valid] = np.nan


def smooth_yaw(tracks: Tracks, opt: YawOptions) -> None:
    """RTS-smooth each track's unwrapped yaw in place (a constant-turn-rate model)."""
    order, count = pack(tracks.valid)
    idx = np.arange(tracks.n)[:, None]
    inside = np.arange(order.shape[1])[None] < count[:, None]
    packed = np.where(inside, tracks.yaw[idx, order], 0.0)
    unwrapped = np.full(tracks.yaw.shape, np.nan)
    unwrapped[idx, order] = np.where(inside, np.unwrap(packed, axis=1), np.nan)
    yaw, _ = rts_smooth(unwrapped, tracks.seconds, np.radians(opt.noise_deg) ** 2,
                        opt.turn_accel ** 2)
    tracks.yaw[tracks.valid] = wrap(yaw[tracks.valid])


# ----------------------------------------------------------------------------- 6. static
def freeze_static_yaw(tracks: Tracks, opt: StaticOptions) -> np.ndarray:
    """Give each static track (centre span < ``max_span_m``) its circular-mean yaw; the mask of
    static tracks is returned."""
    count = tracks.valid.sum(axis=1)
    xy = np.where(tracks.valid[..., None], tracks.pos[..., :2], np.nan)
    with np.errstate(invalid="ignore"):
        span = np.linalg.norm(np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1), axis=-1)
    static = (count >= opt.min_frames) & (span < opt.max_span_m)
    static &= ~np.isin(tracks.categories, list(opt.skip_categories))
    c = np.nansum(np.where(tracks.valid, np.cos(tracks.yaw), 0.0), axis=1)
    s = np.nansum(np.where(tracks.valid, np.sin(tracks.yaw), 0.0), axis=1)
    mean = np.arctan2(s, c)
    cells = static[:, None] & tracks.valid
    tracks.yaw[cells] = np.broadcast_to(mean[:, None], tracks.yaw.shape)[cells]
    return static
