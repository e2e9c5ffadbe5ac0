"""The interactive map of a very large run: district pages linked from an index map.

One page holding every estate of a province would be hundreds of megabytes, which no browser
opens. The size budget is :data:`MAP_ESTATES_MAX` estates per page: a run with more estates
is split into districts of at most that many (:func:`split_districts`: the estates' centres
halved again and again across the longer side, at the median, so each district is a compact
piece of the area), each drawn on a page of its own, ``map-001.html``, ``map-002.html`` ...,
exactly as :func:`geocheck.views.webmap.build_map` draws a whole run (verdicts, popups,
facilities, evidence and proposals of its estates, and the walking catchments worked out once
on the whole network, cut to the page's area). ``map.html``
is then the index: each district's outline (the box around its estates), coloured by the
share of its estates that fail, with its counts; a click opens its page.

At about 11 KB per estate on a city's page (popups with every rule's value, evidence and
remedy: 16 MB for 1,500 estates of the synthetic city under the Guangxi pack), the budget keeps
a page under some 30 MB. Every text from the data is escaped as
on the whole map.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...core.status import FAIL, NO_DATA
from ...rules.result import Result
from ..style import STATUS_COLOURS
from .basemaps import GCJ_JS, basemaps
from .leaflet import (
    GeocheckMap,
    GeoJsonLayer,
    controls_js,
    inline_assets,
    js_literal,
    lonlat_bounds,
)

MAP_ESTATES_MAX = 2500
"""Estates on one page of the interactive map; a run with more gets district pages."""

MAP_MARGIN_M = 1000.0
"""Facilities, paths and green space within this many metres of a district's estates are
drawn on its page (the search distances of the shipped packs are at most 1,000 m)."""


def split_districts(centres: np.ndarray, max_estates: int) -> list[np.ndarray]:
    """Estate positions grouped into districts of at most ``max_estates`` each.

    ``centres`` is an (n, 2) array of x, y in metres. A group with too many is halved at the
    median of its longer side (by position when centres tie), until every group fits; the
    districts come in that order (west or south first), each group's positions ascending.
    """
    if max_estates < 1:
        raise ValueError("a map page holds at least one estate")
    todo = [np.arange(len(centres))]
    done: list[np.ndarray] = []
    while todo:
        group = todo.pop()
        if len(group) <= max_estates:
            done.append(np.sort(group))
            continue
        xy = centres[group]
        axis = int(np.ptp(xy[:, 1]) > np.ptp(xy[:, 0]))
        order = group[np.lexsort((group, xy[:, axis]))]
        half = len(order) // 2
        todo += [order[half:], order[:half]]  # the lower half is taken next
    return [g for g in done if len(g)]


def district_result(result: Result, positions: np.ndarray,
                    margin_m: float = MAP_MARGIN_M) -> Result:
    """The part of ``result`` for the estates at ``positions`` (site order): their findings,
    evidence and proposals, the layers the page draws within ``margin_m`` metres of them (not
    the buildings: the page draws those only as evidence), and the walking catchments of the
    whole run (worked out once, on the whole network) cut to the same area. The part has no
    network of its own: one built from the paths near the district would cut off the walks
    that leave it."""
    site, r = result.site, len(result.pack.rules)
    est = site.estates.iloc[positions].reset_index(drop=True)
    ids = pd.Index(est["estate_id"]).unique()

    def mine(table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` of the district's estates (hashed, not looked up one by one
        in a set of Python strings)."""
        return table[ids.get_indexer(table["estate_id"]) >= 0]

    x0, y0, x1, y1 = est.total_bounds
    near = {role: g.cx[x0 - margin_m:x1 + margin_m, y0 - margin_m:y1 + margin_m]
            for role, g in site.layers.items() if role != "buildings"}
    rows = (positions[:, None] * r + np.arange(r)).ravel()
    part = dataclasses.replace(
        result, site=dataclasses.replace(site, estates=est, layers=near, attributes=None,
                                         attributes_no_data=None),
        findings=result.findings.iloc[rows].reset_index(drop=True),
        evidence=mine(result.evidence), network=None)
    proposals = result.proposals
    part.__dict__["proposals"] = dataclasses.replace(proposals, points=mine(proposals.points))
    for name in ("declaration", "scores"):
        table = getattr(result, name)
        part.__dict__[name] = None if table is None else mine(table).reset_index(drop=True)
    part.__dict__["walk_catchments"] = _cut(result.walk_catchments, (
        x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m))
    return part


