"""QGIS default styles for results.gpkg: the ``layer_styles`` table QGIS itself reads.

QGIS (OGR provider) looks for a ``layer_styles`` table in a GeoPackage and applies the row with
``useAsDefault = 1``, ``f_table_schema = ''`` and the layer's table and geometry column when the
layer is opened. The table is created here exactly as QGIS creates it through GDAL, and is
registered in ``gpkg_contents`` as an attributes table, so the GeoPackage stays valid.

Each style is a QGIS 3 QML document built with :mod:`xml.etree.ElementTree` (so every text is
escaped). Estates are coloured by verdict (``overall``) with the colours of the web map; the
evidence layers are drawn in the evidence red. No feature data (estate names) goes into a QML.
"""

from __future__ import annotations

import html
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

from ..core.errors import GeocheckError
from ..core.version import VERSION
from ..rules.result import Result
from .style import CATCHMENT_ALPHA, EVIDENCE_COLOUR, ROUTE_COLOUR, STATUS_COLOURS, band_colours
from .text import STATUS_LABELS

STYLE_NAME = "geocheck"
LABEL_FONT = "Noto Sans CJK SC"
"""Label font family; QGIS falls back to another font when it is not installed."""
QGIS_VERSION = "3.34.0-Prizren"
FILL_ALPHA = 110
"""Opacity (0-255) of estate and building fills, so the base map shows through."""

LAYER_STYLES_DDL = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
"""The table as GDAL's GeoPackage driver writes the fields QGIS's ``saveStyle`` asks for."""

_COUNT_TRIGGERS = (
    'CREATE TRIGGER "trigger_insert_feature_count_layer_styles" AFTER INSERT ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 "
    "WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER "trigger_delete_feature_count_layer_styles" AFTER DELETE ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 "
    "WHERE lower(table_name) = lower('layer_styles'); END",
)

STYLED_LAYERS = ("estates", "evidence_lines", "walk_routes", "uncovered_buildings",
                 "too_close_points", "walk_catchments")
"""Layers of results.gpkg that get a style, in the order they are written."""

_GEOMETRY_TYPES = {"POINT": 0, "MULTIPOINT": 0, "LINESTRING": 1, "MULTILINESTRING": 1,
                   "POLYGON": 2, "MULTIPOLYGON": 2}
"""GeoPackage geometry type -> QGIS ``layerGeometryType`` (0 point, 1 line, 2 polygon)."""


def rgba(colour: str, alpha: int = 255) -> str:
    """``"#d73027"`` -> ``"215,48,39,255"``: a QGIS colour (red, green, blue, alpha 0-255)."""
    return f"{int(colour[1:3], 16)},{int(colour[3:5], 16)},{int(colour[5:7], 16)},{alpha}"


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    box = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(box, "Option", name=key, type="QString", value=value)


def _symbol(parent: ET.Element, name: str, kind: str, layer_class: str,
            props: dict[str, str]) -> None:
    symbol = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1",
                           clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                            "pass": "0"})
    _options(layer, props)


