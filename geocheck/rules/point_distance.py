"""Candidate points as coordinates: placed on rings and tested against polygons as GEOS would.

The garbage-point proposals (:mod:`geocheck.rules.proposals`) place a few hundred thousand
candidate points round buildings and test a million candidate x building distances. GEOS does
both one geometry at a time; here they run over whole coordinate arrays and give GEOS's
answers:

- :func:`points_along_rings` is ``shapely.line_interpolate_point`` on rings (GEOS's
  ``LengthIndexedLine::extractPoint``: walk the segments summing their lengths, then
  ``(p1 - p0) * fraction + p0`` on the segment reached), with the same floating point
  operations in the same order, so the same points bit for bit;
- :func:`within` is ``shapely.dwithin`` of a polygon and a point: the least distance from the
  point to the polygon's segments, or zero inside it (decided by ``shapely.intersects_xy``).
  The numpy distance agrees with GEOS's to some 1e-12 m; a pair within :data:`BAND_M` of the
  limit is decided by ``shapely.dwithin`` itself, so every answer is GEOS's.
- :func:`points_in_boxes` is ``shapely.STRtree(points).query(boxes)``: the pairs of a point
  and a box holding it, found on a grid of cells, without making a point geometry or a tree.

All lengths in the units of the coordinates (metres in the working CRS).
"""

from __future__ import annotations

import numpy as np
import shapely

BAND_M = 1e-6
"""Distances this close to the limit (metres) are decided by GEOS, not by the numpy sum."""


def _segments(part: np.ndarray) -> np.ndarray:
    """Index of the first point of each segment: consecutive coordinates of the same part."""
    return np.flatnonzero(part[1:] == part[:-1])


