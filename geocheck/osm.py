"""Read an OpenStreetMap extract (.osm XML or .osm.pbf) into geocheck's role layers.

The file is read with pyogrio (GDAL's OSM driver) and the configuration shipped as
``geocheck/data/osmconf.ini``, which turns the tags below into real columns. The result is one
GeoDataFrame per role, in EPSG:4326 (longitude/latitude degrees), ready to be written to a
GeoPackage for ``geocheck check``. Nothing here writes files.

Tag mapping
-----------
Tags are matched exactly (OSM values are lower case). A feature is in a role when any row of
the role matches; a list of values means any of them. Areas are closed ways and multipolygon
relations.

| role | OSM tags | elements | geometry |
|---|---|---|---|
| estates | `landuse=residential` | areas | polygon |
| buildings | `building=*` except `building=no` | areas | polygon |
| bus_stops | `highway=bus_stop` | all | point |
| bus_stops | `public_transport=platform` and `bus=yes` | all | point |
| rail_stations | `railway=` station, halt, subway_entrance, train_station_entrance | all | point |
| rail_stations | `public_transport=station` and `subway=yes` | all | point |
| rail_stations | `public_transport=station` and `train=yes` | all | point |
| rail_stations | `public_transport=station` and `light_rail=yes` | all | point |
| rail_stations | `public_transport=station` and `monorail=yes` | all | point |
| garbage_points | `amenity=` waste_disposal, recycling, waste_transfer_station | all | either |
| kindergartens | `amenity=kindergarten` | all | either |
| schools | `amenity=school` | all | either |
| green_space | `leisure=` park, garden | areas | polygon |
| green_space | `landuse=` grass, village_green, meadow, forest | areas | polygon |
| green_space | `landuse=` recreation_ground, flowerbed | areas | polygon |
| green_space | `natural=` wood, scrub, grassland, heath | areas | polygon |
| entrances | not imported | | |

"point": ways and areas become their representative point; "either": areas stay polygons,
unclosed ways become points.

Decisions
---------
- Ids: ``osm:node/ID``, ``osm:way/ID`` or ``osm:relation/ID`` in the role's id field
  (``estate_id``, ``building_id``, ``id``).
- ``name`` is the ``name:zh`` tag when present, else ``name``; both tags are kept as
  ``osm_name_zh`` and ``osm_name``. Every role keeps the tags it was selected by as ``osm_<tag>``
  columns (``:`` written ``_``, e.g. ``osm_building_levels``).
- Point roles: a way or area becomes its representative point (``shapely.point_on_surface``).
  garbage_points, kindergartens and schools keep areas as polygons; only unclosed ways become
  points. Polygon roles take no nodes: a node tagged ``landuse=residential``, ``building=*`` or
  a green-space tag is counted in the notes, not imported.
- No de-duplication: a bus stop mapped both as a ``highway=bus_stop`` node and as a separate
  platform way, or a school mapped both as a node and as an area, appears twice. Nearest-distance
  and inside-the-estate rules are not changed by such doubles; counts of features are.
- rail_stations (轨道交通站点) holds stations and their entrances; column ``kind`` says
  ``station`` or ``entrance``. An entrance is where a walk to the metro ends, so it is the right
  target for distance rules. ``railway=tram_stop`` is not a 轨道交通站点 here and is left out;
  so is ``railway=stop`` (the stop position on the track, a double of the station).
- garbage_points leaves out ``amenity=waste_basket`` (litter bins are not collection points).
  kindergartens leave out ``amenity=childcare``; schools leave out college and university.
- green_space is parks, gardens, grass and the like: vegetated open land. It leaves out
  ``leisure=playground|pitch`` (often paved), ``landuse=greenfield`` (land awaiting
  development), farmland and water.
- buildings: ``use`` is ``residential`` for ``building=apartments|residential|house|detached|
  dormitory|terrace|semidetached_house``, missing (unknown) for ``building=yes``, and the tag's
  value otherwise (``commercial``, ``school`` ...). ``levels`` is ``building:levels`` as a
  number of storeys (float); a value that is not one number >= 0 (``6;7``, ``6-7``, ``six``)
  counts as missing. ``estate_id`` is left missing: geocheck links buildings to estates by
  location.
- estates: ``built`` is missing (OSM does not say whether an estate is new). ``households`` is
  an estimate (nullable Int64), ``households_estimated`` says where, and ``res_buildings``,
  ``res_buildings_levels``, ``res_floor_area_m2`` show its basis; see :func:`read_osm`.
  :func:`join_households` replaces estimates with real counts from a sheet.
- entrances are not imported: OSM rarely maps estate gates, and a partial layer would be worse
  than none; without an entrances layer geocheck measures from the estate boundary.
- A role with no feature in the extract is left out of :attr:`OsmImport.layers` (with a note),
  never returned empty: to geocheck an empty layer means "there are none", which would fail
  rules such as the garbage-point radius, while OSM simply may not map bins. An absent layer
  means "no data", and the rules say so.

Broken features
---------------
Every feature of a role is kept. One whose geometry cannot be built has geometry None and a
``source_problem`` text saying why; every other feature has ``source_problem`` missing. Two
sources of broken features are accounted for:

- GDAL returns the feature but its geometry is no polygon, e.g. a closed way with only one of
  its nodes in the extract, which GDAL makes a 2-point ring (GEOS: "Invalid number of points in
  LinearRing"; read naively, this loses the whole layer).
- GDAL skips the element: a way with fewer than 2 of its nodes in the extract, or a multipolygon
  relation with member ways missing (usual at the edge of a map export). GDAL says so only in
  debug messages, so geocheck reads the file once more in a child process with
  ``CPL_DEBUG=OSM`` (about a second) to learn their ids. For OSM XML it then reads their tags
  from the file and keeps those that match a role, with geometry None; a .osm.pbf cannot be read
  that way, so for it the skipped ids are only listed in the notes.

Polygons that GDAL builds but that are invalid (self-intersecting, collapsed to no area) are
kept as built and counted in the notes; ``geocheck check`` repairs them with make_valid or
rejects those with no area.
"""

