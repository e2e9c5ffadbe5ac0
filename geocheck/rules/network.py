"""Walking distances along a network of paths: one multi-source shortest-path search per
facility type.

The graph is built by :func:`build_network` (:mod:`geocheck.rules.network_graph`); points and
polygons join it as :mod:`geocheck.rules.network_joins` describes. The search runs once from
all the facilities of a type together (``scipy.sparse.csgraph.dijkstra`` with ``min_only``),
each facility a virtual node whose edges to the network are its legs; the origins' legs are
added afterwards. Memory is linear in the size of the network: no origin x facility matrix is
ever formed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from .network_graph import JOIN_TOLERANCE_M, Network, build_network
from .network_joins import Joins, Split, join, split_segments

__all__ = ["JOIN_TOLERANCE_M", "Network", "Walks", "build_network", "walk_to_nearest"]


@dataclass
class Walks:
    """Walking distances from groups of origins to the nearest facility.

    Attributes
    ----------
    distance_m : float per group, walking metres (legs included) to the nearest facility;
        ``inf`` when no facility is within the limit. 0 when an origin touches a facility.
    facility : int per group, the position in ``facilities`` of that facility (-1 for none).
    """

    distance_m: np.ndarray
    facility: np.ndarray
    _trace: _Trace | None = field(default=None, repr=False)

    def routes(self) -> np.ndarray:
        """The route each group walks, as a LineString from the origin (its point, or where the
        walk leaves its polygon) along the paths to the facility, legs included; its length is
        ``distance_m``. None where there is no route or the origin touches the facility.

        Reconstructed on demand, all groups at once, one step along the paths at a time.
        """
        out = np.full(len(self.distance_m), None, dtype=object)
        if self._trace is None:
            return out
        return self._trace.routes(out)


@dataclass(frozen=True, eq=False)
class _Trace:
    """What :meth:`Walks.routes` needs: the search's predecessors on the split graph."""

    xy: np.ndarray            # coordinates of the real nodes (network nodes + join nodes)
    pred: np.ndarray          # predecessor of every node of the search graph
    group: np.ndarray         # the groups with a route ...
    start: np.ndarray         # ... the node where each leaves its origin ...
    origin_xy: np.ndarray     # ... and the point on the origin it leaves from
    leg_key: np.ndarray       # sorted facility-node * n_all + node of the facilities' legs
    leg_xy: np.ndarray        # the point on the facility each leg reaches
    n_all: int

    def routes(self, out: np.ndarray) -> np.ndarray:
        n_real = len(self.xy)
        steps_g, steps_xy = [self.group], [self.origin_xy]
        current, alive = self.start, self.group
        while len(current):
            steps_g.append(alive)
            steps_xy.append(self.xy[current])
            nxt = self.pred[current]
            done = (nxt < 0) | (nxt >= n_real)
            if done.any():
                key = nxt[done].astype(np.int64) * self.n_all + current[done]
                at = np.searchsorted(self.leg_key, key)
                steps_g.append(alive[done])
                steps_xy.append(self.leg_xy[np.minimum(at, len(self.leg_key) - 1)])
            current, alive = nxt[~done], alive[~done]
        g = np.concatenate(steps_g)
        xy = np.concatenate(steps_xy)
        order = np.argsort(g, kind="stable")
        g, xy = g[order], xy[order]
        keep = np.ones(len(g), dtype=bool)
        keep[1:] = (g[1:] != g[:-1]) | (xy[1:] != xy[:-1]).any(axis=1)
        g, xy = g[keep], xy[keep]
        counts = np.bincount(g, minlength=len(out))
        ok = counts[g] >= 2
        if ok.any():
            shapely.linestrings(xy[ok], indices=g[ok], out=out)
        return out


