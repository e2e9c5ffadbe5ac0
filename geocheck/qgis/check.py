"""``geocheck:check``: judge the estates of layers picked in QGIS against a rule pack, with
the same pipeline and the same output files as ``geocheck check -o``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
)

from .common import (
    add_field_parameters,
    add_layer_parameters,
    add_pack_parameters,
    chosen_layers,
    export_layers,
    field_mapping,
    load_on_completion,
    pack_choice,
    run_worker,
)

ATTRIBUTES, SELECTED_ONLY, OUTPUT_FOLDER = "ATTRIBUTES", "SELECTED_ONLY", "OUTPUT_FOLDER"
RESULTS, FINDINGS, REPORT, MAP = "RESULTS", "FINDINGS", "REPORT", "MAP"
EXIT_CODE = "EXIT_CODE"


class CheckAlgorithm(QgsProcessingAlgorithm):
    """Export the chosen layers (each in its own CRS) into a GeoPackage named by role, run
    :func:`geocheck.pipeline.check` and :func:`geocheck.pipeline.write_outputs` on it (in
    :mod:`geocheck.qgis.worker`'s process), log the terminal summary, and load results.gpkg's
    estates layer (styled by its stored QGIS style) and findings table."""

    def __init__(self) -> None:
        super().__init__()
        self._gpkg: Path | None = None
        self._names: dict[str, str] = {}

    def name(self) -> str:
        return "check"

    def displayName(self) -> str:
        return "Check estates against a rule pack"

    def shortHelpString(self) -> str:
        return ("Judges every estate against the chosen rule pack, as `geocheck check` does: "
                "pick a layer for each role you have (estates required). Distances are "
                "measured in metres in a local projected CRS whatever the layers' CRS. The "
                "output folder receives report.html, map.html, findings.csv/.xlsx, "
                "results.gpkg and the rest; the estates with their verdicts are loaded, "
                "styled. 'Selected estates only' checks the selected estates against all "
                "features of the other layers (a facility outside the selection still counts).")

    def createInstance(self) -> CheckAlgorithm:
        return CheckAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        add_layer_parameters(self, estates_optional=False)
        add_pack_parameters(self)
        self.addParameter(QgsProcessingParameterFile(
            ATTRIBUTES, "Attributes sheet (.xlsx or .csv; blank cells are no data)",
            fileFilter="Sheets (*.xlsx *.csv)", optional=True))
        add_field_parameters(self)
        self.addParameter(QgsProcessingParameterBoolean(
            SELECTED_ONLY, "Selected estates only", defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputVectorLayer(RESULTS, "Estates with verdicts"))
        self.addOutput(QgsProcessingOutputVectorLayer(FINDINGS, "Findings"))
        self.addOutput(QgsProcessingOutputFile(REPORT, "Report (report.html)"))
        self.addOutput(QgsProcessingOutputFile(MAP, "Interactive map (map.html)"))
        self.addOutput(QgsProcessingOutputNumber(
            EXIT_CODE, "As geocheck check's exit code: 0 all pass, 1 some fail or lack data"))

    def prepareAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        """Copy the layers in the main thread, where QGIS's layers may be read."""
        selected = ("estates",) if self.parameterAsBool(parameters, SELECTED_ONLY, context) \
            else ()
        layers = chosen_layers(self, parameters, context)
        self._names = {role: layer.name() for role, layer in layers.items()}
        self._gpkg = export_layers(layers, context, feedback, selected=selected)
        return True

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        assert self._gpkg is not None  # written by prepareAlgorithm
        out = Path(self.parameterAsString(parameters, OUTPUT_FOLDER, context))
        spec = {"command": "check", "input": str(self._gpkg), "output": str(out),
                "pack": pack_choice(self, parameters, context),
                "attributes": self.parameterAsFile(parameters, ATTRIBUTES, context) or None,
                "fields": field_mapping(self, parameters, context)}
        done = run_worker(spec, feedback, gpkg=self._gpkg, names=self._names)
        for line in done["summary"].splitlines():
            feedback.pushInfo(line)
        files = done["files"]
        results = f"{files['results']}|layername=estates"
        findings = f"{files['results']}|layername=findings"
        load_on_completion(context, results, "geocheck estates", RESULTS)
        load_on_completion(context, findings, "geocheck findings", FINDINGS)
        return {OUTPUT_FOLDER: str(out), RESULTS: results, FINDINGS: findings,
                REPORT: files.get("report", ""), MAP: files.get("map", ""),
                EXIT_CODE: done["exit_code"]}
