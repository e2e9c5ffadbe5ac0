"""The audit report: one self-contained HTML page (and its PDF) a planner prints or attaches.

The page loads nothing from anywhere: its CSS is inline, its images are ``data:`` URIs and it
has no script (a Content-Security-Policy forbids any). Every text from the data is
HTML-escaped: pieces of markup are built with :func:`el`, which escapes whatever is not
already :class:`Markup`, and the long findings tables with :func:`esc_column`, which escapes
a whole column at once.

Sections: title (saying how many estates the page shows in detail when that is not all of
them: :mod:`geocheck.views.report.budget`); summary (verdict counts, features judged and
rejected, the declaration or score table, rules with failures, overview map, campaign
progress); when not every estate has a section, a compact table of all estates; one section
per estate shown in detail (starting on a new printed page) with its findings; rejected
features; CRS and method notes; an appendix listing every rule's citation once (the findings
rows link to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from ...core.errors import GeocheckError
from ...core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS, WORST_FIRST
from ...core.units import percent, points
from ...core.version import VERSION
from ...rules.result import Result
from ..text import LANGS, STATUS_TEXT, proposals_text, walk_notes
from .budget import (
    FULL_RESULTS,
    all_estates_table,
    budget_note,
    positions_in,
    report_map_positions,
    section_positions,
    toc_estates,
    where_text,
)
from .html import Markup, el, esc, esc_column, join, lookup, missing, png_uri, table, tags, void
from .page_style import css
from .pdf import PDF_INSTALL, write_pdf
from .text import TEXT
from .values import format_values, number_text, percent_text, yes_no

__all__ = ["FULL_RESULTS", "PDF_INSTALL", "format_values", "png_uri", "render_report",
           "report_map_positions", "section_positions", "write_pdf"]


# -- escaping ------------------------------------------------------------------------------


# -- formatting ----------------------------------------------------------------------------


# -- building blocks -----------------------------------------------------------------------

def _badge(status: str, lang: str) -> Markup:
    return el("span", STATUS_TEXT[lang].get(status, status), class_=f"badge s-{status}")


def _figure(data: bytes, alt: str, class_: str) -> Markup:
    return el("figure", void("img", src=png_uri(data), alt=alt), class_=class_)


def _estate_link(pos: int, estate_id: object) -> Markup:
    return el("a", estate_id, href=f"#e{pos}")


def _rule_links(rule_ids: Iterable[str], index: Mapping[str, int]) -> Markup:
    return join([[" " if k else "", el("a", rid, href=f"#r{index[rid]}")]
                 for k, rid in enumerate(rule_ids)])


# -- sections ------------------------------------------------------------------------------

def _title(result: Result, lang: str, note: Markup | str) -> Markup:
    t, pack = TEXT[lang], result.pack
    meta = [(t["pack"], f"{pack.id} — {pack.title_zh if lang == 'zh' else pack.title_en}"),
            (t["source"], result.site.source.name),
            (t["generated"], datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %z")),
            (t["version"], VERSION)]
    parts = [el("h1", t["report"], el("br"), el("small", pack.title_zh if lang == "zh"
                                                else pack.title_en)),
             el("dl", [[el("dt", k), el("dd", v)] for k, v in meta], class_="meta")]
    if pack.reference:
        parts.append(el("p", t["reference_note"], class_="reference-note", role="note"))
    return el("header", parts, note)


def _escaped_estates(result: Result, overall: pd.Series, lang: str) -> dict[str, np.ndarray]:
    """Per estate, as escaped HTML (one object array each): ``id``, ``name``, ``badge`` (the
    overall verdict), ``households`` and ``built``; each distinct value is formatted once."""
    t, est = TEXT[lang], result.site.estates
    hh = est["households"]
    households = lookup(hh, lambda v: esc(f"{int(v):,}"), missing=esc(t["unknown"]))
    if "households_estimated" in est:
        guessed = est["households_estimated"].fillna(False).to_numpy(dtype=bool) & hh.notna()
        households = np.where(guessed, households + esc(f" ({t['estimated']})"), households)
    built = {"new": t["built_new"], "existing": t["built_existing"]}
    return {"id": esc_column(est["estate_id"]), "name": esc_column(est["name"]),
            "badge": lookup(overall.to_numpy(dtype=object), lambda st: _badge(st, lang)),
            "households": households,
            "built": lookup(est["built"], lambda b: esc(built.get(b, b)),
                            missing=esc(t["unknown"]))}


def _toc(cols: Mapping[str, np.ndarray], positions: np.ndarray, lang: str) -> Markup:
    t = TEXT[lang]
    every = len(positions) == len(cols["id"])
    return el("nav", el("h2", t["toc"]), el("ol", [
        el("li", el("a", t["summary"], href="#summary")),
        "" if every else el("li", el("a", t["all_estates"], href="#all-estates")),
        el("li", el("a", t["estates"], href="#estates"),
           el("ol", toc_estates(cols, positions), class_="toc-estates")),
        el("li", el("a", t["rejects"], href="#rejects")),
        el("li", el("a", t["notes"], href="#notes")),
        el("li", el("a", t["appendix"], href="#rules")),
    ]), id="toc")


def _declaration_table(result: Result, lang: str) -> Markup | None:
    dec = result.declaration
    if dec is None:
        return None
    t, rule = TEXT[lang], result.pack.declaration
    every = t["every_requirement"] if rule.every_requirement else ""
    rows = [[_estate_link(i, r.estate_id), r.estate_name,
             percent_text(r.compliance_rate, rule.min_compliance),
             f"{r.standards_passed}/{r.standards_applicable}", yes_no(r.eligible, lang),
             r.blocking_requirements, r.verdict_zh if lang == "zh" else r.verdict]
            for i, r in enumerate(dec.itertuples(index=False))]
    return join([el("h3", t["declaration"]),
                 el("p", t["declaration_rule"].format(rate=percent(rule.min_compliance, sep=""),
                                                      every=every)),
                 table([t["estate_id"], t["name"], t["compliance"], t["passed_applicable"],
                        t["eligible"], t["blocking"], t["verdict_text"]], rows,
                       numeric=(2, 3), class_="declaration")])


def _score_table(result: Result, lang: str) -> Markup | None:
    sc = result.scores
    if sc is None:
        return None
    t, parts = TEXT[lang], result.pack.scoring.parts
    heads = [t["estate_id"], t["name"],
             *(f"{p.title_zh if lang == 'zh' else p.title_en} ({points(p.max)})" for p in parts),
             t["total"], t["stars"], t["rating"]]
    rows = [[_estate_link(i, r["estate_id"]), r["estate_name"],
             *(number_text(r[p.id]) for p in parts), number_text(r["total"]),
             "—" if missing(r["stars"]) else
             (t["stars_none"] if r["stars"] == 0 else "★" * int(r["stars"])),
             r["rating_zh" if lang == "zh" else "rating"]]
            for i, r in enumerate(sc.to_dict("records"))]
    return join([el("h3", t["scores"]),
                 table(heads, rows, numeric=range(2, 3 + len(parts)))])


def _life_circle_table(result: Result, lang: str) -> Markup | None:
    """The whole area's share within each life circle (None when the pack has none)."""
    lc = result.life_circles
    if lc is None:
        return None
    t = TEXT[lang]
    rows = [[r.rule_id, f"{number_text(r.within_m)} m", r.basis, percent_text(r.target),
             f"{r.estates_counted}/{r.estates}", percent_text(r.share, r.target),
             _badge(r.status, lang)] for r in lc.itertuples(index=False)]
    return join([el("h3", t["life_circles"]), el("p", t["life_circles_note"]),
                 table([t["rule"], t["within_walk"], t["basis"], t["target"],
                        t["estates_counted"], t["share"], t["verdict"]], rows,
                       numeric=(1, 3, 4, 5))])


