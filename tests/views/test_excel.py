"""findings.xlsx, read back with openpyxl: sheets, frozen headers, filters, verdict colours,
numbers kept as numbers, and no text from the data ever becoming a formula."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import SAMPLE, estate, rect
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape

import geocheck
from geocheck.views import excel
from geocheck.views.excel import write_xlsx

SHEETS = ["汇总 summary", "标准 scorecard", "结果 findings", "剔除 rejects", "说明 about"]
# STATUS_COLOURS mixed with 75 % white, by hand: pass #1a9850 -> (26 + 229 x .75, 152 + 103 x
# .75, 80 + 175 x .75) = (198, 229, 211) = C6E5D3; fail #d73027 -> (245, 203, 201) = F5CBC9;
# no data #969696 -> (229, 229, 229); not applicable #4575b4 -> (208, 220, 236) = D0DCEC.
FILL = {"pass": "FFC6E5D3", "fail": "FFF5CBC9", "no_data": "FFE5E5E5",
        "not_applicable": "FFD0DCEC"}
HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1"]


@pytest.fixture(scope="module")
def book(sample, tmp_path_factory):
    path = write_xlsx(sample, tmp_path_factory.mktemp("xlsx") / "findings.xlsx")
    return load_workbook(path)


def rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def rules_by_range(ws) -> dict[str, list[tuple]]:
    """sqref -> [(type, operator, formula, fill colour)] in priority order."""
    out = {}
    for cf in ws.conditional_formatting:
        ordered = sorted(cf.rules, key=lambda r: r.priority)
        out[str(cf.sqref)] = [(r.type, r.operator, r.formula, r.dxf.fill.bgColor.rgb)
                              for r in ordered]
    return out


def test_sheets_headers_frozen_and_filtered(book, sample) -> None:
    assert book.sheetnames == SHEETS
    tables = {"汇总 summary": sample.declaration, "标准 scorecard": sample.scorecard,
              "结果 findings": sample.findings,
              "剔除 rejects": sample.site.ledger.rejects_frame()}
    for name, df in tables.items():
        ws = book[name]
        assert header(ws) == list(df.columns)
        assert all(c.font.b for c in ws[1])
        assert ws.max_row == len(df) + 1
        last = get_column_letter(len(df.columns))
        assert ws.auto_filter.ref == f"A1:{last}{len(df) + 1}"
        # estate sheets keep estate_id and estate_name in view; rejects only its header
        assert ws.freeze_panes == ("A2" if name == "剔除 rejects" else "C2")
    # the sample's attributes sheet names an estate the layers lack: one reject
    assert rows(book["剔除 rejects"])[1] == ("attributes", "NN-099",
                                           "row 13: no estate NN-099 in the estates layer",
                                           None)  # a sheet row bears on no estate's layers


def test_findings_values_match_the_table(book, sample) -> None:
    f = sample.findings
    ws = book["结果 findings"]
    data = rows(ws)[1:]
    assert len(data) == len(f) == 12 * len(sample.pack.rules)
    col = {name: j for j, name in enumerate(f.columns)}
    assert [r[col["estate_id"]] for r in data] == f["estate_id"].tolist()
    assert [r[col["status"]] for r in data] == f["status"].tolist()
    assert [r[col["rule_id"]] for r in data] == f["rule_id"].tolist()
    values = [r[col["value"]] for r in data]
    blank = f["value"].isna().to_numpy()
    assert blank.sum() > 0 and (~blank).sum() > 0  # the sample has both
    for cell, expected, missing in zip(values, f["value"], blank, strict=True):
        if missing:
            assert cell is None  # an empty cell, not "nan"
        else:
            assert isinstance(cell, float | int) and not isinstance(cell, bool)
            assert math.isclose(cell, expected, rel_tol=0, abs_tol=1e-12)
    value_col = get_column_letter(col["value"] + 1)
    kinds = {ws[f"{value_col}{i + 2}"].data_type for i in range(len(f)) if not blank[i]}
    assert kinds == {"n"}


def test_no_nan_text_anywhere(book) -> None:
    for ws in book:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v.strip().lower() in {"nan", "<na>", "none"})
                assert not (isinstance(v, float) and math.isnan(v))


def test_summary_numbers_percent_and_booleans(book, sample) -> None:
    table = sample.declaration
    ws = book["汇总 summary"]
    col = {name: j + 1 for j, name in enumerate(table.columns)}
    for i, (_, expected) in enumerate(table.iterrows(), start=2):
        rate = ws.cell(i, col["compliance_rate"])
        assert rate.data_type == "n" and rate.number_format == "0.00##%"
        assert math.isclose(rate.value, expected["compliance_rate"], abs_tol=1e-12)
        eligible = ws.cell(i, col["eligible"])
        assert eligible.data_type == "b" and eligible.value is bool(expected["eligible"])
        assert ws.cell(i, col["standards_passed"]).value == expected["standards_passed"]
        assert ws.cell(i, col["verdict"]).value == expected["verdict"]


def test_verdict_colours_are_conditional_formats(book, sample) -> None:
    n = len(sample.findings)
    ws = book["结果 findings"]
    status = get_column_letter(list(sample.findings.columns).index("status") + 1)
    rules = rules_by_range(ws)
    assert list(rules) == [f"{status}2:{status}{n + 1}"]  # one range: the status column
    assert rules[f"{status}2:{status}{n + 1}"] == [
        ("cellIs", "equal", [f'"{s}"'], FILL[s])
        for s in ("pass", "fail", "no_data", "not_applicable")]
    card = book["标准 scorecard"]
    assert list(rules_by_range(card)) == [f"F2:F{len(sample.scorecard) + 1}"]  # status
    summary = rules_by_range(book["汇总 summary"])
    m = len(sample.declaration) + 1
    assert summary[f"D2:D{m}"] == [("cellIs", "equal", ["TRUE"], FILL["pass"]),
                                   ("cellIs", "equal", ["FALSE"], FILL["fail"])]  # eligible
    verdict = summary[f"L2:L{m}"]
    assert [(r[0], r[3]) for r in verdict] == [("containsText", FILL["no_data"]),
                                               ("beginsWith", FILL["fail"]),
                                               ("beginsWith", FILL["pass"])]


def test_about_sheet(book, sample) -> None:
    cells = {v for row in rows(book["说明 about"]) for v in row if v is not None}
    assert {"guangxi", sample.pack.title_zh, geocheck.__version__,
            "EPSG:4545 CGCS2000 / 3-degree Gauss-Kruger CM 108E",
            str(sample.site.source)} <= cells
    assert {"pass 达标", "fail 不达标", "no data 无数据", "not applicable 不适用"} <= cells
    legend = {c.value: c.fill.fgColor.rgb for row in book["说明 about"].iter_rows()
              for c in row if c.value in FILL}
    assert legend == FILL


@pytest.fixture
def hostile_result(gpkg):
    names = [*HOSTILE, "<img src=x onerror=alert(1)>", "${alert(1)}"]
    path = gpkg(estates=[estate(f"E{i}", rect(200 * i, 0, 200 * i + 100, 100), name=name)
                         for i, name in enumerate(names)]
                + [estate("=A1", rect(0, 300, 100, 400), name="正常小区")])
    result = geocheck.check(path)
    # text that normalising would strip from a name: put it straight into the findings
    result.findings.loc[0, "evidence"] = "\t=cmd|' /C calc'!A0"
    result.findings.loc[1, "evidence"] = "\r=1+2"
    return result


def test_no_text_becomes_a_formula(hostile_result, tmp_path) -> None:
    f = hostile_result.findings
    assert set(HOSTILE) <= set(f["estate_name"])  # normalising kept the names as they were
    wb = load_workbook(write_xlsx(hostile_result, tmp_path / "findings.xlsx"))
    risky = ("=", "+", "-", "@", "\t", "\r")
    seen = set()
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    # a control character is stored as Excel's _xHHHH_ escape (CR: _x000D_),
                    # which openpyxl leaves as it is and Excel decodes
                    text = unescape(cell.value)
                    assert cell.quotePrefix == text.startswith(risky), cell.coordinate
                    if cell.quotePrefix:
                        seen.add(text)
    # every hostile text came back exactly as it went in, no apostrophe added
    assert set(HOSTILE) | {"=A1", "\t=cmd|' /C calc'!A0", "\r=1+2"} <= seen
    ws = wb["结果 findings"]
    data = rows(ws)[1:]
    assert [r[1] for r in data] == f["estate_name"].tolist()
    assert [r[0] for r in data] == f["estate_id"].tolist()
    assert data[0][14] == "\t=cmd|' /C calc'!A0" and unescape(data[1][14]) == "\r=1+2"
    names = {r[1] for r in rows(wb["汇总 summary"])[1:]}
    assert {"<img src=x onerror=alert(1)>", "${alert(1)}", *HOSTILE} <= names


def test_plain_pack_gets_overall_summary(gpkg, tmp_path) -> None:
    result = geocheck.check(SAMPLE, pack="nanhai")
    assert result.declaration is None and result.scores is None
    wb = load_workbook(write_xlsx(result, tmp_path / "findings.xlsx"))
    assert wb.sheetnames == ["汇总 summary", "结果 findings", "剔除 rejects", "说明 about"]
    ws = wb["汇总 summary"]
    assert header(ws) == ["estate_id", "estate_name", "overall", "n_pass", "n_fail",
                          "n_no_data", "n_not_applicable"]
    f = result.findings
    counts = pd.crosstab(f["estate_id"], f["status"])
    rank = {"not_applicable": 0, "pass": 1, "no_data": 2, "fail": 3}
    data = rows(ws)[1:]
    assert [r[0] for r in data] == result.site.estates["estate_id"].tolist()
    for eid, name, overall, *n in data:
        mine = f[f["estate_id"] == eid]
        assert name == mine["estate_name"].iloc[0]
        assert overall == max(mine["status"], key=rank.get)
        assert n == [int(counts.loc[eid].get(s, 0)) for s in
                     ("pass", "fail", "no_data", "not_applicable")]
        assert sum(n) == len(result.pack.rules)
    assert rules_by_range(ws)[f"C2:C{len(data) + 1}"][1] == ("cellIs", "equal", ['"fail"'],
                                                           FILL["fail"])
    rejects = wb["剔除 rejects"]  # none: the header row alone, still filtered
    assert rows(rejects) == [("layer", "feature_id", "reason", "estate_id")]
    assert rejects.auto_filter.ref == "A1:D1" and rejects.freeze_panes == "A2"


def test_points_pack_gets_scores(tmp_path) -> None:
    result = geocheck.check(SAMPLE, pack="gongshu")
    table = result.scores
    wb = load_workbook(write_xlsx(result, tmp_path / "findings.xlsx"))
    assert wb.sheetnames == ["汇总 summary", "结果 findings", "剔除 rejects", "说明 about"]
    ws = wb["汇总 summary"]
    assert header(ws) == list(table.columns)
    data = rows(ws)[1:]
    col = {name: j for j, name in enumerate(table.columns)}
    for r, (_, expected) in zip(data, table.iterrows(), strict=True):
        for name in ("total", "total_known", "stars", "satisfaction_rate"):
            if pd.isna(expected[name]):
                assert r[col[name]] is None
            else:
                assert math.isclose(r[col[name]], expected[name], abs_tol=1e-9)
        assert r[col["rating"]] == expected["rating"]
        assert r[col["items_missing"]] == expected["items_missing"]
    stars = get_column_letter(col["stars"] + 1)
    assert [x[0] for x in rules_by_range(ws)[f"{stars}2:{stars}{len(data) + 1}"]] == [
        "containsBlanks", "cellIs", "cellIs"]


SEVEN = pd.DataFrame({"estate_id": list("ABCDEFG"),
                      "status": ["pass", "fail", "no_data", "pass", "fail", "not_applicable",
                                 "no_data"]})
"""Seven findings: B, C, E and G fail or lack data."""


def test_a_table_that_fits_is_one_sheet_unchanged(monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 7)
    sheets, note = excel.fit_sheet("findings", SEVEN, 2)
    assert note is None and [s.name for s in sheets] == ["结果 findings"]
    assert sheets[0].table["estate_id"].tolist() == list("ABCDEFG") and sheets[0].freeze == 2


def test_too_many_rows_keep_the_failing_and_no_data_ones(monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 4)  # 7 rows do not fit; the 4 of B C E G do
    sheets, note = excel.fit_sheet("findings", SEVEN)
    assert [s.name for s in sheets] == ["结果 findings"]
    assert sheets[0].table["estate_id"].tolist() == list("BCEG")
    assert note == ("结果 findings: 7 rows x 2 columns do not fit in one Excel sheet (at most 4 "
                    "rows x 16,384 columns); findings.xlsx holds only the 4 failing and no-data "
                    "rows of 7; findings.csv has them all")


def test_still_too_many_rows_are_split_over_numbered_sheets(monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 3)  # B C E G: 3 + 1
    sheets, note = excel.fit_sheet("findings", SEVEN)
    assert [(s.name, s.table["estate_id"].tolist()) for s in sheets] == [
        ("结果 findings 1", list("BCE")), ("结果 findings 2", ["G"])]
    assert "split over 2 sheets" in note
    plain = SEVEN.rename(columns={"status": "verdict"})  # no status column: all 7 split 3+3+1
    sheets, note = excel.fit_sheet("summary", plain)
    assert [len(s.table) for s in sheets] == [3, 3, 1]
    assert "its 7 rows split over 3 sheets" in note and note.endswith("summary.csv has them all")


def test_too_many_columns_keep_the_first_ones(monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_COLS", 1)
    sheets, note = excel.fit_sheet("rejects", SEVEN)
    assert list(sheets[0].table.columns) == ["estate_id"] and len(sheets[0].table) == 7
    assert "only its first 1 of 2 columns" in note


def test_a_workbook_too_large_is_cut_to_fit_and_says_so(sample, tmp_path, monkeypatch) -> None:
    # the sample: 12 estates x 98 rules = 1,176 findings (26 fail, 97 no data) and 12 x 65 =
    # 780 standards (94 fail or no data). At most 100 rows a sheet: the findings keep their
    # 123 failing and no-data rows over two sheets (100 + 23), the scorecard its 94 in one
    monkeypatch.setattr(excel, "MAX_ROWS", 100)
    wb = load_workbook(write_xlsx(sample, tmp_path / "findings.xlsx"))
    f = sample.findings
    bad = f[f["status"].isin(["fail", "no_data"])]
    card = sample.scorecard
    assert (len(f), len(bad), len(card)) == (1176, 123, 780)
    assert wb.sheetnames == ["注意 notice", "汇总 summary", "标准 scorecard", "结果 findings 1",
                             "结果 findings 2", "剔除 rejects", "说明 about"]
    assert [len(rows(wb[n])) - 1 for n in ("结果 findings 1", "结果 findings 2")] == [100, 23]
    ids = [r[3] for n in ("结果 findings 1", "结果 findings 2") for r in rows(wb[n])[1:]]
    assert ids == bad["rule_id"].tolist()  # rule_id is the fourth column
    statuses = [r[5] for r in rows(wb["标准 scorecard"])[1:]]  # status the sixth
    assert len(statuses) == 94 and set(statuses) == {"fail", "no_data"}
    assert len(rows(wb["汇总 summary"])) == 13  # 12 estates fit
    notice = [r[0] for r in rows(wb["注意 notice"])]
    assert notice[0].startswith("notice 注意") and len(notice) == 3
    assert notice[1] == ("标准 scorecard: 780 rows x 10 columns do not fit in one Excel sheet "
                         "(at most 100 rows x 16,384 columns); findings.xlsx holds only the 94 "
                         "failing and no-data rows of 780; scorecard.csv has them all")
    assert notice[2] == ("结果 findings: 1,176 rows x 17 columns do not fit in one Excel sheet "
                         "(at most 100 rows x 16,384 columns); findings.xlsx holds only the 123 "
                         "failing and no-data rows of 1,176; its 123 rows split over 2 sheets "
                         "(结果 findings 1 ...); findings.csv has them all")


def test_widths_count_cjk_double() -> None:
    assert excel.text_width("abc") == 3
    assert excel.text_width("小区A") == 5
    assert excel.light("#1a9850") == "#C6E5D3"
