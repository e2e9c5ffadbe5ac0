"""Fixtures every test may use: a GeoPackage factory for hand-built layers, the bundled sample
checked once for the whole session, and a headless Chromium.

The helpers for building layers by hand live in ``helpers.py``; the browser harness in
``browser.py``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pgserver
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


PG_ENV = "GEOCHECK_TEST_PG"
"""The URL of a PostgreSQL + PostGIS server for the tests (``.ci/run`` starts one)."""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostGIS database the tests may write to: ``GEOCHECK_TEST_PG``, else a
    throw-away cluster started here (:mod:`pgserver`) and stopped at the end. Skipped only
    when neither is possible outside CI; in CI (``CI`` set) a missing server fails."""
    url = os.environ.get(PG_ENV)
    if url:
        yield url
        return
    if pgserver.bindir() is None:
        message = (f"no PostgreSQL server: set {PG_ENV} or install postgresql and "
                   "postgresql-postgis")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.gettempdir()) / f"geocheck-pg-{secrets.token_hex(6)}"
    url = pgserver.start(folder)
    yield url
    pgserver.stop(folder)


@pytest.fixture
def pg_schema(pg_server: str) -> Iterator[tuple[str, str]]:
    """A fresh schema for one test: (server URL, schema name); dropped afterwards."""
    from geocheck.core.database import connect

    schema = f"t_{secrets.token_hex(6)}"
    yield pg_server, schema
    with connect(pg_server) as conn:
        conn.cursor().execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.commit()
