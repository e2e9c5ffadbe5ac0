"""The OpenStreetMap reader on two real extracts (layers/osm/) and on tiny hand-made files.

Expected counts on the real files were checked independently: by reading them with GDAL's
default OSM configuration and by reading the XML itself (see layers/osm/README.md).
"""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from helpers import OSM_DIR, SAMPLE
from pyproj import Transformer

from geocheck import InputError
from geocheck.inputs.households import join_households
from geocheck.inputs.osm import OsmImport, read_osm

BEIJING = OSM_DIR / "beijing_haidian_liudaokou_2026.osm"
HELSINKI = OSM_DIR / "helsinki_2020.osm.pbf"
ID_FIELD = {"estates": "estate_id", "buildings": "building_id"}


@pytest.fixture(scope="module")
def beijing() -> OsmImport:
    return read_osm(BEIJING)


@pytest.fixture(scope="module")
def helsinki() -> OsmImport:
    return read_osm(HELSINKI)


def _check_frames(result: OsmImport) -> None:
    """Every layer: EPSG:4326, ids, counts incl. broken, source_problem iff no geometry."""
    for role, gdf in result.layers.items():
        assert gdf.crs.to_epsg() == 4326, role
        ids = gdf[ID_FIELD.get(role, "id")]
        assert ids.str.match(r"^osm:(node|way|relation)/\d+$").all(), role
        assert ids.is_unique, role
        assert result.counts[role] == len(gdf), role
        broken = gdf["source_problem"].notna().to_numpy()
        assert (broken == gdf.geometry.isna().to_numpy()).all(), role
    for role, n in result.counts.items():
        assert (role in result.layers) == (n > 0), role


# --------------------------------------------------------------------------------------------
# Beijing, Liudaokou: OSM XML from the API


def test_beijing_counts(beijing: OsmImport) -> None:
    _check_frames(beijing)
    assert beijing.counts == {"estates": 11, "buildings": 257, "bus_stops": 24,
                              "rail_stations": 10, "garbage_points": 0, "kindergartens": 2,
                              "schools": 3, "green_space": 17, "clinics": 2, "paths": 286}
    assert "entrances" not in beijing.layers


def test_beijing_estates(beijing: OsmImport) -> None:
    estates = beijing.layers["estates"]
    good = estates[estates.geometry.notna()]
    assert len(good) == 10
    assert {"富润家园", "双泉嘉苑", "静淑苑", "学士居"} <= set(good["name"])
    assert (good.geom_type == "MultiPolygon").all()
    assert estates["built"].isna().all()
    assert estates["households"].dtype == "Int64"


def test_beijing_relation_with_missing_member_is_kept_as_broken(beijing: OsmImport) -> None:
    # Independently, from the XML: relation 14400092 is landuse=residential and one of its two
    # member ways is not in the export, so GDAL cannot build it.
    root = ET.parse(BEIJING).getroot()
    ways = {w.get("id") for w in root.iter("way")}
    rel = next(r for r in root.iter("relation") if r.get("id") == "14400092")
    tags = {t.get("k"): t.get("v") for t in rel.iter("tag")}
    members = [m.get("ref") for m in rel.iter("member") if m.get("type") == "way"]
    assert tags["landuse"] == "residential"
    assert len(members) == 2 and sum(m not in ways for m in members) == 1

    estates = beijing.layers["estates"].set_index("estate_id")
    row = estates.loc["osm:relation/14400092"]
    assert row.geometry is None
    assert row["name"] == tags["name"] == "双泉堡甲2号院"
    assert "1 of its 2 member ways is missing" in row["source_problem"]
    assert any("osm:relation/14400092" in n for n in beijing.notes)


def test_beijing_name_prefers_name_zh_and_keeps_both(beijing: OsmImport) -> None:
    estates = beijing.layers["estates"].set_index("estate_id")
    # way 609225890 has only name=农大小区-北区; way 594891968 has name and name:zh 富润家园
    assert estates.loc["osm:way/609225890", "name"] == "农大小区-北区"
    assert pd.isna(estates.loc["osm:way/609225890", "osm_name_zh"])
    assert estates.loc["osm:way/594891968", ["name", "osm_name", "osm_name_zh"]].tolist() == [
        "富润家园"] * 3


