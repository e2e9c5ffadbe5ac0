"""The permit-review opinion (审查意见) on one site plan: its content, and opinion.html.

:func:`build_opinion` gathers what the opinion says from a check's result (and the diff
against the plan's earlier version, when there is one) into an :class:`Opinion`; the HTML
(:func:`geocheck.views.opinion.page.render_opinion`) and the Word document
(:func:`geocheck.views.opinion.word.write_opinion_docx`) are two
layouts of it. The sections: the plan's identification (files with their SHA-256, layers,
CRS, date), the input's conformity (layers read, units, rejected features such as unclosed
outlines), the indicator table (required, measured, verdict, citation), the numbered review
opinions, one per failing rule, with its remedy where the findings carry a ``remedy`` column
and a map of the estate, what changed since the earlier version, and blanks for the reviewer
and the date. All text from the input is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...core.status import FAIL, NO_DATA
from ...core.units import share
from ...rules.diff import NEGATIVE
from ...rules.result import Result
from ..text import STATUS_TEXT

TITLE = "建设工程设计方案总平面图审查意见"
"""The opinion's title (site plan review opinion)."""


@dataclass
class PlanInfo:
    """The plan's identification.

    Attributes
    ----------
    name : the plan's name (the input file's stem).
    files : (file name, bytes, SHA-256) of every file read.
    crs : the working CRS, e.g. ``EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E)``.
    date : when the review was run (ISO date).
    pack : the pack's id and title.
    against : the earlier version compared with, or ''.
    """

    name: str
    files: list[tuple[str, int, str]]
    crs: str
    date: str
    pack: str
    against: str = ""


@dataclass
class Item:
    """One numbered review opinion: a failing rule of an estate."""

    number: int
    estate: str
    rule_id: str
    title: str
    required: str
    measured: str
    evidence: str
    citation: str
    remedy: str = ""


@dataclass
class Opinion:
    """Everything the opinion says (see the module's docstring); ``figures``: map PNG per
    estate_id with opinions."""

    info: PlanInfo
    layers: list[tuple[str, int, int, int]]
    notes: list[str]
    rejects: pd.DataFrame
    indicators: pd.DataFrame
    items: list[Item]
    no_data: list[str]
    changes: pd.DataFrame | None = None
    figures: dict[str, bytes] = field(default_factory=dict)


def shown(value: object, unit: object) -> str:
    """A finding's value as the opinion shows it: ratios as percentages (truncated, so a
    share never reads as a threshold it missed), metres to the centimetre."""
    if value is None or pd.isna(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    if unit == "ratio":
        return share(v)
    if unit == "m":
        return f"{v:,.2f} m"
    if unit in ("count", "yes/no"):
        return f"{v:,.0f}"
    return f"{v:,.3f}".rstrip("0").rstrip(".") + (f" {unit}" if unit not in ("number", "")
                                                   else "")


def build_opinion(result: Result, info: PlanInfo, changes: pd.DataFrame | None = None,
                  figures: dict[str, bytes] | None = None) -> Opinion:
    """Gather the opinion from a check's result (and the diff against the earlier version)."""
    f = result.findings
    led = result.site.ledger
    rejects = led.rejects_frame()
    rej_count = rejects["layer"].value_counts() if len(rejects) else pd.Series(dtype=int)
    layers = [(role, n, n - int(rej_count.get(role, 0)), int(rej_count.get(role, 0)))
              for role, n in led.read.items()]
    ind = pd.DataFrame({
        "estate": f["estate_name"].fillna(f["estate_id"]).astype(str),
        "indicator": f["title_zh"].astype(str), "rule_id": f["rule_id"],
        "required": f["threshold"].fillna("").astype(str),
        "measured": [shown(v, u) for v, u in zip(f["value"], f["unit"], strict=True)],
        "verdict": f["status"].map(STATUS_TEXT["zh"]), "status": f["status"],
        "citation": f["citation"].astype(str)})
    fails = f[f["status"] == FAIL]
    remedy = fails["remedy"] if "remedy" in fails.columns else pd.Series("", index=fails.index)
    items = [Item(k, str(r.estate_name or r.estate_id), r.rule_id, r.title_zh,
                  str(r.threshold), shown(r.value, r.unit), str(r.evidence), str(r.citation),
                  "" if pd.isna(m) else str(m))
             for k, (r, m) in enumerate(zip(fails.itertuples(), remedy, strict=True), start=1)]
    lacking = f[f["status"] == NO_DATA]
    no_data = [f"{r.title_zh}（{r.rule_id}）：{r.evidence}" for r in lacking.itertuples()]
    notes = [_ABSOLUTE_PATH.sub(r"\1", n) for n in led.notes]
    return Opinion(info, layers, notes, rejects, ind, items, no_data, changes, figures or {})


_ABSOLUTE_PATH = re.compile(r"(?<![^\s(])(?:[A-Za-z]:)?[/\\](?:[^\s()/\\]+[/\\])*([^\s()/\\]+)")
"""An absolute file path in a note (POSIX or Windows): the opinion names the file only (the
reviewer's folders are nobody else's business; the files and their SHA-256 are listed)."""


def change_lists(changes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The diff split as the opinion reports it: ``fixed`` (整改达标), ``broken`` (new
    failures), ``worse`` and ``other``."""
    c = changes["change"]
    return {"fixed": changes[c == "fixed"], "broken": changes[c == "broken"],
            "worse": changes[c == "worse"],
            "other": changes[~c.isin(["fixed", *NEGATIVE])]}


def failing_positions(result: Result) -> np.ndarray:
    """Positions (in the site's estates) of the estates with a failing rule, for figures."""
    failing = set(result.findings.loc[result.findings["status"] == FAIL, "estate_id"])
    return np.flatnonzero(result.site.estates["estate_id"].isin(failing).to_numpy())
