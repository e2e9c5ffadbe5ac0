"""Which OpenStreetMap tags make which role, and each role's fields from GDAL's OSM layers."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..values import as_text

_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6  # shapely type ids
GDAL_LAYERS = ("points", "lines", "multipolygons")
"""The layers GDAL's OSM driver gives, as geocheck reads them."""

RESIDENTIAL_BUILDINGS = frozenset(
    {"apartments", "residential", "house", "detached", "dormitory", "terrace",
     "semidetached_house"})
"""``building=*`` values whose ``use`` is ``residential``."""

UNKNOWN_USE_BUILDINGS = frozenset({"yes"})
"""``building=*`` values that say nothing about use: ``use`` is missing (taken as residential)."""


Condition = tuple[tuple[str, tuple[str, ...] | None], ...]
"""AND of (column, accepted values); None accepts any value. Columns are laundered tag keys."""


@dataclass(frozen=True)
class RoleTags:
    """How one role is selected from GDAL's OSM layers.

    any_of / none_of : conditions selecting / excluding features.
    layers : GDAL layers the role takes features from.
    geometry : "polygon" (polygons as they are), "point" (everything becomes a point),
        "either" (polygons kept, lines become points) or "line" (lines as they are, areas
        become their outline).
    tags : tag columns kept as ``osm_<tag>``.
    unless : conditions under which a feature matching ``none_of`` is kept all the same.
    """

    role: str
    any_of: tuple[Condition, ...]
    layers: tuple[str, ...]
    geometry: str
    tags: tuple[str, ...]
    none_of: tuple[Condition, ...] = ()
    unless: tuple[Condition, ...] = ()


def _is(key: str, *values: str) -> Condition:
    return ((key, values),)


_RAIL_MODES = ("subway", "train", "light_rail", "monorail")

ALWAYS, WITH_FOOT, WITH_SIDEWALK = "always", "with foot access", "with a sidewalk or foot access"

WALKABLE_HIGHWAYS: dict[str, str] = {
    **dict.fromkeys(("footway", "path", "pedestrian", "steps", "living_street", "residential",
                     "service", "unclassified", "track", "road", "tertiary", "tertiary_link",
                     "secondary", "secondary_link", "primary", "primary_link"), ALWAYS),
    **dict.fromkeys(("cycleway", "bridleway"), WITH_FOOT),
    **dict.fromkeys(("trunk", "trunk_link"), WITH_SIDEWALK),
}
"""``highway=*`` classes a ``paths`` feature may have, and when: ``always``; ``with foot
access`` (``foot`` in :data:`FOOT_ALLOWED`); ``with a sidewalk or foot access`` (``sidewalk``
both/left/right/yes, ``sidewalk:both|left|right=yes``, or ``foot=yes|designated``). Every other
class is never walkable here: motorways and their links (even with ``foot=yes``), construction,
proposed, platforms, corridors, bus stops. Barriers (:data:`NOT_WALKABLE`) apply to every class."""

FOOT_ALLOWED = ("yes", "designated", "permissive")
"""``foot=*`` values that open a way to walkers, whatever its ``access``."""

NOT_WALKABLE: tuple[Condition, ...] = (
    (("foot", ("no", "private")),),
    (("access", ("no", "private")),),
)
"""Ways never taken as paths, unless ``foot`` is one of :data:`FOOT_ALLOWED` (so a
``foot=no`` way never is)."""

SIDEWALK_YES = ("both", "left", "right", "yes")
"""``sidewalk=*`` values saying the road has a sidewalk on it (``separate``: the sidewalk is
mapped as a way of its own, which is a path by itself)."""


def _walkable() -> tuple[Condition, ...]:
    """:data:`WALKABLE_HIGHWAYS` as role conditions."""
    def classes(rule: str) -> tuple[str, ...]:
        return tuple(k for k, v in WALKABLE_HIGHWAYS.items() if v == rule)
    foot, side = ("highway", classes(WITH_FOOT)), ("highway", classes(WITH_SIDEWALK))
    return (_is("highway", *classes(ALWAYS)),
            (foot, ("foot", FOOT_ALLOWED)),
            (side, ("foot", ("yes", "designated"))),
            (side, ("sidewalk", SIDEWALK_YES)),
            *((side, (f"sidewalk_{s}", ("yes",))) for s in ("both", "left", "right")))


MEDICAL_AMENITIES = ("clinic", "doctors", "hospital")
"""``amenity=*`` values of a ``clinics`` feature; so is any ``healthcare=*`` but those of
:data:`NOT_MEDICAL_CARE`."""

NOT_MEDICAL_CARE = ("pharmacy", "dentist", "optometrist", "audiologist", "blood_donation",
                    "laboratory", "sample_collection")
