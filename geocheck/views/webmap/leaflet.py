"""The page's machinery: a Leaflet page assembled as text (:class:`GeocheckMap`), GeoJSON layers
written in bulk, scripts, and the Leaflet files inlined for ``--offline``.

Every text from the data is HTML-escaped in Python before it is written (:func:`escape_all`),
and JSON written into a script escapes ``<``, ``>`` and ``&`` (:func:`js_literal`), so nothing
in the data can close the page's script.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ...core.errors import GeocheckError
from ...core.lonlat import to_wgs84
from .geometries import geometry_texts


def js_literal(obj: Any) -> str:
    """JSON for a ``<script>``: ``<``, ``>``, ``&`` and line separators as ``\\u`` escapes."""
    return _script_safe(json.dumps(obj, ensure_ascii=False))


_SCRIPT_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
"""What JSON in a script escapes beyond JSON itself: nothing can end the script early."""


def _script_safe(text: str) -> str:
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return text


HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))
"""What :func:`html.escape` (``quote=True``) replaces, in its order (``&`` first)."""


def escape_all(values: Any) -> np.ndarray:
    """HTML-escape each value as :func:`html.escape` does (missing values become ''), the
    replacements made by Arrow over the whole column."""
    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.StringDtype):
        texts = pa.array(values.array, type=pa.string()).fill_null("")
    elif pd.api.types.infer_dtype(values, skipna=True) == "string":  # texts and missing only
        texts = pa.array(np.asarray(values, dtype=object), type=pa.string(),
                         from_pandas=True).fill_null("")
    else:
        texts = pa.array(["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                          else v if type(v) is str else str(v) for v in values],
                         type=pa.string())
    return _replace_each(texts, HTML_ESCAPES).to_numpy(zero_copy_only=False).astype(
        object, copy=False)


def _replace_each(texts: pa.Array | pa.ChunkedArray,
                  pairs: tuple[tuple[str, str], ...]) -> pa.Array:
    """``pc.replace_substring`` of each (old, new) pair in turn, skipped where ``old`` is in
    none of the texts: a look through their bytes, where a replacement copies every text."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    data = None
    for old, new in pairs:
        if data is None:  # the bytes as they are now (a slice's whole buffer: never too few)
            buffer = texts.buffers()[2]
            data = b"" if buffer is None else buffer.to_pybytes()
        if old.encode() in data:
            texts = pc.replace_substring(texts, old, new)
            data = None
    return texts


def lonlat_bounds(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """``gdf.to_crs(4326).total_bounds`` (west, south, east, north in degrees) with the
    transformer kept by :func:`geocheck.core.lonlat.to_wgs84`, not one made anew for each map."""
    xy = shapely.get_coordinates(np.asarray(gdf.geometry.to_numpy(), dtype=object))
    if not len(xy):
        return np.full(4, np.nan)
    lon, lat = to_wgs84(gdf.crs).transform(xy[:, 0], xy[:, 1])
    return np.array([np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat)])


def geojson_text(gdf: gpd.GeoDataFrame) -> str:
    """GeoJSON of ``gdf`` in lon/lat (coordinates to about 0.1 m), safe to put in a script.

    Geometries are written by :func:`.geometries.geometry_texts` and properties column by column
    with Arrow (:func:`_arrow_properties`; pandas' JSON writer for a frame with columns of
    other types), both vectorised. Arrow makes the texts safe for a script as it quotes them
    (geometries, numbers and names hold no ``<``, ``>`` or ``&``); pandas' text is made safe
    whole.
    """
    geoms = geometry_texts(gdf.geometry.to_numpy(), gdf.crs)
    # the columns read where they are (not copied into a frame without the geometry)
    parts = _arrow_properties(gdf, [c for c in gdf.columns if c != gdf.geometry.name])
    if parts is None:
        props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        features = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
                            for p, g in zip(_pandas_properties(props),
                                            pc.fill_null(geoms, "null").to_pylist(), strict=True))
        return _script_safe(f'{{"type":"FeatureCollection","features":[{features}]}}')
    text = pc.binary_join_element_wise(
        _lit('{"type":"Feature","properties":{'), *parts, _lit('},"geometry":'),
        pc.fill_null(geoms, "null"), _lit("}"), _lit(""))
    features = pc.binary_join(pa.LargeListArray.from_arrays(
        pa.array([0, len(text)], type=pa.int64()), text), _lit(","))[0].as_py()
    return f'{{"type":"FeatureCollection","features":[{features}]}}'


_LARGE = pa.large_string()


def _lit(text: str) -> pa.Scalar:
    """A text as an Arrow scalar of the joined type."""
    return pa.scalar(text, type=_LARGE)


