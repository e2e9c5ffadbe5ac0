"""The entities of a DXF's mapped CAD layers turned into role features.

See :mod:`geocheck.inputs.dxf` for what becomes what.
"""


from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from ...core.errors import CRSError, InputError
from ...core.roles import LINE, POINT, POLYGON, ROLES
from ..gdal_guard import check_local_file
from .drawing import Drawing, count_layers, open_drawing, read_entities, refuse_dwg, unescape

CLOSE_TOLERANCE = 0.001
"""Distance (m) within which an open polyline's last vertex counts as back on its first."""

LABEL_DISTANCE = 20.0
"""Distance (m) within which a text may label its nearest point feature."""

SAME_OUTLINE_SHARE = 1e-6
"""Two polygons of one role whose symmetric difference is at most this share of the larger area
are one outline drawn twice (typically a HATCH over its boundary polyline); the later is kept
without geometry."""

NO_SRC_CRS = ("a DXF has no coordinate reference system: give --src-crs, e.g. EPSG:4545 for "
              "CGCS2000 3-degree zone CM 108E")

_INSUNITS = {1: "inches", 2: "feet", 4: "millimetres", 5: "centimetres", 8: "microinches",
             9: "mils", 10: "yards", 14: "decimetres"}

_POINTLIKE = frozenset({"point", "block insert", "circle"})


@dataclass
class DxfImport:
    """What :func:`read_dxf` took from a DXF site plan.

    Attributes
    ----------
    layers : role name -> GeoDataFrame in ``src_crs`` (coordinates as drawn, metres for the
        CGCS2000 Gauss-Kruger CRSs). Columns: the role's fields (core.roles.ROLES; ids are
        ``DXF-<handle>``, an estate's id is its name when that is unique), ``cad_text`` for roles
        without ``name``, ``cad_layer``, ``cad_handle``, ``cad_entity`` (e.g. ``"polyline"``,
        ``"hatch"``, ``"block insert"``) and ``source_problem`` (None, or why the row has no
        geometry). Rows are in file order.
    counts : role name -> rows in its frame: CAD entities taken, unusable ones (geometry None)
        included; texts used as labels are not rows.
    notes : one line each: the encoding used, per-role tallies, anything else worth knowing.
    cad_layers : every CAD layer in the file (its layer table, then layers only entities name),
        with the name as stored -> number of entities on it (model and paper space).
    """

    layers: dict[str, gpd.GeoDataFrame]
    counts: dict[str, int]
    notes: list[str]
    cad_layers: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Mapping and CRS


def _parse_crs(src_crs: str | CRS | None, p: Path) -> CRS:
    if src_crs is None or (isinstance(src_crs, str) and not src_crs.strip()):
        raise CRSError(f"{p}: {NO_SRC_CRS}")
    try:
        return CRS.from_user_input(src_crs)
    except ProjCRSError:
        raise CRSError(f"{p}: --src-crs {src_crs!r} is not a CRS pyproj knows") from None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _resolve(mapping: dict[str, str], cad_layers: dict[str, int], p: Path) -> dict[str, str]:
    """Stored CAD layer name -> role (roles already checked). Names match ignoring case, as
    AutoCAD matches them."""
    listing = ", ".join(repr(n) for n in list(cad_layers)[:200]) + (
        f" ... ({len(cad_layers)} in all)" if len(cad_layers) > 200 else "")
    if not mapping:
        raise InputError(f"{p}: no CAD layer is mapped to a geocheck role; the file's layers "
                         f"are: {listing}")
    by_case: dict[str, list[str]] = {}
    for name in cad_layers:
        by_case.setdefault(name.casefold(), []).append(name)
    out: dict[str, str] = {}
    for cad, role in mapping.items():
        names = by_case.get(cad.casefold())
        if not names:
            near = [n for n in cad_layers if _fold(n) == _fold(cad)]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputError(f"{p}: CAD layer {cad!r} is not in the file{hint}; its layers "
                             f"are: {listing}")
        for name in names:
            if out.get(name, role) != role:
                raise InputError(f"{p}: CAD layer {name!r} is mapped to both {out[name]!r} "
                                 f"and {role!r}")
            out[name] = role
    return out


# ---------------------------------------------------------------------------------------------
# Building the role frames


