"""The lean walking baseline (bench/lean_walk.py) is itself right.

Hand-worked cases (a tunnel crossing without a shared vertex, a stop off the end of a path, a
path crossing an estate's outline, an estate no path touches, two points on one segment), and
the whole of a small synthetic city (river, bridge, flyover, footpaths, gates) against an
independent networkx computation that splits the network edge by edge.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import lean_walk  # noqa: E402
from make_city import make_city  # noqa: E402


def walk(lines: list, estates: list, entrances: list[tuple[int, Point]], stops: list,
         limit: float = 1e9) -> tuple[np.ndarray, np.ndarray]:
    """Run the lean script's functions on hand-built geometries."""
    graph = lean_walk.build_graph(np.array(lines, dtype=object))
    ent_est = np.array([e for e, _ in entrances], dtype=np.int64)
    ent = np.array([p for _, p in entrances], dtype=object)
    return lean_walk.walk(graph, np.array(estates, dtype=object), ent_est, ent,
                          np.array(stops, dtype=object), limit)


def test_tunnel_without_shared_vertex_is_no_junction() -> None:
    # A runs east along y=0; B crosses it at (50, 0) with no vertex there and ends at (50, 50),
    # where C comes back from (100, 50) down to A's east end (100, 0).
    a = LineString([(0, 0), (100, 0)])
    b = LineString([(50, -50), (50, 50)])
    c = LineString([(50, 50), (100, 50), (100, 0)])
    estate = box(40, 55, 60, 75)
    # Stop 3 m west of A's start; entrance on the estate's south edge, 5 m above (50, 50):
    # 3 + 100 (A) + 50 + 50 (C) + 5 = 208, not 3 + 50 + 50 + 5 = 108 through the crossing.
    d, stop = walk([a, b, c], [estate], [(0, Point(50, 55))], [Point(-3, 0)])
    assert d[0] == pytest.approx(208.0, abs=1e-9)
    assert stop[0] == 0


def test_shared_vertex_is_a_junction_within_tolerance() -> None:
    # The same crossing with a vertex on both lines, B's 3 cm off A's (within 0.05 m).
    a = LineString([(0, 0), (50, 0), (100, 0)])
    b = LineString([(50, -50), (50.03, 0), (50, 50)])
    d, _ = walk([a, b], [box(40, 55, 60, 75)], [(0, Point(50, 55))], [Point(-3, 0)])
    # 3 + 50 + |(50.03, 0)-(50, 50)| + 5
    assert d[0] == pytest.approx(3 + 50 + np.hypot(0.03, 50) + 5, abs=1e-9)


def test_outline_origin_counts_from_the_crossing() -> None:
    # A path from the estate's middle to a stop 200 m south of its south edge; the stop is
    # 4 m east of the path's end, off the end of nothing but beside it.
    path = LineString([(50, 50), (50, -200)])
    estate = box(0, 0, 100, 100)
    d, _ = walk([path], [estate], [], [Point(54, -200)])
    assert d[0] == pytest.approx(200 + 4, abs=1e-9)


def test_stop_off_the_end_of_a_path_and_untouched_estate() -> None:
    # The estate (no entrance) lies north-west of the path's west end, its corner (-10, 10)
    # nearest; the stop 6 m east of the east end, so both legs count: 10 sqrt 2 + 100 + 6.
    path = LineString([(0, 0), (100, 0)])
    estate = box(-30, 10, -10, 30)
    d, _ = walk([path], [estate], [], [Point(106, 0)])
    assert d[0] == pytest.approx(10 * np.sqrt(2) + 106, abs=1e-9)
    # Beyond the limit: no stop.
    d, stop = walk([path], [estate], [], [Point(106, 0)], limit=120.0)
    assert np.isinf(d[0]) and stop[0] == -1


def test_untouched_estate_along_a_path_starts_anywhere_along_it() -> None:
    # The estate's south side runs 10 m north of the path for x = 0..100: every point of the
    # path there is equally near. The walk to a stop 3 m off the path's east end starts from
    # x = 100: 10 + 50 + 3 (not 10 + 150 + 3 from x = 0, another nearest point).
    path = LineString([(-50, 0), (150, 0)])
    estate = box(0, 10, 100, 30)
    d, _ = walk([path], [estate], [], [Point(153, 0)])
    assert d[0] == pytest.approx(63.0, abs=1e-9)
    d, _ = walk([path], [estate], [], [Point(-53, 0)])
    assert d[0] == pytest.approx(63.0, abs=1e-9)


def test_two_points_on_one_segment_reach_each_other_along_it() -> None:
    # Entrance joins at x=30 (leg 2), stop at x=70 (leg 1) on one 100 m segment: 2 + 40 + 1.
    path = LineString([(0, 0), (100, 0)])
    d, _ = walk([path], [box(20, 2, 40, 20)], [(0, Point(30, 2))], [Point(70, -1)])
    assert d[0] == pytest.approx(43.0, abs=1e-9)


# --- the independent oracle -------------------------------------------------------------------

TOL = lean_walk.JOIN_TOLERANCE_M


