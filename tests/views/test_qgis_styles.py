"""QGIS default styles in results.gpkg: the layer_styles table, its QML, and a file GDAL still
reads. Colours are checked against hand-converted values (#1a9850 is 26,152,80)."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import pyogrio
import pytest
from helpers import estate, rect

import geocheck
from geocheck import GeocheckError
from geocheck.views.qgis_styles import STYLE_NAME, write_layer_styles
from geocheck.views.style import EVIDENCE_COLOUR, STATUS_COLOURS
from geocheck.views.tables import write_gpkg
from geocheck.views.text import STATUS_LABELS

GEOMETRY_LAYERS = ["estates", "evidence_lines", "uncovered_buildings", "too_close_points"]
# By hand: #1a9850 #d73027 #969696 #4575b4 and the evidence red #d73027.
RGB = {"pass": "26,152,80", "fail": "215,48,39", "no_data": "150,150,150",
       "not_applicable": "69,117,180"}
RED = "215,48,39"
# The columns QGIS's saveStyle creates through GDAL's GeoPackage driver, with their types.
COLUMNS = [("id", "INTEGER"), ("f_table_catalog", "TEXT(256)"), ("f_table_schema", "TEXT(256)"),
           ("f_table_name", "TEXT(256)"), ("f_geometry_column", "TEXT(256)"),
           ("styleName", "TEXT(30)"), ("styleQML", "TEXT"), ("styleSLD", "TEXT"),
           ("useAsDefault", "BOOLEAN"), ("description", "TEXT"), ("owner", "TEXT(30)"),
           ("ui", "TEXT(30)"), ("update_time", "DATETIME")]


@pytest.fixture(scope="module")
def written(sample, tmp_path_factory) -> Path:
    """The sample's results.gpkg without styles, written once; tests work on copies."""
    return write_gpkg(sample, tmp_path_factory.mktemp("gpkg") / "results.gpkg")


@pytest.fixture
def results(written, tmp_path) -> Path:
    return Path(shutil.copy(written, tmp_path / "results.gpkg"))


@pytest.fixture
def styled(sample, results) -> Path:
    assert write_layer_styles(results, sample) == GEOMETRY_LAYERS
    return results


def query(path: Path, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql, args).fetchall()


def qml(path: Path, layer: str) -> ET.Element:
    (text,), = query(path, "SELECT styleQML FROM layer_styles WHERE f_table_name = ?", layer)
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text)


def options(layer: ET.Element) -> dict[str, str]:
    """The properties of a symbol layer (QGIS 3 ``<Option type="Map">``)."""
    box = layer.find("Option")
    assert box is not None and box.get("type") == "Map"
    return {o.get("name"): o.get("value") for o in box.findall("Option")}


def test_one_default_row_per_geometry_layer(styled) -> None:
    geometry = dict(query(styled, "SELECT table_name, column_name FROM gpkg_geometry_columns"))
    assert sorted(geometry) == sorted(GEOMETRY_LAYERS)
    rows = query(styled, "SELECT f_table_catalog, f_table_schema, f_table_name, "
                 "f_geometry_column, styleName, useAsDefault, description, owner, styleSLD, "
                 "update_time FROM layer_styles ORDER BY id")
    assert [r[2] for r in rows] == GEOMETRY_LAYERS
    for cat, schema, table, column, name, default, description, owner, sld, stamp in rows:
        # QGIS finds the default style with f_table_schema = '' (not NULL).
        assert (cat, schema, owner, sld) == ("", "", "", "")
        assert column == geometry[table] == "geom"
        assert (name, default) == (STYLE_NAME, 1)
        assert description.startswith(f"geocheck {geocheck.__version__} style for {table}")
        assert "guangxi" in description
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    info = query(styled, 'PRAGMA table_info("layer_styles")')
    assert [(r[1], r[2]) for r in info] == COLUMNS
    (sql,), = query(styled, "SELECT sql FROM sqlite_master WHERE name = 'layer_styles'")
    assert '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL' in sql
    assert "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))" in sql


def test_estates_qml_is_categorised_by_verdict(styled) -> None:
    root = qml(styled, "estates")
    assert root.tag == "qgis" and root.get("labelsEnabled") == "1"
    assert root.findtext("layerGeometryType") == "2"  # polygons
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "overall"
    cats = renderer.findall("categories/category")
    assert [c.get("value") for c in cats] == ["pass", "fail", "no_data", "not_applicable"]
    assert [c.get("label") for c in cats] == [STATUS_LABELS[c.get("value")] for c in cats]
    assert cats[0].get("label") == "pass 达标"
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    for cat in cats:
        symbol = symbols[cat.get("symbol")]
        assert symbol.get("type") == "fill"
        layer = symbol.find("layer")
        assert layer.get("class") == "SimpleFill"
        props = options(layer)
        rgb = RGB[cat.get("value")]
        assert STATUS_COLOURS[cat.get("value")].lower() == "#" + "".join(
            f"{int(v):02x}" for v in rgb.split(","))
        fill_alpha = int(props["color"].rsplit(",", 1)[1])
        assert props["color"].startswith(rgb + ",") and 0 < fill_alpha < 255  # see-through
        assert props["outline_color"] == rgb + ",255"  # solid outline
    settings = root.find("labeling/settings")
    assert root.find("labeling").get("type") == "simple"
    style = settings.find("text-style")
    assert style.get("fieldName") == "name" and style.get("isExpression") == "0"
    assert style.get("fontFamily") == "Noto Sans CJK SC"