def points_along_rings(rings: np.ndarray, at: np.ndarray,
                       per_ring: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_ring`` points on each ring, at the lengths ``at`` along it (``at`` has
    ``len(rings) * per_ring`` entries, those of ring i at ``i * per_ring ...``): the
    coordinates ``(x, y)`` of the points ``shapely.line_interpolate_point(rings.repeat(per_ring),
    at)`` gives (NaN for a ring that is None or empty)."""
    x, y = np.full(len(at), np.nan), np.full(len(at), np.nan)
    xy, owner = shapely.get_coordinates(rings, return_index=True)
    # a ring without a segment, or a length <= 0 (GEOS counts those from the end): GEOS
    odd = ~shapely.is_missing(rings) & ((np.bincount(owner, minlength=len(rings)) < 2)
                                        | (at.reshape(-1, per_ring) <= 0).any(axis=1))
    if odd.any():
        q = np.repeat(odd, per_ring)
        pts = shapely.line_interpolate_point(np.repeat(rings[odd], per_ring), at[q])
        xy, k = shapely.get_coordinates(pts, return_index=True)  # none for an empty point
        x[np.flatnonzero(q)[k]], y[np.flatnonzero(q)[k]] = xy[:, 0], xy[:, 1]
        rings = np.where(odd, None, rings)
        xy, owner = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return x, y
    s = _segments(owner)  # segments in ring order, ring by ring
    dx, dy = xy[s + 1, 0] - xy[s, 0], xy[s + 1, 1] - xy[s, 1]
    seg = np.sqrt(dx * dx + dy * dy)  # Coordinate::distance
    ring = owner[s]
    nseg = np.bincount(ring, minlength=len(rings))
    first = np.cumsum(nseg) - nseg
    served = np.flatnonzero(nseg > 0)
    # the running length at the end of each segment, summed one segment after the other
    # per ring as GEOS does (a global cumsum would round differently)
    cum = np.empty(len(s))
    active = served
    for j in range(int(nseg.max())):  # the j-th segment of every ring that has one
        active = active[nseg[active] > j]
        here = first[active] + j
        cum[here] = seg[here] + cum[here - 1] if j else seg[here]
    q_ring = np.repeat(served, per_ring)
    q = (served[:, None] * per_ring + np.arange(per_ring)).ravel()
    q_at = at[q]
    # the segment reached: the first whose running end length exceeds the length asked for
    # (GEOS: totalLength + segLen > length), i.e. after the ring's ends <= that length
    keys = np.concatenate([ring, q_ring])
    vals = np.concatenate([cum, q_at])
    is_q = np.concatenate([np.zeros(len(s), dtype=bool), np.ones(len(q_ring), dtype=bool)])
    order = np.lexsort((is_q, vals, keys))  # ends before a query of the same length
    is_end = ~is_q[order]
    ends_before = np.empty(len(keys), dtype=np.int64)
    ends_before[order] = np.cumsum(is_end) - is_end
    j = ends_before[len(s):] - first[q_ring]  # the ring's segments wholly before the point
    last = nseg[q_ring] - 1
    jj = first[q_ring] + np.minimum(j, last)
    before = np.where(jj > first[q_ring], cum[np.maximum(jj - 1, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (q_at - before) / seg[jj]
    x0, y0 = xy[s[jj], 0], xy[s[jj], 1]
    x1, y1 = xy[s[jj] + 1, 0], xy[s[jj] + 1, 1]
    with np.errstate(invalid="ignore"):
        px = np.where(frac <= 0, x0, np.where(frac >= 1, x1, (x1 - x0) * frac + x0))
        py = np.where(frac <= 0, y0, np.where(frac >= 1, y1, (y1 - y0) * frac + y0))
    beyond = j > last  # past the ring's length: its last point
    x[q], y[q] = np.where(beyond, x1, px), np.where(beyond, y1, py)
    return x, y


def points_in_boxes(x: np.ndarray, y: np.ndarray, bounds: np.ndarray,
                    cell: float) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of a box and a point (``x``, ``y``) inside it, edges included: the pairs
    ``shapely.STRtree(shapely.points(x, y)).query(shapely.box(*bounds.T))`` gives, as
    ``(box index, point index)``, box by box (the points of a box in no set order).

    ``bounds``: ``(xmin, ymin, xmax, ymax)`` per box (a box with NaN bounds holds nothing);
    ``cell``: the side of the grid cells the points are sorted into (in the units of the
    coordinates, metres in the working CRS; a fraction of a box's side or so). Each box
    looks up the cells it overlaps, column by column, and keeps the points inside it.
    """
    none = (np.arange(0), np.arange(0))
    pts = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    boxes = np.flatnonzero(np.isfinite(bounds).all(axis=1))
    if not len(pts) or not len(boxes):
        return none
    x0, y0 = x[pts].min(), y[pts].min()
    ix = np.floor((x[pts] - x0) / cell).astype(np.int64)
    iy = np.floor((y[pts] - y0) / cell).astype(np.int64)
    nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
    key = ix * ny + iy  # cells column by column
    order = np.argsort(key, kind="stable")
    key = key[order]
    b = bounds[boxes]
    # the cells each box overlaps (floor keeps order: a point in a box is in its cells)
    cx0 = np.maximum(np.floor((b[:, 0] - x0) / cell), 0)
    cx1 = np.minimum(np.floor((b[:, 2] - x0) / cell), nx - 1)
    cy0 = np.maximum(np.floor((b[:, 1] - y0) / cell), 0)
    cy1 = np.minimum(np.floor((b[:, 3] - y0) / cell), ny - 1)
    n_cols = np.where(cy1 >= cy0, np.maximum(cx1 - cx0 + 1, 0), 0).astype(np.int64)
    box = np.repeat(np.arange(len(boxes)), n_cols)
    col = cx0.astype(np.int64)[box] + (np.arange(n_cols.sum())
                                       - np.repeat(np.cumsum(n_cols) - n_cols, n_cols))
    lo = np.searchsorted(key, col * ny + cy0.astype(np.int64)[box], side="left")
    hi = np.searchsorted(key, col * ny + cy1.astype(np.int64)[box], side="right")
    n = hi - lo
    box = np.repeat(box, n)
    at = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    p = pts[order[at]]
    inside = ((x[p] >= b[box, 0]) & (x[p] <= b[box, 2]) & (y[p] >= b[box, 1])
              & (y[p] <= b[box, 3]))
    return boxes[box[inside]], p[inside]


def within(polys: np.ndarray, x: np.ndarray, y: np.ndarray, pi: np.ndarray, pj: np.ndarray,
           distance: float, *, outside: bool = False) -> np.ndarray:
    """For each pair ``(polys[pi[k]], point pj[k])`` (points as coordinates ``x``, ``y``):
    whether the point lies within ``distance`` of the polygon, as ``shapely.dwithin`` says
    (for a geometry other than a polygon or multipolygon, ``shapely.dwithin`` itself).

    ``outside``: the points are known to lie outside every polygon, so that the one inside
    test is skipped. Pairs within :data:`BAND_M` of the limit are decided by
    ``shapely.dwithin`` itself.
    """
    parts, of_part = shapely.get_parts(polys, return_index=True)
    rings, of_ring = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    s = _segments(ring)
    poly = of_part[of_ring[ring[s]]]
    order = np.argsort(poly, kind="stable")  # segments polygon by polygon
    s, poly = s[order], poly[order]
    nseg = np.bincount(poly, minlength=len(polys))
    first = np.cumsum(nseg) - nseg
    xs, ys = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    px, py = x[pj], y[pj]
    ns, fs = nseg[pi], first[pi]
    best = np.full(len(pi), np.inf)
    # a point within the limit of a polygon's first vertex, or of any segment, is within the
    # polygon (GEOS's distance is no greater): such a pair skips the segments left
    has = np.flatnonzero(ns > 0)
    v = s[fs[has]]
    dx, dy = px[has] - xs[v], py[has] - ys[v]
    best[has] = np.sqrt(dx * dx + dy * dy)
    sure = distance - 2 * BAND_M  # a pair this close is within, whatever its other segments
    left = has[best[has] > sure]
    for j in range(int(ns[left].max()) if len(left) else 0):  # j-th segment of each polygon
        left = left[(ns[left] > j) & (best[left] > sure)]
        seg = s[fs[left] + j]
        d = _point_to_segment(px[left], py[left], xs[seg], ys[seg], xs[seg + 1], ys[seg + 1])
        best[left] = np.minimum(best[left], d)
    near = best <= distance
    other = ~np.isin(shapely.get_type_id(polys), (-1, 3, 6))  # neither polygon nor multi
    if other.any():  # GEOS for those
        best[other[pi]] = np.nan
        k = np.flatnonzero(other[pi])
        near[k] = shapely.dwithin(polys[pi[k]], shapely.points(px[k], py[k]), distance)
    if not outside:  # a point inside the polygon is at distance 0
        far = np.flatnonzero(~near & ~np.isnan(best))
        b = shapely.bounds(polys[pi[far]])
        far = far[(px[far] >= b[:, 0]) & (px[far] <= b[:, 2]) & (py[far] >= b[:, 1])
                  & (py[far] <= b[:, 3])]
        near[far] = shapely.intersects_xy(polys[pi[far]], px[far], py[far])
    band = np.flatnonzero(np.abs(best - distance) <= BAND_M)
    if len(band):
        near[band] = shapely.dwithin(polys[pi[band]], shapely.points(px[band], py[band]),
                                     distance)
    return near


def _point_to_segment(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                      bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Distance from each point P to the segment AB (the nearest point of AB found by
    projecting P and keeping to the segment), to some 1e-12 of GEOS's
    ``Distance::pointToSegment``."""
    ex, ey = bx - ax, by - ay
    qx, qy = px - ax, py - ay
    len2 = ex * ex + ey * ey
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip((qx * ex + qy * ey) / len2, 0.0, 1.0)
    t[len2 == 0] = 0.0
    qx -= t * ex
    qy -= t * ey
    return np.sqrt(qx * qx + qy * qy)
