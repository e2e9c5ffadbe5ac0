"""The interactive map (folium / Leaflet): estates by verdict, facilities, radii and evidence.

Layers are serialised to GeoJSON by GDAL (through pyogrio) and drawn by ``L.geoJSON`` with
styles, tooltips and popups built in the page from feature properties, so a city of thousands
of estates stays quick to write and to open. Passing buildings are left out.

Escaping: every text from the data is HTML-escaped in Python before it is written, because
Leaflet inserts tooltip and popup strings as HTML; and ``<``, ``>``, ``&`` are written as JSON
``\\u`` escapes, so nothing in the data can close the page's script.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from jinja2 import Template

from .core.errors import GeocheckError
from .core.roles import ROLES
from .core.status import (
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
    WORST_FIRST,
)
from .core.units import share
from .rules.result import Result

STATUS_COLOURS = {PASS: "#1a9850", FAIL: "#d73027", NO_DATA: "#969696", NOT_APPLICABLE: "#4575b4"}
STATUS_LABELS = {PASS: "pass 达标", FAIL: "fail 不达标", NO_DATA: "no data 无数据",
                 NOT_APPLICABLE: "not applicable 不适用"}
ROLE_COLOURS = {
    "bus_stops": "#1f78b4", "rail_stations": "#6a3d9a", "garbage_points": "#b15928",
    "kindergartens": "#e7298a", "schools": "#ff7f00", "entrances": "#000000",
}
EVIDENCE_COLOUR = "#d73027"
COORDINATE_DECIMALS = 6  # about 0.1 m


def js_literal(obj: Any) -> str:
    """JSON for a ``<script>``: ``<``, ``>``, ``&`` and line separators as ``\\u`` escapes."""
    return _script_safe(json.dumps(obj, ensure_ascii=False))


def _script_safe(text: str) -> str:
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def escape_all(values: Any) -> np.ndarray:
    """HTML-escape each value (missing values become '')."""
    return np.array(["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                     else html.escape(str(v), quote=True) for v in values], dtype=object)


def geojson_text(gdf: gpd.GeoDataFrame) -> str:
    """GeoJSON of ``gdf`` in lon/lat (coordinates to about 0.1 m), safe to put in a script.

    Geometries are written by GEOS (``shapely.to_geojson``) and properties by pandas' JSON
    writer, both vectorised.
    """
    lonlat = gdf.to_crs(4326)
    geoms = shapely.to_geojson(shapely.transform(lonlat.geometry.to_numpy(),
                                                 lambda c: np.round(c, COORDINATE_DECIMALS)))
    props = pd.DataFrame(lonlat.drop(columns=lonlat.geometry.name))
    if props.columns.empty:
        prop_json = ["{}"] * len(geoms)
    else:
        # Raw newlines only separate records (JSON escapes them in strings); not splitlines(),
        # which would also split at U+2028 and the like inside a value.
        prop_json = props.to_json(orient="records", lines=True,
                                  force_ascii=False).rstrip("\n").split("\n")
    features = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
                        for p, g in zip(prop_json, geoms, strict=True))
    return _script_safe(f'{{"type":"FeatureCollection","features":[{features}]}}')


class GeoJsonLayer(folium.map.Layer):
    """A toggleable ``L.geoJSON`` layer from GeoJSON text and JavaScript options.

    ``options_js`` is JavaScript written by geocheck (never from the data). The GeoJSON text is
    held back from template rendering and put in place by :func:`render_html` (rendering tens
    of megabytes through Jinja is slow); ``share`` draws the data of another layer again.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {%- if this.share is none %}
        var {{ this.get_name() }}_data = {{ this.token }};
        {%- endif %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data_name }}, {{ this.options_js }});
        {% endmacro %}
    """)

    def __init__(self, gdf: gpd.GeoDataFrame | None, name: str, options_js: str,
                 show: bool = True, share: GeoJsonLayer | None = None) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.share = share
        self.data = geojson_text(gdf) if share is None else ""
        self.token = f"__GEOCHECK_DATA_{self.get_name()}__"
        self.data_name = f"{(share or self).get_name()}_data"
        self.options_js = options_js


_TOKEN = re.compile(r"__GEOCHECK_DATA_(\w+?)__")


def render_html(m: folium.Map) -> str:
    """Render the map page, then put each layer's GeoJSON text in place of its token."""
    data = {child.get_name(): child.data for child in m._children.values()
            if isinstance(child, GeoJsonLayer) and child.share is None}
    return _TOKEN.sub(lambda match: data[match.group(1)], m.get_root().render())