def test_evidence_layers_qml(styled) -> None:
    lines = qml(styled, "evidence_lines")
    assert lines.findtext("layerGeometryType") == "1" and lines.get("labelsEnabled") == "1"
    assert lines.find("renderer-v2").get("type") == "singleSymbol"
    symbol = lines.find("renderer-v2/symbols/symbol")
    assert symbol.get("type") == "line" and symbol.find("layer").get("class") == "SimpleLine"
    props = options(symbol.find("layer"))
    assert props["line_color"] == RED + ",255" and props["line_style"] == "dash"
    assert lines.find("labeling/settings/text-style").get("fieldName") == "label"
    assert lines.find("labeling/settings/placement").get("placement") == "2"  # along the line

    buildings = qml(styled, "uncovered_buildings")
    assert buildings.findtext("layerGeometryType") == "2"
    assert buildings.get("labelsEnabled") == "0" and buildings.find("labeling") is None
    layer = buildings.find("renderer-v2/symbols/symbol/layer")
    assert layer.get("class") == "SimpleFill"
    assert options(layer)["color"].startswith(RED + ",")

    points = qml(styled, "too_close_points")
    assert points.findtext("layerGeometryType") == "0"
    symbol = points.find("renderer-v2/symbols/symbol")
    assert symbol.get("type") == "marker"
    props = options(symbol.find("layer"))
    assert props["name"] == "circle"
    assert props["color"] == RED + ",0"  # a ring: no fill
    assert props["outline_color"] == RED + ",255"
    assert EVIDENCE_COLOUR.lower() == "#d73027"


def test_file_stays_a_valid_geopackage(sample, results) -> None:
    path = results
    before = {name: pyogrio.read_dataframe(path, layer=name)
              for name, _ in pyogrio.list_layers(path)}
    write_layer_styles(path, sample)
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == set(before) | {"layer_styles"}
    assert layers["layer_styles"] is None
    for name, frame in before.items():
        after = pyogrio.read_dataframe(path, layer=name)
        assert after.equals(frame), name  # data untouched
    styles = pyogrio.read_dataframe(path, layer="layer_styles")  # GDAL reads QGIS's table
    assert len(styles) == 4 and styles["useAsDefault"].tolist() == [True] * 4
    info = pyogrio.read_info(path, layer="layer_styles")
    assert info["fid_column"] == "id" and info["features"] == 4
    assert query(path, "SELECT data_type, identifier FROM gpkg_contents "
                 "WHERE table_name = 'layer_styles'") == [("attributes", "layer_styles")]
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []


def test_unsynced_commit_writes_the_same_styles(sample, results, tmp_path) -> None:
    synced = Path(shutil.copy(results, tmp_path / "synced.gpkg"))
    assert write_layer_styles(synced, sample) == GEOMETRY_LAYERS
    assert write_layer_styles(results, sample, sync=False) == GEOMETRY_LAYERS
    rows = ("SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, "
            "description FROM layer_styles ORDER BY f_table_name")
    assert len(query(results, rows)) == 4 and query(results, rows) == query(synced, rows)
    assert query(results, "PRAGMA integrity_check") == [("ok",)]


def test_rerun_replaces_rows_and_demotes_other_defaults(styled) -> None:
    with closing(sqlite3.connect(styled)) as con, con:
        con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, useAsDefault) VALUES "
                    "('', '', 'estates', 'geom', 'mine', '<qgis/>', 1)")
    assert write_layer_styles(styled) == GEOMETRY_LAYERS
    assert write_layer_styles(styled) == GEOMETRY_LAYERS
    rows = query(styled, "SELECT f_table_name, styleName, useAsDefault FROM layer_styles "
                 "ORDER BY f_table_name, styleName")
    assert rows == [("estates", "geocheck", 1), ("estates", "mine", 0),
                    ("evidence_lines", "geocheck", 1), ("too_close_points", "geocheck", 1),
                    ("uncovered_buildings", "geocheck", 1)]
    # Without a result the description names no pack.
    assert query(styled, "SELECT description FROM layer_styles WHERE styleName = 'geocheck' "
                 "AND f_table_name = 'estates'") == [
        (f"geocheck {geocheck.__version__} style for estates",)]
    assert query(styled, "SELECT feature_count FROM gpkg_ogr_contents "
                 "WHERE table_name = 'layer_styles'") == [(5,)]
    assert query(styled, "SELECT count(*) FROM gpkg_contents "
                 "WHERE table_name = 'layer_styles'") == [(1,)]
    assert pyogrio.read_info(styled, layer="layer_styles")["features"] == 5


