"""findings.parquet, estates.parquet (GeoParquet) and rejects.parquet, read back with
pyarrow and GeoPandas: the same rows as the CSV tables, types kept, geometry in the working
CRS, and listed in the run's manifest."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import SAMPLE, SHEET

from geocheck.core.errors import GeocheckError
from geocheck.views.tables import estates_with_verdicts
from geocheck.views.text import defuse_formulas
from geocheck.write import DEFAULT_FORMATS, FORMATS, parse_formats, write_outputs


@pytest.fixture(scope="module")
def out(sample, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    written = write_outputs(sample, folder, formats=("csv", "parquet"),
                            inputs=[SAMPLE, SHEET])
    return folder, written


def test_findings_parquet_equals_findings_csv_row_for_row(sample, out) -> None:
    folder, _ = out
    table = pq.read_table(folder / "findings.parquet")
    assert table.num_rows == len(sample.findings) == 12 * 98
    got = table.to_pandas()
    csv = pd.read_csv(folder / "findings.csv", encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert list(got.columns) == list(csv.columns) == list(sample.findings.columns)
    # numbers stay numbers: value and walk_m are floats, not text
    assert str(table.schema.field("value").type) == "double"
    assert np.allclose(got["value"].to_numpy(dtype=float),
                       sample.findings["value"].to_numpy(dtype=float), equal_nan=True)
    assert got["value"].notna().sum() > 0
    # every text column, cell for cell, as the CSV has it (the CSV defuses formula starts)
    for col in ("estate_id", "rule_id", "status", "evidence", "remedy", "citation"):
        shown = defuse_formulas(got[[col]])[col].fillna("").astype(str)
        assert shown.tolist() == csv[col].tolist(), col
    assert (got["status"] == "fail").sum() == (csv["status"] == "fail").sum() == 26


def test_estates_parquet_is_geoparquet_in_the_working_crs(sample, out) -> None:
    folder, _ = out
    est = gpd.read_parquet(folder / "estates.parquet")
    assert est.crs.to_epsg() == 4545 == sample.site.crs.to_epsg()  # metres, not degrees
    meta = json.loads(pq.read_schema(folder / "estates.parquet").metadata[b"geo"])
    assert meta["primary_column"] == "geometry"
    want = estates_with_verdicts(sample)
    assert est["estate_id"].tolist() == want["estate_id"].tolist() and len(est) == 12
    assert est["overall"].tolist() == want["overall"].tolist()
    assert est.geometry.geom_equals_exact(want.geometry.reset_index(drop=True), 1e-6).all()
    assert np.isclose(est.geometry.area.sum(), sample.site.estates.geometry.area.sum())


def test_rejects_parquet_and_the_manifest(sample, out) -> None:
    folder, written = out
    rejects = pd.read_parquet(folder / "rejects.parquet")
    assert len(rejects) == 1 and rejects["layer"].tolist() == ["attributes"]
    assert rejects.fillna("").astype(str).values.tolist() == \
        sample.site.ledger.rejects_frame().fillna("").astype(str).values.tolist()
    manifest = json.loads((folder / "geocheck-run.json").read_text(encoding="utf-8"))
    names = {f["name"] for f in manifest["files"]}
    assert {"findings.parquet", "estates.parquet", "rejects.parquet"} <= names
    assert written["findings_parquet"] == folder / "findings.parquet"


def test_parquet_is_asked_for_by_name() -> None:
    assert "parquet" in FORMATS and "parquet" not in DEFAULT_FORMATS
    assert parse_formats(None) == parse_formats("all") == DEFAULT_FORMATS
    assert parse_formats("all,parquet") == (*DEFAULT_FORMATS, "parquet")
    assert parse_formats("parquet") == ("parquet",)
    with pytest.raises(GeocheckError, match="unknown output format parqet"):
        parse_formats("csv,parqet")


def test_a_table_written_in_chunks_reads_back_as_written_whole(sample, tmp_path) -> None:
    """Chunks of 100 rows (12 row groups of the sample's 1,176 findings) give the same table
    as one chunk; a text column missing in the whole first chunk is still text."""
    from geocheck.views.parquet import write_table_parquet

    df = sample.findings.copy()
    df["note"] = pd.Series([None] * 150 + ["a", 3, 2.5] * 342, dtype=object)
    write_table_parquet(df, tmp_path / "whole.parquet", chunk=len(df))
    write_table_parquet(df, tmp_path / "parts.parquet", chunk=100)
    assert pq.ParquetFile(tmp_path / "parts.parquet").num_row_groups == 12
    whole = pq.read_table(tmp_path / "whole.parquet")
    parts = pq.read_table(tmp_path / "parts.parquet")
    assert str(parts.schema.field("note").type) == "string"
    assert parts.num_rows == len(df) == 1176
    assert parts.to_pandas().equals(whole.to_pandas())
    notes = parts.column("note").to_pylist()
    assert notes[:150] == [None] * 150 and notes[150:153] == ["a", "3", "2.5"]