def _fill(colour: str, alpha: int) -> dict[str, str]:
    return {"color": rgba(colour, alpha), "style": "solid", "outline_color": rgba(colour),
            "outline_style": "solid", "outline_width": "0.5", "outline_width_unit": "MM",
            "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}


def _dashed_line(colour: str) -> dict[str, str]:
    return {"line_color": rgba(colour), "line_style": "dash", "line_width": "0.6",
            "line_width_unit": "MM", "capstyle": "square", "joinstyle": "bevel",
            "offset": "0", "offset_unit": "MM", "use_custom_dash": "0"}


def _ring(colour: str) -> dict[str, str]:
    return {"name": "circle", "color": rgba(colour, 0), "outline_color": rgba(colour),
            "outline_style": "solid", "outline_width": "0.8", "outline_width_unit": "MM",
            "size": "4", "size_unit": "MM", "angle": "0", "scale_method": "diameter",
            "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}


def _renderer(root: ET.Element, kind: str, **attrs: str) -> ET.Element:
    return ET.SubElement(root, "renderer-v2", type=kind, symbollevels="0", enableorderby="0",
                         forceraster="0", referencescale="-1", **attrs)


def _labeling(root: ET.Element, field: str, *, placement: str, size: str) -> None:
    """Simple labels of ``field`` in :data:`LABEL_FONT` with a white halo.

    ``placement``: QGIS label placement, "1" over the polygon's centroid, "2" along a line.
    """
    settings = ET.SubElement(ET.SubElement(root, "labeling", type="simple"), "settings",
                             calloutType="simple")
    style = ET.SubElement(settings, "text-style", fieldName=field, isExpression="0",
                          fontFamily=LABEL_FONT, namedStyle="Regular", fontSize=size,
                          fontSizeUnit="Point", textColor="0,0,0,255", textOpacity="1")
    ET.SubElement(style, "text-buffer", bufferDraw="1", bufferSize="0.8",
                  bufferSizeUnits="MM", bufferColor="255,255,255,255", bufferOpacity="1")
    ET.SubElement(settings, "placement", placement=placement, placementFlags="10", dist="0.5",
                  distUnits="MM", repeatDistance="0")
    ET.SubElement(settings, "rendering", drawLabels="1", obstacle="1", scaleVisibility="0",
                  upsidedownLabels="0")


def _estates(root: ET.Element) -> None:
    renderer = _renderer(root, "categorizedSymbol", attr="overall")
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (status, colour) in enumerate(STATUS_COLOURS.items()):
        ET.SubElement(categories, "category", value=status, label=STATUS_LABELS[status],
                      symbol=str(i), render="true")
        _symbol(symbols, str(i), "fill", "SimpleFill", _fill(colour, FILL_ALPHA))
    _labeling(root, "name", placement="1", size="9")


def _evidence_lines(root: ET.Element) -> None:
    renderer = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(renderer, "symbols"), "0", "line", "SimpleLine",
            _dashed_line(EVIDENCE_COLOUR))
    _labeling(root, "label", placement="2", size="8")


def _walk_routes(root: ET.Element) -> None:
    renderer = _renderer(root, "singleSymbol")
    line = {**_dashed_line(ROUTE_COLOUR), "line_style": "dot", "line_width": "0.5"}
    _symbol(ET.SubElement(renderer, "symbols"), "0", "line", "SimpleLine", line)


def _walk_catchments(root: ET.Element, bands: tuple[float, ...] = ()) -> None:
    """Bands by ``band_m`` (the nearest darkest), translucent, without outlines."""
    renderer = _renderer(root, "categorizedSymbol", attr="band_m")
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (band, colour) in enumerate(band_colours(bands).items()):
        ET.SubElement(categories, "category", value=f"{band:g}",
                      label=f"walk <= {band:g} m", symbol=str(i), render="true")
        fill = {**_fill(colour, round(255 * CATCHMENT_ALPHA)), "outline_style": "no"}
        _symbol(symbols, str(i), "fill", "SimpleFill", fill)


def _uncovered_buildings(root: ET.Element) -> None:
    renderer = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(renderer, "symbols"), "0", "fill", "SimpleFill",
            _fill(EVIDENCE_COLOUR, 160))


def _too_close_points(root: ET.Element) -> None:
    renderer = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(renderer, "symbols"), "0", "marker", "SimpleMarker",
            _ring(EVIDENCE_COLOUR))


_BUILDERS = {"estates": _estates, "evidence_lines": _evidence_lines,
             "walk_routes": _walk_routes, "walk_catchments": _walk_catchments,
             "uncovered_buildings": _uncovered_buildings, "too_close_points": _too_close_points}
_LABELLED = ("estates", "evidence_lines", "walk_routes")


def layer_qml(layer: str, *, description: str = "", geometry_type: int | None = None,
              bands: tuple[float, ...] = ()) -> str:
    """The QGIS 3 QML style (a ``<qgis>`` document) geocheck gives one results.gpkg layer.

    Parameters
    ----------
    layer : one of :data:`STYLED_LAYERS`.
    description : plain text kept as the layer's QGIS note (HTML-escaped, then XML-escaped).
    geometry_type : QGIS ``layerGeometryType`` (0 point, 1 line, 2 polygon); QGIS refuses a
        style whose type differs from the layer's. None leaves it out.
    bands : for ``walk_catchments``, the bands (metres) it holds, one category each.
    """
    if layer not in _BUILDERS:
        raise GeocheckError(f"no QGIS style for layer {layer!r}: choose from "
                            f"{', '.join(STYLED_LAYERS)}")
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling|Notes",
                      labelsEnabled="1" if layer in _LABELLED else "0")
    if layer == "walk_catchments":
        _walk_catchments(root, bands)
    else:
        _BUILDERS[layer](root)
    if geometry_type is not None:
        ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    if description:
        ET.SubElement(root, "userNotes", value=html.escape(description))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="unicode") + "\n")


