"""CAD site plans (DXF): roles, geometry, names, encodings and refusals.

The fixtures are made by tests/fixtures/make_site_plan_dxf.py, whose comments give every shape
as a local offset in metres from (X0, Y0) in EPSG:4545; the numbers below are worked from them.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pyogrio
import pytest
from helpers import FIXTURES, X0, Y0, at
from shapely.geometry import Point

from geocheck.core.errors import CRSError, InputError
from geocheck.inputs.dxf import (
    DWG_ADVICE,
    NO_SRC_CRS,
    DxfImport,
    list_dxf_layers,
    read_dxf,
)

R2000 = FIXTURES / "site_plan_r2000_gbk.dxf"
R2018 = FIXTURES / "site_plan_r2018_utf8.dxf"
DWG = FIXTURES / "plan.dwg"
SITE = {"用地红线": "estates", "小区名称": "estates", "建筑": "buildings", "绿地": "green_space",
        "公交站": "bus_stops", "垃圾收集点": "garbage_points"}
R2000_LAYERS = {"0": 0, "Defpoints": 1, "用地红线": 3, "建筑": 7, "绿地": 4, "公交站": 3,
                "垃圾收集点": 2, "小区名称": 2, "道路": 2, "标注": 1, "图框": 1}


@pytest.fixture(scope="module")
def plan() -> DxfImport:
    return read_dxf(R2000, SITE, "EPSG:4545")


def feature_at(plan: DxfImport, role: str, x: float, y: float) -> pd.Series:
    """The one feature of ``role`` covering the local point (x, y)."""
    gdf = plan.layers[role]
    hit = gdf[gdf.geometry.notna() & gdf.geometry.covers(at(x, y))]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def problems(plan: DxfImport, role: str) -> pd.DataFrame:
    gdf = plan.layers[role]
    return gdf[gdf.geometry.isna()]


def test_cad_layers_are_listed_with_entity_counts(plan) -> None:
    # 建筑: five polylines, a line and the text "1#"; the dimension on 标注 counts once although
    # GDAL returns its lines, arrows, text and defpoints as nine features
    assert list_dxf_layers(R2000) == R2000_LAYERS
    assert list(list_dxf_layers(R2000)) == list(R2000_LAYERS)  # layer-table order
    assert plan.cad_layers == R2000_LAYERS


def test_roles_and_counts_per_cad_layer(plan) -> None:
    assert set(plan.layers) == {"estates", "buildings", "green_space", "bus_stops",
                                "garbage_points"}
    # rows: features plus unusable entities; texts used as labels are not rows
    assert plan.counts == {"estates": 4, "buildings": 6, "green_space": 3, "bus_stops": 2,
                           "garbage_points": 2}
    features = {role: gdf[gdf.geometry.notna()]["cad_layer"].value_counts().to_dict()
                for role, gdf in plan.layers.items()}
    assert features == {"estates": {"用地红线": 2}, "buildings": {"建筑": 4},
                        "green_space": {"绿地": 2}, "bus_stops": {"公交站": 2},
                        "garbage_points": {"垃圾收集点": 2}}
    for gdf in plan.layers.values():
        assert gdf.crs.to_epsg() == 4545
        assert not gdf.geometry.has_z.any()


def test_polygon_areas_are_the_drawn_rectangles(plan) -> None:
    assert feature_at(plan, "estates", 100, 75).geometry.area == pytest.approx(200 * 150)
    assert feature_at(plan, "estates", 300, 75).geometry.area == pytest.approx(150 * 100)
    buildings = plan.layers["buildings"].dropna(subset="geometry")
    assert list(buildings.area.round(6)) == [40 * 12, 40 * 12, 30 * 15, 30 * 20]
    green = plan.layers["green_space"].dropna(subset="geometry")
    assert list(green.area.round(6)) == [60 * 40, 30 * 30]
    assert feature_at(plan, "garbage_points", 352, 81).geometry.area == pytest.approx(4 * 3)
    corner = feature_at(plan, "estates", 1, 1).geometry.exterior.coords[0]
    assert corner == (X0, Y0)


def test_polylines_hatches_and_old_style_polylines_become_polygons(plan) -> None:
    assert feature_at(plan, "estates", 300, 75)["cad_entity"] == "polyline"  # POLYLINE, closed
    assert feature_at(plan, "green_space", 150, 110)["cad_entity"] == "hatch"
    assert feature_at(plan, "buildings", 285, 30).geometry.area == pytest.approx(600)


def test_open_polyline_ending_on_its_first_vertex_is_closed(plan) -> None:
    b3 = feature_at(plan, "buildings", 115, 27)
    assert b3.geometry.area == pytest.approx(450)
    assert pd.isna(b3["source_problem"])


def test_open_polyline_and_line_are_kept_without_geometry(plan) -> None:
    bad = problems(plan, "buildings")
    assert list(bad["cad_entity"]) == ["polyline", "line"]
    for _, row in bad.iterrows():
        assert row["building_id"] == f"DXF-{row['cad_handle']}"
        assert pd.isna(row["use"]) and pd.isna(row["estate_id"])
    handle = bad["cad_handle"].iloc[0]
    assert bad["source_problem"].iloc[0] == (
        f"CAD layer 建筑, entity handle {handle}: open polyline, not a closed boundary "
        "(its ends are 15 m apart)")
    assert bad["source_problem"].iloc[1] == (
        f"CAD layer 建筑, entity handle {bad['cad_handle'].iloc[1]}: line, not a closed boundary")


def test_block_insert_and_circle_become_points_at_known_places(plan) -> None:
    stops = plan.layers["bus_stops"]
    assert list(stops["cad_entity"]) == ["block insert", "point"]
    assert stops.geometry.iloc[0].equals(Point(X0 + 210, Y0 + 75))  # insertion point
    assert list(stops["name"]) == ["民族大道站", "友爱路口"]  # NAME attribute; text 5.8 m away
    garbage = plan.layers["garbage_points"]
    assert list(garbage["cad_entity"]) == ["circle", "polyline"]
    centre = garbage.geometry.iloc[0]
    assert centre.geom_type == "Point"
    assert centre.distance(Point(X0 + 190, Y0 + 10)) < 1e-6  # the circle's centre
    assert garbage.geometry.iloc[1].geom_type == "Polygon"  # garbage points may be polygons


def test_texts_inside_polygons_name_them(plan) -> None:
    sunshine = feature_at(plan, "estates", 100, 75)
    assert (sunshine["name"], sunshine["estate_id"]) == ("阳光家园", "阳光家园")
    # E2 holds its name and an area annotation: two texts, so neither names it
    e2 = feature_at(plan, "estates", 300, 75)
    assert pd.isna(e2["name"]) and e2["estate_id"] == f"DXF-{e2['cad_handle']}"
    texts = problems(plan, "estates")["source_problem"]
    assert len(texts) == 2
    # the annotation's m2 sign is a \U+33A1 escape in the file
    for text, layer in (("用地面积15000㎡", "用地红线"), ("和谐小区", "小区名称")):
        assert texts.str.contains(
            rf"^CAD layer {layer}, entity handle \w+: text '{text}' is one of 2 texts inside "
            rf"estates feature {e2['estate_id']}, so none labels it$", regex=True).any()
    assert feature_at(plan, "buildings", 40, 26)["cad_text"] == "1#"
    assert feature_at(plan, "green_space", 150, 110)["name"] == "中心绿地"  # MTEXT \U+7EFF


def test_outline_drawn_twice_is_kept_once(plan) -> None:
    hatch = feature_at(plan, "green_space", 150, 110)
    twin = problems(plan, "green_space").iloc[0]
    assert twin["cad_entity"] == "polyline"
    assert twin["source_problem"].endswith(
        f"same outline as hatch DXF-{hatch['cad_handle']} (drawn twice); kept once")


def test_texts_label_only_features_of_their_own_role() -> None:
    # without 小区名称 mapped, E1 has no text; E2's only text is then the area annotation
    r = read_dxf(R2000, {"用地红线": "estates"}, "EPSG:4545")
    names = r.layers["estates"].dropna(subset="geometry")["name"]
    assert pd.isna(names.iloc[0]) and names.iloc[1] == "用地面积15000㎡"


def test_unmapped_name_layer_is_pointed_out() -> None:
    r = read_dxf(R2018, {"用地红线": "estates"}, "EPSG:4545")
    assert pd.isna(r.layers["estates"]["name"].iloc[0])
    assert any("no estate got a name" in n and "'小区名称' (1 text)" in n for n in r.notes)


@pytest.mark.parametrize(("path", "codec"), [(R2000, "GBK"), (R2018, "UTF-8")])
def test_chinese_names_read_right_in_both_encodings(path, codec) -> None:
    r = read_dxf(path, {"用地红线": "estates", "小区名称": "estates", "建筑": "buildings",
                        "公交站": "bus_stops"}, "EPSG:4545")
    assert {"用地红线", "建筑", "小区名称", "公交站"} <= set(r.cad_layers)
    assert r.layers["estates"]["name"].iloc[0] == "阳光家园"
    assert r.layers["bus_stops"]["name"].iloc[0] == "民族大道站"
    assert r.notes[0].startswith(f"text read as {codec}: ")


def test_r2018_is_read_as_utf8_whatever_its_code_page_says() -> None:
    # AutoCAD writes ANSI_936 in R2018 headers too; GDAL alone would decode as CP936
    assert b"ANSI_936" in R2018.read_bytes()[:2000]
    r = read_dxf(R2018, {"建筑": "buildings"}, "EPSG:4545")
    assert "R2018" in r.notes[0] and "UTF-8 whatever its $DWGCODEPAGE ANSI_936" in r.notes[0]
    assert pyogrio.get_gdal_config_option("DXF_ENCODING") is None  # open options, not config


def test_gbk_plan_declared_western_is_not_read_as_mojibake(tmp_path) -> None:
    path = tmp_path / "w.dxf"
    path.write_bytes(R2000.read_bytes().replace(b"ANSI_936", b"ANSI_1252"))
    r = read_dxf(path, SITE, "EPSG:4545")
    assert feature_at(r, "estates", 100, 75)["name"] == "阳光家园"
    assert r.notes[0].startswith("text read as GBK although this AC1015 (R2000) DXF declares "
                                 "$DWGCODEPAGE ANSI_1252")


def test_utf8_plan_declared_gbk_is_read_as_utf8(tmp_path) -> None:
    path = tmp_path / "u.dxf"
    path.write_bytes(R2000.read_text(encoding="gbk").encode("utf-8"))
    r = read_dxf(path, SITE, "EPSG:4545")
    assert feature_at(r, "estates", 100, 75)["name"] == "阳光家园"
    assert "although this AC1015 (R2000) DXF declares $DWGCODEPAGE ANSI_936" in r.notes[0]


def test_plan_valid_in_no_encoding_is_refused(tmp_path) -> None:
    raw = R2000.read_bytes()
    line = raw[:raw.index("阳光家园".encode("gbk"))].count(b"\n") + 1
    path = tmp_path / "bad.dxf"
    path.write_bytes(raw.replace("阳光家园".encode("gbk"), b"\xff\xfe\xfd\xfc"))
    with pytest.raises(InputError, match=re.escape(
            f"{path}: text is neither valid UTF-8 nor GBK (this AC1015 (R2000) DXF declares "
            f"$DWGCODEPAGE ANSI_936; byte 0xFF at line {line} is not GBK)")):
        read_dxf(path, SITE, "EPSG:4545")


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_dwg_is_refused() -> None:
    with pytest.raises(InputError) as exc:
        read_dxf(DWG, SITE, "EPSG:4545")
    assert one_line(exc) == f"{DWG}: {DWG_ADVICE}"
    assert "ODA File Converter" in DWG_ADVICE and "SAVEAS / DXFOUT" in DWG_ADVICE
    with pytest.raises(InputError, match="DWG is a closed binary format"):
        list_dxf_layers(DWG)


def test_dwg_renamed_dxf_is_refused(tmp_path) -> None:
    path = tmp_path / "plan.dxf"
    shutil.copy(DWG, path)
    with pytest.raises(InputError) as exc:
        read_dxf(path, SITE, "EPSG:4545")
    assert one_line(exc) == (f"{path}: this is a DWG drawing (it starts with 'AC1032') named "
                             f"as a DXF; {DWG_ADVICE}")


def test_layer_not_in_file_lists_the_layers() -> None:
    listing = ", ".join(repr(n) for n in R2000_LAYERS)
    with pytest.raises(InputError) as exc:
        read_dxf(R2000, {"建筑物": "buildings"}, "EPSG:4545")
    assert one_line(exc) == (f"{R2000}: CAD layer '建筑物' is not in the file; its layers are: "
                             f"{listing}")
    with pytest.raises(InputError, match=re.escape("CAD layer '建筑 ' is not in the file "
                                                   "(did you mean '建筑'?); its layers are: '0'")):
        read_dxf(R2000, {"建筑 ": "buildings"}, "EPSG:4545")


def test_layer_names_match_ignoring_case_as_in_autocad() -> None:
    # DEFPOINTS is found as Defpoints; its three points belong to the dimension, so are unusable
    with pytest.raises(InputError) as exc:
        read_dxf(R2000, {"DEFPOINTS": "bus_stops"}, "EPSG:4545")
    assert one_line(exc) == (f"{R2000}: CAD layer 'Defpoints' (mapped to bus_stops) has no "
                             "usable entity: 1 dimension part (bus_stops needs points, block "
                             "inserts or circles)")


def test_unknown_role_is_refused() -> None:
    with pytest.raises(InputError) as exc:
        read_dxf(R2000, {"建筑": "building"}, "EPSG:4545")
    assert one_line(exc) == (f"{R2000}: 'building' (mapped from CAD layer '建筑') is not a "
                             "geocheck role; roles are: estates, buildings, entrances, bus_stops, "
                             "rail_stations, garbage_points, kindergartens, schools, green_space, "
                             "clinics, paths")


@pytest.mark.parametrize(("mapping", "message"), [
    ({"道路": "buildings"}, "CAD layer '道路' (mapped to buildings) has no usable entity: "
                           "2 lines (buildings needs closed polylines, circles or hatches)"),
    ({"建筑": "bus_stops"}, "CAD layer '建筑' (mapped to bus_stops) has no usable entity: "
                           "5 polylines, 1 line, 1 text (bus_stops needs points, block inserts "
                           "or circles)"),
    ({"图框": "estates"}, "CAD layer '图框' (mapped to estates) has no entities in model space; "
                         "1 in paper space"),
    ({"0": "estates"}, "CAD layer '0' (mapped to estates) has no entities in model space; "
                      "8 entities on it lie inside block definitions, which geocheck does not "
                      "read (explode the blocks in CAD)"),  # the bus stop's and dimension's
])
def test_mapped_layer_with_no_usable_entity_is_refused(mapping, message) -> None:
    with pytest.raises(InputError) as exc:
        read_dxf(R2000, {"用地红线": "estates", **mapping}, "EPSG:4545")
    assert one_line(exc) == f"{R2000}: {message}"


@pytest.mark.parametrize("src_crs", [None, "", "  "])
def test_missing_src_crs_is_refused(src_crs) -> None:
    with pytest.raises(CRSError) as exc:
        read_dxf(R2000, SITE, src_crs)
    assert isinstance(exc.value, InputError)
    assert one_line(exc) == f"{R2000}: {NO_SRC_CRS}"
    assert NO_SRC_CRS == ("a DXF has no coordinate reference system: give --src-crs, e.g. "
                          "EPSG:4545 for CGCS2000 3-degree zone CM 108E")


def test_geographic_src_crs_for_metre_coordinates_is_refused() -> None:
    # the farthest feature east is the bus stop POINT 420 m east of X0
    with pytest.raises(InputError) as exc:
        read_dxf(R2000, SITE, "EPSG:4490")
    assert one_line(exc) == (
        f"{R2000}: --src-crs China Geodetic Coordinate System 2000 is geographic (degrees) but "
        "the plan's coordinates reach x 540420, y 2523150, which are metres; give the projected "
        "CRS it was drawn in, e.g. EPSG:4545 for CGCS2000 3-degree zone CM 108E")


def test_unknown_src_crs_is_refused() -> None:
    with pytest.raises(InputError, match=re.escape("--src-crs 'EPSG:99999' is not a CRS pyproj "
                                                   "knows")):
        read_dxf(R2000, SITE, "EPSG:99999")


def test_not_a_dxf_is_refused(tmp_path) -> None:
    path = tmp_path / "notes.dxf"
    path.write_text("这不是图纸\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{path}: cannot be read as DXF")):
        read_dxf(path, SITE, "EPSG:4545")
