"""The interactive map (Leaflet): estates by verdict, facilities, radii and evidence.

Layers are serialised to GeoJSON in bulk (geometries by GEOS, properties column by column with
Arrow: :func:`.leaflet.geojson_text`) and drawn by ``L.geoJSON`` with styles, tooltips and
popups built in the page from feature properties, so a city of thousands of estates stays quick
to write and to open. Passing buildings are left out.

Escaping: every text from the data is HTML-escaped in Python before it is written, because
Leaflet inserts tooltip and popup strings as HTML; and ``<``, ``>``, ``&`` are written as JSON
``\\u`` escapes, so nothing in the data can close the page's script.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ...core.roles import ROLES
from ...core.status import WORST_FIRST
from ...core.units import metres_all, plain
from ...rules.result import Result
from ..style import (
    CATCHMENT_ALPHA,
    EVIDENCE_COLOUR,
    PATH_COLOUR,
    ROLE_COLOURS,
    ROUTE_COLOUR,
    STATUS_COLOURS,
    band_colours,
)
from ..text import STATUS_LABELS
from .basemaps import GCJ_JS, TIANDITU_KEY_ENV, Basemap, basemaps, tianditu
from .districts import MAP_ESTATES_MAX, write_district_maps
from .estates import estate_layer_frame
from .leaflet import (
    LEAFLET_CSS,
    LEAFLET_JS,
    GeocheckMap,
    GeoJsonLayer,
    controls_js,
    escape_all,
    inline_assets,
    js_literal,
    lonlat_bounds,
)

__all__ = ["LEAFLET_CSS", "LEAFLET_JS", "MAP_ESTATES_MAX", "TIANDITU_KEY_ENV", "Basemap",
           "basemaps", "build_map", "estate_layer_frame", "tianditu", "write_map", "write_maps"]


_RANK_JS = ", ".join(f"{s}: {k}" for k, s in enumerate(WORST_FIRST))
POPUP_JS = """
function geocheckPopup(p) {
  var rows = '', order = [], rank = {__RANK__};
  for (var k = 0; k < GEOCHECK.rules.length; k++) order.push(k);
  // failing rules first, then those lacking data, each group in pack order
  order.sort(function(a, b) { return (rank[p['s' + a]] - rank[p['s' + b]]) || (a - b); });
  for (var j = 0; j < order.length; j++) {
    var i = order[j], r = GEOCHECK.rules[i], s = p['s' + i];
    rows += '<tr><td><b>' + r.id + '</b><br><small>' + r.title + '</small></td>'
      + '<td class="gc-' + s + '"><b>' + s + '</b></td><td>' + GEOCHECK.t[p['v' + i]]
      + '</td><td>' + r.threshold + '</td></tr><tr><td colspan="4" class="gc-ev">'
      + GEOCHECK.t[p['e' + i]]
      + (GEOCHECK.t[p['r' + i]] ? '<br><b>to pass:</b> ' + GEOCHECK.t[p['r' + i]] : '')
      + '<br><i>' + r.citation + '</i></td></tr>';
  }
  return '<div class="gc-pop">' + p.h + '<div class="gc-rules"><table><tr><th>rule</th>'
    + '<th>status</th><th>value</th><th>threshold</th></tr>' + rows + '</table></div></div>';
}
""".replace("__RANK__", _RANK_JS)


def _head(result: Result, texts: list[str], bases: list[dict[str, Any]]) -> str:
    thresholds = result.matrix("threshold")[0] if len(result.site.estates) else \
        [""] * len(result.pack.rules)
    rules = [{"id": html.escape(r.id), "title": html.escape(f"{r.title_zh} / {r.title_en}"),
              "threshold": html.escape(str(t)), "citation": html.escape(r.citation)}
             for r, t in zip(result.pack.rules, thresholds, strict=True)]
    css = "".join(f".gc-{s}{{color:{c}}}" for s, c in STATUS_COLOURS.items())
    return (
        "<style>.gc-pop{max-width:540px;font:12px sans-serif}.gc-pop h4{margin:0 0 4px}"
        ".gc-rules{max-height:360px;overflow:auto}.gc-card{font-weight:bold;margin:2px 0}"
        ".gc-pop table{border-collapse:collapse}.gc-pop td,.gc-pop th{padding:2px 4px;"
        "vertical-align:top;text-align:left}.gc-ev{font-size:11px;color:#555;"
        f"border-bottom:1px solid #ddd}}{css}"
        ".gc-search{background:white;padding:4px}.gc-search input{width:220px;font:13px "
        "sans-serif}.gc-search-msg{font:11px sans-serif;color:#555}</style>"
        "<script>var GEOCHECK = "
        f"{js_literal({'rules': rules, 'colours': STATUS_COLOURS, 't': texts, 'basemaps': bases})};"
        f"{POPUP_JS}{GCJ_JS}</script>"
    )


def _legend(result: Result) -> str:
    items = "".join(
        f"<div><span style='background:{c};width:12px;height:12px;display:inline-block;"
        f"margin-right:4px'></span>{html.escape(STATUS_LABELS[s])}</div>"
        for s, c in STATUS_COLOURS.items()
    )
    roles = "".join(
        f"<div><span style='background:{c};width:10px;height:10px;border-radius:5px;"
        f"display:inline-block;margin-right:4px'></span>{html.escape(ROLES[r].label_en)} "
        f"{html.escape(ROLES[r].label_zh)}</div>"
        for r, c in ROLE_COLOURS.items() if result.site.layer(r) is not None
    )
    return (
        # bottom left, above the scale bar: the layer control has the right-hand side
        "<details open id='geocheck-legend' style='position:fixed;bottom:40px;left:10px;"
        "z-index:999;background:white;padding:6px 8px;border:1px solid #999;"
        "font:12px sans-serif;max-width:260px;max-height:calc(100vh - 200px);overflow:auto'>"
        "<summary style='cursor:pointer'><b>legend 图例</b></summary>"
        f"<b>geocheck · {html.escape(result.pack.id)}</b><br>"
        f"{html.escape(result.pack.title_zh)}"
        + ("<br><i>reference values (参考值), not a local standard</i>" if result.pack.reference
           else "")
        + f"<div style='margin-top:4px'><b>estates 小区</b>{items}</div>"
        f"<div style='margin-top:4px'><b>facilities 设施</b>{roles}</div>"
        + (f"<div style='margin-top:4px'><span style='color:{PATH_COLOUR}'>━</span> "
           f"{ROLES['paths'].label_en} {ROLES['paths'].label_zh} (switched off at first)</div>"
           if result.site.layer("paths") is not None else "")
        + f"<div style='margin-top:4px'><span style='color:{EVIDENCE_COLOUR}'>▬</span> "
        "evidence line / uncovered building / too-close point</div>"
        + (f"<div><span style='color:{ROUTE_COLOUR}'>┈</span> walking route 步行路线</div>"
           if (result.evidence["layer"] == "walk_routes").any() else "")
        + (f"<div><span style='color:{band_colours([0])[0]}'>■</span> walking catchment "
           "步行可达范围 (switched off at first)</div>" if len(result.walk_catchments) else "")
        + "<div id='geocheck-gcj-note' style='display:none;margin-top:4px;color:#b15928'>"
        "Gaode tiles are GCJ-02: overlays are drawn shifted to match them; measurements are "
        "unchanged. 高德底图为GCJ-02坐标，图层仅为显示而偏移。</div></details>"
    )


def _service_radii(result: Result) -> dict[str, float]:
    """Service radius per facility layer, from the pack's distance rules (metres)."""
    radii: dict[str, float] = {}
    for rule in result.pack.rules:
        if rule.check == "nearest_within":
            radii.update(rule.params["max_m"])
        elif rule.check == "buildings_within":
            radii[rule.params["layer"]] = rule.params["max_m"]
    return radii


