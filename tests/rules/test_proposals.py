"""Proposed garbage points (GX-06: every residential building within 70 m of a garbage point,
every point at least 5 m from every building), worked out by hand, and a property test:
the input with the proposals added (and the listed points moved) passes both rules when
checked again through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from helpers import SAMPLE, SHEET, X0, at, estate, layer, rect, write_gpkg

import geocheck
from geocheck.cli import main
from geocheck.views.summary import summarise

RADIUS, SETBACK = "GX-06-garbage-radius", "GX-06-garbage-setback"


def building(bid: str, geom, eid: str = "E") -> dict:
    return {"building_id": bid, "use": None, "estate_id": eid, "geometry": geom}


def point(pid: str, geom) -> dict:
    return {"id": pid, "name": None, "geometry": geom}


def statuses(result: geocheck.Result, rule: str) -> dict[str, str]:
    f = result.findings
    f = f[f["rule_id"] == rule]
    return dict(zip(f["estate_id"], f["status"], strict=True))


def apply(path: Path, result: geocheck.Result, out: Path) -> Path:
    """A copy of the input GeoPackage with the proposed sites added to garbage_points and the
    points listed to move taken away."""
    p = result.proposals
    layers = {name: gpd.read_file(path, layer=name) for name, _ in pyogrio.list_layers(path)}
    gp = layers["garbage_points"]
    gp = gp[~gp["id"].astype(str).isin(p.moves["point_id"])]
    new = gpd.GeoDataFrame({"id": [f"new-{e}-{k}" for e, k in
                                   zip(p.points["estate_id"], p.points["site_no"], strict=True)],
                            "name": None}, geometry=p.points.geometry.to_numpy(),
                           crs=result.site.crs).to_crs(gp.crs)
    layers["garbage_points"] = gpd.GeoDataFrame(
        [*gp[["id", "name", "geometry"]].to_dict("records"),
         *new.to_dict("records")], geometry="geometry", crs=gp.crs)
    return write_gpkg(out, layers)


def test_two_new_points_when_one_cannot_serve_both(gpkg, tmp_path) -> None:
    # b1's east face x = 20 and b2's west face x = 280 are 260 m apart: no point is within
    # 70 m of both, so exactly two sites; the estate has no garbage point at all
    path = gpkg(estates=[estate("E", rect(0, 0, 300, 40))],
                buildings=[building("b1", rect(10, 10, 20, 20)),
                           building("b2", rect(280, 10, 290, 20))],
                garbage_points=[])
    result = geocheck.check(path)
    assert statuses(result, RADIUS) == {"E": "fail"}
    p = result.proposals
    assert sorted(p.points["covers"]) == ["b1", "b2"]
    assert (p.points["why"] == "new").all() and (p.points["method"] == "milp").all()
    assert (p.points["gap"] == 0).all() and p.moves.empty and p.unserved.empty
    again = geocheck.check(apply(path, result, tmp_path / "fixed.gpkg"))
    assert statuses(again, RADIUS) == {"E": "pass"}
    assert statuses(again, SETBACK) == {"E": "pass"}


def test_one_point_serves_two_buildings_when_it_can(gpkg) -> None:
    # faces 100 m apart (x = 20 and x = 120): a point between them is within 70 m of both
    path = gpkg(estates=[estate("E", rect(0, 0, 140, 40))],
                buildings=[building("b1", rect(10, 10, 20, 20)),
                           building("b2", rect(120, 10, 130, 20))],
                garbage_points=[])
    p = geocheck.check(path).proposals
    assert len(p.points) == 1 and p.points["covers"].iloc[0] == "b1, b2"


def test_a_point_too_close_is_listed_to_move(gpkg, tmp_path) -> None:
    # gp1 at (62, 50) is 2 m from b1's east face x = 60: it breaks the 5 m setback, so it is
    # listed to move and its coverage no longer counts; one new site takes over b1
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(40, 40, 60, 60))],
                garbage_points=[point("gp1", at(62, 50))])
    result = geocheck.check(path)
    assert statuses(result, RADIUS) == {"E": "pass"}
    assert statuses(result, SETBACK) == {"E": "fail"}
    p = result.proposals
    assert p.moves[["point_id", "distance_m", "nearest_building"]].values.tolist() == [
        ["gp1", 2.0, "b1"]]
    assert p.points[["covers", "why"]].values.tolist() == [["b1", "move"]]
    d = shapely.distance(p.points.geometry.iloc[0], result.site.layer("buildings").geometry)
    assert d.min() >= 5
    again = geocheck.check(apply(path, result, tmp_path / "fixed.gpkg"))
    assert statuses(again, RADIUS) == {"E": "pass"}
    assert statuses(again, SETBACK) == {"E": "pass"}


def test_green_space_avoided_where_it_costs_no_site(gpkg) -> None:
    # the west half is green; the east half has room 5 m from b1 (45-55 x 45-55)
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(45, 45, 55, 55))],
                garbage_points=[], green_space=[point("g", rect(0, 0, 50, 100))])
    p = geocheck.check(path).proposals
    assert len(p.points) == 1 and not p.points["in_green"].iloc[0]
    assert p.points.geometry.iloc[0].x > X0 + 50


def test_green_space_used_when_unavoidable(gpkg) -> None:
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(45, 45, 55, 55))],
                garbage_points=[], green_space=[point("g", rect(0, 0, 100, 100))])
    p = geocheck.check(path).proposals
    assert len(p.points) == 1 and p.points["in_green"].iloc[0]


def test_a_building_that_cannot_be_served_is_listed(gpkg) -> None:
    # the estate 30 x 30 leaves only 2 m round the building 2-28 x 2-28: no spot 5 m away
    path = gpkg(estates=[estate("E", rect(0, 0, 30, 30)), estate("F", rect(100, 0, 130, 30))],
                buildings=[building("b1", rect(2, 2, 28, 28)),
                           building("f1", rect(110, 10, 120, 20), "F")],
                garbage_points=[])
    p = geocheck.check(path).proposals
    assert p.unserved["building_id"].tolist() == ["b1"]
    assert "no spot inside the estate at least 5 m from every building" in \
        p.unserved["reason"].iloc[0]
    assert p.points["covers"].tolist() == ["f1"]
    summary = p.estates.set_index("estate_id")
    assert summary.loc["E", "unserved"] == 1 and summary.loc["E", "new"] == 0


def test_passing_estates_get_nothing(gpkg) -> None:
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(40, 40, 60, 60))],
                garbage_points=[point("gp1", at(80, 50))])
    p = geocheck.check(path).proposals
    assert p.applies and p.points.empty and p.moves.empty and p.estates.empty


def test_greedy_and_its_gap(monkeypatch) -> None:
    # rows 0-5; X covers 0-2, Y covers 3-5, Z covers 0, 1, 3, 4: greedy takes Z (4 rows) then
    # X and Y for rows 2 and 5: 3 sites; the optimum X + Y is 2, and the LP bound 2 proves it
    from scipy import sparse

    from geocheck.rules import set_cover
    cols = {0: [0, 1, 2], 1: [3, 4, 5], 2: [0, 1, 3, 4]}
    r = [i for c in cols.values() for i in c]
    c = [j for j, rows in cols.items() for _ in rows]
    a = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(6, 3))
    chosen, method, gap = set_cover.cover(a, np.ones(3))
    assert (sorted(chosen), method, gap) == ([0, 1], "milp", 0)
    monkeypatch.setattr(set_cover, "EXACT_MAX", 0)
    chosen, method, gap = set_cover.cover(a, np.ones(3))
    assert (sorted(chosen), method, gap) == ([0, 1, 2], "greedy", 1)


def random_district(seed: int, tmp: Path) -> Path:
    """Eight estates on a grid, each a random rectangle with random buildings and a few random
    garbage points (some inside buildings' setbacks, some outside the estate)."""
    rng = np.random.default_rng(seed)
    estates, buildings, points = [], [], []
    for i in range(8):
        ox, oy = (i % 4) * 600.0, (i // 4) * 600.0
        w, h = rng.uniform(60, 400), rng.uniform(40, 300)
        eid = f"E{i}"
        estates.append(estate(eid, rect(ox, oy, ox + w, oy + h)))
        placed: list[shapely.Polygon] = []
        for k in range(int(rng.integers(1, 14))):
            bw, bh = rng.uniform(8, 40), rng.uniform(8, 20)
            x, y = rng.uniform(0, max(w - bw, 1)), rng.uniform(0, max(h - bh, 1))
            g = rect(ox + x, oy + y, ox + x + bw, oy + y + bh)
            if any(g.intersects(q) for q in placed) or not g.within(rect(ox, oy, ox + w,
                                                                         oy + h)):
                continue
            placed.append(g)
            buildings.append(building(f"{eid}-b{k}", g, eid))
        for k in range(int(rng.integers(0, 4))):
            points.append(point(f"{eid}-p{k}", at(ox + rng.uniform(-20, w + 20),
                                                  oy + rng.uniform(-20, h + 20))))
    return write_gpkg(tmp / f"district{seed}.gpkg",
                      {"estates": layer(estates), "buildings": layer(buildings),
                       "garbage_points": layer(points)})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_proposals_make_the_garbage_rules_pass(seed, tmp_path) -> None:
    path = random_district(seed, tmp_path)
    result = geocheck.check(path)
    before = statuses(result, RADIUS)
    p = result.proposals
    fixable = set(before) - set(p.unserved["estate_id"])
    again = geocheck.check(apply(path, result, tmp_path / "fixed.gpkg"))
    radius, setback = statuses(again, RADIUS), statuses(again, SETBACK)
    for eid in fixable:
        assert radius[eid] in ("pass", "no_data"), (seed, eid, radius[eid])
        assert setback[eid] in ("pass", "not_applicable"), (seed, eid, setback[eid])
    # the test means something: some estates failed before and were fixed
    failed = [e for e, s in before.items() if s == "fail"]
    assert failed and all(radius[e] == "pass" for e in failed if e in fixable)
    # no estate that failed got nothing: sites, moves, or unserved buildings
    touched = set(p.points["estate_id"]) | set(p.moves["estate_id"]) | set(
        p.unserved["estate_id"])
    assert set(failed) <= touched


def test_check_writes_proposals_and_remedies(tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out),
                 "--format", "csv,gpkg"]) == 1
    layers = dict(pyogrio.list_layers(out / "proposals.gpkg"))
    assert set(layers) == {"garbage_points", "points_to_move", "unserved_buildings"}
    sites = gpd.read_file(out / "proposals.gpkg", layer="garbage_points")
    assert set(sites["estate_id"]) == {"NN-004", "NN-005"}
    moves = gpd.read_file(out / "proposals.gpkg", layer="points_to_move")
    assert moves["point_id"].tolist() == ["GP-018"]
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    fails = findings[findings["status"] == "fail"]
    assert fails["remedy"].notna().all() and findings.loc[
        findings["status"] == "pass", "remedy"].isna().all()
    manifest = (out / "geocheck-run.json").read_text(encoding="utf-8")
    assert "proposals.gpkg" in manifest


