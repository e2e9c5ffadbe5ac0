"""Read one role layer from a planner's own file: a vector file, a CSV or Excel point list, or a
CAD (DXF) site plan, with its declared CRS, coordinate system (GCJ-02 / BD-09) and encoding.

The result is a layer geocheck can judge, in a known CRS and always in WGS 84 / CGCS2000
longitude-latitude or the file's projected CRS, with an account of what was done to it
(``notes``, and a provenance ``record`` that travels with the layer in the GeoPackage).
A layer whose coordinates cannot fit its CRS, or whose text cannot be decoded with certainty,
is refused with a message saying how to fix it: never read silently wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ..core.database import DatabaseURL
from ..core.errors import CRSError, InputError
from ..core.roles import ROLES
from .coordfit import check_fit
from .coords import check_coord_system, convert_geometries
from .dxf import DWG_ADVICE, list_dxf_layers, read_dxf
from .encodings import decode_check, shapefile_encoding
from .gdal_guard import READABLE, check_local_file, vet
from .postgis import read_postgis_table, split_table
from .read import SOURCES_TABLE, read_vector

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
CAD_SUFFIXES = {".dxf", ".dwg"}
OSM_SUFFIXES = {".osm", ".pbf"}
VECTOR_DRIVERS = ("GPKG", "ESRI Shapefile", "GeoJSON", "FlatGeobuf", "KML", "LIBKML")
"""GDAL drivers of the files read as one vector layer (DXF and OSM have importers of their
own)."""

X_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "point_x", "东坐标")
Y_NAMES = ("lat", "latitude", "纬度", "y", "point_y", "北坐标")
"""Column names recognised as x (longitude/easting) and y (latitude/northing), case-insensitive,
in order of preference."""

GEOGRAPHIC_OF = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "gcj02": "EPSG:4326",
                 "bd09": "EPSG:4326"}
"""The lon/lat CRS that each ``coords`` declaration means (GCJ-02 / BD-09 after conversion)."""

COORDS_LABEL = {"gcj02": "GCJ-02 (Amap/Gaode, Tencent)", "bd09": "BD-09 (Baidu)"}


@dataclass
class Source:
    """Where one role layer comes from and how to read it.

    Attributes
    ----------
    path : the file (GeoPackage, Shapefile, GeoJSON, CSV, Excel, DXF ...).
    role : the geocheck role it provides (``estates``, ``bus_stops`` ...).
    layer : layer of a multi-layer file, or the sheet of an Excel workbook.
    src_crs : the CRS of the coordinates, overriding the file's (required when it has none).
    coords : ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09``: lon/lat in that system; GCJ-02
        and BD-09 are converted to WGS 84.
    encoding : text encoding of a Shapefile without ``.cpg`` or of a CSV, e.g. ``gbk``.
    x_field, y_field : coordinate columns of a CSV/Excel point list (default: recognised names
        such as lon/lng/经度 and lat/纬度).
    cad_layers : CAD layer names of a DXF that make up this role.
    fields : ``FIELD=SOURCE`` pairs: copy the source field into geocheck's field name.
    url : a ``postgresql://`` URL to read the layer from instead of a file (``path`` is then
        the URL as shown, without its password: :class:`~geocheck.core.database.DatabaseSource`).
    table : the database table, ``"schema.table"`` or a table of the URL's schema (default:
        the role's name).
    """

    path: Path
    role: str
    layer: str | None = None
    src_crs: str | None = None
    coords: str | None = None
    encoding: str | None = None
    x_field: str | None = None
    y_field: str | None = None
    cad_layers: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    url: str | None = None
    table: str | None = None


@dataclass
class Loaded:
    """One role layer read from a :class:`Source`.

    Attributes
    ----------
    frame : the features, source attributes kept, in ``frame.crs``; a feature whose geometry
        could not be built has geometry None and the reason in ``source_problem``.
    notes : what was done (conversions, detected encodings, replaced CRS).
    record : provenance: role, source, layer, crs, coords, encoding, converted, features, notes.
    """

    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    record: dict[str, str] = field(default_factory=dict)


def _where(src: Source) -> str:
    return f"{src.path}" + (f" (layer {src.layer!r})" if src.layer else "") + \
        f": role {src.role!r}"


def _read_vector(src: Source, where: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    notes: list[str] = []
    vet(src.path, kind="a vector layer file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML)",
        drivers=VECTOR_DRIVERS)
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(src.path)]
    except pyogrio.errors.DataSourceError:
        raise InputError(f"{src.path}: not a file geocheck can read ({READABLE})") from None
    layer = src.layer
    if layer is None:
        if len(names) == 1:
            layer = names[0]
        elif src.role in names:
            layer = src.role
        else:
            raise InputError(f"{src.path}: has {len(names)} layers ({', '.join(names)}); "
                             "say which with --layer")
    elif layer not in names:
        raise InputError(f"{src.path}: no layer {layer!r}; its layers are: {', '.join(names)}")
    encoding = src.encoding
    if src.path.suffix.lower() in (".shp", ".dbf"):
        encoding, note = shapefile_encoding(src.path, src.encoding, where)
        if note:
            notes.append(note)
    try:
        gdf, curves = read_vector(src.path, layer, f"{src.role}: {src.path.name}",
                                  encoding=encoding, fid_as_index=True, on_invalid="ignore",
                                  use_arrow=False)
        notes += [curves] if curves else []
    except Exception as exc:  # pyogrio/GDAL raise several types for an unreadable layer
        raise InputError(f"{where}: cannot be read ({exc})") from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{where}: layer {layer!r} has no geometry; for a point list give "
                         "a CSV or Excel file with coordinate columns")
    gdf.index.name = None
    gdf["_fid"] = gdf.index.astype("int64")
    return gdf.reset_index(drop=True), notes


def read_table(src: Source, where: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read a CSV/Excel sheet as text cells; return (table, row labels, notes)."""
    suffix = src.path.suffix.lower()
    notes: list[str] = []
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            table = pd.read_excel(src.path, sheet_name=src.layer or 0, dtype=object)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        except Exception as exc:  # openpyxl/xlrd raise many types for a broken workbook
            raise InputError(f"{where}: cannot be read as an Excel workbook ({exc})") from None
        rows = [f"row {i + 2}" for i in range(len(table))]
        return table, rows, notes
    raw = src.path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    encoding = "utf-8-sig" if bom and not src.encoding else decode_check(
        raw, where, src.encoding) or "utf-8"
    if encoding == "utf-8" and not src.encoding and not raw.isascii():
        notes.append(f"{src.path.name}: text read as UTF-8")
    sep = "\t" if suffix == ".tsv" else None
    try:
        table = pd.read_csv(src.path, dtype=str, encoding=encoding, sep=sep,
                            engine="python" if sep is None else "c", keep_default_na=False,
                            na_values=[""], skipinitialspace=True)
    except Exception as exc:  # pandas raises several parser errors
        raise InputError(f"{where}: cannot be read as a table ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    rows = [f"row {i + 2}" for i in range(len(table))]
    return table, rows, notes


def _find_column(table: pd.DataFrame, given: str | None, names: tuple[str, ...], axis: str,
                 where: str) -> str:
    cols = [str(c) for c in table.columns]
    if given:
        if given not in cols:
            raise InputError(f"{where}: no column {given!r} for {axis}; columns are: "
                             f"{', '.join(cols)}")
        return given
    lower = {c.strip().lower(): c for c in cols}
    for n in names:
        if n in lower:
            return lower[n]
    raise InputError(f"{where}: no {axis} column found (looked for {', '.join(names)}); name "
                     f"it with --{axis[0]}-field; columns are: {', '.join(cols)}")


def points_from_table(table: pd.DataFrame, rows: list[str], x_field: str, y_field: str
                      ) -> gpd.GeoDataFrame:
    """Points from coordinate columns; a blank or non-numeric cell gives geometry None and the
    reason in ``source_problem`` (no CRS is set here)."""
    out = table.copy()
    problem = np.full(len(table), None, dtype=object)
    xy = []
    for name in (x_field, y_field):
        text = table[name].astype("string").str.strip()
        num = pd.to_numeric(text, errors="coerce")  # "108,32" is refused, not read as 10832
        blank = text.isna() | (text == "")
        bad = ~blank & num.isna()
        is_bad = bad.to_numpy(dtype=bool) & pd.isna(problem)
        problem[is_bad] = (f"{name} = " + text[is_bad].map(repr) + " is not a number").to_numpy()
        problem[blank.to_numpy(dtype=bool) & pd.isna(problem)] = f"{name} is blank"
        xy.append(num.to_numpy(dtype=float))
    ok = np.isfinite(xy[0]) & np.isfinite(xy[1])
    geoms = np.full(len(table), None, dtype=object)
    geoms[ok] = shapely.points(xy[0][ok], xy[1][ok])
    out["source_problem"] = problem
    out["source_ref"] = rows
    return gpd.GeoDataFrame(out, geometry=list(geoms))


def _apply_fields(gdf: gpd.GeoDataFrame, src: Source, where: str) -> gpd.GeoDataFrame:
    known = ROLES[src.role].fields
    for pair in src.fields:
        target, sep, source = (s.strip() for s in pair.partition("="))
        if not sep or not target or not source:
            raise InputError(f"{where}: field mapping {pair!r} is not of the form FIELD=SOURCE")
        if target not in known:
            raise InputError(f"{where}: field mapping {pair!r}: {target!r} is not a field of "
                             f"{src.role} ({', '.join(known)})")
        if source not in gdf.columns:
            have = [str(c) for c in gdf.columns if c != gdf.geometry.name and
                    not str(c).startswith("_")]
            raise InputError(f"{where}: no field {source!r} (mapped to {target!r}); fields "
                             f"are: {', '.join(have)}")
        gdf[target] = gdf[source]
    return gdf


def load_source(src: Source) -> Loaded:
    """Read ``src`` into a role layer in a known CRS, converting GCJ-02/BD-09 to WGS 84.

    Raises
    ------
    InputError, CRSError
        One-line messages naming the file, layer and problem: unreadable or undecodable file,
        missing layer or column, no CRS, coordinates that do not fit the CRS (swapped, metres
        claiming degrees, outside the CRS's area, outside China for GCJ-02/BD-09).
    """
    if src.role not in ROLES:
        raise InputError(f"unknown role {src.role!r}; roles are: {', '.join(ROLES)}")
    if src.url is not None:
        if src.coords:
            check_coord_system(src.coords)
        gdf, notes = read_postgis_table(src.url, src.table or src.role)
        loaded = place(gdf, src, notes)
        schema, table = split_table(src.table or src.role, DatabaseURL.parse(src.url).schema)
        loaded.record["source"] = f"{src.path}, table {schema}.{table}"
        return loaded
    src.path = check_local_file(src.path)
    where = _where(src)
    if src.coords:
        check_coord_system(src.coords)  # a wrong name is refused before the file is read
    suffix = src.path.suffix.lower()
    notes: list[str] = []
    if suffix in OSM_SUFFIXES:
        raise InputError(f"{src.path}: an OpenStreetMap file; import it with "
                         "`geocheck import osm`")
    if suffix in CAD_SUFFIXES:
        if suffix == ".dwg":
            raise InputError(f"{src.path}: {DWG_ADVICE}")
        if not src.cad_layers:
            have = ", ".join(list_dxf_layers(src.path))
            raise InputError(f"{where}: name the CAD layers that hold it (cad_layers, or "
                             f"--map LAYER={src.role}); the file's layers are: {have}")
        if not src.src_crs:
            raise CRSError(f"{where}: a DXF has no coordinate reference system: give "
                           "--src-crs (src_crs in a project file), e.g. EPSG:4545 for CGCS2000 "
                           "3-degree zone CM 108E")
        imp = read_dxf(src.path, {name: src.role for name in src.cad_layers}, src.src_crs)
        gdf = imp.layers[src.role]
        notes += imp.notes
    elif suffix in TABLE_SUFFIXES:
        table, rows, notes = read_table(src, where)
        if table.empty:
            raise InputError(f"{where}: the table has no rows")
        x = _find_column(table, src.x_field, X_NAMES, "x", where)
        y = _find_column(table, src.y_field, Y_NAMES, "y", where)
        if x == y:
            raise InputError(f"{where}: the same column {x!r} was chosen for x and y")
        gdf = points_from_table(table, rows, x, y)
    else:
        gdf, notes = _read_vector(src, where)
    return place(gdf, src, notes)


def place(gdf: gpd.GeoDataFrame, src: Source, notes: list[str]) -> Loaded:
    """Give a layer read from ``src`` its CRS, check that its coordinates fit, convert GCJ-02 /
    BD-09 to WGS 84 and copy mapped fields; ``notes`` are the reader's so far."""
    where = _where(src)
    coords = check_coord_system(src.coords) if src.coords else None
    notes = list(notes)
    file_crs = gdf.crs
    if src.src_crs:
        try:
            crs = CRS.from_user_input(src.src_crs)
        except Exception:
            raise CRSError(f"{where}: --src-crs {src.src_crs!r} is not a CRS pyproj "
                           "knows") from None
        if file_crs is not None and not CRS(file_crs).equals(crs):
            notes.append(f"{src.role}: the file says {CRS(file_crs).to_string()}; the declared "
                         f"{crs.to_string()} was used instead")
    elif coords:
        crs = CRS(GEOGRAPHIC_OF[coords])
        if file_crs is not None and not CRS(file_crs).is_geographic:
            raise CRSError(f"{where}: declared {coords} longitude/latitude, but the file's CRS "
                           f"{CRS(file_crs).to_string()} is projected; drop --coords or give "
                           "the right --src-crs")
    elif file_crs is not None:
        crs = CRS(file_crs)
    else:
        raise CRSError(f"{where}: no CRS; give --src-crs (e.g. EPSG:4490 for CGCS2000 "
                       "lon/lat, EPSG:4545 for zone CM 108E) or --coords wgs84|cgcs2000|gcj02|"
                       "bd09 (points copied from Amap/Tencent are gcj02, from Baidu bd09); in a "
                       "project file: src_crs or coords")
    if coords in ("gcj02", "bd09") and not crs.is_geographic:
        raise CRSError(f"{where}: {coords} coordinates are longitude/latitude, but --src-crs "
                       f"{crs.to_string()} is projected")
    geoms = gdf.geometry.to_numpy()
    # lon/lat declared as Chinese is checked against China's extent, not the whole world
    fit_crs = CRS("EPSG:4490") if coords in ("gcj02", "bd09", "cgcs2000") else crs
    check_fit(geoms, fit_crs, where)
    converted, record_notes = "", "; ".join(notes)
    if coords in ("gcj02", "bd09"):
        gdf = gdf.set_geometry(list(convert_geometries(geoms, coords, "wgs84")))
        n = int((~shapely.is_missing(geoms)).sum())
        converted = f"{COORDS_LABEL[coords]} -> WGS 84"
        notes.append(f"{src.role}: {n} features converted from {converted}")
    gdf = gdf.set_crs(crs, allow_override=True)
    gdf = _apply_fields(gdf, src, where)
    record = {"role": src.role, "source": str(src.path), "layer": src.layer or src.table or "",
              "crs": crs.to_string(), "coords": coords or "", "encoding": src.encoding or "",
              "converted": converted, "features": str(len(gdf)), "notes": record_notes}
    return Loaded(gdf, notes, record)


def write_role(loaded: Loaded, out: Path, role: str | None = None) -> Path:
    """Write (or replace) layer ``role`` in GeoPackage ``out`` and record its provenance in the
    :data:`SOURCES_TABLE` table."""
    role = role or loaded.record["role"]
    if Path(out).exists():  # replaced in place: it must be a GeoPackage, not a pointer to data
        vet(out, kind="a GeoPackage", drivers=("GPKG",))
    frame = loaded.frame.drop(columns=[c for c in ("_fid",) if c in loaded.frame.columns])
    frame = frame.rename(columns={c: str(c) for c in frame.columns})
    try:
        pyogrio.write_dataframe(frame, out, layer=role, driver="GPKG")
        table = read_sources_table(out)
        table = table[table["role"] != role] if len(table) else table
        table = pd.concat([table, pd.DataFrame([loaded.record])], ignore_index=True)
        pyogrio.write_dataframe(table.astype(str), out, layer=SOURCES_TABLE, driver="GPKG")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"cannot write {out}: {exc}") from None
    return out


def read_sources_table(path: Path) -> pd.DataFrame:
    """The provenance table of a GeoPackage written by ``geocheck import`` (empty if none)."""
    if not Path(path).exists():
        return pd.DataFrame()
    path = vet(path, kind="a GeoPackage", drivers=("GPKG",)).path
    try:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
    except pyogrio.errors.DataSourceError:
        return pd.DataFrame()
    if SOURCES_TABLE not in names:
        return pd.DataFrame()
    return pd.DataFrame(pyogrio.read_dataframe(path, layer=SOURCES_TABLE, read_geometry=False))
