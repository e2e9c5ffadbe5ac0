"""The pipeline: read -> normalise -> judge (:func:`check`), then the views (:func:`write_outputs`,
from :mod:`geocheck.write`).

Each step is a function of its own wing: :mod:`geocheck.inputs` reads the user's files into
role layers and normalises them into a :class:`~geocheck.core.site.Site`;
:mod:`geocheck.rules` judges it against a pack into a :class:`~geocheck.rules.result.Result`;
:mod:`geocheck.views` writes what people read. This module only runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pyproj import CRS

from .core.conditions import Condition
from .core.database import DatabaseSource, is_database_url
from .core.errors import GeocheckError
from .core.memory import stage as _stage
from .core.progress import QUIET, Progress
from .core.roles import FieldMap
from .core.site import Site
from .core.units import DISTANCE_READINGS
from .inputs.attributes import apply_attributes
from .inputs.conditions import read_conditions
from .inputs.normalise import normalise
from .inputs.postgis import read_postgis
from .inputs.project import parse_project, read_project
from .inputs.read import read_layers
from .rules.conditions import with_conditions
from .rules.packs.load import DEFAULT_PACK, load_pack
from .rules.packs.model import Pack
from .rules.result import Result
from .scale import judge_in_pieces
from .write import (
    DEFAULT_FORMATS,
    FORMATS,
    PARQUET_ADVISED_ROWS,
    REPORT_MAPS,
    REPORT_SECTIONS,
    Outputs,
    parse_formats,
    write_outputs,
)

__all__ = ["DEFAULT_FORMATS", "FORMATS", "PARQUET_ADVISED_ROWS", "REPORT_MAPS", "REPORT_SECTIONS",
           "Outputs", "check", "parse_formats", "write_outputs"]



def check(path: str | Path, *, pack: str | Path | Pack | None = None,
          fields: FieldMap | list[str] | None = None,
          dst_crs: CRS | str | int | None = None,
          attributes: str | Path | None = None, sheet: str | None = None,
          distance: str | None = None, conditions: str | Path | list[Condition] | None = None,
          per_piece: int | Literal["auto"] | None = "auto", workers: int | None = None,
          scheduler: str | None = None, progress: Progress = QUIET,
          on_read: Callable[[Site, Pack], None] | None = None, beside: bool = False) -> Result:
    """Read role layers and judge every estate against a rule pack.

    Parameters
    ----------
    path : a GeoPackage with layers named by role (``estates`` required), a project file
        (``.toml``) naming each role's own source file (see :mod:`geocheck.inputs.project`),
        or a ``postgresql://`` URL whose schema (``?schema=``, default public) has tables
        named by role (see :mod:`geocheck.inputs.postgis`).
    pack : shipped pack id (``guangxi``, ``nanhai``), a pack file path, or a loaded Pack;
        default: the project file's pack, else ``guangxi``.
    fields : field-name mapping, e.g. ``["households=户数"]``.
    dst_crs : working CRS (projected, metres); by default the CGCS2000 3-degree Gauss-Kruger
        zone of the estates in China, else their UTM zone.
    attributes : the attributes sheet (``.xlsx`` or ``.csv``, see
        :mod:`geocheck.inputs.attributes`)
        with the record-based indicators per estate; default: the project file's, else none
        (those rules are then no data).
    sheet : the workbook's sheet to read (default: the first).
    distance : how distance rules are read: ``"radius"`` (each rule as written, a straight
        line) or ``"walk"`` (the walking distance along the ``paths`` layer, see
        :mod:`geocheck.rules.walking`); default: the project file's, else the pack's, else
        radius. Either way, with a paths layer every distance rule's ``walk_m`` is filled.
    conditions : the plot's planning conditions (规划条件): a conditions file (``.csv``,
        ``.xlsx``, ``.toml``: see :mod:`geocheck.inputs.conditions`) or parsed conditions;
        default: the project file's ``[conditions]``, else none. Each is judged as a rule
        ``COND-*`` added to the pack (:mod:`geocheck.rules.conditions`).
    per_piece : judge in spatial pieces of about this many estates, one piece at a time
        (:mod:`geocheck.rules.partition`; the findings are the same); None: in one piece;
        ``"auto"``: 4,000 estates for a pack of 100 rules or more, more for fewer
        (:func:`geocheck.rules.partition.piece_estates`).
    workers : judge the pieces on a local Dask cluster of this many worker processes.
    scheduler : judge the pieces on the running Dask cluster at this address
        (``tcp://host:8786``); see :mod:`geocheck.scale`.
    progress : where to report the stages of a long run (default: nowhere).
    on_read : called with the normalised site and the pack once they are read, before the
        judging (the CLI says there what findings.xlsx will cut to fit Excel).
    beside : judge a city of one piece in two halves, one in a forked second process (see
        :func:`geocheck.scale.judge_in_pieces`; for the command line, never inside a host
        application such as QGIS).

    Returns
    -------
    Result
        Findings (one row per estate x rule), evidence geometries and the normalised site.
    """
    if distance is not None and distance not in DISTANCE_READINGS:
        raise GeocheckError(f"unknown distance reading {distance!r}: choose "
                            f"{' or '.join(DISTANCE_READINGS)}")
    if not isinstance(fields, FieldMap):
        fields = FieldMap(fields or [])
    if pack is not None and not isinstance(pack, Pack):
        pack = load_pack(pack)  # a wrong pack is reported before any data is read
    if conditions is not None and not isinstance(conditions, list):
        conditions = read_conditions(conditions)  # and a wrong conditions file
    database = is_database_url(path)
    with _stage(progress, f"reading {DatabaseSource(path).name if database else Path(path).name}"):
        if database:
            raw = read_postgis(str(path))
        elif Path(path).suffix.lower() == ".toml":
            project = parse_project(path)
            raw = read_project(project)
            pack = pack if pack is not None else project.pack
            dst_crs = dst_crs if dst_crs is not None else project.dst_crs
            attributes = attributes if attributes is not None else project.attributes
            distance = distance if distance is not None else project.distance
            conditions = conditions if conditions is not None else project.conditions
        else:
            raw = read_layers(path, ahead=True)  # later layers read as the first are cleaned
        if not isinstance(pack, Pack):
            pack = load_pack(pack if pack is not None else DEFAULT_PACK)
        pack = with_conditions(pack, conditions or [])
        try:
            site = normalise(raw, fields=fields, dst_crs=dst_crs)
        except BaseException:  # an error or Ctrl-C: no more reading, and no waiting for it
            raw.close(wait=False)
            raise
        raw.close()  # every layer read: its thread ends before the run forks
        del raw  # a province's raw layers are not kept while it is judged
        if attributes is not None:
            apply_attributes(site, pack.attributes, attributes, sheet, pack_id=pack.id)
    if on_read is not None:
        on_read(site, pack)
    label = f"judging {len(site.estates):,} estates x {len(pack.rules)} rules"
    if workers is not None or scheduler is not None:
        label += f" on Dask ({scheduler or f'{workers} local workers'})"
    with _stage(progress, label):
        return judge_in_pieces(site, pack, distance=distance, per_piece=per_piece,
                               workers=workers, scheduler=scheduler, progress=progress,
                               beside=beside)
