"""Static maps (PNG): sizes, verdict colours read back from the pixels, fonts, CRS, escaping.

The tiny site: estates A (0..200 m square), B (400..600 m) and C (a 200 m square with a
100 m courtyard, 200..400 m south), one bus stop at (100, 250) and one rule "a bus stop within
200 m". A is 50 m from the stop (pass), B sqrt(300**2 + 50**2) = 304.1 m (fail), C 450 m (fail).
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from helpers import X0, Y0, at, estate, rect
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties
from matplotlib.image import imread
from matplotlib.path import Path as MplPath
from pyproj import CRS

import geocheck
from geocheck.core.errors import CRSError, GeocheckError
from geocheck.views import static_map, style
from geocheck.views.static_map import (
    ESTATE_SIZE,
    MAP_RECT,
    EstateMaps,
    estate_figure,
    estate_frames,
    estate_pngs,
    overview_figure,
    overview_png,
)
from geocheck.views.static_map.figure import FILL_ALPHA, anchor_points, polygon_path
from geocheck.views.static_map.overlay import MapLabels, MapScaleBar, scale_length, scale_text
from geocheck.views.static_map.paths import PathTable, line_path
from geocheck.views.style import STATUS_COLOURS, encode_png

PACK = """
[pack]
id = "bus"
title_zh = "公交测试标准"
title_en = "bus test standard"
document = "a document"

[[rules]]
id = "BUS-1"
title_zh = "公交站点200米内"
title_en = "bus stop within 200 m"
citation = "somewhere, clause 1"
check = "nearest_within"
params.max_m = { bus_stops = 200 }
"""
HOLE = shapely.Polygon(
    [(X0, Y0 - 400), (X0 + 200, Y0 - 400), (X0 + 200, Y0 - 200), (X0, Y0 - 200)],
    # the courtyard turns the same way as the outline: the path builder must flip it
    [[(X0 + 50, Y0 - 350), (X0 + 150, Y0 - 350), (X0 + 150, Y0 - 250), (X0 + 50, Y0 - 250)]])
PNG = b"\x89PNG\r\n\x1a\n"


def tiny(tmp_path: Path, gpkg, names: dict[str, str] | None = None) -> geocheck.Result:
    names = names or {}
    path = gpkg(estates=[estate(e, g, name=names.get(e)) for e, g in
                         (("A", rect(0, 0, 200, 200)), ("B", rect(400, 0, 600, 200)),
                          ("C", HOLE))],
                bus_stops=[{"id": "s1", "name": "站", "geometry": at(100, 250)}])
    pack = tmp_path / "bus.toml"
    pack.write_text(PACK, encoding="utf-8")
    return geocheck.check(path, pack=pack)


@pytest.fixture
def result(tmp_path, gpkg) -> geocheck.Result:
    return tiny(tmp_path, gpkg)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk."""
    assert png[:8] == PNG and png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def pixel(image: np.ndarray, fig, x: float, y: float) -> np.ndarray:
    """The RGB of the decoded PNG ``image`` at local metres (x, y) on ``fig``'s map."""
    fig.canvas.draw()
    px, py = fig.axes[0].transData.transform([(X0 + x, Y0 + y)])[0]
    return image[int(image.shape[0] - py), int(px), :3]


def map_labels(fig) -> list[str]:
    """The name and distance labels drawn on ``fig``'s map."""
    return next(a for a in fig.axes[0].artists if isinstance(a, MapLabels)).texts


def decode(png: bytes) -> np.ndarray:
    """A PNG (RGB or indexed) as an (h, w, 3) array of floats in 0..1."""
    return imread(io.BytesIO(png))[..., :3]


def test_palette_png_is_indexed_and_close_to_the_original() -> None:
    # flat fills with anti-aliased edges, as a map has: 4 colours and blends between them
    rgb = np.full((60, 80, 3), 255, dtype=np.uint8)
    rgb[10:50, 10:40] = (244, 165, 130)
    rgb[10:50, 40:70] = (146, 197, 222)
    rgb[:, 39:41] = np.linspace(0, 255, 60, dtype=np.uint8)[:, None, None]
    png = encode_png(rgb, dpi=72, palette=True)
    assert png[25] == 3  # IHDR colour type 3: indexed
    assert png_size(png) == (80, 60)
    back = (decode(png) * 255).round()
    assert np.abs(back - rgb).mean() < 1
    assert np.abs(back - rgb).max() <= 16  # the octree puts the grey ramp in 16-level cubes
    for y, x in ((0, 0), (30, 20), (30, 60)):  # white and the flat fills keep their colour
        assert np.array_equal(back[y, x], rgb[y, x])