def _progress_table(progress: pd.DataFrame, lang: str) -> Markup:
    t = TEXT[lang]
    cols = list(progress.columns)

    def cell(col: str, v: object) -> str:
        if col.endswith("_share"):
            return percent_text(v)
        if col == "on_track":
            return yes_no(v, lang)
        return f"{int(v)}" if col == "year" and not missing(v) else number_text(v)

    rows = [[cell(c, v) for c, v in zip(cols, rec, strict=True)]
            for rec in progress.itertuples(index=False)]
    return table([t.get(c, c) for c in cols], rows, numeric=range(1, len(cols)))


def _summary(result: Result, overall: pd.Series, lang: str, overview_png: bytes | None,
             progress: pd.DataFrame | None, progress_png: bytes | None,
             elsewhere: Sequence[str] | None) -> Markup:
    """The summary; ``elsewhere``: not None when some estates have no section (the files that
    hold their findings), and then the per-estate table is left to the all-estates table."""
    t, st = TEXT[lang], STATUS_TEXT[lang]
    ledger = result.site.ledger
    counts = overall.value_counts()
    verdicts = table([t["verdict"], t["estates_n"]],
                     [[_badge(s, lang), int(counts.get(s, 0))] for s in WORST_FIRST], numeric=(1,))
    layer_counts = ledger.counts()
    judged = t["judged_line"].format(judged=f"{len(result.site.estates):,}",
                                     rejected=f"{ledger.total_rejected():,}")
    parts: list[object] = [el("h2", t["summary"]), el("h3", t["verdicts"]), verdicts,
                           el("p", judged), el("h3", t["layer_counts"]),
                           table([t["layer"], t["read"], t["judged"], t["rejected"]],
                                 layer_counts.itertuples(index=False), numeric=(1, 2, 3))]
    if elsewhere is not None:
        what = (t["declaration"] if result.declaration is not None else
                t["scores"] if result.scores is not None else None)
        per_estate = el("p", el("a", t["per_estate_overview"], href="#all-estates"),
                        "" if what is None else t["per_estate_elsewhere"].format(
                            what=what.lower(), where=where_text(elsewhere, lang)))
    else:
        per_estate = _declaration_table(result, lang) or _score_table(result, lang)
    if per_estate is None:
        est = result.site.estates
        per_estate = join([el("h3", t["overall_table"]), table(
            [t["estate_id"], t["name"], t["overall"]],
            [[_estate_link(i, eid), name, _badge(verdict, lang)] for i, (eid, name, verdict) in
             enumerate(zip(est["estate_id"], est["name"], overall.to_numpy(), strict=True))])])
    parts.append(per_estate)
    circles = _life_circle_table(result, lang)
    if circles is not None:
        parts.append(circles)
    sc = result.status_counts()
    failing = sc[sc[FAIL] > 0]
    index = {r.id: j for j, r in enumerate(result.pack.rules)}
    parts.append(el("h3", t["failing_rules"]))
    if failing.empty:
        parts.append(el("p", t["no_failing_rules"]))
    else:
        parts.append(table(
            [t["rule"], t["title"], *(st[s] for s in WORST_FIRST)],
            [[_rule_links([rid], index), _rule_title(result, rid, lang),
              *(int(row[s]) for s in WORST_FIRST)] for rid, row in failing.iterrows()],
            numeric=range(2, 6)))
    said = proposals_text(result.proposals, lang)
    if said:
        parts += [el("h3", t["proposals"]), el("p", said)]
    if overview_png is not None:
        parts += [el("h3", t["overview"]), _figure(overview_png, t["overview_alt"], "overview")]
    if progress is not None or progress_png is not None:
        parts.append(el("h3", t["campaign"]))
        if progress is not None:
            parts.append(_progress_table(progress, lang))
        if progress_png is not None:
            parts.append(_figure(progress_png, t["campaign_alt"], "chart"))
    return el("section", parts, id="summary")