@dataclass
class _Role:
    """One role's rows while they are built; positions index the role's entities."""

    name: str
    rows: pd.DataFrame  # the role's model-space entities, file order
    geom: np.ndarray  # feature geometry or None
    problem: np.ndarray  # reason text or None
    label: np.ndarray  # label text or None
    used: np.ndarray  # bool: a text used as a label


def _problem_reason(kind: str, closed: bool, gap: float, want: frozenset[str]) -> str:
    need = {frozenset({POLYGON}): "not a closed boundary",
            frozenset({POINT}): "not a point, block insert or circle",
            frozenset({LINE}): "not a line, polyline or arc",
            }.get(want, "neither a closed boundary nor a point, block insert or circle")
    if kind in ("polyline", "spline", "ellipse"):
        if closed:
            return f"closed {kind}, {need}"
        ends = f" (its ends are {gap:.3g} m apart)" if gap > 0 else ""
        return f"open {kind}, {need}{ends}"
    return f"{kind}, {need}"


def _features(rows: pd.DataFrame, want: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Feature geometries (None where the entity is unusable) and the reasons for the rest."""
    geoms = rows["geom"].to_numpy(dtype=object)
    kind = rows["kind"].to_numpy(dtype=object)
    gtype = shapely.get_type_id(geoms)
    gap = shapely.distance(shapely.get_point(geoms, 0), shapely.get_point(geoms, -1))
    closed = (gtype == 1) & (shapely.get_num_points(geoms) >= 4) & (gap <= CLOSE_TOLERANCE)
    poly = np.full(len(geoms), None, dtype=object)
    if closed.any():
        coords, index = shapely.get_coordinates(geoms[closed], return_index=True)
        poly[closed] = shapely.polygons(shapely.linearrings(coords, indices=index))
    polygonal = np.isin(gtype, [3, 6])
    poly[polygonal] = geoms[polygonal]
    point = np.where(np.isin(kind, ["point", "block insert"]) & (gtype == 0), geoms, None)
    circle = (kind == "circle") & closed
    point[circle] = shapely.centroid(poly[circle])
    out = np.full(len(geoms), None, dtype=object)
    if POINT in want:
        out = np.where(np.isin(kind, list(_POINTLIKE)), point, out)
    if POLYGON in want:
        out = np.where(pd.isna(out), poly, out)
    if LINE in want:  # lines, arcs and polylines, open or closed, as drawn
        linear = np.isin(gtype, [1, 5]) & ~np.isin(kind, list(_POINTLIKE - {"circle"}))
        out = np.where(pd.isna(out) & linear, geoms, out)
    composite = rows["composite"].to_numpy()
    out[composite | (kind == "text")] = None
    reasons = np.full(len(geoms), None, dtype=object)
    for i in np.flatnonzero(pd.isna(out) & (kind != "text")):
        if composite[i]:
            reasons[i] = f"part of a dimension or other composite entity ({kind[i]})"
        elif geoms[i] is None:
            reasons[i] = f"{kind[i]} that GDAL could not turn into a geometry"
        else:
            reasons[i] = _problem_reason(str(kind[i]), bool(closed[i]), float(gap[i]), want)
    return out, reasons


def _entity_ref(layer: str, handle: object, pos: int) -> str:
    ref = f"entity handle {handle}" if handle is not None else f"entity #{pos + 1}"
    return f"CAD layer {layer}, {ref}"


def _feature_id(handle: object, pos: int) -> str:
    return f"DXF-{handle}" if handle is not None else f"DXF-#{pos + 1}"


def _drop_same_outlines(role: _Role) -> None:
    """Keep one of each outline drawn twice in a role (e.g. a hatch over its boundary)."""
    idx = np.flatnonzero(np.isin(shapely.get_type_id(role.geom), [3, 6]))
    if len(idx) < 2:
        return
    polys = role.geom[idx]
    a, b = shapely.STRtree(polys).query(polys, predicate="intersects")
    area, valid = shapely.area(polys), shapely.is_valid(polys)
    big = np.maximum(area[a], area[b])
    # cheap tests first; overlay only valid pairs (a bow-tie polyline would make GEOS raise)
    keep = (a < b) & (np.abs(area[a] - area[b]) <= SAME_OUTLINE_SHARE * big) & valid[a] & valid[b]
    a, b, big = a[keep], b[keep], big[keep]
    sym = shapely.area(shapely.symmetric_difference(polys[a], polys[b]))
    same = sym <= SAME_OUTLINE_SHARE * big
    rows = role.rows
    for i, j in zip(idx[a[same]], idx[b[same]], strict=True):
        if role.geom[i] is None or role.geom[j] is None:
            continue
        role.geom[j] = None
        role.problem[j] = (f"same outline as {rows['kind'].iat[i]} "
                           f"{_feature_id(rows['handle'].iat[i], rows['pos'].iat[i])} "
                           f"(drawn twice); kept once")


def _assign_labels(role: _Role, want: frozenset[str]) -> None:
    """Give each feature the only text inside it (polygons) or nearest to it (points)."""
    rows = role.rows
    texts = np.flatnonzero(rows["kind"].to_numpy() == "text")
    value = rows["text"].to_numpy(dtype=object)
    attr = rows["attr_name"].to_numpy(dtype=object)
    has_attr = pd.notna(attr) & pd.notna(role.geom)
    role.label = np.where(has_attr, attr, None)
    gtype = shapely.get_type_id(role.geom)
    polys = np.flatnonzero(np.isin(gtype, [3, 6]))
    points = np.flatnonzero(np.isin(gtype, [0, 1, 5]))  # points and lines: the nearest text
    ids = [_feature_id(h, p) for h, p in zip(rows["handle"], rows["pos"], strict=True)]
    for t in texts[pd.isna(value[texts])]:
        role.problem[t] = "empty text"
    texts = texts[pd.notna(value[texts])]
    text_pts = rows["geom"].to_numpy(dtype=object)
    owner = np.full(len(rows), -1)
    if len(texts) and len(polys):
        ti, pj = shapely.STRtree(role.geom[polys]).query(text_pts[texts], predicate="within")
        owner[texts[ti]] = polys[pj]  # a text inside nested polygons goes to one of them
    loose = texts[owner[texts] < 0]
    if len(loose) and len(points):
        ti, pj = shapely.STRtree(role.geom[points]).query_nearest(
            text_pts[loose], max_distance=LABEL_DISTANCE, all_matches=False)
        owner[loose[ti]] = points[pj]
    per_owner = np.bincount(owner[texts][owner[texts] >= 0], minlength=len(rows))
    nowhere = " and ".join(
        ([f"inside no {role.name} boundary"] if POLYGON in want else [])
        + ([f"within {LABEL_DISTANCE:g} m of no {role.name} point"] if POINT in want else [])
        + ([f"within {LABEL_DISTANCE:g} m of no {role.name} line"] if LINE in want else []))
    for t in texts:
        o, text = owner[t], value[t]
        if o < 0:
            role.problem[t] = f"text {text!r} lies {nowhere}"
            continue
        where = "inside" if gtype[o] in (3, 6) else "nearest to"
        if has_attr[o]:
            if text == attr[o]:
                role.used[t] = True
            else:
                role.problem[t] = (f"text {text!r} is {where} {role.name} feature {ids[o]}, "
                                   f"which its block attribute already names {attr[o]!r}")
        elif per_owner[o] == 1:
            role.label[o], role.used[t] = text, True
        else:
            role.problem[t] = (f"text {text!r} is one of {per_owner[o]} texts {where} "
                               f"{role.name} feature {ids[o]}, so none labels it")


def _frame(role: _Role, crs: CRS) -> gpd.GeoDataFrame:
    """The role's GeoDataFrame: features and unusable entities, texts used as labels left out."""
    spec = ROLES[role.name]
    rows = role.rows
    keep = ~role.used
    # one problem row per composite entity (a dimension's parts share its handle)
    part = rows["composite"].to_numpy() & pd.isna(role.geom)
    keep &= ~(part & rows.duplicated(["layer", "handle"]).to_numpy())
    sub = rows[keep]
    ids = np.array([_feature_id(h, p) for h, p in zip(sub["handle"], sub["pos"], strict=True)],
                   dtype=object)
    label = role.label[keep]
    data: dict[str, object] = {f: np.full(len(sub), None, dtype=object) for f in spec.fields}
    data[spec.id_field] = ids
    if "name" in spec.fields:
        data["name"] = label
    else:
        data["cad_text"] = label
    if role.name == "estates":
        names = pd.Series(label, dtype=object)
        unique = names.notna() & ~names.duplicated(keep=False)
        data["estate_id"] = np.where(unique.to_numpy(), label, ids)
    refs = [_entity_ref(lay, h, p) for lay, h, p in zip(sub["layer"], sub["handle"], sub["pos"],
                                                        strict=True)]
    problem = [None if r is None else f"{ref}: {r}" for ref, r in
               zip(refs, role.problem[keep], strict=True)]
    data.update({"cad_layer": sub["layer"].to_numpy(dtype=object),
                 "cad_handle": sub["handle"].to_numpy(dtype=object),
                 "cad_entity": sub["kind"].to_numpy(dtype=object),
                 "source_problem": np.array(problem, dtype=object)})
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=list(role.geom[keep]), crs=crs)