from __future__ import annotations

import html
import math
import mmap
import os
import re
import struct
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .core.errors import InputError
from .projection import choose_working_crs
from .read import check_local_file

CONFIG_FILE = Path(__file__).parent / "data" / "osmconf.ini"
"""GDAL OSM driver configuration geocheck reads with (dataset open option CONFIG_FILE)."""

DEFAULT_FLOOR_AREA_PER_HOUSEHOLD = 90.0
"""Residential floor area per household for the estimate, in square metres."""

RESIDENTIAL_BUILDINGS = frozenset(
    {"apartments", "residential", "house", "detached", "dormitory", "terrace",
     "semidetached_house"})
"""``building=*`` values whose ``use`` is ``residential``."""

UNKNOWN_USE_BUILDINGS = frozenset({"yes"})
"""``building=*`` values that say nothing about use: ``use`` is missing (taken as residential)."""

_GDAL_LAYERS = ("points", "lines", "multipolygons")
_ELEMENT = {"points": "node", "lines": "way"}  # multipolygons: way or relation
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6  # shapely type ids
_PROBE_TIMEOUT_S = 600
_LIST_IDS = 5  # ids named in a note before "..."

Condition = tuple[tuple[str, tuple[str, ...] | None], ...]
"""AND of (column, accepted values); None accepts any value. Columns are laundered tag keys."""


@dataclass(frozen=True)
class _RoleTags:
    """How one role is selected from GDAL's OSM layers.

    any_of / none_of : conditions selecting / excluding features.
    layers : GDAL layers the role takes features from.
    geometry : "polygon" (polygons as they are), "point" (everything becomes a point) or
        "either" (polygons kept, lines become points).
    tags : tag columns kept as ``osm_<tag>``.
    """

    role: str
    any_of: tuple[Condition, ...]
    layers: tuple[str, ...]
    geometry: str
    tags: tuple[str, ...]
    none_of: tuple[Condition, ...] = ()


def _is(key: str, *values: str) -> Condition:
    return ((key, values),)


_RAIL_MODES = ("subway", "train", "light_rail", "monorail")
_ROLE_TAGS: tuple[_RoleTags, ...] = (
    _RoleTags("estates", (_is("landuse", "residential"),), ("multipolygons",), "polygon",
              ("landuse", "residential")),
    _RoleTags("buildings", ((("building", None),),), ("multipolygons",), "polygon",
              ("building", "building_levels"), none_of=(_is("building", "no"),)),
    _RoleTags("bus_stops",
              (_is("highway", "bus_stop"),
               (("public_transport", ("platform",)), ("bus", ("yes",)))),
              _GDAL_LAYERS, "point", ("highway", "public_transport", "bus", "ref")),
    _RoleTags("rail_stations",
              (_is("railway", "station", "halt", "subway_entrance", "train_station_entrance"),
               *((("public_transport", ("station",)), (mode, ("yes",))) for mode in _RAIL_MODES)),
              _GDAL_LAYERS, "point",
              ("railway", "public_transport", "station", *_RAIL_MODES, "ref")),
    _RoleTags("garbage_points",
              (_is("amenity", "waste_disposal", "recycling", "waste_transfer_station"),),
              _GDAL_LAYERS, "either", ("amenity", "recycling_type")),
    _RoleTags("kindergartens", (_is("amenity", "kindergarten"),), _GDAL_LAYERS, "either",
              ("amenity",)),
    _RoleTags("schools", (_is("amenity", "school"),), _GDAL_LAYERS, "either", ("amenity",)),
    _RoleTags("green_space",
              (_is("leisure", "park", "garden"),
               _is("landuse", "grass", "village_green", "recreation_ground", "meadow", "forest",
                   "flowerbed"),
               _is("natural", "wood", "scrub", "grassland", "heath")),
              ("multipolygons",), "polygon", ("leisure", "landuse", "natural")),
)
_ID_FIELD = {"estates": "estate_id", "buildings": "building_id"}
_ENTRANCE_RAILWAY = ("subway_entrance", "train_station_entrance")


@dataclass
class OsmImport:
    """The role layers read from one OpenStreetMap extract.

    Attributes
    ----------
    layers : role -> GeoDataFrame in EPSG:4326 (longitude/latitude degrees), one row per OSM
        feature of that role, broken ones included (geometry None, ``source_problem`` set).
        Roles with no feature in the extract are absent.
    counts : role -> number of features, broken ones included (0 for an absent role).
    notes : human-readable notes: broken and skipped features, features not imported, absent
        roles, how households were estimated.
    """

    layers: dict[str, gpd.GeoDataFrame]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# opening and reading


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).split("; It might help", 1)[0]
    return text[:200] + ("..." if len(text) > 200 else "")


