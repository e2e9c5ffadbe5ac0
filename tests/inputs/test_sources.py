"""Planners' own files: encodings, GCJ-02/BD-09, point lists, swapped or misfit coordinates,
project files and ``geocheck import file``.

The fixtures in ``tests/fixtures/planner`` are the Nanning sample re-expressed as planners hold
it (see ``make_planner_fixtures.py``), so the truth for every coordinate is the sample's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from helpers import FIXTURES, SAMPLE, at, estate, rect

import geocheck
from geocheck import CRSError, InputError
from geocheck.cli import main
from geocheck.inputs.project import parse_project
from geocheck.inputs.sources import (
    Source,
    load_source,
    read_sources_table,
    write_role,
)

PLANNER = FIXTURES / "planner"


def _truth(layer: str) -> np.ndarray:
    return pyogrio.read_dataframe(SAMPLE, layer=layer).geometry.to_numpy()


def _offsets_m(loaded_frame, layer: str) -> np.ndarray:
    """Distance in metres (EPSG:4545) from each loaded point to the sample's point."""
    got = loaded_frame.to_crs("EPSG:4545").geometry.to_numpy()
    return shapely.distance(got, _truth(layer))


# --- encodings -------------------------------------------------------------------------------

def test_gbk_shapefile_without_cpg_is_refused_with_what_it_would_say() -> None:
    with pytest.raises(InputError, match=r"not UTF-8.*GBK it says '小区编号'.*--encoding gbk"):
        load_source(Source(PLANNER / "小区范围.shp", "estates"))


def test_gbk_shapefile_reads_right_when_encoding_is_given() -> None:
    frame = load_source(Source(PLANNER / "小区范围.shp", "estates", encoding="gbk")).frame
    sample = pyogrio.read_dataframe(SAMPLE, layer="estates")
    assert frame["小区名称"].tolist() == sample["name"].tolist()
    assert frame["小区编号"].tolist() == sample["estate_id"].tolist()


def test_utf8_shapefile_without_cpg_is_read_as_utf8_with_a_note(tmp_path) -> None:
    src = pyogrio.read_dataframe(SAMPLE, layer="estates")
    pyogrio.write_dataframe(src, tmp_path / "e.shp", encoding="utf-8")
    (tmp_path / "e.cpg").unlink(missing_ok=True)
    loaded = load_source(Source(tmp_path / "e.shp", "estates"))
    assert loaded.frame["name"].tolist() == src["name"].tolist()
    assert any("UTF-8" in n for n in loaded.notes)


def test_gbk_csv_is_refused_then_read_with_encoding() -> None:
    with pytest.raises(InputError, match="--encoding gbk"):
        load_source(Source(PLANNER / "地铁站_百度.csv", "rail_stations", coords="bd09"))
    frame = load_source(Source(PLANNER / "地铁站_百度.csv", "rail_stations", coords="bd09",
                               encoding="gbk")).frame
    assert frame["名称"].tolist() == ["凤岭站(南宁地铁1号线)"]


# --- GCJ-02 / BD-09 --------------------------------------------------------------------------

def test_gcj02_geojson_is_converted_back_to_within_centimetres() -> None:
    loaded = load_source(Source(PLANNER / "公交站点_高德.geojson", "bus_stops", coords="gcj02"))
    assert _offsets_m(loaded.frame, "bus_stops").max() < 0.02  # 7 decimals of a degree
    assert loaded.record["converted"].startswith("GCJ-02")
    assert any("8 features converted from GCJ-02" in n for n in loaded.notes)


def test_undeclared_gcj02_is_hundreds_of_metres_off() -> None:
    """Why the declaration matters: read as plain WGS 84, Amap points are ~500 m out."""
    frame = load_source(Source(PLANNER / "公交站点_高德.geojson", "bus_stops")).frame
    off = _offsets_m(frame, "bus_stops")
    assert (off > 400).all() and (off < 650).all()


