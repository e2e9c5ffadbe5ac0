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


def _table(df: pd.DataFrame) -> pa.Table:
    """A pandas table as Arrow, object columns of mixed types written as text."""
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        mixed = {c: df[c].map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
                 for c in df.columns if df[c].dtype == object}
        return pa.Table.from_pandas(df.assign(**mixed), preserve_index=False)


def write_table_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write a plain (non-spatial) table to ``path`` as Parquet and return the path."""
    pq.write_table(_table(df), path, compression=PARQUET_COMPRESSION)
    return path


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a layer to ``path`` as GeoParquet (geometry as WKB, its CRS in the file's ``geo``
    metadata) and return the path."""
    gdf.to_parquet(path, index=False, compression=PARQUET_COMPRESSION)
    return path
