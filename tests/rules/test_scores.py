"""Gongshu's 300-point score and star ratings (seed 004), worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import GONGSHU_KEYS, GONGSHU_ROWS, estate, rect
from openpyxl import Workbook

import geocheck
from geocheck.cli import main


@pytest.fixture
def inputs(tmp_path: Path, gpkg) -> tuple[Path, Path]:
    layers = gpkg(estates=[estate(e, rect(200 * i, 0, 200 * i + 100, 100))
                           for i, e in enumerate(GONGSHU_ROWS)])
    pack = geocheck.load_pack("gongshu")
    book = Workbook()
    ws = book.active
    ws.append(["小区编号", *(a.header for k in GONGSHU_KEYS for a in [pack.attribute(k)])])
    for eid, values in GONGSHU_ROWS.items():
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