def test_beijing_bus_and_rail(beijing: OsmImport) -> None:
    bus = beijing.layers["bus_stops"]
    assert len(bus) == 24 and (bus.geom_type == "Point").all()
    assert (bus["osm_highway"] == "bus_stop").all()
    rail = beijing.layers["rail_stations"]
    station = rail[rail["name"] == "六道口"]
    assert len(station) == 1 and station["kind"].iat[0] == "station"
    entrances = rail[rail["kind"] == "entrance"]
    assert len(entrances) == 9 and (entrances["osm_railway"] == "subway_entrance").all()
    metres = rail.to_crs("EPSG:4548")  # CGCS2000 GK CM 117E
    gap = metres.loc[entrances.index].distance(metres.loc[station.index[0], "geometry"])
    assert gap.max() < 300  # the entrances are 六道口's


def test_beijing_no_garbage_points_means_no_layer(beijing: OsmImport) -> None:
    assert "garbage_points" not in beijing.layers
    assert beijing.counts["garbage_points"] == 0
    assert any(n.startswith("garbage_points: none in this extract") for n in beijing.notes)


def test_beijing_schools_kindergartens_green(beijing: OsmImport) -> None:
    schools = beijing.layers["schools"]
    assert len(schools) == 3 and (schools.geom_type == "MultiPolygon").all()
    assert "北京石油学院附属中学" in set(schools["name"])
    kg = beijing.layers["kindergartens"]
    assert sorted(kg.geom_type) == ["MultiPolygon", "Point"]  # one node, one area
    green = beijing.layers["green_space"]
    assert green[["osm_leisure", "osm_landuse", "osm_natural"]].notna().any(axis=1).all()
    assert set(green["osm_leisure"].dropna()) <= {"park", "garden"}


def test_beijing_buildings(beijing: OsmImport) -> None:
    b = beijing.layers["buildings"]
    assert len(b) == 257 and b["estate_id"].isna().all()
    res = b["use"] == "residential"
    assert set(b.loc[res, "osm_building"]) <= {"apartments", "residential", "house", "detached",
                                               "dormitory", "terrace", "semidetached_house"}
    assert b.loc[b["osm_building"] == "yes", "use"].isna().all()
    assert "school" in set(b["use"].dropna())


# --------------------------------------------------------------------------------------------
# Helsinki: a PBF cut along a box


