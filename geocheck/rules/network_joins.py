"""How points and polygons join a walking network, and the segments split where they join.

- A point joins at the nearest point of the nearest segment, by a straight leg that counts in
  the distance.
- A polygon joins at 0 m wherever a path runs inside it or on its boundary: the walk may start
  anywhere on the network inside it. The nearest such place to anywhere else is where a
  segment crosses its boundary, a vertex inside it, or the point where something else joins
  a segment inside it (a stop whose nearest path is a footpath inside an estate is a leg away
  from the estate); all of these are joins.
- A polygon no path touches joins like a point, from the nearest point of its boundary: as a
  street may run parallel to a side (the whole side then equally near), every point of the
  network within :data:`TIE_M` of the least gap is a join, a leg of its own distance away.
  Along a segment those points make one stretch whose ends are the segment's ends or the feet
  of the polygon's vertices, so those are the joins, with the points where something else
  joins inside the stretch.

A join that falls inside a segment becomes a new node splitting it: the joins of one segment
are sorted along it and chained, so two joins on one segment are as far apart as along it.
All of it is vectorised over geometries and joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .measure import query_nearest, query_within
from .network_graph import Network

TIE_M = 1e-6
"""Points of the network at most this much farther (metres) from a polygon than its nearest
are as near: a polygon no path touches joins at all of them."""


RING_EDGES = 64
"""Polygons of at most this many edges (buildings) join by legs computed in numpy from their
edges; larger ones (estates) by GEOS."""


@dataclass(frozen=True, eq=False)
class Joins:
    """Where geometries join the network, one row per join.

    Attributes
    ----------
    owner : position of the geometry in the input array.
    seg : the segment joined.
    t_m : distance along the segment from its start, metres.
    leg : length of the straight leg from the geometry to the segment, metres (0 when the
        geometry touches the segment there).
    geom_xy : (n, 2) the point on the geometry the leg leaves from.
    """

    owner: np.ndarray
    seg: np.ndarray
    t_m: np.ndarray
    leg: np.ndarray
    geom_xy: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    @staticmethod
    def concat(*parts: Joins) -> Joins:
        """The joins of several inputs one after the other (owners kept as they are)."""
        return Joins(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("owner", "seg", "t_m", "leg", "geom_xy")))


def join(network: Network, geoms: np.ndarray, *, also: Joins | None = None) -> Joins:
    """Where each geometry (points or polygons, metres) joins the network.

    ``also`` are the joins of other geometries (the facilities' when these are the origins):
    where one lies inside or on a polygon, or, for a polygon no path touches, within
    :data:`TIE_M` of its least gap, the polygon joins there too (by a leg of its distance).
    Missing or empty geometries, and all of them when the network has no segment, get no join.
    """
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    parts, idx = shapely.get_parts(geoms[ok], return_index=True)
    owner = ok[idx]
    segments = network.segments
    if not len(parts) or not len(segments):
        return _empty()
    p, s = network.tree.query(parts, predicate="intersects")
    xy_in, k, t_in = _touching(network, parts, p, s)
    reach = np.zeros(len(parts))  # the least gap of each part to the network
    touched = np.zeros(len(parts), dtype=bool)
    touched[p] = True
    alone = np.flatnonzero(~touched)
    a, s_near, leg = query_nearest(network.tree, parts[alone])
    a = alone[a]
    reach[a] = leg
    # points: a leg from the point to the nearest point of the nearest segment
    point = shapely.get_type_id(parts[a]) == 0
    a, s_near, leg = a[point], s_near[point], leg[point]
    legs = shapely.get_coordinates(shapely.shortest_line(segments[s_near], parts[a]))
    legs = legs.reshape(-1, 2, 2)
    seg = np.concatenate([s[k], s_near])
    t = np.concatenate([t_in, np.full(len(a), np.nan)])
    unknown = np.isnan(t)
    t[unknown] = _along(network, seg[unknown], np.concatenate([xy_in, legs[:, 0]])[unknown])
    rows = [Joins(owner=np.concatenate([owner[p[k]], owner[a]]), seg=seg, t_m=t,
                  leg=np.concatenate([np.zeros(len(k)), leg]),
                  geom_xy=np.concatenate([xy_in, legs[:, 1]]))]
    # polygons: every point of the network at the least gap
    area = shapely.get_type_id(parts) != 0
    apart = np.flatnonzero(area & ~touched)
    rows.append(_stretches(network, parts, owner, apart, reach[apart]))
    if also is not None and len(also):
        rows.append(_within(network, parts, owner, np.flatnonzero(area), reach[area], also))
    return Joins.concat(*rows)


def _stretches(network: Network, parts: np.ndarray, owner: np.ndarray, which: np.ndarray,
               gap: np.ndarray) -> Joins:
    """The joins of polygons ``parts[which]`` no path touches, ``gap`` metres from the network:
    the ends of every stretch of a segment within ``gap + TIE_M`` of the polygon, which are
    the segment's ends or the feet on it of the polygon's vertices."""
    i, s = query_within(network.tree, parts[which], gap + TIE_M)
    vxy, v = shapely.get_coordinates(parts[which[i]], return_index=True)
    a = network.seg_xy[s, 0]
    d = network.seg_xy[s, 1] - a
    length = network.seg_m[s]
    foot = ((vxy - a[v]) * d[v]).sum(axis=1) / length[v]
    pair = np.concatenate([np.arange(len(s)), np.arange(len(s)), v])
    t = _snap(np.concatenate([np.zeros(len(s)), length, foot]), length[pair])
    order = np.lexsort((t, pair))  # each place once per pair
    pair, t = pair[order], t[order]
    once = np.ones(len(t), dtype=bool)
    once[1:] = (pair[1:] != pair[:-1]) | (t[1:] != t[:-1])
    pair, t = pair[once], t[once]
    xy = a[pair] + d[pair] * (t / length[pair])[:, None]
    k = which[i[pair]]
    # a small polygon's legs in numpy from its rings' edges (no path touches it, so every
    # candidate lies outside it and its distance is the boundary's); a large one's by GEOS
    edges = shapely.get_num_coordinates(parts) - shapely.get_num_interior_rings(parts) - 1
    # a place farther from the polygon's box than the gap is no join: left out before measuring
    box = shapely.bounds(parts)[k]
    off = np.maximum(np.maximum(box[:, :2] - xy, xy - box[:, 2:]), 0.0)
    near_box = np.hypot(*off.T) <= gap[i[pair]] + TIE_M + 1e-9
    k, pair, t, xy = k[near_box], pair[near_box], t[near_box], xy[near_box]
    small = edges[k] <= RING_EDGES
    near = _ring_legs(parts, k[small], xy[small])
    keep = near[0] <= gap[i[pair]][small] + TIE_M
    big = ~small
    return Joins.concat(
        Joins(owner=owner[k[small]][keep], seg=s[pair][small][keep], t_m=t[small][keep],
              leg=near[0][keep], geom_xy=near[1][keep]),
        _joins_at(parts[k[big]], owner[k[big]], s[pair][big], t[big], xy[big],
                  gap[i[pair]][big]))


def _ring_legs(parts: np.ndarray, which: np.ndarray, xy: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """The distance (metres) from each point ``xy[k]`` to the boundary of ``parts[which[k]]``,
    and the nearest point of that boundary (the first edge's foot where two are as near),
    computed over every edge of the polygon's rings at once."""
    if not len(which):
        return np.zeros(0), np.zeros((0, 2))
    used, inv = np.unique(which, return_inverse=True)
    rings, r_part = shapely.get_rings(parts[used], return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(ring[1:] == ring[:-1])  # edge: coords[start] -> coords[start + 1]
    per_part = np.bincount(r_part[ring[start]], minlength=len(used))
    count = per_part[inv]
    first = np.cumsum(count) - count
    point = np.repeat(np.arange(len(xy)), count)
    edge = start[np.repeat((np.cumsum(per_part) - per_part)[inv] - first, count)
                 + np.arange(len(point))]
    a, d = coords[edge], coords[edge + 1] - coords[edge]
    p = xy[point]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.nan_to_num(np.clip(((p - a) * d).sum(axis=1) / (d * d).sum(axis=1), 0.0, 1.0))
    foot = a + d * f[:, None]
    dist = np.hypot(*(p - foot).T)
    best = np.minimum.reduceat(dist, first)
    hit = np.flatnonzero(dist == np.repeat(best, count))
    return best, foot[hit[np.unique(point[hit], return_index=True)[1]]]


def _within(network: Network, parts: np.ndarray, owner: np.ndarray, which: np.ndarray,
            gap: np.ndarray, also: Joins) -> Joins:
    """The joins of polygons ``parts[which]`` (``gap`` metres from the network, 0 when a path
    touches them) at the points of ``also`` within ``gap + TIE_M`` of them."""
    if not len(which):
        return _empty()
    a, b = network.seg_xy[also.seg, 0], network.seg_xy[also.seg, 1]
    xy = a + (b - a) * (also.t_m / network.seg_m[also.seg])[:, None]
    i, j = shapely.STRtree(shapely.points(xy)).query(parts[which], predicate="dwithin",
                                                     distance=gap + TIE_M)
    return _joins_at(parts[which[i]], owner[which[i]], also.seg[j], also.t_m[j], xy[j], gap[i])


def _joins_at(parts: np.ndarray, owner: np.ndarray, seg: np.ndarray, t: np.ndarray,
              xy: np.ndarray, gap: np.ndarray) -> Joins:
    """Joins of ``parts`` at the points ``xy`` (``t`` along ``seg``) no farther than
    ``gap + TIE_M`` from them, each by a leg from its nearest point."""
    points = shapely.points(xy)
    # the distance first (cheap), the leg's line only for the candidates within reach
    ok = np.flatnonzero(shapely.distance(parts, points) <= gap + TIE_M + 1e-9)
    lines = shapely.shortest_line(parts[ok], points[ok])
    leg = shapely.length(lines)
    keep = leg <= gap[ok] + TIE_M
    ok, lines, leg = ok[keep], lines[keep], leg[keep]
    geom_xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)[:, 0]
    return Joins(owner=owner[ok], seg=seg[ok], t_m=t[ok], leg=leg, geom_xy=geom_xy)


def _touching(network: Network, parts: np.ndarray, p: np.ndarray, s: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where segments ``s`` touch the parts ``p`` they intersect: ``(xy, pair, t_m)`` for each
    join at 0 m, ``pair`` indexing ``p`` and ``s``, ``t_m`` the distance along the segment
    where it is known without projecting (a segment's end), else NaN.

    A point joins where it lies. A polygon joins at the segment's ends inside or on it (each
    node once per polygon) and, when the segment leaves it, where it crosses its boundary
    (with the points where others join segments inside it, :func:`_within`, the nearest place
    of the network inside a polygon to anywhere else is always one of these).
    """
    pair = np.arange(len(p))
    point = shapely.get_type_id(parts[p]) == 0
    xy_point = shapely.get_coordinates(parts[p[point]])
    area, pa, sa = pair[~point], p[~point], s[~point]
    shapely.prepare(parts[pa])
    a, b = network.seg_xy[sa, 0], network.seg_xy[sa, 1]
    a_in = shapely.intersects_xy(parts[pa], a[:, 0], a[:, 1])
    b_in = shapely.intersects_xy(parts[pa], b[:, 0], b[:, 1])
    # the nodes inside, once per part
    end_pair = np.concatenate([area[a_in], area[b_in]])
    end_xy = np.concatenate([a[a_in], b[b_in]])
    end_t = np.concatenate([np.zeros(a_in.sum()), network.seg_m[sa[b_in]]])
    end_node = np.concatenate([network.seg_u[sa[a_in]], network.seg_v[sa[b_in]]])
    once = np.unique(p[end_pair].astype(np.int64) * network.n_nodes + end_node,
                     return_index=True)[1]
    leaves = ~(a_in & b_in)
    xy_cross, c = _crossings(network, parts, pa[leaves], sa[leaves])
    return (np.concatenate([xy_point, end_xy[once], xy_cross]),
            np.concatenate([pair[point], end_pair[once], area[leaves][c]]),
            np.concatenate([np.full(point.sum(), np.nan), end_t[once],
                            np.full(len(c), np.nan)]))


def _crossings(network: Network, parts: np.ndarray, p: np.ndarray, s: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where each segment ``s[i]`` meets the boundary of ``parts[p[i]]``: ``(xy, i)``,
    computed in numpy from the rings' edges. Where a segment runs along the boundary, the
    edges at the ends of that stretch cross it there (a ring is closed), so edges parallel
    to the segment are left out."""
    used = np.unique(p)
    rings, r_part = shapely.get_rings(parts[used], return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(ring[1:] == ring[:-1])
    edge_part = used[r_part[ring[start]]]
    e0, e1 = coords[start], coords[start + 1]
    i, e = shapely.STRtree(shapely.linestrings(np.stack([e0, e1], axis=1))).query(
        network.segments[s])
    keep = edge_part[e] == p[i]
    i, e = i[keep], e[keep]
    a = network.seg_xy[s[i], 0]
    r = network.seg_xy[s[i], 1] - a
    q0, q = e0[e], e1[e] - e0[e]
    d = q0 - a
    denom = _cross(r, q)
    parallel = np.abs(denom) <= 1e-12 * np.hypot(*r.T) * np.hypot(*q.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _cross(d, q) / denom
        u = _cross(d, r) / denom
    eps = 1e-12
    hit = ~parallel & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
    return a[hit] + r[hit] * np.clip(t[hit], 0, 1)[:, None], i[hit]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The z of the cross product of rows of 2-vectors."""
    return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]


def _empty() -> Joins:
    none = np.zeros(0, dtype=np.intp)
    return Joins(owner=none, seg=none, t_m=np.zeros(0), leg=np.zeros(0),
                 geom_xy=np.zeros((0, 2)))


_SNAP_M = 1e-9
"""A join this close (metres) to a segment's end lands on its node."""


def _along(network: Network, seg: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Distance (metres) along each segment from its start to the projection of a point."""
    a, b = network.seg_xy[seg, 0], network.seg_xy[seg, 1]
    d = b - a
    length = network.seg_m[seg]
    return _snap(((xy - a) * d).sum(axis=1) / length, length)


def _snap(t: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Distances along segments clipped to them, those within :data:`_SNAP_M` of an end on it
    (a segment's own end, give or take rounding, is its node)."""
    t = np.clip(t, 0.0, length)
    t[t <= _SNAP_M] = 0.0
    end = t >= length - _SNAP_M
    t[end] = length[end]
    return t


@dataclass(frozen=True, eq=False)
class Split:
    """The network with its segments split at the joins.

    Attributes
    ----------
    node : the node each join lands on (a segment end, or a new node inside the segment).
    xy : coordinates of all the nodes, the network's first and the new ones after, metres.
    edge_u, edge_v, edge_m : the undirected edges, the network's and those of the split
        segments' pieces, with their lengths in metres.
    """

    node: np.ndarray
    xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_m: np.ndarray


def split_segments(network: Network, joins: Joins) -> Split:
    """Insert the joins that fall inside segments as new nodes, chained along each segment.

    A segment's own edge is kept beside the chain of its pieces: both have the same length, so
    distances are as if the segment were replaced.
    """
    seg, t = joins.seg, joins.t_m
    length = network.seg_m[seg]
    node = np.where(t <= 0, network.seg_u[seg], network.seg_v[seg])
    inner = np.flatnonzero((t > 0) & (t < length))
    n = network.n_nodes
    if not len(inner):
        return Split(node, network.xy, network.edge_u, network.edge_v, network.edge_m)
    # one new node per distinct (segment, distance along it), in order along each segment
    order = inner[np.lexsort((t[inner], seg[inner]))]
    s, d = seg[order], t[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    ids = n + np.cumsum(new) - 1
    node[order] = ids
    s, d, ids = s[new], d[new], ids[new]
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    last = np.ones(len(s), dtype=bool)
    last[:-1] = s[1:] != s[:-1]
    prev = np.where(first, network.seg_u[s], np.roll(ids, 1))
    prev_d = np.where(first, 0.0, np.roll(d, 1))
    a, b = network.seg_xy[s, 0], network.seg_xy[s, 1]
    xy = a + (b - a) * (d / network.seg_m[s])[:, None]
    return Split(node=node, xy=np.concatenate([network.xy, xy]),
                 edge_u=np.concatenate([network.edge_u, prev, ids[last]]),
                 edge_v=np.concatenate([network.edge_v, ids, network.seg_v[s[last]]]),
                 edge_m=np.concatenate([network.edge_m, d - prev_d,
                                        network.seg_m[s[last]] - d[last]]))
