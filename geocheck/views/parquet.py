"""The big-run tables as Parquet: findings.parquet, estates.parquet (GeoParquet) and
rejects.parquet.

A run of many thousands of estates has findings tables of millions of rows, which Excel cannot
hold and a CSV file holds only as text. Parquet keeps each column's type (``value`` and
``walk_m`` as 64-bit floats in their ``unit``: metres, 0-1 ratios ...), compresses the
repeated texts (rule titles and citations are dictionary-encoded by Arrow, so the same citation
is stored once per row group, not once per estate) and is read by pandas, GeoPandas, DuckDB,
QGIS (GDAL's Parquet driver) and Arrow.

- ``findings.parquet``: the findings, one row per estate x rule, the columns and rows of
  findings.csv in the same order (:data:`geocheck.rules.result.FINDINGS_COLUMNS`).
- ``estates.parquet``: GeoParquet (``geo`` metadata, version 1.0.0 as written by GeoPandas)
  of the estates with their verdicts, the table of results.gpkg's ``estates`` layer
  (:func:`geocheck.views.tables.estates_with_verdicts`), geometry as WKB in the run's working
  CRS (projected, metres), which the file's metadata names as PROJJSON.
- ``rejects.parquet``: the ledger's rejected features (``layer, feature_id, reason,
  estate_id``), as rejects.csv.

Text is written as it is: unlike the CSV tables (:func:`geocheck.views.text.defuse_formulas`),
a Parquet file is typed data that no spreadsheet evaluates, so no apostrophe is added.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_COMPRESSION = "zstd"
"""Compression of every Parquet file (zstd: small files, read by every current Arrow, DuckDB
and GDAL build)."""


CHUNK_ROWS = 200_000
"""Rows converted to Arrow and written at a time: a province's findings are never held twice,
as pandas and as one Arrow table."""


def _as_text(column: pd.Series) -> pd.Series:
    """An object column as text (None where missing), whatever mix of types it holds."""
    return column.map(lambda v: None if v is None or v is pd.NA or v != v else str(v))


def _schema(df: pd.DataFrame) -> pa.Schema:
    """The file's schema from the whole table's types: object columns are text, so that a
    chunk whose values are all missing does not decide a column's type."""
    objects = [c for c in df.columns if df[c].dtype == object]
    empty = df.iloc[:0].assign(**{c: pd.Series([], dtype="string") for c in objects})
    schema = pa.Schema.from_pandas(empty, preserve_index=False)
    for c in objects:
        schema = schema.set(schema.get_field_index(c), pa.field(c, pa.string()))
    return schema


def write_table_parquet(df: pd.DataFrame, path: Path, chunk: int = CHUNK_ROWS) -> Path:
    """Write a plain (non-spatial) table to ``path`` as Parquet, ``chunk`` rows at a time (one
    row group each), and return the path. Object columns are written as text."""
    schema = _schema(df)
    objects = [c for c in df.columns if df[c].dtype == object]
    with pq.ParquetWriter(path, schema, compression=PARQUET_COMPRESSION) as writer:
        for start in range(0, len(df), chunk):
            part = df.iloc[start:start + chunk]
            part = part.assign(**{c: _as_text(part[c]) for c in objects})
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
        if not len(df):
            writer.write_table(schema.empty_table())
    return path


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a layer to ``path`` as GeoParquet (geometry as WKB, its CRS in the file's ``geo``
    metadata) and return the path."""
    gdf.to_parquet(path, index=False, compression=PARQUET_COMPRESSION)
    return path
