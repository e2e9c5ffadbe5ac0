"""Every shipped rule on hand-computable layouts: just inside, exactly at, just outside.

The estate is the 100 m x 100 m square (0, 0)-(100, 100) in local metres unless a case says
otherwise, so every distance and area below can be checked on paper. Cases with the same pack
and layers are judged together, each 5 km east of the last (see :func:`judged`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from helpers import SAMPLE, at, estate, layer, rect, write_gpkg
from shapely.affinity import translate
from shapely.geometry import Polygon

import geocheck

SQUARE = rect(0, 0, 100, 100)


def stops(*points) -> list[dict]:
    return [{"id": f"f{i}", "name": f"设施{i}", "geometry": p} for i, p in enumerate(points)]


def building(bid: str, geom, use: str | None = None, eid: str | None = "E") -> dict:
    return {"building_id": bid, "use": use, "estate_id": eid, "geometry": geom}


def holed(outer: Polygon, hole: Polygon) -> Polygon:
    """``outer`` with ``hole`` cut out as an interior ring."""
    return Polygon(outer.exterior.coords, [hole.exterior.coords])


def green(*geoms) -> list[dict]:
    return [{"id": f"g{i}", "name": "绿地", "geometry": g} for i, g in enumerate(geoms)]


@dataclass
class Case:
    name: str
    pack: str
    rule: str
    status: str
    value: float | None  # expected value (m, ratio or count); None when there is none
    layers: dict

    def __str__(self) -> str:
        return self.name


def one(households: int | None = 800, built: str | None = "existing", geom=SQUARE) -> list:
    return [estate("E", geom, households, built)]


B1 = rect(10, 10, 20, 20)  # a residential building; its east face is x = 20
CASES = [
    # GX-53: bus stop <= 500 m or rail station <= 800 m, from the boundary (no entrances)
    Case("bus just inside", "guangxi", "GX-53", "pass", 499.99,
         {"estates": one(), "bus_stops": stops(at(50, 599.99))}),
    Case("bus exactly 500", "guangxi", "GX-53", "pass", 500.0,
         {"estates": one(), "bus_stops": stops(at(50, 600))}),
    Case("bus just outside, no rail layer", "guangxi", "GX-53", "no_data", 500.01,
         {"estates": one(), "bus_stops": stops(at(50, 600.01))}),
    Case("bus just outside, rail too far", "guangxi", "GX-53", "fail", 500.01,
         {"estates": one(), "bus_stops": stops(at(50, 600.01)),
          "rail_stations": stops(at(50, 900.01))}),
    Case("rail exactly 800 saves it", "guangxi", "GX-53", "pass", 800.0,
         {"estates": one(), "bus_stops": stops(at(50, 700)),
          "rail_stations": stops(at(-800, 50))}),
    Case("rail just outside 800", "guangxi", "GX-53", "fail", 500.5,
         {"estates": one(), "bus_stops": stops(at(50, 600.5)),
          "rail_stations": stops(at(-800.01, 50))}),
    Case("diagonal distance to a corner", "guangxi", "GX-53", "pass", 500.0,
         {"estates": one(), "bus_stops": stops(at(400, 500))}),  # 3-4-5 from (100, 100)
    Case("bus stop inside is 0 m", "guangxi", "GX-53", "pass", 0.0,
         {"estates": one(), "bus_stops": stops(at(50, 50)), "rail_stations": []}),
    Case("entrances decide: 450 m from boundary, 550 m from the gate", "guangxi", "GX-53",
         "fail", 550.0,
         {"estates": one(), "entrances": [{"estate_id": "E", "geometry": at(100, 50)}],
          "bus_stops": stops(at(-450, 50)), "rail_stations": []}),
    Case("nearest gate of two", "guangxi", "GX-53", "pass", 450.0,
         {"estates": one(), "entrances": [{"estate_id": "E", "geometry": at(100, 50)},
                                          {"estate_id": "E", "geometry": at(0, 50)}],
          "bus_stops": stops(at(-450, 50)), "rail_stations": []}),
    Case("no stop layers at all", "guangxi", "GX-53", "no_data", None, {"estates": one()}),
    Case("empty stop layers mean none", "guangxi", "GX-53", "fail", None,
         {"estates": one(), "bus_stops": [], "rail_stations": []}),
    # GX-06-garbage-radius: every residential building <= 70 m from a garbage point
    Case("building exactly 70 m", "guangxi", "GX-06-garbage-radius", "pass", 70.0,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(90, 15))}),
    Case("building just outside 70 m", "guangxi", "GX-06-garbage-radius", "fail", 70.01,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(90.01, 15))}),
    Case("worst of two buildings decides: hypot(60, 65)", "guangxi", "GX-06-garbage-radius",
         "fail", round(math.hypot(60, 65), 3),
         {"estates": one(), "buildings": [building("b1", B1), building("b2", rect(10, 80, 20, 90))],
          "garbage_points": stops(at(80, 15))}),
    Case("commercial building is not counted", "guangxi", "GX-06-garbage-radius", "pass", 60.0,
         {"estates": one(), "buildings": [building("b1", B1),
                                          building("shop", rect(10, 80, 20, 90), "commercial")],
          "garbage_points": stops(at(80, 15))}),
    Case("point across the road serves", "guangxi", "GX-06-garbage-radius", "pass", 69.5,
         {"estates": one(), "buildings": [building("b1", rect(80, 40, 90, 60))],
          "garbage_points": stops(at(159.5, 50))}),
    Case("untagged building placed by location", "guangxi", "GX-06-garbage-radius", "fail",
         80.0, {"estates": one(), "buildings": [building("b1", B1, eid=None)],
                "garbage_points": stops(at(100, 15))}),
    Case("no residential building", "guangxi", "GX-06-garbage-radius", "no_data", None,
         {"estates": one(), "buildings": [building("b1", B1, "commercial")],
          "garbage_points": stops(at(90, 15))}),
    Case("no garbage point anywhere", "guangxi", "GX-06-garbage-radius", "fail", None,
         {"estates": one(), "buildings": [building("b1", B1)], "garbage_points": []}),
    Case("garbage layer not provided", "guangxi", "GX-06-garbage-radius", "no_data", None,
         {"estates": one(), "buildings": [building("b1", B1)]}),
    # GX-06-garbage-setback: every garbage point in the estate >= 5 m from the nearest building
    Case("point exactly 5 m", "guangxi", "GX-06-garbage-setback", "pass", 5.0,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(25, 15))}),
    Case("point just inside 5 m", "guangxi", "GX-06-garbage-setback", "fail", 4.99,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(24.99, 15))}),
    Case("building outside the estate counts", "guangxi", "GX-06-garbage-setback", "fail", 3.0,
         {"estates": one(), "buildings": [building("out", rect(103, 40, 120, 60), eid=None)],
          "garbage_points": stops(at(100, 50))}),
    Case("closest of two points decides", "guangxi", "GX-06-garbage-setback", "fail", 2.0,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(25, 15), at(15, 22))}),
    Case("point outside the estate: not applicable", "guangxi", "GX-06-garbage-setback",
         "not_applicable", None,
         {"estates": one(), "buildings": [building("b1", B1)],
          "garbage_points": stops(at(150, 15))}),
    Case("no buildings layer", "guangxi", "GX-06-garbage-setback", "no_data", None,
         {"estates": one(), "garbage_points": stops(at(25, 15))}),
    # GX-06-kindergarten: 1500+ households -> a kindergarten inside
    Case("1500 households with kindergarten inside", "guangxi", "GX-06-kindergarten", "pass",
         1, {"estates": one(1500), "kindergartens": stops(at(50, 50))}),
    Case("kindergarten on the boundary counts", "guangxi", "GX-06-kindergarten", "pass", 1,
         {"estates": one(2000), "kindergartens": stops(at(100, 50))}),
    Case("1500 households, kindergarten outside", "guangxi", "GX-06-kindergarten", "fail", 0,
         {"estates": one(1500), "kindergartens": stops(at(100.01, 50))}),
    Case("1499 households: not applicable", "guangxi", "GX-06-kindergarten", "not_applicable",
         None, {"estates": one(1499), "kindergartens": stops(at(300, 50))}),
    Case("households missing", "guangxi", "GX-06-kindergarten", "no_data", None,
         {"estates": one(None), "kindergartens": stops(at(50, 50))}),
    Case("1500 households, no kindergarten layer", "guangxi", "GX-06-kindergarten", "no_data",
         None, {"estates": one(1500)}),
    # GX-10-greening: green area clipped to the estate >= 35 %
    Case("green exactly 35 %", "guangxi", "GX-10-greening", "pass", 0.35,
         {"estates": one(), "green_space": green(rect(0, 0, 100, 35))}),
    Case("green just under 35 %", "guangxi", "GX-10-greening", "fail", 0.3499,
         {"estates": one(), "green_space": green(rect(0, 0, 100, 34.99))}),
    Case("green 0.34996 is reported as such, not as 0.35", "guangxi", "GX-10-greening", "fail",
         0.34996, {"estates": one(), "green_space": green(rect(0, 0, 100, 34.996))}),
    Case("overlapping green counts once", "guangxi", "GX-10-greening", "pass", 0.375,
         {"estates": one(), "green_space": green(rect(0, 0, 50, 50), rect(25, 0, 75, 50))}),
    Case("overlap that would pass if double counted", "guangxi", "GX-10-greening", "fail", 0.3,
         {"estates": one(), "green_space": green(rect(0, 0, 60, 50), rect(0, 0, 60, 50))}),
    Case("green partly outside is clipped", "guangxi", "GX-10-greening", "pass", 0.35,
         {"estates": one(), "green_space": green(rect(-50, 0, 50, 70))}),
    Case("a hole is not green: (4000 - 400) / 10000", "guangxi", "GX-10-greening", "pass",
         0.36, {"estates": one(), "green_space": green(holed(rect(0, 0, 100, 40),
                                                            rect(10, 10, 30, 30)))}),
    Case("a hole is not green: (4000 - 600) / 10000", "guangxi", "GX-10-greening", "fail",
         0.34, {"estates": one(), "green_space": green(holed(rect(0, 0, 100, 40),
                                                            rect(10, 10, 40, 30)))}),
    Case("estate with a courtyard: (3500 - 10 x 50 in the hole) / 7500", "guangxi",
         "GX-10-greening", "pass", 3000 / 7500,
         {"estates": one(geom=holed(SQUARE, rect(25, 25, 75, 75))),
          "green_space": green(rect(0, 0, 100, 35))}),
    Case("no green layer", "guangxi", "GX-10-greening", "no_data", None, {"estates": one()}),
    # Nanhai
    Case("NH new estate at 30 %", "nanhai", "NH-greening", "pass", 0.3,
         {"estates": one(built="new"), "green_space": green(rect(0, 0, 100, 30))}),
    Case("NH new estate at 27 %", "nanhai", "NH-greening", "fail", 0.27,
         {"estates": one(built="new"), "green_space": green(rect(0, 0, 100, 27))}),
    Case("NH existing estate at 25 %", "nanhai", "NH-greening", "pass", 0.25,
         {"estates": one(built="existing"), "green_space": green(rect(0, 0, 100, 25))}),
    Case("NH existing estate at 24.99 %", "nanhai", "NH-greening", "fail", 0.2499,
         {"estates": one(built="existing"), "green_space": green(rect(0, 0, 100, 24.99))}),
    Case("NH built missing", "nanhai", "NH-greening", "no_data", 0.27,
         {"estates": one(built=None), "green_space": green(rect(0, 0, 100, 27))}),
    Case("NH green space exactly 500 m", "nanhai", "NH-green-500", "pass", 500.0,
         {"estates": one(), "green_space": green(rect(600, 0, 700, 100))}),
    Case("NH green space 500.01 m", "nanhai", "NH-green-500", "fail", 500.01,
         {"estates": one(), "green_space": green(rect(600.01, 0, 700, 100))}),
]


SPACING = 5_000.0
"""Cases judged together lie this far apart (metres), far beyond any distance a case measures,
so that each estate only meets its own features."""


def _group_key(case: Case) -> tuple:
    """Cases can share a GeoPackage when they have the same pack and the same layers, each
    present with rows or present but empty (an absent layer and an empty one mean different
    things, so a case's layers must be the same in the whole group)."""
    return case.pack, tuple(sorted((role, bool(rows)) for role, rows in case.layers.items()))


def _moved(row: dict, k: int, dx: float) -> dict:
    """A copy of ``row`` moved ``dx`` m east, its estate renamed to the case's own."""
    out = {**row, "geometry": translate(row["geometry"], xoff=dx)}
    if out.get("estate_id") is not None:
        out["estate_id"] = f"{out['estate_id']}{k}"
    return out


class Judged:
    """Each case's finding for its rule, from one real check per group of cases that can share
    a GeoPackage (each case's estate and features moved to a slot of their own); a group is
    checked when one of its cases is first asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.groups: dict[tuple, list[Case]] = {}
        for case in CASES:
            self.groups.setdefault(_group_key(case), []).append(case)
        self.found: dict[str, pd.Series] = {}

    def __getitem__(self, case: Case) -> pd.Series:
        if case.name not in self.found:
            self._check(_group_key(case))
        return self.found[case.name]

    def _check(self, key: tuple) -> None:
        group = self.groups[key]
        layers: dict[str, list[dict]] = {}
        for k, case in enumerate(group):
            for role, rows in case.layers.items():
                layers.setdefault(role, []).extend(_moved(r, k, k * SPACING) for r in rows)
        path = write_gpkg(self.folder / f"group{len(self.found)}.gpkg",
                          {role: layer(rows) for role, rows in layers.items()})
        result = geocheck.check(path, pack=group[0].pack)
        assert len(result.site.estates) == len(group)  # no case was dropped
        f = result.findings.set_index(["estate_id", "rule_id"])
        for k, case in enumerate(group):
            self.found[case.name] = f.loc[(f"E{k}", case.rule)]


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> Judged:
    """The cases' findings (see :class:`Judged`)."""
    return Judged(tmp_path_factory.mktemp("cases"))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_case(case: Case, judged) -> None:
    row = judged[case]
    assert row["status"] == case.status, row["evidence"]
    if case.value is None:
        assert math.isnan(row["value"])
    else:
        assert row["value"] == pytest.approx(case.value, abs=1e-3 if row["unit"] == "m" else 1e-6)
    assert row["citation"] and row["method"] and row["threshold"]


def test_cases_have_distinct_names() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


def test_thresholds_and_evidence_read_as_sentences() -> None:
    """One facility is singular in the findings' English: 'a garbage collection point'."""
    sample = SAMPLE
    f = geocheck.check(sample).findings.set_index(["estate_id", "rule_id"])
    assert f.loc[("NN-001", "GX-53"), "threshold"] == "bus stop <= 500 m or rail station <= 800 m"
    assert f.loc[("NN-001", "GX-53"), "evidence"].startswith("nearest bus stop: ")
    assert f.loc[("NN-001", "GX-06-garbage-radius"), "threshold"] == (
        "every residential building <= 70 m from a garbage collection point")
    assert f.loc[("NN-001", "GX-06-garbage-setback"), "threshold"] == (
        "every garbage collection point in the estate >= 5 m from buildings")


def test_shares_shown_truncated_never_up_to_a_threshold() -> None:
    from geocheck.core.units import percent, share

    assert share(54 / 65) == "83.0%"  # 83.077 %
    assert share(0.8496) == "84.9%"  # not 85.0 % against an 85 % threshold
    assert share(0.85) == "85.0%" and share(0.29) == "29.0%"  # 0.29 * 1000 is 289.999...
    assert share(0.372222, 4) == "37.2222%"
    assert percent(0.35) == "35 %" and percent(0.125) == "12.5 %"
    assert percent(0.595, sep="") == "59.5%" and percent(0.85, sep="") == "85%"
    assert share(float("nan")) == "n/a"
