"""geocheck:template and geocheck:import_osm in a headless QGIS write what the command line
writes from the same data."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

import openpyxl
import pyogrio
from helpers import OSM_DIR, SAMPLE
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProject
from test_check import sample_layers

from geocheck.cli import main
from geocheck.rules.packs.load import shipped_packs

pytestmark = pytest.mark.usefixtures("qgis_app")
HELSINKI = OSM_DIR / "helsinki_2020.osm.pbf"


def cells(path: Path) -> list[list[list[object]]]:
    """Every sheet's cell values, row by row."""
    book = openpyxl.load_workbook(path)
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]


def test_template_for_the_chosen_estates(tmp_path) -> None:
    import processing

    assert main(["template", str(SAMPLE), "--pack", "nanhai", "-o",
                 str(tmp_path / "cli.xlsx")]) == 0
    out = processing.run("geocheck:template", {
        "ESTATES": sample_layers()["ESTATES"], "PACK": shipped_packs().index("nanhai"),
        "OUTPUT": str(tmp_path / "qgis.xlsx")})["OUTPUT"]
    assert out == str(tmp_path / "qgis.xlsx")
    expected = cells(tmp_path / "cli.xlsx")
    assert [row[0] for row in expected[0][1:]] == [f"NN-{k:03}" for k in range(1, 13)]
    assert cells(tmp_path / "qgis.xlsx") == expected


def test_template_without_estates_has_blank_rows(tmp_path) -> None:
    import processing

    assert main(["template", "-o", str(tmp_path / "cli.csv")]) == 0
    processing.run("geocheck:template", {"OUTPUT": str(tmp_path / "qgis.csv")})
    text = (tmp_path / "qgis.csv").read_bytes()
    assert text == (tmp_path / "cli.csv").read_bytes() and b"GX-16" in text


def test_import_osm_writes_and_loads_the_role_layers(tmp_path) -> None:
    import processing

    assert main(["import", "osm", str(HELSINKI), "-o", str(tmp_path / "cli.gpkg")]) == 0
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    out = processing.run("geocheck:import_osm", {"INPUT": str(HELSINKI),
                                                 "OUTPUT": str(tmp_path / "qgis.gpkg")},
                         context=context)["OUTPUT"]
    expected = {name: pyogrio.read_info(tmp_path / "cli.gpkg", layer=name)["features"]
                for name in pyogrio.list_layers(tmp_path / "cli.gpkg")[:, 0]}
    assert {"estates", "buildings", "bus_stops"} <= set(expected)
    found = {name: pyogrio.read_info(out, layer=name)["features"]
             for name in pyogrio.list_layers(out)[:, 0]}
    assert found == expected
    roles = {k for k in expected if k != "geocheck_sources"}
    loaded = context.layersToLoadOnCompletion()
    assert set(loaded) == {f"{out}|layername={r}" for r in roles}
    assert {d.name for d in loaded.values()} == {f"osm {r}" for r in roles}


def test_import_osm_of_a_file_that_is_not_osm(tmp_path) -> None:
    import processing

    bad = tmp_path / "bad.osm"
    bad.write_text("not xml at all", encoding="utf-8")
    with pytest.raises(QgsProcessingException) as err:
        processing.run("geocheck:import_osm", {"INPUT": str(bad),
                                               "OUTPUT": str(tmp_path / "x.gpkg")})
    message = str(err.value)
    assert message.startswith("geocheck: ") and "\n" not in message and str(bad) in message
