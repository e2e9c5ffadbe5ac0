"""The walking network (geocheck.rules.network): how lines become a graph, and distances on
random networks compared with an independent networkx computation.

The hand-worked cases (river and bridge, tunnel, ...) are in ``test_walk_cases.py``.
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.spatial import Delaunay
from shapely.geometry import LineString, MultiLineString, Point, box
from shapely.ops import nearest_points

from geocheck.rules.network import JOIN_TOLERANCE_M, build_network, walk_to_nearest

INF = np.inf


def lines(*coords: list[tuple[float, float]]) -> np.ndarray:
    return np.array([LineString(c) for c in coords], dtype=object)


# ---- the graph ----

def test_lines_that_cross_without_a_shared_vertex_do_not_meet() -> None:
    net = build_network(lines([(0, 0), (200, 0)], [(100, -100), (100, 100)]))
    assert (net.n_nodes, net.n_edges) == (4, 2)


def test_lines_that_share_a_vertex_meet() -> None:
    net = build_network(lines([(0, 0), (100, 0), (200, 0)], [(100, -100), (100, 0),
                                                              (100, 100)]))
    assert (net.n_nodes, net.n_edges) == (5, 4)
    assert sorted(net.edge_m) == [100.0] * 4


def test_multilines_missing_and_duplicate_lines() -> None:
    multi = MultiLineString([[(0, 0), (10, 0)], [(10, 0), (10, 10)]])
    net = build_network(np.array([multi, None, LineString(), LineString([(10, 0), (0, 0)])],
                                 dtype=object))
    # three vertices; (0,0)-(10,0) drawn twice is one edge
    assert (net.n_nodes, net.n_edges) == (3, 2)
    assert len(net.seg_m) == 3


def test_vertices_of_different_lines_within_the_tolerance_are_one_node() -> None:
    assert JOIN_TOLERANCE_M == 0.05
    near = build_network(lines([(0, 0), (10, 0)], [(10.049, 0), (20, 0)]))
    far = build_network(lines([(0, 0), (10, 0)], [(10.051, 0), (20, 0)]))
    assert (near.n_nodes, far.n_nodes) == (3, 4)
    exact = build_network(lines([(0, 0), (10, 0)], [(10.01, 0), (20, 0)]), tolerance_m=0)
    assert exact.n_nodes == 4


def test_a_finely_drawn_line_keeps_its_length() -> None:
    # vertices 0.01 m apart, closer than the tolerance: one line's own vertices never merge
    x = np.linspace(0, 10, 1001)
    net = build_network(np.array([LineString(np.c_[x, np.zeros_like(x)])]))
    assert net.n_nodes == 1001
    walks = walk_to_nearest(net, np.array([Point(0, 0)]), np.array([0]), 1,
                            np.array([Point(10, 0)]), limit_m=100)
    assert walks.distance_m[0] == pytest.approx(10.0)


def test_only_lines_can_be_walked_along() -> None:
    with pytest.raises(ValueError, match="only lines can be walked along, got a Polygon"):
        build_network(np.array([box(0, 0, 1, 1)]))
    with pytest.raises(ValueError, match="tolerance_m"):
        build_network(lines([(0, 0), (1, 0)]), tolerance_m=-1)


# ---- walking ----

STREET = lines([(0, 0), (1000, 0)])


def test_groups_take_their_nearest_origin_and_a_group_without_origins_has_none() -> None:
    net = build_network(STREET)
    origins = np.array([Point(100, 10), Point(900, 0), Point(700, 5), box(480, -5, 490, 5)])
    walks = walk_to_nearest(net, origins, np.array([0, 0, 2, 3]), 4,
                            np.array([Point(600, 0), Point(0, 50)]), limit_m=5000)
    # group 0: (100, 10) -> 10 + 500 = 510 to the first stop, 10 + 100 + 50 = 160 to the
    # second; (900, 0) -> 300: 160. group 2: 5 + 100 = 105. group 3: the box's east edge
    # crosses the street at (490, 0): 110.
    np.testing.assert_allclose(walks.distance_m, [160, INF, 105, 110])
    assert walks.facility.tolist() == [1, -1, 0, 0]
    routes = walks.routes()
    assert routes[1] is None
    np.testing.assert_allclose(shapely.length(routes[[0, 2, 3]].astype(object)),
                               [160, 105, 110])


def test_legs_count_against_the_limit() -> None:
    net = build_network(STREET)
    origins = np.array([Point(100, 30)])
    # 30 m leg + 100 m along + 20 m leg = 150 m
    for limit, want in ((150, 150), (149.9, INF)):
        walks = walk_to_nearest(net, origins, np.array([0]), 1, np.array([Point(200, -20)]),
                                limit_m=limit)
        assert walks.distance_m[0] == want


def test_no_facilities_no_paths_and_bad_groups() -> None:
    net = build_network(STREET)
    none = walk_to_nearest(net, np.array([Point(0, 0)]), np.array([0]), 1,
                           np.array([], dtype=object), limit_m=100)
    assert none.distance_m.tolist() == [INF] and none.facility.tolist() == [-1]
    empty = build_network(np.array([], dtype=object))
    walks = walk_to_nearest(empty, np.array([Point(0, 0), box(0, 0, 9, 9)]), np.array([0, 1]),
                            2, np.array([Point(5, 5)]), limit_m=100)
    assert walks.distance_m.tolist() == [INF, 0.0]  # only the touching estate: 0 m
    with pytest.raises(ValueError, match=r"groups must lie in 0\.\.0"):
        walk_to_nearest(net, np.array([Point(0, 0)]), np.array([1]), 1,
                        np.array([Point(1, 0)]), limit_m=100)
    with pytest.raises(ValueError, match="1 origins but 2 groups"):
        walk_to_nearest(net, np.array([Point(0, 0)]), np.array([0, 0]), 1,
                        np.array([Point(1, 0)]), limit_m=100)


def test_no_origin_x_facility_matrix() -> None:
    # 20,000 x 20,000 float64 would be 3.2 GB; the search is linear in the network instead
    n = 20_000
    rng = np.random.default_rng(7)
    grid = [LineString([(0, y), (2000, y)]) for y in range(0, 2001, 100)] + \
           [LineString([(x, 0), (x, 2000)]) for x in range(0, 2001, 100)]
    net = build_network(np.array(grid, dtype=object))
    origins = shapely.points(rng.uniform(0, 2000, (n, 2)))
    facilities = shapely.points(rng.uniform(0, 2000, (n, 2)))
    walks = walk_to_nearest(net, origins, np.arange(n), n, facilities, limit_m=5000)
    straight = shapely.distance(origins, facilities[walks.facility])
    assert np.isfinite(walks.distance_m).all()
    assert (walks.distance_m >= straight - 1e-9).all()


# ---- random networks against networkx ----

def random_network(rng: np.random.Generator) -> np.ndarray:
    """Lines on the edges of a Delaunay triangulation (some dropped, some drawn as one
    polyline), plus a few 'bridges' crossing the rest with no shared vertex."""
    pts = np.round(rng.uniform(0, 1000, (40, 2)), 3)
    tri = Delaunay(pts)
    edges = {tuple(sorted((s[i], s[(i + 1) % 3]))) for s in tri.simplices for i in range(3)}
    edges = sorted(edges)
    keep = [e for e in edges if rng.random() < 0.7]
    out = [LineString(pts[list(e)]) for e in keep[2:]]
    out.append(MultiLineString([pts[list(keep[0])], pts[list(keep[1])]]))
    for _ in range(4):
        a, b = rng.integers(0, len(pts), 2)
        mid = pts[a] + (pts[b] - pts[a]) * 0.5 + rng.normal(0, 30, 2)
        out.append(LineString([pts[a], mid, pts[b]]))
    return np.array(out, dtype=object)


def beside_streets(rng: np.random.Generator, paths: np.ndarray, n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` squares, each with a street running parallel to its north side 5-30 m off it and
    beyond both its ends, joined at each end to the nearest vertex of ``paths``: the whole
    side is equally near that street. Returns (squares, streets)."""
    x, y = rng.uniform(0, 900, (2, n))
    size, gap = rng.uniform(10, 60, n), rng.uniform(5, 30, n)
    north = y + size + gap
    west = np.c_[x - rng.uniform(0, 150, n), north]
    east = np.c_[x + size + rng.uniform(0, 150, n), north]
    vertices = shapely.get_coordinates(paths)

    def nearest(xy: np.ndarray) -> np.ndarray:
        return vertices[np.argmin(np.hypot(*(vertices[:, None] - xy).T), axis=1)]

    streets = [LineString(c) for c in zip(nearest(west), west, east, nearest(east), strict=True)]
    return shapely.box(x, y, x + size, y + size), np.array(streets, dtype=object)


