"""Choose the working CRS: metres in a local projected CRS, never degrees or Web Mercator.

In China the working CRS is the CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534-4554) whose
central meridian is nearest the data; elsewhere it is the WGS 84 UTM zone. Both are looked up in
pyproj's database, not in a table kept here.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_crs_info, query_utm_crs_info
from pyproj.enums import PJType

from ..core.errors import CRSError
from ..core.lonlat import to_lonlat

CGCS2000_GK_PREFIX = "CGCS2000 / 3-degree Gauss-Kruger CM"
WEB_MERCATOR_METHODS = ("Popular Visualisation Pseudo Mercator",)


def central_meridian(crs: CRS) -> float | None:
    """Return the longitude of natural origin of a projected CRS, in degrees, if it has one."""
    op = crs.coordinate_operation
    if op is None:
        return None
    for param in op.params:
        if param.name in ("Longitude of natural origin", "Longitude of origin"):
            return float(param.value)
    return None


def cgcs2000_zone(lon: float, lat: float) -> CRS | None:
    """Return the CGCS2000 3-degree Gauss-Kruger CRS for a lon/lat in China, else None.

    "In China" means inside the area of use of one of the zones (EPSG:4534-4554, named
    "CGCS2000 / 3-degree Gauss-Kruger CM ...") as recorded in the EPSG database; among the
    zones whose area contains the point, the one with the nearest central meridian is chosen.
    """
    guess = _zone_by_arithmetic(lon, lat)
    if guess is not None:
        return guess
    best: tuple[float, CRS] | None = None
    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS,
                           area_of_interest=AreaOfInterest(lon, lat, lon, lat))
    for info in infos:
        if not info.name.startswith(CGCS2000_GK_PREFIX):
            continue
        crs = CRS.from_epsg(int(info.code))
        cm = central_meridian(crs)
        if cm is not None and (best is None or abs(lon - cm) < best[0]):
            best = (abs(lon - cm), crs)
    return best[1] if best else None


CGCS2000_GK_FIRST = (4534, 75)
"""EPSG code and central meridian (degrees east) of the first CGCS2000 3-degree Gauss-Kruger
zone; the 21 zones follow every 3 degrees to EPSG:4554, CM 135E."""


def _zone_by_arithmetic(lon: float, lat: float) -> CRS | None:
    """The zone :func:`cgcs2000_zone` finds, without searching the whole EPSG database (some
    0.2 s): the zone of the nearest central meridian by arithmetic, taken only when pyproj's
    record of it confirms its name, central meridian and area of use, and when no other zone's
    meridian is about as near (else None, and the database is searched)."""
    code, first = CGCS2000_GK_FIRST
    cm = first + 3 * round((lon - first) / 3)
    if not (first <= cm <= first + 60) or abs(lon - cm) > 1.49:
        return None
    crs = CRS.from_epsg(code + (cm - first) // 3)
    area = crs.area_of_use
    if (not crs.name.startswith(CGCS2000_GK_PREFIX) or central_meridian(crs) != cm
            or area is None or not (area.west <= lon <= area.east
                                    and area.south <= lat <= area.north)):
        return None
    return crs


def utm_zone(lon: float, lat: float) -> CRS:
    """Return the WGS 84 UTM CRS for a lon/lat."""
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    if not infos:
        raise CRSError(f"no UTM zone found for lon {lon:.5f}, lat {lat:.5f}")
    return CRS.from_authority(infos[0].auth_name, infos[0].code)


def lonlat_bounds(bounds: tuple[float, float, float, float], crs: CRS) -> tuple[float, ...]:
    """Transform ``(minx, miny, maxx, maxy)`` in ``crs`` to lon/lat degrees on the CRS's own datum
    (:func:`geocheck.core.lonlat.to_lonlat`)."""
    if crs.is_geographic and crs.equals(CRS.from_epsg(4326)):
        return tuple(float(b) for b in bounds)
    out = to_lonlat(crs).transform_bounds(*bounds, densify_pts=21)
    if not np.all(np.isfinite(out)):
        raise CRSError(f"the data's extent {tuple(round(b, 3) for b in bounds)} cannot be "
                       f"transformed from {crs.to_string()} to longitude/latitude")
    return tuple(float(b) for b in out)


def check_working_crs(crs: CRS | str | int) -> CRS:
    """Return ``crs`` as a CRS if it is projected in metres and not Web Mercator.

    Raises
    ------
    CRSError
        For a geographic CRS, Web Mercator, a CRS in units other than metres, or an unknown CRS.
    """
    try:
        crs = CRS.from_user_input(crs)
    except Exception:
        raise CRSError(f"working CRS {crs!r} is not a CRS pyproj knows") from None
    name = crs.name
    if crs.is_geographic:
        raise CRSError(f"working CRS {name} is geographic (degrees); distances and areas must be "
                       "measured in metres in a projected CRS")
    if not crs.is_projected:
        raise CRSError(f"working CRS {name} is not a projected CRS")
    op = crs.coordinate_operation
    if op is not None and op.method_name in WEB_MERCATOR_METHODS:
        raise CRSError(f"working CRS {name} is Web Mercator, whose scale error distorts distances "
                       "and areas; use a local projected CRS")
    units = {axis.unit_name for axis in crs.axis_info}
    if units != {"metre"}:
        raise CRSError(f"working CRS {name} has units {', '.join(sorted(units))}; "
                       "geocheck measures in metres")
    return crs


def choose_working_crs(lonlat_extent: tuple[float, float, float, float],
                       dst_crs: CRS | str | int | None = None) -> CRS:
    """Choose the CRS to measure in.

    Parameters
    ----------
    lonlat_extent : ``(west, south, east, north)`` of the estates in degrees.
    dst_crs : a CRS the user asked for; checked with :func:`check_working_crs` and returned.

    Returns
    -------
    CRS
        ``dst_crs`` if given; else the CGCS2000 Gauss-Kruger zone of the extent's centre in
        China; else the WGS 84 UTM zone there.
    """
    if dst_crs is not None:
        return check_working_crs(dst_crs)
    west, south, east, north = lonlat_extent
    lon, lat = (west + east) / 2, (south + north) / 2
    return cgcs2000_zone(lon, lat) or utm_zone(lon, lat)