def test_absent_layers_skipped_and_hostile_names_kept_out(gpkg, tmp_path) -> None:
    names = ['<img src=x onerror=alert(1)>', '=HYPERLINK("http://x","y")', "${alert(1)}"]
    path = gpkg(estates=[estate(str(i), rect(200 * i, 0, 200 * i + 100, 100), name=n)
                         for i, n in enumerate(names)])
    result = geocheck.check(path)
    out = write_gpkg(result, tmp_path / "results.gpkg")
    assert [n for n, _ in pyogrio.list_layers(out)] == ["estates", "findings"]  # no evidence
    assert write_layer_styles(out, result) == ["estates"]
    assert query(out, "SELECT f_table_name FROM layer_styles") == [("estates",)]
    text = query(out, "SELECT styleQML FROM layer_styles")[0][0]
    ET.fromstring(text)
    assert not any(n in text for n in names) and "HYPERLINK" not in text
    assert pyogrio.read_dataframe(out, layer="estates")["name"].tolist() == names


def test_pack_title_with_markup_is_escaped(sample, results) -> None:
    title = 'A & B <script>alert("x")</script>'
    hostile = dataclasses.replace(sample, pack=dataclasses.replace(
        sample.pack, title_zh="标准 <b>&amp;", title_en=title))
    path = results
    write_layer_styles(path, hostile)
    rows = query(path, "SELECT f_table_name, description, styleQML FROM layer_styles")
    assert sorted(r[0] for r in rows) == sorted(GEOMETRY_LAYERS)  # every layer is checked
    for _, description, text in rows:
        assert description.endswith("(pack guangxi: 标准 <b>&amp; / " + title + ")")
        root = ET.fromstring(text)  # still well-formed XML
        note = root.find("userNotes").get("value")
        assert "<script>" not in note and html.unescape(note) == description
        assert "<script>" not in text and "<b>" not in text


def test_not_a_geopackage(tmp_path) -> None:
    with pytest.raises(GeocheckError, match="no such file"):
        write_layer_styles(tmp_path / "missing.gpkg")
    assert not (tmp_path / "missing.gpkg").exists()
    plain = tmp_path / "plain.sqlite"
    with closing(sqlite3.connect(plain)) as con:
        con.execute("CREATE TABLE t (x)")
    with pytest.raises(GeocheckError, match="not a GeoPackage"):
        write_layer_styles(plain)


def test_results_gpkg_is_styled_by_default(sample, tmp_path) -> None:
    out = geocheck.write_outputs(sample, tmp_path, formats=("gpkg",))["results"]
    assert sorted(r[0] for r in query(out, "SELECT f_table_name FROM layer_styles "
                                           "WHERE useAsDefault")) == sorted(GEOMETRY_LAYERS)


# Run by a Python that has QGIS (Debian: apt-get install python3-qgis; CI installs it).
QGIS_PROBE = r"""
import os, sys, json
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    r = layer.renderer()
    info = {"valid": layer.isValid(), "renderer": r.type(), "labels": layer.labelsEnabled()}
    if r.type() == "categorizedSymbol":
        info["field"] = r.classAttribute()
        info["categories"] = {c.value(): c.symbol().color().name() for c in r.categories()}
    else:
        info["colour"] = r.symbol().color().name()
    out[name] = info
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 can crash tearing down layers at exit; what it loaded is printed
"""


def _qgis_python() -> str | None:
    """A Python interpreter that imports qgis.core (Debian's python3 with python3-qgis)."""
    import subprocess

    for exe in ("/usr/bin/python3", shutil.which("python3")):
        if exe and subprocess.run([exe, "-c", "import qgis.core"], capture_output=True,
                                  timeout=60).returncode == 0:
            return exe
    return None


def test_real_qgis_opens_the_layers_styled(styled) -> None:
    """QGIS itself (where installed) loads each layer with its default style from the table."""
    import json
    import subprocess

    exe = _qgis_python()
    if exe is None:
        message = "QGIS's Python bindings are not installed (Debian: python3-qgis)"
        if os.environ.get("CI"):  # .ci/run installs them: there the test must run
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run([exe, "-c", QGIS_PROBE, str(styled), *GEOMETRY_LAYERS],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    estates = seen["estates"]
    assert estates["valid"] and estates["renderer"] == "categorizedSymbol"
    assert estates["field"] == "overall"
    assert estates["categories"] == {s: c.lower() for s, c in STATUS_COLOURS.items()}
    assert estates["labels"]  # estate names
    for name in GEOMETRY_LAYERS[1:]:
        assert seen[name]["valid"] and seen[name]["renderer"] == "singleSymbol", name
        assert seen[name]["colour"] == EVIDENCE_COLOUR.lower(), name
    assert seen["evidence_lines"]["labels"]  # the distances
