"""``geocheck:import_osm``: an OpenStreetMap extract converted to role layers, as
``geocheck import osm`` does, and the layers loaded."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from .common import load_on_completion, run_worker

INPUT, HOUSEHOLDS, FLOOR_AREA, OUTPUT = "INPUT", "HOUSEHOLDS", "FLOOR_AREA", "OUTPUT"


class ImportOsmAlgorithm(QgsProcessingAlgorithm):
    """Read an ``.osm`` or ``.osm.pbf`` file into a GeoPackage of role layers (estates,
    buildings, bus stops ... paths), with households estimated or joined from a sheet."""

    def name(self) -> str:
        return "import_osm"

    def displayName(self) -> str:
        return "Import OpenStreetMap extract"

    def shortHelpString(self) -> str:
        return ("Converts an OpenStreetMap extract (.osm or .osm.pbf) into a GeoPackage of "
                "geocheck's role layers, as `geocheck import osm` does. Households are not in "
                "OSM: they are estimated from residential floor area where every building has "
                "building:levels (an estimate, said so in the findings), or joined from a "
                "sheet with columns 小区编号 or 小区名称 and 户数.")

    def createInstance(self) -> ImportOsmAlgorithm:
        return ImportOsmAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.addParameter(QgsProcessingParameterFile(
            INPUT, "OpenStreetMap extract", fileFilter="OpenStreetMap (*.osm *.pbf)"))
        self.addParameter(QgsProcessingParameterFile(
            HOUSEHOLDS, "Households sheet (.xlsx or .csv)", fileFilter="Sheets (*.xlsx *.csv)",
            optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            FLOOR_AREA, "m² of residential floor area per household (for estimates)",
            QgsProcessingParameterNumber.Double, defaultValue=90.0, minValue=0.001))
        self.addParameter(QgsProcessingParameterFileDestination(
            OUTPUT, "Role layers", fileFilter="GeoPackage (*.gpkg)"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        spec = {"command": "import_osm",
                "input": self.parameterAsFile(parameters, INPUT, context),
                "households": self.parameterAsFile(parameters, HOUSEHOLDS, context) or None,
                "floor_area": self.parameterAsDouble(parameters, FLOOR_AREA, context),
                "output": self.parameterAsFileOutput(parameters, OUTPUT, context)}
        feedback.setProgressText(f"reading {spec['input']}")
        done = run_worker(spec, feedback)
        for line in done["summary"].splitlines():
            feedback.pushInfo(line)
        for role in done["roles"]:
            load_on_completion(context, f"{done['path']}|layername={role}", f"osm {role}",
                               OUTPUT)
        return {OUTPUT: done["path"]}
