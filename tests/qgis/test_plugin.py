"""The plugin written by ``geocheck qgis-plugin``, installed as "Install from ZIP" does (the
zip unpacked into a plugins folder) and started by QGIS's own plugin loader, registers the
geocheck provider; without geocheck it says how to install it."""

from __future__ import annotations

import sys
import zipfile

import pytest

pytest.importorskip("qgis.core", reason="QGIS's Python bindings are not installed")

from qgis.core import QgsApplication

from geocheck.cli import main


@pytest.fixture
def installed(tmp_path, qgis_app, monkeypatch):
    """The plugin zip unpacked into a plugins folder on sys.path, with the session's own
    provider taken away while the test runs."""
    import qgis.utils

    assert main(["qgis-plugin", "-o", str(tmp_path / "dist")]) == 0
    plugins = tmp_path / "plugins"
    with zipfile.ZipFile(tmp_path / "dist" / "geocheck_plugin.zip") as z:
        z.extractall(plugins)
    monkeypatch.syspath_prepend(str(plugins))
    for name in ("plugin_paths", "available_plugins", "plugins_metadata_parser"):
        monkeypatch.setattr(qgis.utils, name, getattr(qgis.utils, name))
    qgis.utils.plugin_paths = [str(plugins)]
    qgis.utils.updateAvailablePlugins()  # as QGIS does at start: reads each metadata.txt
    registry = QgsApplication.processingRegistry()
    assert registry.removeProvider("geocheck")  # the session's, deleted by QGIS
    yield plugins
    if "geocheck_plugin" in qgis.utils.plugins:
        qgis.utils.unloadPlugin("geocheck_plugin")
    sys.modules.pop("geocheck_plugin", None)
    from conftest import PROVIDERS

    from geocheck.qgis.provider import GeocheckProvider

    PROVIDERS.append(GeocheckProvider())
    assert registry.addProvider(PROVIDERS[-1])


def test_qgis_reads_the_metadata_and_starts_the_plugin(installed) -> None:
    import qgis.utils

    assert qgis.utils.available_plugins == ["geocheck_plugin"]
    meta = qgis.utils.plugins_metadata_parser["geocheck_plugin"]
    assert meta.get("general", "hasProcessingProvider") == "yes"
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("geocheck") is None
    assert qgis.utils.loadPlugin("geocheck_plugin")
    assert qgis.utils.startProcessingPlugin("geocheck_plugin")
    provider = registry.providerById("geocheck")
    assert provider is not None
    assert registry.algorithmById("geocheck:check") is not None
    assert qgis.utils.unloadPlugin("geocheck_plugin")
    assert registry.providerById("geocheck") is None


def test_without_geocheck_the_plugin_says_how_to_install_it(installed, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "geocheck.qgis.plugin", None)  # import fails
    import geocheck_plugin

    plugin = geocheck_plugin.classFactory(None)
    assert plugin.message.startswith("geocheck is not installed in QGIS's Python (")
    assert "geocheck in QGIS" in plugin.message
    plugin.initGui()  # logs the message; no provider, no exception
    assert QgsApplication.processingRegistry().providerById("geocheck") is None