def test_a_run_without_proposals_gpkg_neither_proposes_nor_says_so(tmp_path, capsys,
                                                                   monkeypatch) -> None:
    """The terminal summary points to proposals.gpkg: a run that does not write it works
    nothing out for it (at 30,000 estates the proposals took some 10 s of a 50 s run)."""
    from geocheck.rules import result as result_module
    calls = []
    real = result_module.propose
    monkeypatch.setattr(result_module, "propose", lambda *a: calls.append(1) or real(*a))
    for formats, said in (("csv", False), ("csv,gpkg", True)):
        out = tmp_path / formats.replace(",", "_")
        assert main(["check", str(SAMPLE), "-o", str(out), "--format", formats]) == 1
        printed = capsys.readouterr().out
        assert ("proposed garbage points: 2 new sites" in printed) is said
        assert (out / "proposals.gpkg").exists() is said
        assert len(calls) == int(said)


def test_no_failing_estate_writes_empty_layers(gpkg, tmp_path) -> None:
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(40, 40, 60, 60))],
                garbage_points=[point("gp1", at(80, 50))])
    out = tmp_path / "out"
    main(["check", str(path), "-o", str(out), "--format", "gpkg"])
    for name in ("garbage_points", "points_to_move", "unserved_buildings"):
        assert len(gpd.read_file(out / "proposals.gpkg", layer=name)) == 0



