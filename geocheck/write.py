"""A run's outputs written into its output folder (:func:`write_outputs`): the tables,
results.gpkg, proposals.gpkg, findings.xlsx, map.html, the static maps and report.html, staged
and committed together (:mod:`geocheck.outdir`); map.html or the static maps made in a second
process meanwhile when the machine has a core to spare (:mod:`geocheck.core.beside`).

Each view is imported where it is written, so that a run loads only the libraries of the
outputs it writes: matplotlib, xlsxwriter ... are slow to import.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .core.beside import Beside, can_fork
from .core.errors import GeocheckError
from .core.memory import stage as _stage
from .core.progress import QUIET, Progress
from .outdir import MANIFEST, Staging, input_files, refuse_unsafe, run_manifest
from .rules.proposals import Proposals
from .rules.result import Result
from .scale import BESIDE_MAX_ESTATES
from .views.text import LANGS

FORMATS = ("csv", "gpkg", "map", "xlsx", "report", "png", "parquet")
"""Output formats of ``geocheck check``: csv (findings, rejects, scorecard, summary, campaign
progress and life circle tables), gpkg (results.gpkg with QGIS styles), map (map.html), xlsx
(findings.xlsx), report (report.html), png (map.png and the campaign progress chart), parquet
(findings.parquet, estates.parquet as GeoParquet, rejects.parquet: see
:mod:`geocheck.views.parquet`)."""

DEFAULT_FORMATS = tuple(f for f in FORMATS if f != "parquet")
"""The formats of a run given no ``--format`` (and of ``all``): every one but parquet, which
is asked for by name (``--format all,parquet``) and recommended by the run's notes when its
findings reach :data:`PARQUET_ADVISED_ROWS`."""

PARQUET_ADVISED_ROWS = 1_000_000
"""Findings rows (estates x rules) from which a run without parquet notes that
``--format all,parquet`` writes them as typed, compressed Parquet (a findings.csv of a million
rows is some 500 MB of text)."""


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"csv,map"`` -> ``("csv", "map")``; None or "all" -> :data:`DEFAULT_FORMATS`;
    ``"all,parquet"`` -> those and parquet."""
    if text is None or text.strip() == "all":
        return DEFAULT_FORMATS
    words = [f.strip() for f in text.split(",") if f.strip()]
    words = [w for f in words for w in (DEFAULT_FORMATS if f == "all" else (f,))]
    chosen = tuple(dict.fromkeys(words))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise GeocheckError(f"unknown output format {', '.join(unknown) or repr(text)}: choose "
                            f"from {', '.join(FORMATS)} (comma-separated) or all")
    return chosen


REPORT_MAPS = 300
"""Estate maps in report.html unless told otherwise: inlined at about 55 KB each (measured on
the synthetic city), 300 maps are some 16.5 MB of the report, which a browser opens at once
(3,000 would be 165 MB)."""

REPORT_SECTIONS = 400
"""Estates with a section of their own in report.html (findings table, map) unless told
otherwise; a run with more lists every estate in one compact table and gives sections to this
many, failing first (:mod:`geocheck.views.report.budget`).

The budget: report.html within 40 MB up to 100,000 estates with the defaults (the 22.7 MB
report of 30,000 estates opened in headless Chromium in under 5 s). Measured: a section is
6.6 KB (the synthetic city, no attributes sheet) to 25 KB (the bundled sample with its sheet,
every rule measured), so 400 take 2.6 to 10 MB; the :data:`REPORT_MAPS` maps, inlined, ~55 KB
each, 16.5 MB; the all-estates table ~86 bytes an estate (8.7 MB for 100,000); the rest well
under 1 MB unless thousands of features are rejected. The synthetic city of 30,000 estates:
22.7 MB (241 MB with every estate in detail); of 100,000 estates, 27.5 MB (measured); with
every rule measured, some 36 MB (estimated)."""


class Outputs(dict[str, Path]):
    """The files a run wrote, by name (``findings``, ``results`` ... ``manifest``), as paths in
    the output folder, with what else the run did there.

    Attributes
    ----------
    removed : the previous run's outputs this run does not write, removed as stale (file
        names).
    notes : interrupted runs whose commit was finished; what the outputs leave out and why
        (a sheet that does not fit Excel ...).
    """

    def __init__(self, paths: dict[str, Path], removed: list[str], notes: list[str]) -> None:
        super().__init__(paths)
        self.removed = removed
        self.notes = notes


