"""The attributes sheet's workbook reader on hand-built workbooks: formulas with and without a
computed value, merged cells, DTDs and the limits checked before parsing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from helpers import text_cell, xlsx_by_hand
from openpyxl import Workbook

from geocheck import InputError
from geocheck.core.indicators import ID_HEADER, Attribute
from geocheck.inputs import xlsx, xlsx_parts
from geocheck.inputs.attributes import read_sheet

ATTRS = [Attribute("office", "设立管理机构", "office set up", "yesno", standard="S1"),
         Attribute("disclosure", "实行公开制度", "disclosure", "yesno", standard="S2"),
         Attribute("staff", "专职工作人员", "full-time staff", "count", unit="人", standard="S3")]
HEADERS = [ID_HEADER, *(a.header for a in ATTRS)]
HEAD_ROW = '<row r="1">' + "".join(text_cell(f"{c}1", h) for c, h in zip("ABCD", HEADERS,
                                                                        strict=True)) + "</row>"


def _values(sheet) -> dict[str, list]:
    t = sheet.table.set_index("estate_id")
    return {eid: [t.at[eid, k] for k in ("office", "disclosure", "staff")] for eid in t.index}


def test_formula_with_a_computed_value_reads_that_value_and_says_so(tmp_path: Path) -> None:
    # what Excel saves: the formula and the value it computed
    path = xlsx_by_hand(tmp_path / "f.xlsx", HEAD_ROW + (
        f'<row r="2">{text_cell("A2", "E1")}<c r="B2" t="str"><f>IF(D2&gt;5,"是","否")</f>'
        '<v>是</v></c><c r="D2"><f>3+4</f><v>7</v></c></row>'))
    sheet = read_sheet(path, ATTRS)
    assert _values(sheet) == {"E1": ["是", None, 7]}
    assert any(n.endswith("2 cells are formulas; their computed values were used")
               for n in sheet.notes)


def test_formula_without_a_computed_value_is_neither_blank_nor_zero(tmp_path: Path) -> None:
    book = Workbook()  # openpyxl writes a formula with an empty <v/>
    book.active.append(HEADERS)
    book.active.append(["E1", '=IF(1,"是","否")', None, "=3+4"])
    book.save(tmp_path / "o.xlsx")
    sheet = read_sheet(tmp_path / "o.xlsx", ATTRS)
    assert _values(sheet) == {"E1": [xlsx.UNCOMPUTED, None, xlsx.UNCOMPUTED]}
    assert any("2 cells are formulas without a computed value (B2, D2); they are no data"
               in n for n in sheet.notes)
    # XlsxWriter writes 0 as a placeholder and asks Excel to compute on opening
    book = xlsxwriter.Workbook(tmp_path / "x.xlsx")
    ws = book.add_worksheet()
    ws.write_row(0, 0, HEADERS)
    ws.write_row(1, 0, ["E2", "否"])
    ws.write_formula(1, 3, "=3+4")
    book.close()
    sheet = read_sheet(tmp_path / "x.xlsx", ATTRS)
    assert _values(sheet) == {"E2": ["否", None, xlsx.UNCOMPUTED]}
    assert any("fullCalcOnLoad" in n for n in sheet.notes)


def test_merged_cells_apply_to_every_row_and_column_they_span(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for eid in ("E1", "E2", "E3", "E4"):
        ws.append([eid])
    ws["B2"] = "是"
    ws.merge_cells("B2:C4")  # office and disclosure of E1-E3
    ws["D3"] = 8
    ws.merge_cells("D3:D5")  # staff of E2-E4
    book.save(tmp_path / "m.xlsx")
    sheet = read_sheet(tmp_path / "m.xlsx", ATTRS)
    assert _values(sheet) == {"E1": ["是", "是", None], "E2": ["是", "是", 8],
                              "E3": ["是", "是", 8], "E4": [None, None, 8]}
    assert any(n.endswith("merged cells in rows 2-4, 3-5 applied to each row they span")
               for n in sheet.notes)


BILLION_LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">'
                            for a, b in zip("abcdefgh", "bcdefghi", strict=True)) + "]>")
XXE = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(("prolog", "cell"), [(BILLION_LAUGHS, "&i;"), (XXE, "&x;")])
def test_a_part_declaring_a_dtd_is_refused(tmp_path: Path, prolog: str, cell: str) -> None:
    path = xlsx_by_hand(tmp_path / "dtd.xlsx", HEAD_ROW + f'<row r="2">{text_cell("A2", "E1")}'
                        f'{text_cell("B2", cell)}</row>', prolog=prolog)
    with pytest.raises(InputError, match=r"dtd\.xlsx: part xl/worksheets/sheet1\.xml declares "
                                         r"a DTD \(<!DOCTYPE>\), which a workbook never does"):
        read_sheet(path, ATTRS)


def test_compression_ratio_is_checked_before_parsing(tmp_path: Path) -> None:
    # 8 MB of identical rows zip to about 20 KB: some 400:1
    path = xlsx_by_hand(tmp_path / "bomb.xlsx", HEAD_ROW + "<row><c><v>1</v></c></row>" * 300_000)
    with zipfile.ZipFile(path) as book:
        info = book.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 300
    with pytest.raises(InputError, match=r"bomb\.xlsx: part xl/worksheets/sheet1\.xml would "
                                         r"unzip \d+ times its size \(8 MB\), over the limit "
                                         r"of 100:1 \(MAX_COMPRESSION_RATIO\)"):
        read_sheet(path, ATTRS)


def test_unzipped_size_rows_and_columns_have_limits(tmp_path: Path, monkeypatch) -> None:
    rows = "".join(f'<row r="{r}">{text_cell(f"A{r}", f"E{r}")}<c r="D{r}"><v>{r}</v></c></row>'
                   for r in range(2, 13))  # 11 rows of data, about 1 KB
    path = xlsx_by_hand(tmp_path / "big.xlsx", HEAD_ROW + rows)
    assert len(read_sheet(path, ATTRS).table) == 11
    monkeypatch.setattr(xlsx, "MAX_ROWS", 10)
    with pytest.raises(InputError, match=r"big\.xlsx: more than 10 rows of data, over the "
                                         r"limit \(MAX_ROWS\)"):
        read_sheet(path, ATTRS)
    monkeypatch.setattr(xlsx_parts, "MAX_UNCOMPRESSED_BYTES", 1_000)
    with pytest.raises(InputError, match=r"big\.xlsx: the workbook unzips to [\d,]+ bytes, over "
                                         r"the limit of 1,000 bytes \(MAX_UNCOMPRESSED_BYTES\)"):
        read_sheet(path, ATTRS)
    monkeypatch.undo()
    wide = '<row r="1">' + "".join(text_cell(f"{xlsx.column_letters(c)}1", f"h{c}")
                                   for c in range(1, 2_003)) + "</row>"
    with pytest.raises(InputError, match=r"wide\.xlsx: 2,002 headed columns, over the limit "
                                         r"of 2,000 \(MAX_COLUMNS\)"):
        read_sheet(xlsx_by_hand(tmp_path / "wide.xlsx", wide), ATTRS)


def test_a_corrupt_sheet_is_one_clear_error(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}">{text_cell(f"A{r}", f"E{r}")}<c r="D{r}"><v>{r}</v></c></row>'
                   for r in range(2, 200))
    path = xlsx_by_hand(tmp_path / "c.xlsx", HEAD_ROW + rows)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 5:start + 40] = bytes(b ^ 0x5A for b in data[start + 5:start + 40])
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"c\.xlsx: part xl/worksheets/sheet1\.xml cannot be "
                                         r"read \(Error -3 while decompressing data"):
        read_sheet(path, ATTRS)
