"""The pipeline: read -> normalise -> judge (:func:`check`), then the views (:func:`write_outputs`).

Each step is a function of its own wing: :mod:`geocheck.inputs` reads the user's files into
role layers and normalises them into a :class:`~geocheck.core.site.Site`;
:mod:`geocheck.rules` judges it against a pack into a :class:`~geocheck.rules.result.Result`;
:mod:`geocheck.views` writes what people read. This module only runs them in order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from pyproj import CRS

from .core.errors import GeocheckError
from .core.progress import QUIET, Progress
from .core.roles import FieldMap
from .inputs.attributes import apply_attributes
from .inputs.normalise import normalise
from .inputs.project import parse_project, read_project
from .inputs.read import read_layers
from .rules.judge import judge
from .rules.packs.load import DEFAULT_PACK, load_pack
from .rules.packs.model import Pack
from .rules.result import Result
from .views.charts import progress_chart_png
from .views.excel import write_xlsx
from .views.qgis_styles import write_layer_styles
from .views.report import render_report, report_map_positions, write_pdf
from .views.static_map import EstateMaps, overview_png
from .views.style import find_cjk_font
from .views.tables import write_csv, write_gpkg
from .views.text import LANGS
from .views.webmap import write_map


def check(path: str | Path, *, pack: str | Path | Pack | None = None,
          fields: FieldMap | list[str] | None = None,
          dst_crs: CRS | str | int | None = None,
          attributes: str | Path | None = None, sheet: str | None = None,
          progress: Progress = QUIET) -> Result:
    """Read role layers and judge every estate against a rule pack.

    Parameters
    ----------
    path : a GeoPackage with layers named by role (``estates`` required), or a project file
        (``.toml``) naming each role's own source file (see :mod:`geocheck.inputs.project`).
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


FORMATS = ("csv", "gpkg", "map", "xlsx", "report", "png")
"""Output formats of ``geocheck check``: csv (findings, rejects, scorecard, summary and campaign
progress tables), gpkg (results.gpkg with QGIS styles), map (map.html), xlsx (findings.xlsx),
report (report.html), png (map.png and the campaign progress chart)."""


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"csv,map"`` -> ``("csv", "map")``; None or "all" -> every format."""
    if text is None or text.strip() == "all":
        return FORMATS
    chosen = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise GeocheckError(f"unknown output format {', '.join(unknown) or repr(text)}: choose "
                            f"from {', '.join(FORMATS)} (comma-separated) or all")
    return chosen


REPORT_MAPS = 300
"""Estate maps in report.html unless told otherwise: at about 30 KB each, 300 maps keep the
report under some 15 MB, which a browser opens at once (3,000 would be 120 MB)."""


def write_outputs(result: Result, outdir: str | Path, *, formats: tuple[str, ...] = FORMATS,
                  lang: str = "zh", pdf: bool = False, offline: bool = False,
                  report_maps: int | None = REPORT_MAPS,
                  progress: Progress = QUIET) -> dict[str, Path]:
    """Write the chosen outputs into ``outdir`` (created if needed); return their paths by name.

    csv: findings.csv and rejects.csv always; scorecard.csv when the pack has standards;
    summary.csv when it has a declaration rule (compliance and eligibility) or a points score;
    progress.csv when it has a campaign and estates carry target years. gpkg: results.gpkg with
    QGIS default styles. map: map.html (``offline``: Leaflet inlined). xlsx: findings.xlsx.
    report: report.html in ``lang`` (zh or en) with static maps (of ``report_maps`` estates
    at most, failing first:
    :func:`geocheck.views.report.report_map_positions`; None: all), and report.pdf when
    ``pdf``.
    png: map.png, and progress.png with the campaign progress.
    """
    if lang not in LANGS:
        raise GeocheckError(f"unknown report language {lang!r}: choose {' or '.join(LANGS)}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    n = len(result.site.estates)
    table = result.progress
    drawn = "png" in formats or "report" in formats
    if drawn and not _can_draw_chinese(formats):
        drawn = False
    chart: bytes | None = None
    if table is not None and drawn:
        chart = progress_chart_png(table, result.pack.campaign, lang=lang)
    if "csv" in formats:
        with progress.stage("writing the CSV tables"):
            written["findings"] = write_csv(result.findings, outdir / "findings.csv")
            written["rejects"] = write_csv(result.site.ledger.rejects_frame(),
                                           outdir / "rejects.csv")
            card = result.scorecard
            if card is not None:
                written["scorecard"] = write_csv(card, outdir / "scorecard.csv")
            summary = result.declaration
            if summary is None:
                summary = result.scores
            if summary is not None:
                written["summary"] = write_csv(summary, outdir / "summary.csv")
            if table is not None:
                written["progress"] = write_csv(table, outdir / "progress.csv")
    if "gpkg" in formats:
        with progress.stage("writing results.gpkg"):
            written["results"] = write_gpkg(result, outdir / "results.gpkg")
            write_layer_styles(written["results"], result)
    if "xlsx" in formats:
        with progress.stage("writing findings.xlsx"):
            written["xlsx"] = write_xlsx(result, outdir / "findings.xlsx")
    if "map" in formats:
        with progress.stage("writing map.html" + (" (offline)" if offline else "")):
            written["map"] = write_map(result, outdir / "map.html", offline=offline)
    overview: bytes | None = None
    if drawn:
        with progress.stage("drawing the overview map"):
            overview = overview_png(result, lang=lang)
        if "png" in formats:
            written["png"] = outdir / "map.png"
            written["png"].write_bytes(overview)
            if chart is not None:
                written["progress_png"] = outdir / "progress.png"
                written["progress_png"].write_bytes(chart)
    if "report" in formats:
        pngs: dict[str, bytes] = {}
        positions = report_map_positions(result, report_maps) if drawn else np.arange(0)
        k = len(positions)
        with progress.stage(f"drawing {k:,} estate maps" + (f" of {n:,}" if k < n else "")):
            maps = EstateMaps(result, lang=lang) if k else None
            for start in range(0, k, REPORT_MAP_CHUNK):
                progress.step(start, k)
                pngs.update(maps.pngs(positions[start:start + REPORT_MAP_CHUNK]))
        with progress.stage(f"writing report.html ({lang})"):
            page = render_report(result, lang=lang, overview_png=overview,
                                 estate_pngs=pngs if drawn else None,
                                 progress=table, progress_png=chart)
            written["report"] = outdir / "report.html"
            written["report"].write_text(page, encoding="utf-8")
        if pdf:
            with progress.stage("writing report.pdf"):
                written["pdf"] = write_pdf(page, outdir / "report.pdf")
    return written


def _can_draw_chinese(formats: tuple[str, ...]) -> bool:
    """Whether a CJK font is installed for the static maps. Without one, asking for ``png``
    by name is an error; in the default run of every format the maps are left out, with a
    note on stderr."""
    if find_cjk_font() is not None:
        return True
    advice = ("no installed font can draw Chinese, so the static maps would show boxes; "
              "install one (Debian: apt-get install fonts-noto-cjk)")
    if "png" in formats and formats != FORMATS:
        raise GeocheckError(advice)
    print(f"geocheck: note: {advice}; map.png, progress.png and the report's maps are left out",
          file=sys.stderr)
    return False


REPORT_MAP_CHUNK = 50
"""Estate maps are drawn this many at a time, so that progress can be shown between chunks."""