def _n(n: int, noun: str) -> str:
    """``1 text``, ``2 texts``, ``2 entities``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _need(want: frozenset[str]) -> str:
    return {frozenset({POLYGON}): "closed polylines, circles or hatches",
            frozenset({POINT}): "points, block inserts or circles",
            frozenset({LINE}): "lines, polylines or arcs"}.get(
        want, "points, block inserts, circles, closed polylines or hatches")


def _check_usable(roles: dict[str, _Role], layer_role: dict[str, str], ents: pd.DataFrame,
                  src: Drawing) -> None:
    """Raise InputError for a mapped CAD layer none of whose entities could be used."""
    usable: dict[str, int] = dict.fromkeys(layer_role, 0)
    for role in roles.values():
        good = pd.notna(role.geom) | role.used
        for layer, n in role.rows.loc[good, "layer"].value_counts().items():
            usable[str(layer)] += int(n)
    for layer, n in usable.items():
        if n:
            continue
        role = layer_role[layer]
        on = ents[ents["layer"] == layer]
        model = on[~on["paper"]]
        paper = f"; {int(on['paper'].sum())} in paper space" if on["paper"].any() else ""
        if model.empty:
            raise InputError(f"{src.path}: CAD layer {layer!r} (mapped to {role}) has no "
                             f"entities in model space{paper}{_in_blocks(src, layer)}")
        once = model[~(model["handle"].notna() & model.duplicated(["handle"]))]
        kinds = once["kind"].where(~once["composite"], "dimension part").value_counts()
        have = ", ".join(_n(int(n), str(k)) for k, n in kinds.items())
        raise InputError(f"{src.path}: CAD layer {layer!r} (mapped to {role}) has no usable "
                         f"entity: {have} ({role} needs {_need(frozenset(ROLES[role].geometry))}"
                         f"){paper}")


def _in_blocks(src: Drawing, layer: str) -> str:
    """A hint when the layer's entities sit inside block definitions (an unexploded plan)."""
    opts = {"INLINE_BLOCKS": "FALSE", "MERGE_BLOCK_GEOMETRIES": "FALSE",
            "ENCODING": src.gdal_encoding}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blocks = pyogrio.read_dataframe(src.path, layer="blocks", columns=["Layer"],
                                            read_geometry=False, **opts)
    except Exception:  # the hint is optional
        return ""
    n = int((blocks["Layer"].fillna("").map(unescape) == layer).sum())
    return (f"; {_n(n, 'entity')} on it {'lies' if n == 1 else 'lie'} inside block "
            "definitions, which geocheck does not read (explode the blocks in CAD)") if n else ""