def test_without_a_garbage_layer_nothing_is_proposed_and_it_says_why(gpkg) -> None:
    from geocheck.views.text import proposals_text
    path = gpkg(estates=[estate("E", rect(0, 0, 100, 100))],
                buildings=[building("b1", rect(40, 40, 60, 60))])
    result = geocheck.check(path)
    assert statuses(result, RADIUS) == {"E": "no_data"}
    p = result.proposals
    assert p.points.empty and p.note == "no garbage_points layer: nothing could be proposed"
    assert proposals_text(p) == ("proposed garbage points: no garbage_points layer: nothing "
                                 "could be proposed")


def test_map_report_and_summary_show_proposals_and_remedies(sample, tmp_path) -> None:
    from geocheck.views.report import render_report
    from geocheck.views.summary import summarise
    from geocheck.views.webmap import write_map
    page = write_map(sample, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "proposed garbage points 拟增设垃圾收集点" in page
    assert "proposed garbage point NN-004 #1 (new): serves NN-004-R09, NN-004-R10" in page
    assert "to pass:" in page and "a kindergarten is required inside the estate" in page
    report = render_report(sample, lang="en")
    assert '<div class="remedy"><b>To pass</b>: a kindergarten is required' in report
    line = ("proposed garbage points: 2 new sites for 2 estates (milp; fewest, proven), 1 points "
            "to move, 0 residential buildings no site can serve; see proposals.gpkg")
    assert f"<h3>Proposed garbage points</h3><p>{line}</p>" in report
    assert line in summarise(sample)


def test_a_run_proposes_for_the_worst_estates_first_and_names_the_rest(gpkg) -> None:
    # no garbage point anywhere: E1 has one building uncovered, E2 and E3 two each; a limit of
    # one estate goes to E2 (two uncovered, before E3 in estate order), E1 and E3 are named
    path = gpkg(estates=[estate("E1", rect(0, 0, 40, 40)), estate("E2", rect(100, 0, 140, 40)),
                         estate("E3", rect(200, 0, 240, 40))],
                buildings=[building("a", rect(10, 10, 20, 20), "E1"),
                           building("b", rect(105, 10, 112, 20), "E2"),
                           building("c", rect(125, 10, 132, 20), "E2"),
                           building("d", rect(205, 10, 212, 20), "E3"),
                           building("e", rect(225, 10, 232, 20), "E3")],
                garbage_points=[])
    result = geocheck.check(path)
    assert statuses(result, RADIUS) == {"E1": "fail", "E2": "fail", "E3": "fail"}
    result.proposals_max = 1
    p = result.proposals
    assert set(p.points["estate_id"]) == {"E2"} and p.left_out == ("E1", "E3")
    assert "2 more failing estates got none" in summarise(result)
    result = geocheck.check(path)
    result.proposals_max = 0
    assert result.proposals.points.empty and "none asked for" in summarise(result)
    result = geocheck.check(path)
    result.proposals_max = None  # all
    assert set(result.proposals.points["estate_id"]) == {"E1", "E2", "E3"}
    assert result.proposals.left_out == ()


def test_the_set_cover_goes_to_highs_as_milp_would_send_it() -> None:
    # rows 0-3; columns 0 and 2 cover rows 0-1, 1 and 3 rows 2-3, 4 rows 0 and 2, 5 rows 1
    # and 3: two columns are needed and many pairs do; HiGHS called directly picks the very
    # pair scipy's milp gets from it, proven fewest with the bound 2
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    from geocheck.rules import set_cover
    cols = {0: [0, 1], 1: [2, 3], 2: [0, 1], 3: [2, 3], 4: [0, 2], 5: [1, 3]}
    r = [i for c in cols.values() for i in c]
    c = [j for j, rows in cols.items() for _ in rows]
    a = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(4, 6))
    cost = np.array([1.0, 1.0, 1.0, 1.0, 1.2, 1.2])
    x, proven, bound = set_cover.highs_milp(a, cost)
    ref = milp(cost, constraints=LinearConstraint(a, lb=np.ones(4), ub=np.full(4, np.inf)),
               integrality=np.ones(6), bounds=Bounds(0, 1),
               options={"time_limit": set_cover.TIME_LIMIT_S})
    assert np.array_equal(x, ref.x) and proven and bound == pytest.approx(2.0)
    chosen = np.flatnonzero(x > 0.5)
    assert len(chosen) == 2 and (a[:, chosen].sum(axis=1) >= 1).all()


