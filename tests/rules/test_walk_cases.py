"""The walking engine on the cases worked out on paper in ``cases/walking/network.toml``.

Each case is one estate (its entrances or its outline) walking to the nearest of some
facilities along hand-drawn paths, in local metres offset to EPSG:4545 coordinates.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from helpers import X0, Y0, at, rect
from shapely.geometry import Polygon

from geocheck.rules.network import build_network, walk_to_nearest

CASES = tomllib.loads((Path(__file__).parent / "cases" / "walking" / "network.toml")
                      .read_text(encoding="utf-8"))["cases"]
ORIGIN = np.array([X0, Y0])


def _geoms(case: dict[str, Any], side: str) -> np.ndarray:
    points = [at(x, y) for x, y in case.get(f"{side}_points", [])]
    rects = [rect(*r) for r in case.get(f"{side}_rects", [])]
    polygons = [Polygon(np.array(rings[0]) + ORIGIN,
                        [np.array(hole) + ORIGIN for hole in rings[1:]])
                for rings in case.get(f"{side}_polygons", [])]
    return np.array(points + rects + polygons, dtype=object)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_walking_case(case: dict[str, Any]) -> None:
    assert case["why"]
    paths = np.array([shapely.LineString([(X0 + x, Y0 + y) for x, y in p])
                      for p in case["paths"]], dtype=object)
    origins, facilities = _geoms(case, "origin"), _geoms(case, "facility")
    network = build_network(paths)
    walks = walk_to_nearest(network, origins, np.zeros(len(origins), dtype=int), 1, facilities,
                            limit_m=case.get("limit_m", 10_000.0))
    route = walks.routes()[0]
    if case["expect_m"] == "none":
        assert walks.distance_m[0] == np.inf
        assert walks.facility[0] == -1
        assert route is None
        return
    assert walks.distance_m[0] == pytest.approx(case["expect_m"], abs=1e-6)
    assert walks.facility[0] == case.get("facility", 0)
    straight = shapely.distance(shapely.union_all(origins), facilities[walks.facility[0]])
    assert walks.distance_m[0] >= straight - 1e-9
    if "straight_m" in case:
        assert straight == pytest.approx(case["straight_m"], abs=1e-6)
    if "route" in case:
        want = np.array(case["route"], dtype=float) + ORIGIN
        np.testing.assert_allclose(shapely.get_coordinates(route), want, atol=1e-6)
        assert route.length == pytest.approx(case["expect_m"], abs=1e-6)
