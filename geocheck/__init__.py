"""geocheck: audit residential estates against Chinese planning-compliance standards.

The flow is read -> normalise -> measure -> judge -> findings -> views::

    import geocheck
    result = geocheck.check("layers/nanning_sample.gpkg", pack="guangxi")
    result.findings          # one row per estate x rule
    geocheck.write_outputs(result, "out/")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyproj import CRS

from .core.errors import (
    CRSError,
    GeocheckError,
    InputError,
    PackError,
)
from .core.progress import QUIET, Progress
from .core.roles import FieldMap
from .core.site import Site
from .inputs.attributes import apply_attributes
from .inputs.normalise import normalise
from .inputs.project import parse_project, read_project
from .inputs.read import read_layers
from .rules.judge import judge
from .rules.packs.load import DEFAULT_PACK, load_pack, shipped_packs
from .rules.packs.model import Pack
from .rules.result import Result

__all__ = [
    "CRSError",
    "FieldMap",
    "GeocheckError",
    "InputError",
    "Pack",
    "PackError",
    "Result",
    "Site",
    "check",
    "judge",
    "load_pack",
    "normalise",
    "read_layers",
    "shipped_packs",
    "write_outputs",
]
__version__ = "0.1.0"


def check(path: str | Path, *, pack: str | Path | Pack | None = None,
          fields: FieldMap | list[str] | None = None,
          dst_crs: CRS | str | int | None = None,
          attributes: str | Path | None = None, sheet: str | None = None,
          progress: Progress = QUIET) -> Result:
    """Read role layers and judge every estate against a rule pack.

    Parameters
    ----------
    path : a GeoPackage with layers named by role (``estates`` required), or a project file
        (``.toml``) naming each role's own source file (see :mod:`geocheck.project`).
    pack : shipped pack id (``guangxi``, ``nanhai``), a pack file path, or a loaded Pack;
        default: the project file's pack, else ``guangxi``.
    fields : field-name mapping, e.g. ``["households=户数"]``.
    dst_crs : working CRS (projected, metres); by default the CGCS2000 3-degree Gauss-Kruger
        zone of the estates in China, else their UTM zone.
    attributes : the attributes sheet (``.xlsx`` or ``.csv``, see :mod:`geocheck.attributes`)
        with the record-based indicators per estate; default: the project file's, else none
        (those rules are then no data).
    sheet : the workbook's sheet to read (default: the first).
    progress : where to report the stages of a long run (default: nowhere).

    Returns
    -------
    Result
        Findings (one row per estate x rule), evidence geometries and the normalised site.
    """
    if not isinstance(fields, FieldMap):
        fields = FieldMap(fields or [])
    if pack is not None and not isinstance(pack, Pack):
        pack = load_pack(pack)  # a wrong pack is reported before any data is read
    with progress.stage(f"reading {Path(path).name}"):
        if Path(path).suffix.lower() == ".toml":
            project = parse_project(path)
            raw = read_project(project)
            pack = pack if pack is not None else project.pack
            dst_crs = dst_crs if dst_crs is not None else project.dst_crs
            attributes = attributes if attributes is not None else project.attributes
        else:
            raw = read_layers(path)
        if not isinstance(pack, Pack):
            pack = load_pack(pack if pack is not None else DEFAULT_PACK)
        site = normalise(raw, fields=fields, dst_crs=dst_crs)
        if attributes is not None:
            apply_attributes(site, pack.attributes, attributes, sheet, pack_id=pack.id)
    with progress.stage(f"judging {len(site.estates):,} estates x {len(pack.rules)} rules"):
        return judge(site, pack, progress)


def write_outputs(result: Result, outdir: str | Path, **options: Any) -> dict[str, Path]:
    """Write the outputs into ``outdir`` (all formats by default): findings.csv, rejects.csv,
    scorecard.csv, summary.csv, results.gpkg, findings.xlsx, map.html, map.png, report.html.

    ``options`` are those of :func:`geocheck.export.write_all`: ``formats``, ``lang``,
    ``pdf``, ``offline``, ``progress``.
    """
    from .export import write_all

    return write_all(result, Path(outdir), **options)