def _check_osm_file(path: str | Path) -> tuple[Path, bool]:
    """Return (path, is_xml) for a local file GDAL opens with its OSM driver, else InputError."""
    p = check_local_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            driver = pyogrio.read_info(p, layer=0)["driver"]
    except Exception as exc:  # pyogrio raises several types for files it cannot open
        raise InputError(f"{p}: not an OpenStreetMap file GDAL can open (.osm XML or .osm.pbf): "
                         f"{_one_line(exc)}") from None
    if driver != "OSM":
        raise InputError(f"{p}: GDAL reads it as {driver} data, not as OpenStreetMap data "
                         "(.osm XML or .osm.pbf)")
    with p.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return p, head.startswith(b"<")


def _layer_fields(p: Path, layer: str) -> list[str]:
    """The attribute columns GDAL gives ``layer`` under geocheck's configuration."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        info = pyogrio.read_info(p, layer=layer, CONFIG_FILE=str(CONFIG_FILE))
    return [str(f) for f in info["fields"]]


def _sql_where(conditions: list[Condition], columns: set[str]) -> str | None:
    """OGR SQL for 'any condition holds', skipping conditions on columns the layer lacks."""
    parts = []
    for cond in conditions:
        if any(col not in columns for col, _ in cond):
            continue
        terms = [f'"{col}" IS NOT NULL' if values is None else
                 f'"{col}" IN ({", ".join(_sql_text(v) for v in values)})'
                 for col, values in cond]
        parts.append("(" + " AND ".join(terms) + ")")
    return " OR ".join(parts) or None


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_gdal_layer(p: Path, layer: str, fields: list[str]) -> gpd.GeoDataFrame | None:
    """Read the features of one GDAL OSM layer that some role may use.

    Returns a frame with the layer's tag columns, ``_element`` (node / way / relation),
    ``_osm_id`` (text), ``source_problem`` (why GDAL's geometry could not be built, else None)
    and the geometry in EPSG:4326; None when no role condition applies to the layer. Tags of
    polygon-only roles are read from nodes too, to count them in the notes.
    """
    where = _sql_where([c for spec in _ROLE_TAGS for c in spec.any_of], set(fields))
    if where is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's ring warnings; accounted below
        meta, _fids, wkb, values = pyogrio.raw.read(p, layer=layer, where=where,
                                                    CONFIG_FILE=str(CONFIG_FILE))
    df = pd.DataFrame(dict(zip(meta["fields"], values, strict=True)))
    df = df.drop(columns=["other_tags", "z_order"], errors="ignore")
    if layer == "multipolygons":
        is_rel = df["osm_id"].notna().to_numpy()
        df["_element"] = np.where(is_rel, "relation", "way")
        df["_osm_id"] = df["osm_id"].where(is_rel, df["osm_way_id"]).astype(str)
    else:
        df["_element"] = _ELEMENT[layer]
        df["_osm_id"] = df["osm_id"].astype(str)
    df = df.drop(columns=["osm_id", "osm_way_id"], errors="ignore")
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    problem = np.full(len(df), None, dtype=object)
    for i in np.flatnonzero(shapely.is_missing(geoms)):  # only the few GDAL could not build
        problem[i] = _unbuilt_problem(df["_element"].iat[i], df["_osm_id"].iat[i], wkb[i],
                                      layer)
    df["source_problem"] = problem
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def _ring_sizes(wkb: bytes) -> list[int]:
    """Point counts of the rings of a Polygon or MultiPolygon WKB, read without GEOS."""
    sizes: list[int] = []

    def geometry(off: int) -> int:
        order = "<" if wkb[off] == 1 else ">"
        (gtype,) = struct.unpack_from(order + "I", wkb, off + 1)
        iso = (gtype & 0xFFFF) // 1000
        ndim = 2 + (bool(gtype & 0x80000000) or iso in (1, 3)) + (
            bool(gtype & 0x40000000) or iso in (2, 3))
        base = (gtype & 0xFFFF) % 1000
        (count,) = struct.unpack_from(order + "I", wkb, off + 5)
        off += 9
        if base == _MULTIPOLYGON:
            for _ in range(count):
                off = geometry(off)
            return off
        if base != _POLYGON:
            raise ValueError(f"WKB type {gtype} is not a polygon")
        for _ in range(count):
            (npts,) = struct.unpack_from(order + "I", wkb, off)
            sizes.append(npts)
            off += 4 + 8 * ndim * npts
        return off

    geometry(0)
    return sizes


def _unbuilt_problem(element: str, osm_id: str, wkb: bytes | None, layer: str) -> str:
    """Say why GDAL's geometry for one feature is missing or is not a valid geometry."""
    who = f"OSM {element} {osm_id}"
    if wkb is None:
        return f"{who}: GDAL built no geometry for it"
    if layer != "multipolygons":
        return f"{who}: GDAL's geometry for it is not a valid {layer[:-1]}"
    try:
        fewest: int | None = min(_ring_sizes(bytes(wkb)), default=0)
    except (ValueError, IndexError, struct.error):
        fewest = None
    if fewest is not None and fewest < 4:
        if element == "way":
            return (f"{who}: too few of its nodes are in the extract to make a polygon (GDAL's "
                    f"ring has {fewest} point(s), a ring needs 4): typically a way cut off at "
                    "the extract's edge")
        return (f"{who}: its rings could not be assembled into a valid polygon (a ring has only "
                f"{fewest} point(s): broken or unclosed ring, or nodes missing from the extract)")
    return f"{who}: its rings could not be assembled into a valid polygon"


# --------------------------------------------------------------------------------------------
# elements GDAL skips without a feature


_PROBE = """
import sys, warnings
import pyogrio
warnings.simplefilter("ignore")
pyogrio.raw.read(sys.argv[1], layer="multipolygons", columns=[], CONFIG_FILE=sys.argv[2])
"""
_SKIPPED_WAY = re.compile(rb"OSM: Way (\d+) with (\d+) nodes that could be found\. Discarding")
_SKIPPED_RELATION = re.compile(rb"OSM: Relation (\d+) has missing ways\. Ignoring")


def _gdal_skipped(p: Path) -> tuple[dict[str, int], list[str]] | None:
    """Ways (id -> nodes found) and relations (ids) GDAL's OSM driver skips, from its debug log.

    GDAL reports them only as debug messages on stderr, so a child process reads the file with
    ``CPL_DEBUG=OSM`` and its stderr is parsed. Returns None when the probe fails.
    """
    env = {**os.environ, "CPL_DEBUG": "OSM"}
    env.pop("CPL_LOG", None)
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE, str(p), str(CONFIG_FILE)],
                              capture_output=True, env=env, timeout=_PROBE_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    ways = {m[1].decode(): int(m[2]) for m in _SKIPPED_WAY.finditer(proc.stderr)}
    relations = list(dict.fromkeys(m[1].decode() for m in _SKIPPED_RELATION.finditer(proc.stderr)))
    return ways, relations


