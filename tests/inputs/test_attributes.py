"""The attributes sheet, the template, scorecards and declaration eligibility, on a small pack
whose every answer can be worked out on paper."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from helpers import estate, rect, text_cell, xlsx_by_hand
from openpyxl import Workbook, load_workbook

import geocheck
from geocheck import InputError, load_pack
from geocheck.cli import main
from geocheck.views.template import write_template

PACK = '''
[pack]
id = "mini"
title_zh = "小标准"
title_en = "mini standard"
document = "a test document"

[[categories]]
id = "C1"
title_zh = "管理"
title_en = "management"

[[requirements]]
id = "R1"
title_zh = "机构"
title_en = "organisation"
category = "C1"

[[requirements]]
id = "R2"
title_zh = "人员"
title_en = "staff"
category = "C1"

[[standards]]
id = "S1"
title_zh = "设立机构"
title_en = "an office"
requirement = "R1"

[[standards]]
id = "S2"
title_zh = "公开制度"
title_en = "disclosure"
requirement = "R1"

[[standards]]
id = "S3"
title_zh = "专职人员与满意度"
title_en = "staff and satisfaction"
requirement = "R2"

[[attributes]]
key = "office"
title_zh = "设立管理机构"
title_en = "office set up"
kind = "yesno"
standard = "S1"

[[attributes]]
key = "disclosure"
title_zh = "实行公开制度"
title_en = "disclosure in place"
kind = "yesno"
standard = "S2"

[[attributes]]
key = "staff"
title_zh = "专职工作人员"
title_en = "full-time staff"
kind = "count"
unit = "人"
standard = "S3"

[[attributes]]
key = "satisfaction"
title_zh = "居民满意率"
title_en = "residents' satisfaction"
kind = "percent"
standard = "S3"

[[attributes]]
key = "rooms"
title_zh = "服务用房面积"
title_en = "service rooms"
kind = "area"
unit = "m²"
standard = "S3"

[declaration]
min_compliance = 0.6
every_requirement = true
citation = "the test document, part 2"

[[rules]]
id = "S1"
standard = "S1"
title_zh = "设立机构"
title_en = "office"
citation = "part 1"
check = "attribute_yes"
params.attribute = "office"

[[rules]]
id = "S2"
standard = "S2"
title_zh = "公开"
title_en = "disclosure"
citation = "part 1"
check = "attribute_yes"
params.attribute = "disclosure"

[[rules]]
id = "S3-staff"
standard = "S3"
title_zh = "7名以上"
title_en = "7 staff or more"
citation = "part 1"
check = "attribute_at_least"
params.attribute = "staff"
params.min = 7

[[rules]]
id = "S3-satisfaction"
standard = "S3"
title_zh = "满意率80%以上"
title_en = "satisfaction 80 % or more"
citation = "part 1"
check = "attribute_at_least"
params.attribute = "satisfaction"
params.min = 0.8

[[rules]]
id = "S3-rooms"
standard = "S3"
title_zh = "每100户20平方米"
title_en = "20 m2 per 100 households"
citation = "part 1"
check = "attribute_per_households"
params.attribute = "rooms"
params.min_per_100 = 20
'''
HEADERS = ["小区编号", "小区名称", "S1 设立管理机构（是/否）", "S2 实行公开制度（是/否）",
           "S3 专职工作人员（人）", "S3 居民满意率（%）", "S3 服务用房面积（m²）"]


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.toml"
    path.write_text(PACK, encoding="utf-8")
    return path


@pytest.fixture
def layers(gpkg) -> Path:
    return gpkg(estates=[estate("E1", rect(0, 0, 100, 100), households=800),
                         estate("E2", rect(1000, 0, 1100, 100), households=500),
                         estate("E3", rect(2000, 0, 2100, 100), households=None),
                         estate("E4", rect(3000, 0, 3100, 100), households=1000)])


def _sheet(path: Path, rows: list[list], headers: list[str] = HEADERS,
           formats: dict[tuple[int, int], str] | None = None) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for (r, c), fmt in (formats or {}).items():
        ws.cell(row=r, column=c).number_format = fmt
    book.save(path)
    return path


def _status(result: geocheck.Result) -> dict[tuple[str, str], str]:
    f = result.findings
    return dict(zip(zip(f["estate_id"], f["rule_id"], strict=True), f["status"], strict=True))


def test_headers_carry_standard_and_unit(pack_file) -> None:
    pack = load_pack(pack_file)
    assert [a.header for a in pack.attributes] == HEADERS[2:]


def test_sheet_values_judged(tmp_path, pack_file, layers) -> None:
    sheet = _sheet(tmp_path / "a.xlsx", [
        ["E1", "甲", "是", "否", 7, 80, 160],        # 160 m2 / 800 households = 20 per 100
        ["E2", "乙", "是", "是", "6", "79.9%", 99.9],  # 99.9 / 500 = 19.98 per 100
        ["E3", "丙", "否", None, None, None, 50],     # households unknown
        ["E9", "无此小区", "是", "是", 9, 90, 1],       # not in the layers
    ])
    result = geocheck.check(layers, pack=pack_file, attributes=sheet)
    st = _status(result)
    assert [st["E1", r] for r in ("S1", "S2", "S3-staff", "S3-satisfaction", "S3-rooms")] == \
        ["pass", "fail", "pass", "pass", "pass"]
    assert [st["E2", r] for r in ("S1", "S2", "S3-staff", "S3-satisfaction", "S3-rooms")] == \
        ["pass", "pass", "fail", "fail", "fail"]
    assert [st["E3", r] for r in ("S1", "S2", "S3-staff", "S3-rooms")] == \
        ["fail", "no_data", "no_data", "no_data"]
    f = result.findings.set_index(["estate_id", "rule_id"])
    assert f.loc[("E2", "S3-rooms"), "value"] == pytest.approx(19.98)
    assert "blank in the attributes sheet" in f.loc[("E3", "S2"), "evidence"]
    assert f.loc[("E3", "S3-rooms"), "evidence"] == "no data: households missing"
    # E4 has no row: every record rule is no data, and says so
    assert all(st["E4", r] == "no_data" for r in ("S1", "S2", "S3-staff"))
    assert "not in the attributes sheet" in f.loc[("E4", "S1"), "evidence"]
    rejects = result.site.ledger.rejects_frame()
    assert rejects.to_dict("records") == [{"layer": "attributes", "feature_id": "E9",
                                           "reason": "row 5: no estate E9 in the estates layer",
                                           "estate_id": ""}]  # a sheet row bears on no layer
    assert result.site.ledger.read["attributes"] == 4


def test_no_sheet_is_no_data_never_pass(pack_file, layers) -> None:
    result = geocheck.check(layers, pack=pack_file)
    assert set(result.findings["status"]) == {"no_data"}
    assert result.findings["evidence"].str.contains("no attributes sheet given").all()


@pytest.mark.parametrize(("cell", "fmt", "expected"), [
    (95, None, 0.95), ("95%", None, 0.95), ("95 ％", None, 0.95), (0.95, "0%", 0.95),
    (100, None, 1.0), (0, None, 0.0),
])
def test_percent_cells(tmp_path, pack_file, layers, cell, fmt, expected) -> None:
    sheet = _sheet(tmp_path / "p.xlsx", [["E1", "", None, None, None, cell, None]],
                   formats={(2, 6): fmt} if fmt else None)
    result = geocheck.check(layers, pack=pack_file, attributes=sheet)
    assert result.site.attributes.loc[0, "satisfaction"] == pytest.approx(expected)


@pytest.mark.parametrize(("column", "cell", "message"), [
    (5, "七", "'七' is not a number"),
    (5, 7.5, "'7.5' is not a whole number"),
    (6, 0.95, "looks like a fraction: write a percentage, 95 or 95%"),
    (6, 120, "is not a percentage between 0 and 100"),
    (3, "可能", "is not 是 or 否"),
    (7, -3, "is negative"),
])
def test_unreadable_cell_names_estate_and_column(tmp_path, pack_file, layers, column, cell,
                                                 message) -> None:
    row = ["E2", "乙", None, None, None, None, None]
    row[column - 1] = cell
    sheet = _sheet(tmp_path / "bad.xlsx", [["E1", "甲"], row])
    with pytest.raises(InputError) as err:
        geocheck.check(layers, pack=pack_file, attributes=sheet)
    text = str(err.value)
    assert f"estate E2 (row 3), column {HEADERS[column - 1]!r}" in text and message in text


def test_cli_bad_cell_is_one_clear_error(tmp_path, pack_file, layers, capsys) -> None:
    sheet = _sheet(tmp_path / "bad.xlsx", [["E1", "甲", "是", "是", "seven"]])
    code = main(["check", str(layers), "--pack", str(pack_file), "--attributes", str(sheet),
                 "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "estate E1 (row 2)" in err and "Traceback" not in err


def test_csv_sheet_in_gbk(tmp_path, pack_file, layers) -> None:
    text = ",".join(HEADERS).replace("m²", "m2") + "\nE1,甲,是,是,8,85,200\n"  # GBK has no ²
    (tmp_path / "a.csv").write_bytes(text.encode("gbk"))
    result = geocheck.check(layers, pack=pack_file, attributes=tmp_path / "a.csv")
    st = _status(result)
    assert (st["E1", "S1"], st["E1", "S3-staff"], st["E1", "S3-rooms"]) == \
        ("pass", "pass", "pass")
    assert any("read as GBK" in n for n in result.site.ledger.notes)


def test_sheet_fills_households_and_refuses_a_clash(tmp_path, pack_file, layers) -> None:
    headers = [*HEADERS, "户数（户）"]
    sheet = _sheet(tmp_path / "h.xlsx", [["E3", "丙", None, None, None, None, 40, 200]],
                   headers=headers)
    result = geocheck.check(layers, pack=pack_file, attributes=sheet)
    assert _status(result)["E3", "S3-rooms"] == "pass"  # 40 m2 / 200 households = 20 per 100
    clash = _sheet(tmp_path / "c.xlsx", [["E1", "甲", None, None, None, None, 40, 200]],
                   headers=headers)
    with pytest.raises(InputError, match="estate E1 has households 800 in the estates layer "
                                         "but 200 in the sheet"):
        geocheck.check(layers, pack=pack_file, attributes=clash)


def test_sheet_refusals(tmp_path, pack_file, layers) -> None:
    twice = _sheet(tmp_path / "t.xlsx", [["E1"], ["E1"]])
    with pytest.raises(InputError, match="estate E1 has more than one row"):
        geocheck.check(layers, pack=pack_file, attributes=twice)
    no_id = _sheet(tmp_path / "n.xlsx", [[None, "甲", "是"]])
    with pytest.raises(InputError, match="row 2: values but no 小区编号"):
        geocheck.check(layers, pack=pack_file, attributes=no_id)
    no_col = _sheet(tmp_path / "x.xlsx", [["E1"]], headers=["编 号?"])
    with pytest.raises(InputError, match="no 小区编号"):
        geocheck.check(layers, pack=pack_file, attributes=no_col)


def test_scorecard_and_declaration_by_hand(tmp_path, pack_file, layers) -> None:
    sheet = _sheet(tmp_path / "a.xlsx", [
        ["E1", "", "是", "否", 7, 80, 160],    # S1 pass, S2 fail, S3 pass: 2/3, both R met
        ["E2", "", "是", "是", 6, 90, 100],    # S3 fails (staff 6): 2/3, R2 has no pass
        ["E3", "", "否", "否", 9, 90, 10],     # households unknown: S3 no data; 0/3
        ["E4", "", "是", "是", 7, 80, 200],    # all pass: 3/3
    ])
    result = geocheck.check(layers, pack=pack_file, attributes=sheet)
    card = result.scorecard
    got = card.pivot(index="estate_id", columns="standard_id", values="status")
    assert got.loc["E1"].tolist() == ["pass", "fail", "pass"]
    assert got.loc["E2"].tolist() == ["pass", "pass", "fail"]
    assert got.loc["E3"].tolist() == ["fail", "fail", "no_data"]
    assert card.loc[(card["estate_id"] == "E2") & (card["standard_id"] == "S3"),
                    "failed"].item() == "S3-staff"
    summary = result.declaration.set_index("estate_id")
    assert summary["compliance_rate"].round(4).tolist() == [0.6667, 0.6667, 0.0, 1.0]
    assert summary["eligible"].tolist() == [True, False, False, True]
    assert summary.loc["E2", "blocking_requirements"] == "R2 人员"
    assert summary.loc["E3", "blocking_requirements"] == "R1 机构; R2 人员"
    assert summary.loc["E3", "standards_no_data"] == 1
    assert summary.loc["E2", "verdict"] == "not eligible: no standard passed under R2"
    assert summary.loc["E2", "verdict_zh"] == "不可申报：R2 无达标标准"


def test_outputs_and_terminal_show_eligibility(tmp_path, pack_file, layers, capsys) -> None:
    sheet = _sheet(tmp_path / "a.xlsx", [["E4", "", "是", "是", 7, 80, 200]])
    out = tmp_path / "out"
    main(["check", str(layers), "--pack", str(pack_file), "--attributes", str(sheet),
          "-o", str(out)])
    text = capsys.readouterr().out
    assert "declaration (60% of applicable standards passed, one passed under every " \
           "requirement): 1 of 4 estates eligible" in text
    card = pd.read_csv(out / "scorecard.csv", encoding="utf-8-sig")
    assert list(card.columns[:6]) == ["estate_id", "estate_name", "standard_id",
                                      "requirement_id", "category", "status"]
    assert len(card) == 4 * 3 and set(card["category"]) == {"管理"}
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert summary.set_index("estate_id")["eligible"].to_dict() == \
        {"E1": False, "E2": False, "E3": False, "E4": True}


def test_template_round_trip(tmp_path, pack_file, layers) -> None:
    pack = load_pack(pack_file)
    site = geocheck.check(layers, pack=pack).site
    path = write_template(pack, tmp_path / "t.xlsx", site.estates)
    book = load_workbook(path)
    ws = book["指标填报"]
    assert [c.value for c in ws[1]] == [*HEADERS[:2], "户数（户）", "建设类型（新建/已建成）",
                                        *HEADERS[2:]]
    assert [ws.cell(row=r, column=1).value for r in range(2, 6)] == ["E1", "E2", "E3", "E4"]
    assert ws.cell(row=4, column=3).value is None  # E3's households are unknown
    kinds = {str(v.sqref).split(":")[0][:-1]: (v.type, v.formula1)
             for v in ws.data_validations.dataValidation}
    assert kinds["E"] == ("list", '"是,否"')       # S1 yes/no
    assert kinds["G"] == ("whole", "0")             # staff, a count
    assert kinds["H"][0] == "decimal"               # satisfaction 0..100
    assert ws.freeze_panes == "C2"
    assert "说明" in book.sheetnames
    # a planner fills E4 and E3's households, leaves the rest blank
    ws["C4"] = 200
    for col, value in zip("EFGHI", ["是", "是", 7, 80, 200], strict=True):
        ws[f"{col}5"] = value
    book.save(path)
    result = geocheck.check(layers, pack=pack, attributes=path)
    st = _status(result)
    assert {st["E4", r.id] for r in pack.rules} == {"pass"}
    assert st["E1", "S1"] == "no_data"
    assert result.site.estates.set_index("estate_id").loc["E3", "households"] == 200


def test_template_cli_and_hostile_names(tmp_path, pack_file, gpkg, capsys) -> None:
    layers = gpkg(estates=[estate("E1", rect(0, 0, 100, 100), name="=HYPERLINK(\"x\")")])
    out = tmp_path / "t.xlsx"
    assert main(["template", str(layers), "--pack", str(pack_file), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    cell = load_workbook(out)["指标填报"]["B2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"x\")"
    csv = tmp_path / "t.csv"
    assert main(["template", str(layers), "--pack", str(pack_file), "-o", str(csv)]) == 0
    assert pd.read_csv(csv, encoding="utf-8-sig")["小区名称"][0].startswith("'=")
    assert main(["template", "--pack", "nanhai-nope", "-o", str(out)]) == 2


def test_blank_template_without_layers(tmp_path, pack_file) -> None:
    path = write_template(load_pack(pack_file), tmp_path / "b.xlsx")
    ws = load_workbook(path)["指标填报"]
    assert ws.max_row == 1 and len(ws.data_validations.dataValidation) == 7


def test_project_file_names_the_sheet(tmp_path, pack_file, layers) -> None:
    _sheet(tmp_path / "表.xlsx", [["E1", "甲", "是", "是", 7, 80, 160]])
    project = tmp_path / "project.toml"
    project.write_text(f'pack = "{pack_file.name}"\nattributes = "表.xlsx"\n'
                       f'[layers.estates]\npath = "{layers.name}"\nlayer = "estates"\n',
                       encoding="utf-8")
    result = geocheck.check(project)  # the pack file too is found beside the project
    assert result.pack.id == "mini" and _status(result)["E1", "S3-rooms"] == "pass"
    assert result.site.attributes_source == "表.xlsx"


def test_formula_without_a_computed_value_is_no_data_not_a_fail(tmp_path, pack_file,
                                                                 layers) -> None:
    # XlsxWriter (as pandas uses it) writes each formula's value as 0 and leaves computing it to
    # Excel; E1's 7 staff would read as 0, a wrong fail
    book = xlsxwriter.Workbook(tmp_path / "x.xlsx")
    ws = book.add_worksheet()
    ws.write_row(0, 0, HEADERS)
    ws.write_row(1, 0, ["E1", "甲", "是"])
    ws.write_formula(1, 4, "=3+4")
    book.close()
    result = geocheck.check(layers, pack=pack_file, attributes=tmp_path / "x.xlsx")
    f = result.findings.set_index(["estate_id", "rule_id"])
    assert (f.loc[("E1", "S1"), "status"], f.loc[("E1", "S3-staff"), "status"]) == \
        ("pass", "no_data")
    assert f.loc[("E1", "S3-staff"), "evidence"] == (
        "no data: S3 专职工作人员（人） in the attributes sheet is a formula without a computed "
        "value")


def test_formula_with_a_computed_value_is_judged_and_noted(tmp_path, pack_file, layers) -> None:
    cells = "".join(text_cell(f"{c}1", h) for c, h in zip("ABCDEFG", HEADERS, strict=True))
    sheet = xlsx_by_hand(tmp_path / "f.xlsx", (
        f'<row r="1">{cells}</row><row r="2">{text_cell("A2", "E1")}'
        '<c r="E2"><f>3+4</f><v>7</v></c><c r="F2"><f>100*0.85</f><v>85</v></c></row>'))
    result = geocheck.check(layers, pack=pack_file, attributes=sheet)
    st = _status(result)
    assert (st["E1", "S3-staff"], st["E1", "S3-satisfaction"]) == ("pass", "pass")
    assert any(n.endswith("2 cells are formulas; their computed values were used")
               for n in result.site.ledger.notes)


def test_merged_yes_cell_applies_to_each_estate_it_spans(tmp_path, pack_file, layers) -> None:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for eid in ("E1", "E2", "E3", "E4"):
        ws.append([eid])
    ws["C3"] = "是"
    ws.merge_cells("C3:C5")  # office of E2, E3 and E4
    book.save(tmp_path / "m.xlsx")
    result = geocheck.check(layers, pack=pack_file, attributes=tmp_path / "m.xlsx")
    st = _status(result)
    assert [st[e, "S1"] for e in ("E1", "E2", "E3", "E4")] == \
        ["no_data", "pass", "pass", "pass"]
    assert any(n.endswith("merged cells in rows 3-5 applied to each row they span")
               for n in result.site.ledger.notes)


@pytest.mark.parametrize("strays", [20, 25])
def test_many_rows_naming_no_estate_are_counted_in_one_note(tmp_path, pack_file, layers,
                                                            strays) -> None:
    sheet = _sheet(tmp_path / "s.xlsx", [["E1", "甲", "是"]]
                   + [[f"X{i}", "", "否"] for i in range(strays)])
    ledger = geocheck.check(layers, pack=pack_file, attributes=sheet).site.ledger
    counts = ledger.counts().set_index("layer").loc["attributes"].to_dict()
    assert counts == {"read": strays + 1, "judged": 1, "rejected": strays}
    listed = ledger.rejects_frame()
    told = [n for n in ledger.notes if "rows name no estate" in n]
    if strays == 20:  # a handful: one reject each, as before
        assert len(listed) == 20 and listed["reason"].iloc[0] == \
            "row 3: no estate X0 in the estates layer"
        assert told == []
    else:
        assert listed.empty
        assert told == ["attributes sheet s.xlsx: 25 rows name no estate in the estates layer, "
                        "e.g. X0 (row 3), X1 (row 4), X2 (row 5), X3 (row 6), X4 (row 7); they "
                        "are rejected"]
