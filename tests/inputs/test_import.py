"""``geocheck import osm|dxf`` end to end: import with the command line, then check, and
account for every feature read."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest
from helpers import FIXTURES, ROOT

import geocheck
from geocheck.cli import main
from geocheck.inputs.sources import read_sources_table

BEIJING = ROOT / "layers" / "osm" / "beijing_haidian_liudaokou_2026.osm"
HELSINKI = ROOT / "layers" / "osm" / "helsinki_2020.osm.pbf"
DXF = FIXTURES / "site_plan_r2000_gbk.dxf"


def _accounted(result: geocheck.Result) -> pd.DataFrame:
    counts = result.site.ledger.counts().set_index("layer")
    assert (counts["judged"] + counts["rejected"] == counts["read"]).all()
    return counts


def test_import_osm_beijing_then_check(tmp_path, capsys) -> None:
    out = tmp_path / "bj.gpkg"
    assert main(["import", "osm", str(BEIJING), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "estates             11 features (1 without usable geometry" in printed
    result = geocheck.check(out)
    counts = _accounted(result)
    assert counts.loc["estates", "read"] == 11 and counts.loc["estates", "judged"] == 10
    rejects = result.site.ledger.rejects_frame()
    lost = rejects[rejects["feature_id"] == "osm:relation/14400092"]
    assert lost["reason"].str.startswith("no geometry: OSM relation 14400092").all()
    assert "garbage_points" not in result.site.layers  # none mapped: no data, not "none"
    garbage = result.findings[result.findings["rule_id"] == "GX-06-garbage-radius"]
    assert (garbage["status"] == "no_data").all()
    assert result.site.crs.to_epsg() == 4548  # CGCS2000 zone CM 117E for Beijing
    names = set(result.site.estates["name"].dropna())
    assert {"富润家园", "双泉嘉苑", "静淑苑", "学士居"} <= names
    assert set(read_sources_table(out)["role"]) == set(result.site.layers) | {"estates"}


def test_import_osm_households_sheet_replaces_no_data(tmp_path) -> None:
    sheet = tmp_path / "户数.csv"
    sheet.write_text("小区名称,户数\n富润家园,1600\n双泉嘉苑,900\n", encoding="utf-8")
    out = tmp_path / "bj.gpkg"
    assert main(["import", "osm", str(BEIJING), "-o", str(out), "--households",
                 str(sheet)]) == 0
    result = geocheck.check(out)
    kg = result.findings[result.findings["rule_id"] == "GX-06-kindergarten"].set_index(
        "estate_name")
    assert kg.loc["双泉嘉苑", "status"] == "not_applicable"
    assert kg.loc["双泉嘉苑", "evidence"].startswith("900 households (< 1500)")
    assert kg.loc["富润家园", "status"] in ("pass", "fail")
    assert "estimate" not in kg.loc["富润家园", "evidence"]
    assert (kg.drop(index=["富润家园", "双泉嘉苑"])["status"] == "no_data").all()


def test_import_osm_helsinki_keeps_the_layer_and_accounts_broken_rings(tmp_path) -> None:
    out = tmp_path / "hk.gpkg"
    assert main(["import", "osm", str(HELSINKI), "-o", str(out)]) == 0
    green = pyogrio.read_dataframe(out, layer="green_space")
    broken = green[green.geometry.isna()]
    assert len(green) == 189 and len(broken) == 4
    assert broken["source_problem"].str.contains("too few of its nodes").all()
    result = geocheck.check(out)
    counts = _accounted(result)
    assert counts.loc["green_space", "read"] == 189
    rejected = result.site.ledger.rejects_frame()
    assert set(broken["id"]) <= set(rejected.loc[rejected["layer"] == "green_space",
                                                 "feature_id"])
    assert result.site.crs.to_epsg() == 32635  # outside China: UTM zone 35N
    estimated = result.site.estates["households_estimated"]
    assert estimated.sum() == 4


def test_import_dxf_then_check_lists_unusable_entities(tmp_path, capsys) -> None:
    out = tmp_path / "plan.gpkg"
    code = main(["import", "dxf", str(DXF), "--src-crs", "EPSG:4545",
                 "--map", "用地红线=estates", "--map", "小区名称=estates",
                 "--map", "建筑=buildings", "--map", "绿地=green_space",
                 "--map", "公交站=bus_stops", "--map", "垃圾收集点=garbage_points",
                 "-o", str(out)])
    assert code == 0
    capsys.readouterr()
    result = geocheck.check(out)
    _accounted(result)
    assert "阳光家园" in set(result.site.estates["name"])
    rejects = result.site.ledger.rejects_frame().set_index("feature_id")
    assert "open polyline, not a closed boundary" in rejects.loc["DXF-4B", "reason"]


@pytest.mark.parametrize(("args", "message"), [
    (["import", "dxf", str(DXF), "--map", "用地红线=estates"], "give --src-crs"),
    (["import", "dxf", str(DXF), "--src-crs", "EPSG:4545", "--map", "红线=estates"],
     "红线"),
    (["import", "dxf", str(DXF), "--src-crs", "EPSG:4545", "--map", "用地红线=estate"],
     "'estate' is not a role"),
    (["import", "dxf", str(DXF), "--src-crs", "EPSG:4545"], "the file's layers"),
    (["import", "dxf", str(DXF.parent / "plan.dwg"), "--src-crs", "EPSG:4545", "--map",
      "a=estates"], "save the plan as DXF"),
    (["import", "osm", str(DXF), "-o", "x.gpkg"], str(DXF.name)),
    (["import", "file", str(DXF), "--role", "estates", "-o", "x.gpkg"], "name the CAD layers"),
])
def test_import_errors_are_one_line_exit_2(tmp_path, capsys, args, message) -> None:
    out = ["-o", str(tmp_path / "o.gpkg")] if "-o" not in args else []
    code = main([*args, *out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and message in err


def test_project_reads_a_utf8_dxf_directly(tmp_path) -> None:
    """A project names CAD layers of an R2018 (UTF-8) plan; no import step is needed."""
    plan = FIXTURES / "site_plan_r2018_utf8.dxf"
    (tmp_path / "project.toml").write_text(
        f'[layers.estates]\npath = "{plan.as_posix()}"\ncad_layers = ["用地红线", "小区名称"]\n'
        'src_crs = "EPSG:4545"\n\n'
        f'[layers.buildings]\npath = "{plan.as_posix()}"\ncad_layers = ["建筑"]\n'
        'src_crs = "EPSG:4545"\n', encoding="utf-8")
    result = geocheck.check(tmp_path / "project.toml")
    _accounted(result)
    assert result.site.crs.to_epsg() == 4545
    assert len(result.site.estates) == 1 and len(result.site.layers["buildings"]) == 1
    with pytest.raises(geocheck.CRSError, match="give --src-crs"):
        (tmp_path / "p2.toml").write_text(
            f'[layers.estates]\npath = "{plan.as_posix()}"\ncad_layers = ["用地红线"]\n',
            encoding="utf-8")
        geocheck.check(tmp_path / "p2.toml")


def test_import_osm_households_key_names_the_sheet_column(tmp_path) -> None:
    """--households-key is the sheet's own column (小区名称), not a fixed word."""
    sheet = tmp_path / "户数.csv"
    sheet.write_text("编号,小区名称,户数\n1,双泉嘉苑,900\n", encoding="utf-8")
    out = tmp_path / "bj.gpkg"
    assert main(["import", "osm", str(BEIJING), "-o", str(out), "--households", str(sheet),
                 "--households-key", "小区名称", "--households-field", "户数"]) == 0
    est = pyogrio.read_dataframe(out, layer="estates").set_index("name")
    assert est.loc["双泉嘉苑", "households"] == 900
