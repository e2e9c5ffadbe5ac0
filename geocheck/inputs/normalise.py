"""Normalise role layers: fields, ids, geometry validity, CRS; link features to estates.

Every feature read is either kept or recorded in the :class:`~geocheck.core.ledger.Ledger` with the
reason it was rejected. The result is a :class:`Site` in one working CRS, in metres.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..core.errors import CRSError, InputError
from ..core.ledger import Ledger
from ..core.roles import (
    BUILT_VALUES,
    ENTRANCE_SNAP_M,
    FIELD_ALIASES,
    LINE,
    POINT,
    POLYGON,
    RESIDENTIAL_VALUES,
    ROLES,
    TARGET_YEARS,
    FieldMap,
)
from ..core.site import Site
from ..core.threads import in_threads
from .coordfit import check_fit, feature_centres
from .overlaps import estate_overlaps, green_in_overlaps, note_ambiguous
from .places import envelopes, reproject_places
from .projection import choose_working_crs, lonlat_bounds
from .read import RawLayers
from .storeys import read_storeys
from .unwrap import unwrap_collections
from .values import as_text

MAX_HOUSEHOLDS = 1_000_000
"""More households than this in one estate is refused as implausible (the largest estates in
China hold some tens of thousands of households)."""

REPAIR_REPORT_SHARE = 0.01
"""A repair that changes a polygon's area by more than this share is reported as a note."""

_POINT_TYPES = {0, 4}  # Point, MultiPoint
_LINE_TYPES = {1, 5}  # LineString, MultiLineString
_POLYGON_TYPES = {3, 6}  # Polygon, MultiPolygon


def _map_fields(gdf: gpd.GeoDataFrame, role: str, fields: FieldMap, path: Path) -> pd.DataFrame:
    """Return the role's fields under geocheck's names (missing fields are all-None)."""
    out = pd.DataFrame(index=gdf.index)
    for name in ROLES[role].fields:
        src = fields.source(role, name)
        if src == name and _blank(gdf, src):  # unmapped: try the field's other names
            src = next((a for a in FIELD_ALIASES.get((role, name), ()) if a in gdf.columns),
                       name)
        if src in gdf.columns:
            out[name] = gdf[src]
        elif src != name:
            have = [str(c) for c in gdf.columns if not str(c).startswith("_")
                    and c != gdf.geometry.name]
            raise InputError(f"{path}: layer {role!r} has no field {src!r} (mapped to {name!r}); "
                             f"its fields are: {', '.join(have)}")
        else:
            out[name] = None
    return out


def _geometry_problems(geoms: np.ndarray, kinds: frozenset[str]) -> np.ndarray:
    """Return a reason per geometry ('' when usable) for null, empty, non-finite, wrong type,
    and for a line of zero length (all its vertices in one place)."""
    reasons = np.full(len(geoms), "", dtype=object)
    missing = shapely.is_missing(geoms)
    reasons[missing] = "no geometry"
    empty = ~missing & shapely.is_empty(geoms)
    reasons[empty] = "empty geometry"
    ok = ~missing & ~empty
    # Every vertex, not the bounds: GEOS's envelope skips a NaN vertex inside a ring.
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    nonfinite = np.zeros(len(geoms), bool)
    nonfinite[owner[~np.isfinite(coords).all(axis=1)]] = True
    nonfinite &= ok
    reasons[nonfinite] = "non-finite coordinates"
    ok &= ~nonfinite
    allowed = set()
    if POINT in kinds:
        allowed |= _POINT_TYPES
    if LINE in kinds:
        allowed |= _LINE_TYPES
    if POLYGON in kinds:
        allowed |= _POLYGON_TYPES
    type_ids = shapely.get_type_id(geoms)
    wrong = ok & ~np.isin(type_ids, list(allowed))
    want = " or ".join(sorted(kinds))
    for i in np.flatnonzero(wrong):
        reasons[i] = f"{geoms[i].geom_type} where {want} expected"
    line = ok & ~wrong & np.isin(type_ids, list(_LINE_TYPES))
    reasons[line & (shapely.length(geoms) <= 0)] = "line of zero length (all its vertices coincide)"
    return reasons


def _repair_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """make_valid the invalid polygons, keeping polygonal parts; return (geoms, area before)."""
    invalid = np.flatnonzero(~in_threads(shapely.is_valid, geoms))
    before = shapely.area(geoms[invalid])
    out = geoms.copy()
    if len(invalid):
        fixed = shapely.make_valid(geoms[invalid])
        polys = []
        for g in fixed:  # only the invalid few: the polygonal parts of each repaired geometry
            parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in _POLYGON_TYPES]
            polys.append(shapely.union_all(parts) if parts else shapely.Polygon())
        out[invalid] = polys
    return out, np.column_stack([invalid, before]) if len(invalid) else np.empty((0, 2))