def blended(colour: str) -> np.ndarray:
    """An estate's fill over the white background, as drawn."""
    return FILL_ALPHA * np.array(to_rgb(colour)) + (1 - FILL_ALPHA)


def test_tiny_site_verdicts_are_as_worked_out(result) -> None:
    assert result.overall().to_dict() == {"A": "pass", "B": "fail", "C": "fail"}
    value = result.findings.set_index("estate_id")["value"]
    assert value["B"] == pytest.approx((300**2 + 50**2) ** 0.5, abs=0.1)


def test_overview_png_size_and_verdict_colours(result) -> None:
    png = overview_png(result, dpi=100)
    assert png_size(png) == (1000, 750)  # 10 x 7.5 inches at 100 dpi
    image = decode(png)
    assert image.shape == (750, 1000, 3)
    fig = overview_figure(result, dpi=100)
    # interiors clear of labels, lines and points
    assert pixel(image, fig, 50, 50) == pytest.approx(blended(STATUS_COLOURS["pass"]), abs=2 / 255)
    assert pixel(image, fig, 450, 50) == pytest.approx(blended(STATUS_COLOURS["fail"]),
                                                       abs=2 / 255)
    assert pixel(image, fig, 175, -225) == pytest.approx(blended(STATUS_COLOURS["fail"]),
                                                         abs=2 / 255)
    # the courtyard is a hole: white, not filled
    assert pixel(image, fig, 100, -300) == pytest.approx(np.ones(3), abs=1 / 255)
    # outside every estate: white
    assert pixel(image, fig, 300, 100) == pytest.approx(np.ones(3), abs=1 / 255)


def test_estate_png_colour_size_and_same_pixels_as_a_full_draw(result) -> None:
    pngs = estate_pngs(result, [1], dpi=50)
    assert list(pngs) == ["B"]
    assert png_size(pngs["B"]) == (400, 300)  # 8 x 6 inches at 50 dpi
    image = decode(pngs["B"])
    fig = estate_figure(result, 1, dpi=50)
    assert pixel(image, fig, 450, 50) == pytest.approx(blended(STATUS_COLOURS["fail"]),
                                                       abs=2 / 255)
    # estate_pngs draws over a saved background: it must equal drawing the whole figure
    full = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert np.array_equal(image, decode(encode_png(full, 50, palette=True)))
    # and the 256-colour palette stays close to the full-colour drawing
    assert np.abs(image - full / 255).mean() < 1 / 255
    assert len(pngs["B"]) < len(encode_png(full, 50)) / 2  # and a fraction of the size
    texts = [t.get_text() for t in fig.texts]
    assert any("小区B（B）" in t and "不达标" in t for t in texts)  # status in the title


def test_estate_pngs_one_per_requested_estate_keyed_by_id(sample) -> None:
    pngs = estate_pngs(sample, [3, 0, 11], dpi=40)
    assert list(pngs) == ["NN-004", "NN-001", "NN-012"]
    assert all(png_size(p) == (320, 240) for p in pngs.values())
    every = estate_pngs(sample, dpi=20)
    assert list(every) == list(sample.site.estates["estate_id"])
    assert len({p for p in every.values()}) == 12  # twelve different maps
    assert estate_pngs(sample, []) == {}
    with pytest.raises(GeocheckError, match="positions"):
        estate_pngs(sample, [12])


def test_maps_drawn_in_chunks_equal_maps_drawn_at_once(sample) -> None:
    """Chunks drawn by one EstateMaps share its figure, and give the pixels of one call."""
    maps = EstateMaps(sample, dpi=30)
    chunks = {**maps.pngs([0, 5]), **maps.pngs([7])}
    first = maps._figure
    assert maps.pngs([2]) and maps._figure is first
    assert chunks == estate_pngs(sample, [0, 5, 7], dpi=30)


def test_estate_frame_holds_the_estate_and_its_evidence(result) -> None:
    # B: 400..600 x 0..200 m, its decisive line to the stop at (100, 250): 100..600 x 0..250;
    # span 500 m -> margin 150 m: -50..750 x -150..400; at least 300 m from the centre
    # (350, 125) up and down: -175..425; then the map's aspect widens the height.
    aspect = ESTATE_SIZE[0] * MAP_RECT[2] / (ESTATE_SIZE[1] * MAP_RECT[3])
    half = 800 / aspect / 2
    frame = estate_frames(result, [1])[0] - [X0, Y0, X0, Y0]
    assert frame == pytest.approx([-50, 125 - half, 750, 125 + half])