def _value_text(values: np.ndarray, units: np.ndarray) -> list[str]:
    out = []
    for v, u in zip(values, units, strict=True):
        if not np.isfinite(v):
            out.append("")
        elif u == "ratio":
            out.append(share(v))
        elif u == "count":
            out.append(f"{int(v)}")
        elif u == "yes/no":
            out.append("是 yes" if v else "否 no")
        elif u in ("points", "number"):
            out.append(f"{v:g}" + (" points" if u == "points" else ""))
        else:
            out.append(f"{v:,.1f} {u}")
    return out


def estate_layer_frame(result: Result) -> gpd.GeoDataFrame:
    """Estates with escaped display properties: ``overall``, ``tip``, ``h`` (popup header) and,
    per rule i in pack order, ``s{i}`` status, ``v{i}`` value text and ``e{i}`` evidence as
    indexes into ``attrs["texts"]`` (the distinct texts, escaped)."""
    est = result.site.estates
    overall = est["estate_id"].map(result.overall()).to_numpy()
    names, ids = escape_all(est["name"]), escape_all(est["estate_id"])
    shown = np.where(names != "", names, ids)
    out = gpd.GeoDataFrame({"overall": overall}, geometry=est.geometry.to_numpy(),
                           crs=est.crs)
    out["tip"] = shown + " (" + ids + "): " + overall
    # Raw (unescaped) name and id for the search box, which only ever sets them as text.
    out["n"] = est["name"].fillna("").astype(str).to_numpy()
    out["i"] = est["estate_id"].astype(str).to_numpy()
    hh, built = escape_all(est["households"].astype(object)), escape_all(est["built"])
    out["h"] = ("<h4>" + shown + "</h4><div>" + ids + " · households " + hh + " · built "
                + built + " · overall <b class='gc-" + overall + "'>" + overall + "</b></div>")
    out["h"] += _scorecard_html(result)
    # Per rule: s{i} status, v{i} and e{i} indexes into one table of distinct, escaped texts
    # (GEOCHECK.t), so that the same evidence ("no data: ...") is written once, not per estate.
    status = result.matrix("status")
    values = result.matrix("value").astype(float)
    units = result.matrix("unit")
    evidence = result.matrix("evidence")
    shown_values = np.array(_value_text(values.ravel(), units.ravel()),
                            dtype=object).reshape(values.shape)
    codes, uniques = pd.factorize(np.concatenate([shown_values.ravel(), evidence.ravel()]))
    n, r = status.shape
    v_codes, e_codes = codes[: n * r].reshape(n, r), codes[n * r:].reshape(n, r)
    columns = {}
    for i in range(r):
        columns[f"s{i}"] = status[:, i]
        columns[f"v{i}"] = v_codes[:, i]
        columns[f"e{i}"] = e_codes[:, i]
    out = pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)
    out.attrs["texts"] = escape_all(uniques).tolist()
    return out