def write_outputs(result: Result, outdir: str | Path, *,
                  formats: tuple[str, ...] = DEFAULT_FORMATS,
                  lang: str = "zh", pdf: bool = False, offline: bool = False,
                  report_maps: int | None = REPORT_MAPS,
                  report_sections: int | None = REPORT_SECTIONS,
                  progress: Progress = QUIET, inputs: list[Path] | None = None,
                  options: dict[str, Any] | None = None,
                  started: datetime | None = None,
                  extra: Callable[[Staging], dict[str, Path]] | None = None,
                  beside: bool = False) -> Outputs:
    """Write the chosen outputs into ``outdir`` (created if needed); return their paths by name.

    csv: findings.csv and rejects.csv always; scorecard.csv when the pack has standards;
    summary.csv when it has a declaration rule (compliance and eligibility) or a points score;
    progress.csv when it has a campaign and estates carry target years; life_circles.csv (the
    whole area's share within each walk) when it has ``life_circle`` rules. gpkg: results.gpkg with
    QGIS default styles. map: map.html (``offline``: Leaflet inlined). xlsx: findings.xlsx
    (sheets that do not fit Excel are cut to fit, as its first sheet and the notes say:
    :func:`geocheck.views.excel.plan_sheets`).
    report: report.html in ``lang`` (zh or en) with static maps (of ``report_maps`` estates
    at most, failing first:
    :func:`geocheck.views.report.report_map_positions`; None: all) and sections for
    ``report_sections`` estates at most (failing first, every estate listed in one table when
    some have none: :mod:`geocheck.views.report.budget`; None: all), and report.pdf when
    ``pdf``.
    png: map.png, and progress.png with the campaign progress.

    The outputs are atomic as a set (:mod:`geocheck.outdir`): all are written into a staging
    folder and put in place together, with the manifest ``geocheck-run.json`` last, and the
    previous run's outputs this run does not write are removed. A failed run leaves the folder
    as it was.

    Parameters
    ----------
    inputs : the files the run read, checked against the outputs (a run never overwrites its
        own input) and recorded with their SHA-256 in the manifest; default:
        :func:`geocheck.outdir.input_files` of the site's source.
    options : the run's options, recorded in the manifest.
    started : when the run started (default: now), recorded in the manifest.
    beside : write map.html and draw the static maps (map.png, the report's) in a forked
        second process while the tables are written, when the run has at most
        :data:`BESIDE_MAX_ESTATES` estates and the machine more than one core
        (:mod:`geocheck.core.beside`; for the command line: never inside a host application
        such as QGIS).
    extra : writes further outputs into the staging folder (``geocheck review``'s opinion,
        ``diff.csv``) and returns their staged paths by name; they are committed with the
        rest.

    Raises
    ------
    OutputError
        A refused output folder (:func:`geocheck.outdir.refuse_unsafe`) or a failed write
        (disk full ...), with nothing changed in ``outdir``.
    """
    started = started or datetime.now().astimezone()
    if lang not in LANGS:
        raise GeocheckError(f"unknown report language {lang!r}: choose {' or '.join(LANGS)}")
    outdir = Path(outdir)
    inputs = input_files(result.site.source) if inputs is None else inputs
    refuse_unsafe(outdir, inputs)
    if "xlsx" in formats:
        from .views.excel import sheet_notes
        notes = sheet_notes(result)
    else:
        notes = []
    cut = bool(notes)
    rows = len(result.findings)
    if rows >= PARQUET_ADVISED_ROWS and "parquet" not in formats:
        notes.append(f"{rows:,} findings rows: --format all,parquet also writes them as "
                     "findings.parquet and estates.parquet (typed, compressed GeoParquet), "
                     "which pandas, GeoPandas, DuckDB and QGIS read far faster than "
                     "findings.csv")
    staging = Staging(outdir)
    try:
        staged = _write_staged(result, staging, formats=formats, lang=lang, pdf=pdf,
                               offline=offline, report_maps=report_maps, progress=progress,
                               cut=cut, report_sections=report_sections, beside=beside)
        pages = [p.name for key, p in staged.items() if key.startswith("map_")]
        if pages:
            from .views.webmap import MAP_ESTATES_MAX
            notes.append(f"map.html: {len(result.site.estates):,} estates are more than one "
                         f"page draws ({MAP_ESTATES_MAX:,}); map.html is an index of "
                         f"{len(pages)} districts, each on a page of its own ({pages[0]} "
                         f"... {pages[-1]})")
        if extra is not None:
            staged.update(extra(staging))
        opts = {"formats": list(formats), "lang": lang, "pdf": pdf, "offline": offline,
                "report_maps": report_maps, "report_sections": report_sections,
                **(options or {})}
        manifest = run_manifest(pack=result.pack.id, inputs=inputs, options=opts,
                                files=staged.values(), started=started, notes=notes,
                                record=staging.record)
        removed = staging.commit(manifest)
    except BaseException:
        staging.discard()
        raise
    paths = {key: outdir / p.name for key, p in staged.items()}
    paths["manifest"] = outdir / MANIFEST
    return Outputs(paths, removed, staging.recovered + notes)


