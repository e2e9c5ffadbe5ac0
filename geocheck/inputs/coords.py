"""Undo (or apply) the Chinese obfuscated coordinate systems GCJ-02 and BD-09.

Web maps in China do not publish WGS 84 longitudes and latitudes. Under the national rules every
map served to the public is shifted by **GCJ-02** (the "Mars" coordinates of the State Bureau of
Surveying and Mapping, used by AMap/Gaode, Tencent and Google Maps inside China): a smooth but
deliberately irregular offset of a few hundred metres that varies from place to place. Baidu adds
its own second layer on top, **BD-09** (BD-09 lon/lat, "bd09ll"; *not* Baidu's Mercator metres
"bd09mc"). Data digitised from such a map must be converted back before it is measured against
surveyed layers, or every feature is out by several hundred metres.

The transforms here are the de facto public formulas ("eviltransform"): the GCJ-02 forward shift on
the Krasovsky 1940 ellipsoid (a = 6378245.0 m, e² = 0.00669342162296594323) and the BD-09 shift with
x_pi = pi * 3000 / 180. GCJ-02 has no closed-form inverse; :func:`gcj02_to_wgs84` inverts the
forward transform by fixed-point iteration until the change is below 1e-9 degrees (about 0.1 mm),
so a round trip WGS 84 -> GCJ-02 -> WGS 84 is exact to well under a millimetre, unlike the usual
one-step approximation that is out by up to several metres. BD-09 -> GCJ-02 likewise refines the
standard closed-form approximate inverse (itself off by up to about 0.25 m) by the same iteration,
so it inverts GCJ-02 -> BD-09 exactly.

**Outside China** (the usual rough rectangle test: lon < 72.004 or lon > 137.8347 or
lat < 0.8293 or lat > 55.8271) points are returned unchanged, by every function here (BD-09
included, as eviltransform does). The test is applied to the *input* coordinates. The rectangle is a
rough box, not China's border: it also covers e.g. Mongolia, the Korean peninsula, parts of Japan
and South-East Asia, where points are shifted too.

**CGCS2000 and WGS 84** agree to well under a metre: the frames match at the centimetre level at
epoch 2000.0, and the drift since (CGCS2000 is fixed to that epoch, WGS 84 follows the plates, a
few centimetres a year in China) is far below the accuracy of anything digitised from a web map.
For this purpose they are the same system: "cgcs2000" is accepted wherever "wgs84" is, and no
datum shift is applied between them.

**Units**: every longitude and latitude taken or returned here is in decimal degrees, east and
north positive. NaN in gives NaN out, silently; NaN and infinite values count as outside China.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import shapely

from ..core.errors import InputError

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_coord_system",
    "convert_geometries",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
Converter = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]
_Core = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

#: Canonical names returned by :func:`check_coord_system`. "cgcs2000" converts as "wgs84".
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Accepted spellings, compared after lower-casing and dropping spaces, "-", "_" and ".".
_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "epsg:4326": "wgs84",
    "cgcs2000": "cgcs2000",
    "epsg:4490": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "autonavi": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}
_ACCEPTED = ("wgs84 (WGS 84, EPSG:4326), cgcs2000 (EPSG:4490), "
             "gcj02 (GCJ-02, amap, gaode, autonavi, tencent), bd09 (BD-09, bd09ll, baidu)")

# The rough "is it in China" rectangle used by every public GCJ-02 implementation, degrees.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

# GCJ-02: Krasovsky 1940 ellipsoid.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09.
_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON, _BD_DLAT = 0.0065, 0.006

# Inverse iteration: stop when no point moves by this much (degrees, ~0.1 mm), or after
# _MAX_ITER rounds (in practice GCJ-02 needs 5-6 and BD-09 2-3).
_INV_TOL = 1e-9
_MAX_ITER = 20


def _as_pair(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Float64 copies of ``lon`` and ``lat`` broadcast to a common shape."""
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                       np.asarray(lat, dtype=np.float64))
    return lon_a.copy(), lat_a.copy()