"""``healthcare=*`` (and ``amenity=*``) values left out of ``clinics``: they sell medicine or
serve one organ or a lab, but give no general diagnosis and treatment (诊疗)."""

ROLE_TAGS: tuple[RoleTags, ...] = (
    RoleTags("estates", (_is("landuse", "residential"),), ("multipolygons",), "polygon",
              ("landuse", "residential")),
    RoleTags("buildings", ((("building", None),),), ("multipolygons",), "polygon",
              ("building", "building_levels"), none_of=(_is("building", "no"),)),
    RoleTags("bus_stops",
              (_is("highway", "bus_stop"),
               (("public_transport", ("platform",)), ("bus", ("yes",)))),
              GDAL_LAYERS, "point", ("highway", "public_transport", "bus", "ref")),
    RoleTags("rail_stations",
              (_is("railway", "station", "halt", "subway_entrance", "train_station_entrance"),
               *((("public_transport", ("station",)), (mode, ("yes",))) for mode in _RAIL_MODES)),
              GDAL_LAYERS, "point",
              ("railway", "public_transport", "station", *_RAIL_MODES, "ref")),
    RoleTags("garbage_points",
              (_is("amenity", "waste_disposal", "recycling", "waste_transfer_station"),),
              GDAL_LAYERS, "either", ("amenity", "recycling_type")),
    RoleTags("kindergartens", (_is("amenity", "kindergarten"),), GDAL_LAYERS, "either",
              ("amenity",)),
    RoleTags("schools", (_is("amenity", "school"),), GDAL_LAYERS, "either", ("amenity",)),
    RoleTags("green_space",
              (_is("leisure", "park", "garden"),
               _is("landuse", "grass", "village_green", "recreation_ground", "meadow", "forest",
                   "flowerbed"),
               _is("natural", "wood", "scrub", "grassland", "heath")),
              ("multipolygons",), "polygon", ("leisure", "landuse", "natural")),
    RoleTags("clinics", (_is("amenity", *MEDICAL_AMENITIES), (("healthcare", None),)),
              GDAL_LAYERS, "either", ("amenity", "healthcare"),
              none_of=(_is("healthcare", *NOT_MEDICAL_CARE), _is("amenity", *NOT_MEDICAL_CARE))),
    RoleTags("paths", _walkable(), ("lines", "multipolygons"), "line",
              ("highway", "foot", "access", "sidewalk", "bridge", "tunnel", "layer"),
              none_of=NOT_WALKABLE, unless=(_is("foot", *FOOT_ALLOWED),)),
)

ID_FIELD = {"estates": "estate_id", "buildings": "building_id"}

_ENTRANCE_RAILWAY = ("subway_entrance", "train_station_entrance")


def _nones(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def _column(df: pd.DataFrame, col: str) -> pd.Series:
    return as_text(df[col]) if col in df.columns else _nones(df.index)


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


def role_mask(df: pd.DataFrame, spec: RoleTags) -> np.ndarray:
    """True for the features of ``df`` (a GDAL layer) that are in ``spec``'s role."""
    barred = _matches(df, spec.none_of) & ~_matches(df, spec.unless)
    return _matches(df, spec.any_of) & ~barred


def role_frame(spec: RoleTags, frames: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Select one role's features from the GDAL layers and give them geocheck's fields."""
    parts = [gdf.loc[role_mask(gdf, spec)] for layer, gdf in frames.items()
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
    if spec.geometry == "line":  # a pedestrian square (area=yes) is walked round its outline
        area = np.isin(kind, [_POLYGON, _MULTIPOLYGON])
        geoms[area] = shapely.boundary(geoms[area])
    out = pd.DataFrame(index=src.index)
    out[ID_FIELD.get(spec.role, "id")] = ("osm:" + src["_element"].astype(str) + "/"
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
    elif spec.role == "paths":
        out["kind"] = _column(src, "highway")
    elif spec.role == "rail_stations":
        railway = _column(src, "railway")
        out["kind"] = np.where(railway.isin(_ENTRANCE_RAILWAY), "entrance", "station")
    out["source_problem"] = as_text(src["source_problem"])
    out["osm_name"], out["osm_name_zh"] = name, name_zh
    for tag in spec.tags:
        out[f"osm_{tag}"] = _column(src, tag)
    return gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")


def _parse_levels(text: pd.Series) -> pd.Series:
    """``building:levels`` as a float number of storeys; NaN unless it is one number >= 0."""
    num = pd.to_numeric(text.astype(object).where(text.notna(), np.nan), errors="coerce")
    num = num.astype(float)
    return num.where(np.isfinite(num) & (num >= 0))


POLYGON_ONLY = tuple(s for s in ROLE_TAGS if s.geometry == "polygon")

