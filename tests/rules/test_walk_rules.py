"""Distance rules on foot (issue 12): ``walk_m`` in the findings, ``--distance walk``, detours,
rejected paths, and Nanhai's 15-minute medical circle measured on the map.

Every site is drawn by hand in local metres (helpers.at / rect); the walks are worked out on
paper in the comments. Estates lie 2 km apart so that each sees only its own features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import X0, Y0, at, estate, layer, rect, write_gpkg
from shapely.geometry import LineString

import geocheck
from geocheck.core.errors import InputError, PackError
from geocheck.rules.walking import DETOUR_RATIO, LIMIT_RATIO, WALK_METHOD, WALK_SPEED_M_S

PACK = """
[pack]
id = "walktest"
title_zh = "步行测试"
title_en = "Walking test"
document = "hand-made"
{extra}

[[rules]]
id = "T-bus"
title_zh = "500米内有公交站"
title_en = "Bus stop within 500 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = {{ bus_stops = 500 }}

[[rules]]
id = "T-garbage"
title_zh = "住宅楼70米内有垃圾收集点"
title_en = "Garbage point within 70 m of every residential building"
citation = "hand-made"
check = "buildings_within"
params.layer = "garbage_points"
params.max_m = 70

[[rules]]
id = "T-setback"
title_zh = "垃圾收集点距建筑不少于5米"
title_en = "Garbage point at least 5 m from buildings"
citation = "hand-made"
check = "setback_from_buildings"
params.layer = "garbage_points"
params.min_m = 5
"""


def line(*xy: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


def pack_file(tmp_path: Path, extra: str = "", name: str = "walktest.toml") -> Path:
    path = tmp_path / name
    path.write_text(PACK.format(extra=extra), encoding="utf-8")
    return path


# A: river and bridge. Estate (0,0)-(100,100); bus stop (50,300), 200 m north of the boundary
# as the crow flies, across a river. The only way: a path from the boundary at (50,100) north
# 50 m, east 250 m to the bridge at x = 300, 100 m across, 250 m back west, 50 m north to the
# stop: 50 + 250 + 100 + 250 + 50 = 700 m, 3.5x the straight line. Radius passes, walk fails.
# B: an entrance as origin. Estate (2000,0)-(2100,100), its entrance at (2100,50); a path east
# from the entrance to (2600,50); the stop at (2500,80), 30 m off it: 400 + 30 = 430 m on foot;
# as the crow flies from the entrance sqrt(400^2 + 30^2) = 401.123 m.
# C: an estate no path touches. Estate (4000,0)-(4100,100); a path (4150,200)-(4500,200); the
# stop at (4300,230). The estate joins at the path's end from its corner (4100,100):
# sqrt(50^2 + 100^2) = 111.803, then 150 m along, 30 m off: 291.803 m; as the crow flies from
# the corner sqrt(200^2 + 130^2) = 238.537 m.
# D: a building walking round to its garbage point. Estate (6000,0)-(6100,100); a residential
# building (6010,10)-(6030,30); the garbage point at (6080,20), 50 m from the building as the
# crow flies; the path (6030,20)-(6040,20)-(6040,40)-(6080,40)-(6080,20), touching the building
# only at (6030,20): 10 + 20 + 40 + 20 = 90 m on foot, 1.8x: the radius of 70 m passes, on foot
# it fails.
ESTATES = [estate("A", rect(0, 0, 100, 100)), estate("B", rect(2000, 0, 2100, 100)),
           estate("C", rect(4000, 0, 4100, 100)), estate("D", rect(6000, 0, 6100, 100))]
PATHS = [{"id": "P-A", "geometry": line((50, 100), (50, 150), (300, 150), (300, 250),
                                         (50, 250), (50, 300))},
         {"id": "P-B", "geometry": line((2100, 50), (2600, 50))},
         {"id": "P-C", "geometry": line((4150, 200), (4500, 200))},
         {"id": "P-D", "geometry": line((6030, 20), (6040, 20), (6040, 40), (6080, 40),
                                         (6080, 20))}]
STOPS = [{"id": "S-A", "geometry": at(50, 300)}, {"id": "S-B", "geometry": at(2500, 80)},
         {"id": "S-C", "geometry": at(4300, 230)}]
LAYERS = dict(
    estates=ESTATES, paths=PATHS, bus_stops=STOPS,
    entrances=[{"id": "E-B", "estate_id": "B", "geometry": at(2100, 50)}],
    buildings=[{"use": "住宅", "building_id": "B-D",
                "geometry": rect(6010, 10, 6030, 30)}],
    garbage_points=[{"id": "G-D", "geometry": at(6080, 20)}])


def row(result: geocheck.Result, eid: str, rid: str) -> pd.Series:
    f = result.findings
    return f[(f["estate_id"] == eid) & (f["rule_id"] == rid)].iloc[0]


@pytest.fixture
def site(gpkg) -> Path:
    return gpkg(**LAYERS)


def test_radius_reading_gains_walk_m_and_flags_the_detour(site: Path, tmp_path: Path) -> None:
    result = geocheck.check(site, pack=pack_file(tmp_path))
    a = row(result, "A", "T-bus")
    assert (a["status"], a["value"], a["walk_m"]) == ("pass", 200.0, 700.0)
    assert "200.0 m as the crow flies, but 700.0 m on foot (3.5x): a detour" in a["evidence"]
    b = row(result, "B", "T-bus")
    assert b["status"] == "pass"
    assert b["value"] == pytest.approx(401.123, abs=1e-3)
    assert b["walk_m"] == pytest.approx(430.0, abs=1e-3)
    assert "detour" not in b["evidence"]
    c = row(result, "C", "T-bus")
    assert c["value"] == pytest.approx(238.537, abs=1e-3)
    assert c["walk_m"] == pytest.approx(291.803, abs=1e-3)
    d = row(result, "D", "T-garbage")
    assert (d["status"], d["value"], d["walk_m"]) == ("pass", 50.0, 90.0)
    assert "building B-D: 50.0 m as the crow flies, but 90.0 m on foot (1.8x): a detour" \
        in d["evidence"]
    # no walk beyond LIMIT_RATIO x 500 m = 800 m: D's nearest stop is 1.9 km away
    assert np.isnan(row(result, "D", "T-bus")["walk_m"])
    # the setback is a clearance, not a walk; a rule without a facility has no walk either
    assert result.findings.loc[result.findings["rule_id"] == "T-setback", "walk_m"].isna().all()
    assert DETOUR_RATIO == 1.5 and LIMIT_RATIO == 1.6
    lines = result.evidence[(result.evidence["estate_id"] == "A")
                            & (result.evidence["rule_id"] == "T-bus")]
    assert lines.length.iloc[0] == pytest.approx(200.0)  # as the crow flies


def test_walk_reading_judges_on_foot_and_draws_the_route(site: Path, tmp_path: Path) -> None:
    result = geocheck.check(site, pack=pack_file(tmp_path), distance="walk")
    a = row(result, "A", "T-bus")
    assert (a["status"], a["value"], a["walk_m"]) == ("fail", 700.0, 700.0)
    assert a["evidence"].startswith("nearest bus stop on foot: S-A, 700.0 m on foot")
    assert "(3.5x): a detour" in a["evidence"]
    assert WALK_METHOD in a["method"]
    assert "lines meet only at shared vertices (within 0.05 m)" in a["method"]
    b = row(result, "B", "T-bus")
    assert (b["status"], b["value"]) == ("pass", 430.0)
    assert row(result, "C", "T-bus")["value"] == pytest.approx(291.803, abs=1e-3)
    d = row(result, "D", "T-garbage")
    assert (d["status"], d["value"]) == ("fail", 90.0)
    assert "1 of 1 residential buildings beyond 70 m" in d["evidence"]
    ev = result.evidence
    route = ev[(ev["estate_id"] == "A") & (ev["rule_id"] == "T-bus")].geometry.iloc[0]
    assert route.length == pytest.approx(700.0)
    assert len(route.coords) == 6  # along the path round by the bridge
    d_route = ev[(ev["estate_id"] == "D") & (ev["layer"] == "evidence_lines")].geometry.iloc[0]
    assert d_route.length == pytest.approx(90.0)
    # the setback is no distance rule: judged as before
    assert row(result, "D", "T-setback")["status"] == "pass"


def test_walk_reading_without_paths_is_no_data(gpkg, tmp_path: Path) -> None:
    site = gpkg(**{k: v for k, v in LAYERS.items() if k != "paths"})
    result = geocheck.check(site, pack=pack_file(tmp_path), distance="walk")
    for eid, rid in (("A", "T-bus"), ("D", "T-garbage")):
        r = row(result, eid, rid)
        assert r["status"] == "no_data"
        assert r["evidence"] == "no data: --distance walk needs a paths layer"
    radius = geocheck.check(site, pack=pack_file(tmp_path))
    assert row(radius, "A", "T-bus")["status"] == "pass"
    assert radius.findings["walk_m"].isna().all()


def test_pack_distance_walk_is_inherited_and_checked(site: Path, tmp_path: Path) -> None:
    parent = pack_file(tmp_path, 'distance = "walk"', "parent.toml")
    child = tmp_path / "child.toml"
    child.write_text('[pack]\nid = "child"\nextends = "parent.toml"\n', encoding="utf-8")
    assert geocheck.load_pack(child).distance == "walk"
    assert row(geocheck.check(site, pack=child), "A", "T-bus")["status"] == "fail"
    # the argument wins over the pack
    assert row(geocheck.check(site, pack=child, distance="radius"), "A",
               "T-bus")["status"] == "pass"
    with pytest.raises(PackError, match=r"\[pack\] distance = 'bike' is not one of radius, walk"):
        geocheck.load_pack(pack_file(tmp_path, 'distance = "bike"', "bad.toml"))
    with pytest.raises(geocheck.GeocheckError, match="unknown distance reading 'bike'"):
        geocheck.check(site, pack=parent, distance="bike")


def test_project_file_distance(site: Path, tmp_path: Path) -> None:
    project = tmp_path / "project.toml"
    body = "".join(f'[layers.{role}]\npath = "{site.name}"\nlayer = "{role}"\n\n'
                   for role in LAYERS)
    project.write_text(f'distance = "walk"\npack = "walktest.toml"\n\n{body}', encoding="utf-8")
    pack_file(tmp_path)
    assert row(geocheck.check(project), "A", "T-bus")["status"] == "fail"
    project.write_text(f'distance = "on foot"\n\n{body}', encoding="utf-8")
    with pytest.raises(InputError, match="distance = 'on foot' is not one of radius, walk"):
        geocheck.check(project)


def test_a_rejected_path_makes_a_walking_fail_no_data(gpkg, tmp_path: Path) -> None:
    # a zero-length path by estate A (rejected by normalise): it might have been a shortcut
    broken = {"id": "P-X", "geometry": line((60, 120), (60, 120))}
    site = gpkg(**{**LAYERS, "paths": [*PATHS, broken]})
    walk = geocheck.check(site, pack=pack_file(tmp_path), distance="walk")
    assert "P-X" in set(walk.site.ledger.rejects_frame()["feature_id"].astype(str))
    a = row(walk, "A", "T-bus")
    assert a["status"] == "no_data"
    assert a["evidence"].startswith("no data: walking path P-X was rejected")
    assert "measured without it: nearest bus stop on foot: S-A, 700.0 m on foot" in a["evidence"]
    # a pass on foot stands: a missing path could only make a walk shorter
    assert row(walk, "B", "T-bus")["status"] == "pass"
    # as the crow flies, the paths only feed walk_m: the verdict stands
    radius = geocheck.check(site, pack=pack_file(tmp_path))
    assert row(radius, "A", "T-bus")["status"] == "pass"
    assert "P-X" not in row(radius, "A", "T-bus")["evidence"]


def test_walk_m_is_never_shorter_than_the_straight_line(gpkg, tmp_path: Path) -> None:
    checked = 0
    for seed in (1, 2, 3, 4, 5):
        rng = np.random.default_rng(seed)
        estates, entrances, buildings = [], [], []
        for i in range(6):
            x, y = rng.uniform(0, 800, 2)
            estates.append(estate(f"E{i}", rect(x, y, x + 60, y + 60)))
            if rng.random() < 0.5:
                entrances.append({"id": f"N{i}", "estate_id": f"E{i}",
                                  "geometry": at(x + 60, y + rng.uniform(0, 60))})
            buildings.append({"building_id": f"H{i}", "use": "住宅",
                              "geometry": rect(x + 10, y + 10, x + 30, y + 30)})
        grid = rng.uniform(0, 900, (8, 8, 2))  # a jittered 8 x 8 lattice of streets
        paths = [{"id": f"R{k}", "geometry": line(*map(tuple, pts))}
                 for k, pts in enumerate([*grid, *grid.transpose(1, 0, 2)])
                 if rng.random() < 0.8]
        site = gpkg(estates=estates, entrances=entrances, buildings=buildings, paths=paths,
                    bus_stops=[{"id": f"S{k}", "geometry": at(*rng.uniform(0, 900, 2))}
                               for k in range(5)],
                    garbage_points=[{"id": f"G{k}", "geometry": at(*rng.uniform(0, 900, 2))}
                                    for k in range(8)])
        f = geocheck.check(site, pack=pack_file(tmp_path)).findings
        both = f[f["value"].notna() & f["walk_m"].notna()]
        assert (both["walk_m"] >= both["value"] - 1e-3).all(), both
        checked += len(both)
    assert checked >= 20


MINUTES = geocheck.load_pack("nanhai").attribute("nh_medical_walk_min").header
NANHAI_SHEET = f"小区编号,{MINUTES}\nM1,20\nM2,10\n"


def test_nanhai_medical_circle_from_the_map_or_the_sheet(gpkg, tmp_path: Path) -> None:
    # M1: a path from its boundary (50,100) north to a clinic at (50,1000): 900 m, exactly 15
    # minutes at 1.0 m/s: passes (inclusive). M2: its clinic at (2050,1001): 901 m: fails.
    # The sheet says the opposite (M1 20 minutes, M2 10): the map wins when it can measure.
    assert WALK_SPEED_M_S == 1.0
    layers = dict(
        estates=[estate("M1", rect(0, 0, 100, 100)), estate("M2", rect(2000, 0, 2100, 100))],
        clinics=[{"id": "K1", "geometry": at(50, 1000)}, {"id": "K2", "geometry": at(2050, 1001)}],
        paths=[{"id": "W1", "geometry": line((50, 100), (50, 1000))},
               {"id": "W2", "geometry": line((2050, 100), (2050, 1001))}])
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(NANHAI_SHEET, encoding="utf-8")
    mapped = geocheck.check(gpkg(**layers), pack="nanhai", attributes=sheet)
    m1, m2 = row(mapped, "M1", "NH-medical-15min"), row(mapped, "M2", "NH-medical-15min")
    assert (m1["status"], m1["value"], m1["unit"], m1["walk_m"]) == ("pass", 900.0, "m", 900.0)
    assert (m2["status"], m2["value"]) == ("fail", 901.0)
    assert m1["threshold"] == "<= 900 m on foot (15 minutes at 1 m/s)"
    assert m1["method"].startswith("measured on the map: walk to the nearest clinic")
    assert "geocheck's reading of GB 50180-2018's life circles" in m1["method"]
    assert "K1, 900.0 m on foot (15.0 min)" in m1["evidence"]
    del layers["paths"]
    bare = write_gpkg(tmp_path / "no-paths.gpkg", {k: layer(v) for k, v in layers.items()})
    sheeted = geocheck.check(bare, pack="nanhai", attributes=sheet)
    m1, m2 = row(sheeted, "M1", "NH-medical-15min"), row(sheeted, "M2", "NH-medical-15min")
    assert (m1["status"], m1["value"], m2["status"], m2["value"]) == ("fail", 20, "pass", 10)
    assert m1["method"].startswith("from the attributes sheet")
    assert "the input has no paths layer to measure the walk on" in m1["method"]
    assert np.isnan(m1["walk_m"])


def test_detour_texts_worked_by_hand_and_as_one_row_at_a_time() -> None:
    """The column-wise detour texts: a walk of 1,630 m against 420 m straight (3.9x), a walk
    just past 500 m (shown with enough places to read as a fail), and no route at all."""
    from geocheck.rules.walking import detour_suffixes, detour_text, detour_texts

    straight = np.array([420.0, 300.0, 200.0, 100.0])
    walk = np.array([1630.0, 500.0014, np.inf, 120.0])
    texts = detour_texts(straight, walk, 500.0, 800.0)
    assert texts[0] == "420.0 m as the crow flies, but 1,630.0 m on foot (3.9x): a detour"
    assert texts[1] == "300.0 m as the crow flies, but 500.001 m on foot (1.7x): a detour"
    assert texts[2] == "200.0 m as the crow flies, but no walking route within 800 m: a detour"
    one_by_one = [detour_text(s, w, 500.0, 800.0) for s, w in zip(straight, walk, strict=True)]
    assert list(texts) == one_by_one
    # only the first three are detours: over the threshold and over 1.5x the straight line
    suffixes = detour_suffixes(straight, walk, 500.0, 800.0)
    assert list(suffixes[:3]) == ["; " + t for t in texts[:3]] and suffixes[3] == ""
