"""geocheck:check in a headless QGIS: the sample's layers picked one by one give the same
findings as the command line, the estates come back styled, and a user's mistakes come back
as one readable line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

import pyogrio
from helpers import SAMPLE, SHEET
from qgis.core import (
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

from geocheck.cli import main
from geocheck.core.roles import ROLES
from geocheck.rules.packs.load import shipped_packs

pytestmark = pytest.mark.usefixtures("qgis_app")


def rows(path: Path) -> list[tuple[str, ...]]:
    """findings.csv's rows (header first), in file order."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [tuple(r) for r in csv.reader(f)]


def sample_layers() -> dict[str, QgsVectorLayer]:
    """Each layer of the sample GeoPackage loaded on its own, as a planner adds them."""
    out = {}
    for name in pyogrio.list_layers(SAMPLE)[:, 0]:
        layer = QgsVectorLayer(f"{SAMPLE}|layername={name}", f"my {name}", "ogr")
        assert layer.isValid(), name
        QgsProject.instance().addMapLayer(layer)
        out[name.upper()] = layer
    return out


class Log(QgsProcessingFeedback):
    """A feedback that keeps what the algorithm logs, and can press Cancel at a stage."""

    def __init__(self, cancel_at: str | None = None) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.cancel_at = cancel_at

    def pushInfo(self, info: str) -> None:  # noqa: N802 (QGIS's name)
        self.lines.append(info)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.errors.append(error)

    def setProgressText(self, text: str) -> None:  # noqa: N802 (QGIS's name)
        if self.cancel_at and text.startswith(self.cancel_at):
            self.cancel()


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli")
    assert main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out), "-q"]) == 1
    return out


@pytest.fixture(scope="module")
def qgis_run(tmp_path_factory) -> tuple[dict, Log, Path]:
    """The check run as the Processing dialog runs it: the algorithm, then Processing's own
    loading of its result layers into the project."""
    import processing
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import QgsApplication, QgsProcessingContext

    out = tmp_path_factory.mktemp("qgis") / "out"
    log = Log()
    params = {**sample_layers(), "ATTRIBUTES": str(SHEET), "OUTPUT_FOLDER": str(out)}
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    result = processing.run("geocheck:check", params, feedback=log, context=context)
    alg = QgsApplication.processingRegistry().algorithmById("geocheck:check")
    assert handleAlgorithmResults(alg, context, log)
    return result, log, out


def test_the_provider_offers_the_algorithms_and_parameters(qgis_app) -> None:
    from qgis.core import QgsApplication

    reg = QgsApplication.processingRegistry()
    assert {a.id() for a in reg.providerById("geocheck").algorithms()} == {
        "geocheck:check", "geocheck:template", "geocheck:import_osm"}
    alg = reg.algorithmById("geocheck:check")
    params = {p.name(): p for p in alg.parameterDefinitions()}
    roles = [r.upper() for r in ROLES]
    assert "PATHS" in roles and "CLINICS" in roles
    assert set(params) == {*roles, "PACK", "PACK_FILE", "ATTRIBUTES", "HOUSEHOLDS_FIELD",
                           "BUILT_FIELD", "NAME_FIELD", "SELECTED_ONLY", "OUTPUT_FOLDER"}
    optional = {n for n, p in params.items() if p.flags() & p.FlagOptional}
    assert "ESTATES" not in optional and set(roles) - {"ESTATES"} <= optional
    assert params["PACK"].options() == shipped_packs()
    assert params["PACK"].options()[params["PACK"].defaultValue()] == "guangxi"
    assert {o.name() for o in alg.outputDefinitions()} >= {"RESULTS", "FINDINGS", "REPORT",
                                                            "MAP", "OUTPUT_FOLDER"}


def test_same_findings_as_the_command_line(cli_out, qgis_run) -> None:
    result, _, out = qgis_run
    expected = rows(cli_out / "findings.csv")
    assert len(expected) == 1 + 12 * 98
    assert rows(out / "findings.csv") == expected
    assert rows(out / "rejects.csv") == rows(cli_out / "rejects.csv")
    assert rows(out / "summary.csv") == rows(cli_out / "summary.csv")
    assert result["EXIT_CODE"] == 1
    for name in ("report.html", "map.html", "findings.xlsx", "results.gpkg", "map.png"):
        assert (out / name).stat().st_size > 0, name
    assert result["REPORT"] == str(out / "report.html")
    assert result["MAP"] == str(out / "map.html")


def test_the_estates_come_back_styled(qgis_run) -> None:
    result, _, out = qgis_run
    assert result["RESULTS"] == f"{out / 'results.gpkg'}|layername=estates"
    [layer] = QgsProject.instance().mapLayersByName("geocheck estates")  # as Processing loaded it
    assert layer.isValid() and layer.featureCount() == 12
    assert layer.source() == result["RESULTS"]
    renderer = layer.renderer()
    assert renderer.type() == "categorizedSymbol"  # the stored style, not a single symbol
    assert renderer.classAttribute() == "overall"
    assert {c.value() for c in renderer.categories()} >= {"pass", "fail"}
    assert layer.labelsEnabled()
    [findings] = QgsProject.instance().mapLayersByName("geocheck findings")
    assert findings.isValid() and findings.featureCount() == 12 * 98


def test_the_log_shows_the_terminal_summary(qgis_run) -> None:
    _, log, _ = qgis_run
    assert any(line.startswith("geocheck: judging 12 estates x 98 rules") for line in log.lines)
    assert "  NN-003 青山岭安置小区: fail GX-10-greening, GX-53, GX-56-green-patch, GX-63" \
        in log.lines
    assert any(line.startswith("GX-10-greening") and line.split()[1:5] == ["5", "7", "0", "0"]
               for line in log.lines)