def walk_to_nearest(network: Network, origins: np.ndarray, groups: np.ndarray, n_groups: int,
                    facilities: np.ndarray, *, limit_m: float) -> Walks:
    """Walking distance from each group of origins to its nearest facility.

    Parameters
    ----------
    network : the paths (:func:`build_network`), metres.
    origins : geometries in the network's CRS: points (entrances) or polygons (estate
        outlines, building footprints); multi-part ones join by each part. A point joins at
        the nearest point of the nearest path. A polygon joins at 0 m wherever the network
        runs inside or on it, a facility's leg reaching a path inside it included; a polygon
        no path touches joins at every point of the network at its least gap (within
        ``network_joins.TIE_M``, 1e-6 m: a street parallel to a side is equally near all
        along it), each by a leg from the polygon's nearest point.
    groups : int per origin, the group (e.g. estate position, 0..n_groups-1) it belongs to; a
        group's distance is the least over its origins.
    n_groups : number of groups.
    facilities : points or polygons, joined like the origins (an origin's leg reaching a path
        inside a polygon facility reaches the facility there).
    limit_m : walks longer than this (metres, legs included) count as none (``inf``).

    Returns
    -------
    Walks
        Distances in metres per group, the facility reached and (on demand) the routes.

    Notes
    -----
    One ``scipy.sparse.csgraph.dijkstra(min_only=True, limit=limit_m)`` from all the
    facilities together; an origin that touches a facility is at 0 m.
    """
    origins = np.asarray(origins, dtype=object).reshape(-1)
    facilities = np.asarray(facilities, dtype=object).reshape(-1)
    groups = np.asarray(groups).reshape(-1)
    if len(groups) != len(origins):
        raise ValueError(f"walk_to_nearest: {len(origins)} origins but {len(groups)} groups")
    if len(groups) and (groups.min() < 0 or groups.max() >= n_groups):
        raise ValueError(f"walk_to_nearest: groups must lie in 0..{n_groups - 1}")
    if np.isnan(limit_m) or limit_m < 0:
        raise ValueError(f"walk_to_nearest: limit_m must be >= 0 m, got {limit_m}")
    distance = np.full(n_groups, np.inf)
    facility = np.full(n_groups, -1, dtype=np.intp)
    walks = Walks(distance, facility)
    if not len(facilities) or not len(origins):
        return walks
    at_f = join(network, facilities)
    at_o = join(network, origins, also=at_f)
    if (shapely.get_type_id(facilities) != 0).any():  # polygons: where origins join in them
        at_f = join(network, facilities, also=at_o)
    split = split_segments(network, Joins.concat(at_o, at_f))
    node_o = split.node[:len(at_o)]
    search = _search(split, at_f, split.node[len(at_o):], len(facilities), limit_m)
    total = search.dist[node_o] + at_o.leg
    total[total > limit_m] = np.inf
    g = groups[at_o.owner]
    order = np.lexsort((total, g))
    best = order[_firsts(g[order])]
    best = best[np.isfinite(total[best])]
    distance[g[best]] = total[best]
    facility[g[best]] = search.reached_from[node_o[best]] - len(split.xy)
    touch_g, touch_f = _touching(origins, groups, facilities)
    distance[touch_g] = 0.0
    facility[touch_g] = touch_f
    best = best[np.isin(g[best], touch_g, invert=True)]
    walks._trace = _Trace(xy=split.xy, pred=search.pred, group=g[best], start=node_o[best],
                          origin_xy=at_o.geom_xy[best], leg_key=search.leg_key,
                          leg_xy=search.leg_xy, n_all=search.n_all)
    return walks


@dataclass(frozen=True, eq=False)
class _Search:
    dist: np.ndarray          # metres from the nearest facility to every node
    pred: np.ndarray          # predecessor of every node on its way to that facility
    reached_from: np.ndarray  # the facility node each node is reached from
    leg_key: np.ndarray       # sorted facility-node * n_all + node of the facilities' legs
    leg_xy: np.ndarray        # the point on the facility each leg reaches
    n_all: int


def _search(split: Split, at_f: Joins, node_f: np.ndarray, n_facilities: int,
            limit_m: float) -> _Search:
    """One multi-source Dijkstra from all the facilities, each a virtual node after the real
    ones whose edges to the network are its legs (each node once, with the least leg)."""
    from scipy.sparse import csr_array  # scipy only for a run with paths
    from scipy.sparse.csgraph import dijkstra
    n_real = len(split.xy)
    n_all = n_real + n_facilities
    key = (n_real + at_f.owner).astype(np.int64) * n_all + node_f
    order = np.lexsort((at_f.leg, key))
    order = order[_firsts(key[order])]
    key, leg, leg_xy = key[order], at_f.leg[order], at_f.geom_xy[order]
    src, dst = key // n_all, key % n_all
    u, v, m = split.edge_u, split.edge_v, split.edge_m
    graph = csr_array((np.concatenate([m, m, leg]),
                       (np.concatenate([u, v, src]), np.concatenate([v, u, dst]))),
                      shape=(n_all, n_all))
    if not len(key):
        none = np.full(n_all, -9999, dtype=np.int32)
        return _Search(np.full(n_all, np.inf), none, none, key, leg_xy, n_all)
    dist, pred, reached_from = dijkstra(graph, directed=True, indices=np.unique(src),
                                        min_only=True, return_predecessors=True, limit=limit_m)
    return _Search(dist, pred, reached_from, key, leg_xy, n_all)


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Mask of the first of each run of equal values in a sorted array."""
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first


def _touching(origins: np.ndarray, groups: np.ndarray, facilities: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(group, facility position) for each group one of whose origins touches a facility
    (the first such facility)."""
    tree = shapely.STRtree(facilities)
    o, f = tree.query(origins, predicate="intersects")
    g = groups[o]
    order = np.lexsort((f, g))
    g, f = g[order], f[order]
    first = _firsts(g)
    return g[first], f[first]