def in_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a lon/lat in degrees is inside the rough China rectangle the shifts apply to.

    The rectangle is 72.004-137.8347 E, 0.8293-55.8271 N, edges included. NaN is outside.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    return (lon_a >= _LON_MIN) & (lon_a <= _LON_MAX) & (lat_a >= _LAT_MIN) & (lat_a <= _LAT_MAX)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (dlon, dlat) in degrees at WGS 84 ``lon``/``lat`` in degrees.

    No China test here: callers pass only points inside the rectangle (finite values).
    """
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat_m = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
              + common
              + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
              + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon_m = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
              + common
              + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
              + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat_m * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon_m * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS 84 (or CGCS2000) lon/lat in degrees to GCJ-02 lon/lat in degrees.

    The standard public forward transform. Points outside the China rectangle, NaN included, are
    returned unchanged. Inputs broadcast together; the results are new float64 arrays.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    inside = in_china(lon_a, lat_a)
    dlon, dlat = _gcj_delta(lon_a[inside], lat_a[inside])
    lon_a[inside] += dlon
    lat_a[inside] += dlat
    return lon_a, lat_a


def _fixed_point_inverse(forward: _Core, g_lon: FloatArray, g_lat: FloatArray,
                         w_lon: FloatArray, w_lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(w) == g`` for ``w`` (degrees), all points at once, from the guess ``w``.

    Iterates ``w <- w - (forward(w) - g)``: the shifts inverted here change by at most a few
    hundredths of a degree per degree, so each round gains at least one and a half digits. Stops
    when no point moves by ``_INV_TOL`` degrees or after ``_MAX_ITER`` rounds.
    """
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(w_lon, w_lat)
        step_lon = f_lon - g_lon
        step_lat = f_lat - g_lat
        w_lon = w_lon - step_lon
        w_lat = w_lat - step_lat
        if not np.any(np.maximum(np.abs(step_lon), np.abs(step_lat)) >= _INV_TOL):
            break
    return w_lon, w_lat


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS 84 -> GCJ-02 without the China test (degrees)."""
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat in degrees to WGS 84 lon/lat in degrees: the inverse of the forward shift.

    Solves ``wgs84_to_gcj02(w) == g`` by fixed-point iteration ``w <- w - (fwd(w) - g)``, all
    points at once, until no point moves by 1e-9 degrees (about 0.1 mm) or 20 rounds have run
    (in practice 5-6). The result reproduces ``g`` through the forward transform to about 1e-13
    degrees. Points outside the China rectangle, NaN included, are returned unchanged.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    inside = in_china(lon_a, lat_a)
    g_lon = lon_a[inside]
    g_lat = lat_a[inside]
    lon_a[inside], lat_a[inside] = _fixed_point_inverse(_gcj_forward, g_lon, g_lat, g_lon, g_lat)
    return lon_a, lat_a


def _bd_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 -> BD-09 without the China test (degrees)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_backward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The standard closed-form BD-09 -> GCJ-02 approximation, off by up to ~0.25 m (degrees)."""
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat in degrees to BD-09 (Baidu) lon/lat in degrees.

    The standard formula with x_pi = pi * 3000 / 180. Points outside the China rectangle, NaN
    included, are returned unchanged.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    inside = in_china(lon_a, lat_a)
    lon_a[inside], lat_a[inside] = _bd_forward(lon_a[inside], lat_a[inside])
    return lon_a, lat_a


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 (Baidu) lon/lat in degrees to GCJ-02 lon/lat in degrees: the inverse of the forward.

    Starts from the standard closed-form approximation (x_pi = pi * 3000 / 180), which alone is
    off from the true inverse of :func:`gcj02_to_bd09` by up to about 0.25 m, and refines it by the
    same fixed-point iteration as :func:`gcj02_to_wgs84` (to 1e-9 degrees, 2-3 rounds). Points
    outside the China rectangle, NaN included, are returned unchanged.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    inside = in_china(lon_a, lat_a)
    b_lon = lon_a[inside]
    b_lat = lat_a[inside]
    start_lon, start_lat = _bd_backward(b_lon, b_lat)
    lon_a[inside], lat_a[inside] = _fixed_point_inverse(_bd_forward, b_lon, b_lat,
                                                        start_lon, start_lat)
    return lon_a, lat_a


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 (Baidu) lon/lat in degrees to WGS 84 lon/lat in degrees, by way of GCJ-02.

    Points outside the China rectangle, NaN included, are returned unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS 84 lon/lat in degrees to BD-09 (Baidu) lon/lat in degrees, by way of GCJ-02.

    Points outside the China rectangle, NaN included, are returned unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def check_coord_system(name: str) -> str:
    """Return the canonical name ("wgs84", "cgcs2000", "gcj02" or "bd09") for a spelling of one.

    Case, spaces, "-", "_" and "." are ignored, so "GCJ-02", "WGS 84" and "BD-09" are accepted, as
    are the map providers' names ("amap", "gaode", "tencent" -> "gcj02"; "baidu" -> "bd09").
    Anything else raises :class:`InputError` listing the accepted names.
    """
    key = re.sub(r"[\s\-_.]+", "", name.lower()) if isinstance(name, str) else None
    if key is None or key not in _ALIASES:
        raise InputError(f"unknown coordinate system {name!r}: use one of {_ACCEPTED}")
    return _ALIASES[key]


def _datum(name: str) -> str:
    """The system actually converted: CGCS2000 counts as WGS 84."""
    canonical = check_coord_system(name)
    return "wgs84" if canonical == "cgcs2000" else canonical


_CONVERTERS: dict[tuple[str, str], Converter] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("wgs84", "bd09"): wgs84_to_bd09,
}


def convert_geometries(geoms: ArrayLike, source: str, target: str = "wgs84") -> np.ndarray:
    """Convert every vertex of shapely geometries (lon/lat, degrees) from ``source`` to ``target``.

    ``source`` and ``target`` are any names :func:`check_coord_system` accepts; "cgcs2000" counts
    as "wgs84". All vertices of all geometries are converted in one vectorised call through
    :func:`shapely.transform`; Z values and each geometry's dimensionality are kept, and None and
    empty geometries come back as they were. Returns a new object array of geometries (the input
    is not changed); if the two systems are the same the geometries are returned as they are, in a
    new array.
    """
    src = _datum(source)
    tgt = _datum(target)
    arr = np.array(geoms, dtype=object)
    if src == tgt:
        return arr
    func = _CONVERTERS[(src, tgt)]

    def _xyz(x: FloatArray, y: FloatArray, z: FloatArray) -> tuple[FloatArray, ...]:
        new_x, new_y = func(x, y)
        return new_x, new_y, z

    return np.asarray(shapely.transform(arr, _xyz, include_z=True, interleaved=False),
                      dtype=object)