def _pandas_properties(props: pd.DataFrame) -> list[str]:
    """Each row's properties as a JSON object, by pandas' JSON writer."""
    if props.columns.empty or props.empty:
        return ["{}"] * len(props)
    # Raw newlines only separate records (JSON escapes them in strings); not splitlines(),
    # which would also split at U+2028 and the like inside a value.
    return props.to_json(orient="records", lines=True,
                         force_ascii=False).rstrip("\n").split("\n")


_CONTROL = "[\\x00-\\x1f]"
"""Characters JSON must escape as ``\\u00XX`` in a string (a regex for Arrow)."""


def _arrow_properties(props: pd.DataFrame,
                      names: list[Any] | None = None) -> list[pa.Array | pa.Scalar] | None:
    """The pieces of each row's properties, ``"name":value`` per column (of ``names``, by
    default every column) and the commas between, as Arrow arrays and scalars for
    ``binary_join_element_wise``; None when a column is neither text, integers nor booleans
    (:func:`_pandas_properties` writes those).

    Texts are JSON-escaped with Arrow (backslash and quote replaced) and made safe for a
    script (:func:`_json_strings`); the rare text with a control character is written by
    :func:`json.dumps`. Missing texts are ``null``, as pandas writes them.
    """
    names = list(props.columns) if names is None else names
    if not pd.Index(names).is_unique:
        return None
    texts: list[pa.Array] = []  # every text column, JSON-escaped together below
    numbers: list[np.ndarray] = []  # every integer column, cast together below
    kinds: list[tuple[str, int]] = []  # per column: where its values are
    for name in names:
        column = props[name]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "b":
            kinds.append(("bool", len(numbers)))
            numbers.append(column.to_numpy())
        elif isinstance(dtype, np.dtype) and (dtype.kind == "i" or (dtype.kind == "u"
                                              and dtype.itemsize < 8)):  # fits in int64
            kinds.append(("int", len(numbers)))
            numbers.append(column.to_numpy())
        elif isinstance(dtype, pd.StringDtype):
            kinds.append(("text", len(texts)))
            texts.append(pa.array(column.array, type=pa.string()))
        elif isinstance(dtype, np.dtype) and dtype.kind == "O":
            values = column.to_numpy()
            missing = pd.isna(values)
            if not all(type(v) is str for v in values[~missing].tolist()):
                return None
            kinds.append(("text", len(texts)))
            texts.append(pa.array(values, type=pa.string(), mask=missing))
        else:
            return None
    n = len(props)
    text = _json_strings(_concat_large(texts)) if texts else None
    ints = [k for k, (kind, _) in enumerate(kinds) if kind == "int"]
    whole = (pc.cast(pa.array(np.concatenate([numbers[kinds[k][1]].astype(np.int64)
                                               for k in ints])), _LARGE) if ints else None)
    parts: list[pa.Array | pa.Scalar] = []
    for k, (name, (kind, at)) in enumerate(zip(names, kinds, strict=True)):
        if kind == "text":
            value = text.slice(at * n, n)  # type: ignore[union-attr]
        elif kind == "int":
            value = whole.slice(ints.index(k) * n, n)  # type: ignore[union-attr]
        else:
            value = pc.if_else(pa.array(numbers[at]), "true", "false").cast(_LARGE)
        key = _script_safe(json.dumps(str(name), ensure_ascii=False))
        parts += [_lit(("," if k else "") + key + ":"), value]
    return parts


def _concat_large(texts: list[pa.Array]) -> pa.Array:
    """The texts one after another as one array of ``large_string`` (cast once, unless the
    texts are more than ``string`` holds)."""
    try:
        return pa.concat_arrays(texts).cast(_LARGE)
    except (pa.ArrowInvalid, pa.ArrowCapacityError):  # offsets past 2 GB
        return pa.concat_arrays([t.cast(_LARGE) for t in texts])


def _json_strings(texts: pa.Array) -> pa.Array:
    """Each text as a JSON string safe in a script (``null`` where missing): ``<``, ``>``,
    ``&`` and line separators as ``\\u`` escapes, as :func:`js_literal` writes them."""
    quoted = _replace_each(texts, (("\\", "\\\\"), ('"', '\\"')))
    quoted = pc.binary_join_element_wise(_lit('"'), quoted, _lit('"'), _lit(""))
    data = texts.buffers()[2]
    # a control character anywhere in the bytes (a slice's whole buffer: never missed)?
    some = data is not None and data.size and np.frombuffer(data, np.uint8).min() < 0x20
    odd = pc.fill_null(pc.match_substring_regex(texts, _CONTROL), False) if some else None
    if odd is not None and pc.any(odd).as_py():
        rows = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
        fixed = quoted.to_numpy(zero_copy_only=False).astype(object)
        fixed[rows] = [json.dumps(t, ensure_ascii=False)
                       for t in texts.take(pa.array(rows)).to_pylist()]
        quoted = pa.array(fixed, type=_LARGE)
    return pc.fill_null(_replace_each(quoted, _SCRIPT_ESCAPES), "null")