_TAG = re.compile(rb"""<tag\s+k\s*=\s*(["'])(.*?)\1\s+v\s*=\s*(["'])(.*?)\3""", re.S)
_WAY_MEMBER = re.compile(rb"""<member\s+type\s*=\s*["']way["']\s+ref\s*=\s*["'](-?\d+)["']""")


def _id_regex(ids: list[str]) -> bytes:
    """A regex matching exactly the given ids, shaped as a trie of digits.

    A plain alternation is tried id by id at every element of the file; the trie costs only the
    length of an id, however many ids there are.
    """
    trie: dict[str, dict] = {}
    for i in ids:
        node = trie
        for ch in i:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + emit(child) if ch else "" for ch, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie).encode()


def _xml_elements(data: mmap.mmap, element: str, ids: list[str]) -> dict[str, bytes]:
    """Return id -> body (the text inside the element) of the given elements of an OSM XML."""
    if not ids:
        return {}
    start = re.compile(rb"<" + element.encode() + rb"""\s+id\s*=\s*["'](""" + _id_regex(ids)
                       + rb""")["'][^>]*?(/?)>""")
    close = b"</" + element.encode() + b">"
    out: dict[str, bytes] = {}
    for m in start.finditer(data):  # only the requested elements match
        end = m.end() if m[2] else data.find(close, m.end())
        out[m[1].decode()] = bytes(data[m.end(): end if end >= 0 else len(data)])
    return out


def _xml_tags(body: bytes) -> dict[str, str]:
    """Tags of one element body as {laundered key: value} (``:`` in keys becomes ``_``)."""
    return {html.unescape(m[2].decode("utf-8", "replace")).replace(":", "_"):
            html.unescape(m[4].decode("utf-8", "replace")) for m in _TAG.finditer(body)}


def _skipped_features(p: Path, ways: dict[str, int], relations: list[str],
                      columns: list[str]) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The elements GDAL skipped, as multipolygon-layer rows with geometry None (OSM XML only).

    Returns the rows (tags limited to ``columns``) and the ids not found in the file.
    """
    rows: list[dict[str, object]] = []
    with p.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        way_bodies = _xml_elements(data, "way", list(ways))
        rel_bodies = _xml_elements(data, "relation", relations)
        members = {rid: [m[1].decode() for m in _WAY_MEMBER.finditer(body)]
                   for rid, body in rel_bodies.items()}
        wanted = sorted({w for refs in members.values() for w in refs})
        present = set(_xml_elements(data, "way", wanted))
    for wid, body in way_bodies.items():
        found = ways[wid]
        rows.append({**_xml_tags(body), "_element": "way", "_osm_id": wid, "source_problem": (
            f"OSM way {wid}: only {found} of its nodes {'is' if found == 1 else 'are'} in the "
            "extract (it is cut off at the extract's edge), so GDAL could not build it")})
    for rid, body in rel_bodies.items():
        refs = members[rid]
        missing = sum(r not in present for r in refs)
        rows.append({**_xml_tags(body), "_element": "relation", "_osm_id": rid,
                     "source_problem": (
                         f"OSM relation {rid}: {missing} of its {len(refs)} member ways "
                         f"{'is' if missing == 1 else 'are'} missing from the extract (usual at "
                         "the edge of a map export), so GDAL could not assemble its polygon")})
    frame = pd.DataFrame(rows, columns=[*columns, "_element", "_osm_id", "source_problem"])
    gdf = gpd.GeoDataFrame(frame.astype(object), geometry=[None] * len(frame), crs="EPSG:4326")
    not_found = ([f"osm:way/{w}" for w in ways if w not in way_bodies]
                 + [f"osm:relation/{r}" for r in relations if r not in rel_bodies])
    return gdf, not_found


# --------------------------------------------------------------------------------------------
# roles


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped text (object dtype, None for missing or blank); whole floats lose .0."""
    if pd.api.types.is_float_dtype(values):
        finite = values.notna() & np.isfinite(values.fillna(0))
        if (values[finite] % 1 == 0).all():
            values = values.where(finite).astype("Int64")
    s = values.astype("string").str.strip().fillna("")
    keep = (s != "").to_numpy(dtype=bool)
    return pd.Series(np.where(keep, s.to_numpy(dtype=object), None), index=values.index,
                     dtype=object)


