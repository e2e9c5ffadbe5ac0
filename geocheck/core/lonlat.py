"""Transformers from a CRS to longitude/latitude degrees, made once per CRS.

PROJ takes about a tenth of a second to make a transformer to WGS 84 (EPSG:4326), most of it
spent looking up datum transformations, and a run would make several. Where the datum cannot
matter, the inverse projection onto the CRS's own geographic CRS does the same in about
0.4 ms.
"""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

WGS84_ALIKE = ("China 2000", "World Geodetic System 1984")
"""Datums (by name; the WGS 84 ensemble and its realisations too) that agree with WGS 84 to
centimetres, so that PROJ's transformation between them and WGS 84 changes no coordinate:
seen equal, bit for bit, for the CGCS2000 3-degree zones and the WGS 84 UTM zones."""


@lru_cache(maxsize=32)
def to_lonlat(crs: CRS) -> Transformer:
    """A transformer from ``crs`` to longitude/latitude degrees (x = longitude) on the CRS's
    own datum: for a projected CRS, its inverse projection.

    For CGCS2000 and WGS 84 this is WGS 84 itself (:data:`WGS84_ALIKE`); for the older
    Chinese datums it is within their shift from WGS 84 (some 50-150 m; PROJ itself has only a
    ballpark transformation for Xian 1980), far finer than what these degrees serve: the fit of
    a layer to its CRS's area of use (a 1-degree margin) and the choice of the working zone.
    """
    geodetic = None if crs.is_geographic else crs.geodetic_crs
    return Transformer.from_crs(crs, geodetic if geodetic is not None else CRS.from_epsg(4326),
                                always_xy=True)


@lru_cache(maxsize=32)
def to_wgs84(crs: CRS) -> Transformer:
    """A transformer from ``crs`` to WGS 84 longitude/latitude (EPSG:4326, x = longitude), for
    placing features on a web map: :func:`to_lonlat` where the datum is WGS 84 or agrees with it
    to centimetres (:data:`WGS84_ALIKE`), else PROJ's transformation to EPSG:4326."""
    geodetic = None if crs.is_geographic else crs.geodetic_crs
    datum = getattr(geodetic, "datum", None) if geodetic is not None else None
    if datum is not None and datum.name.startswith(WGS84_ALIKE):
        return to_lonlat(crs)
    return Transformer.from_crs(crs, 4326, always_xy=True)