def _clean_layer(gdf: gpd.GeoDataFrame, role: str, fields: FieldMap, path: Path,
                 ledger: Ledger) -> gpd.GeoDataFrame:
    """Map fields, name features, reject unusable geometries and repair invalid ones."""
    spec = ROLES[role]
    ledger.read[role] = len(gdf)
    if gdf.crs is None:
        raise CRSError(f"{path}: layer {role!r} has no CRS; assign one to the layer "
                       "(for example with ogr2ogr -a_srs EPSG:4490)")
    attrs = _map_fields(gdf, role, fields, path)
    if role == "estates":
        est = gdf["households_estimated"] if "households_estimated" in gdf.columns else False
        attrs["households_estimated"] = pd.Series(est, index=gdf.index).fillna(False).astype(bool)
    ids = as_text(attrs[spec.id_field])
    if role == "estates" and fields.source(role, "estate_id") not in gdf.columns:
        raise InputError(f"{path}: layer 'estates' has no field 'estate_id'; map one with "
                         "--field estate_id=YOURFIELD")
    nameless = ids.isna().to_numpy()
    if nameless.any():  # named by the GeoPackage fid, or the importer's sheet row or CAD handle
        fid = "fid:" + gdf["_fid"][nameless].astype(str)
        if "source_ref" in gdf.columns:
            ref = as_text(gdf["source_ref"][nameless])
            fid = ref.where(ref.notna(), fid)
        ids = ids.copy()
        ids[nameless] = fid.to_numpy(dtype=object)
    attrs["feature_id"] = ids
    geoms = gdf.geometry.to_numpy()
    has_m = getattr(shapely, "has_m", None)  # shapely >= 2.1 keeps M values
    if shapely.has_z(geoms).any() or (has_m is not None and has_m(geoms).any()):
        geoms = shapely.force_2d(geoms)  # drops Z and M: geocheck measures in the plane
    unwrapped = unwrap_collections(geoms, spec.geometry)
    geoms = unwrapped.geoms
    if unwrapped.note(role):
        ledger.note(unwrapped.note(role))
    reasons = _geometry_problems(geoms, spec.geometry)
    mixed = np.flatnonzero(unwrapped.problems != "")
    mixed = mixed[[str(r).startswith("GeometryCollection") for r in reasons[mixed]]]
    reasons[mixed] = unwrapped.problems[mixed]
    if "source_problem" in gdf.columns:  # why the importer could not build a geometry
        problem = as_text(gdf["source_problem"]).to_numpy()
        use = (reasons == "no geometry") & pd.notna(problem)
        reasons[use] = "no geometry: " + problem[use].astype(str)
    if role == "estates":
        reasons = np.where((reasons == "") & ids.isna().to_numpy(), "no estate_id", reasons)
    bad = reasons != ""
    owners = as_text(attrs["estate_id"]) if "estate_id" in spec.fields else None
    _reject(ledger, role, attrs, bad, reasons[bad], geoms, owners, gdf.crs)
    keep = ~bad
    geoms, attrs = geoms[keep], attrs[keep]
    owners = None if owners is None else owners[keep]
    if POLYGON in spec.geometry:
        before = geoms
        geoms, repaired = _repair_polygons(geoms)
        for pos, area_before in repaired:
            after = shapely.area(geoms[int(pos)])
            change = abs(after - area_before) / max(area_before, after, 1e-300)
            if change > REPAIR_REPORT_SHARE:
                ledger.note(f"{role} {attrs['feature_id'].iloc[int(pos)]}: invalid geometry "
                            f"repaired with make_valid; its area changed by {change:.0%}")
        # make_valid leaves polygons, or an empty polygon where nothing polygonal was left
        is_poly = np.isin(shapely.get_type_id(geoms), list(_POLYGON_TYPES))
        unusable = is_poly & (shapely.is_empty(geoms) | (shapely.area(geoms) <= 0))
        _reject(ledger, role, attrs, unusable, "polygon with no area (after make_valid)", before,
                owners, gdf.crs)
        geoms, attrs = geoms[~unusable], attrs[~unusable]
        owners = None if owners is None else owners[~unusable]
    misfit = check_fit(geoms, gdf.crs, f"{path}: layer {role!r}")
    if misfit.any():
        lon, lat = feature_centres(geoms[misfit])
        area = gdf.crs.area_of_use
        reasons = [f"lies at ({a:.6g}, {b:.6g}) in {gdf.crs.to_string()}, outside that CRS's "
                   f"area of use ({area.name.rstrip('.')})" for a, b in zip(lon, lat, strict=True)]
        ledger.reject(role, attrs["feature_id"][misfit], reasons,  # where it is: unknown
                      estate_ids=None if owners is None else owners[misfit])
        geoms, attrs = geoms[~misfit], attrs[~misfit]
    return gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=geoms, crs=gdf.crs)


