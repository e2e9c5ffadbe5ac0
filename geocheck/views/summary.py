"""Plain-text summaries for the terminal."""

from __future__ import annotations

import unicodedata
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
from ..core.units import percent, share
from ..rules.result import Result

MAX_LISTED = 15
MAX_RULES = 30
"""Packs with more rules list only rules that have some data in the rule table."""
MAX_RULES_LISTED = 8


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(" " * (w - _width(c)) + c if i in right else c + " " * (w - _width(c))
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
            for r in rows]


def _name(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


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
                     "-" if pd.isna(r.compliance_rate) else share(r.compliance_rate),
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
    lines = ["", f"score (of {sc.total:g} points) and stars:"]
    rows = [["estate", "name", *(f"{p.id}/{p.max:g}" for p in sc.parts), "total", "rating"]]
    for r in table.head(MAX_LISTED).itertuples():
        d = r._asdict()
        rows.append([str(r.estate_id), _name(r.estate_name),
                     *("-" if pd.isna(d[p]) else f"{d[p]:g}" for p in parts),
                     "-" if pd.isna(r.total) else f"{r.total:g}", r.rating])
    lines += ["  " + x for x in _table(rows, set(range(2, 3 + len(parts))))]
    if len(table) > MAX_LISTED:
        lines.append(f"  ... and {len(table) - MAX_LISTED} more (see summary.csv)")
    return lines


def summarise(result: Result, written: Mapping[str, Path] | None = None, *,
              removed: Sequence[str] = (), notes: Sequence[str] = ()) -> str:
    """A readable account of a check: input, CRS, layer counts, verdicts per rule, failures,
    and the files ``written``, with the previous run's stale outputs ``removed`` and ``notes``
    on what the outputs leave out (a sheet cut to fit Excel)."""
    site, pack = result.site, result.pack
    lines = [f"geocheck · pack {pack.id} ({pack.title_zh}) · {site.source}"
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
        for eid, group in list(bad.groupby("estate_id", sort=False))[:MAX_LISTED]:
            name = _name(group["estate_name"].iloc[0])
            parts = []
            for status in (FAIL, NO_DATA):
                ids = group.loc[group["status"] == status, "rule_id"].tolist()
                if ids:
                    listed = ", ".join(ids) if len(ids) <= MAX_RULES_LISTED else \
                        f"{len(ids)} rules"
                    parts.append(f"{status} {listed}")
            who = f"{eid} {name}" if name else str(eid)
            lines.append(f"  {who}: {'; '.join(parts)}")
        more = bad["estate_id"].nunique() - MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more (see findings.csv)")
    lines += _declaration_lines(result) + _score_lines(result)
    if site.ledger.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in site.ledger.notes]
    if written:
        lines += ["", "wrote:"] + [f"  {p}" for p in written.values()]
    if removed:
        lines += ["removed (stale outputs of the previous run in this folder):"]
        lines += [f"  {name}" for name in removed]
    if notes:
        lines += ["", "output notes:"] + [f"  {n}" for n in notes]
    return "\n".join(lines)