def matrix(cols: dict[int, list[int]], m: int):
    """A set cover matrix (rows 0..m-1) from each column's rows."""
    from scipy import sparse
    r = [i for rows in cols.values() for i in rows]
    c = [j for j, rows in cols.items() for _ in rows]
    return sparse.csc_matrix((np.ones(len(r)), (r, c)), shape=(m, max(cols) + 1))


def test_columns_worth_keeping() -> None:
    # 0 and 3 cover the same rows: 3 is cheaper, so 0 goes; 1 (rows 0-1) and 3 (rows 0, 2)
    # lie inside 2's rows 0-2 at the same cost: both go; 4 covers row 3, inside 5's rows 3-4,
    # but 5 is dearer: 4 stays
    from geocheck.rules import set_cover
    a = matrix({0: [0, 2], 1: [0, 1], 2: [0, 1, 2], 3: [0, 2], 4: [3], 5: [3, 4]}, 5)
    cost = np.array([1.2, 1.0, 1.0, 1.0, 1.0, 1.5])
    assert set_cover.undominated(a, cost).tolist() == [2, 4, 5]
    # with 2 dearer than 3, 3 stays (and 0 still goes for it)
    cost[2] = 1.1
    assert set_cover.undominated(a, cost).tolist() == [1, 2, 3, 4, 5]
    # two equal columns at equal cost: the first is kept
    a = matrix({0: [0, 1], 1: [0, 1]}, 2)
    assert set_cover.undominated(a, np.ones(2)).tolist() == [0]