def _reject(ledger: Ledger, role: str, attrs: pd.DataFrame, bad: np.ndarray,
            reason: str | np.ndarray, geoms: np.ndarray, owners: pd.Series | None,
            crs: object) -> None:
    """Reject the features ``bad`` of a layer, with where they lie and the estate they name."""
    ledger.reject(role, attrs["feature_id"][bad], reason,
                  estate_ids=None if owners is None else owners[bad].to_numpy(),
                  places=envelopes(geoms[bad]), crs=crs)


def _parse_estates(estates: gpd.GeoDataFrame, path: Path, ledger: Ledger) -> gpd.GeoDataFrame:
    """Parse households, built and target_year; reject duplicate estate ids."""
    dup = estates["feature_id"].duplicated(keep=False)
    if dup.any():
        counts = estates.loc[dup, "feature_id"].map(estates["feature_id"].value_counts())
        ledger.reject("estates", estates.loc[dup, "feature_id"],
                      [f"duplicate estate_id ({n} features share it)" for n in counts])
        estates = estates.loc[~dup].reset_index(drop=True)
    estates["estate_id"] = estates["feature_id"]
    estates["name"] = as_text(estates["name"])
    estates["households"] = _parse_households(estates, path)
    built = as_text(estates["built"])
    parsed = pd.Series([None if v is None else BUILT_VALUES.get(v.lower()) for v in built],
                       index=built.index, dtype=object)
    unknown = built.notna() & parsed.isna()
    if unknown.any():
        i = np.flatnonzero(unknown)[0]
        raise InputError(f"{path}: layer 'estates', estate {estates['estate_id'].iloc[i]!r}: "
                         f"built = {built.iloc[i]!r} is not one of "
                         f"{', '.join(sorted(BUILT_VALUES))}")
    estates["built"] = parsed
    estates["target_year"] = _parse_target_year(estates, path)
    return estates


def _parse_households(estates: gpd.GeoDataFrame, path: Path) -> pd.Series:
    """Households as nullable integers.

    A value that is not a number, is negative, is not whole or is more than
    :data:`MAX_HOUSEHOLDS` is an error naming the estate and the value as written.
    """
    raw = estates["households"]
    text = raw.where(raw.notna(), None).map(
        lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else v)
    num = pd.to_numeric(text, errors="coerce").astype(float)
    problems = [
        (text.notna() & num.isna(), "is not a number"),
        (num < 0, "is negative"),
        (num.notna() & (num != num.round()), "is not a whole number"),
        (num > MAX_HOUSEHOLDS, f"is more than {MAX_HOUSEHOLDS:,}, not a plausible number of "
                               "households in one estate"),
    ]
    for bad, why in problems:
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise InputError(f"{path}: layer 'estates', estate "
                             f"{estates['estate_id'].iloc[i]!r}: households = "
                             f"{_plain(text.iloc[i])} {why}")
    return num.round().astype("Int64")


def _plain(value: object) -> str:
    """A cell as the user wrote it: text quoted, numbers plain (``-5``, ``2.5``, ``1e+12``)."""
    if isinstance(value, str):
        return repr(value)
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:g}"


def _parse_target_year(estates: gpd.GeoDataFrame, path: Path) -> pd.Series:
    """The year each estate is scheduled to be created, as nullable integers.

    ``2022``, ``2022.0``, ``"2022"`` and ``"2022年"`` (full-width digits too) are 2022; blank is
    missing. Anything else, or a year outside :data:`~geocheck.core.roles.TARGET_YEARS`, is an error
    naming the estate and the value.
    """
    def clean(v: object) -> object:
        if isinstance(v, str):
            v = unicodedata.normalize("NFKC", v).strip().removesuffix("年").strip()
            return v or None
        return None if pd.isna(v) else v

    raw = estates["target_year"].astype(object)
    given = raw.map(clean)
    num = pd.to_numeric(given, errors="coerce").astype(float)
    low, high = TARGET_YEARS
    bad = (given.notna() & num.isna()) | (num.notna() & ((num != num.round()) | (num < low)
                                                         | (num > high)))
    if bad.any():
        i = np.flatnonzero(bad)[0]
        v = raw.iloc[i]
        shown = repr(v) if isinstance(v, str) else str(v)
        raise InputError(f"{path}: layer 'estates', estate {estates['estate_id'].iloc[i]!r}: "
                         f"target_year = {shown} is not a year {low}-{high}")
    return num.round().astype("Int64")


