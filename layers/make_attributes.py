"""Build ``nanning_attributes.xlsx``: a filled-in Guangxi attributes sheet for the sample district.

Like the layers, the records are **synthetic**, written by this project to show what the sheet
does; no estate's real records went into it. It is the template ``geocheck template --pack
guangxi`` writes for ``nanning_sample.gpkg``, filled in as follows.

Every estate starts from values that meet each record-based indicator exactly at its threshold
(7 staff, 95 % satisfaction, 20 m2 of rooms per 100 households ...; yes/no items 是). Then, by
design (the sample's declaration outcomes, which ``tests/test_sample.py`` checks):

- NN-001, NN-002, NN-012: nothing changed.
- NN-003: GX-63 satisfaction with property services 90 % (< 95 %): R22 物业服务 has that one
  standard, so a single failed survey blocks the declaration though compliance stays high.
- NN-004: the five GX-01..GX-05 items (R01 建立工作机制) answered 否, and GX-11..GX-14 (R03) too:
  two requirements without a passed standard; with the layers' two failures (GX-06 garbage
  radius, GX-10 greening) compliance is 54/65 = 83.08 % < 85 % (shown as 83.0 %).
- NN-005: the four satisfaction surveys (GX-62..GX-65) left blank: no data, not a pass; those
  requirements block it, but filling them in could make it eligible.
- NN-006: 6 full-time staff (GX-16 needs 7 or more).
- NN-007: elderly-care rooms at 15 m2 per 100 households: enough for GX-07 (15) but not for
  GX-51, which asks 20 of a new estate.
- NN-008: the layers have no households for this estate under construction; the sheet gives
  1000.
- NN-009: the layers do not say whether it is new or existing; the sheet says 已建成.
- NN-010: no row in the sheet: every record-based rule is no data.
- NN-011: commercial floor area 8 % of the total (GX-08 asks 10 %).
- NN-099: a row for an estate the layers do not have; geocheck lists it as rejected.

Campaign years (``创建年份``, the year each estate is to be created, against Qinzhou's targets of
35 / 70 / 90 / 100 % by 2021-2024): 2021 NN-001, NN-002, NN-006, NN-007 (all four may be
declared: 4 of the 11 campaign estates, 36.4 %, on track); 2022 NN-003, NN-008, NN-009, NN-012
(three more: 7 of 11, 63.6 % < 70 %); 2023 NN-004, NN-011 (one more: 8 of 11, 72.7 % < 90 %);
2024 NN-005 (8 of 11 < 100 %). NN-010, without a row, has no year and is outside the campaign.

Run it after changing the Guangxi pack or the sample layers::

    python layers/make_attributes.py
"""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import load_workbook

import geocheck
from geocheck import load_pack
from geocheck.views.template import write_template

HERE = Path(__file__).parent
SAMPLE = HERE / "nanning_sample.gpkg"
OUTPUT = HERE / "nanning_attributes.xlsx"
SHEET_HOUSEHOLDS = {"NN-008": 1000}
SHEET_BUILT = {"NN-009": "已建成"}
SHEET_YEARS = {"NN-001": 2021, "NN-002": 2021, "NN-006": 2021, "NN-007": 2021,
               "NN-003": 2022, "NN-008": 2022, "NN-009": 2022, "NN-012": 2022,
               "NN-004": 2023, "NN-011": 2023, "NN-005": 2024}


def passing_values(pack: geocheck.Pack, households: float, built: str | None) -> dict:
    """Cell values (as a planner types them) that meet every record-based rule at its
    threshold, for an estate of ``households`` households."""
    values: dict[str, object] = {}

    def at_least(key: str, value: float) -> None:
        values[key] = max(values.get(key, 0), value)

    for rule in pack.rules:
        p = rule.params
        if rule.check == "attribute_yes":
            values[p["attribute"]] = "是"
        elif rule.check == "attribute_at_least":
            kind = pack.attribute(p["attribute"]).kind
            at_least(p["attribute"], round(p["min"] * 100, 6) if kind == "percent" else p["min"])
        elif rule.check == "attribute_per_households":
            per = p["min_per_100"] or p["min_per_100_by_built"][built or "new"]
            at_least(p["attribute"], math.ceil(per * households) / 100)
        elif rule.check == "attribute_share":
            values.setdefault(p["of"], 100_000)
    for rule in pack.rules:  # shares once their totals are known
        if rule.check == "attribute_share":
            p = rule.params
            at_least(p["attribute"], math.ceil(p["min_ratio"] * values[p["of"]]))
    return values


def main() -> None:
    pack = load_pack("guangxi")
    estates = geocheck.check(SAMPLE, pack=pack).site.estates
    write_template(pack, OUTPUT, estates)
    book = load_workbook(OUTPUT)
    ws = book["指标填报"]
    headers = {c.value: c.column for c in ws[1]}
    col = {a.key: headers[a.header] for a in pack.attributes}
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}

    def key_of(rule_id: str) -> str:
        return pack.rule(rule_id).params["attribute"]

    for e in estates.itertuples():
        r = rows[e.estate_id]
        hh = SHEET_HOUSEHOLDS.get(e.estate_id, e.households)
        built = "existing" if e.estate_id in SHEET_BUILT else e.built
        if e.estate_id in SHEET_HOUSEHOLDS:
            ws.cell(row=r, column=headers["户数（户）"], value=hh)
        if e.estate_id in SHEET_BUILT:
            ws.cell(row=r, column=headers["建设类型（新建/已建成）"],
                    value=SHEET_BUILT[e.estate_id])
        if e.estate_id in SHEET_YEARS:
            ws.cell(row=r, column=headers["创建年份（年）"], value=SHEET_YEARS[e.estate_id])
        values = passing_values(pack, hh, built)
        if e.estate_id == "NN-003":
            values[key_of("GX-63")] = 90
        if e.estate_id == "NN-004":
            for i in (1, 2, 3, 4, 5, 11, 12, 13, 14):
                for rule in pack.rules:
                    if rule.standard == f"GX-{i:02d}" and rule.check == "attribute_yes":
                        values[rule.params["attribute"]] = "否"
        if e.estate_id == "NN-005":
            for rid in ("GX-62", "GX-63", "GX-64", "GX-65"):
                values[key_of(rid)] = None
        if e.estate_id == "NN-006":
            values[key_of("GX-16-staff")] = 6
        if e.estate_id == "NN-007":
            values[key_of("GX-51-elderly-rooms")] = 15 * hh / 100
        if e.estate_id == "NN-011":
            share = pack.rule("GX-08").params
            values[share["attribute"]] = 0.08 * values[share["of"]]
        if e.estate_id == "NN-010":
            ws.delete_rows(r)
            rows = {ws.cell(row=i, column=1).value: i for i in range(2, ws.max_row + 1)}
            continue
        for key, value in values.items():
            ws.cell(row=r, column=col[key], value=value)
    extra = ws.max_row + 1
    ws.cell(row=extra, column=1, value="NN-099")
    ws.cell(row=extra, column=2, value="不存在的小区")
    ws.cell(row=extra, column=col[key_of("GX-16-staff")], value=9)
    book.save(OUTPUT)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
