"""The map's basemaps: OpenStreetMap, Tianditu (天地图, with a key), Gaode (高德, GCJ-02), none.

Gaode's tiles are in GCJ-02: while it is shown, every overlay is drawn shifted to GCJ-02 in the
page (:data:`GCJ_JS`, the formula of :mod:`geocheck.inputs.coords`); the measured data and the
exports are never shifted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ...core.errors import GeocheckError

TIANDITU_KEY_ENV = "GEOCHECK_TIANDITU_KEY"
"""Environment variable holding a Tianditu (天地图) browser key; when set, the map offers
Tianditu basemaps, and the key is written into map.html (anyone with the file can read it)."""


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
// WGS 84 -> GCJ-02 for display over Gaode tiles (the same public formula as geocheck.inputs.coords;
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
