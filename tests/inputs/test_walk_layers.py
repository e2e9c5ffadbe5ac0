"""The ``paths`` and ``clinics`` roles through reading and normalising: lines kept or rejected with
a reason, like every layer."""

from __future__ import annotations

import numpy as np
import pyogrio.raw
import pytest
import shapely
from helpers import CRS, X0, Y0, at, estate, layer, rect, write_gpkg
from shapely.geometry import GeometryCollection, LineString, MultiLineString
from wkb import circular_string

import geocheck
from geocheck.core.roles import LINE, ROLES, FieldMap
from geocheck.inputs.read import read_layers


def _line(*xy: tuple[float, float]) -> LineString:
    return LineString([at(x, y) for x, y in xy])


def _site(tmp_path, **layers):
    rows = {"estates": [estate("A", rect(0, 0, 100, 100))], **layers}
    path = write_gpkg(tmp_path / "in.gpkg", {k: layer(v) for k, v in rows.items()})
    return geocheck.normalise(read_layers(path))


def test_paths_and_clinics_are_roles() -> None:
    assert ROLES["paths"].geometry == frozenset({LINE})
    assert ROLES["paths"].fields == ("id", "name", "kind")
    assert ROLES["clinics"].geometry == frozenset({"point", "polygon"})
    assert FieldMap(["paths.kind=道路等级"]).source("paths", "kind") == "道路等级"


def test_paths_keep_lines_and_reject_the_unusable_with_a_reason(tmp_path) -> None:
    with pytest.warns(RuntimeWarning):  # shapely warns when it builds such a line
        nan = LineString([(X0, Y0), (X0 + 1, float("nan"))])
    rows = [
        {"id": "straight", "name": "北路", "kind": "footway", "geometry": _line((0, 0), (0, 300))},
        {"id": "multi", "name": None, "kind": "residential",
         "geometry": MultiLineString([_line((0, 0), (30, 40)), _line((100, 0), (100, 12))])},
        {"id": "wrapped", "name": None, "kind": None,
         "geometry": GeometryCollection([_line((0, 0), (6, 8)), _line((10, 0), (10, 5))])},
        {"id": "one", "name": None, "kind": None,
         "geometry": GeometryCollection([_line((0, 0), (0, 7))])},
        {"id": "mixed", "name": None, "kind": None,
         "geometry": GeometryCollection([_line((0, 0), (0, 7)), at(5, 5)])},
        {"id": "dot", "name": None, "kind": None, "geometry": _line((5, 5), (5, 5))},
        {"id": "point", "name": None, "kind": None, "geometry": at(1, 1)},
        {"id": "none", "name": None, "kind": None, "geometry": None},
        {"id": "nan", "name": None, "kind": None, "geometry": nan},
        {"id": "empty", "name": None, "kind": None, "geometry": LineString()},
        {"id": "hill", "name": None, "kind": None,
         "geometry": LineString([(X0, Y0, 10.0), (X0 + 3, Y0 + 4, 90.0)])},
    ]
    site = _site(tmp_path, paths=rows)
    paths = site.layer("paths").set_index("feature_id")
    # lengths worked by hand: 300; 50 + 12; 10 + 5 (unwrapped to a MultiLineString); 7; 5 in
    # the plane (the 80 m climb is dropped with Z)
    length = paths.geometry.length.round(9).to_dict()
    assert length == {"straight": 300.0, "multi": 62.0, "wrapped": 15.0, "one": 7.0,
                      "hill": 5.0}
    assert paths.loc["wrapped", "geometry"].geom_type == "MultiLineString"
    assert paths.loc["one", "geometry"].geom_type == "LineString"
    assert not paths.has_z.any()
    assert paths.loc["straight", "kind"] == "footway" and paths.loc["straight", "name"] == "北路"
    assert "estate_pos" not in paths.columns  # paths belong to no estate
    rejects = site.ledger.rejects_frame().query("layer == 'paths'").set_index("feature_id")
    assert rejects["reason"].to_dict() == {
        "mixed": "GeometryCollection of line and point parts where line expected",
        "dot": "line of zero length (all its vertices coincide)",
        "point": "Point where line expected",
        "none": "no geometry",
        "nan": "non-finite coordinates",
        "empty": "empty geometry",
    }
    counts = site.ledger.counts().set_index("layer").loc["paths"]
    assert (counts["read"], counts["judged"], counts["rejected"]) == (11, 5, 6)


