"""``geocheck import``: turn OpenStreetMap extracts, planners' files and CAD site plans into the
GeoPackage of role layers that ``geocheck check`` reads, with the provenance of each layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from ..core.errors import CRSError, InputError
from ..core.roles import ROLES
from .dxf import DWG_ADVICE, list_dxf_layers, read_dxf
from .households import join_households
from .osm import read_osm
from .read import check_local_file
from .sources import (
    Loaded,
    Source,
    load_source,
    place,
    read_table,
    write_role,
)


@dataclass
class ImportReport:
    """What an import wrote.

    Attributes
    ----------
    out : the GeoPackage written.
    counts : role -> (features written, features without a usable geometry).
    notes : messages for the user.
    """

    out: Path
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A readable account for the terminal."""
        out = [f"wrote {self.out}"]
        for role, (n, bad) in self.counts.items():
            extra = f" ({bad} without usable geometry: listed as rejects by check)" if bad else ""
            out.append(f"  {role:15} {n:6} features{extra}")
        out += [f"  note: {n}" for n in self.notes]
        return out


def _bad_geometries(loaded: Loaded) -> int:
    geoms = loaded.frame.geometry.to_numpy()
    return int((shapely.is_missing(geoms) | shapely.is_empty(geoms)).sum())


def _write(report: ImportReport, loaded: Loaded) -> None:
    write_role(loaded, report.out)
    report.counts[loaded.record["role"]] = (len(loaded.frame), _bad_geometries(loaded))
    report.notes += [n for n in loaded.notes if n not in report.notes]


def import_file(source: Source, out: str | Path) -> ImportReport:
    """Read one role layer from ``source`` and write (or replace) it in GeoPackage ``out``."""
    report = ImportReport(Path(out))
    _write(report, load_source(source))
    return report


def import_dxf(path: str | Path, mapping: Mapping[str, str], src_crs: str | None,
               out: str | Path) -> ImportReport:
    """Read CAD layers of a DXF site plan into role layers of GeoPackage ``out``.

    Parameters
    ----------
    mapping : CAD layer name -> role, e.g. ``{"用地红线": "estates", "建筑": "buildings"}``.
    src_crs : the CRS of the drawing's coordinates (a DXF has none of its own).
    """
    if not mapping:
        p = check_local_file(path)
        if p.suffix.lower() == ".dxf":
            have = ", ".join(f"{k} ({v})" for k, v in list_dxf_layers(p).items())
            raise InputError(f"{p}: say which CAD layers hold which role with --map "
                             f"LAYER=ROLE; the file's layers (entities) are: {have}")
    p = check_local_file(path)
    if p.suffix.lower() == ".dwg":
        raise InputError(f"{p}: {DWG_ADVICE}")
    if not src_crs:
        raise CRSError(f"{p}: a DXF has no coordinate reference system: give --src-crs, e.g. "
                       "EPSG:4545 for CGCS2000 3-degree zone CM 108E")
    imp = read_dxf(p, dict(mapping), src_crs)  # the file is read once for every role
    report = ImportReport(Path(out))
    for role, frame in imp.layers.items():
        cads = tuple(c for c, r in mapping.items() if r == role)
        mine = [n for n in imp.notes if n.split(":")[0] not in ROLES or n.startswith(role)]
        _write(report, place(frame, Source(p, role, src_crs=src_crs, cad_layers=cads), mine))
    return report


def import_osm(path: str | Path, out: str | Path, *, households: str | Path | None = None,
               key: str | None = None, households_field: str | None = None,
               sheet: str | None = None, floor_area_per_household: float = 90.0
               ) -> ImportReport:
    """Convert an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``) to role layers.

    Households are estimated from residential floor area (footprint m2 x levels /
    ``floor_area_per_household`` m2) where every residential building of an estate has its
    levels, and marked as estimates; or joined from a CSV/Excel ``households`` sheet by
    ``estate_id`` or ``name``.
    """
    p = check_local_file(path)
    if floor_area_per_household <= 0:
        raise InputError("--floor-area-per-household must be a positive number of m2")
    imp = read_osm(p, floor_area_per_household=floor_area_per_household)
    notes = list(imp.notes)
    if households is not None:
        src = Source(check_local_file(households), "estates", layer=sheet)
        table, _rows, _ = read_table(src, f"{src.path}")
        estates, joined = join_households(imp.layers["estates"], table, key=key,
                                          households_field=households_field)
        imp.layers["estates"] = estates
        notes += joined
    outp = Path(out)
    if outp.exists():
        outp.unlink()
    report = ImportReport(outp)
    for role, frame in imp.layers.items():
        if role not in ROLES:
            continue
        frame = frame.copy()
        if "_fid" not in frame.columns:
            frame["_fid"] = np.arange(1, len(frame) + 1)
        mine = [n for n in notes if n.startswith(f"{role}:")]
        record = {"role": role, "source": str(p), "layer": "", "crs": "EPSG:4326",
                  "coords": "wgs84", "encoding": "", "converted": "",
                  "features": str(len(frame)), "notes": "; ".join(mine)}
        _write(report, Loaded(frame, [], record))
    report.notes += notes
    return report


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """Parse ``--map CADLAYER=ROLE`` pairs (the last ``=`` separates the role)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        cad, sep, role = pair.rpartition("=")
        if not sep or not cad.strip() or not role.strip():
            raise InputError(f"--map {pair!r} is not of the form CADLAYER=ROLE")
        role = role.strip()
        if role not in ROLES:
            raise InputError(f"--map {pair!r}: {role!r} is not a role; roles are: "
                             f"{', '.join(ROLES)}")
        if cad in mapping and mapping[cad] != role:
            raise InputError(f"--map: CAD layer {cad!r} is mapped to both {mapping[cad]} "
                             f"and {role}")
        mapping[cad] = role
    return mapping
