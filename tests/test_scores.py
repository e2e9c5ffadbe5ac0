"""Gongshu's 300-point score and star ratings (seed 004), worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import estate, rect
from openpyxl import Workbook

import geocheck
from geocheck.cli import main

KEYS = ["gs_satisfaction", "gs_civility", "gs_env_sanitation", "gs_env_housing",
        "gs_env_property", "gs_order_vehicles", "gs_order_fire", "gs_order_outsiders",
        "gs_order_lifts", "gs_svc_community", "gs_svc_infrastructure"]
FULL = [100, 100, 19, 21, 35, 23, 18, 20, 14, 18, 12]  # full marks: 80 + 40 + 75 + 75 + 30
ROWS = {
    # satisfaction 92 %: 80 - 0.8 x 8 = 73.6; civility 95 %: 40 - 0.4 x 5 = 38;
    # fire 14 of 18: 180 - 4 = 176 from the items; total 287.6 >= 280 and 92 % >= 90 %: 5 stars
    "A": [92, 95, 19, 21, 35, 23, 14, 20, 14, 18, 12],
    # satisfaction 88 %: 70.4; civility 100 %: 40; items full 180: 290.4 points, but 88 % < 90 %
    # so not 5 stars; >= 250 and >= 85 %: 4 stars
    "B": [88, 100, *FULL[2:]],
    # satisfaction 59 % < 60 %: fails outright; its 47.2 + 40 + 180 = 267.2 points do not matter
    "C": [59, 100, *FULL[2:]],
    # 80 %: 64; civility 70 %: 28; items 180 - 30 = 150 (property 15/35, lifts 4/14):
    # 242 points: >= 220 and 80 % >= 80 %: 3 stars
    "D": [80, 70, 19, 21, 15, 23, 18, 20, 4, 18, 12],
    # lifts blank: 80 + 40 + 166 known, up to 14 more: 286-300 points, 100 %: 5 stars either way
    "E": [100, 100, 19, 21, 35, 23, 18, 20, None, 18, 12],
    # property blank: 73.6 + 38 + 145 = 256.6 known, up to 291.6: 4 or 5 stars: no data
    "F": [92, 95, 19, 21, None, 23, 18, 20, 14, 18, 12],
}


@pytest.fixture
def inputs(tmp_path: Path, gpkg) -> tuple[Path, Path]:
    layers = gpkg(estates=[estate(e, rect(200 * i, 0, 200 * i + 100, 100))
                           for i, e in enumerate(ROWS)])
    pack = geocheck.load_pack("gongshu")
    book = Workbook()
    ws = book.active
    ws.append(["小区编号", *(a.header for k in KEYS for a in [pack.attribute(k)])])
    for eid, values in ROWS.items():
        ws.append([eid, *values])
    book.save(tmp_path / "scores.xlsx")
    return layers, tmp_path / "scores.xlsx"


def test_points_parts_and_stars(inputs) -> None:
    layers, sheet = inputs
    table = geocheck.check(layers, pack="gongshu", attributes=sheet).scores.set_index(
        "estate_id")
    assert table["total"].round(6).tolist()[:4] == [287.6, 290.4, 267.2, 242.0]
    assert table.loc["A", ["satisfaction", "civility", "environment", "order", "services"]
                     ].tolist() == pytest.approx([73.6, 38, 75, 71, 30])
    assert table["stars"].tolist()[:5] == [5, 4, 0, 3, 5]
    assert table.loc["C", "rating"].startswith("fails outright: satisfaction 59% < 60%")
    assert table.loc["B", "rating"] == "4 stars: 290.4 points, satisfaction 88%"
    assert table.loc["B", "rating_zh"] == "4 星：290.4 分，满意率 88%"
    assert table.loc["C", "rating_zh"].startswith("直接不合格：满意率 59%，低于 60%")
    assert pd.isna(table.loc["E", "total"]) and table.loc["E", "items_missing"] == 1
    assert pd.isna(table.loc["F", "stars"])
    assert table.loc["F", "rating"].startswith("no data: between 4 and 5 stars; 256.6 points "
                                               "known, 1 items blank (up to 35 more)")
    assert table.loc["F", "rating_zh"].startswith("缺数据：4 至 5 星之间；已知 256.6 分，1 项空白"
                                                  "（最多还有 35 分）")


def test_cli_shows_scores(inputs, tmp_path, capsys) -> None:
    layers, sheet = inputs
    out = tmp_path / "out"
    assert main(["check", str(layers), "--pack", "gongshu", "--attributes", str(sheet),
                 "-o", str(out)]) == 1
    text = capsys.readouterr().out
    assert "score (of 300 points) and stars:" in text
    assert "5 stars: 287.6 points, satisfaction 92%" in text
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index("estate_id")
    assert summary.loc["D", "total"] == pytest.approx(242.0)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "5 stars: 287.6 points" in html
