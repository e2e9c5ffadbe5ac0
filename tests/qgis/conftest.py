"""Headless QGIS for the tests of geocheck.qgis: one QgsApplication (offscreen) with Processing
initialised and the geocheck provider registered, for the whole session.

These tests need QGIS's Python bindings (Debian: ``apt-get install python3-qgis``) in a
virtual environment made from the system Python with ``--system-site-packages`` (see the
README's "geocheck in QGIS"). Where they cannot import ``qgis``:
- with ``GEOCHECK_QGIS`` set (CI's QGIS environment, ``.ci/run``) they fail;
- in CI otherwise (``CI`` set: the README's test command in ``.venv``, which has no QGIS) they
  are not collected: CI runs them in its QGIS environment instead, where they must pass;
- elsewhere they are skipped, with the reason (each module starts with
  ``pytest.importorskip("qgis.core")``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
try:
    import qgis.core  # noqa: F401
    QGIS_MISSING = None
except ImportError as exc:
    QGIS_MISSING = f"QGIS's Python bindings cannot be imported here ({exc}); see the README's " \
                   "'geocheck in QGIS'"

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
"""Where Debian's QGIS keeps its Python plugins, Processing among them."""

if QGIS_MISSING and os.environ.get("GEOCHECK_QGIS"):
    raise RuntimeError(f"GEOCHECK_QGIS is set but {QGIS_MISSING}")
collect_ignore_glob: list[str] = []
if QGIS_MISSING and os.environ.get("CI"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def qgis_app() -> Iterator[Any]:
    """QgsApplication without a GUI, Processing initialised, the geocheck provider added."""
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    if QGIS_PLUGINS not in sys.path:
        sys.path.append(QGIS_PLUGINS)
    from processing.core.Processing import Processing

    from geocheck.qgis.provider import GeocheckProvider

    Processing.initialize()
    provider = GeocheckProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    PROVIDERS.append(provider)
    yield app
    QgsApplication.processingRegistry().removeProvider("geocheck")


PROVIDERS: list[Any] = []
"""The geocheck providers the session registered: QGIS keeps only the C++ side, so the Python
objects (which carry the algorithms) are kept alive here."""
