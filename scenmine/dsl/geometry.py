"""Vectorised 2-D polygon tests with the reference's conventions (ray casting, SAT, miter dilation)."""
from __future__ import annotations

import numpy as np


def _ray_parity(px, py, ax, ay, bx, by, edge_ok):
    """Reference ray casting, broadcast over points x edges; returns the crossing parity."""
    with np.errstate(invalid="ignore", divide="ignore"):
        hit = (py > np.minimum(ay, by)) & (py <= np.maximum(ay, by)) & (px <= np.maximum(ax, bx))
        xint = (py - ay) * (bx - ax) / (by - ay) + ax
        flip = hit & ((ax == bx) | (px <= xint)) & edge_ok
    return np.count_nonzero(flip, axis=-1) % 2 == 1


def point_in_polygon(xy: np.ndarray, polygon: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """(P,) bool: points inside one polygon (V,2), the reference's ray-casting rule."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    poly = np.asarray(polygon, float)[:, :2]
    out = np.zeros(len(xy), bool)
    lo, hi = poly.min(0), poly.max(0)
    cand = np.flatnonzero(np.isfinite(xy).all(1) & (xy >= lo).all(1) & (xy[:, 0] <= hi[0])
                          & (xy[:, 1] <= hi[1]))
    a, b = poly, np.roll(poly, -1, axis=0)
    for s in range(0, len(cand), chunk):
        idx = cand[s:s + chunk]
        px, py = xy[idx, :1], xy[idx, 1:]
        out[idx] = _ray_parity(px, py, a[:, 0], a[:, 1], b[:, 0], b[:, 1], True)
    return out


def pad_polygons(polygons: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """List of (V_k,2+) polygons -> (K,Vmax,2) padded with each last vertex, and counts (K,)."""
    n = np.array([len(p) for p in polygons], int)
    out = np.zeros((len(polygons), max(n.max(initial=1), 1), 2))
    for k, p in enumerate(polygons):
        out[k, :len(p)] = p[:, :2]
        out[k, len(p):] = p[-1, :2]
    return out, n


def point_in_polygon_pairs(xy: np.ndarray, polys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(K,) bool: point k inside padded polygon k (reference ray casting)."""
    a = polys
    nxt = (np.arange(polys.shape[1])[None, :] + 1) % counts[:, None]
    b = np.take_along_axis(polys, nxt[..., None], axis=1)
    ok = np.arange(polys.shape[1])[None, :] < counts[:, None]
    return _ray_parity(xy[:, :1], xy[:, 1:], a[..., 0], a[..., 1], b[..., 0], b[..., 1], ok)


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
    axes = np.concatenate([_normals(polys),
                           np.broadcast_to(_normals(other), (len(polys),) + (len(other) - 1, 2))],
                          axis=1)
    amin, amax = _project(polys, axes)
    bmin, bmax = _project(np.broadcast_to(other, (len(polys),) + other.shape), axes)
    with np.errstate(invalid="ignore"):
        sep = ~((amin <= bmax) & (bmin <= amax))
    return ~sep.any(axis=1)
