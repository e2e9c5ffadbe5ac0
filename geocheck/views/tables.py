"""The tables of a result as files: CSV (findings, rejects, scorecard, summary, progress) and
results.gpkg (estates with their verdicts, the evidence layers, the findings and the rejects).

Text cells are written so that no spreadsheet reads them as formulas
(:func:`geocheck.views.text.defuse_formulas`); the GeoPackage's QGIS styles are added by
:mod:`geocheck.views.qgis_styles`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyogrio

from ..rules.result import Result
from .text import defuse_formulas

CHUNK_ROWS = 200_000
"""Rows written at a time to a CSV file or a GeoPackage table: a province's findings are never
copied whole to be made safe and converted."""


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 with a byte-order mark (so Excel reads Chinese text right).

    Written with Arrow's CSV writer (some 30x faster than pandas on a city's findings),
    :data:`CHUNK_ROWS` rows at a time; a table Arrow cannot convert (mixed types in a column)
    falls back to pandas.
    """
    try:
        with open(path, "wb") as fh:
            fh.write(b"\xef\xbb\xbf")
            writer, schema = None, None
            for start in range(0, max(len(df), 1), CHUNK_ROWS):
                table = _arrow(defuse_formulas(df.iloc[start:start + CHUNK_ROWS]))
                if writer is None:
                    schema = pa.schema([f.with_type(pa.string()) if f.type == pa.null() else f
                                        for f in table.schema])
                    writer = pcsv.CSVWriter(fh, schema,
                                            write_options=pcsv.WriteOptions(quoting_style="needed"))
                writer.write_table(table.cast(schema))
            if writer is not None:
                writer.close()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        defuse_formulas(df).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _arrow(df: pd.DataFrame) -> pa.Table:
    """A chunk of a table as Arrow. Dictionary-encoded (categorical) columns of text stay
    encoded: Arrow's CSV writer and GDAL write their values as they would the decoded column
    (the text of each row), without a copy of every row's text first. Other dictionaries
    (numbers, dates ...) are decoded to their values by Arrow. A column of mixed types raises
    ``ArrowInvalid`` or ``ArrowTypeError`` as it would as Python objects."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, col in enumerate(table.columns):
        if pa.types.is_dictionary(col.type) and not _is_text(col.type.value_type):
            table = table.set_column(i, table.field(i).with_type(col.type.value_type),
                                     col.cast(col.type.value_type))
    return table


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def write_table_chunks(df: pd.DataFrame, path: Path, layer: str) -> None:
    """Write a table without geometry into a GeoPackage, :data:`CHUNK_ROWS` rows at a time,
    its text made formula-safe (categorical columns written as their values). Converted by
    Arrow; a block Arrow cannot convert (mixed types in a column) is written by pyogrio's
    ``write_dataframe``, which writes such a column as text."""
    for start in range(0, max(len(df), 1), CHUNK_ROWS):
        chunk = defuse_formulas(df.iloc[start:start + CHUNK_ROWS])
        try:
            table = _arrow(chunk)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            chunk = chunk.assign(**{c: chunk[c].astype(object) for c in chunk.columns
                                    if isinstance(chunk[c].dtype, pd.CategoricalDtype)})
            pyogrio.write_dataframe(chunk, path, layer=layer, driver="GPKG", use_arrow=True,
                                    append=start > 0)
            continue
        for i, f in enumerate(table.schema):
            if f.type == pa.null():  # GDAL has no null type: an empty text column
                table = table.set_column(i, f.with_type(pa.string()),
                                         table.column(i).cast(pa.string()))
        pyogrio.write_arrow(table, path, layer=layer, driver="GPKG", append=start > 0)


SQLITE_OPTIONS = {"OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_SYNCHRONOUS": "OFF",
                  "OGR_SQLITE_PRAGMA": "page_size=65536"}
"""GDAL settings while results.gpkg is written: no rollback journal, no sync to disk at each
transaction, 64 KiB pages (SQLite's largest; a findings table of long text rows fills fewer
pages). Safe because the run writes the file under a temporary name, puts it in place only
when it is complete and syncs it to disk then (:mod:`geocheck.outdir`); a write that fails
leaves an unusable file that is discarded, as a half-written one was before. Took the
findings layer of a 3,000-estate city from about 2.2 s CPU to 1.6 s."""


@contextmanager
def _sqlite_options() -> Iterator[None]:
    """:data:`SQLITE_OPTIONS` set for the duration, the previous values restored after."""
    before = {k: pyogrio.get_gdal_config_option(k) for k in SQLITE_OPTIONS}
    pyogrio.set_gdal_config_options(SQLITE_OPTIONS)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def estates_with_verdicts(result: Result) -> gpd.GeoDataFrame:
    """Estates with their overall status and one status column per rule."""
    est = result.site.estates[["estate_id", "name", "households", "households_estimated", "built",
                               "geometry"]].copy()
    wide = result.findings.pivot(index="estate_id", columns="rule_id", values="status")
    ids = [r.id for r in result.pack.rules]
    wide = wide[ids]
    est["overall"] = est["estate_id"].map(result.overall())
    rules = wide.reindex(est["estate_id"].to_numpy())  # one column per rule, as est's rows
    rules.columns, rules.index = ids, est.index
    est = est.join(rules)
    counts = result.findings.groupby(["estate_id", "status"]).size().unstack(fill_value=0)
    for status in ("pass", "fail", "not_applicable", "no_data"):
        est[f"n_{status}"] = est["estate_id"].map(
            counts[status] if status in counts else pd.Series(dtype=int)).fillna(0).astype(int)
    est["pack"] = result.pack.id
    for table, cols in ((result.declaration, ["compliance_rate", "eligible",
                                               "blocking_requirements", "verdict",
                                               "verdict_zh"]),
                        (result.scores, ["total", "stars", "rating", "rating_zh"])):
        if table is not None:
            for col in cols:
                est[col] = est["estate_id"].map(table.set_index("estate_id")[col])
    return est


def write_gpkg(result: Result, path: Path) -> Path:
    """Write results.gpkg: ``estates`` with verdicts, evidence layers, walking catchments,
    ``findings``, ``rejects``.

    Evidence layers: ``evidence_lines`` (estate to the facility that decided a distance rule),
    ``walk_routes`` (the walking route beside a straight line), ``uncovered_buildings``,
    ``too_close_points``; ``walk_catchments`` (with a paths layer: per facility layer and
    band, the paths within that walk, buffered; columns ``role``, ``band_m``). All in the
    working CRS. Unstyled: :func:`geocheck.views.qgis_styles.write_layer_styles` gives the
    layers QGIS default styles.
    """
    if path.exists():
        path.unlink()
    est = estates_with_verdicts(result)
    with _sqlite_options():
        pyogrio.write_dataframe(est, path, layer="estates", driver="GPKG", use_arrow=True)
        ev = result.evidence
        for layer in ("evidence_lines", "walk_routes", "uncovered_buildings",
                      "too_close_points"):
            part = ev[ev["layer"] == layer].drop(columns="layer")
            if len(part):
                pyogrio.write_dataframe(part, path, layer=layer, driver="GPKG", use_arrow=True)
        catchments = result.walk_catchments
        if len(catchments):
            pyogrio.write_dataframe(catchments, path, layer="walk_catchments", driver="GPKG",
                                    use_arrow=True)
        write_table_chunks(result.findings, path, "findings")
        rejects = result.site.ledger.rejects_frame()
        if len(rejects):
            pyogrio.write_dataframe(rejects, path, layer="rejects", driver="GPKG",
                                    use_arrow=True)
    return path




PROPOSAL_LAYERS = ("garbage_points", "points_to_move", "unserved_buildings")
"""The layers of proposals.gpkg, always all written (empty when there is nothing to say)."""


def write_proposals(result: Result, path: Path) -> Path:
    """Write proposals.gpkg (see :func:`geocheck.rules.proposals.propose`), in the working CRS:
    ``garbage_points`` (new sites: ``estate_id``, ``covers`` the residential buildings each
    serves, ``why`` new / move, ``method``, ``gap``), ``points_to_move`` (existing points
    closer than the setback to a building) and ``unserved_buildings`` (buildings no site
    can serve). A layer with nothing in it is written empty, so the file always has all
    three."""
    if path.exists():
        path.unlink()
    p = result.proposals
    for name, gdf in zip(PROPOSAL_LAYERS, (p.points, p.moves, p.unserved), strict=True):
        pyogrio.write_dataframe(defuse_formulas(gdf), path, layer=name, driver="GPKG",
                                geometry_type="MultiPolygon" if name == "unserved_buildings"
                                else "Point", promote_to_multi=name == "unserved_buildings")
    return path
