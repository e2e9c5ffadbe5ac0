"""The fill-in attributes sheet: one row per estate, one column per record-based indicator.

``geocheck template --pack guangxi -o 指标填报表.xlsx [layers.gpkg]`` writes it. Headers are in
Chinese with the standard number and the unit (what :mod:`geocheck.inputs.attributes`
reads back);
Excel's data validation keeps counts whole, percentages within 0-100, yes/no to 是/否 and points
within their full marks; a second sheet explains every column with its citation.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..core.errors import GeocheckError
from ..core.indicators import (
    BUILT_HEADER,
    BUILT_ZH,
    HOUSEHOLDS_HEADER,
    ID_HEADER,
    NAME_HEADER,
    TARGET_YEAR_HEADER,
    Attribute,
)
from ..core.roles import TARGET_YEARS
from ..core.units import plain
from ..rules.packs.model import Pack
from .text import defuse_formulas

BLANK_ROWS = 50
VALIDATED_ROWS = 2000


def _rules_of(pack: Pack, key: str) -> list[str]:
    return [r.id for r in pack.rules
            if key in (r.params.get("attribute"), r.params.get("of"))]


def columns(pack: Pack) -> pd.DataFrame:
    """The sheet's columns: ``key, header, standard, title_zh, title_en, kind, unit, help_zh,
    rules, citation`` (core columns first, then the pack's attributes in pack order)."""
    core = [("estate_id", ID_HEADER, "estate id, as in the estates layer"),
            ("name", NAME_HEADER, "estate name"),
            ("households", HOUSEHOLDS_HEADER, "households (fills the estates layer's blanks)"),
            ("built", BUILT_HEADER, "new or existing estate (fills the estates layer's blanks)")]
    if pack.campaign is not None:
        core.append(("target_year", TARGET_YEAR_HEADER, "the year the estate is to be created "
                     "in the campaign (fills the estates layer's blanks)"))
    rows = [{"key": k, "header": h, "standard": "", "title_zh": h, "title_en": e, "kind": k,
             "unit": "", "help_zh": "", "rules": "", "citation": ""} for k, h, e in core]
    for a in pack.attributes:
        rules = _rules_of(pack, a.key)
        rows.append({"key": a.key, "header": a.header, "standard": a.standard,
                     "title_zh": a.title_zh, "title_en": a.title_en, "kind": a.kind,
                     "unit": a.unit, "help_zh": a.help_zh, "rules": " ".join(rules),
                     "citation": pack.rule(rules[0]).citation if rules else ""})
    return pd.DataFrame(rows)


def _estate_rows(estates: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if estates is None:
        return pd.DataFrame(columns=["estate_id", "name", "households", "built", "target_year"])
    years = (estates["target_year"] if "target_year" in estates
             else pd.Series(pd.NA, index=estates.index, dtype="Int64"))
    return pd.DataFrame({
        "estate_id": estates["estate_id"].astype(str).to_numpy(),
        "name": estates["name"].to_numpy(),
        "households": estates["households"].astype("Float64").to_numpy(dtype=object,
                                                                        na_value=None),
        "built": estates["built"].map(BUILT_ZH).to_numpy(dtype=object),
        "target_year": years.astype("Int64").to_numpy(dtype=object, na_value=None),
    })


def _validation(attr_kind: str, attr: Attribute | None):  # -> DataValidation | None
    def dv(**kw: object) -> DataValidation:
        v = DataValidation(allow_blank=True, showErrorMessage=True, errorStyle="stop", **kw)
        return v

    top = attr.max if attr is not None else None
    bounded = {"operator": "between", "formula1": "0", "formula2": plain(top)} if top else \
        {"operator": "greaterThanOrEqual", "formula1": "0"}
    limit = f"0到{plain(top)}之间的" if top else "不小于0的"
    if attr_kind in ("count", "households"):
        v = dv(type="whole", **bounded)
        v.error = f"请填写{limit}整数（人数、次数、个数等），不清楚请留空"
        v.errorTitle = "应为整数"
    elif attr_kind in ("number", "area"):
        v = dv(type="decimal", **bounded)
        v.error, v.errorTitle = f"请填写{limit}数值，不清楚请留空", "应为数值"
    elif attr_kind == "percent":
        v = dv(type="decimal", operator="between", formula1="0", formula2="100")
        v.error = "请填写0到100之间的百分数（如95表示95%），不清楚请留空"
        v.errorTitle = "应为百分数"
    elif attr_kind == "points" and attr is not None:
        v = dv(type="decimal", operator="between", formula1="0", formula2=plain(attr.max))
        v.error, v.errorTitle = f"请填写0到{plain(attr.max)}之间的得分，不清楚请留空", "应为得分"
    elif attr_kind == "yesno":
        v = dv(type="list", formula1='"是,否"')
        v.error, v.errorTitle = "请选择“是”或“否”，不清楚请留空", "应为是/否"
    elif attr_kind == "target_year":
        low, high = TARGET_YEARS
        v = dv(type="whole", operator="between", formula1=str(low), formula2=str(high))
        v.error, v.errorTitle = f"请填写{low}到{high}之间的年份（如2022），不清楚请留空", "应为年份"
    elif attr_kind == "built":
        v = dv(type="list", formula1='"新建,已建成"')
        v.error, v.errorTitle = "请选择“新建”或“已建成”", "建设类型"
    else:
        return None
    return v


def write_template(pack: Pack, path: str | Path, estates: gpd.GeoDataFrame | None = None,
                   blank_rows: int = BLANK_ROWS) -> Path:
    """Write the attributes sheet for ``pack`` to ``path`` (``.xlsx``, or ``.csv`` for headers
    and estate rows only).

    Parameters
    ----------
    estates : normalised estates (``estate_id``, ``name``, ``households``, ``built``) to list,
        one row each; without them the sheet has ``blank_rows`` empty rows.

    Raises
    ------
    GeocheckError
        When the pack has no record-based indicators or the file cannot be written.
    """
    path = Path(path)
    if not pack.attributes:
        raise GeocheckError(f"pack {pack.id} reads nothing from an attributes sheet: every rule "
                            "is measured on the map")
    cols = columns(pack)
    rows = _estate_rows(estates)
    table = pd.DataFrame({h: rows.get(k) for k, h in zip(cols["key"], cols["header"], strict=True)})
    try:
        if path.suffix.lower() == ".csv":  # names from the layers are data, never formulas
            defuse_formulas(table).to_csv(path, index=False, encoding="utf-8-sig")
            return path
        if path.suffix.lower() != ".xlsx":
            raise GeocheckError(f"{path}: the template is written as .xlsx or .csv")
        _write_xlsx(pack, cols, table, path, len(rows) or blank_rows)
    except OSError as exc:
        raise GeocheckError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _write_xlsx(pack: Pack, cols: pd.DataFrame, table: pd.DataFrame, path: Path,
                n_rows: int) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "指标填报"
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    core_fill = PatternFill("solid", fgColor="F2F2F2")
    by_key = {a.key: a for a in pack.attributes}
    n_core = int((~cols["key"].isin(list(by_key))).sum())
    for j, row in enumerate(cols.itertuples(), start=1):
        cell = ws.cell(row=1, column=j, value=row.header)
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        note = "\n".join(x for x in (row.title_en, row.help_zh,
                                     f"规则 rules: {row.rules}" if row.rules else "") if x)
        if note:
            cell.comment = Comment(note[:2000], "geocheck", width=360, height=180)
        ws.column_dimensions[get_column_letter(j)].width = 14 if j > 2 else 16
        kind = row.kind if row.key not in ("estate_id", "name") else None
        v = _validation(kind, by_key.get(row.key)) if kind else None
        if v is not None:
            ws.add_data_validation(v)
            v.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{VALIDATED_ROWS + 1}")
    for i, values in enumerate(table.itertuples(index=False), start=2):
        for j, value in enumerate(values, start=1):
            if value is not None and not (isinstance(value, float) and pd.isna(value)):
                cell = ws.cell(row=i, column=j, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text from the layers is text, never a formula
            if j <= n_core:
                ws.cell(row=i, column=j).fill = core_fill
    ws.row_dimensions[1].height = 75
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(n_rows, 1) + 1}"
    info = book.create_sheet("说明")
    info.append(["列 column", "标准 standard", "指标", "indicator", "类型 kind", "单位 unit",
                 "填写说明", "规则 rules", "出处 citation"])
    for row in cols.itertuples():
        info.append([row.header, row.standard, row.title_zh, row.title_en, row.kind, row.unit,
                     row.help_zh, row.rules, row.citation])
    for j, width in enumerate((34, 12, 30, 30, 10, 8, 50, 24, 80), start=1):
        info.column_dimensions[get_column_letter(j)].width = width
    for cell in info[1]:
        cell.font = Font(bold=True)
    info.insert_rows(1)
    info.freeze_panes = "A3"
    info["A1"] = (f"{pack.title_zh}（{pack.id}）：空白表示“无数据”，不会被判为达标；"
                  "百分数填0-100（如95表示95%）；是/否项填“是”或“否”。")
    book.save(path)
