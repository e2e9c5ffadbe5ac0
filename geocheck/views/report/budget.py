"""The report's size budget: which estates get a section of their own, and the one compact
table that lists every estate when not all of them do.

A section with its whole findings table is some 6.6 KB (the synthetic city without an
attributes sheet, where most rules share a "no data" row) to 25 KB (the bundled sample with its
sheet, every rule measured), plus its map when it has one (~30 KB): 30,000 estates made a
241 MB page that no browser opens. Above a number of estates (``geocheck check
--report-estates``, :data:`geocheck.pipeline.REPORT_SECTIONS` by default) only the chosen
estates keep a section (:func:`section_positions`: the worst first, and every estate with a
map), and :func:`all_estates_table` lists every estate in one row of a few cells, linked to
its section where it has one. The page says so at the top (:func:`budget_note`) and names
the files holding the other estates' findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ...core.errors import GeocheckError
from ...core.status import NO_DATA, SEVERITY, WORST_FIRST
from ...rules.result import Result
from ..text import STATUS_TEXT
from .html import Markup, el, esc, esc_column, lookup
from .text import TEXT

FULL_RESULTS = {"findings": "findings.csv", "summary": "summary.csv",
                "findings_parquet": "findings.parquet", "results": "results.gpkg",
                "xlsx": "findings.xlsx"}
"""Outputs (by their key in a run's written files) that carry every estate's findings or
per-estate summary; the report names those the run wrote for the estates it leaves out."""

TABLE_ROWS = 500
"""Rows per table of the all-estates list: it is cut into tables of this many rows (each with
its header), which a browser lays out only when scrolled to (``content-visibility``). One
table of 30,000 rows took Chromium 16 s to open, 500-row tables 4.5 s (a loaded machine)."""


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


def section_positions(result: Result, limit: int | None,
                      mapped: Iterable[object] = ()) -> np.ndarray:
    """Row positions (ascending) of the estates that get a section in the report: ``limit``
    estates chosen as :func:`report_map_positions` chooses maps (failing first, then no data,
    passing, not applicable; each group in the layer's order), and every estate whose id is in
    ``mapped`` (those with a map). None: every estate."""
    if limit is not None and limit < 0:
        raise GeocheckError(f"the number of estates in the report cannot be negative ({limit})")
    est = result.site.estates
    worst = report_map_positions(result, limit)
    with_map = np.flatnonzero(est["estate_id"].isin(list(mapped)).to_numpy())
    return np.union1d(worst, with_map).astype(int)


def positions_in(values: pd.Series, keys: pd.Series | Sequence[object]) -> np.ndarray:
    """The position of each of ``values`` among ``keys`` (distinct), -1 where it is not there
    or missing. Each distinct value is looked up once: for millions of findings rows this is
    some ten times faster than ``Series.map``."""
    codes, uniques = pd.factorize(values)
    found = np.append(pd.Index(keys).get_indexer(uniques), -1)
    return found[codes]  # code -1 (missing) takes the appended -1


def status_counts_per_estate(result: Result) -> np.ndarray:
    """Number of findings of each status per estate: an (estates, 4) array of ints, rows in
    the estates layer's order, columns in :data:`geocheck.core.status.WORST_FIRST` order."""
    est, f = result.site.estates, result.findings
    n, k = len(est), len(WORST_FIRST)
    pos = positions_in(f["estate_id"], est["estate_id"])
    code = positions_in(f["status"], [s.value for s in WORST_FIRST])
    known = (pos >= 0) & (code >= 0)
    return np.bincount(pos[known] * k + code[known], minlength=n * k).reshape(n, k)


def where_text(elsewhere: Sequence[str], lang: str) -> str:
    """The files named for the estates without a section (``elsewhere``: the file names the
    run wrote), or how to get them when the run wrote none."""
    if elsewhere:
        return ("、" if lang == "zh" else ", ").join(elsewhere)
    return TEXT[lang]["where_none"]


def budget_note(shown: int, total: int, limit: int | None, maps: int,
                elsewhere: Sequence[str], lang: str) -> Markup:
    """The header's plain statement that the report shows ``shown`` of ``total`` estates in
    detail, why, and where the others' findings are."""
    t = TEXT[lang]
    text = t["budget_note"].format(k=f"{shown:,}", n=f"{total:,}",
                                   limit="all" if limit is None else f"{limit:,}",
                                   maps=t["budget_maps"].format(m=f"{maps:,}") if maps else "",
                                   where=where_text(elsewhere, lang))
    return el("p", text, class_="budget-note", role="note")


def all_estates_table(result: Result, cols: Mapping[str, np.ndarray], overall: pd.Series,
                      sectioned: np.ndarray, elsewhere: Sequence[str], lang: str) -> Markup:
    """The section listing every estate once: id (linked to its section where it has one:
    ``sectioned`` is a boolean per estate), name, district (when the estates have a
    ``district`` column), overall verdict and its numbers of rules failing, lacking data,
    passing and not applicable.

    Rows are kept small (~86 bytes with a short Chinese name: 8.7 MB for 100,000 estates):
    cells carry no attributes but the verdict's colour class, and the optional end tags of
    cells and rows are left out, as HTML allows. The rows come in tables of
    :data:`TABLE_ROWS`. Every text is escaped (``cols`` from
    :func:`geocheck.views.report.html.esc_column`).
    """
    t, st = TEXT[lang], STATUS_TEXT[lang]
    est = result.site.estates
    n = len(est)
    anchors = np.array([f'<a href="#e{i}">' for i in range(n)], dtype=object)
    ids = np.where(sectioned, anchors + cols["id"] + "</a>", cols["id"])
    verdict = lookup(overall.to_numpy(dtype=object),
                     lambda s: f'<td class="s-{esc(s)}">{esc(st.get(s, s))}', missing="<td>")
    counts = status_counts_per_estate(result).astype(str).astype(object)
    district = "district" in est.columns
    rows = "\n<tr><td>" + ids + "<td>" + cols["name"]
    if district:
        rows = rows + "<td>" + esc_column(est["district"])
    rows = rows + verdict
    for j in range(counts.shape[1]):
        rows = rows + "<td>" + counts[:, j]
    heads = [t["estate_id"], t["name"], *([t["district"]] if district else []), t["overall"],
             *(st[s] for s in WORST_FIRST)]
    thead = el("thead", el("tr", [el("th", h) for h in heads]))
    head = f'<div class="rows"><table class="all-estates">{thead}<tbody>'
    tables = [head + "".join(rows[a:a + TABLE_ROWS]) + "</tbody></table></div>"
              for a in range(0, n, TABLE_ROWS)]
    note = t["all_estates_note"].format(k=f"{int(sectioned.sum()):,}", n=f"{n:,}",
                                        where=where_text(elsewhere, lang))
    return el("section", el("h2", t["all_estates"]), el("p", note), Markup("".join(tables)),
              id="all-estates")


def toc_estates(cols: Mapping[str, np.ndarray], positions: np.ndarray) -> Markup:
    """The table of contents' list of estate sections (``positions``: the estates with one)."""
    anchors = np.array([f"#e{i}" for i in positions], dtype=object)
    return Markup("".join('<li><a href="' + anchors + '">' + cols["id"][positions] + "</a> "
                          + cols["name"][positions] + " " + cols["badge"][positions] + "</li>"))