def _write_staged(result: Result, staging: Staging, *, formats: tuple[str, ...], lang: str,
                  pdf: bool, offline: bool, report_maps: int | None,
                  progress: Progress, cut: bool = False,
                  report_sections: int | None = REPORT_SECTIONS,
                  beside: bool = False) -> dict[str, Path]:
    """Write the outputs into the staging folder; return their staged paths by name (``cut``:
    findings.xlsx's tables are cut to fit Excel; ``beside``: map.html and the static maps of
    a run of at most :data:`BESIDE_MAX_ESTATES` estates are made in a second process
    meanwhile)."""
    written: dict[str, Path] = {}
    n = len(result.site.estates)
    table = result.progress
    drawn = "png" in formats or "report" in formats
    if drawn and not _can_draw_chinese(formats):
        drawn = False
    chart: bytes | None = None
    if table is not None and drawn:
        from .views.charts import progress_chart_png
        chart = progress_chart_png(table, result.pack.campaign, lang=lang)
    positions = np.arange(0)
    if drawn and "report" in formats:
        from .views.report import report_map_positions, section_positions
        # maps only for estates with a section (both lists take the worst estates first)
        positions = np.intersect1d(report_map_positions(result, report_maps),
                                   section_positions(result, report_sections))
    web = "map" in formats
    spare = "xlsx" in formats
    side = partial(_side_outputs, result, staging, offline=offline, lang=lang,
                   positions=positions, drawn=drawn)
    forked = None
    if beside and n <= BESIDE_MAX_ESTATES and (web or drawn) and can_fork():
        # the second process draws the static maps, or else writes map.html: the two take
        # about as long as the tables and as each other. map.html shows the proposals, which
        # both processes would otherwise work out. findings.xlsx is written by the process
        # done first with the rest
        if web and not drawn:
            _propose(result, progress)
        forked = Beside(partial(side, web=web and not drawn, progress=QUIET,
                                spare=partial(_write_xlsx, result, staging, cut=cut,
                                              progress=QUIET, claim=True) if spare else None))
    report = "report" in formats
    draft: _Draft | None = None
    render = partial(_render_report, result, lang=lang, chart=chart, sections=report_sections,
                     written=written, xlsx=spare)
    try:
        _write_tables(result, staging, written, formats=formats, progress=progress, cut=cut,
                      xlsx=forked is None)
        pages = _write_web_map(result, staging, offline, progress) \
            if forked is not None and web and drawn else []
        if forked is not None and report and drawn:
            with _stage(progress, f"writing report.html ({lang}), its maps to come"):
                draft = _Draft(render, result.site.estates["estate_id"].to_numpy()[positions])
        if forked is not None and spare:
            written.update(_write_xlsx(result, staging, cut=cut, progress=progress, claim=True))
    except BaseException:
        if forked is not None:
            forked.close()
        raise
    if forked is not None:
        k = len(positions)
        what = f"drawing {k + 1:,} static maps" if drawn else "writing map.html"
        what += " and findings.xlsx" if spare and "xlsx" not in written else ""
        with _stage(progress, f"{what} (in a second process)"):
            side_pages, overview, pngs, extra, records = forked.result()
        staging.adopt(records)
        pages = pages or side_pages
        written.update(extra)
    else:
        pages, overview, pngs, _, _ = side(web=web, progress=progress)
    if spare and "xlsx" not in written:  # not forked, or the second process died at it
        written.update(_write_xlsx(result, staging, cut=cut, progress=progress, claim=False))
    if pages:
        written["map"] = pages[0]
        written.update((f"map_{k:03d}", p) for k, p in enumerate(pages[1:], start=1))
    if drawn and "png" in formats:
        with staging.writing("map.png") as path:
            path.write_bytes(overview)
            written["png"] = path
        if chart is not None:
            with staging.writing("progress.png") as path:
                path.write_bytes(chart)
                written["progress_png"] = path
    if report:
        from .views.report import write_pdf
        with _stage(progress, f"writing report.html ({lang})"), \
                staging.writing("report.html") as path:
            page = draft.fill(overview, pngs) if draft is not None \
                else render(overview, pngs if drawn else None)
            path.write_text(page, encoding="utf-8")
            written["report"] = path
        if pdf:
            with _stage(progress, "writing report.pdf"), staging.writing("report.pdf") as path:
                written["pdf"] = write_pdf(page, path)
    return written