TIE_M = 1e-6  # points of the network this much farther than a polygon's least gap are as near


def oracle(paths: np.ndarray, origins: np.ndarray, groups: np.ndarray, n_groups: int,
           facilities: np.ndarray) -> np.ndarray:
    """Walking distances computed independently, one geometry at a time, with networkx."""
    segs = [LineString(s) for g in paths for part in getattr(g, "geoms", [g])
            for s in pairwise(part.coords)]
    joins: dict[int, list[tuple[float, tuple]]] = {}  # segment -> (distance along, node)
    where: dict[tuple, Point] = {}  # node -> its point

    def join(geom: shapely.Geometry, tag: tuple) -> list[tuple[tuple, float]]:
        """(node, leg) where a geometry joins; the node is registered on its segment."""
        out = []
        if geom.geom_type == "Point":
            dist = [s.distance(geom) for s in segs]
            i = int(np.argmin(dist))
            on_seg = nearest_points(segs[i], geom)[0]
            out.append((i, segs[i].project(on_seg), dist[i]))
        elif any(s.intersects(geom) for s in segs):  # from where paths cross it or lie in it
            for i, s in enumerate(segs):
                for c in shapely.get_coordinates(s.intersection(geom)):
                    out.append((i, s.project(Point(c)), 0.0))
        else:  # from every point of the network at its least gap: segment ends, vertex feet
            gap = min(s.distance(geom) for s in segs)
            for i, s in enumerate(segs):
                if s.distance(geom) > gap + TIE_M:
                    continue
                for t in {0.0, s.length, *(s.project(Point(v))
                                           for v in shapely.get_coordinates(geom))}:
                    leg = s.interpolate(t).distance(geom)
                    if leg <= gap + TIE_M:
                        out.append((i, t, leg))
        nodes = []
        for k, (i, t, leg) in enumerate(out):
            node = (*tag, k)
            joins.setdefault(i, []).append((t, node))
            where[node] = segs[i].interpolate(t)
            nodes.append((node, leg))
        return nodes

    def also(geom: shapely.Geometry, others: list[list[tuple[tuple, float]]]
             ) -> list[tuple[tuple, float]]:
        """(node, leg) for the others' joins as near a polygon as the network gets."""
        if geom.geom_type == "Point":
            return []
        gap = min(s.distance(geom) for s in segs)
        legs = [(node, where[node].distance(geom)) for nodes in others for node, _ in nodes]
        return [(node, leg) for node, leg in legs if leg <= gap + TIE_M]

    origin_nodes = [join(g, ("o", j)) for j, g in enumerate(origins)]
    fac_nodes = [join(g, ("f", j)) for j, g in enumerate(facilities)]
    origin_nodes = [n + also(g, fac_nodes) for n, g in zip(origin_nodes, origins, strict=True)]
    fac_nodes = [n + also(g, origin_nodes) for n, g in zip(fac_nodes, facilities, strict=True)]
    graph = nx.Graph()
    for i, s in enumerate(segs):
        a, b = s.coords
        chain = [(0.0, a), *sorted(joins.get(i, []), key=lambda x: x[0]), (s.length, b)]
        for (t0, n0), (t1, n1) in pairwise(chain):
            if n0 == n1:
                continue
            w = t1 - t0
            if not graph.has_edge(n0, n1) or graph[n0][n1]["weight"] > w:
                graph.add_edge(n0, n1, weight=w)
    for nodes in fac_nodes:
        for node, leg in nodes:
            graph.add_edge(("source",), node, weight=leg)
    dist = nx.single_source_dijkstra_path_length(graph, ("source",))
    out = np.full(n_groups, np.inf)
    for j, nodes in enumerate(origin_nodes):
        for node, leg in nodes:
            out[groups[j]] = min(out[groups[j]], dist.get(node, np.inf) + leg)
        if any(origins[j].intersects(f) for f in facilities):  # a facility inside: 0 m
            out[groups[j]] = 0.0
    return out


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_match_networkx_and_walks_are_never_shorter_than_straight(
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    paths = random_network(rng)
    pts = shapely.points(rng.uniform(-100, 1100, (14, 2)))
    corners = rng.uniform(0, 1000, (6, 2))
    squares = shapely.box(*corners.T, *(corners + rng.uniform(5, 120, (6, 2))).T)
    origins = np.concatenate([pts, squares])
    groups = rng.integers(0, 9, len(origins))
    facilities = shapely.points(rng.uniform(0, 1000, (5, 2)))
    # squares (four estates, two parks) with a street along a side
    beside, streets = beside_streets(rng, paths, 6)
    paths = np.concatenate([paths, streets])
    origins = np.concatenate([origins, beside[:4]])
    groups = np.concatenate([groups, rng.integers(0, 9, 4)])
    facilities = np.concatenate([facilities, beside[4:]])
    net = build_network(paths)
    walks = walk_to_nearest(net, origins, groups, 9, facilities, limit_m=np.inf)
    want = oracle(paths, origins, groups, 9, facilities)
    np.testing.assert_allclose(walks.distance_m, want, rtol=1e-9, atol=1e-6)
    reached = np.isfinite(walks.distance_m)
    assert reached.sum() >= 5
    # the facility reported is at that distance, and no closer in a straight line
    for g in np.flatnonzero(reached):
        own = origins[groups == g]
        straight = shapely.distance(shapely.union_all(own), facilities[walks.facility[g]])
        assert walks.distance_m[g] >= straight - 1e-6
        alone = oracle(paths, own, np.zeros(len(own), dtype=int), 1,
                       facilities[[walks.facility[g]]])
        assert alone[0] == pytest.approx(walks.distance_m[g], abs=1e-6)
    routes = walks.routes()
    walked = reached & (walks.distance_m > 0)  # at 0 m a facility touches the estate: no route
    assert all(r is None for r in routes[~walked])
    np.testing.assert_allclose(shapely.length(routes[walked].astype(object)),
                               walks.distance_m[walked], atol=1e-6)
    # a limit: the same distances where within it, none beyond
    finite = np.sort(want[np.isfinite(want)])
    limit = float(finite[len(finite) // 2 - 1] + finite[len(finite) // 2]) / 2
    cut = walk_to_nearest(net, origins, groups, 9, facilities, limit_m=limit)
    np.testing.assert_allclose(cut.distance_m, np.where(want <= limit, want, np.inf),
                               atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_small_polygons_join_the_same_measured_in_numpy_as_by_geos(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Buildings (polygons of a few edges) no path touches join by legs measured in numpy
    from their edges; forcing every polygon through GEOS gives the same joins."""
    from geocheck.rules import network_joins

    rng = np.random.default_rng(100 + seed)
    paths = random_network(rng)
    beside, streets = beside_streets(rng, paths, 8)
    net = build_network(np.concatenate([paths, streets]))
    corners = rng.uniform(0, 1000, (40, 2))
    squares = shapely.box(*corners.T, *(corners + rng.uniform(5, 40, (40, 2))).T)
    polygons = np.concatenate([beside, squares,
                               shapely.buffer(shapely.points(corners[:10]), 8, quad_segs=3)])
    untouched = ~shapely.intersects(polygons[:, None], net.segments[None]).any(axis=1)
    assert untouched.sum() >= 20

    def joined() -> np.ndarray:
        j = network_joins.join(net, polygons)
        order = np.lexsort((j.t_m, j.seg, j.owner))
        return np.c_[j.owner[order], j.seg[order], j.t_m[order], j.leg[order],
                     j.geom_xy[order]]

    numpy_joins = joined()
    monkeypatch.setattr(network_joins, "RING_EDGES", -1)
    geos_joins = joined()
    assert numpy_joins.shape == geos_joins.shape
    np.testing.assert_allclose(numpy_joins, geos_joins, rtol=0, atol=1e-9)