def test_legend_scale_bar_north_arrow_and_language(result) -> None:
    fig = overview_figure(result, dpi=50)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"达标", "不达标", "无数据", "不适用", "公交站点", "判定距离线"} <= set(labels)
    assert "学校" not in labels and "图层" not in labels  # only the layers present
    assert any(isinstance(a, MapScaleBar) for a in fig.axes[0].artists)
    assert "北" in [t.get_text() for t in fig.texts]
    fig = overview_figure(result, dpi=50, lang="en")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"pass", "fail", "no data", "not applicable", "bus stops"} <= set(labels)
    texts = [t.get_text() for t in fig.texts]
    assert "N" in texts and "bus test standard" in texts
    assert "Overview: 3 estates (2 fail, 1 pass)" in texts
    with pytest.raises(GeocheckError, match="zh or en"):
        overview_png(result, lang="fr")


def test_overview_labels_all_then_failing_only_then_none(result, monkeypatch) -> None:
    def names(fig) -> set[str]:
        return set(map_labels(fig))

    assert {"小区A", "小区B", "小区C"} <= names(overview_figure(result, dpi=50))
    monkeypatch.setattr(static_map, "LABEL_MAX", 2)  # 3 estates, 2 failing
    fig = overview_figure(result, dpi=50)
    assert {"小区B", "小区C"} <= names(fig) and "小区A" not in names(fig)
    assert any("仅不达标小区" in t.get_text() for t in fig.texts)
    monkeypatch.setattr(static_map, "LABEL_MAX", 1)
    assert not {"小区A", "小区B", "小区C"} & names(overview_figure(result, dpi=50))


