"""geocheck inside QGIS: a Processing provider (:mod:`geocheck.qgis.provider`) with the
algorithms ``geocheck:check``, ``geocheck:template`` and ``geocheck:import_osm``, and the thin
plugin that registers it (:mod:`geocheck.qgis.plugin`).

Only the modules of this package import QGIS (``qgis.core``), and nothing else in geocheck
imports them, so geocheck runs without QGIS. This ``__init__`` imports nothing.
"""
