"""GCJ-02 / BD-09 conversions, checked against an independent implementation (prcoords).

prcoords (PyPI, pure Python, one point at a time, takes and returns (lat, lon)) is used only
here, as the reference: its forward transforms use the same published constants, and its
``*_bored`` functions are iterated exact inverses.
"""

from __future__ import annotations

import numpy as np
import prcoords
import pytest
import shapely
from shapely.geometry import Point, Polygon

from geocheck.core.errors import InputError
from geocheck.inputs.coords import (
    COORD_SYSTEMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_coord_system,
    convert_geometries,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

EARTH_R = 6_371_000.0
ALL_FUNCS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, bd09_to_wgs84,
             wgs84_to_bd09]
NANNING = (108.32, 22.82)


def metres(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    """Distance in metres between lon/lat points in degrees (small separations, sphere)."""
    dlon = np.radians(np.asarray(lon_a) - lon_b) * np.cos(np.radians(lat_b))
    dlat = np.radians(np.asarray(lat_a) - lat_b)
    return EARTH_R * np.hypot(dlon, dlat)


def ref(func, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Apply a prcoords (lat, lon) -> Coords(lat, lon) function point by point."""
    out = np.array([tuple(func((la, lo))) for lo, la in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 points across China: a half-degree grid plus random points (the GCJ-02 shift has
    terms with a 1/3-degree period, which a regular grid alone would sample at fixed phases)."""
    lon, lat = np.meshgrid(np.arange(73.5, 135.01, 0.5), np.arange(18.0, 53.51, 0.5))
    rng = np.random.default_rng(20240611)
    lon = np.concatenate([lon.ravel(), rng.uniform(73.5, 135.0, 3000)])
    lat = np.concatenate([lat.ravel(), rng.uniform(18.0, 53.5, 3000)])
    return lon, lat


# --- GCJ-02 -----------------------------------------------------------------------------------

def test_forward_matches_reference(grid) -> None:
    lon, lat = grid
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    r_lon, r_lat = ref(prcoords.wgs_gcj, lon, lat)
    # The brief asks for 1e-6 degrees; identical formulas agree to rounding.
    assert np.max(np.abs(g_lon - r_lon)) < 1e-9
    assert np.max(np.abs(g_lat - r_lat)) < 1e-9
    shift = metres(g_lon, g_lat, lon, lat)
    # A real shift: some hundreds of metres (about 30-700 m over this grid).
    assert 300 < np.median(shift) < 600 and shift.max() < 1000


def test_nanning_shift() -> None:
    g_lon, g_lat = wgs84_to_gcj02(*NANNING)
    shift = float(metres(g_lon, g_lat, *NANNING))
    assert 505 < shift < 520  # 511.4 m: ~409 m east, ~306 m south


def test_round_trip_wgs_gcj_wgs(grid) -> None:
    lon, lat = grid
    w_lon, w_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(w_lon, w_lat, lon, lat).max() < 1e-3  # brief: < 1 cm


def test_round_trip_gcj_wgs_gcj(grid) -> None:
    g_lon, g_lat = grid  # treat the grid as GCJ-02 input
    f_lon, f_lat = wgs84_to_gcj02(*gcj02_to_wgs84(g_lon, g_lat))
    assert np.max(np.abs(f_lon - g_lon)) < 1e-11
    assert np.max(np.abs(f_lat - g_lat)) < 1e-11


def test_one_step_inverse_would_fail_round_trip(grid) -> None:
    """The grid is discriminating: the classic one-step inverse is metres out on it."""
    lon, lat = grid
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    r_lon, r_lat = ref(prcoords.gcj_wgs, g_lon, g_lat)
    assert metres(r_lon, r_lat, lon, lat).max() > 1.0


def test_inverse_matches_reference_exact_inverse(grid, monkeypatch) -> None:
    g_lon, g_lat = wgs84_to_gcj02(*grid)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    r_lon, r_lat = ref(prcoords.gcj_wgs_bored, g_lon, g_lat)  # as shipped: stops at 1e-5 deg
    assert metres(w_lon, w_lat, r_lon, r_lat).max() < 0.5
    monkeypatch.setattr(prcoords, "PRC_EPS", 1e-12)  # iterate the reference to convergence
    r_lon, r_lat = ref(prcoords.gcj_wgs_bored, g_lon, g_lat)
    assert metres(w_lon, w_lat, r_lon, r_lat).max() < 1e-3


# --- BD-09 ------------------------------------------------------------------------------------

def test_gcj_to_bd_matches_reference(grid) -> None:
    lon, lat = grid
    b_lon, b_lat = gcj02_to_bd09(lon, lat)
    r_lon, r_lat = ref(prcoords.gcj_bd, lon, lat)
    assert np.max(np.abs(b_lon - r_lon)) < 1e-9
    assert np.max(np.abs(b_lat - r_lat)) < 1e-9


def test_wgs_to_bd_matches_reference(grid) -> None:
    lon, lat = grid
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    r_lon, r_lat = ref(prcoords.wgs_bd, lon, lat)
    assert np.max(np.abs(b_lon - r_lon)) < 1e-9
    assert np.max(np.abs(b_lat - r_lat)) < 1e-9


def test_bd_to_gcj_matches_reference(grid) -> None:
    b_lon, b_lat = grid  # treat the grid as BD-09 input
    g_lon, g_lat = bd09_to_gcj02(b_lon, b_lat)
    r_lon, r_lat = ref(prcoords.bd_gcj_bored, b_lon, b_lat)  # iterated inverse
    assert metres(g_lon, g_lat, r_lon, r_lat).max() < 0.05
    r_lon, r_lat = ref(prcoords.bd_gcj, b_lon, b_lat)  # the closed-form approximation
    assert metres(g_lon, g_lat, r_lon, r_lat).max() < 0.5


def test_bd_to_wgs_matches_reference(grid) -> None:
    b_lon, b_lat = grid
    w_lon, w_lat = bd09_to_wgs84(b_lon, b_lat)
    r_lon, r_lat = ref(prcoords.bd_wgs_bored, b_lon, b_lat)
    assert metres(w_lon, w_lat, r_lon, r_lat).max() < 0.5


def test_round_trips_through_bd(grid) -> None:
    lon, lat = grid
    g_lon, g_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert metres(g_lon, g_lat, lon, lat).max() < 1e-3
    w_lon, w_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(w_lon, w_lat, lon, lat).max() < 1e-3


# --- edges: outside China, NaN, shapes ---------------------------------------------------------

OUTSIDE = np.array([
    (2.35, 48.85),  # Paris
    (-74.0, 40.7),  # New York
    (151.2, -33.9),  # Sydney
    (72.0, 30.0),  # just west of the box
    (137.84, 35.0),  # just east
    (100.0, 0.8),  # just south
    (100.0, 55.83),  # just north
    (np.inf, 30.0),
])


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_outside_china_unchanged(func) -> None:
    lon, lat = func(OUTSIDE[:, 0], OUTSIDE[:, 1])
    np.testing.assert_array_equal(lon, OUTSIDE[:, 0])
    np.testing.assert_array_equal(lat, OUTSIDE[:, 1])
    # Mixed with a point inside: only that one moves.
    lon, lat = func([2.35, NANNING[0]], [48.85, NANNING[1]])
    assert (lon[0], lat[0]) == (2.35, 48.85)
    assert metres(lon[1], lat[1], *NANNING) > 100


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_nan_passes_through(func) -> None:
    lon_in = np.array([np.nan, 108.3, np.nan, 108.4])
    lat_in = np.array([22.8, np.nan, np.nan, 22.9])
    lon, lat = func(lon_in, lat_in)  # filterwarnings = error: any RuntimeWarning fails
    assert np.isnan(lon[0]) and np.isnan(lat[1]) and np.isnan(lon[2]) and np.isnan(lat[2])
    assert lon[1] == 108.3 and lat[0] == 22.8  # the finite half is left as it was
    assert np.isfinite(lon[3]) and np.isfinite(lat[3]) and lon[3] != 108.4


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_shapes_and_inputs_unchanged(func) -> None:
    lon_in = np.full((2, 3), 108.32)
    lat_in = np.full((2, 3), 22.82)
    lon, lat = func(lon_in, lat_in)
    assert lon.shape == lat.shape == (2, 3)
    assert np.all(lon_in == 108.32) and np.all(lat_in == 22.82)  # inputs not written to
    s_lon, s_lat = func(*NANNING)
    assert np.ndim(s_lon) == 0 and float(s_lon) == lon[0, 0] and float(s_lat) == lat[0, 0]
    e_lon, e_lat = func([], [])
    assert e_lon.shape == e_lat.shape == (0,)


# --- geometries -------------------------------------------------------------------------------

def test_convert_geometries_polygon_point_none() -> None:
    ring = [(108.30, 22.80), (108.31, 22.80), (108.31, 22.81), (108.30, 22.81), (108.30, 22.80)]
    geoms = np.array([Polygon(ring), None, Point(*NANNING), shapely.Point(),
                      Point(108.3, 22.8, 7.5)], dtype=object)
    before = shapely.to_wkt(geoms)
    out = convert_geometries(geoms, "GCJ-02")
    assert out.shape == (5,)
    assert out[1] is None
    assert out[3].is_empty and out[3].geom_type == "Point"
    np.testing.assert_array_equal(shapely.to_wkt(geoms), before)  # input untouched

    ring_a = np.array(ring)
    exp_lon, exp_lat = gcj02_to_wgs84(ring_a[:, 0], ring_a[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(out[0]),
                               np.column_stack([exp_lon, exp_lat]), rtol=0, atol=1e-12)
    exp_lon, exp_lat = gcj02_to_wgs84(*NANNING)
    assert (out[2].x, out[2].y) == (float(exp_lon), float(exp_lat))
    assert out[4].has_z and out[4].z == 7.5 and not out[0].has_z

    back = convert_geometries(out, "wgs84", "gcj02")
    assert back[1] is None
    np.testing.assert_allclose(shapely.get_coordinates(back[0]), ring_a, rtol=0, atol=1e-11)


def test_convert_geometries_bd09_and_identity() -> None:
    geoms = np.array([Point(*NANNING), None], dtype=object)
    out = convert_geometries(geoms, "baidu", "amap")
    exp_lon, exp_lat = bd09_to_gcj02(*NANNING)
    assert (out[0].x, out[0].y) == (float(exp_lon), float(exp_lat)) and out[1] is None
    same = convert_geometries(geoms, "cgcs2000", "WGS 84")  # CGCS2000 converts as WGS 84
    assert same[0].equals(geoms[0]) and same[1] is None


def test_convert_geometries_rejects_unknown_system() -> None:
    with pytest.raises(InputError, match="unknown coordinate system"):
        convert_geometries(np.array([Point(*NANNING)]), "bd09mc")


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "canonical"), [
    ("GCJ-02", "gcj02"), ("gcj02", "gcj02"), ("amap", "gcj02"), ("Gaode", "gcj02"),
    ("tencent", "gcj02"), ("BD-09", "bd09"), ("bd09", "bd09"), ("baidu", "bd09"),
    ("bd09ll", "bd09"), ("wgs84", "wgs84"), ("WGS 84", "wgs84"), ("WGS-84", "wgs84"),
    ("EPSG:4326", "wgs84"), ("cgcs2000", "cgcs2000"), ("CGCS 2000", "cgcs2000"),
    ("  gcj_02 ", "gcj02"),
])
def test_check_coord_system_aliases(name, canonical) -> None:
    assert check_coord_system(name) == canonical
    assert canonical in COORD_SYSTEMS


@pytest.mark.parametrize("name", ["bd09mc", "utm", "", "EPSG:3857", "mars2"])
def test_check_coord_system_rejects(name) -> None:
    with pytest.raises(InputError) as info:
        check_coord_system(name)
    message = str(info.value)
    assert "\n" not in message
    for accepted in COORD_SYSTEMS:
        assert accepted in message
