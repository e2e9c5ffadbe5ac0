"""The QGIS plugin: registers :class:`~geocheck.qgis.provider.GeocheckProvider` while the
plugin is loaded. The installed plugin's own ``__init__`` only imports :func:`classFactory`
from here (see :mod:`geocheck.views.qgis_plugin`)."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication

from .provider import GeocheckProvider


class GeocheckPlugin:
    """Adds the geocheck provider to the Processing toolbox, and removes it on unload."""

    def __init__(self, iface: Any = None) -> None:
        self.iface = iface
        self.provider: GeocheckProvider | None = None

    def initProcessing(self) -> None:
        """Register the provider (QGIS calls this before the GUI exists, too)."""
        if self.provider is None:
            self.provider = GeocheckProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None


def classFactory(iface: Any) -> GeocheckPlugin:
    """The plugin object QGIS asks the plugin package for."""
    return GeocheckPlugin(iface)
