"""geocheck:check with layers as planners have them: in lon/lat, in memory, with their own
field names, a selection; and their mistakes and Cancel as one readable line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

from helpers import SAMPLE, SHEET
from qgis.core import QgsProcessingException, QgsProject, QgsVectorLayer
from test_check import Log, sample_layers

from geocheck.cli import main

pytestmark = pytest.mark.usefixtures("qgis_app")


def verdicts(path: Path) -> dict[tuple[str, str], str]:
    """(estate_id, rule_id) -> status, from a findings.csv."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {(r["estate_id"], r["rule_id"]): r["status"] for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def cli_verdicts(tmp_path_factory) -> dict[tuple[str, str], str]:
    out = tmp_path_factory.mktemp("cli")
    assert main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out), "-q"]) == 1
    found = verdicts(out / "findings.csv")
    assert len(found) == 12 * 98 and set(found.values()) >= {"pass", "fail", "no_data"}
    return found


def run(tmp_path: Path, feedback: Log | None = None, **params) -> dict:
    import processing

    params.setdefault("ATTRIBUTES", str(SHEET))
    return processing.run("geocheck:check", {**params, "OUTPUT_FOLDER": str(tmp_path / "out")},
                          feedback=feedback or Log())


def test_lonlat_memory_layers_give_the_same_verdicts(tmp_path, cli_verdicts) -> None:
    import processing

    layers = {}
    for key, layer in sample_layers().items():
        moved = processing.run("native:reprojectlayer", {
            "INPUT": layer, "TARGET_CRS": "EPSG:4326", "OUTPUT": "memory:"})["OUTPUT"]
        assert moved.crs().authid() == "EPSG:4326" and moved.providerType() == "memory"
        layers[key] = moved
    run(tmp_path, **layers)
    assert verdicts(tmp_path / "out" / "findings.csv") == cli_verdicts


def test_a_field_of_another_name(tmp_path, cli_verdicts) -> None:
    import processing

    layers = sample_layers()
    renamed = processing.run("native:renametablefield", {
        "INPUT": layers["ESTATES"], "FIELD": "households", "NEW_NAME": "户数",
        "OUTPUT": "memory:"})["OUTPUT"]
    assert "households" not in renamed.fields().names()
    run(tmp_path, **{**layers, "ESTATES": renamed, "HOUSEHOLDS_FIELD": "户数"})
    assert verdicts(tmp_path / "out" / "findings.csv") == cli_verdicts


def test_selected_estates_only(tmp_path, cli_verdicts) -> None:
    layers = sample_layers()
    estates = layers["ESTATES"]
    estates.selectByExpression("estate_id IN ('NN-001', 'NN-003')")
    assert estates.selectedFeatureCount() == 2
    run(tmp_path, **layers, SELECTED_ONLY=True)
    found = verdicts(tmp_path / "out" / "findings.csv")
    assert {e for e, _ in found} == {"NN-001", "NN-003"}
    assert found == {k: v for k, v in cli_verdicts.items() if k[0] in ("NN-001", "NN-003")}


def test_selected_only_with_nothing_selected(tmp_path) -> None:
    layers = sample_layers()
    layers["ESTATES"].removeSelection()
    log = Log()
    with pytest.raises(QgsProcessingException):
        run(tmp_path, log, **layers, SELECTED_ONLY=True)
    # the first error is geocheck's line; QGIS adds its own "There were errors ..."
    assert log.errors[0] == ("geocheck: no feature is selected in layer 'my estates' "
                             "(estates); select the estates to check, or untick 'selected "
                             "estates only'")
    assert not (tmp_path / "out").exists()


def test_estates_without_polygons(tmp_path) -> None:
    empty = QgsVectorLayer("Polygon?crs=EPSG:4545&field=estate_id:string", "红线", "memory")
    QgsProject.instance().addMapLayer(empty)
    with pytest.raises(QgsProcessingException) as err:
        run(tmp_path, ESTATES=empty)
    assert str(err.value) == ("geocheck: layer '红线' (estates) has no usable feature "
                              "(the layer is empty)")
    assert not (tmp_path / "out").exists()


def test_a_bad_attributes_sheet(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(QgsProcessingException) as err:
        run(tmp_path, **sample_layers(), ATTRIBUTES=str(bad))
    assert str(err.value) == (f"geocheck: attributes sheet {bad}: no 小区编号 (estate_id) "
                              "column; the headers are: foo, bar")


def test_cancel_stops_the_run_and_writes_nothing(tmp_path) -> None:
    log = Log(cancel_at="judging")
    with pytest.raises(QgsProcessingException) as err:
        run(tmp_path, log, **sample_layers())
    assert str(err.value) == "geocheck: cancelled"
    assert any(line.startswith("geocheck: judging") for line in log.lines)
    assert not any("writing" in line for line in log.lines)
    assert not (tmp_path / "out" / "findings.csv").exists()
