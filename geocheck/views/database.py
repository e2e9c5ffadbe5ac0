"""Write a result into PostGIS (``geocheck check --to-db URL``).

Three tables in the URL's schema (``?schema=``, default ``public``), created when absent, each
with a ``run_id`` column that says which run a row comes from:

- ``geocheck_findings``: every column of the findings table (one row per estate x rule);
- ``geocheck_estates``: ``estate_id``, ``name``, ``pack``, ``overall`` (the estate's worst
  status), ``n_pass``, ``n_fail``, ``n_not_applicable``, ``n_no_data`` and ``geom``, the estate
  in the working CRS with its SRID (``geometry(Geometry, SRID)``);
- ``geocheck_scorecard``: the scorecard, when the pack has standards.

A write is one transaction: the rows of the same run id are deleted and the new ones copied in
(PostgreSQL's ``COPY``, in chunks), then committed; if anything fails the transaction is rolled
back and the database keeps the previous results. Values are stored as they are (no formula
defusing: a database is not a spreadsheet).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import shapely

from ..core.database import (
    DatabaseURL,
    connect,
    error_text,
    quote_ident,
    relations,
    table_columns,
)
from ..core.errors import GeocheckError, OutputError
from ..core.status import COUNT_ORDER
from ..rules.result import Result

__all__ = ["CHUNK_ROWS", "TABLES", "DatabaseWrite", "default_run_id", "write_database"]

TABLES = ("geocheck_findings", "geocheck_estates", "geocheck_scorecard")
CHUNK_ROWS = 50_000
"""Rows sent in one ``COPY``: bounds the text held in memory at once."""


@dataclass
class DatabaseWrite:
    """What :func:`write_database` wrote: the URL as shown (no password), the schema, the
    run id, and rows per table."""

    shown: str
    schema: str
    run_id: str
    rows: dict[str, int]

    def line(self) -> str:
        """One line for the terminal."""
        counts = ", ".join(f"{t} {n:,}" for t, n in self.rows.items())
        return f"{self.shown}: run {self.run_id!r} written ({counts})"


def default_run_id(source: object, pack_id: str) -> str:
    """The run id when none is given: the input's name and the pack, ``"NAME:PACK"`` (a
    GeoPackage's or project file's name, a database's ``database.schema``), so that checking
    the same input with the same pack again replaces its rows."""
    name = getattr(source, "name", None) or Path(str(source)).name
    return f"{name}:{pack_id}"


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double precision"
    return "text"


def _arrow_column(series: pd.Series) -> pa.Array:
    """A column for Arrow: numbers and booleans as they are (NaN as null), the rest as text."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return pa.array(series, from_pandas=True)
    return pa.array(series.astype("string"), type=pa.string(), from_pandas=True)


def _chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    """The frame as CSV for ``COPY ... (FORMAT csv)``, :data:`CHUNK_ROWS` rows at a time,
    written by Arrow: every value quoted, a missing one left empty and unquoted, which
    PostgreSQL reads as NULL (an empty text stays an empty text)."""
    table = pa.table({c: _arrow_column(frame[c]) for c in frame.columns})
    options = pcsv.WriteOptions(include_header=False, quoting_style="all_valid")
    for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
        sink = io.BytesIO()
        pcsv.write_csv(pa.Table.from_batches([batch]), sink, options)
        yield sink.getvalue()


def _copy_chunk(cur: Any, sql: str, data: bytes) -> None:
    """Send one chunk of rows (a separate function so a test can make it fail)."""
    cur.execute(sql, stream=io.BytesIO(data))


def _estates_frame(result: Result, srid: int) -> pd.DataFrame:
    est = result.site.estates
    findings = result.findings
    counts = (findings.groupby(["estate_id", "status"], sort=False).size()
              .unstack(fill_value=0))
    frame = pd.DataFrame({"estate_id": est["estate_id"].to_numpy(dtype=object),
                          "name": est["name"].to_numpy(dtype=object),
                          "pack": result.pack.id})
    frame["overall"] = frame["estate_id"].map(result.overall()).astype(object)
    for status in COUNT_ORDER:
        got = counts[status.value] if status.value in counts else pd.Series(dtype="int64")
        frame[f"n_{status.value}"] = frame["estate_id"].map(got).fillna(0).astype("int64")
    geoms = shapely.set_srid(est.geometry.to_numpy(), srid)
    wkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    frame["geom"] = pd.Series(wkb, dtype=object).where(~shapely.is_missing(geoms), None)
    return frame


