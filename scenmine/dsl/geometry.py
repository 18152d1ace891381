"""Vectorised 2-D polygon tests with the reference's conventions (even-odd rule, SAT, miter dilation)."""
from __future__ import annotations

import numpy as np


def point_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(P,) bool: points inside one polygon (V,2) by the even-odd crossing rule.

    The reference casts rays in Python; matplotlib's path test is the same rule in C++
    (they can differ only for points exactly on an edge).
    """
    from matplotlib.path import Path as MplPath

    xy = np.asarray(xy, float).reshape(-1, 2)
    poly = np.asarray(polygon, float)[:, :2]
    out = np.zeros(len(xy), bool)
    lo, hi = poly.min(0), poly.max(0)
    cand = np.flatnonzero(np.isfinite(xy).all(1) & (xy >= lo).all(1) & (xy <= hi).all(1))
    if len(cand) and len(poly) >= 3:
        out[cand] = MplPath(poly).contains_points(xy[cand])
    return out


def inside_pairs(xy: np.ndarray, polygons: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(point, polygon) index pairs with the point inside (reference ray casting), sorted."""
    import shapely

    xy = np.asarray(xy, float).reshape(-1, 2)
    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(ok) == 0 or not polygons:
        return np.zeros(0, int), np.zeros(0, int)
    lo = np.array([p[:, :2].min(0) for p in polygons])
    hi = np.array([p[:, :2].max(0) for p in polygons])
    tree = shapely.STRtree(shapely.box(*lo.T, *hi.T))
    pi, qi = tree.query(shapely.points(xy[ok]))
    if len(pi) == 0:  # no point in any polygon's bounding box
        return np.zeros(0, int), np.zeros(0, int)
    order = np.argsort(qi, kind="stable")
    pi, qi = ok[pi[order]], qi[order]
    starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
    hits_p, hits_q = [], []
    for p, q in zip(np.split(pi, starts[1:]), qi[starts]):
        p = p[point_in_polygon(xy[p], polygons[q])]
        hits_p.append(p)
        hits_q.append(np.full(len(p), q))
    if not hits_p:
        return np.zeros(0, int), np.zeros(0, int)
    p, q = np.concatenate(hits_p), np.concatenate(hits_q)
    order = np.lexsort((q, p))
    return p[order], q[order]


def pad_polygons(polygons: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """List of (V_k,2+) polygons -> (K,Vmax,2) padded with each last vertex, and counts (K,)."""
    n = np.array([len(p) for p in polygons], int)
    out = np.zeros((len(polygons), max(n.max(initial=1), 1), 2))
    for k, p in enumerate(polygons):
        out[k, :len(p)] = p[:, :2]
        out[k, len(p):] = p[-1, :2]
    return out, n


def dilate_polygon(points: np.ndarray, distance: float) -> np.ndarray:
    """Miter-offset a closed polygon (first vertex repeated last) outward by ``distance``.

    Same construction as the reference's dilate_convex_polygon (orientation made
    counter-clockwise, each vertex moved along its edge-normal bisector), vectorised.
    """
    p = np.asarray(points, float)[:, :2]
    nxt = np.roll(p, -1, axis=0)[:-1]
    if np.sum((nxt[:, 0] - p[:-1, 0]) * (nxt[:, 1] + p[:-1, 1])) > 0:
        p = p[::-1]
    n = len(p)
    i = np.arange(1, n)
    prev, cur, nx = p[i - 1], p[i], p[(i + 1) % (n - 1)]

    def unit(v):
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        return np.where(norm != 0, v / np.where(norm != 0, norm, 1), v)

    e1, e2 = unit(cur - prev), unit(nx - cur)
    perp1 = np.stack([e1[:, 1], -e1[:, 0]], -1)
    perp2 = np.stack([e2[:, 1], -e2[:, 0]], -1)
    bis = unit(perp1 + perp2)
    dot = np.sum(bis * perp1, axis=-1, keepdims=True)
    small = np.abs(dot) < 1e-10
    disp = np.where(small, distance * bis, distance / np.where(small, 1, dot) * bis)
    out = cur + disp
    return np.vstack([out, out[:1]])


def _project(poly: np.ndarray, axes: np.ndarray):
    """poly (...,V,2), axes (...,A,2) -> min, max (...,A) of the projections."""
    d = np.einsum("...vk,...ak->...av", poly, axes)
    return d.min(-1), d.max(-1)


def _normals(poly: np.ndarray) -> np.ndarray:
    """Unit normals of consecutive edges of a closed polygon (...,V,2) -> (...,V-1,2)."""
    e = np.diff(poly, axis=-2)
    nrm = np.stack([-e[..., 1], e[..., 0]], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nrm / np.linalg.norm(nrm, axis=-1, keepdims=True)


def polygons_overlap(polys: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(K,) bool: separating-axis overlap of closed polygons (K,V,2) with one closed (W,2)."""
    polys = np.asarray(polys, float)
    other = np.asarray(other, float)[:, :2]
    out = np.zeros(len(polys), bool)
    # boxes that do not overlap (axis-aligned) cannot overlap; test only the rest
    lo, hi = polys.min(axis=1), polys.max(axis=1)
    cand = np.flatnonzero((lo <= other.max(0)).all(1) & (hi >= other.min(0)).all(1))
    if len(cand) == 0:
        return out
    sub = polys[cand]
    axes = np.concatenate([_normals(sub),
                           np.broadcast_to(_normals(other), (len(sub),) + (len(other) - 1, 2))],
                          axis=1)
    amin, amax = _project(sub, axes)
    bmin, bmax = _project(np.broadcast_to(other, (len(sub),) + other.shape), axes)
    with np.errstate(invalid="ignore"):
        sep = ~((amin <= bmax) & (bmin <= amax))
    out[cand] = ~sep.any(axis=1)
    return out