def _render_report(result: Result, overview: bytes | None, pngs: dict[str, bytes] | None, *,
                   lang: str, chart: bytes | None, sections: int | None,
                   written: dict[str, Path], xlsx: bool) -> str:
    """report.html with these maps; it names the full results the run writes (``written``,
    and findings.xlsx when ``xlsx``, which may be written last) for the estates it leaves out."""
    from .views.report import FULL_RESULTS, render_report
    return render_report(result, lang=lang, overview_png=overview, estate_pngs=pngs,
                         progress=result.progress, progress_png=chart, sections=sections,
                         elsewhere=[f for k, f in FULL_RESULTS.items()
                                    if k in written or (k == "xlsx" and xlsx)])


class _Draft:
    """A page rendered by ``render(overview, estate maps)`` before its maps are drawn: with a
    stand-in for each map (a few bytes that begin as a PNG does, each its own), which
    :meth:`fill` replaces in one pass by the maps drawn (for the estates ``ids``)."""

    def __init__(self, render: Callable[[bytes, dict[str, bytes]], str],
                 ids: np.ndarray) -> None:
        from .views.report import png_uri
        from .views.style import PNG_SIGNATURE
        # 8 + 9 + 10 = 27 bytes: a whole number of base64 groups, the same first 20 characters
        stand = {key: PNG_SIGNATURE + b"geocheck:" + b"%010d" % i
                 for i, key in enumerate([_OVERVIEW, *map(str, ids)])}
        self._uri = {png_uri(data): key for key, data in stand.items()}
        self._pattern = re.compile(re.escape(next(iter(self._uri))[:-16]) + "[A-Za-z0-9+/]{16}")
        self._png_uri = png_uri
        self._page = render(stand.pop(_OVERVIEW), stand)

    def fill(self, overview: bytes | None, pngs: dict[str, bytes]) -> str:
        """The page with each stand-in replaced by its map."""
        maps = {_OVERVIEW: overview, **pngs}

        def swap(match: re.Match[str]) -> str:
            key = self._uri.get(match.group(0))
            png = maps.get(key) if key is not None else None
            return match.group(0) if png is None else self._png_uri(png)
        page = self._pattern.sub(swap, self._page)
        if self._pattern.search(page):  # never: checked, not assumed
            raise GeocheckError("the report's maps could not be put in place: the second "
                                "process drew other maps than the report was written for")
        return page


_OVERVIEW = "\0overview"
"""The overview map's key among a draft report's stand-ins (no estate id holds a NUL)."""


def _write_tables(result: Result, staging: Staging, written: dict[str, Path], *,
                  formats: tuple[str, ...], progress: Progress, cut: bool,
                  xlsx: bool = True) -> None:
    """Write the tables, results.gpkg, proposals.gpkg, findings.xlsx (when ``xlsx``) and the
    Parquet files into the staging folder, adding their staged paths to ``written``."""
    table = result.progress
    if "csv" in formats or "gpkg" in formats:
        from .views.tables import write_csv, write_gpkg, write_proposals
    if "csv" in formats:
        with _stage(progress, "writing the CSV tables"):
            summary = result.declaration
            if summary is None:
                summary = result.scores
            tables = {"findings": result.findings,
                      "rejects": result.site.ledger.rejects_frame(),
                      "scorecard": result.scorecard, "summary": summary, "progress": table,
                      "life_circles": result.life_circles}
            for key, df in tables.items():
                if df is not None:
                    with staging.writing(f"{key}.csv") as path:
                        written[key] = write_csv(df, path)
    if "gpkg" in formats:
        from .views.qgis_styles import write_layer_styles
        with _stage(progress, "writing results.gpkg"), staging.writing("results.gpkg") as path:
            written["results"] = write_gpkg(result, path)
            write_layer_styles(path, result, sync=False)  # synced when staged in place
        if _propose(result, progress).applies:
            with _stage(progress, "writing proposals.gpkg"), \
                    staging.writing("proposals.gpkg") as path:
                written["proposals"] = write_proposals(result, path)
    if "xlsx" in formats and xlsx:
        written.update(_write_xlsx(result, staging, cut=cut, progress=progress, claim=False))
    if "parquet" in formats:
        from .views.parquet import write_geoparquet, write_table_parquet
        from .views.tables import estates_with_verdicts
        with _stage(progress, "writing the Parquet tables"):
            with staging.writing("findings.parquet") as path:
                written["findings_parquet"] = write_table_parquet(result.findings, path)
            with staging.writing("estates.parquet") as path:
                written["estates_parquet"] = write_geoparquet(estates_with_verdicts(result),
                                                              path)
            with staging.writing("rejects.parquet") as path:
                written["rejects_parquet"] = write_table_parquet(
                    result.site.ledger.rejects_frame(), path)


