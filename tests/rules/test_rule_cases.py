"""Every shipped rule has pass and fail cases, worked out by hand from the source documents.

The cases live in ``tests/rules/cases/<pack>.toml`` (one file per shipped pack); each case is one
estate. For a pack, all its cases become estates of one GeoPackage, 5 km apart on a grid so a
case only sees its own features, and their attribute cells one row each of an Excel sheet
written as a planner would fill it (95 or "95%", 是/否). The real pack is run end to end
(read, normalise, attributes sheet, judge) and every case's status is compared.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from helpers import X0, Y0, at, estate, layer, rect, write_gpkg
from openpyxl import Workbook
from shapely.geometry import LineString

import geocheck
from geocheck import load_pack, shipped_packs

CASES = Path(__file__).parent / "cases"
SPACING = 5_000.0
COLUMNS = 20
POINT_ROLES = ("bus_stops", "rail_stations", "garbage_points", "kindergartens", "schools",
               "clinics", "entrances")
RECT_ROLES = ("buildings", "green_space")
LINE_ROLES = ("paths",)
CASE_KEYS = {"rule", "expect", "why", "attributes", "households", "built", "estate", "absent",
             *POINT_ROLES, *RECT_ROLES, *LINE_ROLES}
STATUSES = {"pass", "fail", "not_applicable", "no_data"}


def load_cases(pack_id: str) -> list[dict[str, Any]]:
    """The cases of a pack, checked for shape; a file with ``include = "<pack>"`` (a pack that
    extends another) starts with that pack's cases."""
    path = CASES / f"{pack_id}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases = [*(load_cases(data["include"]) if "include" in data else []), *data["cases"]]
    for i, case in enumerate(cases):
        extra = set(case) - CASE_KEYS
        assert not extra, f"{path.name} case {i} ({case.get('rule')}): unknown keys {extra}"
        assert case["expect"] in STATUSES, f"{path.name} case {i}: expect {case['expect']!r}"
        assert case.get("why"), f"{path.name} case {i} ({case['rule']}): say why"
    return cases


def _offset(i: int) -> tuple[float, float]:
    return (i % COLUMNS) * SPACING, (i // COLUMNS) * SPACING


def build_inputs(pack_id: str, cases: list[dict[str, Any]], tmp: Path,
                 absent: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A GeoPackage with one estate per case (without the ``absent`` layers) and an attributes
    workbook; return both paths."""
    pack = load_pack(pack_id)
    estates: list[dict] = []
    roles: dict[str, list[dict]] = {}
    for i, case in enumerate(cases):
        dx, dy = _offset(i)
        x0, y0, x1, y1 = case.get("estate", [0, 0, 100, 100])
        hh = case.get("households", 800)
        estates.append(estate(f"C{i:03d}", rect(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
                              households=None if hh == "" else hh,
                              built=case.get("built", "new") or None, name=case["rule"]))
        for role in POINT_ROLES:
            for k, (x, y) in enumerate(case.get(role, [])):
                row = {"id": f"C{i:03d}-{role}-{k}", "geometry": at(x + dx, y + dy)}
                if role == "entrances":
                    row["estate_id"] = f"C{i:03d}"
                roles.setdefault(role, []).append(row)
        for role in RECT_ROLES:
            for k, (a, b, c, d) in enumerate(case.get(role, [])):
                row = {"id": f"C{i:03d}-{role}-{k}", "geometry": rect(a + dx, b + dy, c + dx,
                                                                      d + dy)}
                if role == "buildings":
                    row["use"] = "住宅"
                roles.setdefault(role, []).append(row)
        for role in LINE_ROLES:
            for k, xys in enumerate(case.get(role, [])):
                roles.setdefault(role, []).append({
                    "id": f"C{i:03d}-{role}-{k}",
                    "geometry": LineString([(X0 + x + dx, Y0 + y + dy) for x, y in xys])})
    for role in set(roles) & set(absent):
        del roles[role]
    for role in roles.values():  # layers need the same columns on every row
        keys = {k for row in role for k in row}
        for row in role:
            for k in keys:
                row.setdefault(k, None)
    gpkg = write_gpkg(tmp / f"{pack_id}{len(absent)}.gpkg", {"estates": layer(estates),
                                                **{r: layer(v) for r, v in roles.items()}})
    book = Workbook()
    ws = book.active
    keys = [a.key for a in pack.attributes]
    ws.append(["小区编号", "小区名称", *(pack.attribute(k).header for k in keys)])
    for i, case in enumerate(cases):
        given = case.get("attributes", {})
        unknown = set(given) - set(keys)
        assert not unknown, f"case {i} ({case['rule']}): pack {pack_id} has no {unknown}"
        ws.append([f"C{i:03d}", case["rule"], *(given.get(k) for k in keys)])
    sheet = tmp / f"{pack_id}{len(absent)}.xlsx"
    book.save(sheet)
    return gpkg, sheet


@pytest.mark.parametrize("pack_id", shipped_packs())
def test_every_rule_has_pass_and_fail_cases(pack_id: str) -> None:
    pack = load_pack(pack_id)
    assert (CASES / f"{pack_id}.toml").is_file(), f"pack {pack_id} has no tests/rules/cases file"
    cases = load_cases(pack_id)
    ids = {r.id for r in pack.rules}
    strays = {c["rule"] for c in cases} - ids
    assert not strays, f"cases for rules pack {pack_id} lacks: {sorted(strays)}"
    lacking = [f"{r.id} ({s})" for r in pack.rules for s in ("pass", "fail")
               if not any(c["rule"] == r.id and c["expect"] == s for c in cases)]
    assert not lacking, f"pack {pack_id}: rules without a case: {', '.join(lacking)}"


@pytest.mark.parametrize("pack_id", shipped_packs())
def test_rule_cases(pack_id: str, tmp_path: Path) -> None:
    cases = load_cases(pack_id)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for case in cases:
        groups.setdefault(tuple(sorted(case.get("absent", []))), []).append(case)
    wrong, judged = [], 0
    for n, (absent, group) in enumerate(groups.items()):
        folder = tmp_path / str(n)
        folder.mkdir()
        gpkg, sheet = build_inputs(pack_id, group, folder, absent)
        result = geocheck.check(gpkg, pack=pack_id, attributes=sheet)
        assert len(result.site.estates) == len(group)  # no case estate was dropped
        for role in absent:
            assert result.site.layer(role) is None
        f = result.findings.set_index(["estate_id", "rule_id"])
        for i, case in enumerate(group):
            row = f.loc[(f"C{i:03d}", case["rule"])]
            judged += 1
            if row["status"] != case["expect"]:
                wrong.append(f"{case['rule']} ({case['why']}): expected {case['expect']}, "
                             f"got {row['status']}: {row['evidence']}")
    assert judged == len(cases)
    assert not wrong, f"{len(wrong)} of {len(cases)} cases wrong:\n" + "\n".join(wrong)
