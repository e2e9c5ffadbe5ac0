"""Walking in the views (issue 12): routes on the maps and in the report, the detour ratio
beside the value, and the walking catchments (map layer, results.gpkg, QGIS style).

The site, in local metres (helpers.at / rect):
A: river and bridge. Estate (0,0)-(100,100); bus stop S-A at (50,300), 200 m north of the
boundary as the crow flies; the only path leaves the boundary at (50,100), goes north 50 m,
east 250 m to the bridge at x = 300, 100 m across, 250 m back west and 50 m north to the stop:
700 m on foot, 3.5x.
E: a straight path. Estate (3000,0)-(3100,100); bus stop S-E at (3200,50) at the west end of a
path running east to (4200,50); a path (3100,50)-(3200,50) from the estate's boundary to it:
100 m on foot and as the crow flies.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from helpers import CRS, X0, Y0, at, estate, layer, rect, write_gpkg
from matplotlib.colors import to_hex
from shapely.geometry import LineString

import geocheck
from geocheck.rules.catchments import BUFFER_M, catchment_bands
from geocheck.views.report import render_report
from geocheck.views.static_map import estate_figure
from geocheck.views.style import ROUTE_COLOUR, band_colours
from geocheck.views.webmap import build_map, estate_layer_frame
from geocheck.views.webmap.leaflet import GeoJsonLayer

PACK = """
[pack]
id = "walkviews"
title_zh = "步行视图"
title_en = "Walking views"
document = "hand-made"

