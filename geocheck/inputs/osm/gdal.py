"""Reading an OpenStreetMap extract with GDAL's OSM driver, and finding what it cannot build.

GDAL builds no geometry for some features (a way cut off at the extract's edge) and skips some
elements altogether, saying so only in debug messages; this module names them all, so that
:func:`geocheck.inputs.osm.read_osm` keeps them as rejects rather than losing them.
"""

from __future__ import annotations

import html
import mmap
import os
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..gdal_guard import gdal_env, vet
from .tags import ROLE_TAGS, Condition

_POLYGON, _MULTIPOLYGON = 3, 6  # shapely type ids


CONFIG_FILE = Path(__file__).parent / "data" / "osmconf.ini"
"""GDAL OSM driver configuration geocheck reads with (dataset open option CONFIG_FILE)."""

_ELEMENT = {"points": "node", "lines": "way"}  # multipolygons: way or relation

_PROBE_TIMEOUT_S = 600


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).split("; It might help", 1)[0]
    return text[:200] + ("..." if len(text) > 200 else "")


def check_osm_file(path: str | Path) -> tuple[Path, bool]:
    """Return (path, is_xml) for a local file GDAL opens with its OSM driver, else InputError."""
    p = vet(path, kind="an OpenStreetMap file (.osm XML or .osm.pbf)", drivers=("OSM",),
            unopened="not an OpenStreetMap file GDAL can open (.osm XML or .osm.pbf)").path
    with p.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return p, head.startswith(b"<")


def layer_fields(p: Path, layer: str) -> list[str]:
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


def read_gdal_layer(p: Path, layer: str, fields: list[str]) -> gpd.GeoDataFrame | None:
    """Read the features of one GDAL OSM layer that some role may use.

    Returns a frame with the layer's tag columns, ``_element`` (node / way / relation),
    ``_osm_id`` (text), ``source_problem`` (why GDAL's geometry could not be built, else None)
    and the geometry in EPSG:4326; None when no role condition applies to the layer. Tags of
    polygon-only roles are read from nodes too, to count them in the notes.
    """
    where = _sql_where([c for spec in ROLE_TAGS for c in spec.any_of], set(fields))
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


_PROBE = """
import sys, warnings
import pyogrio
warnings.simplefilter("ignore")
pyogrio.raw.read(sys.argv[1], layer="multipolygons", columns=[], CONFIG_FILE=sys.argv[2])
"""

_SKIPPED_WAY = re.compile(rb"OSM: Way (\d+) with (\d+) nodes that could be found\. Discarding")

_SKIPPED_RELATION = re.compile(rb"OSM: Relation (\d+) has missing ways\. Ignoring")


def gdal_skipped(p: Path) -> tuple[dict[str, int], list[str]] | None:
    """Ways (id -> nodes found) and relations (ids) GDAL's OSM driver skips, from its debug log.

    GDAL reports them only as debug messages on stderr, so a child process reads the file with
    ``CPL_DEBUG=OSM`` and its stderr is parsed. Returns None when the probe fails.
    """
    env = {**os.environ, **gdal_env(), "CPL_DEBUG": "OSM"}
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


def skipped_features(p: Path, ways: dict[str, int], relations: list[str],
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

