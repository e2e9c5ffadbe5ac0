"""Plain-text summaries for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..core.status import (
    COUNT_ORDER,
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
)
from ..core.terminal import clip, display_width, printable
from ..core.units import percent, plain, points, share
from ..rules.result import Result
from .text import proposals_text

MAX_LISTED = 15
MAX_RULES = 30
"""Packs with more rules list only rules that have some data in the rule table."""
MAX_RULES_LISTED = 8
CELL_WIDTH = 40
"""Terminal columns a cell of a summary table takes at most (longer text is cut with an
ellipsis; the files keep it whole)."""
LAST_CELL_WIDTH = 80
"""Terminal columns the last cell of a row (a rule's title, blocking requirements) takes at
most."""


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    """Rows aligned in columns; each cell made printable and cut to :data:`CELL_WIDTH`
    (:data:`LAST_CELL_WIDTH` for the last column)."""
    last = len(rows[0]) - 1
    rows = [[clip(printable(c), LAST_CELL_WIDTH if i == last else CELL_WIDTH)
             for i, c in enumerate(r)] for r in rows]
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(" " * (w - display_width(c)) + c if i in right else
                      c + " " * (w - display_width(c))
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
            for r in rows]


def _name(value: object) -> str:
    """A name or id for a line of the summary: printable, at most :data:`CELL_WIDTH`
    columns ('' when missing)."""
    return "" if value is None or pd.isna(value) else clip(printable(value), CELL_WIDTH)


def _declaration_lines(result: Result) -> list[str]:
    table = result.declaration
    if table is None:
        return []
    rule = result.pack.declaration
    eligible = int(table["eligible"].sum())
    need = percent(rule.min_compliance, sep="")
    lines = ["", f"declaration ({need} of applicable standards passed"
             + (", one passed under every requirement" if rule.every_requirement else "")
             + f"): {eligible} of {len(table)} estates eligible"]
    rows = [["estate", "name", "compliance", "passed/applicable", "eligible", "blocking"]]
    for r in table.head(MAX_LISTED).itertuples():
        blocking = r.blocking_requirements.split("; ")
        rows.append([str(r.estate_id), _name(r.estate_name),
                     "-" if pd.isna(r.compliance_rate) else
                     share(r.compliance_rate, limit=rule.min_compliance),
                     f"{r.standards_passed}/{r.standards_applicable}",
                     "yes" if r.eligible else "no",
                     "" if not r.blocking_requirements else
                     " ".join(b.split(" ")[0] for b in blocking) if len(blocking) <= 6 else
                     f"{len(blocking)} of {len(result.pack.requirements)} requirements"])
    lines += ["  " + x for x in _table(rows, {2, 3})]
    if len(table) > MAX_LISTED:
        lines.append(f"  ... and {len(table) - MAX_LISTED} more (see summary.csv)")
    return lines


def _score_lines(result: Result) -> list[str]:
    table = result.scores
    if table is None:
        return []
    sc = result.pack.scoring
    parts = [p.id for p in sc.parts]
    lines = ["", f"score (of {points(sc.total)} points) and stars:"]
    rows = [["estate", "name", *(f"{p.id}/{points(p.max)}" for p in sc.parts), "total",
             "rating"]]
    for r in table.head(MAX_LISTED).itertuples():
        d = r._asdict()
        rows.append([str(r.estate_id), _name(r.estate_name),
                     *("-" if pd.isna(d[p]) else points(d[p]) for p in parts),
                     "-" if pd.isna(r.total) else points(r.total), r.rating])
    lines += ["  " + x for x in _table(rows, set(range(2, 3 + len(parts))))]
    if len(table) > MAX_LISTED:
        lines.append(f"  ... and {len(table) - MAX_LISTED} more (see summary.csv)")
    return lines


def _life_circle_lines(result: Result) -> list[str]:
    table = result.life_circles
    if table is None:
        return []
    lines = ["", "life circles, whole area (share of all estates' households or buildings "
                 "within the walk):"]
    rows = [["rule", "within", "target", "estates", "share", "status"]]
    for r in table.itertuples():
        rows.append([str(r.rule_id), f"{plain(r.within_m)} m", percent(r.target, sep=""),
                     f"{r.estates_counted}/{r.estates}",
                     "-" if pd.isna(r.share) else share(r.share, limit=r.target), str(r.status)])
    return lines + ["  " + x for x in _table(rows, {1, 2, 3, 4})]


def summarise(result: Result, written: Mapping[str, Path] | None = None, *,
              removed: Sequence[str] = (), notes: Sequence[str] = ()) -> str:
    """A readable account of a check: input, CRS, layer counts, verdicts per rule, failures,
    and the files ``written``, with the previous run's stale outputs ``removed`` and ``notes``
    on what the outputs leave out (a sheet cut to fit Excel). The proposed garbage points are
    summed up when proposals.gpkg is among the files ``written`` (or none are given)."""
    site, pack = result.site, result.pack
    lines = [f"geocheck · pack {_name(pack.id)} ({_name(pack.title_zh)}) · {site.source}"
             + ("\nreference values (a national standard cited by name), not a local campaign "
                "standard" if pack.reference else ""),
             f"working CRS: {site.crs.to_string()} ({site.crs.name}), metres", ""]
    counts = site.ledger.counts()
    lines += _table([["layer", "read", "judged", "rejected"]]
                    + [[str(v) for v in r] for r in counts.itertuples(index=False)], {1, 2, 3})
    lines.append("")
    sc = result.status_counts()
    titles = {r.id: r.title_en for r in pack.rules}
    big = len(sc.index) > MAX_RULES
    shown = [rid for rid in sc.index if not big or sc.at[rid, FAIL] > 0]
    rest = sc.drop(index=shown)
    lines += _table([["rule", "pass", "fail", "n/a", "no data", "title"]]
                    + [[rid, *(str(sc.at[rid, s]) for s in COUNT_ORDER),
                        titles[rid]] for rid in shown], {1, 2, 3, 4})
    if len(rest):
        total = rest.sum()
        lines.append(f"... and {len(rest)} more rules without a failure (findings: "
                     f"{total[PASS]} pass, {total[NOT_APPLICABLE]} n/a, {total[NO_DATA]} no data)"
                     + ("; record-based rules need the attributes sheet (--attributes; "
                        "geocheck template makes one)" if site.attributes is None else "")
                     + "; see findings.csv")
    overall = result.overall()
    tally = overall.value_counts()
    lines += ["", f"estates: {len(overall)} · all applicable rules met {tally.get(PASS, 0)}"
                  f" · some rule failed {tally.get(FAIL, 0)} · missing data {tally.get(NO_DATA, 0)}"
                  f" · nothing applicable {tally.get(NOT_APPLICABLE, 0)}"]
    f = result.findings
    bad = f[f["status"].isin([FAIL, NO_DATA])]
    if len(bad):
        lines.append("estates with failures or missing data:")
        listed_ids = bad["estate_id"].unique()[:MAX_LISTED]  # the first, in findings order
        listed_rows = bad[bad["estate_id"].isin(listed_ids)]
        for eid, group in listed_rows.groupby("estate_id", sort=False):
            name = _name(group["estate_name"].iloc[0])
            parts = []
            for status in (FAIL, NO_DATA):
                ids = group.loc[group["status"] == status, "rule_id"].tolist()
                if ids:
                    listed = ", ".join(ids) if len(ids) <= MAX_RULES_LISTED else \
                        f"{len(ids)} rules"
                    parts.append(f"{status} {listed}")
            who = f"{_name(eid)} {name}" if name else _name(eid)
            lines.append(f"  {who}: {'; '.join(parts)}")
        more = bad["estate_id"].nunique() - MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more (see findings.csv)")
    lines += _declaration_lines(result) + _score_lines(result) + _life_circle_lines(result)
    # the proposals are named where they were written (a run without proposals.gpkg does not
    # work them out just to say so)
    said = proposals_text(result.proposals) if written is None or "proposals" in written \
        else ""
    if said:
        lines += ["", said]
    if site.ledger.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in site.ledger.notes]
    if written:
        lines += ["", "wrote:"] + [f"  {p}" for p in written.values()]
    if removed:
        lines += ["removed (stale outputs of the previous run in this folder):"]
        lines += [f"  {name}" for name in removed]
    if notes:
        lines += ["", "output notes:"] + [f"  {n}" for n in notes]
    return printable("\n".join(lines), newlines=True)
