"""findings.xlsx's rows made a column at a time (geocheck.views.excel.rows): every cell read
back as written, text that looks like markup or carries control characters kept exactly and
never a formula, empty cells empty, numbers and booleans typed, across row blocks."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from geocheck.views.excel import _Book
from geocheck.views.excel import rows as xlsx_rows

ODD = ["<r><t>rich?</t></r>", "a\x01b\x1fc", "_x0041_ stays", "a & b < c > d", " padded ",
       "=SUM(A1)", "-3", "小区 甲", "x" * 40_000]


def write(df: pd.DataFrame, tmp_path, monkeypatch, chunk: int = 2) -> list[tuple]:
    monkeypatch.setattr(xlsx_rows, "CHUNK_ROWS", chunk)  # several blocks even for a few rows
    path = tmp_path / "t.xlsx"
    book = _Book(path)
    book.table("t", df)
    xlsx_rows.close_fast(book.wb)
    ws = load_workbook(path)["t"]
    assert ws.max_row == len(df) + 1 and ws.max_column == df.shape[1]
    return [tuple(c for c in row) for row in ws.iter_rows(min_row=2)]


def test_every_cell_reads_back_as_written(tmp_path, monkeypatch) -> None:
    n = len(ODD)
    df = pd.DataFrame({"text": ODD,
                       "value": [1.5, np.nan, 0.1 + 0.2, -0.0, 1e-7, np.inf, 3, 123456789012, 2],
                       "ok": pd.array([True, False, None, True, True, False, None, True, False],
                                      dtype="boolean"),
                       "maybe": [None, "", "b", "b", None, "c", "=1+1", "b", ""]})
    rows = write(df, tmp_path, monkeypatch, chunk=4)
    assert len(rows) == n
    texts = [r[0].value for r in rows]  # markup-like, _xHHHH_, spaces: as they are
    assert texts[0] == ODD[0] and texts[2:8] == ODD[2:8]
    assert texts[1] == "a_x0001_b_x001F_c" and unescape(texts[1]) == ODD[1]  # Excel's escape
    assert texts[8] == "x" * 32_767  # cut to what a cell holds
    assert all(r[0].data_type == "s" for r in rows)  # text, never a formula
    quoted = [r[0].value for r in rows if r[0].quotePrefix]
    assert quoted == ["=SUM(A1)", "-3"]
    values = [r[1].value for r in rows]
    assert values[0] == 1.5 and values[1] is None
    assert values[2] == 0.3  # 16 significant digits (%.16G), as xlsxwriter writes numbers
    assert values[4] == 1e-7 and values[5] is None and values[6] == 3
    assert values[7] == 123456789012 and values[8] == 2
    assert [r[2].value for r in rows] == [True, False, None, True, True, False, None, True, False]
    assert [r[3].value for r in rows] == [None, None, "b", "b", None, "c", "=1+1", "b", None]
    assert rows[6][3].data_type == "s" and rows[6][3].quotePrefix


def test_rows_land_on_their_own_sheet_rows(tmp_path, monkeypatch) -> None:
    df = pd.DataFrame({"i": np.arange(7), "s": [f"row {k}" for k in range(7)]})
    rows = write(df, tmp_path, monkeypatch, chunk=3)  # blocks of 3, 3 and 1 rows
    assert [(r[0].row, r[0].value, r[1].value) for r in rows] == [
        (k + 2, k, f"row {k}") for k in range(7)]


def test_the_zip_is_deflated_at_the_fast_level(tmp_path, monkeypatch) -> None:
    df = pd.DataFrame({"s": [f"text {k % 10}" for k in range(2000)]})
    write(df, tmp_path, monkeypatch)
    with zipfile.ZipFile(tmp_path / "t.xlsx") as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert z.testzip() is None
        assert info.compress_size < info.file_size / 5
    import xlsxwriter.workbook
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile  # the level was for that call only


def test_parts_deflated_a_block_at_a_time_read_back_whole(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_rows, "ZIP_BLOCK", 4096)  # the sheet's XML over many blocks
    df = pd.DataFrame({"n": range(3000), "s": [f"row {k} 小区" for k in range(3000)]})
    rows = write(df, tmp_path, monkeypatch, chunk=700)
    assert [(r[0].value, r[1].value) for r in rows] == [(k, f"row {k} 小区")
                                                        for k in range(3000)]
    with zipfile.ZipFile(tmp_path / "t.xlsx") as z:
        assert z.testzip() is None
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size > 10 * 4096
    assert xlsx_rows._deflate.__name__ == "isal.isal_zlib"  # ISA-L did the deflating


def test_shared_strings_written_as_xlsxwriter_writes_them(tmp_path) -> None:
    import xlsxwriter
    texts = ["plain 小区", "a & b", "<r><t>rich</t></r>", "x<y", " lead", "trail\t", "\u3000全角",
             "_x0041_", "a_xb", "ctl\x01", "line\nbreak", 'quote "q"', "=1+1", "", "\xa0nb",
             "end\u2003", "nul\x00", "sep\u2028"] + [f"row {k}" for k in range(50)]
    parts = []
    for name, close in (("own", lambda wb: wb.close()), ("fast", xlsx_rows.close_fast)):
        wb = xlsxwriter.Workbook(str(tmp_path / f"{name}.xlsx"))
        ws = wb.add_worksheet()
        for k, t in enumerate(texts):
            ws.write_string(k, 0, t)
        close(wb)
        with zipfile.ZipFile(tmp_path / f"{name}.xlsx") as z:
            parts.append(z.read("xl/sharedStrings.xml"))
    assert parts[0] == parts[1] and b"<si><t>plain \xe5\xb0\x8f\xe5\x8c\xba</t></si>" in parts[1]


def test_rows_size_counts_the_bytes_rows_xml_makes(tmp_path) -> None:
    book = _Book(tmp_path / "t.xlsx")  # never closed: only its formats and strings are used
    df = pd.DataFrame({"t": ["小区", None, "a & b", "=x", ""] * 5,
                       "v": [1.5, np.nan, 2, np.nan, 1e-7] * 5,
                       "e": [None] * 25})
    cells = [book.column(str(c), df[c]).cells for c in df.columns]
    for first in (1, 7, 95, 999_990):  # row numbers of 1 to 7 digits
        made = b"".join(b.to_pybytes() for b in xlsx_rows.rows_xml(cells, first, chunk=4))
        assert xlsx_rows.rows_size(cells, first) == len(made)
        assert made.count(b"<row ") == 25 and made.count(b"<c ") == 15 + 15  # "" and None empty
    assert xlsx_rows.rows_size([], 1) == 0


def test_rows_written_into_the_part_file_without_close_fast(tmp_path, monkeypatch) -> None:
    # made into the zip by close_fast; written into the sheet's part file otherwise
    monkeypatch.setattr(xlsx_rows, "CHUNK_ROWS", 3)
    df = pd.DataFrame({"n": range(8), "s": [None, "b", "小区"] * 2 + ["x", "y"]})
    texts = []
    for name in ("own", "fast"):
        book = _Book(tmp_path / f"{name}.xlsx")
        book.table("t", df)
        book.wb.close() if name == "own" else xlsx_rows.close_fast(book.wb)
        ws = load_workbook(tmp_path / f"{name}.xlsx")["t"]
        texts.append([tuple(c.value for c in row) for row in ws.iter_rows()])
        with zipfile.ZipFile(tmp_path / f"{name}.xlsx") as z:
            texts[-1].append(z.read("xl/worksheets/sheet1.xml"))
    assert texts[0] == texts[1] and texts[1][1] == (0, None) and texts[1][3] == (2, "小区")
