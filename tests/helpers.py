"""Helpers the tests share: tiny hand-built layers whose answers can be worked out on paper,
and where the bundled data lies.

Coordinates are local metres added to an origin in EPSG:4545 (CGCS2000 / 3-degree
Gauss-Kruger CM 108E) near Nanning, so a distance on paper is the distance geocheck measures.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import Point, box

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "layers"
SAMPLE = LAYERS / "nanning_sample.gpkg"
"""The bundled sample district (12 estates)."""
SHEET = LAYERS / "nanning_attributes.xlsx"
"""The sample's filled-in attributes sheet."""
OSM_DIR = LAYERS / "osm"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

CRS = "EPSG:4545"
X0, Y0 = 540_000.0, 2_523_000.0


def at(x: float, y: float) -> Point:
    """A point ``x`` m east and ``y`` m north of the origin."""
    return Point(X0 + x, Y0 + y)


def rect(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """An axis-aligned rectangle in local metres."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def layer(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame from dicts that each have a ``geometry`` key (no rows: an empty layer)."""
    if not rows:
        return gpd.GeoDataFrame({"id": [], "name": []}, geometry=gpd.GeoSeries([], crs=crs))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write role layers to a GeoPackage and return its path."""
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def estate(eid: str, geom: shapely.Geometry, households: int | None = 800,
           built: str | None = "existing", name: str | None = None) -> dict:
    """One estates row."""
    return {"estate_id": eid, "name": name or f"小区{eid}", "households": households,
            "built": built, "geometry": geom}


# Gongshu's 300-point score (seed 004) for six estates A-F, worked out by hand: the indicator
# keys of the sheet's columns and each estate's cells.
GONGSHU_KEYS = ["gs_satisfaction", "gs_civility", "gs_env_sanitation", "gs_env_housing",
                "gs_env_property", "gs_order_vehicles", "gs_order_fire", "gs_order_outsiders",
                "gs_order_lifts", "gs_svc_community", "gs_svc_infrastructure"]
GONGSHU_FULL = [100, 100, 19, 21, 35, 23, 18, 20, 14, 18, 12]
"""Full marks of each key: 80 + 40 + 75 + 75 + 30 points."""
GONGSHU_ROWS = {
    # satisfaction 92 %: 80 - 0.8 x 8 = 73.6; civility 95 %: 40 - 0.4 x 5 = 38;
    # fire 14 of 18: 180 - 4 = 176 from the items; total 287.6 >= 280 and 92 % >= 90 %: 5 stars
    "A": [92, 95, 19, 21, 35, 23, 14, 20, 14, 18, 12],
    # satisfaction 88 %: 70.4; civility 100 %: 40; items full 180: 290.4 points, but 88 % < 90 %
    # so not 5 stars; >= 250 and >= 85 %: 4 stars
    "B": [88, 100, *GONGSHU_FULL[2:]],
    # satisfaction 59 % < 60 %: fails outright; its 47.2 + 40 + 180 = 267.2 points do not matter
    "C": [59, 100, *GONGSHU_FULL[2:]],
    # 80 %: 64; civility 70 %: 28; items 180 - 30 = 150 (property 15/35, lifts 4/14):
    # 242 points: >= 220 and 80 % >= 80 %: 3 stars
    "D": [80, 70, 19, 21, 15, 23, 18, 20, 4, 18, 12],
    # lifts blank: 80 + 40 + 166 known, up to 14 more: 286-300 points, 100 %: 5 stars either way
    "E": [100, 100, 19, 21, 35, 23, 18, 20, None, 18, 12],
    # property blank: 73.6 + 38 + 145 = 256.6 known, up to 291.6: 4 or 5 stars: no data
    "F": [92, 95, 19, 21, None, 23, 18, 20, 14, 18, 12],
}


def xlsx_by_hand(path: Path, sheet_data: str, *, after: str = "", workbook_pr: str = "",
                 prolog: str = "", styles: str | None = None) -> Path:
    """A minimal .xlsx written with zipfile, its one sheet's ``<sheetData>`` content as given
    (``<row r="1"><c r="A1" t="inlineStr"><is><t>小区编号</t></is></c></row>`` ...), for cells
    no spreadsheet library writes: a formula with its computed value, a stray far cell.

    ``after`` follows ``</sheetData>`` (e.g. ``<mergeCells>``), ``workbook_pr`` goes inside
    ``<workbook>`` (e.g. ``<calcPr fullCalcOnLoad="1"/>``), ``prolog`` precedes the sheet's
    root element (e.g. a ``<!DOCTYPE>``), ``styles`` is a whole ``xl/styles.xml``.
    """
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    style_rel = (f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
                 if styles else "")
    parts = {
        "[Content_Types].xml":
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sml}.worksheet+xml"/>'
            + (f'<Override PartName="/xl/styles.xml" ContentType="{sml}.styles+xml"/>'
               if styles else "") + '</Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                       f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="表1" '
                           f'sheetId="1" r:id="rId1"/></sheets>{workbook_pr}</workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{style_rel}</Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
                                    f'<worksheet xmlns="{main}"><sheetData>{sheet_data}'
                                    f'</sheetData>{after}</worksheet>',
    }
    if styles:
        parts["xl/styles.xml"] = styles
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text)
    return path


def text_cell(ref: str, text: str) -> str:
    """An inline-string cell for :func:`xlsx_by_hand`."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