def test_bd09_csv_is_converted_back() -> None:
    frame = load_source(Source(PLANNER / "地铁站_百度.csv", "rail_stations", coords="bd09",
                               encoding="gbk")).frame
    assert _offsets_m(frame, "rail_stations").max() < 0.02


def test_gcj02_points_outside_china_are_refused(tmp_path) -> None:
    (tmp_path / "p.csv").write_text("name,lon,lat\nParis,2.35,48.85\n", encoding="utf-8")
    with pytest.raises(CRSError, match=r"outside its area of use.*China"):
        load_source(Source(tmp_path / "p.csv", "bus_stops", coords="gcj02"))


# --- point lists ------------------------------------------------------------------------------

def test_csv_without_crs_or_coords_is_refused() -> None:
    with pytest.raises(CRSError, match=r"no CRS.*gcj02"):
        load_source(Source(PLANNER / "swapped.csv", "bus_stops"))


def test_swapped_lon_lat_columns_are_refused_then_read_when_swapped_back() -> None:
    with pytest.raises(CRSError, match=r"look like latitudes.*swapped"):
        load_source(Source(PLANNER / "swapped.csv", "bus_stops", coords="wgs84"))
    frame = load_source(Source(PLANNER / "swapped.csv", "bus_stops", coords="wgs84",
                               x_field="lat", y_field="lng")).frame
    got = frame.to_crs("EPSG:4545").geometry.to_numpy()
    assert shapely.distance(got, _truth("bus_stops")[:4]).max() < 0.02


def test_excel_blank_and_text_coordinates_become_rejects_not_losses() -> None:
    loaded = load_source(Source(PLANNER / "垃圾收集点.xlsx", "garbage_points",
                                layer="垃圾收集点", coords="cgcs2000"))
    frame = loaded.frame
    assert len(frame) == 61  # 59 points + 2 bad rows, none dropped
    bad = frame[frame.geometry.isna()]
    assert bad["编号"].tolist() == ["GP-X1", "GP-X2"]
    assert bad["source_problem"].tolist() == ["经度 is blank", "经度 = '108.3x' is not a number"]
    assert bad["source_ref"].tolist() == ["row 61", "row 62"]  # the rows as Excel shows them
    assert _offsets_m(frame[frame.geometry.notna()], "garbage_points").max() < 0.01


def test_unknown_coordinate_column_names_the_columns(tmp_path) -> None:
    (tmp_path / "p.csv").write_text("名称,东,北\na,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no x column found.*columns are: 名称, 东, 北"):
        load_source(Source(tmp_path / "p.csv", "bus_stops", coords="wgs84"))


def test_gdal_dataset_strings_are_refused() -> None:
    for text in ("/vsicurl/https://example.com/a.geojson", "CSV:/tmp/a.csv",
                 '{"type": "FeatureCollection", "features": []}'):
        with pytest.raises(InputError, match="not a local file"):
            load_source(Source(Path(text), "bus_stops"))


# --- coordinates that do not fit the CRS -------------------------------------------------------

def _estates_gpkg(path: Path, geoms: list, crs: str = "EPSG:4545") -> Path:
    import geopandas as gpd

    rows = [estate(f"E{i}", g) for i, g in enumerate(geoms)]
    gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_file(path, layer="estates")
    return path


def test_projected_northing_easting_swap_is_refused_with_the_fix(tmp_path) -> None:
    swapped = shapely.transform(rect(0, 0, 100, 100), lambda c: c[:, ::-1])
    path = _estates_gpkg(tmp_path / "s.gpkg", [swapped])
    with pytest.raises(CRSError, match="with x and y swapped they fit"):
        geocheck.check(path)


def test_zone_prefixed_eastings_are_refused_with_the_fix(tmp_path) -> None:
    prefixed = shapely.transform(rect(0, 0, 100, 100), lambda c: c + np.array([36_000_000, 0]))
    path = _estates_gpkg(tmp_path / "z.gpkg", [prefixed])
    with pytest.raises(CRSError, match=r"zone-number prefix \(36"):
        geocheck.check(path)


