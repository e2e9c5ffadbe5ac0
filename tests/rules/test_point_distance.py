"""Candidate points as coordinates (geocheck.rules.point_distance): points along rings and
point-to-polygon distances worked out by hand, and the same answers as GEOS's own functions."""

from __future__ import annotations

import numpy as np
import shapely

from geocheck.rules.point_distance import points_along_rings, points_in_boxes, within

SQUARE = shapely.LinearRing([(0, 0), (10, 0), (10, 10), (0, 10)])


def test_points_along_a_square_ring_by_hand() -> None:
    # the ring runs (0,0) -> (10,0) -> (10,10) -> (0,10) -> (0,0), 40 m; a length that ends a
    # side starts the next (GEOS: the first segment whose end lies beyond it); 40 m and more
    # is the last point; 0 m and less are the first point and measured from the end
    at = np.array([0.5, 10.0, 15.0, 25.0, 39.5, 40.0, 41.0, -5.0])
    x, y = points_along_rings(np.array([SQUARE]), at, len(at))
    assert list(zip(x, y, strict=True)) == [(0.5, 0), (10, 0), (10, 5), (5, 10), (0, 0.5),
                                            (0, 0), (0, 0), (0, 5)]


def test_points_along_rings_are_geos_points_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    shapes = [shapely.box(*xy, *(xy + wh)) for xy, wh in
              zip(rng.uniform(5e5, 6e5, (200, 2)), rng.uniform(3, 40, (200, 2)), strict=True)]
    shapes += [shapely.Polygon([(0, 0), (7, 1), (3, 9)]), None, shapely.Polygon(),
               shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(50, 0, 51, 1)])]
    rings = shapely.get_exterior_ring(shapely.buffer(np.array(shapes, dtype=object), 5.02,
                                                     quad_segs=8))
    per = 24
    at = np.tile((np.arange(per) + 0.5) / per, len(rings)) * np.repeat(shapely.length(rings), per)
    x, y = points_along_rings(rings, at, per)
    xy, k = shapely.get_coordinates(shapely.line_interpolate_point(np.repeat(rings, per), at),
                                    return_index=True)
    # the multipolygon's buffer has two outlines, so no exterior ring: no points (NaN), as
    # GEOS gives none; the empty polygon gives an empty point (NaN too)
    assert np.array_equal(np.flatnonzero(~np.isnan(x)), k)
    assert np.array_equal(x[k], xy[:, 0]) and np.array_equal(y[k], xy[:, 1])
    assert np.isnan(x).sum() == 3 * per and not np.isnan(x[:201 * per]).any()


