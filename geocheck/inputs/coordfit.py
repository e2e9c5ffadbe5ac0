"""Do a layer's coordinates fit the CRS it claims? Catch swapped axes, metres claiming degrees,
zone-prefixed eastings and points far outside the CRS's area of use.

A layer whose coordinates cannot be where its CRS says is refused with a message that says what
looks wrong and how to fix it; when only some features lie far outside the area of use, those
features are returned so the caller can reject them with a reason (nothing is dropped silently).
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from ..core.errors import CRSError
from ..core.lonlat import to_lonlat

AREA_MARGIN_DEG = 1.0
"""How far (degrees) outside a CRS's recorded area of use a feature may lie before it is refused."""

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
"""A generous lon/lat box around China, used to recognise swapped longitude and latitude."""


def feature_centres(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre of each geometry's bounding box in its CRS units (NaN for missing or empty)."""
    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2


def _in_box(x: np.ndarray, y: np.ndarray, lon: tuple[float, float],
            lat: tuple[float, float]) -> np.ndarray:
    return (x >= lon[0]) & (x <= lon[1]) & (y >= lat[0]) & (y <= lat[1])


def _to_lonlat(x: np.ndarray, y: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    if crs.is_geographic:
        return x, y
    t = to_lonlat(crs)
    with np.errstate(all="ignore"):
        lon, lat = t.transform(x, y, errcheck=False)
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def _box_fits(bounds: tuple[float, float, float, float], crs: CRS, area, margin: float
              ) -> bool:
    """True when the whole box (in ``crs``) lies inside the area of use plus ``margin``."""
    if crs.is_geographic:
        w, s, e, n = bounds
    else:
        t = to_lonlat(crs)
        try:
            w, s, e, n = t.transform_bounds(*bounds, densify_pts=21)
        except Exception:  # pyproj raises ProjError for boxes it cannot transform
            return False
        if not np.all(np.isfinite([w, s, e, n])) or w > e:
            return False
    return (w >= area.west - margin and e <= area.east + margin
            and s >= area.south - margin and n <= area.north + margin)


def _range(v: np.ndarray) -> str:
    v = v[np.isfinite(v)]
    return f"{v.min():.6g}..{v.max():.6g}" if len(v) else "none"


def check_fit(geoms: np.ndarray, crs: CRS, where: str) -> np.ndarray:
    """Check that geometries in ``crs`` lie where that CRS can be; return the misfits.

    Parameters
    ----------
    geoms : shapely geometries in ``crs`` (missing and empty ones are skipped).
    crs : the CRS the layer claims.
    where : how to name the layer in messages, e.g. ``"bus.csv: layer 'bus_stops'"``.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the features lying more than :data:`AREA_MARGIN_DEG` degrees outside the
        CRS's area of use, when some (not all) do.

    Raises
    ------
    CRSError
        When no feature fits: degrees out of range (metres claiming degrees), longitude and
        latitude swapped, a zone-number prefix on Gauss-Kruger eastings, or every feature outside
        the CRS's area of use.
    """
    x, y = feature_centres(geoms)
    have = np.isfinite(x) & np.isfinite(y)
    misfit = np.zeros(len(geoms), bool)
    if not have.any():
        return misfit
    xs, ys = x[have], y[have]
    name = f"{crs.name} ({crs.to_string()})"
    if crs.is_geographic:
        in_range = (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
        swapped_china = _in_box(ys, xs, CHINA_LON, CHINA_LAT)
        if (~in_range).all() or (swapped_china.all() and not _in_box(xs, ys, CHINA_LON,
                                                                     CHINA_LAT).any()):
            if swapped_china.all():
                raise CRSError(
                    f"{where}: x values {_range(xs)} look like latitudes and y values "
                    f"{_range(ys)} like longitudes in China: longitude and latitude are swapped; "
                    "swap the x and y fields (e.g. --x-field 经度 --y-field 纬度)")
            if (np.abs(xs) > 180).all() or (np.abs(ys) > 90).all():
                raise CRSError(
                    f"{where}: claims {name}, in degrees, but its coordinates reach x "
                    f"{_range(xs)}, y {_range(ys)}, which look like projected metres; set the "
                    "layer's real CRS (e.g. --src-crs EPSG:4545)")
        if (~in_range).any():
            raise CRSError(f"{where}: {int((~in_range).sum())} feature(s) have coordinates "
                           f"outside -180..180, -90..90 degrees (x {_range(xs)}, y {_range(ys)}) "
                           f"although the layer claims {name}")
    area = crs.area_of_use
    if area is None:
        return misfit
    m = AREA_MARGIN_DEG
    if _box_fits((xs.min(), ys.min(), xs.max(), ys.max()), crs, area, m):
        return misfit  # the usual case, without transforming every feature
    lon, lat = _to_lonlat(xs, ys, crs)
    inside = _in_box(lon, lat, (area.west - m, area.east + m), (area.south - m, area.north + m))
    if inside.all():
        return misfit
    if not inside.any():
        raise CRSError(f"{where}: {_diagnose(xs, ys, crs, lon, lat)}")
    misfit[np.flatnonzero(have)[~inside]] = True
    return misfit


def _diagnose(x: np.ndarray, y: np.ndarray, crs: CRS, lon: np.ndarray, lat: np.ndarray) -> str:
    """Say why no feature fits ``crs`` and how to fix it."""
    area = crs.area_of_use
    name = f"{crs.name} ({crs.to_string()})"
    where = (f"lon {_range(lon)}, lat {_range(lat)}" if np.isfinite(lon).any()
             else "no valid longitude/latitude")
    head = (f"coordinates x {_range(x)}, y {_range(y)} in {name} fall at {where}, far outside "
            f"its area of use ({area.name.rstrip('.')}: lon {area.west:g}..{area.east:g}, "
            f"lat {area.south:g}..{area.north:g})")
    if not crs.is_geographic and (np.abs(x) <= 180).all() and (np.abs(y) <= 180).all():
        return (head + "; they look like longitude/latitude degrees, not metres: declare a "
                "geographic CRS (e.g. --src-crs EPSG:4490, or --coords wgs84|cgcs2000|gcj02|"
                "bd09)")
    if not crs.is_geographic:
        slon, slat = _to_lonlat(y, x, crs)
        m = AREA_MARGIN_DEG
        if _in_box(slon, slat, (area.west - m, area.east + m), (area.south - m, area.north + m)
                   ).all():
            return (head + "; with x and y swapped they fit: the file's X looks like northing "
                    "(Chinese surveying calls northing X); swap the columns or axes")
        if (x > 1e7).all() and (x < 1e8).all():
            zone = int(np.median(x) // 1e6)
            return (head + f"; the eastings carry a zone-number prefix ({zone}...): use the "
                    "CRS whose eastings include the zone number (e.g. EPSG:2360 ... EPSG:2418 "
                    "for 3-degree zones) or remove the prefix")
    return head + "; the CRS is probably not the one the coordinates were made in"