def test_one_far_feature_is_rejected_with_a_reason_the_rest_judged(tmp_path) -> None:
    far = shapely.box(100_000, 100_000, 100_100, 100_100)  # in EPSG:4545: far south of China
    path = _estates_gpkg(tmp_path / "f.gpkg", [rect(0, 0, 100, 100), far])
    result = geocheck.check(path)
    rejects = result.site.ledger.rejects_frame()
    assert rejects["feature_id"].tolist() == ["E1"]
    assert "outside that CRS's area of use" in rejects["reason"].iloc[0]
    assert result.findings["estate_id"].unique().tolist() == ["E0"]


# --- project files -----------------------------------------------------------------------------

def test_project_reaches_the_same_verdicts_as_the_sample() -> None:
    """GBK shapefile + GCJ-02 GeoJSON + BD-09 GBK CSV + Excel = the sample GeoPackage."""
    got = geocheck.check(PLANNER / "project.toml")
    want = geocheck.check(SAMPLE, pack="guangxi")
    g = got.findings.set_index(["estate_id", "rule_id"])
    w = want.findings.set_index(["estate_id", "rule_id"])
    assert g.index.equals(w.index)
    # two garbage points of the project have no coordinates and could lie anywhere: every rule
    # reading garbage_points is no data, but a radius rule that passes without them still passes
    garbage = g.index.get_level_values("rule_id").str.startswith("GX-06-garbage")
    assert (g["status"][~garbage] == w["status"][~garbage]).all()
    radius = g.index.get_level_values("rule_id") == "GX-06-garbage-radius"
    setback = g.index.get_level_values("rule_id") == "GX-06-garbage-setback"
    assert (g["status"][setback] == "no_data").all()
    assert (g["status"][radius] == w["status"][radius].replace("fail", "no_data")).all()
    assert (w["status"][radius] == "fail").any() and (w["status"][radius] == "pass").any()
    both = g["value"].notna() & w["value"].notna()
    assert (g["value"].isna() == w["value"].isna()).all()
    assert np.allclose(g.loc[both, "value"], w.loc[both, "value"], atol=0.02)
    gx53 = got.findings[got.findings["rule_id"] == "GX-53"]["method"]
    assert gx53.str.contains("bus_stops coordinates converted GCJ-02").all()
    assert gx53.str.contains("rail_stations coordinates converted BD-09").all()
    rejects = got.site.ledger.rejects_frame()
    assert rejects["feature_id"].tolist() == ["GP-X1", "GP-X2"]
    counts = got.site.ledger.counts().set_index("layer")
    assert (counts["judged"] + counts["rejected"] == counts["read"]).all()
    assert counts.loc["garbage_points", "read"] == 61


@pytest.mark.parametrize(("text", "message"), [
    ('[layers.estates]\npath = "a.shp"\nsrc = 1\n', "unknown key.*src"),
    ('[layers.estate]\npath = "a.shp"\n', "'estate' is not a role"),
    ('[layers.bus_stops]\npath = "a.csv"\n', r"no \[layers.estates\]"),
    ('pack = "guangxi"\n', r"no \[layers.ROLE\]"),
    ('[layers.estates\n', "not a valid TOML"),
    ('[layers.estates]\nlayer = "x"\n', "no path"),
])
def test_bad_project_files_name_the_problem(tmp_path, text, message) -> None:
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        parse_project(tmp_path / "p.toml")


