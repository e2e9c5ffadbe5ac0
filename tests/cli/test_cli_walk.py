"""``geocheck check --distance walk``: exit codes, the findings' walk_m and method, the outputs.

The site: estate A (0,0)-(100,100) and a bus stop 200 m north across a river; the only path
goes round by a bridge, 700 m on foot (see tests/rules/test_walk_rules.py for the sums).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from helpers import X0, Y0, at, estate, rect
from shapely.geometry import LineString

from geocheck.cli import main

PACK = """
[pack]
id = "bus500"
title_zh = "500米内有公交站"
title_en = "Bus stop within 500 m"
document = "hand-made"

[[rules]]
id = "T-bus"
title_zh = "500米内有公交站"
title_en = "Bus stop within 500 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = { bus_stops = 500 }
"""

ROUND_BY_THE_BRIDGE = [(50, 100), (50, 150), (300, 150), (300, 250), (50, 250), (50, 300)]


@pytest.fixture
def site(gpkg, tmp_path: Path) -> tuple[Path, Path]:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100))],
                bus_stops=[{"id": "S-A", "geometry": at(50, 300)}],
                paths=[{"id": "P-A", "geometry": LineString([(X0 + x, Y0 + y) for x, y
                                                             in ROUND_BY_THE_BRIDGE])}])
    pack = tmp_path / "bus500.toml"
    pack.write_text(PACK, encoding="utf-8")
    return path, pack


def _run(site: tuple[Path, Path], out: Path, *extra: str) -> int:
    return main(["check", str(site[0]), "--pack", str(site[1]), "-o", str(out), "-q",
                 "--format", "csv,gpkg,xlsx", *extra])


def test_radius_passes_walk_fails(site, tmp_path: Path, capsys) -> None:
    assert _run(site, tmp_path / "radius") == 0
    f = pd.read_csv(tmp_path / "radius" / "findings.csv", encoding="utf-8-sig")
    assert list(f.columns[9:13]) == ["value", "unit", "walk_m", "threshold"]
    assert (f["status"][0], f["value"][0], f["walk_m"][0]) == ("pass", 200.0, 700.0)
    assert "a detour" in f["evidence"][0]
    assert _run(site, tmp_path / "walk", "--distance", "walk") == 1
    f = pd.read_csv(tmp_path / "walk" / "findings.csv", encoding="utf-8-sig")
    assert (f["status"][0], f["value"][0], f["walk_m"][0]) == ("fail", 700.0, 700.0)
    assert ("walking along the paths layer: lines meet only at shared vertices (within 0.05 m); "
            "legs from the entrances/boundary to the nearest path and from the path to the "
            "facility counted") in f["method"][0]
    gp = pyogrio.read_dataframe(tmp_path / "walk" / "results.gpkg", layer="findings")
    assert gp["walk_m"].tolist() == [700.0]
    xl = pd.read_excel(tmp_path / "walk" / "findings.xlsx", sheet_name=None)
    sheet = next(df for name, df in xl.items() if "findings" in name)
    assert sheet["walk_m"].tolist() == [700.0]
    lines = pyogrio.read_dataframe(tmp_path / "walk" / "results.gpkg", layer="evidence_lines")
    assert lines.length.tolist() == pytest.approx([700.0])
    manifest = json.loads((tmp_path / "walk" / "geocheck-run.json").read_text(encoding="utf-8"))
    assert manifest["options"]["distance"] == "walk"


def test_unknown_distance_reading_exits_2(site, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        _run(site, tmp_path / "out", "--distance", "bike")
    assert exc.value.code == 2
    assert "invalid choice: 'bike' (choose from 'radius', 'walk')" in capsys.readouterr().err