def _schema(cur: Any, schema: str) -> None:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:
        cur.execute(f"CREATE SCHEMA {quote_ident(schema)}")


def _table(cur: Any, schema: str, name: str, columns: dict[str, str]) -> str:
    """Create the table (or add the columns it lacks); return its qualified name."""
    qualified = f"{quote_ident(schema)}.{quote_ident(name)}"
    cols = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns.items())
    cur.execute(f"CREATE TABLE IF NOT EXISTS {qualified} ({cols})")
    have = {c.name for c in table_columns(cur, relations(cur, schema)[name])}
    for c, t in columns.items():
        if c not in have:
            cur.execute(f"ALTER TABLE {qualified} ADD COLUMN {quote_ident(c)} {t}")
    cur.execute(f"CREATE INDEX IF NOT EXISTS {quote_ident(name + '_run_id')} ON {qualified} "
                "(run_id)")
    return qualified


def _exists(cur: Any, schema: str, name: str) -> bool:
    return name in relations(cur, schema)


def _frames(result: Result, run_id: str, srid: int) -> dict[str, pd.DataFrame]:
    frames = {"geocheck_findings": result.findings,
              "geocheck_estates": _estates_frame(result, srid)}
    if result.scorecard is not None:
        frames["geocheck_scorecard"] = result.scorecard
    return {name: pd.concat([pd.DataFrame({"run_id": np.full(len(f), run_id, dtype=object)}),
                             f.reset_index(drop=True)], axis=1)
            for name, f in frames.items()}


def write_database(result: Result, url: str, run_id: str) -> DatabaseWrite:
    """Write the result's findings, estates and scorecard into the database at ``url``,
    replacing the rows of ``run_id``, in one transaction.

    Raises
    ------
    OutputError
        One line with the URL without its password: the connection or the write failed; the
        database then keeps its previous results (the transaction is rolled back).
    """
    if not run_id.strip():
        raise OutputError("--run-id is empty")
    db = DatabaseURL.parse(url)
    srid = result.site.crs.to_epsg() or 0
    frames = _frames(result, run_id, srid)
    try:
        with connect(db) as conn:
            try:
                rows = _write(conn.cursor(), db.schema, frames, run_id, srid)
                conn.commit()
            except Exception as exc:  # pg8000 or anything else: roll back, keep the old rows
                with suppress(Exception):  # a dead connection rolls back on the server
                    conn.rollback()
                raise OutputError(f"{db.shown}: writing run {run_id!r} failed, the database "
                                  f"keeps its previous results ({db.hide(error_text(exc))})"
                                  ) from None
    except OutputError:
        raise
    except GeocheckError as exc:  # the connection failed
        raise OutputError(str(exc)) from None
    return DatabaseWrite(db.shown, db.schema, run_id, rows)


def _write(cur: Any, schema: str, frames: dict[str, pd.DataFrame], run_id: str, srid: int
           ) -> dict[str, int]:
    """Delete the run's rows and copy the new ones in (inside the caller's transaction)."""
    _schema(cur, schema)
    rows: dict[str, int] = {}
    for name in TABLES:
        if name not in frames:
            if _exists(cur, schema, name):  # a previous run of this id had a scorecard
                cur.execute(f"DELETE FROM {quote_ident(schema)}.{quote_ident(name)} "
                            "WHERE run_id = %s", (run_id,))
            continue
        frame = frames[name]
        types = {c: _sql_type(frame[c]) for c in frame.columns}
        if name == "geocheck_estates":
            types["geom"] = f"geometry(Geometry, {srid})"
        qualified = _table(cur, schema, name, types)
        cur.execute(f"DELETE FROM {qualified} WHERE run_id = %s", (run_id,))
        sql = (f"COPY {qualified} ({', '.join(quote_ident(c) for c in frame.columns)}) "
               "FROM STDIN WITH (FORMAT csv)")
        for data in _chunks(frame):
            _copy_chunk(cur, sql, data)
        rows[name] = len(frame)
    return rows