def describe(layer: str, result: Result | None = None) -> str:
    """The ``description`` of a layer's style: the layer, geocheck's version and the pack."""
    text = f"geocheck {VERSION} style for {layer}"
    if result is not None:
        pack = result.pack
        text += f" (pack {pack.id}: {pack.title_zh} / {pack.title_en})"
    return text


def _geometry_columns(con: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    try:
        rows = con.execute("SELECT table_name, column_name, geometry_type_name "
                           "FROM gpkg_geometry_columns").fetchall()
    except sqlite3.DatabaseError as exc:
        raise GeocheckError(f"cannot add QGIS styles: not a GeoPackage ({exc})") from None
    return {table: (column, gtype.upper()) for table, column, gtype in rows}


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND lower(name) = ?",
                       (name.lower(),)).fetchone() is not None


def _ensure_table(con: sqlite3.Connection) -> None:
    """Create ``layer_styles`` as QGIS would (through GDAL) unless it exists; register it."""
    exists = _has_table(con, "layer_styles")
    if exists:
        have = {row[1] for row in con.execute('PRAGMA table_info("layer_styles")')}
        missing = {"f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                   "styleQML", "useAsDefault", "description"} - have
        if missing:
            raise GeocheckError(f"cannot add QGIS styles: its layer_styles table lacks "
                                f"{', '.join(sorted(missing))}")
    else:
        con.execute(LAYER_STYLES_DDL)
    con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change, srs_id) VALUES ('layer_styles', 'attributes', "
                "'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)")
    if not exists and _has_table(con, "gpkg_ogr_contents"):
        con.execute("INSERT OR IGNORE INTO gpkg_ogr_contents (table_name, feature_count) "
                    "VALUES ('layer_styles', 0)")
        for trigger in _COUNT_TRIGGERS:
            con.execute(trigger)


def write_layer_styles(path: Path, result: Result | None = None, *,
                       sync: bool = True) -> list[str]:
    """Add QGIS default styles for the layers of results.gpkg at ``path``; return those styled.

    One row per layer of :data:`STYLED_LAYERS` present in the file goes into ``layer_styles``
    (created and registered in ``gpkg_contents`` if needed), named :data:`STYLE_NAME` and used
    as the layer's default; any other default style of that layer is demoted, as QGIS does
    when it saves a default style. Running again replaces geocheck's rows. Layers absent from
    the file are skipped; with none present the file is left untouched.

    Parameters
    ----------
    path : a GeoPackage written by :func:`geocheck.views.tables.write_gpkg`.
    result : when given, the style descriptions also name the rule pack.
    sync : wait for the file to reach the disk at the commit (SQLite's default). A caller
        that syncs the file itself before putting it in place (a run's staging, see
        :mod:`geocheck.outdir`) passes False: the commit then does not wait for every page
        GDAL wrote unsynced (:data:`geocheck.views.tables.SQLITE_OPTIONS`), some 200 MB for
        a city.
    """
    path = Path(path)
    if not path.is_file():
        raise GeocheckError(f"{path}: no such file")
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        if not sync:
            con.execute("PRAGMA synchronous = OFF")
        geometry = _geometry_columns(con)
        present = [name for name in STYLED_LAYERS if name in geometry]
        if not present:
            return []
        con.execute("BEGIN IMMEDIATE")
        try:
            _ensure_table(con)
            for name in present:
                column, gtype = geometry[name]
                bands = (tuple(b for (b,) in con.execute(
                    'SELECT DISTINCT band_m FROM "walk_catchments"'))
                    if name == "walk_catchments" else ())
                _replace_style(con, name, column, describe(name, result),
                               _GEOMETRY_TYPES.get(gtype), bands)
            if _has_table(con, "gpkg_ogr_contents"):
                con.execute("UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) "
                            "FROM layer_styles) WHERE lower(table_name) = 'layer_styles'")
            con.execute("UPDATE gpkg_contents SET last_change = "
                        "strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = 'layer_styles'")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    return present


def _replace_style(con: sqlite3.Connection, name: str, column: str, description: str,
                   geometry_type: int | None, bands: tuple[float, ...] = ()) -> None:
    """Replace geocheck's style row of one layer and make it the layer's only default."""
    qml = layer_qml(name, description=description, geometry_type=geometry_type, bands=bands)
    key = (name, column)
    con.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND f_geometry_column = ? "
                "AND styleName = ?", (*key, STYLE_NAME))
    con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE useAsDefault = 1 AND "
                "f_table_name = ? AND f_geometry_column = ?", key)
    con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '')",
                (*key, STYLE_NAME, qml, description))
