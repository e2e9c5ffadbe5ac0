"""The geocheck Processing provider: ``geocheck:check``, ``geocheck:template`` and
``geocheck:import_osm`` in QGIS's Processing toolbox."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from ..core.version import VERSION
from .check import CheckAlgorithm
from .import_osm import ImportOsmAlgorithm
from .template import TemplateAlgorithm


class GeocheckProvider(QgsProcessingProvider):
    """Provides geocheck's algorithms under the id ``geocheck``."""

    def id(self) -> str:
        return "geocheck"

    def name(self) -> str:
        return "geocheck"

    def longName(self) -> str:
        return f"geocheck {VERSION}: planning compliance of residential estates"

    def versionInfo(self) -> str:
        return VERSION

    def loadAlgorithms(self) -> None:
        for alg in (CheckAlgorithm(), TemplateAlgorithm(), ImportOsmAlgorithm()):
            self.addAlgorithm(alg)