SHOWN_POINTS_MAX = 1000
"""A facility layer with more points than this starts switched off (one click in the layer
control turns it on), so that a city's estate verdicts are not buried under markers."""

PATH_SIMPLIFY_M = 1.0
"""Walking paths are drawn simplified to this tolerance (metres): the map shows where they run;
distances are measured on the paths as read."""

PERMANENT_LABELS_MAX = 300
"""Evidence lines show their distance as a permanent label up to this many; beyond, on hover."""


def _opts(style: dict[str, Any] | None = None, point: str | None = None,
          tooltip: bool = True, popup: bool = False, permanent: bool = False) -> str:
    """JavaScript options for L.geoJSON; ``point`` is a JS expression of ``ll`` (a LatLng)."""
    parts = []
    if style is not None:
        parts.append(f"style: function(f) {{ return {js_literal(style)}; }}")
    if point is not None:
        parts.append(f"pointToLayer: function(f, ll) {{ return {point}; }}")
    binds = []
    if tooltip:
        if permanent:  # short label always shown, the whole text on click
            binds.append("l.bindTooltip(f.properties.short, {permanent: true, "
                         "direction: 'center', opacity: 0.8}); l.bindPopup(f.properties.tip);")
        else:
            binds.append("l.bindTooltip(f.properties.tip, {sticky: true});")
    if popup:
        binds.append("l.bindPopup(function() { return geocheckPopup(f.properties); },"
                     " {maxWidth: 560});")
    if binds:
        parts.append(f"onEachFeature: function(f, l) {{ {' '.join(binds)} }}")
    return "{" + ", ".join(parts) + "}"