def test_project_missing_source_file_names_it(tmp_path) -> None:
    (tmp_path / "p.toml").write_text('[layers.estates]\npath = "nope.shp"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"nope.shp: no such file"):
        geocheck.check(tmp_path / "p.toml")


# --- geocheck import file ----------------------------------------------------------------------

def test_import_file_writes_and_replaces_one_layer_with_provenance(tmp_path) -> None:
    out = tmp_path / "site.gpkg"
    shutil.copy(SAMPLE, out)
    src = Source(PLANNER / "公交站点_高德.geojson", "bus_stops", coords="gcj02",
                 fields=("id=站点编号", "name=站名"))
    write_role(load_source(src), out)
    write_role(load_source(src), out)  # again: replaced, not appended
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert names.count("bus_stops") == 1 and "buildings" in names
    table = read_sources_table(out)
    assert table["role"].tolist() == ["bus_stops"]
    assert table["converted"].iloc[0].startswith("GCJ-02")
    bus = pyogrio.read_dataframe(out, layer="bus_stops")
    assert len(bus) == 8 and "站名" in bus.columns  # source fields kept
    result = geocheck.check(out)
    gx53 = result.findings[result.findings["rule_id"] == "GX-53"]
    assert "bus_stops coordinates converted GCJ-02" in gx53["method"].iloc[0]


def test_cli_import_file_writes_mapped_fields(tmp_path, capsys) -> None:
    out = tmp_path / "site.gpkg"
    code = main(["import", "file", str(PLANNER / "小区范围.shp"), "--role", "estates",
                 "--encoding", "gbk", "--field", "estate_id=小区编号", "--field",
                 "households=户数", "--field", "built=建设情况", "--field", "name=小区名称",
                 "-o", str(out)])
    assert code == 0
    assert "estates" in capsys.readouterr().out
    est = pyogrio.read_dataframe(out, layer="estates")
    assert est["name"].iloc[0] == "凤岭北保障房小区" and est["households"].iloc[0] == "1800"


def test_cli_swapped_csv_is_one_line_exit_2(tmp_path, capsys) -> None:
    code = main(["import", "file", str(PLANNER / "swapped.csv"), "--role", "bus_stops",
                 "--coords", "wgs84", "-o", str(tmp_path / "o.gpkg")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "swapped" in err and "swapped.csv" in err
    assert not (tmp_path / "o.gpkg").exists()


def test_estimated_households_are_marked_in_the_findings(gpkg) -> None:
    row = estate("E1", rect(0, 0, 100, 100), households=1600)
    row["households_estimated"] = True
    path = gpkg(estates=[row], kindergartens=[{"id": "K", "name": "k",
                                               "geometry": at(50, 50)}])
    f = geocheck.check(path).findings
    kg = f[f["rule_id"] == "GX-06-kindergarten"].iloc[0]
    assert kg["status"] == "pass"
    assert "1,600 households (an estimate from residential floor area" in kg["evidence"]


def test_rejects_of_bad_rows_reach_rejects_csv(tmp_path) -> None:
    code = main(["check", str(PLANNER / "project.toml"), "-o", str(tmp_path / "out"), "-q"])
    assert code == 1
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", encoding="utf-8-sig")
    assert rejects.to_dict("records") == [
        {"layer": "garbage_points", "feature_id": "GP-X1",
         "reason": "no geometry: 经度 is blank", "estate_id": "all"},
        {"layer": "garbage_points", "feature_id": "GP-X2",
         "reason": "no geometry: 经度 = '108.3x' is not a number", "estate_id": "all"},
    ]


def test_degrees_declared_as_projected_metres_are_refused_with_the_fix() -> None:
    with pytest.raises(CRSError, match="look like longitude/latitude degrees, not metres"):
        load_source(Source(PLANNER / "swapped.csv", "bus_stops", src_crs="EPSG:4545",
                           x_field="lat", y_field="lng"))


def test_decimal_comma_is_a_reject_not_a_guess(tmp_path) -> None:
    (tmp_path / "p.csv").write_text('name,lon,lat\na,"108,32",22.81\nb,108.33,22.81\n',
                                    encoding="utf-8")
    frame = load_source(Source(tmp_path / "p.csv", "bus_stops", coords="wgs84")).frame
    assert frame.geometry.isna().tolist() == [True, False]
    assert frame["source_problem"].iloc[0] == "lon = '108,32' is not a number"


def test_given_single_byte_encoding_shows_what_it_read() -> None:
    notes = load_source(Source(PLANNER / "小区范围.shp", "estates", encoding="latin1")).notes
    assert any("text read as latin1, e.g." in n for n in notes)