def _rule_title(result: Result, rid: str, lang: str) -> str:
    rule = result.pack.rule(rid)
    return rule.title_zh if lang == "zh" else rule.title_en


def _finding_rows(result: Result, lang: str, compact: bool,
                  keep: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each estate's findings rows as HTML (a list by estate position; '' for the estates
    ``keep`` (a boolean per estate) leaves out), and its numbers of rules passed and not
    applicable.

    Rows follow the pack's order. With ``compact``, findings of one estate that are no data
    (or not applicable) for the same reason share one row listing their rule ids, placed after
    the others: without an attributes sheet, ~90 identical "no data" rows per estate would
    otherwise make most of a city's report. Built column-wise: each distinct text is escaped
    once and the cells are joined as arrays, so thousands of estates take seconds."""
    est = result.site.estates
    n = len(est)
    pos = positions_in(result.findings["estate_id"], est["estate_id"])
    kept = keep[pos] & (pos >= 0)
    f = result.findings if kept.all() else result.findings[kept]
    pos = pos[kept]
    index = {r.id: j for j, r in enumerate(result.pack.rules)}
    status = f["status"].to_numpy(dtype=object)
    badge = lookup(f["status"], lambda st: f'<td class="st">{_badge(st, lang)}</td>')
    links = lookup(f["rule_id"], lambda r: str(el("a", r, href=f"#r{index[r]}")))
    evidence = esc_column(f["evidence"])
    remedy = esc_column(f["remedy"])
    evidence_full = evidence + np.where(
        remedy != "", '<div class="remedy"><b>' + esc(TEXT[lang]["remedy"]) + "</b>: " + remedy
        + "</div>", "")
    grouped = np.zeros(len(f), dtype=bool)
    if compact and len(f):
        codes, _ = pd.factorize(f["evidence"], use_na_sentinel=False)
        gid = pd.DataFrame({"pos": pos, "status": status, "evidence": codes}).groupby(
            ["pos", "status", "evidence"], sort=False).ngroup().to_numpy()
        grouped = np.isin(status, [NO_DATA, NOT_APPLICABLE]) & (np.bincount(gid)[gid] >= 2)
    full = ~grouped
    value = esc_column(format_values(f["value"].to_numpy(dtype=float, na_value=np.nan)[full],
                                     f["unit"].to_numpy(dtype=object)[full], lang)
                       + walk_notes(f, lang)[full])
    title = esc_column(f["title_zh" if lang == "zh" else "title_en"])
    rows = ("<tr><td>" + links[full] + "</td><td>" + title[full] + "</td>" + badge[full]
            + '<td class="num">' + value + "</td><td>" + esc_column(f["threshold"])[full]
            + "</td><td>" + evidence_full[full] + "</td></tr>")
    parts = [pd.DataFrame({"pos": pos[full], "tail": 0, "first": np.flatnonzero(full),
                           "html": rows})]
    if grouped.any():
        members = np.flatnonzero(grouped)
        members = members[np.argsort(gid[members], kind="stable")]  # by group, then pack order
        starts = np.r_[0, np.flatnonzero(np.diff(gid[members])) + 1]
        ends = np.r_[starts[1:], len(members)]
        first = members[starts]
        joined = np.array([" ".join(links[members[a:b]]) for a, b in zip(starts, ends,
                                                                          strict=True)],
                          dtype=object)
        count = esc_column([TEXT[lang]["n_rules"].format(n=k) for k in ends - starts])
        html_g = ('<tr class="group"><td colspan="2"><b>' + count + "</b>: " + joined + "</td>"
                  + badge[first] + '<td colspan="3">' + evidence[first] + "</td></tr>")
        parts.append(pd.DataFrame({"pos": pos[first], "tail": 1, "first": first,
                                   "html": html_g}))
    rows_df = pd.concat(parts, ignore_index=True).sort_values(["pos", "tail", "first"])
    html_rows = rows_df["html"].to_numpy(dtype=object)
    bounds = np.searchsorted(rows_df["pos"].to_numpy(), np.arange(n + 1))
    per_estate = ["".join(html_rows[bounds[i]:bounds[i + 1]]) for i in range(n)]
    counts = {st: np.bincount(pos, weights=status == st, minlength=n).astype(int)
              for st in (PASS, NOT_APPLICABLE)}
    return per_estate, counts[PASS], counts[NOT_APPLICABLE]


def _estate_lines(result: Result, lang: str, positions: np.ndarray) -> list[Markup | None]:
    """The declaration or score line of each estate at ``positions`` (None when the pack has
    neither)."""
    t, rule = TEXT[lang], result.pack.declaration
    dec = result.declaration
    if dec is not None:
        return [el("p", el("b", t["declaration"]), ": ", t["compliance"], " ",
                   percent_text(r.compliance_rate, rule.min_compliance), f" ({r.standards_passed}/"
                   f"{r.standards_applicable}); ", t["eligible"], ": ", yes_no(r.eligible, lang),
                   *(["; ", t["blocking"], ": ", r.blocking_requirements]
                     if r.blocking_requirements else []), class_="line")
                for r in dec.iloc[positions].itertuples(index=False)]
    sc = result.scores
    if sc is not None:
        return [el("p", el("b", t["scores"]), ": ", t["total"], " ", number_text(total), "; ",
                   rating, class_="line")
                for total, rating in zip(sc["total"].iloc[positions],
                                         sc["rating_zh" if lang == "zh" else "rating"].iloc[
                                             positions], strict=True)]
    return [None] * len(positions)


def _estates(result: Result, cols: Mapping[str, np.ndarray], lang: str,
             estate_pngs: Mapping[str, bytes] | None, compact: bool,
             positions: np.ndarray) -> list[Markup]:
    """The sections of the estates at ``positions`` (ascending), as the pieces of one
    element (their maps make megabytes, joined once with the page)."""
    t = TEXT[lang]
    est = result.site.estates
    keep = np.zeros(len(est), dtype=bool)
    keep[positions] = True
    rows, passed, not_applicable = _finding_rows(result, lang, compact, keep)
    lines = _estate_lines(result, lang, positions)
    n_rules = len(result.pack.rules)
    facts = ("<dt>" + esc(t["estate_id"]) + "</dt><dd>" + cols["id"] + "</dd><dt>"
             + esc(t["name"]) + "</dt><dd>" + cols["name"] + "</dd><dt>" + esc(t["households"])
             + "</dt><dd>" + cols["households"] + "</dd><dt>" + esc(t["built"]) + "</dt><dd>"
             + cols["built"] + "</dd><dt>" + esc(t["overall"]) + "</dt><dd>" + cols["badge"]
             + "</dd>")
    head = el("thead", el("tr", [el("th", h) for h in (
        t["rule"], t["title"], t["verdict"], t["value"], t["threshold"], t["evidence"])]))
    no_map = (el("p", t["no_estate_map"].format(k=len(estate_pngs), n=len(est)),
                 class_="no-map") if estate_pngs is not None else "")
    sections = []
    ids = est["estate_id"].to_numpy(dtype=object)
    for k, i in enumerate(positions):
        eid = ids[i]
        # every piece is escaped HTML: cols and rows from esc_column, the rest from el()
        findings = Markup(f'<table class="findings">{head}<tbody>{rows[i]}</tbody></table>')
        if passed[i] and passed[i] + not_applicable[i] == n_rules:  # nothing fails or lacks data
            folded = t["all_pass"].format(n=passed[i])
            if not_applicable[i]:
                folded += t["and_not_applicable"].format(n=not_applicable[i])
            findings = el("details", el("summary", folded), findings, class_="all-pass")
        png = estate_pngs.get(eid) if estate_pngs is not None else None
        figure = (_figure(png, t["estate_map_alt"].format(id=eid), "estate-map")
                  if png is not None else no_map)
        sections.append(f'<section class="estate" id="e{i}" data-estate-id="{cols["id"][i]}">'
                        f'<h3>{cols["id"][i]} {cols["name"][i]}</h3><dl class="facts">'
                        f'{facts[i]}</dl>{lines[k] or ""}{figure}{findings}</section>')
    start, end = tags("section", id="estates")
    return [start, el("h2", t["estates"]), *map(Markup, sections), end]


def _rejects(result: Result, lang: str) -> Markup:
    t = TEXT[lang]
    rej = result.site.ledger.rejects_frame()
    body = el("p", t["no_rejects"]) if rej.empty else table(
        [t["layer"], t["feature_id"], t["reason"], t["reject_estates"]],
        rej.itertuples(index=False))
    return el("section", el("h2", t["rejects"]), body, id="rejects")


def _notes(result: Result, lang: str) -> Markup:
    t, site = TEXT[lang], result.site
    index = {r.id: j for j, r in enumerate(result.pack.rules)}
    conversions = ([el("li", f"{role}: {conv}") for role, conv in site.conversions.items()]
                   or [el("li", t["no_conversions"])])
    notes = [el("li", n) for n in site.ledger.notes] or [el("li", t["no_notes"])]
    methods = result.findings.groupby("method", sort=False)["rule_id"].unique()
    return el("section", el("h2", t["notes"]), el("dl", [
        el("dt", t["crs"]),
        el("dd", f"{site.crs.to_string()} — {site.crs.name}", el("br"), t["crs_metres"]),
        el("dt", t["conversions"]), el("dd", el("ul", conversions)),
        el("dt", t["ledger_notes"]), el("dd", el("ul", notes)),
        el("dt", t["attributes_sheet"]), el("dd", site.attributes_source or t["no_sheet"]),
    ], class_="notes"), el("h3", t["methods"]), table(
        [t["method"], t["rules"]],
        [[m, _rule_links(rids, index)] for m, rids in methods.items()], class_="methods"),
        id="notes")


def _appendix(result: Result, lang: str) -> Markup:
    t, pack = TEXT[lang], result.pack
    rows = [el("tr", el("td", el("b", r.id), id=f"r{j}"),
               el("td", r.title_zh if lang == "zh" else r.title_en),
               el("td", r.check), el("td", r.citation)) for j, r in enumerate(pack.rules)]
    extra = [el("p", el("b", t["declaration"]), ": ", pack.declaration.citation)
             if pack.declaration is not None else "",
             el("p", el("b", t["scores"]), ": ", pack.scoring.citation)
             if pack.scoring is not None else ""]
    head = el("thead", el("tr", [el("th", h) for h in (t["rule"], t["title"], t["check"],
                                                        t["citation"])]))
    return el("section", el("h2", t["appendix"]),
              el("p", el("b", t["document"]), ": ", pack.document), extra,
              el("table", head, el("tbody", rows), class_="rules"), id="rules")


# -- public --------------------------------------------------------------------------------

def render_report(result: Result, *, lang: str = "zh", overview_png: bytes | None = None,
                  estate_pngs: Mapping[str, bytes] | None = None,
                  progress: pd.DataFrame | None = None,
                  progress_png: bytes | None = None, compact: bool = True,
                  sections: int | None = None, elsewhere: Sequence[str] = ()) -> str:
    """The audit report as one self-contained HTML page.

    Parameters
    ----------
    result : a judged result.
    lang : ``zh`` (default) or ``en``: the language of headings, labels and rule titles
        (citations and other data are shown as written).
    overview_png : the overview map (PNG bytes), shown in the summary.
    estate_pngs : estate_id -> that estate's map (PNG bytes), shown in its section; an estate
        missing from it gets a note saying how many estates have maps (None: no maps, no note).
    progress : the campaign progress table (one row per year: ``year, scheduled,
        scheduled_cumulative, scheduled_share, target_share, passing, passing_share,
        on_track``; shares are ratios, shown as %).
    progress_png : the campaign progress chart (PNG bytes).
    compact : findings of an estate that are no data (or not applicable) for the same reason
        share one row listing their rule ids (default); False: one row per finding. Estates
        whose rules all pass show their table folded (``<details>``) either way.
    sections : give a section (findings table, map) to at most this many estates, failing ones
        first, then those lacking data, and to every estate in ``estate_pngs``
        (:func:`section_positions`); None (default): every estate. When that leaves some out,
        the page says so at its top and lists every estate in one compact table (verdict,
        numbers of rules by verdict), linked to the sections there are.
    elsewhere : the names of the files the run wrote that hold every estate's findings
        (findings.csv ...: :data:`FULL_RESULTS`), named for the estates without a section.

    Returns
    -------
    str
        The HTML page (UTF-8 text): no external resource, no script; distances in metres and
        areas in square metres as measured in the working CRS; ratios as percentages.
    """
    if lang not in LANGS:
        raise GeocheckError(f"unknown report language {lang!r}: choose zh or en")
    t = TEXT[lang]
    overall = result.overall().reindex(result.site.estates["estate_id"])
    cols = _escaped_estates(result, overall, lang)
    n = len(result.site.estates)
    positions = section_positions(result, sections, estate_pngs or ())
    budget = len(positions) < n
    title = f"{t['report']} — {result.pack.title_zh if lang == 'zh' else result.pack.title_en}"
    head = join([
        void("meta", charset="utf-8"),
        void("meta", http_equiv="Content-Security-Policy",
             content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"),
        void("meta", name="viewport", content="width=device-width, initial-scale=1"),
        void("meta", name="generator", content=f"geocheck {VERSION}"),
        el("title", title), el("style", Markup(css())),
    ])
    page, main = tags("html", lang=t["html_lang"]), tags("main")
    # the page is joined once: nesting its sections in elements would copy every map again
    return "".join([
        "<!DOCTYPE html>\n", page[0], el("head", head), "<body>",
        _title(result, lang, budget_note(len(positions), n, sections, len(estate_pngs or ()),
                                         elsewhere, lang) if budget else ""),
        _toc(cols, positions, lang),
        main[0], _summary(result, overall, lang, overview_png, progress, progress_png,
                          elsewhere if budget else None),
        all_estates_table(result, cols, overall, np.isin(np.arange(n), positions),
                          elsewhere, lang) if budget else "",
        *_estates(result, cols, lang, estate_pngs, compact, positions),
        _rejects(result, lang), _notes(result, lang), _appendix(result, lang), main[1],
        "</body>", page[1], "\n"])
