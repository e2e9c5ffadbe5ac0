"""Write a :class:`~geocheck.findings.Result` to files: CSV tables, a GeoPackage and a map."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .core.errors import GeocheckError
from .core.progress import QUIET, Progress
from .core.status import (
    NO_DATA,
    SEVERITY,
)
from .rules.result import Result

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy in which no text cell can be read as a spreadsheet formula.

    Text cells starting with ``= + - @``, tab or carriage return get a leading apostrophe, as
    OWASP advises for CSV files opened in Excel. Numbers are left alone.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str[:1].isin(FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + text[risky].astype(str)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 with a byte-order mark (so Excel reads Chinese text right).

    Written with Arrow's CSV writer (some 30x faster than pandas on a city's findings); a table
    Arrow cannot convert (mixed types in a column) falls back to pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    safe = defuse_formulas(df)
    try:
        table = pa.Table.from_pandas(safe, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        safe.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        pcsv.write_csv(table, fh, pcsv.WriteOptions(quoting_style="needed"))
    return path


def estates_with_verdicts(result: Result) -> gpd.GeoDataFrame:
    """Estates with their overall status and one status column per rule."""
    est = result.site.estates[["estate_id", "name", "households", "households_estimated", "built",
                               "geometry"]].copy()
    wide = result.findings.pivot(index="estate_id", columns="rule_id", values="status")
    wide = wide[[r.id for r in result.pack.rules]]
    est["overall"] = est["estate_id"].map(result.overall())
    for rid in wide.columns:
        est[rid] = est["estate_id"].map(wide[rid])
    counts = result.findings.groupby(["estate_id", "status"]).size().unstack(fill_value=0)
    for status in ("pass", "fail", "not_applicable", "no_data"):
        est[f"n_{status}"] = est["estate_id"].map(
            counts[status] if status in counts else pd.Series(dtype=int)).fillna(0).astype(int)
    est["pack"] = result.pack.id
    for table, cols in ((result.declaration, ["compliance_rate", "eligible",
                                               "blocking_requirements", "verdict",
                                               "verdict_zh"]),
                        (result.scores, ["total", "stars", "rating", "rating_zh"])):
        if table is not None:
            for col in cols:
                est[col] = est["estate_id"].map(table.set_index("estate_id")[col])
    return est


def write_gpkg(result: Result, path: Path, *, styles: bool = True) -> Path:
    """Write results.gpkg: ``estates`` with verdicts, evidence layers, ``findings``, ``rejects``.

    Evidence layers: ``evidence_lines`` (estate to the facility that decided a distance rule),
    ``uncovered_buildings``, ``too_close_points``. All in the working CRS. With ``styles``, the
    geometry layers get QGIS default styles (:mod:`geocheck.qgis_styles`).
    """
    if path.exists():
        path.unlink()
    est = estates_with_verdicts(result)
    pyogrio.write_dataframe(est, path, layer="estates", driver="GPKG", use_arrow=True)
    ev = result.evidence
    for layer in ("evidence_lines", "uncovered_buildings", "too_close_points"):
        part = ev[ev["layer"] == layer].drop(columns="layer")
        if len(part):
            pyogrio.write_dataframe(part, path, layer=layer, driver="GPKG", use_arrow=True)
    pyogrio.write_dataframe(defuse_formulas(result.findings), path, layer="findings",
                            driver="GPKG", use_arrow=True)
    rejects = result.site.ledger.rejects_frame()
    if len(rejects):
        pyogrio.write_dataframe(rejects, path, layer="rejects", driver="GPKG", use_arrow=True)
    if styles:
        from .qgis_styles import write_layer_styles

        write_layer_styles(path, result)
    return path


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


def report_map_positions(result: Result, limit: int | None = None) -> np.ndarray:
    """Row positions (ascending) of the estates that get a static map in the report.

    All of them when ``limit`` is None or not below the number of estates; else ``limit``
    estates, failing ones first, then those lacking data, passing and not applicable ones,
    each group in the estates layer's order.
    """
    est = result.site.estates
    n = len(est)
    if limit is None or limit >= n:
        return np.arange(n)
    if limit < 0:
        raise GeocheckError(f"the number of report maps cannot be negative ({limit})")
    severity = est["estate_id"].map(result.overall()).map(SEVERITY).fillna(SEVERITY[NO_DATA])
    chosen = np.argsort(-severity.to_numpy(), kind="stable")[:limit]
    return np.sort(chosen)


REPORT_MAPS = 300
"""Estate maps in report.html unless told otherwise: at about 30 KB each, 300 maps keep the
report under some 15 MB, which a browser opens at once (3,000 would be 120 MB)."""


def write_all(result: Result, outdir: Path, *, formats: tuple[str, ...] = FORMATS,
              lang: str = "zh", pdf: bool = False, offline: bool = False,
              report_maps: int | None = REPORT_MAPS,
              progress: Progress = QUIET) -> dict[str, Path]:
    """Write the chosen outputs into ``outdir`` (created if needed); return their paths by name.

    csv: findings.csv and rejects.csv always; scorecard.csv when the pack has standards;
    summary.csv when it has a declaration rule (compliance and eligibility) or a points score;
    progress.csv when it has a campaign and estates carry target years. gpkg: results.gpkg with
    QGIS default styles. map: map.html (``offline``: Leaflet inlined). xlsx: findings.xlsx.
    report: report.html in ``lang`` (zh or en) with static maps (of ``report_maps`` estates
    at most, failing first: :func:`report_map_positions`; None: all), and report.pdf when
    ``pdf``.
    png: map.png, and progress.png with the campaign progress.
    """
    if lang not in ("zh", "en"):
        raise GeocheckError(f"unknown report language {lang!r}: choose zh or en")
    outdir.mkdir(parents=True, exist_ok=True)
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
    if "xlsx" in formats:
        from .excel import write_xlsx

        with progress.stage("writing findings.xlsx"):
            written["xlsx"] = write_xlsx(result, outdir / "findings.xlsx")
    if "map" in formats:
        from .webmap import write_map

        with progress.stage("writing map.html" + (" (offline)" if offline else "")):
            written["map"] = write_map(result, outdir / "map.html", offline=offline)
    overview: bytes | None = None
    if drawn:
        from .static_map import overview_png

        with progress.stage("drawing the overview map"):
            overview = overview_png(result, lang=lang)
        if "png" in formats:
            written["png"] = outdir / "map.png"
            written["png"].write_bytes(overview)
            if chart is not None:
                written["progress_png"] = outdir / "progress.png"
                written["progress_png"].write_bytes(chart)
    if "report" in formats:
        from .report import render_report, write_pdf
        from .static_map import EstateMaps

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
    from .static_map import find_cjk_font

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