def test_within_by_hand() -> None:
    # a 10 m square with a 4 m hole in the middle, and a two-part multipolygon
    holed = shapely.Polygon(SQUARE.coords, [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    parts = shapely.MultiPolygon([shapely.box(100, 0, 110, 10), shapely.box(200, 0, 210, 10)])
    polys = np.array([holed, parts], dtype=object)
    x = np.array([15.0, 13.0, 5.0, 9.0, 195.0, 150.0])
    y = np.array([5.0, 14.0, 5.0, 9.0, 5.0, 5.0])
    # (15, 5): 5 m east of the square; (13, 14): 3 east, 4 north of its corner, 5 m; (5, 5):
    # in the hole, 2 m from its edge; (9, 9): inside the square's ring, 0 m; (195, 5) and
    # (150, 5): 5 m and 40 m from the second and first part of the multipolygon
    pi, pj = np.array([0, 0, 0, 0, 1, 1]), np.arange(6)
    assert within(polys, x, y, pi, pj, 5.0).tolist() == [True, True, True, True, True, False]
    assert within(polys, x, y, pi, pj, 4.99).tolist() == [False, False, True, True, False,
                                                          False]
    assert within(polys, x, y, pi, pj, 1.99).tolist() == [False, False, False, True, False,
                                                          False]
    assert within(polys, x, y, pi, pj, 40.0)[-1]


def test_within_is_geos_dwithin() -> None:
    rng = np.random.default_rng(3)
    polys = np.array([shapely.box(5e5, 2.5e6, 5e5 + 30, 2.5e6 + 12),
                      shapely.Polygon([(5e5 + 60, 2.5e6), (5e5 + 90, 2.5e6 + 5),
                                       (5e5 + 70, 2.5e6 + 40)]),
                      shapely.LineString([(5e5, 2.5e6 + 60), (5e5 + 90, 2.5e6 + 70)]), None],
                     dtype=object)
    n = 50_000
    x, y = rng.uniform(5e5 - 20, 5e5 + 110, n), rng.uniform(2.5e6 - 20, 2.5e6 + 90, n)
    pi = rng.integers(0, len(polys), n)
    for d in (0.0, 5.01, 12.5, 69.99):
        geos = shapely.dwithin(polys[pi], shapely.points(x, y), d)
        assert np.array_equal(within(polys, x, y, pi, np.arange(n), d), geos), d
        assert 0 < geos.sum() < n


def test_a_pair_at_the_limit_is_decided_by_geos() -> None:
    # (13, 14) is 5 m from the corner (10, 10) in exact arithmetic; at a limit within a
    # micrometre of that, the answer is GEOS's
    poly = np.array([shapely.box(0, 0, 10, 10)], dtype=object)
    x, y = np.array([13.0]), np.array([14.0])
    for d in (5.0, np.nextafter(5.0, 0), 5.0 - 1e-9, 5.0 + 1e-9):
        geos = shapely.dwithin(poly[0], shapely.Point(13, 14), d)
        assert within(poly, x, y, np.array([0]), np.array([0]), d, outside=True)[0] == geos


def test_within_of_many_sided_polygons_is_geos_dwithin() -> None:
    # buffered footprints (dozens of segments): a pair found within by one segment skips
    # the rest, and the answers stay GEOS's
    rng = np.random.default_rng(5)
    polys = shapely.buffer(shapely.points(rng.uniform(0, 400, 30), rng.uniform(0, 400, 30)),
                           rng.uniform(2, 15, 30), quad_segs=int(rng.integers(2, 9)))
    n = 40_000
    x, y = rng.uniform(-50, 450, n), rng.uniform(-50, 450, n)
    pi = rng.integers(0, len(polys), n)
    for d in (0.0, 5.01, 40.0, 69.99):
        geos = shapely.dwithin(polys[pi], shapely.points(x, y), d)
        assert np.array_equal(within(polys, x, y, pi, np.arange(n), d), geos), d


def test_points_in_boxes_are_the_tree_query() -> None:
    # points on a grid and scattered (some NaN), boxes of all sizes, some with an edge on a
    # point, some with NaN bounds, some outside every point: the pairs STRtree gives
    rng = np.random.default_rng(11)
    gx, gy = np.meshgrid(np.arange(0.0, 300.0, 10.0), np.arange(0.0, 200.0, 10.0))
    x = np.concatenate([gx.ravel(), rng.uniform(-20, 320, 2_000)]) + 5e5
    y = np.concatenate([gy.ravel(), rng.uniform(-20, 220, 2_000)]) + 2.5e6
    x[rng.integers(0, len(x), 20)] = np.nan
    lo = np.c_[rng.uniform(-100, 400, 500) + 5e5, rng.uniform(-100, 300, 500) + 2.5e6]
    bounds = np.c_[lo, lo + rng.uniform(0, 120, (500, 2))]
    k = np.flatnonzero(np.isfinite(x))[:100]
    bounds[:100, 0], bounds[:100, 1] = x[k], y[k] - 3.0  # a point on the left edge
    bounds[:100, 2] = np.maximum(bounds[:100, 2], bounds[:100, 0])
    bounds[:100, 3] = np.maximum(bounds[:100, 3], y[k])
    bounds[100:110] = np.nan
    good = np.flatnonzero(np.isfinite(x))
    tree = shapely.STRtree(shapely.points(x[good], y[good]))
    boxes, pts = tree.query(shapely.box(*bounds.T))
    want = set(zip(boxes.tolist(), good[pts].tolist(), strict=True))
    for cell in (0.7, 10.0, 55.0):
        got_b, got_p = points_in_boxes(x, y, bounds, cell)
        got = list(zip(got_b.tolist(), got_p.tolist(), strict=True))
        assert len(got) == len(set(got)) and set(got) == want, cell
        assert (np.diff(got_b) >= 0).all()
    assert [len(a) for a in points_in_boxes(x[:0], y[:0], bounds, 10.0)] == [0, 0]