def _scorecard_html(result: Result) -> np.ndarray:
    """Per estate, escaped lines for the popup header: compliance and eligibility (declaration
    packs) or points and stars (scoring packs); '' for other packs."""
    ids = result.site.estates["estate_id"].to_numpy()
    html_rows = np.full(len(ids), "", dtype=object)
    table = result.declaration
    if table is not None:
        t = table.set_index("estate_id").reindex(ids)
        rate = ["-" if pd.isna(r) else share(r) for r in t["compliance_rate"]]
        text = [f"compliance {r} ({p}/{a} standards passed) · eligible: "
                f"{'yes' if e else 'no'}" + (f" · blocking: {b}" if b else "")
                for r, p, a, e, b in zip(rate, t["standards_passed"],
                                         t["standards_applicable"], t["eligible"],
                                         t["blocking_requirements"], strict=True)]
        html_rows = "<div class='gc-card'>" + escape_all(text) + "</div>"
    table = result.scores
    if table is not None:
        t = table.set_index("estate_id").reindex(ids)
        parts = [p.id for p in result.pack.scoring.parts]
        text = [f"{rating} · " + ", ".join(
                    f"{p} {'-' if pd.isna(v) else f'{v:g}'}" for p, v in zip(parts, row,
                                                                         strict=True))
                for rating, row in zip(t["rating"], t[parts].to_numpy(), strict=True)]
        html_rows = "<div class='gc-card'>" + escape_all(text) + "</div>"
    return np.asarray(html_rows, dtype=object)


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
        f"<div style='margin-top:4px'><span style='color:{EVIDENCE_COLOUR}'>▬</span> "
        "evidence line / uncovered building / too-close point</div>"
        "<div id='geocheck-gcj-note' style='display:none;margin-top:4px;color:#b15928'>"
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


LEAFLET_VERSION = "1.9.4"
LEAFLET_JS = f"https://unpkg.com/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS = f"https://unpkg.com/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"
TIANDITU_KEY_ENV = "GEOCHECK_TIANDITU_KEY"
"""Environment variable holding a Tianditu (天地图) browser key; when set, the map offers
Tianditu basemaps, and the key is written into map.html (anyone with the file can read it)."""


class GeocheckMap(folium.Map):
    """A folium Map that loads Leaflet only (folium's default jQuery, Bootstrap and marker
    fonts are not used by geocheck's map, and would each need the internet)."""

    default_js: ClassVar[list[tuple[str, str]]] = [("leaflet", LEAFLET_JS)]
    default_css: ClassVar[list[tuple[str, str]]] = [("leaflet_css", LEAFLET_CSS)]


@dataclass(frozen=True)
class Basemap:
    """A basemap choice: ``urls`` are Leaflet tile URL templates drawn together (base, then
    labels); ``gcj02`` marks tiles in GCJ-02, under which overlays are shown shifted."""

    key: str
    name: str
    urls: tuple[str, ...]
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 19
    gcj02: bool = False


OSM = Basemap("osm", "OpenStreetMap", ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
              '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
              "contributors", subdomains="")
GAODE = Basemap("gaode", "高德 Gaode (GCJ-02)",
                ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                 "&style=8&x={x}&y={y}&z={z}",),
                "&copy; 高德地图 AutoNavi", subdomains="1234", max_zoom=18, gcj02=True)
BLANK = Basemap("none", "no basemap 无底图", (), "")


def tianditu(key: str) -> list[Basemap]:
    """Tianditu vector and imagery basemaps (CGCS2000, drawn as WGS 84: no shift) with labels."""
    if not re.fullmatch(r"[0-9A-Za-z]{8,64}", key):
        raise GeocheckError(f"{TIANDITU_KEY_ENV} does not look like a Tianditu key "
                            "(letters and digits only); unset it or give the key from "
                            "console.tianditu.gov.cn")
    wmts = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            "&TILECOL={x}&tk=" + key)
    attribution = "&copy; 天地图 Tianditu"
    return [Basemap("tianditu", "天地图 Tianditu", (wmts % ("vec", "vec"), wmts % ("cva", "cva")),
                    attribution, subdomains="01234567", max_zoom=18),
            Basemap("tianditu_img", "天地图影像 Tianditu imagery",
                    (wmts % ("img", "img"), wmts % ("cia", "cia")), attribution,
                    subdomains="01234567", max_zoom=18)]