def _nones(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def _column(df: pd.DataFrame, col: str) -> pd.Series:
    return _text(df[col]) if col in df.columns else _nones(df.index)


def _matches(df: pd.DataFrame, conditions: tuple[Condition, ...]) -> np.ndarray:
    """True where any of the conditions holds (a condition on a missing column never holds)."""
    out = np.zeros(len(df), bool)
    for cond in conditions:
        hit = np.ones(len(df), bool)
        for col, values in cond:
            if col not in df.columns:
                hit[:] = False
                break
            s = df[col]
            hit &= (s.notna() if values is None else s.isin(values)).to_numpy(dtype=bool)
        out |= hit
    return out


def _role_mask(df: pd.DataFrame, spec: _RoleTags) -> np.ndarray:
    return _matches(df, spec.any_of) & ~_matches(df, spec.none_of)


def _role_frame(spec: _RoleTags, frames: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Select one role's features from the GDAL layers and give them geocheck's fields."""
    parts = [gdf.loc[_role_mask(gdf, spec)] for layer, gdf in frames.items()
             if layer in spec.layers]
    parts = [part for part in parts if len(part)]
    if parts:
        src = pd.concat(parts, ignore_index=True)
    else:
        src = pd.DataFrame({"_element": [], "_osm_id": [], "source_problem": []}, dtype=object)
    geoms = (src.geometry.to_numpy() if parts else np.array([], dtype=object)).copy()
    kind = shapely.get_type_id(geoms)  # -1 for None
    if spec.geometry == "point":
        to_point = kind > _POINT
    elif spec.geometry == "either":
        to_point = (kind > _POINT) & ~np.isin(kind, [_POLYGON, _MULTIPOLYGON])
    else:
        to_point = np.zeros(len(geoms), bool)
    geoms[to_point] = shapely.point_on_surface(geoms[to_point])
    out = pd.DataFrame(index=src.index)
    out[_ID_FIELD.get(spec.role, "id")] = ("osm:" + src["_element"].astype(str) + "/"
                                           + src["_osm_id"].astype(str)).astype(object)
    name_zh, name = _column(src, "name_zh"), _column(src, "name")
    out["name"] = name_zh.where(name_zh.notna(), name)
    if spec.role == "estates":
        out["households"] = pd.array([pd.NA] * len(src), dtype="Int64")
        out["households_estimated"] = np.zeros(len(src), bool)
        out["built"] = _nones(src.index)
    elif spec.role == "buildings":
        building = _column(src, "building")
        key = building.str.lower()
        use = building.where(~key.isin(UNKNOWN_USE_BUILDINGS), None)
        out["use"] = use.where(~key.isin(RESIDENTIAL_BUILDINGS), "residential")
        out["levels"] = _parse_levels(_column(src, "building_levels"))
        out["estate_id"] = _nones(src.index)
    elif spec.role == "rail_stations":
        railway = _column(src, "railway")
        out["kind"] = np.where(railway.isin(_ENTRANCE_RAILWAY), "entrance", "station")
    out["source_problem"] = _text(src["source_problem"])
    out["osm_name"], out["osm_name_zh"] = name, name_zh
    for tag in spec.tags:
        out[f"osm_{tag}"] = _column(src, tag)
    return gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")


def _parse_levels(text: pd.Series) -> pd.Series:
    """``building:levels`` as a float number of storeys; NaN unless it is one number >= 0."""
    num = pd.to_numeric(text.astype(object).where(text.notna(), np.nan), errors="coerce")
    num = num.astype(float)
    return num.where(np.isfinite(num) & (num >= 0))


_POLYGON_ONLY = tuple(s for s in _ROLE_TAGS if s.geometry == "polygon")


# --------------------------------------------------------------------------------------------
# households


def _estimate_households(estates: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None,
                         per_household: float) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Estimate households from residential floor area; see :func:`read_osm`."""
    estates = estates.copy()
    n = len(estates)
    n_res = np.zeros(n, np.int64)
    n_levels = np.zeros(n, np.int64)
    floor = np.full(n, np.nan)
    has_geom = ~shapely.is_missing(estates.geometry.to_numpy())
    crs = None
    if buildings is not None and has_geom.any():
        crs = choose_working_crs(tuple(estates.loc[has_geom].total_bounds))
        est_pos = np.flatnonzero(has_geom)
        est_geoms = estates.geometry.iloc[est_pos].to_crs(crs).to_numpy()
        est_geoms = np.where(shapely.is_valid(est_geoms), est_geoms,
                             shapely.make_valid(est_geoms))
        res = (buildings["use"].isna() | (buildings["use"] == "residential")).to_numpy(bool)
        res = res & ~shapely.is_missing(buildings.geometry.to_numpy())
        b = buildings.loc[res]
        bgeoms = b.geometry.to_crs(crs).to_numpy()
        bad = ~shapely.is_valid(bgeoms)
        bgeoms[bad] = shapely.make_valid(bgeoms[bad])
        bi, ei = shapely.STRtree(est_geoms).query(shapely.point_on_surface(bgeoms),
                                                   predicate="within")
        levels = b["levels"].to_numpy(dtype=float)[bi]
        pairs = pd.DataFrame({"estate": est_pos[ei], "has_levels": ~np.isnan(levels),
                              "floor": shapely.area(bgeoms[bi]) * levels})
        agg = pairs.groupby("estate").agg(n=("has_levels", "size"), n_lev=("has_levels", "sum"),
                                          floor=("floor", "sum"))
        idx = agg.index.to_numpy()
        n_res[idx] = agg["n"].to_numpy()
        n_levels[idx] = agg["n_lev"].to_numpy()
        floor[idx] = agg["floor"].to_numpy()
    ok = has_geom & (n_res > 0) & (n_levels == n_res)
    households = np.where(ok, np.floor(np.where(ok, floor, 0) / per_household + 0.5), np.nan)
    estates["households"] = pd.array(households, dtype="Float64").astype("Int64")
    estates["households_estimated"] = ok
    estates["res_buildings"] = n_res
    estates["res_buildings_levels"] = n_levels
    estates["res_floor_area_m2"] = np.where(ok, floor, np.nan)
    if n == 0:
        return estates, []
    where = f"{crs.name}, EPSG:{crs.to_epsg()}" if crs is not None else "a local projected CRS"
    notes = [
        f"estates: households estimated for {int(ok.sum())} of {n} estates as residential floor "
        f"area / {per_household:g} m² per household, rounded; floor area = footprint area (in "
        f"{where}) x building:levels, summed over the residential buildings (use residential "
        "or unknown) whose representative point lies in the estate. OSM has no household "
        "counts: join real ones where you have them"]
    reasons = []
    if (~has_geom).any():
        reasons.append(f"{int((~has_geom).sum())} without geometry")
    none_in = has_geom & (n_res == 0)
    if none_in.any():
        reasons.append(f"{int(none_in.sum())} without a residential building inside")
    partial = has_geom & (n_res > 0) & (n_levels < n_res)
    if partial.any():
        reasons.append(
            f"{int(partial.sum())} with residential buildings lacking building:levels "
            f"({int((n_res - n_levels)[partial].sum())} of their {int(n_res[partial].sum())} "
            "residential buildings)")
    if reasons:
        notes.append(f"estates: {n - int(ok.sum())} of {n} have no households estimate: "
                     + "; ".join(reasons))
    if buildings is not None:
        lost = buildings["source_problem"].notna() & (
            buildings["use"].isna() | (buildings["use"] == "residential"))
        if lost.any():
            notes.append(f"estates: {int(lost.sum())} residential buildings have no geometry, "
                         "so no estate's estimate includes them")
    return estates, notes


# --------------------------------------------------------------------------------------------
# notes


def _ids_text(ids: pd.Series | list[str]) -> str:
    ids = list(ids)
    more = f", ... ({len(ids) - _LIST_IDS} more)" if len(ids) > _LIST_IDS else ""
    return ", ".join(str(i) for i in ids[:_LIST_IDS]) + more


def _invalid_note(role: str, gdf: gpd.GeoDataFrame, id_field: str) -> str | None:
    """Count polygons GDAL built that are invalid (kept as built; geocheck repairs them)."""
    geoms = gdf.geometry.to_numpy()
    invalid = np.isin(shapely.get_type_id(geoms), [_POLYGON, _MULTIPOLYGON])
    invalid[invalid] = ~shapely.is_valid(geoms[invalid])
    if not invalid.any():
        return None
    no_area = int((shapely.area(shapely.make_valid(geoms[invalid])) <= 0).sum())
    first = f"{gdf[id_field].to_numpy()[invalid][0]}: {shapely.is_valid_reason(geoms[invalid][0])}"
    return (f"{role}: {int(invalid.sum())} polygons are invalid as mapped or as cut off at the "
            f"extract's edge (e.g. {first}); kept as built: geocheck check repairs them with "
            "make_valid" + (f" and rejects the {no_area} with no area" if no_area else ""))


# --------------------------------------------------------------------------------------------
# public API


def read_osm(path: str | Path, *,
             floor_area_per_household: float = DEFAULT_FLOOR_AREA_PER_HOUSEHOLD) -> OsmImport:
    """Read an OpenStreetMap extract into geocheck's role layers.

    Parameters
    ----------
    path : a local .osm (XML) or .osm.pbf file.
    floor_area_per_household : residential floor area per household, in square metres, for the
        households estimate.

    Returns
    -------
    OsmImport
        Role layers in EPSG:4326, feature counts and notes. See the module docstring for the
        tag mapping and for how broken features are kept.

    Notes
    -----
    Households are estimated per estate as F / floor_area_per_household rounded to a whole
    number (halves up), where F (m²) is the sum of footprint area x ``building:levels`` over the
    residential buildings (``use`` residential or unknown) whose representative point lies in
    the estate. Areas are measured in a local projected CRS in metres (the CGCS2000 3-degree
    Gauss-Kruger zone in China, else the WGS 84 UTM zone, chosen as ``geocheck check`` does),
    never in degrees or Web Mercator. A building in two overlapping estates counts in both. The
    estimate is made only when the estate contains at least one residential building and all of
    them have ``building:levels``; otherwise ``households`` is missing and a note says why.
    ``households_estimated`` is True where estimated. Columns ``res_buildings`` (residential
    buildings inside), ``res_buildings_levels`` (those with levels) and ``res_floor_area_m2``
    (F, where estimated) show the basis.

    Raises
    ------
    InputError
        When the file is missing, is not OpenStreetMap data or cannot be read, or when
        floor_area_per_household is not a positive number.
    """
    try:
        per_household = float(floor_area_per_household)
    except (TypeError, ValueError):
        per_household = math.nan
    if not (math.isfinite(per_household) and per_household > 0):
        raise InputError("floor area per household must be a positive number of square metres, "
                         f"not {floor_area_per_household!r}")
    p, is_xml = _check_osm_file(path)
    try:
        fields = {layer: _layer_fields(p, layer) for layer in _GDAL_LAYERS}
        frames = {layer: _read_gdal_layer(p, layer, fields[layer]) for layer in _GDAL_LAYERS}
    except Exception as exc:  # pyogrio raises several types for a damaged file
        raise InputError(f"{p}: OpenStreetMap data cannot be read: {_one_line(exc)}") from None
    frames = {k: v for k, v in frames.items() if v is not None}
    notes: list[str] = []
    skipped = _gdal_skipped(p)
    if skipped is None:
        notes.append("could not check which OSM elements GDAL skipped (the probe process "
                     "failed); features cut off at the extract's edge may be missing unnoticed")
    elif skipped[0] or skipped[1]:
        ways, rels = skipped
        what = (f"GDAL skipped {len(ways)} way(s) with fewer than 2 of their nodes in the "
                f"extract and {len(rels)} multipolygon relation(s) with member ways missing "
                "from it")
        if is_xml:
            extra, not_found = _skipped_features(p, ways, rels, fields["multipolygons"])
            mp = frames.get("multipolygons")
            frames["multipolygons"] = extra if mp is None else pd.concat([mp, extra],
                                                                         ignore_index=True)
            used = np.zeros(len(extra), bool)
            for spec in _ROLE_TAGS:
                used |= _role_mask(extra, spec)
            notes.append(f"{what}; {int(used.sum())} of them carry a role's tags and are kept "
                         "with geometry None and a source_problem; the rest are not used by "
                         "geocheck"
                         + (f"; not found in the file: {_ids_text(not_found)}" if not_found
                            else ""))
        else:
            notes.append(f"{what}; a .osm.pbf does not let geocheck read their tags, so which "
                         "roles they belonged to is unknown: "
                         + _ids_text([f"osm:way/{w}" for w in ways]
                                     + [f"osm:relation/{r}" for r in rels]))
    layers: dict[str, gpd.GeoDataFrame] = {}
    counts: dict[str, int] = {}
    for spec in _ROLE_TAGS:
        gdf = _role_frame(spec, frames)
        counts[spec.role] = len(gdf)
        if gdf.empty:
            notes.append(f"{spec.role}: none in this extract; the layer is left out, so geocheck "
                         "reports no data for it rather than none present (OSM may simply not "
                         "map them here)")
        else:
            layers[spec.role] = gdf
    if "estates" in layers:
        layers["estates"], hh_notes = _estimate_households(
            layers["estates"], layers.get("buildings"), per_household)
        notes += hh_notes
    else:
        notes.append("estates: geocheck check needs an estates layer; draw the estates or map "
                     "landuse=residential areas")
    for role, gdf in layers.items():
        id_field = _ID_FIELD.get(role, "id")
        broken = gdf["source_problem"].notna()
        if broken.any():
            notes.append(f"{role}: {int(broken.sum())} of {len(gdf)} features have no geometry "
                         "and are kept with geometry None and a source_problem: "
                         + _ids_text(gdf.loc[broken, id_field]))
        note = _invalid_note(role, gdf, id_field)
        if note:
            notes.append(note)
    if "points" in frames:
        for spec in _POLYGON_ONLY:
            k = int(_role_mask(frames["points"], spec).sum())
            if k:
                notes.append(f"{spec.role}: {k} node(s) with its tags are not imported: a "
                             "node has no area")
    notes.append("entrances: not imported; OSM rarely maps estate gates, so geocheck measures "
                 "from the estate boundary")
    return OsmImport(layers=layers, counts=counts, notes=notes)


# --------------------------------------------------------------------------------------------
# households from a sheet


ID_COLUMNS = ("estate_id", "小区编号", "id")
NAME_COLUMNS = ("name", "小区名称", "名称")
HOUSEHOLD_COLUMNS = ("households", "户数")


def _find_column(table: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...],
                 what: str) -> object | None:
    """The table column named ``wanted`` (must exist), else the first candidate present."""
    names = {str(c).strip().lower(): c for c in table.columns}
    if wanted is not None:
        if wanted in table.columns:
            return wanted
        if wanted.strip().lower() in names:
            return names[wanted.strip().lower()]
        raise InputError(f"households sheet has no column {wanted!r} ({what}); its columns are: "
                         + ", ".join(str(c) for c in table.columns))
    return next((names[c.lower()] for c in candidates if c.lower() in names), None)


def join_households(estates: gpd.GeoDataFrame, table: pd.DataFrame, *, key: str | None = None,
                    households_field: str | None = None,
                    ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Set estates' households from a sheet, matched by estate_id or by name.

    Parameters
    ----------
    estates : the estates layer (``estate_id``, ``name``, ``households``), e.g. from
        :func:`read_osm`.
    table : the sheet, one row per estate, as read from CSV or Excel. Rows are named in messages
        as in a spreadsheet: the header is row 1, the first data row is row 2.
    key : the sheet column to match on. Default: the first present of ``estate_id``,
        ``小区编号``, ``id``, ``name``, ``小区名称``, ``名称`` (case-insensitive). An id column is
        matched against the estates' ``estate_id``, a name column against ``name``; any other
        column against ``estate_id`` if one of its values starts with ``osm:``, else ``name``.
        Values are compared as stripped text.
    households_field : the sheet column with households. Default: ``households`` or ``户数``.

    Returns
    -------
    (estates, notes)
        A copy of the estates whose ``households`` (nullable Int64) are the sheet's where a row
        matched, replacing any estimate (``households_estimated`` False there), and notes: rows
        joined, rows matching no estate, matched rows without a value, estates still without
        households.

    Raises
    ------
    InputError
        For a missing column, a households value that is not a whole number >= 0, a name shared
        by several estates, or two rows for the same estate; the message names row and column.
    """
    out = estates.copy()
    if "households" not in out.columns:
        out["households"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if "households_estimated" not in out.columns:
        out["households_estimated"] = False
    columns = ", ".join(str(c) for c in table.columns) or "none"
    hh_col = _find_column(table, households_field, HOUSEHOLD_COLUMNS, "households")
    if hh_col is None:
        raise InputError(f"households sheet has no households column (households or 户数); its "
                         f"columns are: {columns}")
    key_col = _find_column(table, key, ID_COLUMNS + NAME_COLUMNS, "key")
    if key_col is None:
        raise InputError("households sheet has no column to match estates by (estate_id, "
                         f"小区编号, id, name, 小区名称 or 名称); its columns are: {columns}")
    table = table.reset_index(drop=True)
    keys = _text(table[key_col])
    key_name = str(key_col).strip().lower()
    if key_name in ID_COLUMNS:
        target = "estate_id"
    elif key_name in NAME_COLUMNS:
        target = "name"
    else:
        target = "estate_id" if keys.fillna("").str.startswith("osm:").any() else "name"
    if target not in out.columns:
        raise InputError(f"the estates have no {target!r} field to match the sheet's column "
                         f"{key_col!r} against")
    rows = np.arange(len(table)) + 2  # spreadsheet rows: the header is row 1
    text = _text(table[hh_col])
    num = pd.to_numeric(text.where(text.notna(), np.nan), errors="coerce").astype(float)
    bad = text.notna() & ~(np.isfinite(num) & (num >= 0) & (num == np.round(num)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"households sheet row {rows[i]} ({key_col} {keys[i]!r}), column "
                         f"{hh_col!r}: {text[i]!r} is not a whole number of households (0 or "
                         "more)")
    est_keys = _text(out[target]).reset_index(drop=True)
    lookup = pd.DataFrame({"key": est_keys, "pos": np.arange(len(out))}).dropna()
    per_key = lookup.groupby("key")["pos"].agg(["first", "size"])
    matched = keys.isin(per_key.index)
    has_value = text.notna()
    use = matched & has_value
    shared = use & (keys.map(per_key["size"]).fillna(0) > 1)
    if shared.any():
        i = int(np.flatnonzero(shared)[0])
        ids = lookup.loc[lookup["key"] == keys[i], "pos"]
        names = ", ".join(str(v) for v in (out["estate_id"].to_numpy()[ids] if "estate_id" in
                                           out.columns else ids))
        raise InputError(f"households sheet row {rows[i]}, column {key_col!r}: name "
                         f"{keys[i]!r} matches {len(ids)} estates ({names}); give their "
                         "estate_id instead")
    dup = keys.where(use).duplicated(keep=False) & use
    if dup.any():
        first = keys[dup].iloc[0]
        which = rows[((keys == first) & use).to_numpy(bool)]
        raise InputError(f"households sheet rows {' and '.join(str(r) for r in which)}, column "
                         f"{key_col!r}: both give households for estate {first!r}")
    target_pos = keys[use].map(per_key["first"]).to_numpy(dtype=np.int64)
    households = out["households"].astype("Int64").to_numpy(copy=True)
    households[target_pos] = num[use].to_numpy().astype(np.int64)
    out["households"] = pd.array(households, dtype="Int64")
    estimated = out["households_estimated"].fillna(False).to_numpy(dtype=bool, copy=True)
    estimated[target_pos] = False
    out["households_estimated"] = estimated
    notes = [f"households sheet: {int(use.sum())} of {len(table)} rows joined by {target} "
             f"(column {key_col!r}; households from column {hh_col!r}); their values replace "
             "any estimate"]
    unmatched = np.flatnonzero(~matched.to_numpy(bool))
    if len(unmatched):
        listed = ", ".join(f"row {rows[i]} ({keys[i]!r})" for i in unmatched[:10])
        more = f", ... ({len(unmatched) - 10} more)" if len(unmatched) > 10 else ""
        notes.append(f"households sheet: {len(unmatched)} rows match no estate by {target}: "
                     f"{listed}{more}")
    empty = np.flatnonzero((matched & ~has_value).to_numpy(bool))
    if len(empty):
        notes.append(f"households sheet: {len(empty)} matching rows have no households value: "
                     + ", ".join(f"row {rows[i]}" for i in empty[:10]))
    still = int(out["households"].isna().sum())
    if still:
        notes.append(f"estates: {still} of {len(out)} still have no households value")
    return out, notes