def _check_crs_fits(crs: CRS, frames: dict[str, gpd.GeoDataFrame], p: Path) -> None:
    if not crs.is_geographic:
        return
    geoms = np.concatenate([f.geometry.to_numpy() for f in frames.values()])
    geoms = geoms[pd.notna(geoms)]
    if not len(geoms):
        return
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90:
        raise CRSError(f"{p}: --src-crs {crs.name} is geographic (degrees) but the plan's "
                       f"coordinates reach x {max(abs(x0), abs(x1)):.0f}, "
                       f"y {max(abs(y0), abs(y1)):.0f}, which are metres; give the projected "
                       "CRS it was drawn in, e.g. EPSG:4545 for CGCS2000 3-degree zone CM 108E")


def _name_hint(frame: gpd.GeoDataFrame, ents: pd.DataFrame, layer_role: dict[str, str]) -> str:
    """Where estate names may be: unmapped layers with texts inside the estates."""
    polys = frame.geometry.to_numpy()
    polys = polys[pd.notna(polys)]
    texts = ents[(ents["kind"] == "text") & ~ents["paper"]
                 & ~ents["layer"].isin(list(layer_role))]
    if not len(polys) or texts.empty:
        return ""
    ti, _ = shapely.STRtree(polys).query(texts["geom"].to_numpy(), predicate="within")
    layers = texts["layer"].iloc[np.unique(ti)].value_counts()
    if layers.empty:
        return ""
    where = ", ".join(f"{name!r} ({n} text{'s' if n > 1 else ''})" for name, n in layers.items())
    return (f"; texts inside the estate boundaries are on unmapped CAD layer(s) {where}: "
            "map one to estates to name them")