def _cut(frame: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The rows of ``frame`` with their geometry cut to ``box`` (metres), those left empty
    dropped."""
    cut = shapely.clip_by_rect(frame.geometry.to_numpy(), *box)
    keep = ~shapely.is_empty(cut)
    return frame[keep].set_geometry(cut[keep], crs=frame.crs).reset_index(drop=True)


def page_name(k: int) -> str:
    """The file name of district ``k`` (1-based): ``map-001.html``."""
    return f"map-{k:03d}.html"


def district_frame(result: Result, districts: list[np.ndarray]) -> gpd.GeoDataFrame:
    """One row per district: ``k``, ``page``, estates and failing / no-data counts, ``tip``
    (escaped) and the box around its estates (working CRS)."""
    overall = result.site.estates["estate_id"].map(result.overall()).to_numpy()
    geoms = result.site.estates.geometry.to_numpy()
    rows = []
    for k, pos in enumerate(districts, start=1):
        fail = int((overall[pos] == FAIL).sum())
        no_data = int((overall[pos] == NO_DATA).sum())
        x0, y0, x1, y1 = shapely.total_bounds(geoms[pos])
        rows.append({"k": k, "page": page_name(k), "estates": len(pos), "fail": fail,
                     "no_data": no_data, "share": fail / len(pos),
                     "geometry": shapely.box(x0, y0, x1, y1)})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=result.site.crs)
    frame["tip"] = [html.escape(f"district {k}: {n:,} estates, {f:,} fail, {d:,} lack data "
                                f"(click to open {p})")
                    for k, n, f, d, p in zip(frame["k"], frame["estates"], frame["fail"],
                                             frame["no_data"], frame["page"], strict=True)]
    return frame


INDEX_OPTIONS = (
    "{style: function(f) { var s = f.properties.share; var c = s > 0.5 ? GEOCHECK.colours.fail"
    " : s > 0 ? '#fdae61' : GEOCHECK.colours.pass; return {color: c, fillColor: c, weight: 2,"
    " fillOpacity: 0.3}; }, onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip,"
    " {sticky: true}); l.on('click', function() { window.location.href = f.properties.page;"
    " }); }}"
)
"""Districts on the index: red where more than half the estates fail, orange where some do,
green where none; a click opens the district's page (a file name geocheck made)."""


def build_index(result: Result, districts: list[np.ndarray], *, offline: bool = False,
                tianditu_key: str | None = None) -> GeocheckMap:
    """The index map: each district's box with its counts, linking to its page."""
    frame = district_frame(result, districts)
    west, south, east, north = lonlat_bounds(frame)
    m = GeocheckMap([[south, west], [north, east]])
    bases = [{"name": b.name, "urls": list(b.urls), "attribution": b.attribution,
              "subdomains": b.subdomains, "max_zoom": b.max_zoom, "gcj02": b.gcj02}
             for b in basemaps(offline, tianditu_key)]
    head = {"colours": STATUS_COLOURS, "basemaps": bases}
    m.head.append(f"<script>var GEOCHECK = {js_literal(head)};{GCJ_JS}</script>")
    shown = frame[["tip", "page", "share", "geometry"]].copy()
    shown["n"] = [f"district {k}" for k in frame["k"]]
    shown["i"] = frame["page"]
    layer = GeoJsonLayer(shown, "districts 分区", INDEX_OPTIONS)
    m.add_layer(layer)
    m.scripts.append(controls_js(m, [layer], layer))
    n = len(result.site.estates)
    fail = int(frame["fail"].sum())
    note = (f"{n:,} estates in {len(frame):,} districts of at most {max(map(len, districts)):,}"
            f" (one page each); {fail:,} fail. Click a district to open its map.")
    m.body.append(
        "<div id='geocheck-index' style='position:fixed;bottom:40px;left:10px;z-index:999;"
        "background:white;padding:6px 8px;border:1px solid #999;font:12px sans-serif;"
        f"max-width:300px'><b>geocheck · {html.escape(result.pack.id)}</b><br>"
        f"{html.escape(note)}</div>")
    return m


def write_district_maps(result: Result, path: Path, build: Callable[..., GeocheckMap], *,
                        max_estates: int = MAP_ESTATES_MAX, offline: bool = False,
                        tianditu_key: str | None = None,
                        on_page: Callable[[Path], None] | None = None) -> list[Path]:
    """Write the index ``path`` (map.html) and one page per district beside it
    (:func:`page_name`), each page's map made by ``build`` from the district's result
    (:func:`geocheck.views.webmap.build_map`); return the paths, the index first.
    ``on_page`` is called with each district page once it is written."""
    centres = shapely.get_coordinates(
        shapely.point_on_surface(result.site.estates.geometry.to_numpy()))
    districts = split_districts(centres, max_estates)
    paths = [path]
    for k, positions in enumerate(districts, start=1):
        page = build(district_result(result, positions), offline=offline,
                     tianditu_key=tianditu_key).render()
        out = path.parent / page_name(k)
        out.write_text(inline_assets(page) if offline else page, encoding="utf-8")
        paths.append(out)
        if on_page is not None:
            on_page(out)
    page = build_index(result, districts, offline=offline, tianditu_key=tianditu_key).render()
    path.write_text(inline_assets(page) if offline else page, encoding="utf-8")
    return paths