def _write_xlsx(result: Result, staging: Staging, *, cut: bool, progress: Progress,
                claim: bool) -> dict[str, Path]:
    """Write findings.xlsx into the staging folder; ``claim``: only if no other process has
    claimed it (:meth:`geocheck.outdir.Staging.claim`). Returns ``{"xlsx": path}``, or nothing
    when the other process has it."""
    if claim and not staging.claim("findings.xlsx"):
        return {}
    from .views.excel import write_xlsx
    label = "writing findings.xlsx" + (" (cut to fit Excel: see its notice)" if cut else "")
    with _stage(progress, label), staging.writing("findings.xlsx") as path:
        return {"xlsx": write_xlsx(result, path)}


def _propose(result: Result, progress: Progress) -> Proposals:
    """``result.proposals``, worked out (once: a cached property) in a stage of its own."""
    if "proposals" in result.__dict__:
        return result.proposals
    with _stage(progress, "proposing garbage points"):
        return result.proposals


def _side_outputs(result: Result, staging: Staging, *, web: bool, offline: bool, lang: str,
                  positions: np.ndarray, drawn: bool, progress: Progress,
                  spare: Callable[[], dict[str, Path]] | None = None
                  ) -> tuple[list[Path], bytes | None, dict[str, bytes], dict[str, Path],
                             dict[str, dict[str, Any]]]:
    """The outputs that may be made beside the tables, in a second process: map.html when
    ``web`` (its pages written into the staging folder), the static maps when ``drawn``,
    then ``spare`` (findings.xlsx, if the other process has not claimed it). Returns the
    staged map pages (map.html first; none without ``web``), the overview map and the estate
    maps (PNG bytes), what ``spare`` wrote by name, and, in a forked process, the records of
    the files it wrote, synced and hashed there (:meth:`~geocheck.outdir.Staging.adopt`)."""
    pages = _write_web_map(result, staging, offline, progress) if web else []
    overview: bytes | None = None
    pngs: dict[str, bytes] = {}
    if drawn:
        from .views.static_map import draw_maps
        with _stage(progress, "drawing the overview map"
                    + (f" and {len(positions):,} estate maps" if len(positions) else "")):
            overview, pngs = draw_maps(result, lang=lang, positions=positions,
                                       progress=progress)
    extra = spare() if spare is not None else {}
    return pages, overview, pngs, extra, staging.forked_records()


def _write_web_map(result: Result, staging: Staging, offline: bool,
                   progress: Progress) -> list[Path]:
    """Write map.html (and its district pages) into the staging folder; return their staged
    paths, map.html first."""
    from .views.webmap import MAP_ESTATES_MAX, write_maps
    with _stage(progress, "writing map.html" + (" (offline)" if offline else "")), \
            staging.writing("map.html") as path:
        return write_maps(result, path, offline=offline, max_estates=MAP_ESTATES_MAX,
                          on_page=staging.settle)


def _can_draw_chinese(formats: tuple[str, ...]) -> bool:
    """Whether a CJK font is installed for the static maps. Without one, asking for ``png``
    by name is an error; in the default run of every format the maps are left out, with a
    note on stderr."""
    from .views.style import find_cjk_font
    if find_cjk_font() is not None:
        return True
    advice = ("no installed font can draw Chinese, so the static maps would show boxes; "
              "install one (Debian: apt-get install fonts-noto-cjk)")
    if "png" in formats and not set(DEFAULT_FORMATS) <= set(formats):
        raise GeocheckError(advice)
    print(f"geocheck: note: {advice}; map.png, progress.png and the report's maps are left out",
          file=sys.stderr)
    return False
