"""A throw-away PostgreSQL + PostGIS cluster on 127.0.0.1 for the PostGIS tests.

``.ci/run`` starts one before the tests and exports its URL as ``GEOCHECK_TEST_PG``; without
that variable the tests' session fixture starts one the same way (see ``tests/conftest.py``).
As a script::

    python tests/pgserver.py start FOLDER   # prints the URL; FOLDER must not exist
    python tests/pgserver.py stop FOLDER

The cluster lives in a folder of its own (data, socket, log), listens on a free port of
127.0.0.1 only, asks TCP clients for a password (SCRAM), and has a database ``geocheck`` with
the PostGIS extension. ``initdb`` refuses to run as root, so as root the cluster is run as the
``postgres`` user (Debian's packages create it) through ``runuser``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from glob import glob
from pathlib import Path

USER = "geocheck"
DATABASE = "geocheck"
RUN_AS = "postgres"
"""The system user the cluster runs as when the tests run as root."""


def bindir() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres), or None.

    ``GEOCHECK_PG_BIN`` when set; else the newest Debian ``/usr/lib/postgresql/N/bin``; else
    the folder of an ``initdb`` on PATH.
    """
    given = os.environ.get("GEOCHECK_PG_BIN")
    if given:
        return Path(given) if (Path(given) / "initdb").is_file() else None
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.sub(r"\D", "", Path(p).parent.parent.name) or 0))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], folder: Path) -> None:
    done = subprocess.run(_as_owner(cmd), capture_output=True, text=True, cwd=folder)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")


def start(folder: Path) -> str:
    """Create and start a cluster in ``folder`` (which must not exist); return its URL
    ``postgresql://geocheck:PASSWORD@127.0.0.1:PORT/geocheck``."""
    pg = bindir()
    if pg is None:
        raise RuntimeError("no PostgreSQL server programs found (apt-get install postgresql "
                           "postgresql-postgis, or set GEOCHECK_PG_BIN)")
    folder = Path(folder)
    folder.mkdir(mode=0o700)
    password = secrets.token_hex(12)
    (folder / "pw").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(folder, RUN_AS)
        shutil.chown(folder / "pw", RUN_AS)
    data = folder / "data"
    _run([str(pg / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(folder / "pw"),
          "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
          "--locale=C.UTF-8"], folder)
    (folder / "pw").unlink()
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
               f"-c unix_socket_directories={folder} -c fsync=off")
    _run([str(pg / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(folder / "log"),
          "-o", options], folder)
    (folder / "port").write_text(str(port))
    psql = [str(pg / "psql"), "-h", str(folder), "-p", str(port), "-U", USER, "-v",
            "ON_ERROR_STOP=1", "-q"]
    _run([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}"], folder)
    _run([*psql, "-d", DATABASE, "-c", "CREATE EXTENSION postgis"], folder)
    return f"postgresql://{USER}:{password}@127.0.0.1:{port}/{DATABASE}"


def stop(folder: Path) -> None:
    """Stop the cluster in ``folder`` and remove the folder."""
    folder = Path(folder)
    pg = bindir()
    if pg is not None and (folder / "data" / "postmaster.pid").exists():
        _run([str(pg / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(folder / "data")],
             folder)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: pgserver.py start|stop FOLDER")
    try:
        if sys.argv[1] == "start":
            print(start(Path(sys.argv[2])))
        else:
            stop(Path(sys.argv[2]))
    except RuntimeError as exc:
        sys.exit(f"pgserver: {exc}")


def load_layers(url: str, schema: str, layers: dict) -> None:
    """Write GeoDataFrames into tables of ``schema`` (created if absent), named by key: an
    integer primary key ``fid`` (1, 2, ...: a GeoPackage's fids), the attributes (int ->
    bigint, float -> double precision, else text) and ``geom`` with the layer's EPSG code as
    its SRID (0 for a layer without CRS), as ogr2ogr would load a GeoPackage."""
    import pandas as pd
    import shapely

    from geocheck.core.database import connect, quote_ident

    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        for name, gdf in layers.items():
            srid = gdf.crs.to_epsg() if gdf.crs is not None else 0
            attrs = [c for c in gdf.columns if c != gdf.geometry.name]
            types = {c: ("bigint" if pd.api.types.is_integer_dtype(gdf[c]) else
                         "double precision" if pd.api.types.is_float_dtype(gdf[c]) else "text")
                     for c in attrs}
            table = f"{quote_ident(schema)}.{quote_ident(name)}"
            cols = "".join(f", {quote_ident(c)} {t}" for c, t in types.items())
            cur.execute(f"CREATE TABLE {table} (fid integer PRIMARY KEY{cols}, "
                        f"geom geometry(Geometry, {srid}))")
            names = ", ".join(["fid", *map(quote_ident, attrs), "geom"])
            marks = ", ".join(["%s"] * (len(attrs) + 1))
            rows = []
            for i, (values, geom) in enumerate(zip(gdf[attrs].itertuples(index=False),
                                                   gdf.geometry, strict=True), start=1):
                cells = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                         for v in values]
                wkb = None if geom is None else shapely.to_wkb(geom)
                rows.append([i, *cells, wkb])
            if rows:
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}, "
                                f"ST_SetSRID(ST_GeomFromWKB(%s), {srid}))", rows)
        conn.commit()
