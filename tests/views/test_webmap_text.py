"""The texts of map.html written in bulk: values per unit, HTML escaping, GeoJSON properties
by Arrow, the page head as raw HTML. Each is checked against the one-value-at-a-time
writer it replaces (html.escape, units.number, pandas' JSON writer) or against a value
worked out by hand."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geocheck.core.units import number
from geocheck.views.text import walk_notes
from geocheck.views.webmap import write_map
from geocheck.views.webmap.estates import _text_codes, _value_text
from geocheck.views.webmap.leaflet import (
    _arrow_properties,
    _pandas_properties,
    escape_all,
    geojson_text,
)

TRICKY = ["a&b<c>d\"e'f", "中文 <b>", "", "back\\slash", "line\nbreak\ttab\x01", "\u2028sep",
          "&amp;", "/path/", "{{ 7*7 }}"]


def test_value_texts_by_unit_as_worked_out() -> None:
    values = np.array([0.35, 0.123456789, 12.34567, 3.0, 1.0, 0.0, 998.96, np.nan, 73.6, 2.5])
    units = np.array(["ratio", "ratio", "m", "count", "yes/no", "yes/no", "m2", "m", "points",
                      "number"], dtype=object)
    assert _value_text(values, units) == [
        "35%", "12.3457%", "12.346 m", "3", "是 yes", "否 no", "998.96 m2", "", "73.6 points",
        "2.5"]


def test_value_texts_equal_number_one_by_one() -> None:
    rng = np.random.default_rng(5)
    values = np.r_[rng.normal(0, 5000, 400), np.round(rng.random(400), 3), 1e300, -0.0]
    for unit, places in (("m", 3), ("m2", 6), ("per 100 households", 6), ("number", 6)):
        units = np.full(len(values), unit, dtype=object)
        one = [number(v, places, judged=places, trim=True) + ("" if unit == "number"
                                                              else f" {unit}")
               for v in values]
        assert _value_text(values, units) == one
    ratios = rng.random(400)
    assert _value_text(ratios, np.full(400, "ratio", dtype=object)) == [
        number(v * 100, 4, judged=4, trim=True) + "%" for v in ratios]


def test_escape_all_is_html_escape_of_each_and_blank_when_missing() -> None:
    values = [*TRICKY, None, np.nan, pd.NA, 3, 2.5]
    expected = [html.escape(v, quote=True) for v in TRICKY] + ["", "", "", "3", "2.5"]
    assert escape_all(values).tolist() == expected
    as_str = pd.Series([*TRICKY, None], dtype="str")  # read from Arrow, not iterated
    assert escape_all(as_str).tolist() == [*expected[:len(TRICKY)], ""]
    assert escape_all(as_str).dtype == object and escape_all([]).tolist() == []
    texts = np.array([*TRICKY, None, np.nan, pd.NA], dtype=object)  # texts and missing only
    assert escape_all(texts).tolist() == expected[:len(TRICKY) + 3]


def test_text_codes_are_those_of_pandas_factorize() -> None:
    pieces = [np.array(["b", "a", "b", *TRICKY], dtype=object),
              pd.Series(["c", *TRICKY[::-1], "a"], dtype="str"),
              pd.Series(["", "d", "b"], dtype="str")]
    for parts in (pieces, [*pieces, np.array([None, "e"], dtype=object)],
                  [np.array(["x", 3], dtype=object)]):
        codes, uniques = _text_codes(parts)
        expected_codes, expected_uniques = pd.factorize(
            np.concatenate([np.asarray(p, dtype=object) for p in parts]))
        assert codes.tolist() == expected_codes.tolist()
        assert list(uniques) == list(expected_uniques)
    assert _text_codes(pieces)[1].tolist()[:3] == ["b", "a", TRICKY[0]]  # first seen first


def test_geojson_properties_parse_as_pandas_writes_them() -> None:
    n = len(TRICKY) + 1
    frame = gpd.GeoDataFrame(
        {"tip": pd.Series([*TRICKY, None], dtype="str"),
         "raw": np.array([*TRICKY[::-1], None], dtype=object),
         "k": np.arange(n) - 3, "flag": np.arange(n) % 2 == 0},
        geometry=shapely.points(np.column_stack([500000 + np.arange(n), np.full(n, 2.5e6)])),
        crs=32649)
    props = pd.DataFrame(frame.drop(columns="geometry"))
    assert _arrow_properties(props) is not None  # this frame is written by Arrow
    text = geojson_text(frame)
    # safe in a script: nothing can close it or end a line of it
    assert not {"<", ">", "&", "\u2028", "\u2029"} & set(text)
    features = json.loads(text)["features"]
    assert [f["properties"] for f in features] == [json.loads(p)
                                                   for p in _pandas_properties(props)]
    assert features[0]["properties"] == {"tip": TRICKY[0], "raw": TRICKY[-1], "k": -3,
                                         "flag": True}
    assert features[-1]["properties"]["tip"] is None
    assert features[1]["geometry"]["type"] == "Point"
    # floats, or texts mixed with numbers, go to pandas' writer
    assert _arrow_properties(pd.DataFrame({"share": [0.5]})) is None
    assert _arrow_properties(pd.DataFrame({"x": np.array(["a", 1], dtype=object)})) is None
    big = pd.DataFrame({"u": np.array([2**63], dtype=np.uint64)})  # beyond int64
    assert _arrow_properties(big) is None
    assert json.loads(_pandas_properties(big)[0]) == {"u": 2**63}


def test_a_text_with_template_braces_is_written_as_it_is(sample, tmp_path) -> None:
    # The popup texts go into the page head, which is raw HTML, not a Jinja template: there
    # "{{ 7*7 }}" would be written as "49".
    findings = sample.findings.copy()
    findings["evidence"] = findings["evidence"].astype(object)
    findings.loc[0, "evidence"] = "near {{ 7*7 }}{% if 1 %}x{% endif %}"
    result = dataclasses.replace(sample, findings=findings)
    page = write_map(result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert '"near {{ 7*7 }}{% if 1 %}x{% endif %}"' in page
    assert "near 49x" not in page


def test_walk_notes_of_a_categorical_method_column() -> None:
    from geocheck.rules.walking import WALK_METHOD
    findings = pd.DataFrame({
        "walk_m": [100.0, 200.0, np.nan, 50.0, 300.0],
        "value": [50.0, 0.0, 3.0, 10.0, 80.0],
        "method": pd.Categorical([WALK_METHOD, "straight line", None, "straight line",
                                  WALK_METHOD + " (two zones)"])})
    assert walk_notes(findings).tolist() == [" on foot", " (walk 200 m)", "", " (walk 50 m, 5.0x)",
                                             " on foot"]


def test_the_page_is_the_same_bytes_each_time_and_shows_in_a_notebook(sample, tmp_path) -> None:
    from geocheck.views.webmap import build_map

    first = write_map(sample, tmp_path / "a.html").read_bytes()
    assert write_map(sample, tmp_path / "b.html").read_bytes() == first
    m = build_map(sample)
    assert m.render().encode("utf-8") == first
    frame = m._repr_html_()  # the whole page, its GeoJSON in place, as the iframe's srcdoc
    assert frame.startswith("<div") and html.escape(m.render()) in frame
    assert [layer.var for layer in m.layers] == [f"layer_{k}" for k in range(len(m.layers))]


def test_geometry_texts_are_the_geometries_in_rounded_lon_lat_one_by_one() -> None:
    from pyproj import CRS, Transformer

    from geocheck.views.webmap.geometries import geometry_texts

    crs = CRS(32649)
    x0, y0 = 500_000.0, 2_500_000.456  # x0 on the zone's central meridian, 111 E
    wkts = [
        f"POINT ({x0} {y0})",
        f"LINESTRING ({x0} {y0}, {x0 + 30.3} {y0 + 40.7}, {x0 + 90} {y0})",
        f"POLYGON (({x0} {y0}, {x0 + 50} {y0}, {x0 + 50} {y0 + 50}, {x0} {y0}))",
        f"POLYGON (({x0} {y0}, {x0 + 90} {y0}, {x0 + 90} {y0 + 90}, {x0} {y0 + 90}, {x0} {y0}), "
        f"({x0 + 10} {y0 + 10}, {x0 + 20} {y0 + 10}, {x0 + 20} {y0 + 20}, {x0 + 10} {y0 + 10}))",
        f"MULTIPOLYGON ((({x0} {y0}, {x0 + 5} {y0}, {x0 + 5} {y0 + 5}, {x0} {y0})), "
        f"(({x0 + 9} {y0}, {x0 + 15} {y0}, {x0 + 15} {y0 + 5}, {x0 + 9} {y0})))",
        f"MULTIPOINT (({x0} {y0}), ({x0 + 1} {y0 + 1}))",
        f"MULTILINESTRING (({x0} {y0}, {x0 + 3} {y0}), ({x0} {y0 + 7}, {x0 + 3} {y0 + 9}))",
        f"GEOMETRYCOLLECTION (POINT ({x0} {y0}), LINESTRING ({x0} {y0}, {x0 + 8} {y0}))",
        "POLYGON EMPTY",
        f"POINT Z ({x0 + 3} {y0 + 4} 12.5)",
        f"LINESTRING ({x0 - 70} {y0 + 3}, {x0 - 60} {y0 + 1})",
    ]
    geoms = np.array([shapely.from_wkt(w) for w in wkts[:9]] + [None]
                     + [shapely.from_wkt(w) for w in wkts[9:]], dtype=object)
    texts = geometry_texts(geoms, crs).to_pylist()
    assert len(texts) == len(geoms) and texts[9] is None
    lonlat = Transformer.from_crs(crs, 4326, always_xy=True)

    def rounded(g: shapely.Geometry) -> dict:
        g = shapely.transform(shapely.force_2d(g), lambda c: np.round(
            np.column_stack(lonlat.transform(c[:, 0], c[:, 1])), 6))
        return json.loads(json.dumps(shapely.geometry.mapping(g)))  # tuples as lists

    for geom, text in zip(geoms, texts, strict=True):
        if geom is not None and not geom.is_empty:
            assert json.loads(text) == rounded(geom), text
    assert texts[8] == shapely.to_geojson(shapely.Polygon())  # empty: as GEOS writes it
    # on the central meridian; the shortest digits that read back as the number, not GEOS' 17
    assert texts[0].startswith('{"type":"Point","coordinates":[111,22.')
    assert not any(re.search(r"\.\d{7}", t) for t in texts[:3])
    # a coordinate with no place in lon/lat is written as GEOS writes it (null), still JSON
    far = geometry_texts(np.array([shapely.Point(1e30, 1e30), shapely.Point(x0, y0)]), crs)
    assert json.loads(far[0].as_py())["coordinates"] == [None, None]
    assert far[1].as_py() == texts[0]
