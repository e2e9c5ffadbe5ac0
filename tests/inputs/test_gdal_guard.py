"""The guard between users' files and GDAL, piece by piece: which driver reads each format
geocheck takes, the pointer formats refused by their bytes whatever the file is called, and
the process-wide settings (pointer drivers gone, network off, passed on to child processes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest
from helpers import FIXTURES, OSM_DIR, SAMPLE

from geocheck.core.errors import InputError
from geocheck.inputs.gdal_guard import (
    NETWORK_OFF,
    POINTER_DRIVERS,
    gdal_env,
    refuse_pointers,
    vet,
)

PLANNER = FIXTURES / "planner"


@pytest.mark.parametrize(("path", "driver"), [
    (SAMPLE, "GPKG"),
    (PLANNER / "小区范围.shp", "ESRI Shapefile"),
    (PLANNER / "公交站点_高德.geojson", "GeoJSON"),
    (FIXTURES / "site_plan_r2018_utf8.dxf", "DXF"),
    (OSM_DIR / "helsinki_2020.osm.pbf", "OSM"),
])
def test_the_formats_geocheck_reads_are_let_in_with_their_driver(path: Path,
                                                                 driver: str) -> None:
    assert vet(path).driver == driver


_VRT = '<OGRVRTDataSource><OGRVRTLayer name="a"><SrcDataSource>CSV:/etc/passwd' \
       "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"


@pytest.mark.parametrize(("name", "text", "what"), [
    ("a.json", "\ufeff \n\t" + _VRT, "GDAL VRT"),  # a BOM and blanks before it
    ("a.gpkg", "<!-- x -->\n<ogrvrtdatasource>" + _VRT[18:], "GDAL VRT"),  # any case
    ("a.xml", '<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>', "GDAL VRT"),
    ("a.vrt", "not a VRT inside, but named one", "GDAL VRT"),
    ("a.json", '{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline"}',
     "GDAL streamed algorithm"),
    ("a.geojson", '{"type": "FeatureCollection", "features": [], "crs": {"type": "LINK", '
     '"properties": {"href": "http://example.com/crs"}}}', '"crs" is a link'),
    ("a.geojson", '{"crs": {"\\u0074ype": "\\u006cink", "properties": {"\\u0068ref": '
     '"https://example.com/x"}}, "type": "FeatureCollection", "features": []}',
     "'https://example.com/x'"),
])
def test_pointer_formats_are_refused_by_their_bytes(tmp_path, name, text, what) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        vet(path)
    assert str(path) in str(err.value) and what in str(err.value)
    assert "\n" not in str(err.value)


def test_a_geojson_naming_its_crs_or_saying_link_elsewhere_is_let_in(tmp_path) -> None:
    """Only a crs of type link with an href is refused: a property called link is data."""
    path = tmp_path / "a.geojson"
    path.write_text('{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                    '{"name": "urn:ogc:def:crs:EPSG::4490"}}, "features": [{"type": "Feature", '
                    '"properties": {"link": "a"}, "geometry": {"type": "Point", '
                    '"coordinates": [108.3, 22.8]}}]}', encoding="utf-8")
    refuse_pointers(path)
    assert vet(path).driver == "GeoJSON"


def test_an_sqlite_database_that_is_not_a_geopackage_is_refused(tmp_path) -> None:
    db = tmp_path / "a.gpkg"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE estates (a)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="an SQLite database that is not a GeoPackage"):
        refuse_pointers(db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id = 1196444487")  # 'GPKG': the bytes say GeoPackage
    con.close()
    refuse_pointers(db)


def test_formats_geocheck_does_not_read_are_refused_naming_the_driver(tmp_path) -> None:
    csv = tmp_path / "points.csv"
    csv.write_text("name,lon,lat\na,108.3,22.8\n", encoding="utf-8")
    gbk = tmp_path / "gbk.csv"  # GDAL cannot even list it; still said to be a table
    gbk.write_bytes("名称,经度,纬度\n甲,108.3,22.8\n".encode("gbk"))
    for table in (csv, gbk):
        with pytest.raises(InputError, match=r"a table; .*`geocheck import file`"):
            vet(table)
    gpx = tmp_path / "track.gpx"
    gpx.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns='
                   '"http://www.topografix.com/GPX/1/1"><wpt lat="22.8" lon="108.3"/></gpx>',
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"GDAL reads it as GPX data, a format geocheck does "
                                         r"not open.*ogr2ogr"):
        vet(gpx)


def test_the_pointer_drivers_are_gone_and_the_network_is_off_for_the_process() -> None:
    drivers = pyogrio.list_drivers()
    assert [d for d in POINTER_DRIVERS if d in drivers] == []
    assert {"GPKG", "ESRI Shapefile", "GeoJSON", "DXF", "OSM"} <= set(drivers)
    for key, value in NETWORK_OFF.items():
        assert pyogrio.get_gdal_config_option(key) in (value, False), key  # NO reads as False


def test_child_processes_get_the_same_settings() -> None:
    env = gdal_env()
    assert env["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] == ".geocheck-network-off"
    assert set(POINTER_DRIVERS) <= set(env["GDAL_SKIP"].split())