def _note_duplicate_ids(gdf: gpd.GeoDataFrame, role: str, ledger: Ledger) -> gpd.GeoDataFrame:
    """Make ids unique by appending '#N', noting the duplicates."""
    dup = gdf["feature_id"].duplicated(keep=False)
    if dup.any():
        n = int(gdf.loc[dup, "feature_id"].nunique())
        ledger.note(f"{role}: {n} id value(s) shared by {int(dup.sum())} features; they are "
                    "named id#N in the findings")
        rank = gdf.groupby("feature_id").cumcount() + 1
        gdf.loc[dup, "feature_id"] = gdf.loc[dup, "feature_id"] + "#" + rank[dup].astype(str)
    return gdf


def _link_to_estates(gdf: gpd.GeoDataFrame, role: str, estates: gpd.GeoDataFrame,
                     ledger: Ledger) -> gpd.GeoDataFrame:
    """Set ``estate_pos`` from ``estate_id`` or, where it is missing, from location.

    Buildings without an estate_id belong to the estate containing their representative point;
    entrances to the nearest estate within :data:`ENTRANCE_SNAP_M`. A feature naming an
    estate_id that is not in the estates layer is rejected. A feature without an estate_id whose
    point lies in more than one (overlapping) estate belongs to none of them: it is recorded in
    the ledger as ambiguous, and the rules reading its layer are no data for those estates.
    """
    pos_of = pd.Series(np.arange(len(estates)), index=estates["estate_id"].to_numpy())
    eid = as_text(gdf["estate_id"])
    pos = eid.map(pos_of)
    unknown = eid.notna() & pos.isna()
    if unknown.any():
        ledger.reject(role, gdf.loc[unknown, "feature_id"],
                      [f"estate_id {v!r} is not in layer 'estates'" for v in eid[unknown]],
                      places=gdf.geometry.to_numpy()[unknown.to_numpy()], crs=gdf.crs)
        gdf, eid, pos = gdf.loc[~unknown], eid[~unknown], pos[~unknown]
    untagged = np.flatnonzero(eid.isna().to_numpy())
    pos = np.array(pos.to_numpy(dtype=float), copy=True)
    if len(untagged):
        tree = shapely.STRtree(estates.geometry.to_numpy())
        geoms = gdf.geometry.to_numpy()[untagged]
        inside = shapely.point_on_surface(geoms) if role != "entrances" else geoms
        src, dst = tree.query(inside, predicate="within")
        claims = np.bincount(src, minlength=len(untagged))
        if role == "entrances":
            src, dst = tree.query_nearest(geoms, max_distance=ENTRANCE_SNAP_M, all_matches=False)
        first = np.unique(src, return_index=True)[1]  # one estate each (ties: the first)
        pos[untagged[src[first]]] = dst[first]
        many = np.flatnonzero(claims > 1)
        if len(many):  # in several overlapping estates: in none of them, and noted
            s2, d2 = tree.query(inside[many], predicate="within")
            ids = estates["estate_id"].to_numpy()
            note_ambiguous(ledger, role, gdf["feature_id"].to_numpy()[untagged[many]],
                           ["; ".join(sorted(map(str, ids[d2[s2 == k]])))
                            for k in range(len(many))])
            pos[untagged[many]] = np.nan
        if role == "entrances":
            ledger.note(f"entrances: {len(first)} without estate_id assigned to the nearest "
                        f"estate within {ENTRANCE_SNAP_M:g} m")
            far = untagged[np.setdiff1d(np.arange(len(untagged)), src)]
            if len(far):
                ledger.reject(role, gdf["feature_id"].iloc[far],
                              f"no estate_id and no estate boundary within {ENTRANCE_SNAP_M:g} m",
                              places=gdf.geometry.to_numpy()[far], crs=gdf.crs)
                keep = np.ones(len(gdf), bool)
                keep[far] = False
                gdf, pos = gdf.loc[keep], pos[keep]
    gdf = gdf.copy()
    gdf["estate_pos"] = np.nan_to_num(pos, nan=-1).astype("int64")
    return gdf.reset_index(drop=True)