class GeoJsonLayer:
    """A toggleable ``L.geoJSON`` layer from GeoJSON text and JavaScript options.

    ``options_js`` is JavaScript written by geocheck (never from the data); ``data`` is the
    layer's GeoJSON text (:func:`geojson_text`), '' when ``share`` draws the data of another
    layer again. ``show`` adds the layer to the map when the page opens (otherwise it waits
    for a click in the layer control). ``var`` is its JavaScript variable, named by the
    :class:`GeocheckMap` it is added to.
    """

    def __init__(self, gdf: gpd.GeoDataFrame | None, name: str, options_js: str,
                 show: bool = True, share: GeoJsonLayer | None = None) -> None:
        self.layer_name = name
        self.options_js = options_js
        self.show = show
        self.share = share
        self.data = geojson_text(gdf) if share is None else ""
        self.var = ""


LEAFLET_VERSION = "1.9.4"

LEAFLET_JS = f"https://unpkg.com/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"

LEAFLET_CSS = f"https://unpkg.com/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

_PAGE_STYLE = (
    '<meta name="viewport" content="width=device-width, initial-scale=1.0, maximum-scale=1.0,'
    ' user-scalable=no" />\n'
    "<style>html, body {width: 100%; height: 100%; margin: 0; padding: 0;}\n"
    "#{var} {position: relative; width: 100%; height: 100%; left: 0; top: 0;}\n"
    ".leaflet-container {font-size: 1rem;}</style>\n")


class GeocheckMap:
    """A Leaflet map page, assembled as text: Leaflet from its CDN (nothing else: no jQuery,
    Bootstrap or fonts), the map fitted to ``bounds``, then the page's parts in order.

    ``head`` and ``body`` hold raw HTML written by geocheck (texts from the data escaped by
    the caller, as :func:`escape_all` does), ``layers`` the :class:`GeoJsonLayer` objects in
    drawing order, ``scripts`` JavaScript run after the layers are made. Nothing is read as a
    template: a text holding ``{{`` is written as it is.
    """

    var = "geocheck_map"
    """The map's element id and JavaScript variable."""

    def __init__(self, bounds: list[list[float]]) -> None:
        self.bounds = bounds  # [[south, west], [north, east]] in degrees
        self.head: list[str] = []
        self.body: list[str] = []
        self.layers: list[GeoJsonLayer] = []
        self.scripts: list[str] = []

    def add_layer(self, layer: GeoJsonLayer) -> GeoJsonLayer:
        """Add ``layer`` on top of those added before, naming its variable."""
        layer.var = f"layer_{len(self.layers)}"
        self.layers.append(layer)
        return layer

    def render(self) -> str:
        """The whole page: one HTML document, the layers' GeoJSON in its script."""
        m = self.var
        parts = ['<!DOCTYPE html>\n<html>\n<head>\n'
                 '<meta http-equiv="content-type" content="text/html; charset=UTF-8" />\n',
                 *self.head,
                 f'\n<script src="{LEAFLET_JS}"></script>\n'
                 f'<link rel="stylesheet" href="{LEAFLET_CSS}"/>\n',
                 _PAGE_STYLE.replace("{var}", m), "</head>\n<body>\n", *self.body,
                 f'\n<div class="geocheck-map" id="{m}"></div>\n<script>\n'
                 f'var {m} = L.map("{m}", {{center: [0.0, 0.0], crs: L.CRS.EPSG3857, zoom: 1, '
                 f"zoomControl: true, preferCanvas: true}});\n"
                 f"{m}.fitBounds({json.dumps(self.bounds)}, {{}});\n"]
        for layer in self.layers:
            data = f"{(layer.share or layer).var}_data"
            if layer.share is None:
                parts += [f"var {data} = ", layer.data, ";\n"]
            parts.append(f"var {layer.var} = L.geoJSON({data}, {layer.options_js});\n")
            if layer.show:
                parts.append(f"{layer.var}.addTo({m});\n")
        parts += [*self.scripts, "</script>\n</body>\n</html>\n"]
        return "".join(parts)

    def _repr_html_(self) -> str:
        """The page in an ``<iframe>`` for a Jupyter notebook."""
        return ('<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
                'padding-bottom:60%;"><iframe srcdoc="' + html.escape(self.render())
                + '" style="position:absolute;width:100%;height:100%;left:0;top:0;'
                'border:none !important;" allowfullscreen></iframe></div></div>')


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


def controls_js(m: GeocheckMap, layers: list[GeoJsonLayer], estates: GeoJsonLayer) -> str:
    """The basemaps, the layer control listing ``layers``, the scale bar and the search box
    over ``estates`` (:data:`CONTROLS_JS`) for the map ``m``."""
    overlays = ", ".join(f"[{js_literal(layer.layer_name)}, {layer.var}]" for layer in layers)
    return (CONTROLS_JS.replace("{map}", m.var)
            .replace("{overlays}", f"[{overlays}]").replace("{estates}", estates.var))


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
