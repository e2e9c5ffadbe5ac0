"""``geocheck:template``: the attributes sheet to fill in for the estates of a QGIS layer,
as ``geocheck template`` writes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterVectorLayer,
)

from ..core.roles import ROLES
from .common import (
    add_field_parameters,
    add_pack_parameters,
    export_layers,
    field_mapping,
    layer_types,
    pack_choice,
    run_worker,
)

ESTATES, SELECTED_ONLY, OUTPUT = "ESTATES", "SELECTED_ONLY", "OUTPUT"


class TemplateAlgorithm(QgsProcessingAlgorithm):
    """Write the attributes sheet of a pack: one row per estate of the chosen layer (blank
    rows without one), one column per record-based indicator."""

    def __init__(self) -> None:
        super().__init__()
        self._gpkg: Path | None = None
        self._names: dict[str, str] = {}

    def name(self) -> str:
        return "template"

    def displayName(self) -> str:
        return "Attributes sheet to fill in"

    def shortHelpString(self) -> str:
        return ("Writes the attributes sheet for the chosen pack (.xlsx with data validation "
                "and a 说明 sheet, or .csv): one row per estate of the estates layer (blank "
                "rows without one), one column per indicator read from records. Fill it in "
                "and give it to 'Check estates' as the attributes sheet.")

    def createInstance(self) -> TemplateAlgorithm:
        return TemplateAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.addParameter(QgsProcessingParameterVectorLayer(
            ESTATES, "Estates (小区, layer estates)", layer_types(ROLES["estates"]),
            optional=True))
        add_pack_parameters(self)
        add_field_parameters(self)
        self.addParameter(QgsProcessingParameterBoolean(
            SELECTED_ONLY, "Selected estates only", defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            OUTPUT, "Attributes sheet", fileFilter="Excel (*.xlsx);;CSV (*.csv)"))

    def prepareAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        layer = self.parameterAsVectorLayer(parameters, ESTATES, context)
        self._gpkg = None
        if layer is not None:
            self._names = {"estates": layer.name()}
            selected = ("estates",) if self.parameterAsBool(parameters, SELECTED_ONLY,
                                                             context) else ()
            self._gpkg = export_layers({"estates": layer}, context, feedback,
                                       selected=selected)
        return True

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        spec = {"command": "template", "input": str(self._gpkg) if self._gpkg else None,
                "pack": pack_choice(self, parameters, context),
                "fields": field_mapping(self, parameters, context),
                "output": self.parameterAsFileOutput(parameters, OUTPUT, context)}
        done = run_worker(spec, feedback, gpkg=self._gpkg, names=self._names)
        feedback.pushInfo(done["summary"])
        return {OUTPUT: done["path"]}