def basemaps(offline: bool = False, tianditu_key: str | None = None) -> list[Basemap]:
    """The basemaps offered, the first shown: OpenStreetMap (blank when ``offline``), Tianditu
    when a key is given, Gaode, and no basemap."""
    if tianditu_key is None:
        tianditu_key = os.environ.get(TIANDITU_KEY_ENV) or None
    maps = [OSM, *(tianditu(tianditu_key) if tianditu_key else []), GAODE, BLANK]
    if offline:
        maps.remove(BLANK)
        maps.insert(0, BLANK)
    return maps


GCJ_JS = """
// WGS 84 -> GCJ-02 for display over Gaode tiles (the same public formula as geocheck.coords;
// measured data is never shifted: only what is drawn, and only while a GCJ-02 basemap is shown).
GEOCHECK.gcj = (function() {
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function inChina(lon, lat) { return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293
                                       && lat <= 55.8271; }
  function fwd(lat, lon) {
    if (!inChina(lon, lat)) return L.latLng(lat, lon);
    var x = lon - 105.0, y = lat - 35.0, s = Math.sqrt(Math.abs(x));
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * s + common
      + (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0
      + (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * s + common
      + (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0
      + (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * PI, magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
    var sm = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sm) * PI);
    dlon = (dlon * 180.0) / (A / sm * Math.cos(rad) * PI);
    return L.latLng(lat + dlat, lon + dlon);
  }
  function mapLatLngs(ll) {
    return Array.isArray(ll) ? ll.map(mapLatLngs) : fwd(ll.lat, ll.lng);
  }
  function shift(layer, on) {
    if (layer.eachLayer) { layer.eachLayer(function(l) { shift(l, on); }); return; }
    var single = !!layer.getLatLng;
    if (on) {
      if (layer._gcOrig === undefined) {
        layer._gcOrig = single ? layer.getLatLng() : layer.getLatLngs();
      }
      if (single) layer.setLatLng(fwd(layer._gcOrig.lat, layer._gcOrig.lng));
      else layer.setLatLngs(mapLatLngs(layer._gcOrig));
    } else if (layer._gcOrig !== undefined) {
      if (single) layer.setLatLng(layer._gcOrig); else layer.setLatLngs(layer._gcOrig);
      delete layer._gcOrig;
    }
    var tip = layer.getTooltip && layer.getTooltip();
    if (tip && tip.isOpen()) { layer.closeTooltip(); layer.openTooltip(); }
  }
  return {forward: fwd, shift: shift, on: false};
})();
"""

