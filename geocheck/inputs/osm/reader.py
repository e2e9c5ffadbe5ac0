"""read_osm: the role layers of an OpenStreetMap extract, with notes on what could not be used.

See :mod:`geocheck.inputs.osm` for the tag mapping and how broken features are kept.
"""


from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...core.errors import InputError
from ..households import estimate_households
from .gdal import (
    check_osm_file,
    gdal_skipped,
    layer_fields,
    one_line,
    read_gdal_layer,
    skipped_features,
)
from .tags import GDAL_LAYERS, ID_FIELD, POLYGON_ONLY, ROLE_TAGS, role_frame, role_mask

DEFAULT_FLOOR_AREA_PER_HOUSEHOLD = 90.0
"""Residential floor area per household for the estimate, in square metres."""


_POLYGON, _MULTIPOLYGON = 3, 6  # shapely type ids
_LIST_IDS = 5  # ids named in a note before "..."


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


# --------------------------------------------------------------------------------------------
# elements GDAL skips without a feature


# --------------------------------------------------------------------------------------------
# roles


# --------------------------------------------------------------------------------------------
# households


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
    p, is_xml = check_osm_file(path)
    try:
        fields = {layer: layer_fields(p, layer) for layer in GDAL_LAYERS}
        frames = {layer: read_gdal_layer(p, layer, fields[layer]) for layer in GDAL_LAYERS}
    except Exception as exc:  # pyogrio raises several types for a damaged file
        raise InputError(f"{p}: OpenStreetMap data cannot be read: {one_line(exc)}") from None
    frames = {k: v for k, v in frames.items() if v is not None}
    notes: list[str] = []
    skipped = gdal_skipped(p)
    if skipped is None:
        notes.append("could not check which OSM elements GDAL skipped (the probe process "
                     "failed); features cut off at the extract's edge may be missing unnoticed")
    elif skipped[0] or skipped[1]:
        ways, rels = skipped
        what = (f"GDAL skipped {len(ways)} way(s) with fewer than 2 of their nodes in the "
                f"extract and {len(rels)} multipolygon relation(s) with member ways missing "
                "from it")
        if is_xml:
            extra, not_found = skipped_features(p, ways, rels, fields["multipolygons"])
            mp = frames.get("multipolygons")
            frames["multipolygons"] = extra if mp is None else pd.concat([mp, extra],
                                                                         ignore_index=True)
            used = np.zeros(len(extra), bool)
            for spec in ROLE_TAGS:
                used |= role_mask(extra, spec)
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
    for spec in ROLE_TAGS:
        gdf = role_frame(spec, frames)
        counts[spec.role] = len(gdf)
        if gdf.empty:
            notes.append(f"{spec.role}: none in this extract; the layer is left out, so geocheck "
                         "reports no data for it rather than none present (OSM may simply not "
                         "map them here)")
        else:
            layers[spec.role] = gdf
    if "estates" in layers:
        layers["estates"], hh_notes = estimate_households(
            layers["estates"], layers.get("buildings"), per_household)
        notes += hh_notes
    else:
        notes.append("estates: geocheck check needs an estates layer; draw the estates or map "
                     "landuse=residential areas")
    for role, gdf in layers.items():
        id_field = ID_FIELD.get(role, "id")
        broken = gdf["source_problem"].notna()
        if broken.any():
            notes.append(f"{role}: {int(broken.sum())} of {len(gdf)} features have no geometry "
                         "and are kept with geometry None and a source_problem: "
                         + _ids_text(gdf.loc[broken, id_field]))
        note = _invalid_note(role, gdf, id_field)
        if note:
            notes.append(note)
    if "points" in frames:
        for spec in POLYGON_ONLY:
            k = int(role_mask(frames["points"], spec).sum())
            if k:
                notes.append(f"{spec.role}: {k} node(s) with its tags are not imported: a "
                             "node has no area")
    notes.append("entrances: not imported; OSM rarely maps estate gates, so geocheck measures "
                 "from the estate boundary")
    return OsmImport(layers=layers, counts=counts, notes=notes)


# --------------------------------------------------------------------------------------------
# households from a sheet