def oracle_graph(lines: np.ndarray) -> nx.Graph:
    """Vertices as nodes (those within TOL merged), segments as edges, added one by one.

    Each edge keeps its segment oriented from its ``ends[0]`` node to its ``ends[1]``.
    """
    xy = shapely.get_coordinates(lines)
    pts = [tuple(p) for p in np.unique(xy, axis=0)]
    close = nx.Graph()  # "within TOL of each other": its components are the nodes
    close.add_nodes_from(pts)
    arr = np.array(pts)
    for i, p in enumerate(arr):
        near = np.flatnonzero(np.hypot(*(arr[i + 1:] - p).T) <= TOL) + i + 1
        close.add_edges_from((pts[i], pts[j]) for j in near)
    rep = {p: min(comp) for comp in nx.connected_components(close) for p in comp}
    g = nx.Graph()
    for line in shapely.get_parts(lines):
        c = [tuple(p) for p in shapely.get_coordinates(line)]
        for p, q in itertools.pairwise(c):
            a, b = rep[p], rep[q]
            seg = LineString([p, q])
            if a != b and (not g.has_edge(a, b) or g[a][b]["weight"] > seg.length):
                g.add_edge(a, b, weight=seg.length, geom=seg, ends=(a, b))
    return g


def network_edges(g: nx.Graph) -> list[tuple]:
    return [(a, b, d) for a, b, d in g.edges(data=True) if "geom" in d]


def insert(g: nx.Graph, where: Point) -> tuple[tuple, float]:
    """Split the edge nearest to ``where`` at its nearest point (a new node unless that is an
    end); return the node there and the leg from ``where``, metres."""
    a, b, data = min(network_edges(g), key=lambda e: e[2]["geom"].distance(where))
    geom, (start, end) = data["geom"], data["ends"]
    leg = geom.distance(where)
    s = geom.project(where)
    if s <= 0:
        return start, leg
    if s >= geom.length:
        return end, leg
    p = geom.interpolate(s)
    node = (p.x, p.y)
    g.remove_edge(a, b)
    g.add_edge(start, node, weight=s, geom=LineString([geom.coords[0], node]), ends=(start, node))
    g.add_edge(node, end, weight=geom.length - s, geom=LineString([node, geom.coords[1]]),
               ends=(node, end))
    return node, leg


def oracle(lines: np.ndarray, estates: np.ndarray, ent_est: np.ndarray,
           entrances: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Walking metres from each estate to its nearest stop, by networkx's Dijkstra."""
    g = oracle_graph(lines)
    for k, stop in enumerate(stops):
        node, leg = insert(g, stop)
        g.add_edge(("stop", k), node, weight=leg)
    origins: dict[int, list[tuple[tuple, float]]] = {}
    for e, p in zip(ent_est, entrances, strict=True):
        origins.setdefault(int(e), []).append(insert(g, p))
    for e in sorted(set(range(len(estates))) - set(origins)):
        poly = estates[e]
        for _, _, d in network_edges(g):
            for c in shapely.get_coordinates(d["geom"].intersection(poly.boundary)):
                insert(g, Point(c))
        # Where no path touches the outline: every point of the network at its gap (up to
        # lean_walk.TIE_M) is a start, a leg of its distance away; those points run between
        # edge ends and feet of the outline's vertices on the edges.
        gap = min(poly.distance(d["geom"]) for _, _, d in network_edges(g))
        reach = gap + lean_walk.TIE_M
        for _, _, d in network_edges(g):
            for v in shapely.get_coordinates(poly):
                if d["geom"].distance(Point(v)) <= reach:
                    foot = d["geom"].interpolate(d["geom"].project(Point(v)))
                    insert(g, foot)
        origins[e] = [(n, poly.distance(Point(n))) for n in g.nodes
                      if not isinstance(n[0], str) and poly.distance(Point(n)) <= reach]
    dist = nx.multi_source_dijkstra_path_length(g, {("stop", k) for k in range(len(stops))})
    return np.array([min(leg + dist.get(n, np.inf) for n, leg in origins[e])
                     for e in range(len(estates))])


def test_small_city_equals_networkx() -> None:
    # 30 estates: 6 x 5 cells, the river on the first row boundary with one bridge (column 5),
    # one flyover, footpaths and gates; 0-3 entrances per estate. Seed 28 gives 15 bus stops
    # and three estates without entrances, one of them touched by no path.
    city = make_city(30, seed=28)
    lines = city["paths"].geometry.to_numpy()
    estates = city["estates"].geometry.to_numpy()
    eid = city["estates"]["estate_id"].to_numpy()
    ent = city["entrances"]
    ent_est = np.searchsorted(eid, ent["estate_id"].to_numpy())
    stops = city["bus_stops"].geometry.to_numpy()
    outline = np.setdiff1d(np.arange(30), ent_est)
    untouched = ~shapely.intersects(estates[outline], shapely.union_all(lines))
    assert len(stops) == 15 and outline.size == 3 and untouched.sum() == 1

    want = oracle(lines, estates, ent_est, ent.geometry.to_numpy(), stops)
    got, stop = walk(list(lines), list(estates), list(zip(ent_est, ent.geometry, strict=True)),
                     list(stops))
    assert np.isfinite(want).sum() >= 25
    np.testing.assert_allclose(got, want, atol=1e-3, rtol=0)
    assert (stop[np.isfinite(got)] >= 0).all()
