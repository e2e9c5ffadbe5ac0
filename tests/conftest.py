"""Fixtures every test may use: a GeoPackage factory for hand-built layers, the bundled sample
checked once for the whole session, and a headless Chromium.

The helpers for building layers by hand live in ``helpers.py``; the browser harness in
``browser.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import Browser, chromium_path
from helpers import CRS, SAMPLE, SHEET, layer, write_gpkg

import geocheck


@pytest.fixture
def gpkg(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``gpkg(estates=[...], bus_stops=[...])`` writes rows to a GeoPackage."""
    def make(crs: str = CRS, **layers: list[dict]) -> Path:
        return write_gpkg(tmp_path / "in.gpkg",
                          {k: layer(v, crs) for k, v in layers.items()})
    return make


@pytest.fixture(scope="session")
def sample() -> geocheck.Result:
    """The bundled sample checked against the Guangxi pack with its attributes sheet, once
    for the whole session (tests read it and never change it)."""
    return geocheck.check(SAMPLE, attributes=SHEET)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A headless Chromium; skipped only outside CI when no Chromium is installed."""
    if chromium_path() is None:
        message = "Chromium not found: apt-get install chromium (or set GEOCHECK_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    b = Browser()
    yield b
    b.close()
