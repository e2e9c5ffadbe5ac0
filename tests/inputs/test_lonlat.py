"""Lon/lat input and projected input of the same places give the same verdicts and values."""

from __future__ import annotations

import geopandas as gpd
import pytest
from helpers import SAMPLE

import geocheck
from geocheck.inputs.read import read_layers


@pytest.mark.parametrize("epsg", [4490, 4326])  # CGCS2000 and WGS 84 geographic
def test_sample_in_lonlat_gives_same_findings(tmp_path, epsg: int) -> None:
    raw = read_layers(SAMPLE)
    path = tmp_path / f"lonlat_{epsg}.gpkg"
    for name, gdf in raw.layers.items():
        gdf.drop(columns="_fid").to_crs(epsg).to_file(path, layer=name, driver="GPKG")
    projected = geocheck.check(SAMPLE).findings
    lonlat = geocheck.check(path).findings
    assert (lonlat["status"] == projected["status"]).all()
    assert lonlat["value"].fillna(-1).to_numpy() == pytest.approx(
        projected["value"].fillna(-1).to_numpy(), abs=1e-3)


def test_threshold_edges_survive_reprojection(tmp_path, gpkg) -> None:
    """Exactly-at-threshold cases keep their verdicts through lon/lat and back."""
    from helpers import at, estate, rect

    rows = {
        "estates": [estate("E", rect(0, 0, 100, 100), 1500)],
        "bus_stops": [{"id": "b", "name": "n", "geometry": at(50, 600)}],  # 500 m
        "garbage_points": [{"id": "g", "name": "n", "geometry": at(25, 15)}],  # 5 m, 70 m
        "buildings": [{"building_id": "x", "use": None, "estate_id": "E",
                       "geometry": rect(-50, 10, 20, 20)}],
        "green_space": [{"id": "g", "name": "n", "geometry": rect(0, 0, 100, 35)}],  # 35 %
    }
    spatial = ["GX-53", "GX-06-garbage-setback", "GX-06-garbage-radius", "GX-06-kindergarten",
               "GX-10-greening"]
    projected = geocheck.check(gpkg(**rows)).findings.set_index("rule_id").loc[spatial]
    path = tmp_path / "ll.gpkg"
    for name, gdf in read_layers(tmp_path / "in.gpkg").layers.items():
        gpd.GeoDataFrame(gdf.drop(columns="_fid")).to_crs(4326).to_file(path, layer=name)
    lonlat = geocheck.check(path).findings.set_index("rule_id").loc[spatial]
    expected = ["pass", "pass", "pass", "no_data", "pass"]  # no kindergarten layer
    assert list(projected["status"]) == expected
    assert list(lonlat["status"]) == expected
    assert list(lonlat["value"].iloc[[0, 1, 2, 4]]) == pytest.approx([500, 5, 5, 0.35], abs=1e-6)
