"""Life circles on foot (issue 12): the share of an estate's households (or residential
buildings) within a walk of a facility, per estate and for the whole area (life_circles.csv).

Sites are drawn by hand in local metres (helpers.at / rect); every walk and share is worked out
on paper in the comments. Estates lie 5 km apart so that each sees only its own features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import X0, Y0, at, estate, layer, rect, write_gpkg
from shapely.geometry import LineString

import geocheck
from geocheck import PackError, load_pack
from geocheck.rules.circles import NEEDS_PATHS_CIRCLE
from geocheck.views.summary import summarise

HEAD = """
[pack]
id = "circletest"
title_zh = "生活圈测试"
title_en = "Life circle test"
document = "hand-made"
"""

RULE = """
[[rules]]
id = "{rid}"
title_zh = "生活圈"
title_en = "Life circle"
citation = "hand-made"
check = "life_circle"
params.layer = "kindergartens"
{params}
"""


def pack_file(tmp_path: Path, *rules: tuple[str, str], head: str = HEAD) -> Path:
    path = tmp_path / "circles.toml"
    path.write_text(head + "".join(RULE.format(rid=r, params=p) for r, p in rules),
                    encoding="utf-8")
    return path


def line(dx: float, *xy: tuple[float, float]) -> LineString:
    return LineString([(X0 + dx + x, Y0 + y) for x, y in xy])


# One estate (0,0)-(100,100) with three residential buildings:
#   B1 (10,10)-(30,30), 400 m2; B2 (40,10)-(60,30), 400 m2; B3 (10,60)-(50,80), 800 m2.
# Paths: P1 along y = 20 from x = 0 through (400,20) to (2000,20), crossing B1 and B2;
# P2 along y = 70 from x = 0 to (400,70), crossing B3; P3 (400,70)-(400,20) joins them.
# The kindergarten sits on P1 at (330 + k, 20). Walks, from where each footprint meets a path:
#   B1 from its east wall x = 30: 300 + k; B2 from x = 60: 270 + k;
#   B3 from x = 50 east to 400 (350), down P3 (50), west to 330 (70): 470 + k.
# 100 households split by footprint area: B1 25, B2 25, B3 50.
# At k = 0 within 300 m: B1 (exactly 300) and B2: 50 of 100 households, 2 of 3 buildings.
# At k = 0.01: B1 walks 300.01 m, beyond: 25 of 100 households, 1 of 3 buildings.
def one_estate(dx: float, eid: str, households: int | None, k: float = 0.0,
               buildings: bool = True) -> tuple[dict, list[dict], list[dict], list[dict]]:
    est = estate(eid, rect(dx, 0, dx + 100, 100), households=households)
    b = [{"building_id": f"{eid}-{name}", "use": "住宅", "geometry": rect(dx + a, c, dx + e, f)}
         for name, (a, c, e, f) in {"B1": (10, 10, 30, 30), "B2": (40, 10, 60, 30),
                                    "B3": (10, 60, 50, 80)}.items()] if buildings else []
    paths = [{"id": f"{eid}-P1", "geometry": line(dx, (0, 20), (400, 20), (2000, 20))},
             {"id": f"{eid}-P2", "geometry": line(dx, (0, 70), (400, 70))},
             {"id": f"{eid}-P3", "geometry": line(dx, (400, 70), (400, 20))}]
    kg = [{"id": f"{eid}-K", "name": "幼儿园", "geometry": at(dx + 330 + k, 20)}]
    return est, b, paths, kg


def site(tmp_path: Path, parts: list[tuple[dict, list[dict], list[dict], list[dict]]], *,
         paths: bool = True) -> Path:
    layers = {"estates": layer([p[0] for p in parts]),
              "buildings": layer([b for p in parts for b in p[1]]),
              "kindergartens": layer([k for p in parts for k in p[3]])}
    if paths:
        layers["paths"] = layer([x for p in parts for x in p[2]])
    return write_gpkg(tmp_path / "site.gpkg", layers)


def findings(result: geocheck.Result) -> pd.DataFrame:
    return result.findings.set_index(["estate_id", "rule_id"])


def test_share_of_households_worked_by_hand(tmp_path: Path) -> None:
    # E1 at k = 0: 50 of 100 households (0.5); E2 at k = 0.01: 25 of 100 (0.25).
    gpkg = site(tmp_path, [one_estate(0, "E1", 100), one_estate(5000, "E2", 100, k=0.01)])
    pack = pack_file(tmp_path, ("half", "params.minutes = 5\nparams.target = 0.5"),
                     ("above-half", "params.minutes = 5\nparams.target = 0.500001"),
                     ("quarter", "params.max_m = 300\nparams.target = 0.25"),
                     ("all", "params.minutes = 5"))
    f = findings(geocheck.check(gpkg, pack=pack))
    assert f.loc[("E1", "half"), "value"] == pytest.approx(0.5)
    assert f.loc[("E1", "half"), "status"] == "pass"  # exactly at the target
    assert f.loc[("E1", "above-half"), "status"] == "fail"
    assert f.loc[("E1", "all"), "status"] == "fail"  # the default target: every household
    assert f.loc[("E1", "half"), "walk_m"] == pytest.approx(470.0)  # B3, the farthest
    assert "50.0% of 100 households (2 of 3 residential buildings)" in \
        f.loc[("E1", "half"), "evidence"]
    assert "farthest: building E1-B3 470.0 m on foot" in f.loc[("E1", "half"), "evidence"]
    assert "by footprint area" in f.loc[("E1", "half"), "method"]
    # 300.01 m is beyond 300 m: only B2's 25 households remain
    assert f.loc[("E2", "half"), "value"] == pytest.approx(0.25)
    assert f.loc[("E2", "half"), "status"] == "fail"
    assert f.loc[("E2", "quarter"), "status"] == "pass"
    assert "300 m on foot (5 minutes at 1 m/s)" in f.loc[("E1", "half"), "threshold"]


def test_buildings_basis_and_estates_without_households(tmp_path: Path) -> None:
    # 2 of 3 buildings within 300 m: 0.666667 to the millionth. E2 has no households: with
    # basis households its buildings are counted instead, and the evidence says so.
    gpkg = site(tmp_path, [one_estate(0, "E1", 100), one_estate(5000, "E2", None),
                           one_estate(10000, "E3", 100, buildings=False)])
    pack = pack_file(tmp_path,
                     ("b", 'params.minutes = 5\nparams.basis = "buildings"\n'
                           "params.target = 0.666667"),
                     ("b-more", 'params.minutes = 5\nparams.basis = "buildings"\n'
                                "params.target = 0.666668"),
                     ("h", "params.minutes = 5\nparams.target = 0.6"))
    f = findings(geocheck.check(gpkg, pack=pack))
    assert f.loc[("E1", "b"), "value"] == pytest.approx(2 / 3, abs=1e-6)
    assert f.loc[("E1", "b"), "status"] == "pass"
    assert f.loc[("E1", "b-more"), "status"] == "fail"
    assert f.loc[("E1", "h"), "value"] == pytest.approx(0.5)
    assert f.loc[("E2", "h"), "value"] == pytest.approx(2 / 3, abs=1e-6)
    assert f.loc[("E2", "h"), "status"] == "pass"
    assert "households unknown: buildings counted" in f.loc[("E2", "h"), "evidence"]
    assert f.loc[("E3", "h"), "status"] == "no_data"
    assert "no residential building" in f.loc[("E3", "h"), "evidence"]


def test_no_paths_no_data(tmp_path: Path) -> None:
    gpkg = site(tmp_path, [one_estate(0, "E1", 100)], paths=False)
    pack = pack_file(tmp_path, ("half", "params.minutes = 5\nparams.target = 0.5"))
    result = geocheck.check(gpkg, pack=pack)
    row = findings(result).loc[("E1", "half")]
    assert row["status"] == "no_data" and row["evidence"] == NEEDS_PATHS_CIRCLE
    assert np.isnan(row["value"])
    table = result.life_circles
    assert table.loc[0, "status"] == "no_data" and table.loc[0, "estates_counted"] == 0


@pytest.mark.parametrize(("params", "says"), [
    ("params.minutes = 7", "minutes = 7 is not a life circle"),
    ("params.minutes = -5", "minutes = -5 is not a number >= 0"),
    ("params.minutes = 5\nparams.target = 1.2", "target = 1.2 is not a ratio"),
    ("params.minutes = 5\nparams.target = 0", "target = 0"),
    ("params.minutes = 5\nparams.max_m = 300", "exactly one of minutes"),
    ("params.target = 0.9", "exactly one of minutes"),
    ('params.minutes = 5\nparams.basis = "people"', "basis = 'people' is not one of"),
])
def test_pack_refuses_bad_params(tmp_path: Path, params: str, says: str) -> None:
    with pytest.raises(PackError, match="rule LC-bad") as err:
        load_pack(pack_file(tmp_path, ("LC-bad", params)))
    assert says in str(err.value)


def test_whole_area_table_and_csv(tmp_path: Path) -> None:
    # E1: 100 households, 0.5 within (50). E2: 300 households in one building B (100 m2 only:
    # the same layout without B2 and B3 is drawn by removing them), its walk 270 m: 300 within.
    # E3: households unknown: left out of the households share.
    # Whole area, households: (50 + 300) / (100 + 300) = 0.875; target 0.875 passes.
    # Buildings: E1 2 of 3, E2 1 of 1, E3 2 of 3: 5 / 7.
    e2 = one_estate(5000, "E2", 300)
    e2 = (e2[0], [b for b in e2[1] if b["building_id"] == "E2-B2"], e2[2], e2[3])
    gpkg = site(tmp_path, [one_estate(0, "E1", 100), e2, one_estate(10000, "E3", None)])
    pack = pack_file(tmp_path, ("h", "params.minutes = 5\nparams.target = 0.875"),
                     ("b", 'params.max_m = 300\nparams.basis = "buildings"\n'
                           "params.target = 0.72"))
    result = geocheck.check(gpkg, pack=pack)
    f = findings(result)
    assert f.loc[("E2", "h"), "value"] == pytest.approx(1.0)
    table = result.life_circles.set_index("rule_id")
    h, b = table.loc["h"], table.loc["b"]
    assert (h["total"], h["within"], h["share"]) == (400, 350, 0.875)
    assert (h["estates"], h["estates_counted"], h["estates_left_out"]) == (3, 2, 1)
    assert h["status"] == "pass" and h["within_m"] == 300
    assert (b["total"], b["share"]) == (7, round(5 / 7, 6))
    assert b["status"] == "fail"  # 0.714286 < 0.72
    out = tmp_path / "out"
    written = geocheck.write_outputs(result, out, formats=("csv",))
    csv = pd.read_csv(written["life_circles"], encoding="utf-8-sig").set_index("rule_id")
    assert csv.loc["h", "share"] == 0.875 and csv.loc["b", "status"] == "fail"
    # the same table in the workbook and the report
    written = geocheck.write_outputs(result, out, formats=("xlsx", "report"),
                                     report_maps=0)
    sheet = pd.read_excel(written["xlsx"], sheet_name="生活圈 life circles").set_index("rule_id")
    assert sheet.loc["h", "share"] == 0.875 and sheet.loc["b", "status"] == "fail"
    assert (sheet.loc["h", "total"], sheet.loc["h", "within"]) == (400, 350)
    page = written["report"].read_text(encoding="utf-8")
    section = page[page.index("生活圈（全区）"):]
    section = section[:section.index("</table>")]
    assert "87.5%" in section and "5/7" not in section and "2/3" in section
    assert "71.4%" in section  # 5 / 7 = 0.714285..., truncated, below its target
    text = summarise(result)
    assert "life circles, whole area" in text
    assert any(ln.split()[:1] == ["h"] and "87.5%" in ln and "pass" in ln
               for ln in text.splitlines())


def test_shipped_pack_extends_gb50180_and_targets_can_be_set(tmp_path: Path) -> None:
    base, circles = load_pack("gb50180"), load_pack("gb50180-life-circle")
    assert [r.id for r in circles.rules][:len(base.rules)] == [r.id for r in base.rules]
    lc = {r.id: r.params for r in circles.rules if r.check == "life_circle"}
    assert lc["GB-LC-kindergarten-5min"]["minutes"] == 5
    assert lc["GB-LC-primary-500"]["max_m"] == 500
    assert lc["GB-LC-park-500"]["target"] == 0.9
    assert circles.reference
    mine = tmp_path / "mine.toml"
    mine.write_text('[pack]\nid = "mine"\nextends = "gb50180-life-circle"\n\n'
                    '[[rules]]\nid = "GB-LC-park-500"\nparams.target = 0.8\n', encoding="utf-8")
    params = load_pack(mine).rule("GB-LC-park-500").params
    assert params["target"] == 0.8 and params["max_m"] == 500
