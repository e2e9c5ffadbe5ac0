"""The "lean script" baseline: five Guangxi rules per estate, straight shapely 2, no framework.

Usage::

    python bench/lean.py CITY.gpkg -o out.csv [--summary]

It reads the layers written by ``bench/make_city.py`` (all in one projected CRS, metres),
measures the five spatial rules below for every estate with vectorised shapely ``STRtree``
queries and numpy grouping (no Python loop over features), and writes a long CSV with one
row per estate x rule: ``estate_id, rule_id, status, value``. Status is one of ``pass``,
``fail``, ``not_applicable`` or ``no_data``. Thresholds are inclusive.

=========================  =========================================================  ======
rule_id                    requirement                                                value
=========================  =========================================================  ======
GX-53                      nearest bus stop <= 500 m OR nearest rail station <= 800   bus m
GX-06-garbage-radius       every residential building <= 70 m from a garbage point    max m
GX-06-garbage-setback      every garbage point inside the estate >= 5 m from a bldg   min m
GX-06-kindergarten         households >= 1500 -> a kindergarten inside the estate     count
GX-10-greening             area(union(green) clipped to estate) / estate area >= .35  ratio
=========================  =========================================================  ======

Distances for GX-53 are taken from the estate's entrances when it has any (the minimum
over them), otherwise from the estate boundary; a facility inside the estate is at 0 m.
This is meant as a fair, reasonably efficient minimum against which geocheck's full check
is timed (see ``bench/README.md``), not as a reference implementation of the rules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from shapely import STRtree

Geoms = NDArray[np.object_]
Float = NDArray[np.float64]
Int = NDArray[np.intp]
Result = tuple[NDArray[np.str_], Float]  # (status per estate, value per estate)

BUS_M = 500.0
RAIL_M = 800.0
GARBAGE_RADIUS_M = 70.0
GARBAGE_SETBACK_M = 5.0
KINDERGARTEN_HOUSEHOLDS = 1500
GREENING_RATIO = 0.35


def read(path: Path, layer: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Read ``columns`` and the geometry of one layer; the CRS must be projected (metres)."""
    df = pyogrio.read_dataframe(path, layer=layer, columns=columns)
    if df.crs is None or not df.crs.is_projected:
        raise SystemExit(f"{path}:{layer}: CRS {df.crs} is not a projected CRS in metres")
    return df


def geoms(df: gpd.GeoDataFrame) -> Geoms:
    """The geometry column as a plain numpy array of shapely geometries."""
    return np.asarray(df.geometry.values, dtype=object)


def group_min(n: int, group: Int, values: Float) -> Float:
    """Minimum of ``values`` per group ``0..n-1`` (inf where a group is empty)."""
    out = np.full(n, np.inf)
    np.minimum.at(out, group, values)
    return out