def read_dxf(path: str | Path, mapping: dict[str, str], src_crs: str | CRS | None, *,
             encoding: str | None = None) -> DxfImport:
    """Read the mapped CAD layers of a DXF site plan into geocheck role layers.

    Parameters
    ----------
    path : an ASCII (or binary) DXF file; a DWG, or a DWG renamed .dxf, is refused.
    mapping : CAD layer name -> geocheck role, e.g. ``{"用地红线": "estates", "建筑":
        "buildings", "小区名称": "estates"}``; several CAD layers may map to one role. Names
        match ignoring case, as in AutoCAD. Texts on a layer mapped to a role label that role's
        features (see the module docstring).
    src_crs : the CRS the plan is drawn in, e.g. ``"EPSG:4545"`` (CGCS2000 3-degree
        Gauss-Kruger CM 108E, metres). Required: a DXF has none.
    encoding : the text encoding to read the file with (a Python codec name such as ``gbk``);
        by default it follows the DXF version and ``$DWGCODEPAGE``.

    Returns
    -------
    DxfImport
        One GeoDataFrame per mapped role in ``src_crs`` (coordinates as drawn, in metres for a
        projected CRS in metres), with unusable entities kept as rows without geometry.

    Raises
    ------
    InputError
        For a DWG, an unreadable or wrongly encoded file, an unknown role, a mapped CAD layer
        that is not in the file or has no usable entity; :class:`CRSError` (an InputError) for a
        missing or unknown ``src_crs``, or a geographic one while the plan is drawn in metres.
    """
    p = check_local_file(path)
    refuse_dwg(p)
    for cad, role in mapping.items():
        if role not in ROLES:
            raise InputError(f"{p}: {role!r} (mapped from CAD layer {cad!r}) is not a geocheck "
                             f"role; roles are: {', '.join(ROLES)}")
    crs = _parse_crs(src_crs, p)
    src = open_drawing(p, encoding)
    ents, gdal_notes = read_entities(src)
    ents["pos"] = np.arange(len(ents))
    cad_layers = count_layers(src, ents)
    layer_role = _resolve(mapping, cad_layers, p)
    notes = [*src.notes, *gdal_notes]
    if src.insunits in _INSUNITS:
        notes.append(f"the drawing's units ($INSUNITS) are {_INSUNITS[src.insunits]}; "
                     f"coordinates are taken as they stand, in the units of {crs.name}")
    roles: dict[str, _Role] = {}
    for role_name in dict.fromkeys(mapping.values()):
        mine = ents["layer"].map(layer_role).eq(role_name).to_numpy()
        paper = mine & ents["paper"].to_numpy()
        for layer, n in ents.loc[paper, "layer"].value_counts().items():
            notes.append(f"CAD layer {layer}: {_n(int(n), 'paper-space entity')} ignored "
                         "(geocheck reads model space)")
        rows = ents[mine & ~ents["paper"].to_numpy()].reset_index(drop=True)
        want = frozenset(ROLES[role_name].geometry)
        geom, problem = _features(rows, want)
        role = _Role(role_name, rows, geom, problem, np.full(len(rows), None, dtype=object),
                     np.zeros(len(rows), dtype=bool))
        _drop_same_outlines(role)
        _assign_labels(role, want)
        roles[role_name] = role
    _check_usable(roles, layer_role, ents, src)
    layers = {name: _frame(role, crs) for name, role in roles.items()}
    _check_crs_fits(crs, layers, p)
    for name, frame in layers.items():
        bad = int(frame.geometry.isna().sum())
        used = int(roles[name].used.sum())
        line = (f"{name}: {_n(len(frame) - bad, 'feature')}, {_n(bad, 'unusable entity')} "
                f"kept without geometry, {_n(used, 'text')} used as labels")
        if name == "estates" and frame["name"].isna().all():
            line += "; no estate got a name" + _name_hint(frame, ents, layer_role)
        notes.append(line)
    return DxfImport(layers=layers, counts={n: len(f) for n, f in layers.items()}, notes=notes,
                     cad_layers=cad_layers)
