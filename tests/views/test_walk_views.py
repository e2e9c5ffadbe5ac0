"""Views with ``paths`` and ``clinics`` layers: every output is written; the interactive map
draws paths as thin grey lines under everything, switched off at first, and clinics in their own
colour; the static maps draw paths thinly.

The site: estate A (0..100 m square), a bus stop at (50, 250), a path from (-50, 200) to
(300, 200) with a branch up to (150, 400), a clinic point at (200, 50) and a clinic outline
(300..340, 0..30).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import at, estate, layer, rect, write_gpkg
from matplotlib.colors import to_hex
from shapely.geometry import LineString, MultiLineString

import geocheck
from geocheck.views.static_map import overview_figure
from geocheck.views.style import PATH_COLOUR, ROLE_COLOURS
from geocheck.views.webmap import build_map

PATH = LineString([at(-50, 200), at(300, 200)])
BRANCH = MultiLineString([LineString([at(150, 200), at(150, 400)])])


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> geocheck.Result:
    path = write_gpkg(tmp_path_factory.mktemp("walk") / "in.gpkg", {
        "estates": layer([estate("A", rect(0, 0, 100, 100))]),
        "bus_stops": layer([{"id": "s", "name": "站", "geometry": at(50, 250)}]),
        "paths": layer([{"id": "p1", "name": "中山路", "kind": "residential", "geometry": PATH},
                        {"id": "p2", "name": None, "kind": "footway", "geometry": BRANCH}]),
        "clinics": layer([{"id": "c1", "name": "社区卫生服务站", "geometry": at(200, 50)},
                          {"id": "c2", "name": "医院", "geometry": rect(300, 0, 340, 30)}]),
    })
    return geocheck.check(path)


def test_every_output_is_written_with_paths_and_clinics(result, tmp_path) -> None:
    written = geocheck.write_outputs(result, tmp_path, report_maps=1)
    names = {p.name for p in written.values()}
    assert {"findings.csv", "rejects.csv", "results.gpkg", "findings.xlsx", "map.html",
            "map.png", "report.html"} <= names
    for p in written.values():
        assert p.stat().st_size > 0, p
    assert {"paths", "clinics"} <= set(result.site.layers)
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "walking paths 步行路径" in page and "clinics 医疗卫生设施" in page
    findings = pd.read_csv(tmp_path / "findings.csv")
    gx53 = findings.set_index("rule_id").loc["GX-53"]
    assert (gx53["status"], gx53["value"]) == ("pass", 150.0)  # 250 - 100 m, as without paths


def test_map_draws_paths_grey_under_everything_and_off_at_first(result) -> None:
    m = build_map(result)
    layers = m.layers
    names = [layer.layer_name for layer in layers]
    paths = layers[names.index("walking paths 步行路径")]
    assert names.index("walking paths 步行路径") == 0  # drawn first: under every other layer
    assert paths.show is False
    assert f'"color": "{PATH_COLOUR}", "weight": 1' in paths.options_js
    data = json.loads(paths.data)
    assert len(data["features"]) == 2
    assert {f["geometry"]["type"] for f in data["features"]} <= {"LineString",
                                                                 "MultiLineString"}
    assert "中山路" in data["features"][0]["properties"]["tip"]
    clinics = layers[names.index("clinics 医疗卫生设施")]
    assert ROLE_COLOURS["clinics"] in clinics.options_js
    assert len(json.loads(clinics.data)["features"]) == 2
    assert list(ROLE_COLOURS.values()).count(ROLE_COLOURS["clinics"]) == 1  # its own colour


def test_static_map_draws_the_paths_thinly_with_a_legend_row(result) -> None:
    fig = overview_figure(result, dpi=50)
    ax = fig.axes[0]
    grey = [p for p in ax.patches if p.get_fill() is False
            and to_hex(p.get_edgecolor()) == PATH_COLOUR]
    assert len(grey) == 1
    drawn = grey[0].get_path().vertices
    expected = np.array([*PATH.coords, *BRANCH.geoms[0].coords])
    assert np.allclose(drawn, expected)
    assert grey[0].get_linewidth() <= 0.5
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"步行路径", "医疗卫生设施"} <= set(labels)
