"""``geocheck import file --role paths`` (road centrelines) and ``geocheck import dxf --map
ROAD=paths``: lines kept as lines, end to end through check.

The DXF is written here by hand (a few entities with their group codes), so every length can be
worked on paper; coordinates are local metres from (X0, Y0) in EPSG:4545.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import X0, Y0, at, estate, layer, rect
from shapely.geometry import LineString

import geocheck
from geocheck.cli import main
from geocheck.inputs.dxf import read_dxf

Pairs = list[tuple[str, object]]


def _entity(kind: str, handle: str, cad_layer: str, subclass: str, codes: Pairs) -> Pairs:
    return [("0", kind), ("5", handle), ("100", "AcDbEntity"), ("8", cad_layer),
            ("100", subclass), *codes]


def _xy(x: float, y: float, first: str = "10") -> Pairs:
    return [(first, X0 + x), (str(int(first) + 10), Y0 + y)]


def _line(handle: str, cad_layer: str, a: tuple[float, float], b: tuple[float, float]) -> Pairs:
    return _entity("LINE", handle, cad_layer, "AcDbLine",
                   [*_xy(*a), ("30", 0), *_xy(*b, first="11"), ("31", 0)])


def _lwpolyline(handle: str, cad_layer: str, pts: list[tuple[float, float]],
                closed: bool = False) -> Pairs:
    codes: Pairs = [("90", len(pts)), ("70", 1 if closed else 0)]
    for x, y in pts:
        codes += _xy(x, y)
    return _entity("LWPOLYLINE", handle, cad_layer, "AcDbPolyline", codes)


def _polyline(handle: str, cad_layer: str, pts: list[tuple[float, float]]) -> Pairs:
    """An old-style (2D) POLYLINE with VERTEX entities and a SEQEND."""
    out = _entity("POLYLINE", handle, cad_layer, "AcDb2dPolyline",
                  [("66", 1), *_xy(0, 0), ("30", 0), ("70", 0)])
    for k, (x, y) in enumerate(pts):
        out += [("0", "VERTEX"), ("5", f"{handle}{k}"), ("100", "AcDbEntity"),
                ("8", cad_layer), ("100", "AcDbVertex"), ("100", "AcDb2dVertex"), *_xy(x, y),
                ("30", 0)]
    return [*out, ("0", "SEQEND"), ("5", f"{handle}E"), ("100", "AcDbEntity"),
            ("8", cad_layer)]


def _text(handle: str, cad_layer: str, xy: tuple[float, float], text: str) -> Pairs:
    return _entity("TEXT", handle, cad_layer, "AcDbText",
                   [*_xy(*xy), ("30", 0), ("40", 2), ("1", text), ("100", "AcDbText")])


def _point(handle: str, cad_layer: str, xy: tuple[float, float]) -> Pairs:
    return _entity("POINT", handle, cad_layer, "AcDbPoint", [*_xy(*xy), ("30", 0)])


def _write_dxf(path: Path, entities: list[Pairs]) -> Path:
    """An R2018 DXF (UTF-8 text) holding only a header version and the entities."""
    pairs: Pairs = [("0", "SECTION"), ("2", "HEADER"), ("9", "$ACADVER"), ("1", "AC1032"),
                    ("0", "ENDSEC"), ("0", "SECTION"), ("2", "ENTITIES"),
                    *[p for e in entities for p in e], ("0", "ENDSEC"), ("0", "EOF")]
    path.write_text("".join(f"{c}\n{v}\n" for c, v in pairs), encoding="utf-8")
    return path


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return _write_dxf(tmp_path / "roads.dxf", [
        _lwpolyline("E1", "红线", [(0, 0), (100, 0), (100, 100), (0, 100)], closed=True),
        _line("A1", "道路中线", (0, -20), (300, -20)),  # 300 m
        _lwpolyline("A2", "道路中线", [(-20, -20), (-20, 20), (10, 60)]),  # 40 + 50 = 90 m
        # a ring road drawn closed: 40 + 30 + 40 + 30 = 140 m, kept as a closed line
        _lwpolyline("A3", "道路中线", [(200, 100), (240, 100), (240, 130), (200, 130)],
                    closed=True),
        _polyline("A4", "道路中线", [(300, -20), (300, 100), (350, 100)]),  # 120 + 50 = 170 m
        _text("A5", "道路中线", (150, -17), "中山路"),  # 3 m from A1: its name
        _point("A6", "道路中线", (400, 0)),  # not a line
    ])


def test_dxf_lines_and_polylines_become_paths(plan: Path) -> None:
    imp = read_dxf(plan, {"红线": "estates", "道路中线": "paths"}, "EPSG:4545")
    paths = imp.layers["paths"].set_index("id")
    assert paths.geometry.length.round(9).dropna().to_dict() == {
        "DXF-A1": 300.0, "DXF-A2": 90.0, "DXF-A3": 140.0, "DXF-A4": 170.0}
    assert set(paths.geometry.dropna().geom_type) == {"LineString"}
    assert paths.loc["DXF-A3", "geometry"].is_ring  # closed, yet a line: walked round
    assert paths.loc["DXF-A1", "name"] == "中山路"
    assert paths.loc["DXF-A6", "geometry"] is None
    assert paths.loc["DXF-A6", "source_problem"] == (
        "CAD layer 道路中线, entity handle A6: point, not a line, polyline or arc")
    assert "paths: 4 features, 1 unusable entity kept without geometry, 1 text used as labels" \
        in imp.notes


def test_import_dxf_map_road_layer_to_paths_then_check(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.gpkg"
    assert main(["import", "dxf", str(plan), "--src-crs", "EPSG:4545", "--map", "红线=estates",
                 "--map", "道路中线=paths", "-o", str(out)]) == 0
    result = geocheck.check(out)
    paths = result.site.layer("paths").set_index("feature_id")
    assert sorted(paths.index) == ["DXF-A1", "DXF-A2", "DXF-A3", "DXF-A4"]
    assert paths.geometry.length.sum() == pytest.approx(300 + 90 + 140 + 170)
    rejects = result.site.ledger.rejects_frame().set_index("feature_id")
    assert "point, not a line, polyline or arc" in rejects.loc["DXF-A6", "reason"]
    counts = result.site.ledger.counts().set_index("layer").loc["paths"]
    assert (counts["read"], counts["judged"], counts["rejected"]) == (5, 4, 1)


def test_a_road_layer_with_only_points_is_refused_naming_what_paths_need(tmp_path) -> None:
    path = _write_dxf(tmp_path / "p.dxf", [_point("B1", "ROAD", (0, 0))])
    with pytest.raises(geocheck.InputError, match="paths needs lines, polylines or arcs"):
        read_dxf(path, {"ROAD": "paths"}, "EPSG:4545")


def test_import_file_road_centrelines_as_paths(tmp_path: Path, capsys) -> None:
    shp = tmp_path / "centrelines.shp"
    layer([{"RD_ID": "r1", "RD_NAME": "滨江路", "RD_CLASS": "主干路",
            "geometry": LineString([at(0, -10), at(500, -10)])},
           {"RD_ID": "r2", "RD_NAME": None, "RD_CLASS": "支路",
            "geometry": LineString([at(50, -10), at(50, -10)])}]).to_file(
        shp, encoding="utf-8")
    out = tmp_path / "site.gpkg"
    layer([estate("A", rect(0, 0, 100, 100))]).to_file(out, layer="estates")
    assert main(["import", "file", str(shp), "--role", "paths", "--field", "id=RD_ID",
                 "--field", "name=RD_NAME", "--field", "kind=RD_CLASS", "-o", str(out)]) == 0
    capsys.readouterr()
    site = geocheck.check(out).site
    paths = site.layer("paths").set_index("feature_id")
    assert list(paths.index) == ["r1"]
    assert paths.loc["r1", "geometry"].length == pytest.approx(500.0)
    assert (paths.loc["r1", "name"], paths.loc["r1", "kind"]) == ("滨江路", "主干路")
    rejects = site.ledger.rejects_frame().set_index("feature_id")
    assert rejects.loc["r2", "reason"] == "line of zero length (all its vertices coincide)"