def _gdal_default_multipolygons() -> gpd.GeoDataFrame:
    """The multipolygons as GDAL's own configuration gives them, broken ones without geometry."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pyogrio.read_dataframe(HELSINKI, layer="multipolygons", on_invalid="ignore")


def test_helsinki_layer_not_lost_and_counts(helsinki: OsmImport) -> None:
    _check_frames(helsinki)
    assert helsinki.counts == {"estates": 26, "buildings": 494, "bus_stops": 92,
                               "rail_stations": 36, "garbage_points": 16, "kindergartens": 0,
                               "schools": 3, "green_space": 189, "clinics": 9, "paths": 2312}
    rail = helsinki.layers["rail_stations"]
    assert (rail["kind"] == "entrance").sum() == 33
    assert "kindergartens" not in helsinki.layers


def test_helsinki_every_broken_feature_is_accounted(helsinki: OsmImport) -> None:
    ref = _gdal_default_multipolygons()
    assert len(ref) == 1095
    broken = ref[ref.geometry.isna()]
    assert len(broken) == 11
    ids = "osm:" + np.where(broken["osm_id"].notna(), "relation/", "way/") + broken[
        "osm_id"].fillna(broken["osm_way_id"]).astype(str)
    is_building = broken["building"].notna() & (broken["building"] != "no")
    is_green = (broken["leisure"].isin(["park", "garden"]) | broken["landuse"].isin(
        ["grass", "village_green", "recreation_ground", "meadow", "forest", "flowerbed"])
        | broken["natural"].isin(["wood", "scrub", "grassland", "heath"]))
    # the other two are a pedestrian area and a service road area: walkable paths
    rest = broken[~is_building & ~is_green]
    assert rest["other_tags"].str.contains('"highway"=>"(?:pedestrian|service)"').all()
    assert len(rest) == 2
    expected = {"buildings": set(ids[is_building]), "green_space": set(ids[is_green]),
                "paths": set(ids[~is_building & ~is_green])}
    assert len(expected["buildings"]) == 5 and len(expected["green_space"]) == 4

    for role, gdf in helsinki.layers.items():
        id_field = ID_FIELD.get(role, "id")
        got = gdf[gdf["source_problem"].notna()]
        assert set(got[id_field]) == expected.get(role, set()), role
        for fid, text in zip(got[id_field], got["source_problem"], strict=True):
            assert fid.split("/")[1] in text and "ring has 2 point(s)" in text
    b = helsinki.layers["buildings"]
    assert b.geometry.notna().sum() + b["source_problem"].notna().sum() == 494


def test_helsinki_skipped_elements_noted(helsinki: OsmImport) -> None:
    note = next(n for n in helsinki.notes if n.startswith("GDAL skipped"))
    assert "100 way(s)" in note and "21 multipolygon relation(s)" in note


def test_helsinki_households_estimates_follow_the_rule(helsinki: OsmImport) -> None:
    e = helsinki.layers["estates"]
    est = e["households_estimated"].to_numpy(bool)
    assert est.any() and not est.all()
    full = (e["res_buildings"] > 0) & (e["res_buildings"] == e["res_buildings_levels"])
    assert (est == full.to_numpy()).all()
    assert e.loc[~est, "households"].isna().all()
    expect = np.floor(e.loc[est, "res_floor_area_m2"] / 90 + 0.5).astype(int)
    assert (e.loc[est, "households"].astype(int) == expect).all()


# --------------------------------------------------------------------------------------------
# Households estimate on a file made here

# Local metres in EPSG:4548 (CGCS2000 GK CM 117E) around 117 E 40 N, on the central meridian,
# so the areas are the rectangles' w x h.
_TO_LONLAT = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
_X0, _Y0 = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(117.0, 40.0)


def _osm_xml(areas: list[tuple[int, tuple[float, float, float, float], dict[str, str]]]) -> str:
    """OSM XML with one closed way per (way id, (x0, y0, x1, y1) in local metres, tags)."""
    nodes, ways, nid = [], [], 1
    for wid, (x0, y0, x1, y1), tags in areas:
        refs = []
        for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]:
            lon, lat = _TO_LONLAT.transform(_X0 + x, _Y0 + y)
            nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
            refs.append(nid)
            nid += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}" version="1">{nds}{tag_xml}</way>')
    body = "\n".join(nodes + ways)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n'


def _res(name: str) -> dict[str, str]:
    return {"landuse": "residential", "name": name}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> OsmImport:
    areas = [
        # estate A, 200 x 100 m; name:zh wins over name
        (100, (0, 0, 200, 100), {"landuse": "residential", "name": "Jia", "name:zh": "甲小区"}),
        (201, (10, 10, 70, 22), {"building": "apartments", "building:levels": "6"}),  # 720 m²
        (202, (100, 40, 140, 55), {"building": "yes", "building:levels": "11"}),  # 600 m²
        (203, (150, 70, 190, 90), {"building": "commercial"}),  # not residential: no levels ok
        # estate B: one residential building without levels -> no estimate
        (300, (300, 0, 400, 100), _res("乙小区")),
        (401, (310, 10, 350, 30), {"building": "residential", "building:levels": "5"}),
        (402, (310, 50, 350, 70), {"building": "residential"}),
        # estate C: levels "6;7" cannot be read -> no estimate
        (500, (500, 0, 600, 100), _res("丙小区")),
        (601, (510, 10, 550, 30), {"building": "house", "building:levels": "6;7"}),
        # estate D: same name as C, no building
        (700, (700, 0, 800, 100), _res("丙小区")),
    ]
    path = tmp_path_factory.mktemp("osm") / "tiny.osm"
    path.write_text(_osm_xml(areas), encoding="utf-8")
    return read_osm(path)


def test_households_estimate_by_hand(tiny: OsmImport) -> None:
    e = tiny.layers["estates"].set_index("estate_id")
    a = e.loc["osm:way/100"]
    assert a["name"] == "甲小区" and a["osm_name"] == "Jia"
    floor = 60 * 12 * 6 + 40 * 15 * 11  # 4320 + 6600 = 10920 m²
    # OSM XML keeps 7 decimals of a degree (about 1 cm): footprints within 0.1 %
    assert a["res_floor_area_m2"] == pytest.approx(floor, rel=1e-3)
    assert a["households"] == 121  # 10920 / 90 = 121.3
    assert bool(a["households_estimated"]) is True
    assert a["res_buildings"] == 2  # the commercial building does not count
    for eid in ("osm:way/300", "osm:way/500", "osm:way/700"):
        assert pd.isna(e.loc[eid, "households"]) and not e.loc[eid, "households_estimated"]
    note = next(n for n in tiny.notes if "have no households estimate" in n)
    assert "3 of 4" in note and "1 without a residential building" in note
    assert "2 with residential buildings lacking building:levels (2 of their 3" in note
    b = tiny.layers["buildings"].set_index("building_id")
    assert b.loc["osm:way/202", "use"] is None and b.loc["osm:way/601", "use"] == "residential"
    assert np.isnan(b.loc["osm:way/601", "levels"]) and b.loc["osm:way/202", "levels"] == 11


def test_households_estimate_other_floor_area(tmp_path: Path, tiny: OsmImport) -> None:
    # 10920 m² / 100 m² per household = 109.2 -> 109
    src = tmp_path / "again.osm"
    src.write_text(_osm_xml([(100, (0, 0, 200, 100), _res("甲")),
                             (201, (10, 10, 70, 22), {"building": "apartments",
                                                      "building:levels": "6"}),
                             (202, (100, 40, 140, 55), {"building": "yes",
                                                        "building:levels": "11"})]),
                   encoding="utf-8")
    assert read_osm(src, floor_area_per_household=100).layers["estates"]["households"].iat[0] \
        == 109
    with pytest.raises(InputError, match="positive number"):
        read_osm(src, floor_area_per_household=0)


def test_features_cut_off_in_xml_are_kept_as_broken(tmp_path: Path) -> None:
    # Way 11 has 1 of its nodes in the file and relation 20 one of its two member ways: GDAL
    # skips both without a feature; the reader finds their tags in the XML and keeps them.
    # Closed way 14 also has 1 node in the file: GDAL makes it a 2-point ring, no polygon.
    nodes = "".join(f'<node id="{i}" version="1" lat="{40 + dy:.4f}" lon="{117 + dx:.4f}"/>'
                    for i, (dx, dy) in enumerate([(0, 0), (0.001, 0), (0.001, 0.001),
                                                  (0, 0.001)], start=1))
    src = tmp_path / "cut.osm"
    src.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n' + nodes
        + '<way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
        '<nd ref="1"/><tag k="landuse" v="residential"/></way>'
        '<way id="11" version="1"><nd ref="98"/><nd ref="1"/><nd ref="99"/>'
        '<tag k="building" v="yes"/></way>'
        '<way id="14" version="1"><nd ref="98"/><nd ref="1"/><nd ref="99"/><nd ref="98"/>'
        '<tag k="building" v="yes"/></way>'
        '<way id="12" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/></way>'
        '<relation id="20" version="1"><member type="way" ref="12" role="outer"/>'
        '<member type="way" ref="13" role="outer"/><tag k="type" v="multipolygon"/>'
        '<tag k="leisure" v="park"/><tag k="name" v="A &amp; B"/></relation>'
        "\n</osm>\n", encoding="utf-8")
    result = read_osm(src)
    _check_frames(result)
    buildings = result.layers["buildings"].set_index("building_id")
    assert buildings.geometry.isna().all()
    assert buildings.loc["osm:way/11", "source_problem"].startswith(
        "OSM way 11: only 1 of its nodes is in the extract")
    assert buildings.loc["osm:way/14", "source_problem"].startswith(
        "OSM way 14: too few of its nodes are in the extract to make a polygon (GDAL's ring "
        "has 2 point(s)")
    park = result.layers["green_space"].set_index("id").loc["osm:relation/20"]
    assert park.geometry is None and park["name"] == "A & B"
    assert "1 of its 2 member ways is missing" in park["source_problem"]
    assert result.counts["estates"] == 1 and result.layers["estates"].geometry.notna().all()


# --------------------------------------------------------------------------------------------
# join_households


def test_join_by_estate_id(tiny: OsmImport) -> None:
    table = pd.DataFrame({"estate_id": ["osm:way/300", "osm:way/100"], "households": [480, 90]})
    out, notes = join_households(tiny.layers["estates"], table)
    e = out.set_index("estate_id")
    assert e.loc["osm:way/300", "households"] == 480
    assert e.loc["osm:way/100", "households"] == 90  # replaces the estimate
    assert not e["households_estimated"].any()
    assert e["households"].dtype == "Int64"
    assert "2 of 2 rows joined by estate_id" in notes[0]
    assert tiny.layers["estates"].set_index("estate_id").loc["osm:way/100", "households"] == 121


def test_join_by_name_notes_unknown_rows(tiny: OsmImport) -> None:
    table = pd.DataFrame({"小区名称": ["乙小区", "丁小区"], "户数": ["480", None]})
    out, notes = join_households(tiny.layers["estates"], table)
    e = out.set_index("estate_id")
    assert e.loc["osm:way/300", "households"] == 480
    assert e.loc["osm:way/100", "households"] == 121 and e.loc["osm:way/100",
                                                               "households_estimated"]
    unknown = next(n for n in notes if "match no estate" in n)
    assert "row 3 ('丁小区')" in unknown


def test_join_explicit_columns(tiny: OsmImport) -> None:
    table = pd.DataFrame({"小区": ["乙小区"], "住户": [300.0]})
    out, _ = join_households(tiny.layers["estates"], table, key="小区", households_field="住户")
    assert out.set_index("estate_id").loc["osm:way/300", "households"] == 300


def test_join_ambiguous_name_is_an_error(tiny: OsmImport) -> None:
    table = pd.DataFrame({"name": ["乙小区", "丙小区"], "households": [1, 2]})
    with pytest.raises(InputError, match=r"row 3.*'丙小区' matches 2 estates"):
        join_households(tiny.layers["estates"], table)


@pytest.mark.parametrize("bad", ["12.5", "-3", "many", 7.5])
def test_join_bad_households_is_an_error(tiny: OsmImport, bad: object) -> None:
    table = pd.DataFrame({"小区名称": ["甲小区", "乙小区"], "户数": [100, bad]}, dtype=object)
    with pytest.raises(InputError) as err:
        join_households(tiny.layers["estates"], table)
    text = str(err.value)
    assert "row 3" in text and "'户数'" in text and "\n" not in text
    assert re.search(re.escape(repr(str(bad))) + "|" + re.escape(str(bad)), text)


def test_join_missing_columns(tiny: OsmImport) -> None:
    with pytest.raises(InputError, match="no households column"):
        join_households(tiny.layers["estates"], pd.DataFrame({"name": ["甲小区"]}))
    with pytest.raises(InputError, match="no column 'nope'"):
        join_households(tiny.layers["estates"], pd.DataFrame({"name": ["甲小区"], "户数": [1]}),
                        key="nope")


# --------------------------------------------------------------------------------------------
# files that are not OSM


def test_not_osm_is_one_line_input_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.osm"
    text.write_text("hello", encoding="utf-8")
    gpkg = SAMPLE
    for path, what in [(text, "not an OpenStreetMap file"), (gpkg, "GDAL reads it as GPKG"),
                       (tmp_path / "missing.osm", "no such file")]:
        with pytest.raises(InputError) as err:
            read_osm(path)
        assert str(path) in str(err.value) and what in str(err.value)
        assert "\n" not in str(err.value)


def test_truncated_osm_is_input_error(tmp_path: Path) -> None:
    cut = tmp_path / "cut.osm"
    cut.write_bytes(BEIJING.read_bytes()[:5000])
    with pytest.raises(InputError, match="cannot be read"):
        read_osm(cut)
