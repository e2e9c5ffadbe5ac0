"""The synthetic city's paths layer (bench/city_paths.py): big enough, with the traps planted.

The default benchmark city (3,000 estates) must give a network of at least 250,000 nodes while
its other layers stay the ones the bench figures were measured on; a small city must hold the
cases the walking engine has to get right: a flyover (streets crossing without a shared
vertex), a river crossed by one bridge only, and estates no path touches.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import shapely

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import lean_walk  # noqa: E402
from make_city import make_city  # noqa: E402

REFERENCE_COUNTS = {"estates": 3000, "buildings": 120_204, "entrances": 4_889,
                    "bus_stops": 4_430, "rail_stations": 60, "garbage_points": 10_485,
                    "kindergartens": 600, "schools": 375, "green_space": 7_610}
"""Feature counts of the 3,000-estate, seed-42 city in bench/README.md's reference figures."""


def test_default_city_has_a_quarter_million_nodes_and_the_same_other_layers() -> None:
    city = make_city(3000, 42)
    assert {k: len(v) for k, v in city.items() if k != "paths"} == REFERENCE_COUNTS
    graph = lean_walk.build_graph(city["paths"].geometry.to_numpy())
    assert graph.n_nodes >= 250_000
    assert graph.u.size > graph.n_nodes  # a grid, not a tree: more edges than nodes


def test_small_city_plants_flyover_river_bridge_and_untouched_estates() -> None:
    city = make_city(30, 7)  # 6 x 5 cells, the river on row boundary 1
    paths = city["paths"]
    streets = paths.geometry[paths["kind"] == "street"].to_numpy()
    vertices = {tuple(p) for p in shapely.get_coordinates(paths.geometry.to_numpy())}
    # Crossings of two streets with no vertex there: the flyovers (at least one).
    i, j = shapely.STRtree(streets).query(streets, predicate="crosses")
    pts = shapely.get_coordinates(shapely.intersection(streets[i[i < j]], streets[j[i < j]]))
    flyovers = [tuple(p) for p in pts if tuple(p) not in vertices]
    assert len(flyovers) >= 1
    # Nothing but the one bridge crosses the river's line; it is 10 m long.
    bridge = paths.geometry[paths["kind"] == "bridge"].to_numpy()
    assert len(bridge) == 1 and shapely.length(bridge[0]) == 10.0
    y_river = shapely.get_coordinates(bridge[0])[:, 1].mean()
    river = shapely.LineString([(-1e9, y_river), (1e9, y_river)])
    assert shapely.intersects(paths.geometry.to_numpy(), river).sum() == 1
    # Some estates have no path touching them (no footpaths, no gate).
    touched = np.unique(shapely.STRtree(paths.geometry.to_numpy()).query(
        city["estates"].geometry.to_numpy(), predicate="intersects")[0])
    assert 0 < 30 - touched.size < 30
