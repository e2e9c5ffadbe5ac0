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
