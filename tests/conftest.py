"""Shared helpers: tiny hand-built layers whose answers can be worked out on paper.

Coordinates are local metres added to an origin in EPSG:4545 (CGCS2000 / 3-degree
Gauss-Kruger CM 108E) near Nanning, so a distance on paper is the distance geocheck measures.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, box

CRS = "EPSG:4545"
X0, Y0 = 540_000.0, 2_523_000.0


def at(x: float, y: float) -> Point:
    """A point ``x`` m east and ``y`` m north of the origin."""
    return Point(X0 + x, Y0 + y)


def rect(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """An axis-aligned rectangle in local metres."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def layer(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame from dicts that each have a ``geometry`` key (no rows: an empty layer)."""
    if not rows:
        return gpd.GeoDataFrame({"id": [], "name": []}, geometry=gpd.GeoSeries([], crs=crs))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write role layers to a GeoPackage and return its path."""
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def estate(eid: str, geom: shapely.Geometry, households: int | None = 800,
           built: str | None = "existing", name: str | None = None) -> dict:
    """One estates row."""
    return {"estate_id": eid, "name": name or f"小区{eid}", "households": households,
            "built": built, "geometry": geom}


@pytest.fixture
def gpkg(tmp_path: Path):
    """Factory: ``gpkg(estates=[...], bus_stops=[...])`` writes rows to a GeoPackage."""
    def make(crs: str = CRS, **layers: list[dict]) -> Path:
        return write_gpkg(tmp_path / "in.gpkg",
                          {k: layer(v, crs) for k, v in layers.items()})
    return make