def test_reductions_take_the_only_column_of_a_row_and_drop_what_is_covered_with_it() -> None:
    # row 4 has column 3 alone: 3 is taken with rows 3-4; of rows 0-2, row 2's columns {0, 1}
    # hold row 0's {0} ... row 0 has column 0 alone too: 0 is taken with rows 0 and 2; row 1
    # (columns 1, 2) is left with columns 1 and 2, which cover the same: 2 is dropped, then
    # row 1 has column 1 alone: taken. Nothing is left for HiGHS
    from geocheck.rules import set_cover
    a = matrix({0: [0, 2], 1: [1, 2], 2: [1], 3: [3, 4]}, 5)
    forced, rows, cols = set_cover.reduced(a, np.ones(4))
    assert sorted(forced.tolist()) == [0, 1, 3] and len(rows) == 0
    # a cycle of rows, each column covering two neighbours: no reduction applies
    a = matrix({0: [0, 1], 1: [1, 2], 2: [2, 3], 3: [3, 4], 4: [4, 0]}, 5)
    forced, rows, cols = set_cover.reduced(a, np.ones(5))
    assert len(forced) == 0 and rows.tolist() == [0, 1, 2, 3, 4] and cols.tolist() == [0, 1,
                                                                                        2, 3, 4]
    chosen, method, gap = set_cover.cover(a, np.ones(5))
    assert (len(chosen), method, gap) == (3, "milp", 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_covers_solved_together_are_each_as_good_as_alone(seed) -> None:
    """Random covers (some with green, dearer, columns) solved in one model give, for each,
    the cost scipy's milp proves optimal for it alone, and cover every row."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    from geocheck.rules import set_cover
    rng = np.random.default_rng(seed)
    problems = []
    for _ in range(25):
        m, k = int(rng.integers(3, 30)), int(rng.integers(5, 60))
        a = sparse.random(m, k, density=0.15, random_state=rng, format="csc")
        a = sparse.csc_matrix(a + sparse.csc_matrix((np.ones(m), (np.arange(m),
                                                                  rng.integers(0, k, m))),
                                                    shape=(m, k)))
        a.data[:] = 1.0
        problems.append((a, 1.0 + rng.integers(0, 2, k) / (m + 1.0)))
    solved = set_cover.covers(problems)
    assert sum(method == "milp" for _, method, _ in solved) == len(problems)
    for (a, cost), (chosen, _, gap) in zip(problems, solved, strict=True):
        m, k = a.shape
        ref = milp(cost, constraints=LinearConstraint(a, lb=np.ones(m), ub=np.full(m, np.inf)),
                   integrality=np.ones(k), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
        assert (a[:, chosen].sum(axis=1) >= 1).all() and gap == 0
        assert cost[chosen].sum() == pytest.approx(ref.fun, abs=1e-9)


def test_covers_not_proven_together_are_solved_one_by_one(monkeypatch) -> None:
    from geocheck.rules import set_cover
    calls = []
    real = set_cover.highs_milp

    def unproven_together(a, cost, rel_gap=None):
        calls.append(a.shape)
        x, proven, bound = real(a, cost, rel_gap)
        return x, proven and rel_gap is None, bound

    monkeypatch.setattr(set_cover, "highs_milp", unproven_together)
    cycle = matrix({0: [0, 1], 1: [1, 2], 2: [2, 3], 3: [3, 4], 4: [4, 0]}, 5)
    solved = set_cover.covers([(cycle, np.ones(5)), (cycle, np.ones(5))])
    assert calls == [(10, 10), (5, 5), (5, 5)]
    assert [(len(c), m, g) for c, m, g in solved] == [(3, "milp", 0), (3, "milp", 0)]