CONTROLS_JS = """
(function() {
  var map = {map}, overlays = {overlays}, estates = {estates};
  var bases = {}, first = null;
  GEOCHECK.basemaps.forEach(function(b) {
    var tiles = b.urls.map(function(u) {
      return L.tileLayer(u, {attribution: b.attribution, subdomains: b.subdomains || 'abc',
                             maxZoom: b.max_zoom, gcj02: b.gcj02});
    });
    var layer = L.layerGroup(tiles);
    layer.options.gcj02 = b.gcj02;
    bases[b.name] = layer;
    if (first === null) first = layer;
  });
  first.addTo(map);
  var named = {};
  overlays.forEach(function(o) { named[o[0]] = o[1]; });
  GEOCHECK.control = L.control.layers(bases, named, {collapsed: false}).addTo(map);
  L.control.scale({imperial: false, maxWidth: 150}).addTo(map);
  function applyShift(on) {
    GEOCHECK.gcj.on = on;
    overlays.forEach(function(o) { GEOCHECK.gcj.shift(o[1], on); });
    var note = document.getElementById('geocheck-gcj-note');
    if (note) note.style.display = on ? 'block' : 'none';
  }
  map.on('baselayerchange', function(e) { applyShift(!!e.layer.options.gcj02); });
  GEOCHECK.applyShift = applyShift;
  GEOCHECK.map = map;
  GEOCHECK.estates = estates;
  GEOCHECK.overlays = overlays;

  // Search by estate name or id: a text box with the names as suggestions; Enter (or picking a
  // suggestion) zooms to the next matching estate and opens its popup.
  var Search = L.Control.extend({
    options: {position: 'topleft'},
    onAdd: function() {
      var box = L.DomUtil.create('div', 'leaflet-bar gc-search');
      var input = L.DomUtil.create('input', '', box);
      input.type = 'search'; input.id = 'geocheck-search';
      input.placeholder = '搜索小区 search estate';
      input.setAttribute('list', 'geocheck-search-list');
      var list = L.DomUtil.create('datalist', '', box); list.id = 'geocheck-search-list';
      var msg = L.DomUtil.create('div', 'gc-search-msg', box); msg.id = 'geocheck-search-msg';
      var seen = {};
      estates.eachLayer(function(l) {
        var p = l.feature.properties, label = p.n ? p.n + ' (' + p.i + ')' : p.i;
        if (seen[label]) return; seen[label] = true;
        var opt = document.createElement('option'); opt.value = label; list.appendChild(opt);
      });
      var last = {q: null, k: -1};
      function go() {
        var q = input.value.trim().toLowerCase(), hits = [];
        if (!q) { msg.textContent = ''; return; }
        estates.eachLayer(function(l) {
          var p = l.feature.properties, label = (p.n ? p.n + ' (' + p.i + ')' : p.i);
          if (label.toLowerCase() === q) hits.unshift(l);
          else if ((p.n || '').toLowerCase().indexOf(q) >= 0
                   || p.i.toLowerCase().indexOf(q) >= 0) hits.push(l);
        });
        if (!hits.length) { msg.textContent = '无匹配 no estate matches'; return; }
        last.k = (last.q === q) ? (last.k + 1) % hits.length : 0; last.q = q;
        var l = hits[last.k];
        msg.textContent = (last.k + 1) + ' / ' + hits.length;
        if (!map.hasLayer(estates)) map.addLayer(estates);
        // no animation: the popup's own pan (to show all of it) must come after the zoom
        map.fitBounds(l.getBounds(), {maxZoom: 17, animate: false});
        l.openPopup();
      }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(input, 'keydown', function(e) { if (e.key === 'Enter') go(); });
      L.DomEvent.on(input, 'change', go);
      GEOCHECK.search = function(text) { input.value = text; go(); return msg.textContent; };
      return box;
    }
  });
  new Search().addTo(map);
})();
"""


def _controls_js(m: folium.Map, layers: list[GeoJsonLayer], estates: GeoJsonLayer) -> str:
    overlays = ", ".join(f"[{js_literal(layer.layer_name)}, {layer.get_name()}]"
                         for layer in layers)
    return (CONTROLS_JS.replace("{map}", m.get_name())
            .replace("{overlays}", f"[{overlays}]").replace("{estates}", estates.get_name()))


