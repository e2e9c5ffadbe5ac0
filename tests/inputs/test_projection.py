"""Working CRS choice: CGCS2000 Gauss-Kruger zones in China, UTM elsewhere, refusals."""

from __future__ import annotations

import pytest
from pyproj import CRS

from geocheck import CRSError
from geocheck.inputs.projection import check_working_crs, choose_working_crs


@pytest.mark.parametrize(("lon", "lat", "epsg"), [
    (108.37, 22.82, 4545),  # Nanning: CM 108E
    (116.33, 39.99, 4548),  # Beijing Haidian: CM 117E
    (113.14, 23.03, 4547),  # Foshan Nanhai: CM 114E (112.5-115.5)
    (120.17, 30.32, 4549),  # Hangzhou Gongshu: CM 120E
    (109.6, 21.95, 4546),  # Qinzhou (east of 109.5E): CM 111E
])
def test_cgcs2000_zone_by_central_meridian(lon, lat, epsg) -> None:
    crs = choose_working_crs((lon, lat, lon, lat))
    assert crs.to_epsg() == epsg
    assert crs.name.startswith("CGCS2000 / 3-degree Gauss-Kruger CM")


def test_utm_outside_china() -> None:
    assert choose_working_crs((24.93, 60.16, 24.95, 60.17)).to_epsg() == 32635  # Helsinki


def test_given_crs_is_used() -> None:
    assert choose_working_crs((108.3, 22.8, 108.4, 22.9), "EPSG:32649").to_epsg() == 32649


@pytest.mark.parametrize(("crs", "words"), [
    ("EPSG:4326", "geographic"),
    ("EPSG:4490", "geographic"),
    ("EPSG:3857", "Web Mercator"),
    ("EPSG:2227", "metres"),  # California zone 3, US survey feet
    ("not a crs", "not a CRS"),
])
def test_unsuitable_working_crs_refused(crs, words) -> None:
    with pytest.raises(CRSError, match=words):
        check_working_crs(crs)


def test_projected_metre_crs_accepted() -> None:
    assert check_working_crs(CRS.from_epsg(4545)).to_epsg() == 4545


def test_the_zone_by_arithmetic_is_the_zone_the_database_search_finds(monkeypatch) -> None:
    """At zone centres and borders (1.5 degrees from two meridians, and just either side), in
    the sea, in Mongolia and beyond the 21 zones, the arithmetic shortcut gives what the EPSG
    database search gives, or leaves it to it."""
    from geocheck.inputs import projection

    points = [(lon, 30.0) for lon in (73.0, 75.2, 106.5, 108.0, 109.49, 109.5, 109.51, 121.6)]
    points += [(116.4, 39.9), (126.5, 45.8), (87.6, 43.8), (91.1, 29.6), (110.3, 20.0),
               (125.0, 25.0), (105.0, 46.5), (137.2, 47.0), (135.0, 48.3), (114.17, 22.3)]
    fast = [projection.cgcs2000_zone(lon, lat) for lon, lat in points]
    taken = sum(projection._zone_by_arithmetic(lon, lat) is not None for lon, lat in points)
    monkeypatch.setattr(projection, "_zone_by_arithmetic", lambda lon, lat: None)
    slow = [projection.cgcs2000_zone(lon, lat) for lon, lat in points]
    assert [c and c.to_epsg() for c in fast] == [c and c.to_epsg() for c in slow]
    assert taken > len(points) // 4 and any(c is None for c in slow)


@pytest.mark.parametrize(("epsg", "tolerance_deg"), [
    (4545, 1e-6),   # CGCS2000 / 3-degree GK CM 108E: CGCS2000 and WGS 84 agree to centimetres
    (2381, 0.003),  # Xian 1980 / 3-degree GK CM 108E: a datum some 100 m from WGS 84
    (2433, 0.003),  # Beijing 1954 / 3-degree GK CM 108E
    (32649, 1e-9),  # WGS 84 / UTM 49N: the same datum
])
def test_lonlat_on_the_crs_datum_is_within_its_datum_shift_of_wgs84(epsg, tolerance_deg) -> None:
    from pyproj import Transformer

    from geocheck.core.lonlat import to_lonlat
    from geocheck.inputs.projection import lonlat_bounds
    crs = CRS.from_epsg(epsg)
    wgs84 = Transformer.from_crs(crs, 4326, always_xy=True)
    # a box around Nanning (108.3 E, 22.8 N), in the CRS
    x, y = wgs84.transform(108.3, 22.8, direction="INVERSE")
    box = (x - 5000, y - 5000, x + 5000, y + 5000)
    ours, theirs = lonlat_bounds(box, crs), wgs84.transform_bounds(*box, densify_pts=21)
    assert ours == pytest.approx(theirs, abs=tolerance_deg)
    assert ours[0] == pytest.approx(108.3 - 0.0487, abs=0.01)  # 5 km west of 108.3 E
    assert to_lonlat(crs) is to_lonlat(CRS.from_epsg(epsg))  # built once per CRS


@pytest.mark.parametrize("epsg", [4545, 4534, 4554, 32649, 2433])
def test_the_web_map_transformer_is_proj_s_own_to_wgs84_bit_for_bit(epsg) -> None:
    """Where the datum agrees with WGS 84 (CGCS2000, WGS 84) the cheap inverse projection
    gives PROJ's EPSG:4326 coordinates exactly; elsewhere (Beijing 1954) PROJ's own is used."""
    import numpy as np
    from pyproj import Transformer

    from geocheck.core.lonlat import to_lonlat, to_wgs84
    crs = CRS.from_epsg(epsg)
    rng = np.random.default_rng(epsg)
    x, y = rng.uniform(300_000, 700_000, 2000), rng.uniform(2.0e6, 4.5e6, 2000)
    theirs = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    ours = to_wgs84(crs).transform(x, y)
    assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])
    assert (to_wgs84(crs) is to_lonlat(crs)) == (epsg != 2433)
