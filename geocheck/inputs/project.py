"""A project file (TOML) names each role's source file and how to read it, so a planner can run
``geocheck check project.toml`` on their own files without converting them first.

Example::

    pack = "guangxi"                 # optional (an id, or a .toml beside this file); --pack wins
    dst_crs = "EPSG:4545"            # optional working CRS
    attributes = "指标填报表.xlsx"    # optional attributes sheet; --attributes wins
    distance = "walk"                # optional: distance rules on foot; --distance wins

    [conditions]                     # optional planning conditions (规划条件); --conditions wins
    "容积率" = 2.5                   # TOML quotes keys that are not ASCII
    "绿地率" = "30%"

    [layers.estates]
    path = "小区范围.shp"            # relative to this file
    encoding = "gbk"                 # a shapefile without .cpg
    fields = { estate_id = "小区编号", households = "户数" }

    [layers.bus_stops]
    path = "公交站点.xlsx"
    sheet = "站点"
    coords = "gcj02"                 # copied from Amap: converted to WGS 84
    x_field = "经度"
    y_field = "纬度"

    [layers.buildings]
    path = "总平面图.dxf"
    cad_layers = ["建筑"]
    src_crs = "EPSG:4545"

    [layers.green_space]
    path = "postgresql://planner@db.example/plan"   # a PostGIS table (password: PGPASSWORD
    table = "greening.parks_2024"                   # or ~/.pgpass); SRID gives the CRS
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.conditions import Condition
from ..core.database import DatabaseSource, is_database_url
from ..core.errors import InputError
from ..core.roles import ROLES
from ..core.units import DISTANCE_READINGS
from .conditions import conditions_table
from .read import RawLayers, check_local_file
from .sources import Source, load_source

LAYER_KEYS = {"path", "layer", "sheet", "src_crs", "coords", "encoding", "x_field", "y_field",
              "cad_layers", "fields", "table"}
TOP_KEYS = {"pack", "dst_crs", "layers", "title", "attributes", "distance", "conditions"}


@dataclass
class Project:
    """A parsed project file.

    Attributes
    ----------
    path : the project file.
    sources : one :class:`~geocheck.inputs.sources.Source` per role.
    pack : the pack named in the file (None: the command line's or the default).
    dst_crs : the working CRS named in the file, if any.
    attributes : the attributes sheet named in the file (relative to it), if any.
    distance : how distance rules are read, ``"radius"`` or ``"walk"``, if the file says.
    conditions : the plot's planning conditions (规划条件) from its ``[conditions]`` table
        (see :mod:`geocheck.inputs.conditions`); empty when it has none.
    """

    path: Path
    sources: list[Source]
    pack: str | None = None
    dst_crs: str | None = None
    attributes: Path | None = None
    distance: str | None = None
    conditions: list[Condition] = field(default_factory=list)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where} must be a non-empty text")
    return value


def parse_project(path: str | Path) -> Project:
    """Parse a project file; every path is taken relative to the file's folder.

    Raises
    ------
    InputError
        For TOML syntax errors, unknown keys or roles, and values of the wrong type, naming the
        file and the key.
    """
    p = check_local_file(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a valid TOML project file ({exc})") from None
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise InputError(f"{p}: unknown key(s) {', '.join(sorted(unknown))}; a project has "
                         f"{', '.join(sorted(TOP_KEYS))}")
    layers = doc.get("layers")
    if not isinstance(layers, dict) or not layers:
        raise InputError(f"{p}: no [layers.ROLE] tables; name at least [layers.estates]")
    sources = []
    for role, spec in layers.items():
        where = f"{p}: [layers.{role}]"
        if role not in ROLES:
            raise InputError(f"{where}: {role!r} is not a role; roles are: {', '.join(ROLES)}")
        if not isinstance(spec, dict):
            raise InputError(f"{where} must be a table with at least path = \"...\"")
        bad = set(spec) - LAYER_KEYS
        if bad:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(bad))}; keys are: "
                             f"{', '.join(sorted(LAYER_KEYS))}")
        if "path" not in spec:
            raise InputError(f"{where}: no path")
        text = _text(spec["path"], f"{where} path")
        url = text if is_database_url(text) else None
        table = spec.get("table")
        if table is not None:
            table = _text(table, f"{where} table")
            if url is None:
                raise InputError(f"{where}: table is for a database path "
                                 "(postgresql://...); for a file give layer")
        src_path = DatabaseSource(text) if url else Path(text)
        if url is None and not src_path.is_absolute():
            src_path = p.parent / src_path
        fields = spec.get("fields", {})
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise InputError(f"{where}: fields must be a table of FIELD = \"SOURCE FIELD\"")
        cad = spec.get("cad_layers", [])
        if isinstance(cad, str):
            cad = [cad]
        if not isinstance(cad, list) or not all(isinstance(c, str) for c in cad):
            raise InputError(f"{where}: cad_layers must be a list of CAD layer names")
        if "layer" in spec and "sheet" in spec:
            raise InputError(f"{where}: give layer or sheet, not both")
        opt = {k: _text(spec[k], f"{where} {k}") for k in
               ("src_crs", "coords", "encoding", "x_field", "y_field") if k in spec}
        layer = spec.get("layer", spec.get("sheet"))
        sources.append(Source(path=src_path, role=role, url=url, table=table,  # type: ignore[arg-type]
                              layer=None if layer is None else _text(layer, f"{where} layer"),
                              cad_layers=tuple(cad),
                              fields=tuple(f"{k}={v}" for k, v in fields.items()), **opt))
    if "estates" not in layers:
        raise InputError(f"{p}: no [layers.estates]; geocheck judges estates")
    pack = doc.get("pack")
    dst = doc.get("dst_crs")
    sheet = doc.get("attributes")
    distance = doc.get("distance")
    if distance is not None and distance not in DISTANCE_READINGS:
        raise InputError(f"{p}: distance = {distance!r} is not one of "
                         f"{', '.join(DISTANCE_READINGS)}")
    if pack is not None:
        pack = _text(pack, f"{p}: pack")
        if pack.endswith(".toml") or "/" in pack or "\\" in pack:  # a pack file beside it
            pack = str(p.parent / pack)
    conds = doc.get("conditions", {})
    if not isinstance(conds, dict):
        raise InputError(f"{p}: conditions must be a table ([conditions] with key = value)")
    return Project(p, sources, pack,
                   None if dst is None else _text(dst, f"{p}: dst_crs"),
                   None if sheet is None else p.parent / _text(sheet, f"{p}: attributes"),
                   distance, conditions_table(conds, p.name, f"{p}: [conditions]"))


def read_project(project: Project) -> RawLayers:
    """Read every source of a project into raw role layers, with their provenance."""
    layers, paths, records = {}, {}, []
    for src in project.sources:
        loaded = load_source(src)
        frame = loaded.frame
        if "_fid" not in frame.columns:
            frame["_fid"] = np.arange(1, len(frame) + 1)
        layers[src.role], paths[src.role] = frame, src.path
        records.append(loaded.record)
    return RawLayers(project.path, layers, {}, pd.DataFrame(records), paths)
