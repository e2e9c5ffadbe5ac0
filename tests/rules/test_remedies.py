"""Remedies: what it takes for each failing finding to pass, worked out by hand.

One estate E, 200 m x 100 m (20,000 m2), 1,820 households, new, checked against the real
Guangxi pack with a filled-in attributes sheet; its measures are chosen so each remedy is a
sum on paper. Gongshu's score and Guangzhou's grid cells are checked on their own packs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import GONGSHU_KEYS, GONGSHU_ROWS, at, estate, layer, rect, write_gpkg
from openpyxl import Workbook

import geocheck
from geocheck.rules.result import FINDINGS_COLUMNS


def building(bid: str, geom, eid: str = "E") -> dict:
    return {"building_id": bid, "use": None, "estate_id": eid, "geometry": geom}


def point(pid: str, geom) -> dict:
    return {"id": pid, "name": None, "geometry": geom}


def sheet(path: Path, pack_id: str, rows: dict[str, dict[str, object]]) -> Path:
    """An attributes workbook: one row per estate id, cells by attribute key."""
    pack = geocheck.load_pack(pack_id)
    keys = sorted({k for cells in rows.values() for k in cells})
    book = Workbook()
    ws = book.active
    ws.append(["小区编号", *(pack.attribute(k).header for k in keys)])
    for eid, cells in rows.items():
        ws.append([eid, *(cells.get(k) for k in keys)])
    book.save(path)
    return path


@pytest.fixture(scope="module")
def guangxi(tmp_path_factory) -> pd.DataFrame:
    """The findings of estate E, indexed by rule id."""
    tmp = tmp_path_factory.mktemp("remedies")
    layers = {
        "estates": layer([estate("E", rect(0, 0, 200, 100), households=1820, built="new")]),
        # green 50 x 100 = 5,000 m2 of 20,000: 25 %
        "green_space": layer([point("g", rect(0, 0, 50, 100))]),
        # b1 is 10 m from the garbage point at (30, 15), b2 120 m from it
        "buildings": layer([building("b1", rect(10, 10, 20, 20)),
                            building("b2", rect(150, 10, 160, 20))]),
        # gp1 serves b1 and b2? no: only b1; gp2 is 2 m east of b1 (setback 5 m)
        "garbage_points": layer([point("gp1", at(30, 15)), point("gp2", at(22, 15))]),
        # bus stop 640 m east of the boundary (x = 200), rail 1,000 m: no entrances
        "bus_stops": layer([point("bus", at(840, 50))]),
        "rail_stations": layer([point("rail", at(1200, 50))]),
        "kindergartens": layer([point("kg", at(2000, 50))]),
    }
    gpkg = write_gpkg(tmp / "in.gpkg", layers)
    cells = {"gx16_staff": 5, "gx63_satisfaction_property": 90.3, "elderly_rooms_area": 300.5,
             "gx08_commercial_area": 9500.4, "gx08_total_floor_area": 100000,
             "gx01_campaign_programme": "否", "gx21_books": 1200}
    book = sheet(tmp / "sheet.xlsx", "guangxi", {"E": cells})
    result = geocheck.check(gpkg, attributes=book)
    return result.findings.set_index("rule_id")


def remedy(findings: pd.DataFrame, rule: str) -> str:
    assert findings.loc[rule, "status"] == "fail", findings.loc[rule, "evidence"]
    return findings.loc[rule, "remedy"]


def test_remedy_is_a_findings_column() -> None:
    assert "remedy" in FINDINGS_COLUMNS


def test_greening_area_to_add(guangxi) -> None:
    # 35 % of 20,000 m2 = 7,000 m2; 5,000 there: 2,000 m2 to add
    assert remedy(guangxi, "GX-10-greening") == (
        "add 2,000 m2 of green inside the estate: 35 % of 20,000 m2 is 7,000 m2, green now "
        "5,000 m2")


def test_greening_rounds_up_to_a_passing_area(gpkg) -> None:
    # estate 100 x 33.3 = 3,330 m2: 35 % is 1,165.5 m2; green 10 x 100 = 1,000 m2: 165.5 short,
    # so 166 m2 (165 would leave 1,165 m2 = 34.98 %, a fail)
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 33.3))],
                green_space=[point("g", rect(0, 0, 30.03003003003003, 33.3))])
    f = geocheck.check(path).findings.set_index("rule_id")
    assert remedy(f, "GX-10-greening").startswith("add 166 m2 of green")
    assert (1000 + 165) / 3330 < 0.35 <= (1000 + 166) / 3330


def test_distance_beyond_the_threshold(guangxi) -> None:
    assert remedy(guangxi, "GX-53") == (
        "nearest bus stop 640.0 m, 140.0 m beyond 500 m; nearest rail station 1,000.0 m, "
        "200.0 m beyond 800 m: a bus stop within 500 m or a rail station within 800 m of the "
        "estate is needed")


def test_kindergarten_required_with_its_households(guangxi) -> None:
    assert remedy(guangxi, "GX-06-kindergarten") == (
        "a kindergarten is required inside the estate: 1,820 households (threshold 1,500)")


def test_garbage_radius_names_the_buildings_not_served(guangxi) -> None:
    # b2 (150-160 x 10-20) is 120 m from gp1 at (30, 15): 50 m beyond 70 m; b1 is served
    text = remedy(guangxi, "GX-06-garbage-radius")
    assert text.startswith("1 of 2 residential buildings beyond 70 m (farthest 50.0 m beyond; "
                           "b2 120.0 m)")
    assert text.endswith("; see proposals.gpkg (sites for the estates the run proposes for: at "
                         "most --proposals, the worst first; the summary names the others)")


def test_garbage_setback_names_the_points_too_close(guangxi) -> None:
    # gp2 at (22, 15) is 2 m from b1's east face x = 20: 3 m short of 5 m
    assert remedy(guangxi, "GX-06-garbage-setback").startswith(
        "garbage collection points closer than 5 m: 1 (gp2 2.0 m from building b1 (3.0 m "
        "short)); move each at least 5 m from every building")


def test_count_short(guangxi) -> None:
    assert remedy(guangxi, "GX-16-staff") == "2 人 short of 7 人 (社区专职工作人员 5 人)"


def test_percentage_points_short(guangxi) -> None:
    # 95 % - 90.3 % = 4.7 points
    assert remedy(guangxi, "GX-63").startswith("4.7 percentage points short of 95 %")


def test_room_area_short_per_100_households(guangxi) -> None:
    # new estate: 20 m2 per 100 households x 1,820 = 364 m2; 300.5 given: 63.5 short -> 64 m2
    assert remedy(guangxi, "GX-51-elderly-rooms") == (
        "64 m2 short: 20 m2 per 100 households x 1,820 households = 364 m2 needed, 300.5 m2 "
        "given")


def test_share_short(guangxi) -> None:
    # 10 % of 100,000 m2 = 10,000 m2; 9,500.4 given: 499.6 short -> 500 m2
    assert remedy(guangxi, "GX-08") == (
        "社区商业和综合服务设施面积 500 m2 short: 10 % of 社区总建筑面积 100,000 m2 is 10,000 m2, "
        "9,500.4 m2 given")


def test_yes_no_item(guangxi) -> None:
    assert remedy(guangxi, "GX-01") == (
        "已制定创建活动方案并建立领导机制: now 否 (no); to be done and recorded as 是 (yes)")


def test_no_remedy_for_pass_or_no_data(guangxi) -> None:
    assert guangxi.loc["GX-21-books", "status"] == "pass"
    assert guangxi.loc["GX-21-books", "remedy"] == ""
    no_data = guangxi[guangxi["status"] == "no_data"]
    assert len(no_data) > 0 and (no_data["remedy"] == "").all()
    fails = guangxi[guangxi["status"] == "fail"]
    assert (fails["remedy"] != "").all()


def test_grid_cells_missing(gpkg, tmp_path) -> None:
    # 1,820 households at most 200 per cell: 10 cells (9.1 rounded up); 8 given: 2 more
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100), households=1820)])
    book = sheet(tmp_path / "gz.xlsx", "guangzhou", {"E": {"gz_grid_cells": 8}})
    f = geocheck.check(path, pack="guangzhou", attributes=book).findings.set_index("rule_id")
    assert remedy(f, "GZ-grid").startswith("2 more ")
    assert "1,820 households / 200 = 10 needed, 8 given" in remedy(f, "GZ-grid")


def test_gongshu_points_to_the_next_star(gpkg, tmp_path) -> None:
    path = gpkg(estates=[estate(e, rect(200 * i, 0, 200 * i + 100, 100))
                         for i, e in enumerate(GONGSHU_ROWS)])
    book = sheet(tmp_path / "gs.xlsx", "gongshu",
                 {e: dict(zip(GONGSHU_KEYS, v, strict=True)) for e, v in GONGSHU_ROWS.items()})
    f = geocheck.check(path, pack="gongshu", attributes=book).findings
    f = f.set_index(["estate_id", "rule_id"])
    # D: civility 70 % -> 40 - 0.4 x 30 = 28 (12 deducted); 242 points, 3 stars; 4 stars at
    # 250 points (8 more) and 85 % satisfaction (D has 80 %)
    assert f.loc[("D", "GS-civility"), "remedy"] == (
        "12 points deducted of 40: 小区文明程度测评结果（第三方检查） 70 %, full marks at 100 %; "
        "total 242 points: 8 more for 4 stars (250), which also need satisfaction >= 85 % "
        "(now 80 %)")
    # B: 290.4 points is enough for 5 stars (280) but 88 % < 90 %
    assert f.loc[("B", "GS-satisfaction"), "remedy"].endswith(
        "total 290.4 points: enough for 5 stars (280), which also need satisfaction >= 90 % "
        "(now 88 %)")
    # C: 59 % is below the 60 % floor
    assert "below the 60 % floor" in f.loc[("C", "GS-satisfaction"), "remedy"]


def test_remedies_judged_on_foot(gpkg, tmp_path) -> None:
    # the river-and-bridge site of test_walk_rules: A's stop is 700 m away on foot (500 m
    # allowed: 200 m beyond); D's building walks 90 m to its garbage point (70 m: 20 beyond);
    # D's nearest stop (1.9 km) is not reached within the search (1.6 x 500 m)
    from test_walk_rules import LAYERS, pack_file
    result = geocheck.check(gpkg(**LAYERS), pack=pack_file(tmp_path), distance="walk")
    f = result.findings.set_index(["estate_id", "rule_id"])
    assert f.loc[("A", "T-bus"), "remedy"] == (
        "nearest bus stop 700.0 m on foot, 200.0 m beyond 500 m: a bus stop within 500 m of the "
        "estate is needed")
    assert f.loc[("D", "T-bus"), "remedy"].startswith(
        "no bus stop reached on foot within the search")
    assert f.loc[("D", "T-garbage"), "remedy"] == (
        "1 of 1 residential buildings beyond 70 m on foot (farthest 20.0 m beyond; B-D 90.0 m): "
        "a garbage collection point within 70 m of each is needed")


def test_a_remedy_names_five_rows_per_estate_in_order_and_counts_the_rest() -> None:
    """Rows of two estates in mixed order: each estate's rows come in key order (equal keys in
    row order), five are named and the rest counted; only the named rows are formatted."""
    from geocheck.rules.remedies import _listed

    est = np.array([1, 0, 1, 1, 1, 1, 1, 1, 0])
    key = np.array([5.0, 2.0, 1.0, 4.0, 3.0, 3.0, 0.5, 9.0, 1.0])
    asked = []

    def text(rows: np.ndarray) -> list[str]:
        asked.extend(rows.tolist())
        return [f"r{r}" for r in rows]

    estates, counts, first, names = _listed(est, key, text)
    assert estates.tolist() == [0, 1]
    assert counts.tolist() == [2, 7]
    assert first.tolist() == [8, 6]  # the smallest key of each estate
    assert names == ["r8, r1", "r6, r2, r4, r5, r3 and 2 more"]
    assert sorted(asked) == [1, 2, 3, 4, 5, 6, 8]  # rows 0 and 7 (estate 1's largest) unnamed
    assert _listed(np.zeros(0, int), np.zeros(0), text)[3] == []