class Script(folium.MacroElement):
    """Raw JavaScript written by geocheck (never from the data), run after the layers."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Script"
        self.code = code


def _leaflet_file(name: str) -> str:
    return (resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet" / name).read_text(
        encoding="utf-8")


def inline_assets(page: str) -> str:
    """Replace the page's Leaflet ``<script src>`` and ``<link>`` by the files' contents (from
    the ``django-js-lib-leaflet`` package), so the map needs no internet but for tiles."""
    js, css = _leaflet_file("leaflet.js"), _leaflet_file("leaflet.css")
    if "</script" in js.lower() or "</style" in css.lower():  # never: checked, not assumed
        raise GeocheckError("the bundled Leaflet files cannot be inlined safely")
    script = re.compile(r'<script src="' + re.escape(LEAFLET_JS) + r'"></script>')
    link = re.compile(r'<link rel="stylesheet" href="' + re.escape(LEAFLET_CSS) + r'"\s*/>')
    page, n_js = script.subn(lambda _: f"<script>{js}</script>", page, count=1)
    page, n_css = link.subn(lambda _: f"<style>{css}</style>", page, count=1)
    if n_js != 1 or n_css != 1:
        raise GeocheckError("could not find the Leaflet script and style to inline")
    if re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', page):
        raise GeocheckError("the offline map still refers to a file on the internet")
    return page


SHOWN_POINTS_MAX = 1000
"""A facility layer with more points than this starts switched off (one click in the layer
control turns it on), so that a city's estate verdicts are not buried under markers."""

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
              tianditu_key: str | None = None) -> folium.Map:
    """Build the folium map of a result (see the module docstring for what it shows).

    ``offline`` starts on a blank basemap (the page itself is made self-contained by
    :func:`write_map`); ``tianditu_key`` defaults to the environment's
    :data:`TIANDITU_KEY_ENV`.
    """
    site = result.site
    west, south, east, north = site.estates.to_crs(4326).total_bounds
    m = GeocheckMap(tiles=None, prefer_canvas=True)
    m.fit_bounds([[south, west], [north, east]])
    estates = estate_layer_frame(result)
    bases = [{"name": b.name, "urls": list(b.urls), "attribution": b.attribution,
              "subdomains": b.subdomains, "max_zoom": b.max_zoom, "gcj02": b.gcj02}
             for b in basemaps(offline, tianditu_key)]
    m.get_root().header.add_child(Element(_head(result, estates.attrs["texts"], bases)))
    layers: list[GeoJsonLayer] = []
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
                None, f"service radius {radii[role]:g} m: {ROLES[role].label_en}",
                _opts(point=f"L.circle(ll, {js_literal(circle)})", tooltip=False),
                show=False, share=points))
    layers.extend(_evidence_layers(result))
    for layer in layers:
        layer.add_to(m)
    Script(_controls_js(m, layers, estates_layer)).add_to(m)
    m.get_root().html.add_child(Element(_legend(result)))
    return m


def _evidence_layers(result: Result) -> list[GeoJsonLayer]:
    out: list[GeoJsonLayer] = []
    ev = result.evidence
    if ev.empty:
        return out
    ev = gpd.GeoDataFrame({"tip": escape_all(ev["label"]), "layer": ev["layer"].to_numpy(),
                           "decisive": ev["decisive"].astype(bool).to_numpy()},
                          geometry=ev.geometry.to_numpy(), crs=ev.crs)
    ev["short"] = [f"{d:,.0f} m" for d in result.evidence["distance_m"]]
    lines = ev[(ev["layer"] == "evidence_lines") & ev["decisive"]]
    red = {"color": EVIDENCE_COLOUR, "fillColor": EVIDENCE_COLOUR}
    if len(lines):
        out.append(GeoJsonLayer(lines[["tip", "short", "geometry"]], "evidence lines (distance)",
                                _opts({**red, "weight": 2, "dashArray": "4 4"},
                                      permanent=len(lines) <= PERMANENT_LABELS_MAX)))
    bld = ev[ev["layer"] == "uncovered_buildings"]
    if len(bld):
        out.append(GeoJsonLayer(bld[["tip", "geometry"]], "uncovered buildings",
                                _opts({**red, "weight": 1, "fillOpacity": 0.6})))
    pts = ev[ev["layer"] == "too_close_points"]
    if len(pts):
        ring = {**red, "radius": 7, "weight": 3, "fill": False}
        out.append(GeoJsonLayer(pts[["tip", "geometry"]],
                                "garbage points too close to a building",
                                _opts(ring, point=f"L.circleMarker(ll, {js_literal(ring)})")))
    return out


def write_map(result: Result, path: Path, *, offline: bool = False,
              tianditu_key: str | None = None) -> Path:
    """Write the map to ``path`` as one HTML file.

    Leaflet is loaded from its CDN, or with ``offline`` inlined (the page then works with no
    internet, on a blank basemap). Tiles always come from the internet.
    """
    page = render_html(build_map(result, offline=offline, tianditu_key=tianditu_key))
    if offline:
        page = inline_assets(page)
    path.write_text(page, encoding="utf-8")
    return path
