"""The lean walking baseline: each estate's walk to its nearest bus stop, straight scipy.

Usage::

    python bench/lean_walk.py CITY.gpkg -o walk.csv [--limit 1200] [--stats]

What a competent analyst would write to answer "how far do residents walk to a bus stop" on
the ``paths`` layer of ``bench/make_city.py``, with no framework:

1. **Network.** Nodes are the lines' vertices, vertices closer than ``JOIN_TOLERANCE_M``
   joined (``np.unique`` then ``cKDTree.query_pairs``); edges are the segments between
   consecutive vertices, weighted by their length. Lines meet only where they share a vertex:
   crossings without one (flyovers, tunnels) are no junction.
2. **Joining.** A point (bus stop, entrance) joins the nearest segment
   (``STRtree.query_nearest``) at its nearest point (``line_locate_point``), by a straight leg
   that counts in the distance; the segment is split there (every point joining one segment
   splits it in order, so two points on one segment reach each other along it). An estate
   without entrances starts at 0 anywhere on the network inside or on its outline: the ends of
   each segment's part inside it (a path crossing the outline counts from the crossing) and
   every vertex or split point inside; an estate no path touches joins like a point, from its
   outline's nearest points: a path running along a side of it is equally near all along, so
   every point of the network within ``TIE_M`` of the least gap is a start, a leg of its
   distance away (the ends of each such stretch are segment ends or feet of the outline's
   vertices); picking one of them would make the answer depend on the pick.
3. **Search.** One multi-source ``scipy.sparse.csgraph.dijkstra(min_only=True, limit=...)``
   from all bus stops at once; an estate's walk is the least over its entrances (or its
   outline), ``inf`` beyond ``--limit`` metres.

It writes ``estate_id, walk_m, stop_id`` (walk in metres to the millimetre, both blank when no
stop is within the limit). ``--stats`` prints one JSON line: network size and seconds per
step. No validation, CRS handling or reporting: the bench compares geocheck's engine with it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely import STRtree

Geoms = NDArray[np.object_]
Float = NDArray[np.float64]
Int = NDArray[np.int64]

JOIN_TOLERANCE_M = 0.05
TIE_M = 1e-6
"""Points of the network this much farther from an outline than its nearest are as near."""
LIMIT_M = 1200.0


@dataclass
class Graph:
    """The walkable network: node coordinates and one row per segment (u, v, length)."""

    xy: Float
    u: Int
    v: Int
    length: Float
    segments: Geoms  # two-point LineStrings, for the nearest-segment search
    tree: STRtree

    @property
    def n_nodes(self) -> int:
        return len(self.xy)


def build_graph(lines: Geoms, tolerance_m: float = JOIN_TOLERANCE_M) -> Graph:
    """Nodes from the vertices of ``lines`` (joined within ``tolerance_m``), edges from segments."""
    parts = shapely.get_parts(lines)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    step = np.ones(order.size, dtype=bool)
    step[1:] = np.any(xy[order[1:]] != xy[order[:-1]], axis=1)
    uniq = xy[order[step]]
    inv = np.empty(order.size, np.int64)
    inv[order] = np.cumsum(step) - 1
    pairs = cKDTree(uniq).query_pairs(tolerance_m, output_type="ndarray")
    n = len(uniq)
    label = np.arange(n)
    if len(pairs):
        adj = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, label = connected_components(adj, directed=False)
    node = label[inv]
    _, first = np.unique(label, return_index=True)
    a = np.flatnonzero(part[1:] == part[:-1])
    b = a + 1
    u, v = node[a], node[b]
    length = np.hypot(*(xy[b] - xy[a]).T)
    keep = u != v
    a, b, u, v, length = a[keep], b[keep], u[keep], v[keep], length[keep]
    # A segment drawn twice (two lines along the same stretch) is one edge: the shorter.
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, hi, lo))
    once = np.ones(order.size, dtype=bool)
    once[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    k = order[once]
    segments = shapely.linestrings(np.stack([xy[a[k]], xy[b[k]]], axis=1))
    return Graph(uniq[first], u[k], v[k], length[k], segments, STRtree(segments))


def join_points(graph: Graph, points: Geoms) -> tuple[Int, Float, Float]:
    """Nearest segment of each point, position along it and leg length (metres)."""
    (src, seg), leg = graph.tree.query_nearest(points, return_distance=True, all_matches=False)
    out_seg, out_leg = np.empty(len(points), np.int64), np.empty(len(points))
    out_seg[src], out_leg[src] = seg, leg
    s = shapely.line_locate_point(graph.segments[out_seg], points)
    return out_seg, s, out_leg


def polygon_events(graph: Graph, polygons: Geoms, gap: Float) -> tuple[Int, Float]:
    """Where polygons join the network: (segment, position) rows.

    ``gap`` is each polygon's distance to the network. A polygon a path touches (gap 0) joins
    at the ends of each segment's part inside or on it: the segment's ends inside (nodes
    already) and where it crosses the outline. A polygon no path touches joins at every point
    of the network at its gap (ties within ``TIE_M`` all count: a path along a side of it is
    that far from the whole side): the ends of each such stretch are a segment end or the
    foot of a polygon vertex on the segment, so the feet of its vertices within the gap are
    events (segment ends are nodes already).
    """
    touched = np.flatnonzero(gap == 0)
    pj, sj = graph.tree.query(shapely.boundary(polygons[touched]), predicate="intersects")
    pieces = shapely.intersection(graph.segments[sj], polygons[touched][pj])
    pts, k = shapely.get_coordinates(pieces, return_index=True)
    t_seg = sj[k]
    t_s = shapely.line_locate_point(graph.segments[t_seg], shapely.points(pts))
    alone = np.flatnonzero(gap > 0)
    aj, sa = graph.tree.query(polygons[alone], predicate="dwithin", distance=gap[alone] + TIE_M)
    vxy, vk = shapely.get_coordinates(polygons[alone][aj], return_index=True)
    feet = shapely.points(vxy)
    near = shapely.distance(graph.segments[sa[vk]], feet) <= gap[alone][aj][vk] + TIE_M
    a_seg = sa[vk][near]
    a_s = shapely.line_locate_point(graph.segments[a_seg], feet[near])
    return np.concatenate([t_seg, a_seg]), np.concatenate([t_s, a_s])


def origin_nodes(graph: Graph, polygons: Geoms, gap: Float, event_node: Int,
                 event_xy: Float) -> tuple[Int, Int, Float]:
    """(polygon, node, leg) for the nodes and split points within each polygon's gap (+TIE_M)
    of it: inside or on it (leg 0) when a path touches it, else at its gap (leg: the gap)."""
    pj, sj = graph.tree.query(polygons, predicate="dwithin", distance=gap + TIE_M)
    pj, node = np.concatenate([pj, pj]), np.concatenate([graph.u[sj], graph.v[sj]])
    ei, ej = STRtree(polygons).query(shapely.points(event_xy), predicate="dwithin",
                                     distance=gap.max(initial=0.0) + TIE_M)
    pj, node = np.concatenate([pj, ej]), np.concatenate([node, event_node[ei]])
    xy = np.concatenate([graph.xy, event_xy])[np.where(node < graph.n_nodes, node,
                                                       graph.n_nodes + np.searchsorted(
                                                           event_node, node))]
    leg = shapely.distance(polygons[pj], shapely.points(xy))
    ok = leg <= gap[pj] + TIE_M
    return pj[ok], node[ok], leg[ok]


def split(graph: Graph, seg: Int, s: Float) -> tuple[Int, int, tuple[Int, Int, Float]]:
    """Split the segments at the events (seg, s).

    Events at a segment's end are its end node; the others become new nodes, chained in order
    along their segment in place of it. Returns each event's node, the number of nodes and the
    edges (i, j, metres).
    """
    length = graph.length[seg]
    s = np.clip(s, 0.0, length)
    node = np.where(s <= 0.0, graph.u[seg], graph.v[seg])
    mid = np.flatnonzero((s > 0.0) & (s < length))
    key_seg, key_s = seg[mid], s[mid]
    order = np.lexsort((key_s, key_seg))
    ks, kt = key_seg[order], key_s[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]) | (kt[1:] != kt[:-1])
    ids = graph.n_nodes + np.cumsum(new) - 1
    node[mid[order]] = ids
    # Chains u -> split nodes -> v for every split segment.
    cs, ct, cn = ks[new], kt[new], ids[new]
    cut = np.unique(cs)
    first = np.ones(cs.size, dtype=bool)
    first[1:] = cs[1:] != cs[:-1]
    last = np.ones(cs.size, dtype=bool)
    last[:-1] = cs[1:] != cs[:-1]
    inner = np.flatnonzero(~last)
    i = np.concatenate([graph.u[cs[first]], cn[inner], cn[last]])
    j = np.concatenate([cn[first], cn[inner + 1], graph.v[cs[last]]])
    w = np.concatenate([ct[first], ct[inner + 1] - ct[inner], graph.length[cs[last]] - ct[last]])
    whole = np.ones(graph.u.size, dtype=bool)
    whole[cut] = False
    i = np.concatenate([graph.u[whole], i])
    j = np.concatenate([graph.v[whole], j])
    w = np.concatenate([graph.length[whole], w])
    return node, graph.n_nodes + int(new.sum()), (i, j, w)


def walk(graph: Graph, estates: Geoms, ent_est: Int, entrances: Geoms, stops: Geoms,
         limit_m: float) -> tuple[Float, Int]:
    """Walking metres from each estate to its nearest stop (inf beyond ``limit_m``) and the stop.

    Origins: an estate's entrances when it has any, else its outline.
    """
    n = len(estates)
    no_ent = np.ones(n, dtype=bool)
    no_ent[ent_est] = False
    poly = np.flatnonzero(no_ent)
    f_seg, f_s, f_leg = join_points(graph, stops)
    o_seg, o_s, o_leg = join_points(graph, entrances)
    (at, _), near = graph.tree.query_nearest(estates[poly], return_distance=True,
                                             all_matches=False)
    gap = np.empty(poly.size)
    gap[at] = near
    p_seg, p_s = polygon_events(graph, estates[poly], gap)
    node, n_nodes, (i, j, w) = split(graph, np.concatenate([f_seg, o_seg, p_seg]),
                                     np.concatenate([f_s, o_s, p_s]))
    f_node, o_node = node[:f_seg.size], node[f_seg.size:f_seg.size + o_seg.size]
    # Each stop off the network is its own node, a leg away from its split point.
    leg_node = n_nodes + np.arange(f_seg.size)
    i = np.concatenate([i, leg_node])
    j = np.concatenate([j, f_node])
    w = np.concatenate([w, f_leg])
    size = n_nodes + f_seg.size
    g = csr_array((w, (i, j)), shape=(size, size))
    dist, _, source = dijkstra(g, directed=False, indices=leg_node, min_only=True,
                               limit=limit_m, return_predecessors=True)
    # Origins: entrance legs, and the nodes and split points each outline joins at.
    added = node >= graph.n_nodes
    ev_node, first = np.unique(node[added], return_index=True)
    ev_xy = point_xy(graph, np.concatenate([f_seg, o_seg, p_seg])[added][first],
                     np.concatenate([f_s, o_s, p_s])[added][first])
    in_poly, in_node, in_leg = origin_nodes(graph, estates[poly], gap, ev_node, ev_xy)
    grp = np.concatenate([ent_est, poly[in_poly]])
    org = np.concatenate([o_node, in_node])
    d = np.concatenate([o_leg, in_leg]) + dist[org]
    best = np.full(n, np.inf)
    np.minimum.at(best, grp, d)
    stop = np.full(n, -1)
    hit = np.isfinite(d) & (d == best[grp])
    stop[grp[hit]] = source[org[hit]] - n_nodes
    best[best > limit_m] = np.inf
    stop[~np.isfinite(best)] = -1
    return best, stop


def point_xy(graph: Graph, seg: Int, s: Float) -> Float:
    """Coordinates of the points at ``s`` metres along segments ``seg``."""
    pts = shapely.line_interpolate_point(graph.segments[seg], s)
    return shapely.get_coordinates(pts)


def read_geoms(path: Path, layer: str, columns: list[str]) -> tuple[pd.DataFrame, Geoms]:
    df = pyogrio.read_dataframe(path, layer=layer, columns=columns)
    return df, np.asarray(df.geometry.values, dtype=object)


@dataclass
class City:
    """What both walking scripts read from a city: estate ids and outlines, the entrances with
    their estate positions (only those naming an estate), the bus stops and the paths."""

    ids: pd.Index
    estates: Geoms
    entrance_estate: np.ndarray
    entrances: Geoms
    stop_ids: np.ndarray
    stops: Geoms
    lines: Geoms


def read_city(path: Path) -> City:
    """Read the layers the walk needs from the city GeoPackage at ``path``."""
    est, e = read_geoms(path, "estates", ["estate_id"])
    ids = pd.Index(est["estate_id"].astype(str))
    ent, ent_g = read_geoms(path, "entrances", ["estate_id"])
    ent_est = ids.get_indexer(ent["estate_id"].astype(str))
    ok = ent_est >= 0
    stops_df, stops = read_geoms(path, "bus_stops", ["id"])
    _, lines = read_geoms(path, "paths", [])
    return City(ids, e, ent_est[ok], ent_g[ok], stops_df["id"].to_numpy(), stops, lines)


def write_walks(city: City, best: np.ndarray, stop: np.ndarray, path: Path) -> np.ndarray:
    """Write ``estate_id, walk_m, stop_id`` (metres to the millimetre; blank where no stop was
    reached) and return which estates reached one."""
    found = stop >= 0
    pd.DataFrame({
        "estate_id": city.ids,
        "walk_m": np.where(found, np.round(best, 3), np.nan),
        "stop_id": np.where(found, city.stop_ids[np.maximum(stop, 0)], None),
    }).to_csv(path, index=False)
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("city", type=Path, help="city GeoPackage with a paths layer")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    ap.add_argument("--limit", type=float, default=LIMIT_M, help=f"metres (default {LIMIT_M:g})")
    ap.add_argument("--stats", action="store_true", help="print sizes and step times as JSON")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    city = read_city(args.city)
    t1 = time.perf_counter()
    graph = build_graph(city.lines)
    t2 = time.perf_counter()
    best, stop = walk(graph, city.estates, city.entrance_estate, city.entrances, city.stops,
                      args.limit)
    t3 = time.perf_counter()
    found = write_walks(city, best, stop, args.output)
    t4 = time.perf_counter()
    if args.stats:
        print(json.dumps({"nodes": graph.n_nodes, "edges": int(graph.u.size),
                          "read_s": t1 - t0, "build_s": t2 - t1, "walk_s": t3 - t2,
                          "write_s": t4 - t3, "reached": int(found.sum())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