def _tips(gdf: gpd.GeoDataFrame, role: str) -> gpd.GeoDataFrame:
    label = html.escape(ROLES[role].label_zh)
    names = escape_all(gdf["name"]) if "name" in gdf.columns else ""
    return gpd.GeoDataFrame({"tip": label + " " + escape_all(gdf["feature_id"]) + " " + names},
                            geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def build_map(result: Result, *, offline: bool = False,
              tianditu_key: str | None = None) -> GeocheckMap:
    """Build the map page of a result (see the module docstring for what it shows).

    ``offline`` starts on a blank basemap (the page itself is made self-contained by
    :func:`write_map`); ``tianditu_key`` defaults to the environment's
    :data:`TIANDITU_KEY_ENV`.
    """
    site = result.site
    west, south, east, north = lonlat_bounds(site.estates)
    m = GeocheckMap([[south, west], [north, east]])
    estates = estate_layer_frame(result)
    bases = [{"name": b.name, "urls": list(b.urls), "attribution": b.attribution,
              "subdomains": b.subdomains, "max_zoom": b.max_zoom, "gcj02": b.gcj02}
             for b in basemaps(offline, tianditu_key)]
    # the texts go into the page head; taken off the frame, which pandas would otherwise
    # deep-copy with every column read from it
    texts = estates.attrs.pop("texts")
    m.head.append(_head(result, texts, bases))
    layers: list[GeoJsonLayer] = []
    paths = site.layer("paths")
    if paths is not None and len(paths):  # under everything, off at first: context, not verdict
        lines = paths.geometry.simplify(PATH_SIMPLIFY_M, preserve_topology=False)
        p = _tips(paths.set_geometry(lines), "paths")
        layers.append(GeoJsonLayer(p, f"{ROLES['paths'].label_en} {ROLES['paths'].label_zh}",
                                   _opts({"color": PATH_COLOUR, "weight": 1, "opacity": 0.8}),
                                   show=False))
    green = site.layer("green_space")
    if green is not None and len(green):
        g = gpd.GeoDataFrame(geometry=green.geometry.simplify(0.5).to_numpy(), crs=green.crs)
        layers.append(GeoJsonLayer(g, "green space 绿地", _opts(
            {"color": "#66bd63", "fillColor": "#a6d96a", "weight": 0.5, "fillOpacity": 0.5},
            tooltip=False)))
    estates_opts = (
        "{style: function(f) { var c = GEOCHECK.colours[f.properties.overall]; return "
        "{color: c, fillColor: c, weight: 2, fillOpacity: 0.25}; }, "
        "onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); "
        "l.bindPopup(function() { return geocheckPopup(f.properties); }, {maxWidth: 560}); }}"
    )
    estates_layer = GeoJsonLayer(estates, "estates 小区 (verdict)", estates_opts)
    layers.extend(_catchment_layers(result))
    layers.append(estates_layer)
    radii = _service_radii(result)
    for role, colour in ROLE_COLOURS.items():
        gdf = site.layer(role)
        if gdf is None or gdf.empty:
            continue
        style = {"color": colour, "fillColor": colour, "weight": 1, "radius": 4,
                 "fillOpacity": 0.9}
        points = GeoJsonLayer(_tips(gdf, role), f"{ROLES[role].label_en} {ROLES[role].label_zh}",
                              _opts(style, point=f"L.circleMarker(ll, {js_literal(style)})"),
                              show=len(gdf) <= SHOWN_POINTS_MAX)
        layers.append(points)
        if role in radii:  # a circle around each point; polygon facilities show their outline
            circle = {"radius": radii[role], "color": colour, "weight": 1, "fillOpacity": 0.05}
            layers.append(GeoJsonLayer(
                None, f"service radius {plain(radii[role])} m: {ROLES[role].label_en}",
                _opts(point=f"L.circle(ll, {js_literal(circle)})", tooltip=False),
                show=False, share=points))
    layers.extend(_evidence_layers(result))
    layers.extend(_proposal_layer(result))
    for layer in layers:
        m.add_layer(layer)
    m.scripts.append(controls_js(m, layers, estates_layer))
    m.body.append(_legend(result))
    return m


CATCHMENT_SIMPLIFY_M = 2.0
"""Walking catchments are drawn simplified to this tolerance (metres)."""


def _catchment_layers(result: Result) -> list[GeoJsonLayer]:
    """One layer per facility type with a walking catchment, switched off at first: its bands
    drawn widest first, the nearest darkest on top."""
    c = result.walk_catchments
    out: list[GeoJsonLayer] = []
    colours = band_colours(c["band_m"])
    for role in dict.fromkeys(c["role"]):
        part = c[c["role"] == role].sort_values("band_m", ascending=False)
        bands = part["band_m"].to_numpy(dtype=float)
        label = f"{ROLES[role].label_en} {ROLES[role].label_zh}"
        frame = gpd.GeoDataFrame(
            {"tip": [html.escape(f"walking catchment: {label}, within {plain(b)} m on foot")
                     for b in bands],
             "c": [colours[b] for b in bands]},
            geometry=shapely.make_valid(shapely.simplify(part.geometry.to_numpy(),
                                                        CATCHMENT_SIMPLIFY_M,
                                                        preserve_topology=False)), crs=c.crs)
        style = ("{style: function(f) { return {color: f.properties.c, fillColor: "
                 f"f.properties.c, weight: 0, fillOpacity: {CATCHMENT_ALPHA}}}; }}, "
                 "onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip, "
                 "{sticky: true}); }}")
        name = (f"walking catchment: {ROLES[role].label_en} "
                f"(<= {' / '.join(plain(b) for b in bands[::-1])} m)")
        out.append(GeoJsonLayer(frame, name, style, show=False))
    return out


def _evidence_layers(result: Result) -> list[GeoJsonLayer]:
    out: list[GeoJsonLayer] = []
    ev = result.evidence
    if ev.empty:
        return out
    decisive = ev["decisive"].astype(bool).to_numpy()
    geoms = ev.geometry.to_numpy()

    def drawn(layer: str, only_decisive: bool = False) -> np.ndarray:
        """Positions of the evidence drawn in ``layer``."""
        return np.flatnonzero((ev["layer"] == layer).to_numpy(dtype=bool)
                              & (decisive if only_decisive else True))

    def frame(at: np.ndarray, **more: Any) -> gpd.GeoDataFrame:
        """The escaped labels (and ``more`` columns) of the evidence at ``at``: only the rows
        drawn are escaped and measured."""
        return gpd.GeoDataFrame({"tip": escape_all(ev["label"].iloc[at]), **more},
                                geometry=geoms[at], crs=ev.crs)

    lines = drawn("evidence_lines", only_decisive=True)
    red = {"color": EVIDENCE_COLOUR, "fillColor": EVIDENCE_COLOUR}
    if len(lines):
        # Whole metres, with more places where a whole number would read as the other verdict.
        short = metres_all(ev["distance_m"].to_numpy(dtype=float)[lines],
                           ev["limit_m"].to_numpy(dtype=float)[lines], decimals=0)
        out.append(GeoJsonLayer(frame(lines, short=short), "evidence lines (distance)",
                                _opts({**red, "weight": 2, "dashArray": "4 4"},
                                      permanent=len(lines) <= PERMANENT_LABELS_MAX)))
    routes = drawn("walk_routes", only_decisive=True)
    if len(routes):  # read as a radius: the walk beside the straight line, dotted
        out.append(GeoJsonLayer(frame(routes), "walking routes (on foot)",
                                _opts({"color": ROUTE_COLOUR, "weight": 2, "opacity": 0.8,
                                       "dashArray": "1 4"})))
    bld = drawn("uncovered_buildings")
    if len(bld):
        out.append(GeoJsonLayer(frame(bld), "uncovered buildings",
                                _opts({**red, "weight": 1, "fillOpacity": 0.6})))
    pts = drawn("too_close_points")
    if len(pts):
        ring = {**red, "radius": 7, "weight": 3, "fill": False}
        out.append(GeoJsonLayer(frame(pts), "garbage points too close to a building",
                                _opts(ring, point=f"L.circleMarker(ll, {js_literal(ring)})")))
    return out


PROPOSAL_COLOUR = "#1b7837"
"""Proposed garbage sites on the map: a ring of this colour."""


def _proposal_layer(result: Result) -> list[GeoJsonLayer]:
    """The proposed garbage sites (:mod:`geocheck.rules.proposals`) as a layer of their own,
    each with the buildings it serves, why, and how it was solved."""
    p = result.proposals.points
    if p.empty:
        return []
    tips = escape_all([f"proposed garbage point {e} #{k} ({w}): serves {c}; {m}, gap {g}"
                       + ("; in green space (no spot outside it does with as few sites)"
                          if green else "")
                       for e, k, w, c, m, g, green in zip(
                           p["estate_id"], p["site_no"], p["why"], p["covers"], p["method"],
                           p["gap"], p["in_green"], strict=True)])
    ring = {"color": PROPOSAL_COLOUR, "fillColor": "#ffffff", "radius": 7, "weight": 3,
            "fillOpacity": 0.9}
    frame = gpd.GeoDataFrame({"tip": tips}, geometry=p.geometry.to_numpy(), crs=p.crs)
    return [GeoJsonLayer(frame, "proposed garbage points 拟增设垃圾收集点",
                         _opts(ring, point=f"L.circleMarker(ll, {js_literal(ring)})"))]


def write_map(result: Result, path: Path, *, offline: bool = False,
              tianditu_key: str | None = None) -> Path:
    """Write the map to ``path`` as one HTML file, whatever the number of estates.

    Leaflet is loaded from its CDN, or with ``offline`` inlined (the page then works with no
    internet, on a blank basemap). Tiles always come from the internet.
    """
    return write_maps(result, path, offline=offline, tianditu_key=tianditu_key,
                      max_estates=None)[0]


def write_maps(result: Result, path: Path, *, offline: bool = False,
               tianditu_key: str | None = None,
               max_estates: int | None = MAP_ESTATES_MAX,
               on_page: Callable[[Path], None] | None = None) -> list[Path]:
    """Write the map to ``path`` as :func:`write_map` does, but a run of more than
    ``max_estates`` estates (None: no limit) as district pages beside ``path`` linked from an
    index map in it (:mod:`geocheck.views.webmap.districts`); return the files written,
    ``path`` first. ``on_page`` is called with each district page once it is written."""
    if max_estates is not None and len(result.site.estates) > max_estates:
        return write_district_maps(result, path, build_map, max_estates=max_estates,
                                   offline=offline, tianditu_key=tianditu_key,
                                   on_page=on_page)
    page = build_map(result, offline=offline, tianditu_key=tianditu_key).render()
    if offline:
        page = inline_assets(page)
    path.write_text(page, encoding="utf-8")
    return [path]
