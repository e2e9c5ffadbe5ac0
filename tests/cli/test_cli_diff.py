"""``geocheck diff`` on the sample and a copy changed by hand: it reports exactly the changes
made, and refuses an incomplete output folder."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from helpers import SAMPLE

import geocheck
from geocheck.cli import main
from geocheck.compare import compare, read_run
from geocheck.core.errors import InputError

RULES = len(geocheck.load_pack("guangxi").rules)


def changed_copy(path: Path) -> dict[str, float]:
    """The sample with five changes: NN-003's households 600 -> 1600; bus stop BS-07 (NN-003's
    nearest, 620 m) removed; a 100 m x 100 m green square added inside NN-008 (no green
    before, 60 000 m2); NN-012 deleted with its buildings and entrances; NN-013 added 3 km
    east of everything. Returns NN-003's distance to the nearest bus stop left, worked out
    here from its entrances."""
    for name, _ in pyogrio.list_layers(SAMPLE):
        g = gpd.read_file(SAMPLE, layer=name)
        if name == "estates":
            g.loc[g["estate_id"] == "NN-003", "households"] = 1600
            x1, y0 = g.total_bounds[2], g.total_bounds[1]
            g = pd.concat([g[g["estate_id"] != "NN-012"], gpd.GeoDataFrame(
                [{"estate_id": "NN-013", "name": "新建小区", "households": 500, "built": "new",
                  "geometry": shapely.box(x1 + 3000, y0, x1 + 3200, y0 + 200)}], crs=g.crs)])
        elif name in ("buildings", "entrances"):
            g = g[g["estate_id"] != "NN-012"]
        elif name == "bus_stops":
            g = g[g["id"] != "BS-07"]
            stops = g
        elif name == "green_space":
            est = gpd.read_file(SAMPLE, layer="estates")
            c = est.loc[est["estate_id"] == "NN-008", "geometry"].iloc[0].representative_point()
            square = shapely.box(c.x - 50, c.y - 50, c.x + 50, c.y + 50)
            g = pd.concat([g, gpd.GeoDataFrame([{"id": "G-NEW", "name": "新增绿地",
                                                 "geometry": square}], crs=g.crs)])
        gpd.GeoDataFrame(g, crs=g.crs).to_file(path, layer=name, driver="GPKG")
    gates = gpd.read_file(SAMPLE, layer="entrances")
    gates = gates[gates["estate_id"] == "NN-003"].geometry.to_numpy()
    assert len(gates)  # measured from the entrances
    nearest = shapely.distance(gates[:, None], stops.geometry.to_numpy()[None, :]).min()
    return {"NN-003 bus": float(nearest)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, dict[str, float]]:
    d = tmp_path_factory.mktemp("diff")
    assert main([ "check", str(SAMPLE), "-o", str(d / "old"), "--format", "csv,gpkg",
                 "-q"]) == 1
    figures = changed_copy(d / "changed.gpkg")
    return d / "old", d / "changed.gpkg", figures


def test_diff_reports_exactly_the_changes_made(runs, tmp_path, capsys) -> None:
    old, new, figures = runs
    assert main(["diff", str(old), str(new), "-o", str(tmp_path)]) == 1  # some for the worse
    d = pd.read_csv(tmp_path / "diff.csv", encoding="utf-8-sig")
    kinds = d.groupby(["estate_id", "change"]).size().to_dict()
    assert kinds == {("NN-012", "removed estate"): RULES, ("NN-013", "new estate"): RULES,
                     ("NN-003", "broken"): 1, ("NN-003", "worse"): 1,
                     ("NN-008", "better"): 1, ("NN-008", "fixed"): 1}
    row = d.set_index(["estate_id", "rule_id"])
    # 1600 households now need a kindergarten inside; NN-003 has none
    assert row.loc[("NN-003", "GX-06-kindergarten"), ["before_status", "after_status"]
                   ].tolist() == ["not_applicable", "fail"]
    # BS-07 gone: still no stop within 500 m, the nearest is farther
    bus = row.loc[("NN-003", "GX-53")]
    assert (bus["change"], bus["before_value"]) == ("worse", 620.0)
    assert bus["after_value"] == pytest.approx(figures["NN-003 bus"], abs=1e-3)
    # the green square: greening 0 -> 10 000 / 60 000, still short of 35 %; a patch now
    assert row.loc[("NN-008", "GX-10-greening"), "after_value"] == pytest.approx(1 / 6, abs=1e-6)
    assert row.loc[("NN-008", "GX-56-green-patch"), ["change", "after_value"]].tolist() == \
        ["fixed", 10000.0]
    assert list(d["change"].iloc[:2]) == ["broken", "worse"]  # worst first
    out = capsys.readouterr().out
    assert "1 broken, 1 worse" in out and "matched by estate_id only" in out
    assert "1 new, 1 removed" in out
    assert (tmp_path / "diff.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "geocheck-run.json").is_file()


def test_two_inputs_are_run_with_the_same_pack(runs) -> None:
    _, new, _ = runs
    diff = compare(SAMPLE, new, pack="nanhai")
    assert diff.before.pack == diff.after.pack == "nanhai"
    assert set(diff.table["rule_id"]) <= {r.id for r in geocheck.load_pack("nanhai").rules}
    assert not any("different packs" in n for n in diff.notes)


def test_different_packs_are_warned_about(runs, tmp_path) -> None:
    old, _, _ = runs
    other = tmp_path / "nanhai"
    assert main(["check", str(SAMPLE), "--pack", "nanhai", "-o", str(other), "--format",
                 "csv", "-q"]) == 1
    diff = compare(old, other)
    assert any("different packs (guangxi before, nanhai after)" in n for n in diff.notes)
    assert set(diff.table["change"]) == {"new rule", "removed rule"}


def test_an_incomplete_output_folder_is_refused(runs, tmp_path) -> None:
    old, _, _ = runs
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "findings.csv").write_bytes((old / "findings.csv").read_bytes())
    with pytest.raises(InputError, match=r"no geocheck-run\.json"):
        read_run(cut)
    (cut / "geocheck-run.json").write_bytes((old / "geocheck-run.json").read_bytes())
    with pytest.raises(InputError, match="missing or was changed"):
        read_run(cut)  # results.gpkg and the rest are listed but absent
    assert main(["diff", str(cut), str(old), "-o", str(tmp_path / "o")]) == 2


def test_a_changed_attributes_sheet_shows_as_that_one_rule(tmp_path) -> None:
    import openpyxl
    from helpers import SHEET
    wb = openpyxl.load_workbook(SHEET)
    ws = wb["指标填报"]
    header = [c.value for c in ws[1]]
    col = header.index("GX-16 社区专职工作人员（人）") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "NN-001")
    assert ws.cell(row, col).value == 7  # passes: at least 7 full-time staff
    ws.cell(row, col).value = 5
    changed = tmp_path / "changed.xlsx"
    wb.save(changed)
    for name, sheet in (("a", SHEET), ("b", changed)):
        assert main(["check", str(SAMPLE), "--attributes", str(sheet), "-o",
                     str(tmp_path / name), "--format", "csv", "-q"]) == 1
    d = compare(tmp_path / "a", tmp_path / "b").table
    assert d[["estate_id", "rule_id", "change", "before", "after"]].values.tolist() == [
        ["NN-001", "GX-16-staff", "broken", "pass 7", "fail 5"]]
