"""Measures on their own: the threaded nearest query, origins, the worst feature per estate."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import CRS, at, rect

from geocheck.core import threads
from geocheck.rules import measure
from geocheck.rules.context import worst_per_estate


def test_threaded_nearest_query_equals_serial(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    targets = shapely.points(rng.uniform(0, 5000, (2000, 2)))
    sources = shapely.buffer(shapely.points(rng.uniform(0, 5000, (5001, 2))), 3)
    tree = shapely.STRtree(targets)
    serial = measure.query_nearest(tree, sources)
    monkeypatch.setattr(measure, "PARALLEL_MIN", 10)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 3)
    threaded = measure.query_nearest(tree, sources)
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    # and against plain distances: each source's nearest target really is the nearest
    src, dst, dist = threaded
    np.testing.assert_array_equal(src, np.arange(len(sources)))  # one row per source, in order
    brute = shapely.distance(sources[:50, None], targets[None, :])
    np.testing.assert_allclose(dist[:50], brute.min(axis=1))
    np.testing.assert_allclose(shapely.distance(sources[:50], targets[dst[:50]]), dist[:50])


def test_threaded_within_query_equals_serial_and_brute_force(monkeypatch) -> None:
    rng = np.random.default_rng(8)
    targets = shapely.points(rng.uniform(0, 2000, (1500, 2)))
    sources = shapely.buffer(shapely.points(rng.uniform(0, 2000, (301, 2))), 3)
    reach = rng.uniform(0, 60, len(sources))
    tree = shapely.STRtree(targets)
    serial = measure.query_within(tree, sources, reach)
    monkeypatch.setattr(measure, "PARALLEL_MIN", 10)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 3)
    threaded = measure.query_within(tree, sources, reach)
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    brute = np.argwhere(shapely.distance(sources[:, None], targets[None, :]) <= reach[:, None])
    assert len(brute) > 300
    pairs = np.column_stack(threaded)
    np.testing.assert_array_equal(pairs[np.lexsort(pairs.T[::-1])], brute)


def test_origins_are_entrances_when_present() -> None:
    estates = gpd.GeoDataFrame({"estate_id": ["A", "B"]},
                               geometry=[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], crs=CRS)
    entrances = gpd.GeoDataFrame({"estate_pos": [1, 1, -1]},
                                 geometry=[at(20, 5), at(30, 5), at(99, 99)], crs=CRS)
    geoms, method = measure.estate_origins(estates, entrances)
    assert list(method) == ["boundary", "entrances"]
    assert geoms[0].equals(estates.geometry[0])
    assert shapely.get_num_geometries(geoms[1]) == 2


def test_nearest_facility_inside_is_zero_even_with_entrances() -> None:
    estates = gpd.GeoDataFrame({"estate_id": ["A"]}, geometry=[rect(0, 0, 100, 100)], crs=CRS)
    facilities = gpd.GeoDataFrame({"feature_id": ["f0", "f1"]},
                                  geometry=[at(150, 50), at(90, 90)], crs=CRS)
    gate = np.array([shapely.multipoints([at(100, 50)])], dtype=object)
    near = measure.nearest_facility(estates, gate, np.array(["entrances"]), facilities)
    assert near.loc[0, "distance_m"] == 0.0 and near.loc[0, "method"] == "inside"
    assert near.loc[0, "facility_pos"] == 1


@pytest.mark.parametrize(("largest", "expected"), [(True, [1, -1, 3]), (False, [0, -1, 4])])
def test_worst_per_estate(largest, expected) -> None:
    est = np.array([0, 0, 2, 2, 2])
    values = np.array([1.0, 5.0, 2.0, 9.0, 0.5])
    assert list(worst_per_estate(est, values, 3, largest=largest)) == expected
