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
