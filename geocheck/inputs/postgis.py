"""Read role layers from PostGIS, as :mod:`geocheck.inputs.read` reads them from a GeoPackage.

``geocheck check postgresql://user@host/db?schema=plan`` reads the tables of schema ``plan``
named by role (``estates``, ``buildings``, ``bus_stops`` ...); a project file can name one
table per role (``path = "postgresql://..."``, ``table = "schema.table"``). Each table is read
in one query through pg8000: its geometry as WKB (``ST_AsBinary``, curves linearised by
PostGIS as GDAL does for files) parsed by shapely in one vectorised call, its SRID as the
layer's CRS, its integer primary key as the feature id. Nothing is judged here: the layers go
through :func:`geocheck.inputs.normalise.normalise` like a file's (rejects, ledger ...).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..core.database import (
    Column,
    DatabaseSource,
    DatabaseURL,
    connect,
    error_text,
    quote_ident,
    relations,
    table_columns,
)
from ..core.errors import CRSError, InputError
from ..core.roles import ROLES
from .read import ARC_STEP_DEGREES, SOURCES_TABLE, RawLayers

__all__ = ["read_postgis", "read_postgis_table", "split_table"]

_NATIVE = {"smallint", "integer", "bigint", "real", "double precision", "boolean", "text",
           "character varying", "character", "name"}
"""Column types read as they are; ``numeric`` is read as double precision, the rest as
text."""
_INTEGER = {"smallint", "integer", "bigint"}
OUTPUT_PREFIX = "geocheck_"
"""Tables geocheck writes (:mod:`geocheck.views.database`): never read as input."""


def split_table(text: str, default_schema: str) -> tuple[str, str]:
    """``"plan.estates"`` -> ``("plan", "estates")``; ``"estates"`` -> the default schema's."""
    schema, dot, table = text.partition(".")
    return (schema, table) if dot else (default_schema, schema)


