"""Planning conditions (规划条件) judged on hand-built plots whose figures are worked out here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from helpers import rect

import geocheck
from geocheck.core.errors import GeocheckError, InputError
from geocheck.inputs.conditions import read_conditions
from geocheck.rules.conditions import boundary_edges

# Plot A: 100 x 100 = 10 000 m2. Buildings: A1 (10..30, 10..40) 600 m2, 10F, 12 m from no
# side: south 10, west 10; A2 (60..95, 70..90) 700 m2, "6层", east 5, north 10.
# Floor area 600 x 10 + 700 x 6 = 10 200 m2: plot ratio 1.02. Footprints 1 300 m2: 13 %.
# Green (40..60, 0..50) 1 000 m2 + (0..20, 60..100) 800 m2 = 18 %.
# Plot B: 50 x 40 = 2 000 m2, one building B1 (5..25, 5..15) 200 m2 without storeys but a
# height of 20 m, which straddles nothing: south 5, west 5; no green.
# Plot C (200..240, 0..40): building C1 (230..250, 10..20) reaches 10 m beyond the east edge.


@pytest.fixture
def plan(gpkg):
    return gpkg(
        estates=[{"estate_id": "A", "name": "甲", "geometry": rect(0, 0, 100, 100)},
                 {"estate_id": "B", "name": "乙", "geometry": rect(300, 0, 350, 40)},
                 {"estate_id": "C", "name": "丙", "geometry": rect(200, 0, 240, 40)}],
        buildings=[{"building_id": "A1", "estate_id": "A", "floors": "10",
                    "geometry": rect(10, 10, 30, 40)},
                   {"building_id": "A2", "estate_id": "A", "floors": "6层",
                    "geometry": rect(60, 70, 95, 90)},
                   {"building_id": "B1", "estate_id": "B", "height": 20.0,
                    "geometry": rect(305, 5, 325, 15)},
                   {"building_id": "C1", "estate_id": "C", "floors": "3",
                    "geometry": rect(230, 10, 250, 20)}],
        green_space=[{"id": "g1", "geometry": rect(40, 0, 60, 50)},
                     {"id": "g2", "geometry": rect(0, 60, 20, 100)}])


def _conds(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "conditions.csv"
    p.write_text(text, encoding="utf-8")
    return p


def _table(result: geocheck.Result) -> dict[tuple[str, str], tuple[str, float]]:
    f = result.findings[result.findings["rule_id"].str.startswith("COND-")]
    return {(r.estate_id, r.rule_id): (r.status, r.value) for r in f.itertuples()}


def test_each_condition_is_measured_and_judged(plan, tmp_path) -> None:
    conds = _conds(tmp_path, "key,value\n容积率,1.0\n建筑密度,13%\n绿地率,0.18\n"
                             "建筑退让用地红线,5\n北侧退让用地红线,12\n建筑高度,30\n层高,3\n")
    result = geocheck.check(plan, pack="gb50180", conditions=conds)
    t = _table(result)
    assert t[("A", "COND-plot-ratio")] == ("fail", pytest.approx(1.02))
    assert t[("A", "COND-density")] == ("pass", pytest.approx(0.13))  # <= 13 %: inclusive
    assert t[("A", "COND-green-ratio")] == ("pass", pytest.approx(0.18))
    assert t[("A", "COND-setback")] == ("fail", pytest.approx(10.0))  # north 10 < 12
    assert t[("A", "COND-height")] == ("pass", pytest.approx(30.0))  # 10 x 3 m
    assert t[("B", "COND-plot-ratio")][0] == "no_data"  # B1 has no storeys
    assert t[("B", "COND-density")] == ("pass", pytest.approx(0.1))
    assert t[("B", "COND-green-ratio")] == ("fail", pytest.approx(0.0))
    assert t[("B", "COND-setback")] == ("pass", pytest.approx(5.0))
    assert t[("B", "COND-height")] == ("pass", pytest.approx(20.0))  # its height field
    assert t[("C", "COND-setback")] == ("fail", pytest.approx(-10.0))  # beyond the red line
    ev = result.evidence[result.evidence["rule_id"] == "COND-setback"]
    a = ev[ev["estate_id"] == "A"]  # A2's 10 m to the north edge, the one side short
    assert len(a) == 1 and a.geometry.iloc[0].length == pytest.approx(10.0)
    assert a["label"].iloc[0] == "COND-setback: north setback 10.00 m < 12 m"
    c = ev[ev["estate_id"] == "C"]  # C1 crosses the east edge only; 10 m from the south
    assert c["label"].tolist() == ["COND-setback: east setback -10.00 m < 5 m"]


def test_each_failing_condition_says_what_it_takes_to_pass(plan, tmp_path) -> None:
    # A: floor area 10,200 m2 on 10,000 m2 against plot ratio 1.0: 200 m2 too much; footprints
    # 1,300 m2 against 12 %: 100 m2 too much; green 1,800 m2 against 20 %: 200 m2 short;
    # north 10 m against 12 m: 2 m; tallest 10 x 3 m = 30 m against 24 m: 6 m, 2 storeys.
    # C: C1 10 m beyond the east edge against 5 m: 15 m.
    conds = _conds(tmp_path, "key,value\n容积率,1.0\n建筑密度,12%\n绿地率,0.2\n"
                             "建筑退让用地红线,5\n北侧退让用地红线,12\n建筑高度,24\n层高,3\n")
    f = geocheck.check(plan, pack="gb50180", conditions=conds).findings
    fix = {(r.estate_id, r.rule_id): r.remedy for r in f.itertuples()
           if r.rule_id.startswith("COND-")}
    assert fix[("A", "COND-plot-ratio")] == (
        "take away 200 m2 of floor area: plot ratio 1 on the plot's 10,000 m2 is 10,000 m2 (the "
        "planning condition), the plan has 10,200 m2")
    assert fix[("A", "COND-density")].startswith("take away 100 m2 of footprint: 12 % of")
    assert fix[("A", "COND-green-ratio")].startswith("add 200 m2 of green: 20 % of the plot's "
                                                     "10,000 m2 is 2,000 m2")
    assert fix[("A", "COND-setback")] == "move back 北 north 2.00 m (10.00 m, 12 m required)"
    assert fix[("A", "COND-height")] == ("lower the tallest building by 6 m to 24 m "
                                         "(about 2 storeys of 3 m)")
    assert fix[("C", "COND-setback")] == "move back 东 east 15.00 m (-10.00 m, 5 m required)"
    assert fix[("B", "COND-setback")] == ""  # passes: nothing to do


def test_a_condition_is_cited_as_the_reviewers_figure(plan, tmp_path) -> None:
    conds = _conds(tmp_path, "指标,数值\n绿地率,35%\n")
    f = geocheck.check(plan, pack="gb50180", conditions=conds).findings
    row = f[(f["rule_id"] == "COND-green-ratio") & (f["estate_id"] == "A")].iloc[0]
    assert row["citation"] == ("规划条件 (figure given by the reviewer): 绿地率 = 35% "
                               "(conditions.csv)")
    assert row["status"] == "fail" and row["threshold"] == ">= 35 %"
    assert not f["rule_id"].isin(["COND-plot-ratio", "COND-height"]).any()  # not given


def test_height_without_storey_height_is_no_data(plan, tmp_path) -> None:
    t = _table(geocheck.check(plan, pack="gb50180",
                              conditions=_conds(tmp_path, "建筑高度,30\n")))
    assert t[("A", "COND-height")][0] == "no_data"  # storeys but no 层高
    assert t[("B", "COND-height")] == ("pass", pytest.approx(20.0))


def test_boundary_edges_face_their_sides() -> None:
    import geopandas as gpd
    # a clockwise square and a triangle whose long edge faces north-east (45 deg: north)
    cw = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)])
    tri = shapely.Polygon([(20, 0), (30, 0), (20, 10)])
    e = boundary_edges(gpd.GeoDataFrame(geometry=[cw, tri], crs="EPSG:4545"))
    sq = e[e["estate_pos"] == 0]
    mid = shapely.centroid(sq["geometry"].to_numpy())
    got = {(round(p.x), round(p.y)): s for p, s in zip(mid, sq["side"], strict=True)}
    assert got == {(0, 5): "west", (5, 10): "north", (10, 5): "east", (5, 0): "south"}
    assert sorted(e.loc[e["estate_pos"] == 1, "side"]) == ["north", "south", "west"]


@pytest.mark.parametrize("text, message", [
    ("绿地率,35\n", "more than 1"),
    ("容积率,abc\n", "not a number"),
    ("容积率,1\n容积率,2\n", "given twice"),
    ("楼间距,10\n", "unknown planning condition"),
    ("容积率,\n", "has no value"),
    ("建筑高度,30%\n", "not a percentage"),
])
def test_bad_conditions_are_refused_by_name(tmp_path, text, message) -> None:
    with pytest.raises(InputError, match=message):
        read_conditions(_conds(tmp_path, text))


def test_conditions_from_toml_and_project(tmp_path, plan) -> None:
    p = tmp_path / "c.toml"
    p.write_text('"容积率" = 2.5\nbuilding_density_max = "30%"\n', encoding="utf-8")
    got = {c.key: c.value for c in read_conditions(p)}
    assert got == {"plot_ratio_max": 2.5, "building_density_max": pytest.approx(0.3)}
    proj = tmp_path / "p.toml"
    proj.write_text(f'pack = "gb50180"\n[layers.estates]\npath = "{plan}"\nlayer = "estates"\n'
                    f'[layers.buildings]\npath = "{plan}"\nlayer = "buildings"\n'
                    '[conditions]\n"建筑密度" = "10%"\n', encoding="utf-8")
    t = _table(geocheck.check(proj))
    assert t[("A", "COND-density")] == ("fail", pytest.approx(0.13))
    assert set(r for _, r in t) == {"COND-density"}


def test_a_wrong_conditions_file_is_refused(tmp_path, plan) -> None:
    wrong = tmp_path / "x.json"
    wrong.write_text("{}", encoding="utf-8")
    with pytest.raises(GeocheckError, match=r"not a \.csv, \.xlsx or \.toml"):
        geocheck.check(plan, conditions=wrong)


def test_floors_are_parsed_from_fields_and_labels() -> None:
    import pandas as pd

    from geocheck.inputs.storeys import parse_floors, parse_height
    vals = pd.Series(["18", "18F", "6层", "1#", None, 3, 2.5, "1#楼 22F"])
    got = parse_floors(vals)
    assert got[[0, 1, 2, 5, 7]].tolist() == [18.0, 18.0, 6.0, 3.0, 22.0]
    assert got[[3, 4, 6]].isna().all()
    labels = parse_floors(vals, from_label=pd.Series(True, index=vals.index))
    assert np.isnan(labels[0]) and labels[1] == 18.0 and labels[7] == 22.0  # "18" may be 18#
    assert parse_height(pd.Series(["54.3m", "20米", -1, 30])).tolist()[:2] == [54.3, 20.0]


def test_storeys_are_read_per_building_and_unreadable_ones_noted() -> None:
    """Each distinct value is read once, then given back to every building holding it."""
    import pandas as pd

    from geocheck.core.ledger import Ledger
    from geocheck.inputs.storeys import read_storeys
    b = pd.DataFrame({"feature_id": list("abcdef"),
                      "floors": [18.0, np.nan, 3.5, 18.0, 500.0, 2.0],
                      "height": pd.Series(["54.3m", " ", "x", None, "20米", "54.3m"],
                                          dtype=object)})
    ledger = Ledger()
    read_storeys(b, ledger, label_floors=False)
    assert b["floors"].tolist()[::3] == [18.0, 18.0] and b["floors"][5] == 2.0
    assert b["floors"][[1, 2, 4]].isna().all()  # blank, not whole, above 200 storeys
    assert b["height"][[0, 4, 5]].tolist() == [54.3, 20.0, 54.3]
    assert b["height"][[1, 2, 3]].isna().all()
    assert ledger.notes == [
        "buildings: floors unreadable for 2 building(s): c (3.5), e (500.0); they count as "
        "no data for the planning conditions",
        "buildings: height unreadable for 1 building(s): c ('x'); they count as no data for "
        "the planning conditions"]
    labels = pd.DataFrame({"feature_id": list("abc"), "floors": ["18F", "1#", "7层"],
                           "height": [None] * 3})
    quiet = Ledger()
    read_storeys(labels, quiet, label_floors=True)  # a label naming the building: no storeys
    assert labels["floors"].tolist()[::2] == [18.0, 7.0] and np.isnan(labels["floors"][1])
    assert quiet.notes == []


def test_check_on_the_command_line_takes_conditions(plan, tmp_path) -> None:
    import json

    from geocheck.cli import main
    conds = _conds(tmp_path, "容积率,1.0\n")  # no header row: the first row is data
    out = tmp_path / "out"
    assert main(["check", str(plan), "--pack", "gb50180", "--conditions", str(conds),
                 "-o", str(out), "--format", "csv", "-q"]) == 1
    import pandas as pd
    f = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    cond = f[f["rule_id"] == "COND-plot-ratio"].set_index("estate_id")["status"].to_dict()
    assert cond == {"A": "fail", "B": "no_data", "C": "pass"}  # C: 200 m2 x 3 / 1 600 m2
    manifest = json.loads((out / "geocheck-run.json").read_text(encoding="utf-8"))
    assert any(i["path"].endswith("conditions.csv") for i in manifest["inputs"])
