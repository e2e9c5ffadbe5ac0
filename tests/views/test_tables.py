"""The tables written by geocheck.views.tables: a table without geometry in a GeoPackage,
written a block at a time through Arrow (categorical columns as their values, formula-safe
text, empty columns), and the SQLite settings results.gpkg is written under."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pyogrio

from geocheck.views import tables


def test_table_reads_back_across_blocks(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)  # three blocks for five rows
    df = pd.DataFrame({
        "rule": pd.Categorical(["A", "=B", "A", None, "C"]),
        "text": ["x", "+1", None, "小区", "@y"],
        "value": [1.5, np.nan, 3.0, -0.0, 7.25],
        "blank": [None] * 5,
    })
    path = tmp_path / "t.gpkg"
    with tables._sqlite_options():
        tables.write_table_chunks(df, path, "findings")
    back = pyogrio.read_dataframe(path, layer="findings", read_geometry=False)
    assert list(back.columns) == ["rule", "text", "value", "blank"]
    assert back["rule"].tolist()[:3] == ["A", "'=B", "A"] and back["rule"].tolist()[4] == "C"
    assert back["rule"].isna().tolist() == [False, False, False, True, False]
    assert back["text"].tolist()[:2] == ["x", "'+1"] and back["text"].tolist()[3:] == ["小区",
                                                                                        "'@y"]
    assert back["text"].isna().tolist() == [False, False, True, False, False]
    assert back["value"].tolist()[0] == 1.5 and np.isnan(back["value"].tolist()[1])
    assert back["value"].tolist()[2:] == [3.0, 0.0, 7.25]
    assert back["blank"].isna().all() and len(back) == 5


def test_sqlite_options_apply_while_writing_and_are_restored(tmp_path) -> None:
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_CACHE")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": "cache_size=100"})
    try:
        path = tmp_path / "t.gpkg"
        with tables._sqlite_options():
            assert pyogrio.get_gdal_config_option("OGR_SQLITE_JOURNAL") is False  # "OFF"
            tables.write_table_chunks(pd.DataFrame({"a": ["x", "y"]}), path, "t")
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_PRAGMA") == "cache_size=100"
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_JOURNAL") is None
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_CACHE") == before
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": None})
    with sqlite3.connect(path) as db:  # an ordinary, sound file: no journal setting kept
        assert db.execute("pragma page_size").fetchone()[0] == 65536
        assert db.execute("pragma journal_mode").fetchone()[0] == "delete"
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert db.execute("select a from t order by fid").fetchall() == [("x",), ("y",)]


def test_mixed_column_written_as_text(tmp_path) -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "mixed": [7, "x", "=y"]})  # Arrow refuses it
    path = tmp_path / "t.gpkg"
    tables.write_table_chunks(df, path, "t")
    back = pyogrio.read_dataframe(path, layer="t", read_geometry=False)
    assert back["id"].tolist() == ["a", "b", "c"]
    assert back["mixed"].tolist() == ["7", "x", "'=y"]


def test_categorical_columns_written_as_their_values(tmp_path) -> None:
    # text categories go to Arrow's CSV writer and GDAL still encoded, others decoded first:
    # either way the files are those of the plain columns
    plain = pd.DataFrame({"rule": ["A", "=B", None, "小区", "A"], "n": [3, 1, 3, None, 2],
                          "when": pd.to_datetime(["2024-01-02"] * 4 + [None])})
    coded = plain.astype({"rule": "category", "n": "category", "when": "category"})
    assert pd.api.types.is_string_dtype(plain["rule"]) or plain["rule"].dtype == object
    for name, df in (("plain", plain), ("coded", coded)):
        tables.write_csv(df, tmp_path / f"{name}.csv")
        tables.write_table_chunks(df, tmp_path / f"{name}.gpkg", "t")
    assert (tmp_path / "plain.csv").read_bytes() == (tmp_path / "coded.csv").read_bytes()
    back = [pyogrio.read_dataframe(tmp_path / f"{name}.gpkg", layer="t", read_geometry=False)
            for name in ("plain", "coded")]
    assert back[1]["rule"].tolist()[:2] == ["A", "'=B"] and back[1]["rule"].tolist()[3] == "小区"
    pd.testing.assert_frame_equal(back[0], back[1])