def test_chinese_names_render_without_missing_glyphs(tmp_path, gpkg) -> None:
    result = tiny(tmp_path, gpkg, {"A": "凤岭北保障房小区", "B": "龍騰苑", "C": "滨江花园"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        overview_png(result, dpi=50)
        estate_pngs(result, dpi=50)
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_a_font_without_chinese_would_be_caught(result, monkeypatch) -> None:
    """The check above can fail: with a Latin-only font matplotlib warns of missing glyphs."""
    monkeypatch.setattr(style, "find_cjk_font", lambda: FontProperties(family="DejaVu Sans"))
    with pytest.warns(UserWarning, match="missing from font"):
        overview_png(result, dpi=30)


def test_no_cjk_font_is_a_clear_error(result, monkeypatch) -> None:
    monkeypatch.setattr(style, "find_cjk_font", lambda: None)
    with pytest.raises(GeocheckError, match="fonts-noto-cjk") as err:
        overview_png(result)
    assert "Microsoft YaHei" in str(err.value)
    with pytest.raises(GeocheckError, match="fonts-noto-cjk"):
        estate_pngs(result)


def test_installed_cjk_font_covers_chinese() -> None:
    from matplotlib.font_manager import findfont, get_font

    font = get_font(findfont(style.cjk_font(), fallback_to_default=False))
    assert all(ord(c) in font.get_charmap() for c in "小区达标不适用无数据北")


def test_a_geographic_or_feet_crs_is_refused(result) -> None:
    site = dataclasses.replace(result.site, crs=CRS.from_epsg(4326))
    degrees = dataclasses.replace(result, site=site)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        overview_png(degrees)
    with pytest.raises(CRSError, match="EPSG:4326"):
        estate_pngs(degrees)
    with pytest.raises(CRSError, match="US survey foot"):
        static_map.check_metric_crs(CRS.from_epsg(2227))  # California zone 3, US feet
    static_map.check_metric_crs(CRS.from_epsg(4545))


def test_hostile_names_are_drawn_as_text(tmp_path, gpkg) -> None:
    names = {"A": "<img src=x onerror=alert(1)>", "B": '=HYPERLINK("http://x","y")',
             "C": "${alert(1)}$x^{$"}  # the last is broken TeX: parsed as math it would raise
    result = tiny(tmp_path, gpkg, names)
    for pos, eid in enumerate("ABC"):
        fig = estate_figure(result, pos, dpi=30)
        fig.canvas.draw()
        assert names[eid] in map_labels(fig)
        assert any(t.get_text().startswith(names[eid]) for t in fig.texts)  # the title
    assert png_size(overview_png(result, dpi=30)) == (300, 225)
    assert len(estate_pngs(result, dpi=30)) == 3


def test_map_png_is_the_overview_at_150_dpi(result, tmp_path) -> None:
    written = geocheck.write_outputs(result, tmp_path, formats=("png",))
    assert written["png"] == tmp_path / "map.png"
    assert png_size(written["png"].read_bytes()) == (1500, 1125)  # 150 dpi


def test_polygon_path_turns_rings_for_holes() -> None:
    path = polygon_path(np.array([HOLE, shapely.LineString([(0, 0), (1, 1)]), None]))
    assert len(path.vertices) == 10  # two closed rings of five; the line and None skipped
    starts = np.flatnonzero(path.codes == path.MOVETO)
    assert list(starts) == [0, 5]

    def area(v: np.ndarray) -> float:
        v = v - v[0]
        return float(np.sum(v[:-1, 0] * v[1:, 1] - v[1:, 0] * v[:-1, 1]) / 2)

    assert area(path.vertices[:5]) == pytest.approx(200 * 200)  # counter-clockwise
    assert area(path.vertices[5:]) == pytest.approx(-100 * 100)  # clockwise: a hole
    assert len(polygon_path(np.array([], dtype=object)).vertices) == 0


def test_encode_png_round_trip() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    png = encode_png(rgb, dpi=96)
    assert png_size(png) == (11, 7)
    assert np.array_equal((imread(io.BytesIO(png)) * 255).round().astype(np.uint8), rgb)


def test_a_long_pack_title_is_set_smaller_to_fit(result) -> None:
    long = dataclasses.replace(result, pack=dataclasses.replace(result.pack,
                                                                title_zh="很长的标准名称" * 12))
    fig = overview_figure(long, dpi=50)
    fig.canvas.draw()
    title = next(t for t in fig.texts if t.get_text().startswith("很长"))
    assert title.get_fontsize() < 11
    extent = title.get_window_extent()
    assert extent.x0 >= 0 and extent.x1 <= fig.bbox.width


def test_palette_png_beyond_256_colours_keeps_fills_and_swatches_exact() -> None:
    rgb = np.full((40, 600, 3), 255, dtype=np.uint8)
    rgb[:20, :200] = (199, 233, 192)  # a flat fill
    i = np.arange(256)
    rgb[25, :256] = np.column_stack([i, (2 * i) % 256, 255 - i])  # 256 + 256 more colours
    rgb[26, :256] = np.column_stack([i, np.zeros(256), np.zeros(256)])
    rgb[30:33, 300:303] = (231, 41, 138)  # a 9-pixel swatch
    rgb[30, 310:312] = (225, 40, 140)  # and 2 pixels near it
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 256
    png = encode_png(rgb, dpi=72, palette=True)
    assert png[25] == 3  # indexed
    assert int.from_bytes(png[33:37], "big") <= 3 * 256  # the PLTE chunk right after IHDR
    back = (decode(png) * 255).round()
    assert np.array_equal(back[:20, :200], rgb[:20, :200])
    assert np.array_equal(back[30, 300], [231, 41, 138])  # its cube's commonest colour
    assert np.array_equal(back[30, 310], [231, 41, 138])  # the near pixels take the swatch's
    assert np.abs(back - rgb).max() <= 15  # each colour drawn with one of its 16-level cube
    # a ColourIndex kept between images gives the same bytes, whatever came before
    index = style.ColourIndex()
    encode_png(np.roll(rgb, 7, axis=2), dpi=72, palette=True, colours=index)
    assert encode_png(rgb, dpi=72, palette=True, colours=index) == png


def test_palette_png_of_runs_across_rows_and_alpha_is_exact() -> None:
    # the encoder works on runs of one colour, which cross row ends; alpha is ignored, so the
    # RGBA canvas of a map and its RGB give the same bytes
    rng = np.random.default_rng(3)
    rgb = np.repeat(rng.integers(0, 4, size=(9, 5, 1), dtype=np.uint8) * 60, 3, axis=2)
    rgb = np.repeat(rgb, 3, axis=1)  # runs of 3 to 15 pixels, some over a row's end
    rgb[4, 7] = (1, 2, 3)  # a run of one pixel
    rgba = np.concatenate([rgb, rng.integers(0, 256, size=(9, 15, 1), dtype=np.uint8)], axis=2)
    png = encode_png(rgb, dpi=72, palette=True)
    assert np.array_equal((decode(png) * 255).round(), rgb)
    assert encode_png(rgba, dpi=72, palette=True) == png
    assert encode_png(rgba, dpi=72, palette=True, colours=style.ColourIndex()) == png


def test_an_image_of_more_colours_than_the_index_holds_is_encoded_without_it() -> None:
    # a city-wide overview can have more than 65,535 colours (antialiased edges); it used to
    # send ColourIndex.codes into endless recursion
    k = np.arange(300 * 300)
    rgb = np.stack([k % 256, (k // 256) % 256, 77 + k // 65536], axis=1)
    rgb = rgb.reshape(300, 300, 3).astype(np.uint8)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) == 90_000 > 0xFFFF
    index = style.ColourIndex()
    png = encode_png(rgb, dpi=72, palette=True, colours=index)
    assert png == encode_png(rgb, dpi=72, palette=True)  # as without an index
    assert np.abs((decode(png) * 255).round() - rgb).max() <= 15
    small = np.full((10, 10, 3), (199, 233, 192), dtype=np.uint8)  # the index still works
    assert np.array_equal((decode(encode_png(small, dpi=72, palette=True, colours=index))
                           * 255).round()[0, 0], [199, 233, 192])


def test_scale_length_is_a_round_share_of_the_width() -> None:
    # the longest 1, 2 or 5 x 10^k metres up to a quarter of the width
    assert scale_length(1000) == 200  # quarter 250
    assert scale_length(4000) == 1000  # quarter 1000 exactly
    assert scale_length(3999) == 500
    assert scale_length(90) == 20
    assert scale_length(0) == 0
    assert [scale_text(v) for v in (20, 500, 1000, 2000)] == ["20 m", "500 m", "1 km", "2 km"]


def test_scale_bar_drawn_length_is_its_metres_at_the_map_scale(result) -> None:
    # B's map is 800 m wide (see the frame test): a quarter is 200 m, a round length
    png = estate_pngs(result, [1], dpi=100)["B"]
    fig = estate_figure(result, 1, dpi=100)
    fig.canvas.draw()
    bar = next(a for a in fig.axes[0].artists if isinstance(a, MapScaleBar))
    assert bar.length_m == 200
    ax = fig.axes[0]
    (x0, _), (x1, _) = ax.transData.transform([(X0, Y0), (X0 + 200, Y0)])
    expected = x1 - x0  # 200 m in pixels: 0.7 px a metre at 100 dpi
    assert expected == pytest.approx(140, abs=1)
    image = decode(png)
    h = image.shape[0]
    box = ax.bbox
    rows = slice(int(h - box.y0 - 0.25 * box.height), int(h - box.y0 - 3))  # above the spine
    cols = slice(int(box.x0 + 2), int(box.x0 + 0.5 * box.width))
    black = (image[rows, cols] < 0.25).all(axis=2)

    def longest_run(row: np.ndarray) -> int:
        edges = np.diff(np.r_[0, row.astype(int), 0])
        return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max(initial=0))

    assert max(longest_run(r) for r in black) == pytest.approx(expected, abs=1)


def test_labels_are_drawn_on_a_white_halo(result) -> None:
    png = estate_pngs(result, [1], dpi=100)["B"]
    fig = estate_figure(result, 1, dpi=100)
    assert {"小区A", "小区B"} <= set(map_labels(fig))
    image = decode(png)
    anchor = shapely.point_on_surface(rect(400, 0, 600, 200))  # B's label stands here
    fig.canvas.draw()
    px, py = fig.axes[0].transData.transform([(anchor.x, anchor.y)])[0]
    row, col = int(image.shape[0] - py), int(px)
    around = image[row - 8:row + 8, col - 40:col + 40].reshape(-1, 3)
    fill = blended(STATUS_COLOURS["fail"])
    halo = 0.3 * fill + 0.7  # the fill under a white box at 70 %
    assert (np.abs(around - halo).max(axis=1) <= 2 / 255).any()
    assert (around.max(axis=1) < 0.25).any()  # and the name in black on it
    assert pixel(image, fig, 450, 20) == pytest.approx(fill, abs=2 / 255)  # no halo away


def test_a_map_figure_saves_as_svg_with_its_labels_and_scale(result) -> None:
    import matplotlib

    fig = estate_figure(result, 1, dpi=50)
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # texts as text, not outlines
        fig.savefig(out, format="svg")
    svg = out.getvalue().decode("utf-8")
    assert "小区A" in svg  # a neighbour's label
    assert "200 m" in svg  # the scale bar
    assert "总体评定" in svg  # the subtitle


def test_path_table_gives_each_subset_the_path_built_from_it_alone() -> None:
    square = shapely.box(0, 0, 10, 10)  # counter-clockwise already
    clockwise = shapely.Polygon([(20, 0), (20, 5), (25, 5), (25, 0)])
    multi = shapely.MultiPolygon([shapely.box(30, 0, 31, 1), HOLE])
    geoms = np.array([square, shapely.Point(1, 1), clockwise, multi, None, HOLE], dtype=object)
    table = PathTable(geoms)
    assert list(np.diff(table.start)) == [5, 0, 5, 15, 0, 10]  # vertices per geometry
    for subset in ([0], [2], [3, 0], [5, 2, 1], [1, 4], [], [0, 1, 2, 3, 4, 5]):
        path, alone = table.path(np.array(subset, dtype=int)), polygon_path(geoms[subset])
        assert np.array_equal(path.vertices, alone.vertices)
        assert (path.codes is None and alone.codes is None) or np.array_equal(path.codes,
                                                                               alone.codes)
    turned = table.path(np.array([2])).vertices  # the clockwise square comes out turned
    assert np.sum(turned[:-1, 0] * turned[1:, 1] - turned[1:, 0] * turned[:-1, 1]) > 0


def test_polygons_without_holes_read_as_the_general_reading_gives_them() -> None:
    # A table of plain polygons only is read with get_coordinates; one with a hole among
    # them by to_ragged_array: each plain polygon's path must be the same in both.
    clockwise = shapely.Polygon([(20, 0), (20, 5), (25, 5), (25, 0)])
    plain = np.array([shapely.box(0, 0, 10, 10), clockwise,
                      shapely.Polygon([(40, 0), (44, 0), (42, 3)])], dtype=object)
    fast, general = PathTable(plain), PathTable(np.r_[plain, np.array([HOLE], dtype=object)])
    assert list(np.diff(fast.start)) == [5, 5, 4]
    for subset in ([0], [1], [2, 0], [0, 1, 2]):
        a, b = fast.path(np.array(subset)), general.path(np.array(subset))
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.codes, b.codes)
    turned = fast.path(np.array([1])).vertices  # the clockwise square comes out turned
    assert np.sum(turned[:-1, 0] * turned[1:, 1] - turned[1:, 0] * turned[:-1, 1]) > 0


def test_anchor_points_of_points_are_the_points() -> None:
    geoms = np.array([shapely.Point(3, 4), None, shapely.box(0, 0, 2, 2),
                      shapely.Point(-1, 7.5)], dtype=object)
    xy = anchor_points(geoms)
    assert xy[0].tolist() == [3.0, 4.0] and xy[3].tolist() == [-1.0, 7.5]
    assert np.isnan(xy[1]).all()
    assert shapely.contains_xy(geoms[2], *xy[2])  # a point on the polygon


def test_maps_encoded_in_a_second_thread_are_the_maps_drawn_one_by_one(sample) -> None:
    threaded = EstateMaps(sample, dpi=30).pngs([4, 0, 9, 2])
    one_by_one = {str(sample.site.estates["estate_id"].iloc[p]): m.blit()
                  for p, m in EstateMaps(sample, dpi=30)._maps([4, 0, 9, 2])}
    assert list(threaded) == ["NN-005", "NN-001", "NN-010", "NN-003"]
    assert threaded == one_by_one


def test_line_path_of_lines_and_multilines() -> None:
    line, multi = shapely.LineString([(0, 0), (1, 1), (2, 0)]), shapely.from_wkt(
        "MULTILINESTRING ((5 5, 6 6), (7 7, 8 8, 9 7))")
    skipped = [shapely.from_wkt("LINESTRING EMPTY"), None, shapely.Point(1, 1)]
    move, to = MplPath.MOVETO, MplPath.LINETO
    lines = line_path(np.array([line, *skipped, line], dtype=object))  # lines only
    assert lines.vertices.tolist() == [[0, 0], [1, 1], [2, 0]] * 2
    assert lines.codes.tolist() == [move, to, to] * 2
    mixed = line_path(np.array([multi, line], dtype=object))
    assert mixed.codes.tolist() == [move, to, move, to, to, move, to, to]
    assert mixed.vertices[:5].tolist() == [[5, 5], [6, 6], [7, 7], [8, 8], [9, 7]]
    assert len(line_path(np.array(skipped, dtype=object)).vertices) == 0