def normalise(raw: RawLayers, *, fields: FieldMap | None = None,
              dst_crs: CRS | str | int | None = None) -> Site:
    """Turn raw layers into a :class:`Site` in a working CRS in metres.

    Parameters
    ----------
    raw : layers as read by :func:`geocheck.inputs.read.read_layers`.
    fields : mapping of geocheck's field names onto the layers' names.
    dst_crs : working CRS to use instead of the automatic choice (projected, metres).

    Returns
    -------
    Site
        Estates and other layers reprojected to the working CRS, with rejects in its ledger.
    """
    fields = fields or FieldMap()
    ledger = Ledger()
    for name, count in raw.ignored.items():
        ledger.note(f"layer {name!r} ({count} features) is not a geocheck role and was ignored")
    conversions = _note_sources(raw.sources, ledger)
    cleaned = {role: _clean_layer(gdf, role, fields, raw.path_of(role), ledger)
               for role, gdf in raw.layers.items()}
    for note in raw.notes:  # complete once every layer is read (they may arrive as cleaned)
        ledger.note(note)
    estates = _parse_estates(cleaned.pop("estates"), raw.path_of("estates"), ledger)
    if estates.empty:
        reasons = ledger.rejects_frame().query("layer == 'estates'")["reason"].value_counts()
        why = "; ".join(f"{n} x {r}" for r, n in reasons.items()) or "the layer is empty"
        raise InputError(f"{raw.path_of('estates')}: layer 'estates' has no usable feature "
                         f"({why})")
    extent = lonlat_bounds(tuple(estates.total_bounds), estates.crs)
    crs = choose_working_crs(extent, dst_crs)
    estates = estates.to_crs(crs)
    overlaps = estate_overlaps(estates, ledger)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for role, gdf in cleaned.items():
        gdf = _note_duplicate_ids(gdf.to_crs(crs), role, ledger)
        if role in ("buildings", "entrances"):
            gdf = _link_to_estates(gdf, role, estates, ledger)
        if role == "buildings":
            use = as_text(gdf["use"])
            gdf["use"] = use.fillna("residential")
            codes, uses = pd.factorize(use.to_numpy(dtype=object))  # None: code -1
            residential = [u.lower() in RESIDENTIAL_VALUES for u in uses] + [True]
            gdf["residential"] = np.array(residential, dtype=bool)[codes]  # bool when empty too
            read_storeys(gdf, ledger, label_floors=_floors_from_label(raw, fields))
        for text in ("name", "kind"):
            if text in gdf.columns and text in ROLES[role].fields:
                gdf[text] = as_text(gdf[text])
        layers[role] = gdf
    if "green_space" in layers:
        green_in_overlaps(layers["green_space"], estates, overlaps, ledger)
    _check_layers_near(estates, layers, raw.path, ledger)
    reproject_places(ledger, crs)
    return Site(estates=estates, layers=layers, crs=crs, source=raw.path, ledger=ledger,
                conversions=conversions)


def _blank(gdf: pd.DataFrame, column: str) -> bool:
    """Whether the layer lacks ``column`` or has it with no value at all (an importer's
    placeholder), so that the field's other names are tried."""
    return column not in gdf.columns or bool(gdf[column].isna().all())


def _floors_from_label(raw: RawLayers, fields: FieldMap) -> bool:
    """Whether the buildings' floors are read from their CAD label (``cad_text``)."""
    src = fields.source("buildings", "floors")
    gdf = raw.layers["buildings"]
    if src != "floors" or not _blank(gdf, src):
        return src == "cad_text"
    return next((a for a in FIELD_ALIASES[("buildings", "floors")] if a in gdf.columns),
                None) == "cad_text"


def _note_sources(sources: pd.DataFrame, ledger: Ledger) -> dict[str, str]:
    """Note where imported layers came from; return role -> conversion applied (if any)."""
    conversions: dict[str, str] = {}
    for rec in sources.to_dict("records"):
        role, conv = str(rec.get("role", "")), str(rec.get("converted") or "")
        what = f"{role}: read from {rec.get('source', '?')}"
        if conv:
            conversions[role] = conv
            what += f", coordinates converted {conv}"
        extra = str(rec.get("notes") or "")
        ledger.note(what + (f" ({extra})" if extra and extra != "nan" else ""))
    return conversions


FAR_KM = 50.0


def _check_layers_near(estates: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame],
                       path: Path, ledger: Ledger) -> None:
    """Note layers that lie far from every estate: usually a wrong CRS or offset coordinates."""
    box = shapely.box(*estates.total_bounds)
    for role, gdf in layers.items():
        if gdf.empty:
            continue
        gap = shapely.distance(box, shapely.box(*gdf.total_bounds)) / 1000
        if gap > FAR_KM:
            ledger.note(f"{path}: layer {role!r} lies {gap:.0f} km from the estates; check its "
                        "CRS (measured distances to it will be large)")
