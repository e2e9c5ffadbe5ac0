"""map.html opened as planners open it: in a real browser (headless Chromium).

Every test asserts that the page ran without a script error. The browser is cut off from the
internet (see ``tests/browser.py``): what a page requests is recorded and answered locally.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLE, at, estate, rect

import geocheck
from geocheck.cli import main
from geocheck.inputs.coords import wgs84_to_gcj02
from geocheck.views.style import STATUS_COLOURS
from geocheck.views.webmap import TIANDITU_KEY_ENV, write_map

HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    "${window.__pwned=2}",
    '"><script>window.__pwned=3</script>',
    "</script><script>window.__pwned=4</script>",
    "{{constructor.constructor('window.__pwned=5')()}}",
]


@pytest.fixture(scope="module")
def sample_map(sample, tmp_path_factory) -> Path:
    return write_map(sample, tmp_path_factory.mktemp("map") / "map.html")


ESTATE_FIRST_VERTEX = """() => { var out = {}; GEOCHECK.estates.eachLayer(function(l) {
    var ll = l.getLatLngs()[0][0]; out[l.feature.properties.i] = [ll.lng, ll.lat]; });
    return out; }"""


def test_map_opens_with_every_layer(browser, sample_map, sample) -> None:
    page = browser.open(sample_map)
    assert page.errors == [] and page.console_errors == []
    assert page.refused == []  # nothing but Leaflet (served from the local copy) and tiles
    assert sorted(page.served) == sorted([
        "https://unpkg.com/leaflet@1.9.4/dist/leaflet.css",
        "https://unpkg.com/leaflet@1.9.4/dist/leaflet.js"])
    assert all("tile.openstreetmap.org" in u for u in page.tiles) and page.tiles  # OSM first
    names = page.js("GEOCHECK.overlays.map(function(o) { return o[0]; })")
    for expected in ("estates 小区 (verdict)", "bus stops 公交站点", "green space 绿地",
                     "service radius 500 m: bus stops", "evidence lines (distance)",
                     "uncovered buildings", "garbage points too close to a building"):
        assert expected in names
    # the layer control lists every overlay, and the three basemaps
    labels = page.js("Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
                     ".map(function(l) { return l.textContent.trim(); })")
    assert set(names) <= set(labels)
    assert {"OpenStreetMap", "高德 Gaode (GCJ-02)", "no basemap 无底图"} <= set(labels)
    # every estate is drawn in its verdict's colour
    colours = page.js("""() => { var out = {}; GEOCHECK.estates.eachLayer(function(l) {
        out[l.feature.properties.i] = l.options.color; }); return out; }""")
    overall = sample.overall()
    assert colours == {eid: STATUS_COLOURS[s] for eid, s in overall.items()}
    # a scale bar in metres
    assert re.fullmatch(r"\d+ (m|km)", page.js(
        "document.querySelector('.leaflet-control-scale-line').textContent"))


def test_evidence_lines_are_labelled_with_their_distance(browser, sample_map,
                                                         sample) -> None:
    page = browser.open(sample_map)
    shown = sorted(page.js("Array.from(document.querySelectorAll('.leaflet-tooltip'))"
                           ".map(function(t) { return t.textContent; })"))
    ev = sample.evidence
    lines = ev[(ev["layer"] == "evidence_lines") & ev["decisive"].astype(bool)]
    assert len(lines) > 0
    assert shown == sorted(f"{d:,.0f} m" for d in lines["distance_m"])


def test_popup_lists_rules_failing_first(browser, sample_map, sample) -> None:
    page = browser.open(sample_map)
    assert page.js("GEOCHECK.search('NN-003')") == "1 / 1"
    text = page.js("document.querySelector('.leaflet-popup-content').innerText")
    assert text.startswith("青山岭安置小区")
    f = sample.findings
    mine = f[f["estate_id"] == "NN-003"]
    failing = mine[mine["status"] == "fail"]["rule_id"].tolist()
    assert failing  # NN-003 is blocked by R22's survey
    rows = page.js("Array.from(document.querySelectorAll('.gc-rules td b'))"
                   ".map(function(b) { return b.textContent; })")
    ids = [r for r in rows if r in set(mine["rule_id"])]
    assert ids[: len(failing)] == failing and len(ids) == len(mine)
    assert failing[0] in text and "compliance 93.8%" in text


def test_search_by_name(browser, sample_map) -> None:
    page = browser.open(sample_map)
    assert page.js("GEOCHECK.search('青山岭')") == "1 / 1"
    assert "青山岭安置小区" in page.js("document.querySelector('.leaflet-popup-content').innerText")
    assert page.js("GEOCHECK.search('no such estate')") == "无匹配 no estate matches"
    options = page.js("Array.from(document.querySelectorAll('#geocheck-search-list option'))"
                      ".map(function(o) { return o.value; })")
    assert "青山岭安置小区 (NN-003)" in options and len(options) == 12


BOX = "(function(sel) { var r = document.querySelector(sel).getBoundingClientRect();" \
      " return [r.left, r.top, r.right, r.bottom]; })"


def test_popup_from_search_is_in_view_and_legend_clear_of_layer_control(
        browser, sample_map) -> None:
    page = browser.open(sample_map)  # 1280 x 900
    assert page.js("GEOCHECK.search('金湖北')") == "1 / 1"
    page.page.wait_for_timeout(500)  # the popup's pan
    left, top, right, bottom = page.js(BOX + "('.leaflet-popup')")
    assert top >= 0 and left >= 0 and right <= 1280 and bottom <= 900
    assert "金湖北保障房小区" in page.js("document.querySelector('.leaflet-popup-content h4')"
                                  ".innerText")
    legend = page.js(BOX + "('#geocheck-legend')")
    layers = page.js(BOX + "('.leaflet-control-layers')")
    assert legend[2] < layers[0] or legend[1] > layers[3]  # side by side or one above
    assert page.js("document.getElementById('geocheck-legend').open")  # folds on a click


def test_gaode_basemap_shifts_only_what_is_drawn(browser, sample_map) -> None:
    page = browser.open(sample_map)
    before = page.js(ESTATE_FIRST_VERTEX)
    page.choose("高德 Gaode (GCJ-02)")
    assert page.errors == []
    assert page.tiles[-1].startswith("https://webrd0")
    after = page.js(ESTATE_FIRST_VERTEX)
    ids = sorted(before)
    lonlat = np.array([before[i] for i in ids])
    lon, lat = wgs84_to_gcj02(lonlat[:, 0], lonlat[:, 1])
    shifted = np.array([after[i] for i in ids])
    # the same transform as geocheck.inputs.coords, to 1e-9 degrees; about 500 m in Nanning
    assert np.abs(shifted - np.column_stack([lon, lat])).max() < 1e-9
    assert np.abs(shifted - lonlat).max() > 1e-3
    assert page.js("document.getElementById('geocheck-gcj-note').style.display") == "block"
    # a layer switched on later (service radii start hidden) is shifted too
    page.choose("service radius 500 m: bus stops")
    centre = page.js("""() => { var c; GEOCHECK.overlays.forEach(function(o) {
        if (o[0] === 'service radius 500 m: bus stops') o[1].eachLayer(function(l) {
            c = [l.getLatLng().lng, l.getLatLng().lat, l._gcOrig.lng, l._gcOrig.lat]; }); });
        return c; }""")
    glon, glat = wgs84_to_gcj02(centre[2], centre[3])
    assert abs(centre[0] - glon) < 1e-9 and abs(centre[1] - glat) < 1e-9
    # the data itself is never changed: back on OpenStreetMap the geometry is as written
    page.choose("OpenStreetMap")
    assert page.js(ESTATE_FIRST_VERTEX) == before
    assert page.errors == []


def test_offline_map_needs_no_internet(browser, sample, tmp_path) -> None:
    path = write_map(sample, tmp_path / "map.html", offline=True)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?:', text)
    page = browser.open(path, serve_leaflet=False)
    assert page.errors == [] and page.console_errors == []
    assert page.refused == [] and page.tiles == [] and page.served == []
    assert page.js("typeof L") == "object"
    assert page.js("GEOCHECK.estates.getLayers().length") == 12
    checked = page.js("document.querySelector('.leaflet-control-layers-base "
                      "input:checked').parentNode.textContent.trim()")
    assert checked == "no basemap 无底图"


def test_hostile_names_stay_text(browser, gpkg, tmp_path) -> None:
    path = gpkg(estates=[estate(f"E{i}", rect(300 * i, 0, 300 * i + 100, 100), name=name)
                         for i, name in enumerate(HOSTILE)],
                bus_stops=[{"id": "<b>s</b>", "name": HOSTILE[0], "geometry": at(50, 300)}])
    out = tmp_path / "out"
    assert main(["check", str(path), "-o", str(out), "-q", "--format", "map"]) == 1
    page = browser.open(out / "map.html")
    # open every popup and tooltip
    page.js("""() => { GEOCHECK.overlays.forEach(function(o) { o[1].eachLayer(function(l) {
        if (l.getPopup && l.getPopup()) { l.openPopup();
          document.body.appendChild(document.createTextNode(
            l.getPopup().getElement().innerText)); }
        if (l.getTooltip && l.getTooltip()) l.openTooltip(); }); }); }""")
    for i, name in enumerate(HOSTILE):
        page.js("(q) => GEOCHECK.search(q)", f"E{i}")
        # the newest popup (the one closed fades out for 200 ms before it leaves the page)
        shown = page.js("Array.from(document.querySelectorAll('.leaflet-popup-content h4'))"
                        ".pop().textContent")
        assert shown == name
    assert page.js("window.__pwned === undefined")
    assert page.js("document.querySelectorAll('img[src=\"x\"], .leaflet-pane script')"
                   ".length") == 0
    assert page.errors == []
    options = page.js("Array.from(document.querySelectorAll('#geocheck-search-list option'))"
                      ".map(function(o) { return o.value; })")
    assert options == [f"{name} (E{i})" for i, name in enumerate(HOSTILE)]


def test_tianditu_basemap_from_the_environment(browser, sample, tmp_path,
                                               monkeypatch, capsys) -> None:
    key = "0123456789abcdef0123456789abcdef"
    monkeypatch.setenv(TIANDITU_KEY_ENV, key)
    path = write_map(sample, tmp_path / "map.html")
    assert key in path.read_text(encoding="utf-8")  # as the CLI warns: the key is in the file
    page = browser.open(path)
    page.choose("天地图 Tianditu")
    tiles = [u for u in page.tiles if "tianditu.gov.cn" in u]
    assert tiles and all(u.endswith("tk=" + key) for u in tiles)
    assert {"vec_w", "cva_w"} <= {re.search(r"/(\w+_w)/", u).group(1) for u in tiles}
    # shown as WGS 84: no GCJ-02 shift
    assert page.js("GEOCHECK.gcj.on") is False and page.errors == []


def test_tianditu_key_note_and_refusal(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(TIANDITU_KEY_ENV, "0123456789abcdef0123456789abcdef")
    args = ["check", str(SAMPLE), "-o", str(tmp_path / "a"), "-q",
            "--format", "map"]
    assert main(args) == 1
    assert "written into map.html" in capsys.readouterr().err
    monkeypatch.setenv(TIANDITU_KEY_ENV, "'; alert(1); '")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geocheck: error: {TIANDITU_KEY_ENV} does not look like a Tianditu")


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory) -> Path:
    """Every output of a check of estates with hostile names (and one bad feature)."""
    from helpers import layer, write_gpkg

    folder = tmp_path_factory.mktemp("hostile")
    rows = [estate(f"E{i}", rect(300 * i, 0, 300 * i + 100, 100), name=name)
            for i, name in enumerate(HOSTILE)]
    stops = [{"id": "s1", "name": HOSTILE[0], "geometry": at(50, 300)},
             {"id": HOSTILE[1], "name": "x", "geometry": None}]
    path = write_gpkg(folder / "in.gpkg", {"estates": layer(rows), "bus_stops": layer(stops)})
    assert main(["check", str(path), "-o", str(folder / "out"), "-q"]) == 1
    return folder / "out"


def test_report_is_self_contained_and_inert(browser, hostile_outputs) -> None:
    page = browser.open(hostile_outputs / "report.html", serve_leaflet=False)
    assert page.errors == [] and page.console_errors == []
    assert page.refused == [] and page.tiles == [] and page.served == []  # asks for nothing
    assert page.js("document.querySelectorAll('script').length") == 0
    assert page.js("window.__pwned === undefined")
    headings = page.js("Array.from(document.querySelectorAll('section.estate h3'))"
                       ".map(function(h) { return h.textContent; })")
    assert headings == [f"E{i} {name}" for i, name in enumerate(HOSTILE)]
    # every image (overview and one map per estate) is inline and decodes
    images = page.js("Array.from(document.images).map(function(i) {"
                     " return [i.src.slice(0, 22), i.naturalWidth]; })")
    assert len(images) >= 1 + len(HOSTILE)
    assert all(src == "data:image/png;base64," and width > 0 for src, width in images)
    # the rejected stop is listed with its (hostile) id as text
    assert HOSTILE[1] in page.js("document.getElementById('rejects').innerText")


def test_report_of_the_sample_in_chromium(browser, sample, tmp_path) -> None:
    written = geocheck.write_outputs(sample, tmp_path, formats=("report",), lang="en")
    page = browser.open(written["report"], serve_leaflet=False)
    assert page.errors == [] and page.refused == []
    ids = page.js("Array.from(document.querySelectorAll('section.estate'))"
                  ".map(function(s) { return s.dataset.estateId; })")
    assert ids == sample.site.estates["estate_id"].tolist()
    assert page.js("document.documentElement.lang") == "en"
    assert page.js("Array.from(document.images).every(function(i) { return i.naturalWidth; })")


def test_map_of_hostile_names_from_the_full_run(browser, hostile_outputs) -> None:
    page = browser.open(hostile_outputs / "map.html")
    assert page.errors == [] and page.js("window.__pwned === undefined")