[[rules]]
id = "T-bus"
title_zh = "500米内有公交站"
title_en = "Bus stop within 500 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = { bus_stops = 500 }
"""


def line(*xy: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


RIVER_ROUTE = [(50, 100), (50, 150), (300, 150), (300, 250), (50, 250), (50, 300)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("walkviews")
    pack = folder / "walkviews.toml"
    pack.write_text(PACK, encoding="utf-8")
    path = write_gpkg(folder / "in.gpkg", {
        "estates": layer([estate("A", rect(0, 0, 100, 100), name="河<北>&小区"),
                          estate("E", rect(3000, 0, 3100, 100))]),
        "bus_stops": layer([{"id": "S-A", "name": "桥<站>", "geometry": at(50, 300)},
                            {"id": "S-E", "name": None, "geometry": at(3200, 50)}]),
        "paths": layer([{"id": "P-A", "geometry": line(*RIVER_ROUTE)},
                        {"id": "P-E", "geometry": line((3200, 50), (4200, 50))},
                        {"id": "P-F", "geometry": line((3100, 50), (3200, 50))}]),
    })
    return path, pack


@pytest.fixture(scope="module")
def radius(site) -> geocheck.Result:
    return geocheck.check(site[0], pack=site[1])


@pytest.fixture(scope="module")
def walk(site) -> geocheck.Result:
    return geocheck.check(site[0], pack=site[1], distance="walk")


def local(geom: shapely.Geometry) -> np.ndarray:
    return shapely.get_coordinates(geom) - [X0, Y0]


def test_bands_are_the_thresholds_of_the_rules_measuring_to_a_layer(radius) -> None:
    bands = catchment_bands(radius.pack)
    assert bands["bus_stops"] == (500.0,)
    assert "clinics" not in bands  # no rule of the pack measures to clinics


def test_catchment_reaches_the_band_along_the_path_plus_the_buffer(radius) -> None:
    c = radius.walk_catchments
    assert list(c["role"]) == ["bus_stops"] and list(c["band_m"]) == [500.0]
    band = c.geometry.iloc[0]
    # E: from the stop at x = 3200 east 500 m to x = 3700 and west 100 m to the estate's
    # boundary (3100) where the path ends; 25 m each side and round the ends
    east = band.intersection(shapely.box(X0 + 2900, Y0 - 100, X0 + 5000, Y0 + 200))
    assert np.allclose(local(shapely.envelope(east))[[0, 2]],
                       [[3100 - BUFFER_M, 50 - BUFFER_M], [3700 + BUFFER_M, 50 + BUFFER_M]])
    # A: from the stop back round the bridge: 50 m south, 250 m east, 100 m south (400 m at
    # (300,150)), then 100 m west to (200,150): the band stops there, 25 m further west
    inside = shapely.points([(X0 + x, Y0 + y) for x, y in
                             [(50, 300), (200, 250), (300, 200), (176, 150), (3724, 50)]])
    outside = shapely.points([(X0 + x, Y0 + y) for x, y in
                              [(174, 150), (50, 150), (50, 120), (3726, 50)]])
    assert shapely.contains(band, inside).all()
    assert not shapely.intersects(band, outside).any()


def test_catchments_in_results_gpkg_with_a_style(radius, tmp_path: Path) -> None:
    geocheck.write_outputs(radius, tmp_path, formats=("gpkg",))
    gpkg = tmp_path / "results.gpkg"
    c = pyogrio.read_dataframe(gpkg, layer="walk_catchments")
    assert list(c["role"]) == ["bus_stops"] and list(c["band_m"]) == [500.0]
    assert c.geometry.iloc[0].equals_exact(radius.walk_catchments.geometry.iloc[0], 1e-6)
    with sqlite3.connect(gpkg) as con:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = "
                          "'walk_catchments'").fetchone()[0]
    assert 'attr="band_m"' in qml and "500 m" in qml


def test_no_paths_no_catchments(site, tmp_path: Path) -> None:
    path = write_gpkg(tmp_path / "np.gpkg", {
        "estates": layer([estate("A", rect(0, 0, 100, 100))]),
        "bus_stops": layer([{"id": "S-A", "geometry": at(50, 300)}])})
    result = geocheck.check(path, pack=site[1])
    assert result.walk_catchments.empty
    geocheck.write_outputs(result, tmp_path / "out", formats=("gpkg", "map"))
    assert "walk_catchments" not in pyogrio.list_layers(tmp_path / "out" / "results.gpkg")[:, 0]
    assert "walking catchment" not in (tmp_path / "out" / "map.html").read_text("utf-8")


def map_layers(result: geocheck.Result) -> dict[str, GeoJsonLayer]:
    m = build_map(result)
    return {layer.layer_name: layer for layer in m.layers}


def lonlat(*xy: tuple[float, float]) -> np.ndarray:
    pts = gpd.GeoSeries([at(x, y) for x, y in xy], crs=CRS).to_crs(4326)
    return shapely.get_coordinates(pts.to_numpy())


def test_radius_map_draws_the_walking_route_beside_the_straight_line(radius) -> None:
    layers = map_layers(radius)
    straight = json.loads(layers["evidence lines (distance)"].data)["features"]
    routes = layers["walking routes (on foot)"]
    assert routes.show is True and ROUTE_COLOUR in routes.options_js
    feats = json.loads(routes.data)["features"]
    assert len(straight) == len(feats) == 2  # A and E
    a = next(f for f in feats if "S-A" in f["properties"]["tip"])
    assert np.allclose(a["geometry"]["coordinates"], lonlat(*RIVER_ROUTE), atol=1e-6)
    # the stop's name is escaped; the route says its walk and the detour ratio
    assert a["properties"]["tip"] == ("T-bus: walking route to S-A 桥&lt;站&gt;, 700.0 m on foot "
                                      "(3.5x)")
    a_line = next(f for f in straight if "S-A" in f["properties"]["tip"])
    assert np.allclose(a_line["geometry"]["coordinates"], lonlat((50, 100), (50, 300)),
                       atol=1e-6)


def test_walk_map_draws_the_route_as_the_evidence_line(walk) -> None:
    layers = map_layers(walk)
    assert "walking routes (on foot)" not in layers  # the evidence line is the route itself
    feats = json.loads(layers["evidence lines (distance)"].data)["features"]
    a = next(f for f in feats if "S-A" in f["properties"]["tip"])
    assert np.allclose(a["geometry"]["coordinates"], lonlat(*RIVER_ROUTE), atol=1e-6)
    assert a["properties"]["short"] == "700 m" and "700.0 m on foot" in a["properties"]["tip"]


def test_map_catchment_layer_is_off_at_first_and_styled_as_bands(radius, tmp_path) -> None:
    layers = map_layers(radius)
    c = layers["walking catchment: bus stops (<= 500 m)"]
    assert c.show is False
    feats = json.loads(c.data)["features"]
    assert [f["properties"]["c"] for f in feats] == [band_colours([500])[500]]
    assert feats[0]["properties"]["tip"] == ("walking catchment: bus stops 公交站点, within "
                                             "500 m on foot")
    geocheck.write_outputs(radius, tmp_path, formats=("map",))
    page = (tmp_path / "map.html").read_text("utf-8")
    assert "walking catchment: bus stops (\\u003c= 500 m)" in page or \
        "walking catchment: bus stops (<= 500 m)" in page


def test_popup_value_shows_the_walk_and_the_detour_ratio(radius, walk) -> None:
    est = estate_layer_frame(radius)
    texts = est.attrs["texts"]
    assert texts[est["v0"].iloc[0]] == "200 m (walk 700 m, 3.5x)"   # A
    assert texts[est["v0"].iloc[1]] == "100 m (walk 100 m, 1.0x)"   # E
    on_foot = estate_layer_frame(walk)
    assert on_foot.attrs["texts"][on_foot["v0"].iloc[0]] == "700 m on foot"
    assert "3.5x): a detour" in on_foot.attrs["texts"][on_foot["e0"].iloc[0]]


def test_report_finding_shows_the_walk_and_ratio(radius) -> None:
    page = render_report(radius, lang="en")
    assert "200 m (walk 700 m, 3.5x)" in page
    assert "桥&lt;站&gt;" in page and "桥<站>" not in page
    zh = render_report(radius, lang="zh")
    assert "200 m（步行 700 m，3.5倍）" in zh or "200 m (步行 700 m, 3.5倍)" in zh


def test_static_map_draws_the_route_dotted(radius) -> None:
    fig = estate_figure(radius, 0, dpi=50)
    ax = fig.axes[0]
    purple = [p for p in ax.patches if p.get_fill() is False
              and to_hex(p.get_edgecolor()) == ROUTE_COLOUR]
    assert len(purple) == 1
    drawn = purple[0].get_path().vertices
    assert np.allclose(drawn, [(X0 + x, Y0 + y) for x, y in RIVER_ROUTE])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "步行路线" in labels


def test_a_city_sized_band_is_drawn_on_the_grid_cells_along_its_paths() -> None:
    """grid_cover, worked by hand: one segment along y = 10 from x = 0 to 100 on a 25 m grid
    has samples in the cells of row 0, columns 0-4 (x = 100 is the left border of column 4,
    which holds the last sample); with their neighbours: columns -1..5, rows -1..1, a box
    (-25, -25)-(150, 50), outlined through the cells' centres, so each of its four corners is
    cut by a triangle with 12.5 m legs."""
    from geocheck.rules.catchments import grid_cover

    cover = grid_cover(np.array([[[0.0, 10.0], [100.0, 10.0]]]), 25.0)
    octagon = shapely.Polygon([(-12.5, -25), (137.5, -25), (150, -12.5), (150, 37.5),
                               (137.5, 50), (-12.5, 50), (-25, 37.5), (-25, -12.5)])
    assert cover.equals(octagon)
    assert cover.area == 175 * 75 - 4 * 12.5 * 12.5 / 2
    # every point within 18.75 m of the segment is in it; nothing 84 m away is
    assert cover.contains(shapely.Point(-18.7, 10)) and cover.contains(shapely.Point(50, 28.7))
    assert cover.contains(shapely.Point(-13.3, -3.3))  # 18.7 m from the segment's end
    assert not cover.intersects(shapely.Point(50, 10 + 84))


def test_a_band_too_wide_for_a_raster_is_merged_from_exact_cells(monkeypatch) -> None:
    """Beyond RASTER_CELLS the same cells are merged as column strips: the segment of the
    worked case above gives the whole box (-25, -25)-(150, 50), corners not cut."""
    from geocheck.rules import catchments

    monkeypatch.setattr(catchments, "RASTER_CELLS", 10)
    cover = catchments.grid_cover(np.array([[[0.0, 10.0], [100.0, 10.0]]]), 25.0)
    assert cover.equals(shapely.box(-25, -25, 150, 50))


def test_the_grid_outline_of_scattered_pieces_covers_every_point_near_them() -> None:
    """A property of grid_cover on 300 random segments: every point 18.7 m from one (sampled
    round each end and along it) is covered, and the outline is a valid (multi)polygon whose
    area lies between the union of the segments buffered by 18.75 m and by 84 m."""
    from geocheck.rules.catchments import grid_cover

    rng = np.random.default_rng(7)
    a = rng.uniform(0, 3000, (300, 2))
    pieces = np.stack([a, a + rng.uniform(-60, 60, (300, 2))], axis=1)
    cover = grid_cover(pieces, 25.0)
    assert cover.is_valid
    lines = shapely.linestrings(pieces)
    ring = shapely.get_coordinates(shapely.boundary(shapely.buffer(lines, 18.7, quad_segs=8)))
    assert shapely.contains_xy(cover, ring[:, 0], ring[:, 1]).all()
    assert shapely.union_all(shapely.buffer(lines, 18.75)).area < cover.area
    assert cover.area < shapely.union_all(shapely.buffer(lines, 84)).area
    assert shapely.union_all(shapely.buffer(lines, 84)).contains(cover)


def test_a_district_page_cuts_the_whole_run_s_catchment_to_its_area(walk, tmp_path) -> None:
    from geocheck.views.webmap import write_maps
    from geocheck.views.webmap.districts import district_result

    whole = walk.walk_catchments
    assert len(whole) == 1  # a row a role and band: bus stops, 500 m (S-A's and S-E's)
    part = district_result(walk, np.array([1]), margin_m=50.0)  # estate E alone
    cut = part.walk_catchments
    # worked out on the whole network: the paths near E alone (P-F, but not P-E, whose box
    # starts at x = 3200, beyond E's area) would lose the walk east along P-E; and no
    # network is built for the part
    assert part.network is None
    area = shapely.box(X0 + 2950, Y0 - 50, X0 + 3150, Y0 + 150)  # E's box and 50 m
    expected = [(r, b, g.intersection(area)) for r, b, g
                in zip(whole["role"], whole["band_m"], whole.geometry, strict=True)]
    expected = [e for e in expected if not e[2].is_empty]
    assert [(r, b) for r, b, _ in expected] == list(zip(cut["role"], cut["band_m"],
                                                         strict=True))
    assert len(cut) == 1 and cut.crs == whole.crs
    assert cut.geometry.iloc[0].area < whole.geometry.iloc[0].area / 2  # S-A's part is gone
    for (_, _, e), g in zip(expected, cut.geometry, strict=True):
        assert g.symmetric_difference(e).area <= 1e-6 * e.area
        assert area.buffer(1e-6).contains(g)
    # S-E is 100 m from E along P-F: its catchment reaches E's boundary
    assert cut.geometry.iloc[0].intersects(shapely.box(X0 + 3000, Y0, X0 + 3100, Y0 + 100))
    pages = write_maps(walk, tmp_path / "map.html", max_estates=1)  # a page an estate
    assert len(pages) == 3
    assert all("walking catchment:" in p.read_text(encoding="utf-8") for p in pages[1:])
