"""The interactive map (folium / Leaflet): estates by verdict, facilities, radii and evidence.

Everything taken from the data is HTML-escaped in Python before it reaches the page: folium's
popups and tooltips insert property values as HTML. Passing buildings are left out so that a
city of thousands of estates stays usable.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from .checks import FAIL, NO_DATA, NOT_APPLICABLE, PASS
from .findings import Result
from .schema import ROLES

STATUS_COLOURS = {PASS: "#1a9850", FAIL: "#d73027", NO_DATA: "#969696", NOT_APPLICABLE: "#4575b4"}
STATUS_LABELS = {PASS: "pass 达标", FAIL: "fail 不达标", NO_DATA: "no data 无数据",
                 NOT_APPLICABLE: "not applicable 不适用"}
ROLE_COLOURS = {
    "bus_stops": "#1f78b4", "rail_stations": "#6a3d9a", "garbage_points": "#b15928",
    "kindergartens": "#e7298a", "schools": "#ff7f00", "entrances": "#000000",
}
DISPLAY_DECIMALS = 6  # about 0.1 m in degrees


def _esc(value: object) -> str:
    """Escape any value for HTML ('' for missing values)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _to_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to lon/lat for Leaflet and round coordinates to about 0.1 m."""
    out = gdf.to_crs(4326)
    out["geometry"] = shapely.transform(out.geometry.to_numpy(),
                                        lambda c: np.round(c, DISPLAY_DECIMALS))
    return out


def _value_text(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return ""
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "count":
        return f"{int(value)}"
    return f"{value:,.1f} {unit}"


def estate_popups(result: Result) -> pd.Series:
    """HTML popup per estate (indexed by estate_id): its rules, values, thresholds, citations."""
    f = result.findings
    rows = [
        f'<tr><td><b>{_esc(r.rule_id)}</b><br><small>{_esc(r.title_zh)}</small></td>'
        f'<td style="color:{STATUS_COLOURS[r.status]}"><b>{_esc(r.status)}</b></td>'
        f"<td>{_esc(_value_text(r.value, r.unit))}</td><td>{_esc(r.threshold)}</td></tr>"
        f'<tr><td colspan="4" style="font-size:11px;color:#555">{_esc(r.evidence)}<br>'
        f"<i>{_esc(r.citation)}</i></td></tr>"
        for r in f.itertuples(index=False)
    ]
    body = pd.Series(rows, index=f["estate_id"].to_numpy()).groupby(level=0, sort=False).agg(
        "".join)
    est = result.site.estates.set_index("estate_id")
    overall = result.overall()
    head = {
        eid: (f"<h4 style='margin:0'>{_esc(est.at[eid, 'name']) or _esc(eid)}</h4>"
              f"<div>{_esc(eid)} · households {_esc(est.at[eid, 'households'])} · "
              f"built {_esc(est.at[eid, 'built'])} · overall "
              f"<b style='color:{STATUS_COLOURS[overall[eid]]}'>{_esc(overall[eid])}</b></div>")
        for eid in body.index
    }
    return pd.Series({
        eid: f"<div style='max-width:520px'>{head[eid]}<table style='font-size:12px'>"
             "<tr><th>rule</th><th>status</th><th>value</th><th>threshold</th></tr>"
             f"{rows}</table></div>"
        for eid, rows in body.items()
    })


def _legend(result: Result) -> str:
    items = "".join(
        f"<div><span style='background:{c};width:12px;height:12px;display:inline-block;"
        f"margin-right:4px'></span>{_esc(STATUS_LABELS[s])}</div>"
        for s, c in STATUS_COLOURS.items()
    )
    roles = "".join(
        f"<div><span style='background:{c};width:10px;height:10px;border-radius:5px;"
        f"display:inline-block;margin-right:4px'></span>{_esc(ROLES[r].label_en)} "
        f"{_esc(ROLES[r].label_zh)}</div>"
        for r, c in ROLE_COLOURS.items() if result.site.layer(r) is not None
    )
    return (
        "<div style='position:fixed;bottom:24px;left:10px;z-index:9999;background:white;"
        "padding:8px;border:1px solid #999;font:12px sans-serif;max-width:260px'>"
        f"<b>geocheck · {_esc(result.pack.id)}</b><br>{_esc(result.pack.title_zh)}"
        f"<div style='margin-top:4px'><b>estates 小区</b>{items}</div>"
        f"<div style='margin-top:4px'><b>facilities 设施</b>{roles}</div>"
        "<div style='margin-top:4px'><span style='color:#d73027'>▬</span> evidence line / "
        "uncovered building / too-close point</div></div>"
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


def _point_layer(gdf: gpd.GeoDataFrame, role: str, name: str, colour: str) -> folium.GeoJson:
    disp = _to_display(gdf[["feature_id", "name", "geometry"]])
    disp["tip"] = [f"{_esc(ROLES[role].label_zh)} {_esc(i)} {_esc(n)}"
                   for i, n in zip(disp["feature_id"], disp["name"], strict=True)]
    return folium.GeoJson(
        disp[["tip", "geometry"]], name=name,
        marker=folium.CircleMarker(radius=4, color=colour, fill=True, fill_opacity=0.9,
                                   weight=1),
        style_function=lambda _f, c=colour: {"color": c, "fillColor": c, "weight": 1},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )


def build_map(result: Result) -> folium.Map:
    """Build the folium map of a result (see module docstring for what it shows)."""
    est = _to_display(result.site.estates[["estate_id", "name", "geometry"]])
    west, south, east, north = est.total_bounds
    m = folium.Map(tiles="OpenStreetMap", control_scale=True, prefer_canvas=True)
    m.fit_bounds([[south, west], [north, east]])
    popups = estate_popups(result)
    overall = result.overall()
    est["overall"] = est["estate_id"].map(overall)
    est["popup"] = est["estate_id"].map(popups)
    est["tip"] = [f"{_esc(n) or _esc(i)} ({_esc(i)}): {_esc(s)}"
                  for n, i, s in zip(est["name"], est["estate_id"], est["overall"], strict=True)]
    green = result.site.layer("green_space")
    if green is not None and len(green):
        g = green[["geometry"]].copy()
        g["geometry"] = g.geometry.simplify(0.5)
        folium.GeoJson(_to_display(g), name="green space 绿地", style_function=lambda _f: {
            "color": "#66bd63", "fillColor": "#a6d96a", "weight": 0.5, "fillOpacity": 0.5},
        ).add_to(m)
    folium.GeoJson(
        est[["estate_id", "overall", "tip", "popup", "geometry"]], name="estates 小区 (verdict)",
        style_function=lambda f: {"color": STATUS_COLOURS[f["properties"]["overall"]],
                                  "fillColor": STATUS_COLOURS[f["properties"]["overall"]],
                                  "weight": 2, "fillOpacity": 0.25},
        highlight_function=lambda _f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False,
                                  max_width=560),
    ).add_to(m)
    radii = _service_radii(result)
    for role, colour in ROLE_COLOURS.items():
        gdf = result.site.layer(role)
        if gdf is None or gdf.empty:
            continue
        if role in radii:
            pts = gdf[["geometry"]].copy()
            pts["geometry"] = pts.geometry.representative_point()
            folium.GeoJson(
                _to_display(pts), name=f"service radius {radii[role]:g} m: {ROLES[role].label_en}",
                marker=folium.Circle(radius=radii[role], color=colour, weight=1, fill=True,
                                     fill_opacity=0.05),
                show=False,
            ).add_to(m)
        name = f"{ROLES[role].label_en} {ROLES[role].label_zh}"
        if role == "entrances":
            gdf = gdf.assign(name=None)
        _point_layer(gdf, role, name, colour).add_to(m)
    _add_evidence(m, result)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(Element(_legend(result)))
    return m


def _add_evidence(m: folium.Map, result: Result) -> None:
    ev = result.evidence
    if ev.empty:
        return
    ev = ev.copy()
    ev["tip"] = [_esc(t) for t in ev["label"]]
    lines = ev[(ev["layer"] == "evidence_lines") & ev["decisive"].astype(bool)]
    if len(lines):
        folium.GeoJson(_to_display(lines[["tip", "geometry"]]), name="evidence lines (distance)",
                       style_function=lambda _f: {"color": "#d73027", "weight": 2,
                                                  "dashArray": "4 4"},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)
    bld = ev[ev["layer"] == "uncovered_buildings"]
    if len(bld):
        folium.GeoJson(_to_display(bld[["tip", "geometry"]]), name="uncovered buildings",
                       style_function=lambda _f: {"color": "#d73027", "fillColor": "#d73027",
                                                  "weight": 1, "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)
    pts = ev[ev["layer"] == "too_close_points"]
    if len(pts):
        folium.GeoJson(_to_display(pts[["tip", "geometry"]]),
                       name="garbage points too close to a building",
                       marker=folium.CircleMarker(radius=7, color="#d73027", weight=3,
                                                  fill=False),
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)


def write_map(result: Result, path: Path) -> Path:
    """Write the map to ``path`` as a standalone HTML file."""
    build_map(result).save(str(path))
    return path