def test_a_curved_path_is_linearised_every_degree(tmp_path) -> None:
    path = write_gpkg(tmp_path / "c.gpkg", {"estates": layer([estate("A", rect(0, 0, 9, 9))])})
    r = 100.0  # a half circle of radius 100 m from (0, 0) over (100, 100) to (200, 0)
    arc = circular_string([(X0, Y0), (X0 + r, Y0 + r), (X0 + 2 * r, Y0)])
    pyogrio.raw.write(path, np.array([arc], dtype=object), [np.array(["arc"], dtype=object)],
                      ["id"], geometry_type="Unknown", crs=CRS, driver="GPKG", layer="paths")
    site = geocheck.normalise(read_layers(path))
    line = site.layer("paths").geometry.iloc[0]
    assert line.geom_type == "LineString"
    # chords of at most 1 degree: between 180 x 2r sin(0.5 deg) = 314.1553 m and the arc's
    # 100 pi = 314.1593 m (GDAL keeps the arc's middle point, so one chord is split in two)
    assert 180 * 2 * r * np.sin(np.radians(0.5)) <= line.length < np.pi * r
    assert len(line.coords) >= 181
    assert any("layer 'paths': 1 curved feature(s) linearised" in n for n in site.ledger.notes)


def test_clinics_keep_points_and_outlines_and_reject_lines(tmp_path) -> None:
    site = _site(tmp_path, clinics=[
        {"id": "station", "name": "社区卫生服务站", "geometry": at(50, 150)},
        {"id": "hospital", "name": "医院", "geometry": rect(300, 0, 400, 80)},
        {"id": "road", "name": None, "geometry": _line((0, 0), (1, 1))},
    ])
    clinics = site.layer("clinics").set_index("feature_id")
    assert sorted(clinics.index) == ["hospital", "station"]
    assert clinics.loc["hospital", "geometry"].area == pytest.approx(8000.0)
    reasons = site.ledger.rejects_frame().query("layer == 'clinics'")["reason"].tolist()
    assert reasons == ["LineString where point or polygon expected"]


def test_a_check_with_paths_and_clinics_judges_as_without_them(tmp_path) -> None:
    """The new layers change no verdict of today's rules, and rejected paths (which no rule reads
    yet) turn no verdict into no data."""
    base = {"estates": [estate("A", rect(0, 0, 100, 100))],
            "bus_stops": [{"id": "s", "name": "站", "geometry": at(50, 300)}]}
    plain = geocheck.check(write_gpkg(tmp_path / "a.gpkg", {k: layer(v) for k, v in
                                                            base.items()}))
    extra = {**base, "paths": [{"id": "p", "name": None, "kind": None,
                                "geometry": _line((50, 100), (50, 300))},
                               {"id": "bad", "name": None, "kind": None,
                                "geometry": _line((50, 50), (50, 50))}],
             "clinics": [{"id": "c", "name": None, "geometry": at(60, 60)}]}
    walked = geocheck.check(write_gpkg(tmp_path / "b.gpkg", {k: layer(v) for k, v in
                                                             extra.items()}))
    cols = ["rule_id", "status", "value", "evidence"]
    assert walked.findings[cols].equals(plain.findings[cols])
    assert set(walked.site.layers) == {"bus_stops", "paths", "clinics"}
    assert shapely.length(walked.site.layer("paths").geometry.to_numpy()).tolist() == [200.0]

