"""Reading and normalising: every feature judged or rejected with a reason; clear errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from helpers import X0, Y0, at, estate, layer, rect, write_gpkg
from shapely.geometry import LineString, Point, Polygon

import geocheck
from geocheck import CRSError, InputError
from geocheck.inputs.read import read_layers


def _ids(site, role):
    return sorted(site.layer(role)["feature_id"])


def test_rejects_are_listed_and_counts_add_up(gpkg) -> None:
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    path = gpkg(
        estates=[estate("A", rect(0, 0, 100, 100)), estate("B", rect(200, 0, 300, 100)),
                 estate("B", rect(400, 0, 500, 100)), estate("C", None),
                 estate("D", bowtie)],
        buildings=[{"building_id": "b1", "use": None, "estate_id": "A",
                    "geometry": rect(10, 10, 20, 20)},
                   {"building_id": "b2", "use": None, "estate_id": "ZZ",
                    "geometry": rect(10, 30, 20, 40)},
                   {"building_id": "b3", "use": None, "estate_id": None,
                    "geometry": rect(210, 10, 220, 20)},
                   {"building_id": "b4", "use": None, "estate_id": None,
                    "geometry": Polygon()}],
        bus_stops=[{"id": "s1", "name": "站", "geometry": at(50, 150)},
                   {"id": "s3", "name": "NaN", "geometry": Point(X0, float("nan"))},
                   {"id": "s2", "name": "线", "geometry": LineString([at(0, 0), at(1, 1)])}],
    )
    result = geocheck.check(path)
    ledger = result.site.ledger
    rejects = ledger.rejects_frame().set_index(["layer", "feature_id"])["reason"]
    assert rejects[("estates", "B")].str.contains("duplicate estate_id").all()
    assert len(rejects[("estates", "B")]) == 2
    assert "no geometry" in rejects[("estates", "C")]
    assert "not in layer 'estates'" in rejects[("buildings", "b2")]
    assert "empty geometry" in rejects[("buildings", "b4")]
    assert "LineString" in rejects[("bus_stops", "s2")]
    assert "non-finite coordinates" in rejects[("bus_stops", "s3")]
    counts = ledger.counts().set_index("layer")
    assert (counts["judged"] + counts["rejected"] == counts["read"]).all()
    assert counts.loc["estates", "read"] == 5 and counts.loc["estates", "judged"] == 2
    # The bow-tie is repaired with make_valid, not dropped; every judged estate has findings.
    assert sorted(result.findings["estate_id"].unique()) == ["A", "D"]
    assert set(_ids(result.site, "buildings")) == {"b1", "b3"}
    b3 = result.site.layer("buildings").set_index("feature_id").loc["b3", "estate_pos"]
    assert b3 == -1  # inside no accepted estate (B was rejected)


def test_bowtie_repaired_with_make_valid(gpkg) -> None:
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    site = geocheck.normalise(read_layers(gpkg(estates=[estate("D", bowtie)])))
    geom = site.estates.geometry.iloc[0]
    assert geom.is_valid and geom.area == pytest.approx(5000)  # two triangles of 2500 m2


def test_layer_without_crs_is_refused(tmp_path) -> None:
    gdf = gpd.GeoDataFrame([estate("A", rect(0, 0, 10, 10))], geometry="geometry")
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        path = write_gpkg(tmp_path / "nocrs.gpkg", {"estates": gdf})
    with pytest.raises(CRSError, match=r"layer 'estates' has no CRS"):
        geocheck.check(path)


def test_metres_claiming_degrees_is_refused(tmp_path) -> None:
    gdf = layer([estate("A", rect(0, 0, 10, 10))], crs="EPSG:4326")
    path = write_gpkg(tmp_path / "bad.gpkg", {"estates": gdf})
    with pytest.raises(CRSError, match="look like projected metres"):
        geocheck.check(path)


def test_field_mapping_for_chinese_field_names(tmp_path) -> None:
    rows = [{"小区编号": "A", "小区名称": "凤岭", "户数": "1600", "建设": "新建",
             "geometry": rect(0, 0, 100, 100)}]
    path = write_gpkg(tmp_path / "cn.gpkg", {"estates": layer(rows)})
    with pytest.raises(InputError, match="no field 'estate_id'"):
        geocheck.check(path)
    result = geocheck.check(path, fields=["estate_id=小区编号", "estates.name=小区名称",
                                          "households=户数", "built=建设"])
    est = result.site.estates.iloc[0]
    assert (est["estate_id"], est["name"], est["households"], est["built"]) == (
        "A", "凤岭", 1600, "new")
    kg = result.findings.set_index("rule_id").loc["GX-06-kindergarten"]
    assert kg["status"] == "no_data" and "kindergartens not provided" in kg["evidence"]


def test_mapping_to_a_missing_field_names_it(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 10, 10))])
    with pytest.raises(InputError, match=r"no field '户数' \(mapped to 'households'\)"):
        geocheck.check(path, fields=["households=户数"])


@pytest.mark.parametrize("bad", ["many", "12.5", "-3"])
def test_unreadable_households_is_an_error_naming_the_estate(tmp_path, bad) -> None:
    rows = [{"estate_id": "E7", "households": bad, "geometry": rect(0, 0, 10, 10)}]
    path = write_gpkg(tmp_path / "h.gpkg", {"estates": layer(rows)})
    with pytest.raises(InputError, match=f"estate 'E7': households = '{bad}'"):
        geocheck.check(path)


def test_unknown_built_value_is_an_error(gpkg) -> None:
    path = gpkg(estates=[estate("E1", rect(0, 0, 10, 10), built="brand new")])
    with pytest.raises(InputError, match="estate 'E1': built = 'brand new'"):
        geocheck.check(path)


def test_entrance_without_estate_id_snaps_within_20_m(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100))],
                entrances=[{"estate_id": None, "geometry": at(115, 50)},
                           {"estate_id": None, "geometry": at(125, 50)}])
    result = geocheck.check(path)
    ent = result.site.layer("entrances")
    assert list(ent["estate_pos"]) == [0]
    rejects = result.site.ledger.rejects_frame()
    assert list(rejects["reason"]) == ["no estate_id and no estate boundary within 20 m"]
    assert any("assigned to the nearest estate" in n for n in result.site.ledger.notes)


def test_missing_estates_layer_is_an_error(tmp_path) -> None:
    path = write_gpkg(tmp_path / "x.gpkg", {"bus_stops": layer(
        [{"id": "s", "name": "n", "geometry": at(0, 0)}])})
    with pytest.raises(InputError, match="no layer named 'estates'"):
        geocheck.check(path)


@pytest.mark.parametrize("text", ["/vsicurl/http://example.com/a.gpkg", "CSV:a.csv",
                                  '{"type": "FeatureCollection"}'])
def test_gdal_dataset_strings_are_refused(text) -> None:
    with pytest.raises(InputError, match="not a local file path"):
        geocheck.check(text)


def test_z_coordinates_are_dropped(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100))],
                bus_stops=[{"id": "s", "name": "n", "geometry": Point(X0 + 50, Y0 + 300, 42.0)}])
    result = geocheck.check(path)
    assert not result.site.layer("bus_stops").has_z.any()
    assert result.findings.set_index("rule_id").loc["GX-53", "value"] == 200.0


def test_estates_all_rejected_says_why(gpkg) -> None:
    path = gpkg(estates=[{"estate_id": "A", "geometry": at(0, 0)},
                         {"estate_id": "B", "geometry": at(5, 5)}])
    with pytest.raises(InputError, match=r"no usable feature \(2 x Point where polygon expected"):
        geocheck.check(path)


def test_nan_vertex_inside_a_ring_is_rejected() -> None:
    from geocheck.inputs.normalise import _geometry_problems

    with pytest.warns(RuntimeWarning):  # shapely warns when it builds such a ring
        ring = Polygon([(0, 0), (1, float("nan")), (1, 1), (0, 1)])
    reasons = _geometry_problems(np.array([ring, rect(0, 0, 1, 1)]), frozenset({"polygon"}))
    assert list(reasons) == ["non-finite coordinates", ""]


def test_m_values_are_dropped(tmp_path) -> None:
    """A measured (M) geometry, as CAD and linear-referencing tools write, is judged in 2D."""
    import shapely

    from geocheck.inputs.normalise import normalise
    from geocheck.inputs.read import RawLayers

    x, y = X0, Y0
    poly = shapely.from_wkt(f"POLYGON M (({x} {y} 1, {x + 100} {y} 2, {x + 100} {y + 100} 3, "
                            f"{x} {y + 100} 4, {x} {y} 1))")
    estates = gpd.GeoDataFrame({"estate_id": ["A"], "_fid": [1]}, geometry=[poly],
                               crs="EPSG:4545")
    site = normalise(RawLayers(tmp_path / "m.gpkg", {"estates": estates}))
    geom = site.estates.geometry.iloc[0]
    assert not shapely.has_m(geom) and not shapely.has_z(geom)
    assert geom.area == pytest.approx(10_000.0)


def test_features_without_an_id_are_named_by_fid_or_by_the_importer_s_reference(gpkg) -> None:
    """A blank id is named ``fid:N`` by its GeoPackage fid, or by the sheet row or CAD handle
    an importer gave it (``source_ref``); an id given is kept, stripped."""
    from geocheck.core.roles import FieldMap
    from geocheck.inputs.normalise import normalise
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100))],
                bus_stops=[{"id": " s1 ", "name": "站", "geometry": at(50, 150)},
                           {"id": None, "name": "无号", "geometry": at(60, 150)},
                           {"id": "  ", "name": "空", "geometry": at(70, 150)}])
    raw = read_layers(path)
    site = normalise(raw, fields=FieldMap([]))
    assert site.layer("bus_stops")["feature_id"].tolist() == ["s1", "fid:2", "fid:3"]
    raw = read_layers(path)
    raw.layers["bus_stops"]["source_ref"] = ["row 2", None, "row 4"]
    site = normalise(raw, fields=FieldMap([]))
    assert site.layer("bus_stops")["feature_id"].tolist() == ["s1", "fid:2", "row 4"]
