"""Curved geometries written by hand as WKB, which shapely cannot build: a GeoPackage holding a
CAD circle (``CURVEPOLYGON(CIRCULARSTRING(...))``) beside a plain square, written through GDAL."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyogrio.raw
from helpers import CRS, X0, Y0


def circular_string(points: list[tuple[float, float]]) -> bytes:
    """ISO WKB of a CIRCULARSTRING (little-endian, type 8) through ``points``."""
    return struct.pack("<BII", 1, 8, len(points)) + b"".join(struct.pack("<dd", *p)
                                                             for p in points)


def curve_polygon(*rings: bytes) -> bytes:
    """ISO WKB of a CURVEPOLYGON (type 10) of the given ring WKBs."""
    return struct.pack("<BII", 1, 10, len(rings)) + b"".join(rings)


def polygon(points: list[tuple[float, float]]) -> bytes:
    """ISO WKB of a POLYGON (type 3) with one ring."""
    return struct.pack("<BIII", 1, 3, 1, len(points)) + b"".join(struct.pack("<dd", *p)
                                                                 for p in points)


def circle_estate_gpkg(path: Path, radius: float, *, layer: str = "estates") -> Path:
    """Write estate ``C``, a circle of ``radius`` m centred at local (radius, radius), as a
    CURVEPOLYGON, and estate ``S``, a 100 m square at local x 500..600, as a POLYGON."""
    cx, cy, r = X0 + radius, Y0 + radius, radius
    circle = curve_polygon(circular_string([(cx - r, cy), (cx, cy + r), (cx + r, cy),
                                            (cx, cy - r), (cx - r, cy)]))
    square = polygon([(X0 + 500, Y0), (X0 + 600, Y0), (X0 + 600, Y0 + 100), (X0 + 500, Y0 + 100),
                      (X0 + 500, Y0)])
    fields = [np.array(["C", "S"], dtype=object), np.array(["圆", "方"], dtype=object),
              np.array([800, 800]), np.array(["existing", "existing"], dtype=object)]
    pyogrio.raw.write(path, np.array([circle, square], dtype=object), fields,
                      ["estate_id", "name", "households", "built"], geometry_type="Unknown",
                      crs=CRS, driver="GPKG", layer=layer)
    return path