def group_max(n: int, group: Int, values: Float) -> Float:
    """Maximum of ``values`` per group ``0..n-1`` (-inf where a group is empty)."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    return out


def nearest_distance(targets: Geoms, sources: Geoms) -> Float:
    """Distance from each source geometry to its nearest target (nan if no targets)."""
    if targets.size == 0:
        return np.full(sources.size, np.nan)
    if sources.size == 0:
        return np.empty(0)
    idx, dist = STRtree(targets).query_nearest(sources, return_distance=True, all_matches=False)
    out = np.empty(sources.size)
    out[idx[0]] = dist
    return out


def access_distance(estates: Geoms, ent_est: Int, ent_geoms: Geoms, facilities: Geoms) -> Float:
    """Estate-to-nearest-facility distance: from entrances if any, else the boundary.

    A facility inside (or on the edge of) the estate gives 0. nan when there are no
    facilities at all.
    """
    n = estates.size
    if facilities.size == 0:
        return np.full(n, np.nan)
    d = group_min(n, ent_est, nearest_distance(facilities, ent_geoms))
    no_ent = np.ones(n, dtype=bool)
    no_ent[ent_est] = False
    # Polygon-to-point distance is 0 for a point inside the polygon.
    d[no_ent] = nearest_distance(facilities, estates[no_ent])
    inside, _ = STRtree(facilities).query(estates, predicate="intersects")
    d[inside] = 0.0
    return d


def rule_access(estates: Geoms, ent_est: Int, ent_geoms: Geoms, bus: Geoms, rail: Geoms) -> Result:
    """GX-53: bus stop within 500 m or rail station within 800 m. Value: bus distance."""
    d_bus = access_distance(estates, ent_est, ent_geoms, bus)
    d_rail = access_distance(estates, ent_est, ent_geoms, rail)
    ok = (d_bus <= BUS_M) | (d_rail <= RAIL_M)
    status = np.where(ok, "pass", "fail")
    status = np.where(np.isnan(d_bus) & np.isnan(d_rail), "no_data", status)
    return status, d_bus


def rule_garbage_radius(n: int, b_est: Int, b_geoms: Geoms, garbage: Geoms) -> Result:
    """GX-06-garbage-radius: max over residential buildings of distance to nearest point."""
    worst = group_max(n, b_est, nearest_distance(garbage, b_geoms))
    has_b = np.bincount(b_est, minlength=n) > 0
    status = np.where(worst <= GARBAGE_RADIUS_M, "pass", "fail")
    status = np.where(has_b & ~np.isnan(worst), status, "no_data")
    return status, np.where(has_b, worst, np.nan)


def rule_garbage_setback(estates: Geoms, garbage: Geoms, buildings: Geoms) -> Result:
    """GX-06-garbage-setback: min over points inside the estate of distance to a building."""
    n = estates.size
    g_idx, e_idx = STRtree(estates).query(garbage, predicate="intersects")
    d = nearest_distance(buildings, garbage[g_idx])
    if buildings.size == 0:
        d = np.full(g_idx.size, np.inf)
    nearest = group_min(n, e_idx, d)
    has_g = np.bincount(e_idx, minlength=n) > 0
    status = np.where(nearest >= GARBAGE_SETBACK_M, "pass", "fail")
    status = np.where(has_g, status, "not_applicable")
    return status, np.where(has_g, nearest, np.nan)


def rule_kindergarten(estates: Geoms, households: Float, kindergartens: Geoms) -> Result:
    """GX-06-kindergarten: 1500+ households need a kindergarten inside. Value: count."""
    n = estates.size
    e_idx, _ = STRtree(kindergartens).query(estates, predicate="intersects")
    count = np.bincount(e_idx, minlength=n).astype(float)
    status = np.where(count > 0, "pass", "fail")
    status = np.where(households < KINDERGARTEN_HOUSEHOLDS, "not_applicable", status)
    status = np.where(np.isnan(households), "no_data", status)
    return status, count


def rule_greening(estates: Geoms, green: Geoms) -> Result:
    """GX-10-greening: area of the union of green clipped to the estate / estate area."""
    n = estates.size
    e_idx, g_idx = STRtree(green).query(estates, predicate="intersects")
    order = np.lexsort((g_idx, e_idx))
    e_idx, g_idx = e_idx[order], g_idx[order]
    pieces = shapely.intersection(green[g_idx], estates[e_idx])
    # Pad the pieces into an (estates x max pieces) array and union along each row.
    counts = np.bincount(e_idx, minlength=n)
    pos = np.arange(e_idx.size) - (np.cumsum(counts) - counts)[e_idx]
    grid = np.full((n, max(1, int(counts.max(initial=0)))), None, dtype=object)
    grid[e_idx, pos] = pieces
    ratio = shapely.area(shapely.union_all(grid, axis=1)) / shapely.area(estates)
    return np.where(ratio >= GREENING_RATIO, "pass", "fail"), ratio


def check(path: Path) -> pd.DataFrame:
    """Measure the five rules for every estate of the GeoPackage at ``path``."""
    est = read(path, "estates", ["estate_id", "households"])
    ids = pd.Index(est["estate_id"].astype(str))
    e = geoms(est)
    n = e.size
    households = pd.to_numeric(est["households"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )

    ent = read(path, "entrances", ["estate_id"])
    ent_est = ids.get_indexer(ent["estate_id"].astype(str))
    ent_ok = ent_est >= 0
    bld = read(path, "buildings", ["use", "estate_id"])
    b_all = geoms(bld)
    b_est = ids.get_indexer(bld["estate_id"].astype(str))
    res = (bld["use"].to_numpy() == "residential") & (b_est >= 0)
    bus = geoms(read(path, "bus_stops", []))
    rail = geoms(read(path, "rail_stations", []))
    garbage = geoms(read(path, "garbage_points", []))
    kg = geoms(read(path, "kindergartens", []))
    green = geoms(read(path, "green_space", []))

    results = {
        "GX-53": rule_access(e, ent_est[ent_ok], geoms(ent)[ent_ok], bus, rail),
        "GX-06-garbage-radius": rule_garbage_radius(n, b_est[res], b_all[res], garbage),
        "GX-06-garbage-setback": rule_garbage_setback(e, garbage, b_all),
        "GX-06-kindergarten": rule_kindergarten(e, households, kg),
        "GX-10-greening": rule_greening(e, green),
    }
    frames = [
        pd.DataFrame(
            {"estate_id": ids, "rule_id": rule, "status": status, "value": np.round(value, 3)}
        )
        for rule, (status, value) in results.items()
    ]
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("city", type=Path, help="city GeoPackage (see bench/make_city.py)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    ap.add_argument("--summary", action="store_true", help="print status shares per rule")
    args = ap.parse_args(argv)
    out = check(args.city)
    out.to_csv(args.output, index=False)
    if args.summary:
        table = pd.crosstab(out["rule_id"], out["status"], normalize="index").mul(100).round(1)
        print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