def _q(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _crs(cur: Any, srid: int, where: str) -> CRS | None:
    """The CRS of a PostGIS SRID (None for 0, no SRID), from ``spatial_ref_sys``."""
    if srid == 0:
        return None
    cur.execute("SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s",
                (srid,))
    row = cur.fetchone()
    if row is None:
        raise CRSError(f"{where}: SRID {srid} is not in spatial_ref_sys")
    auth, code, wkt = row
    try:
        return CRS.from_epsg(code) if str(auth).upper() == "EPSG" else CRS.from_wkt(wkt)
    except Exception:  # pyproj raises CRSError and others for a definition it cannot read
        raise CRSError(f"{where}: SRID {srid} ({auth}:{code}) is not a CRS pyproj "
                       "knows") from None


def _geometry_column(cols: list[Column], where: str) -> tuple[str, int]:
    """The table's geometry column and its declared SRID (0 when not declared)."""
    found = sorted((c for c in cols if c.type == "geometry"), key=lambda c: c.name)
    if len(found) == 1:
        return found[0].name, found[0].srid
    if found:
        raise InputError(f"{where}: has {len(found)} geometry columns "
                         f"({', '.join(c.name for c in found)}); give geocheck a view "
                         "with one")
    raise InputError(f"{where}: has no PostGIS geometry column")


def _primary_key(cur: Any, oid: int, cols: list[Column]) -> str | None:
    """The table's primary key column when it is one integer column, else None."""
    cur.execute("SELECT a.attname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s AND i.indisprimary", (oid,))
    keys = [str(r[0]) for r in cur.fetchall()]
    kinds = {c.name: c.type for c in cols}
    return keys[0] if len(keys) == 1 and kinds.get(keys[0]) in _INTEGER else None


def _srid(cur: Any, declared: int, source: str, geom: str, where: str) -> int:
    """The SRID of the layer: the declared one, else the one its geometries share."""
    if declared:
        return declared
    cur.execute(f"SELECT DISTINCT ST_SRID({geom}) FROM {source} WHERE {geom} IS NOT NULL "
                "LIMIT 3")
    srids = sorted(int(r[0]) for r in cur.fetchall())
    if len(srids) > 1:
        raise CRSError(f"{where}: geometries of several SRIDs ({', '.join(map(str, srids))}); "
                       "geocheck reads one CRS per layer: transform them in a view")
    return srids[0] if srids else 0


def _read(cur: Any, schema: str, table: str, oid: int | None,
          where: str) -> tuple[gpd.GeoDataFrame, str]:
    """One table as a GeoDataFrame in its SRID's CRS with ``_fid``; and a note on curves."""
    if oid is None:
        raise InputError(f"{where}: no such table or view")
    cols = table_columns(cur, oid)
    geom_col, declared = _geometry_column(cols, where)
    source, geom = _q(schema, table), quote_ident(geom_col)
    fid = _primary_key(cur, oid, cols)
    fields = [(c.name, c.type) for c in cols
                if c.name not in (geom_col, fid) and c.builtin]
    crs = _crs(cur, _srid(cur, declared, source, geom, where), where)
    select = [quote_ident(fid) if fid else "row_number() OVER ()"]
    for name, kind in fields:
        cast = "" if kind in _NATIVE else "::float8" if kind == "numeric" else "::text"
        select.append(quote_ident(name) + cast)
    linear = f"ST_CurveToLine({geom}, radians({ARC_STEP_DEGREES}), 2, 0)"
    select += [f"ST_AsBinary(CASE WHEN ST_HasArc({geom}) THEN {linear} ELSE {geom} END)",
               f"coalesce(ST_HasArc({geom}), false)"]
    cur.execute(f"SELECT {', '.join(select)} FROM {source}"
                + (f" ORDER BY {quote_ident(fid)}" if fid else ""))
    rows = cur.fetchall()
    got = list(zip(*rows, strict=True)) if rows else [()] * (len(fields) + 3)
    data = {name: _column(values) for (name, _), values in zip(fields, got[1:-2],
                                                               strict=True)}
    wkb = np.array([None if w is None else bytes(w) for w in got[-2]], dtype=object)
    try:
        geoms = shapely.from_wkb(wkb)
    except Exception as exc:  # GEOS raises for WKB it cannot read
        raise InputError(f"{where}: a geometry cannot be read ({exc})") from None
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    gdf["_fid"] = np.asarray(got[0], dtype="int64")
    curved = int(np.sum(np.asarray(got[-1], dtype=bool)))
    note = (f"{where}: {curved} curved feature(s) linearised, arcs approximated by a segment "
            f"every {ARC_STEP_DEGREES:g} degree") if curved else ""
    return gdf, note


def _column(values: tuple) -> pd.Series:
    """A column of fetched values; numbers PostgreSQL sent as Decimal become floats."""
    series = pd.Series(values, dtype=object)
    if any(isinstance(v, Decimal) for v in values):
        return pd.to_numeric(series)
    return pd.Series(list(values)) if len(values) else series


def _transaction(cur: Any) -> None:
    """Read every table from one snapshot, never writing."""
    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _fail(db: DatabaseURL, exc: Exception) -> InputError:
    return InputError(f"{db.shown}: reading failed ({db.hide(error_text(exc))})")


def read_postgis_table(url: str, table: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read one table (``"schema.table"``, or a table of the URL's schema) with its CRS.

    Returns
    -------
    The layer (source fields kept, ``_fid`` the integer primary key or the row number) in the
    CRS of its SRID (None for SRID 0), and notes (curves linearised).
    """
    db = DatabaseURL.parse(url)
    schema, name = split_table(table, db.schema)
    where = f"{db.shown}: table {schema}.{name}"
    with connect(db) as conn:
        cur = conn.cursor()
        try:
            _transaction(cur)
            gdf, note = _read(cur, schema, name, relations(cur, schema).get(name), where)
        except InputError:
            raise
        except Exception as exc:  # pg8000 raises DatabaseError, InterfaceError ...
            raise _fail(db, exc) from None
    return gdf, [note] if note else []


def read_postgis(url: str) -> RawLayers:
    """Read every role table of the URL's schema (``?schema=``, default ``public``).

    Tables named ``geocheck_*`` (geocheck's own results) are never read; other tables with a
    geometry column that are not a role are listed as ignored, with their row counts.

    Raises
    ------
    InputError
        The connection fails, the schema has no table ``estates``, a table has no (or several)
        geometry columns or mixed SRIDs; the message shows the URL without its password.
    """
    db = DatabaseURL.parse(url)
    layers: dict[str, gpd.GeoDataFrame] = {}
    ignored: dict[str, int] = {}
    notes: list[str] = []
    sources = pd.DataFrame()
    with connect(db) as conn:
        cur = conn.cursor()
        try:
            _transaction(cur)
            oids = relations(cur, db.schema)
            tables = list(oids)
            for name, oid in oids.items():
                where = f"{db.shown}: table {db.schema}.{name}"
                if name in ROLES:
                    layers[name], note = _read(cur, db.schema, name, oid, where)
                    notes += [note] if note else []
                elif name == SOURCES_TABLE:
                    cur.execute(f"SELECT * FROM {_q(db.schema, name)}")
                    heads = [d[0] for d in cur.description]
                    sources = pd.DataFrame(cur.fetchall(), columns=heads).astype(str)
                elif (not name.startswith(OUTPUT_PREFIX)
                      and any(c.type == "geometry" for c in table_columns(cur, oid))):
                    cur.execute(f"SELECT count(*) FROM {_q(db.schema, name)}")
                    ignored[name] = int(cur.fetchone()[0])
        except InputError:
            raise
        except Exception as exc:  # pg8000 raises DatabaseError, InterfaceError ...
            raise _fail(db, exc) from None
    if not tables:
        raise InputError(f"{db.shown}: schema {db.schema!r} has no tables (is it the right "
                         "database and schema? choose the schema with ?schema=NAME)")
    if "estates" not in layers:
        raise InputError(f"{db.shown}: schema {db.schema!r} has no table named 'estates' "
                         f"(tables found: {', '.join(tables)}); name each role's table in a "
                         "project file (path = \"postgresql://...\", table = \"schema.table\")")
    return RawLayers(DatabaseSource(url), layers, ignored, sources, notes=notes)  # type: ignore[arg-type]
