"""The permit-review opinion (审查意见) on one site plan: its content, and opinion.html.

:func:`build_opinion` gathers what the opinion says from a check's result (and the diff
against the plan's earlier version, when there is one) into an :class:`Opinion`; the HTML
(:func:`render_opinion`) and the Word document (:mod:`geocheck.views.opinion_docx`) are two
layouts of it. The sections: the plan's identification (files with their SHA-256, layers,
CRS, date), the input's conformity (layers read, units, rejected features such as unclosed
outlines), the indicator table (required, measured, verdict, citation), the numbered review
opinions, one per failing rule, with its remedy where the findings carry a ``remedy`` column
and a map of the estate, what changed since the earlier version, and blanks for the reviewer
and the date. All text from the input is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.status import FAIL, NO_DATA
from ..core.units import share
from ..rules.diff import NEGATIVE
from ..rules.result import Result
from .diff_map import CHANGE_ZH
from .report.html import Markup, el, join, png_uri, void
from .text import STATUS_TEXT

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
    return Opinion(info, layers, list(led.notes), rejects, ind, items, no_data, changes,
                   figures or {})


def change_lists(changes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The diff split as the opinion reports it: ``fixed`` (整改达标), ``broken`` (new
    failures), ``worse`` and ``other``."""
    c = changes["change"]
    return {"fixed": changes[c == "fixed"], "broken": changes[c == "broken"],
            "worse": changes[c == "worse"],
            "other": changes[~c.isin(["fixed", *NEGATIVE])]}


CSS = """
body{font-family:"Noto Sans CJK SC","Noto Serif CJK SC","Source Han Sans SC","Microsoft YaHei",
sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{text-align:center;font-size:1.6em}
h2{border-bottom:1px solid #999;font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #aaa;padding:.25em .4em;vertical-align:top;text-align:left}
th{background:#eee}.fail{color:#b2182b;font-weight:bold}.pass{color:#1a7837}
.no_data{color:#666}.cite{font-size:.85em;color:#444}ol li{margin-bottom:.8em}
img{max-width:100%;border:1px solid #ccc}.sign{margin-top:3em;font-size:1.1em}
.sign span{display:inline-block;min-width:12em;border-bottom:1px solid #000}
"""


def _table(headers: list[str], rows: list[list[object]], cls: list[str] | None = None
           ) -> Markup:
    head = el("tr", *(el("th", h) for h in headers))
    body = [el("tr", *(el("td", c) for c in row), class_=(cls[k] if cls else None))
            for k, row in enumerate(rows)]
    return el("table", el("thead", head), el("tbody", *body))


def render_opinion(op: Opinion) -> str:
    """opinion.html: the opinion as one self-contained page (maps inlined as PNG)."""
    i = op.info
    ident = _table(["项目 item", "内容 content"], [
        ["方案名称 plan", i.name], ["审查日期 date", i.date], ["坐标系 CRS", i.crs],
        ["规则包 rule pack", i.pack], *([["对比版本 compared with", i.against]]
                                       if i.against else [])])
    files = _table(["文件 file", "字节 bytes", "SHA-256"],
                   [[n, f"{b:,}", h] for n, b, h in i.files])
    layers = _table(["图层 layer", "读取 read", "采用 kept", "剔除 rejected"],
                    [[r, n, k, x] for r, n, k, x in op.layers])
    rej = (_table(["图层 layer", "要素 feature", "原因 reason"],
                  op.rejects[["layer", "feature_id", "reason"]].astype(str).values.tolist())
           if len(op.rejects) else el("p", "无剔除要素（none rejected）。"))
    notes = el("ul", *(el("li", n) for n in op.notes)) if op.notes else ""
    ind = op.indicators
    indicators = _table(["小区/地块", "指标 indicator", "要求 required", "设计/实测 measured",
                         "结论 verdict", "依据 citation"],
                        ind[["estate", "indicator", "required", "measured", "verdict",
                             "citation"]].values.tolist(),
                        cls=ind["status"].astype(str).tolist())
    items = el("ol", *(el("li", _item_html(it)) for it in op.items)) if op.items else \
        el("p", "经审查，所列指标均未发现不符合项。")
    figures = join(el("figure", void("img", src=png_uri(png), alt=f"{eid} 总平面示意"),
                      el("figcaption", f"图：{eid} 审查示意图")) for eid, png in
                   op.figures.items())
    lacking = (join([el("h3", "无法判定的指标（缺少数据）"),
                     el("ul", *(el("li", t) for t in op.no_data))]) if op.no_data else "")
    body = [el("h1", TITLE), el("h2", "一、项目及图纸信息"), ident, files,
            el("h2", "二、图纸符合性"),
            el("p", f"量测坐标系：{i.crs}，单位：米。"), layers, rej, notes,
            el("h2", "三、指标审查表"), indicators,
            el("h2", "四、审查意见"), items, figures, lacking]
    if op.changes is not None:
        body += [el("h2", "五、与上一版方案对比"), _changes_html(op.changes, i.against)]
    body.append(el("p", Markup("审查人：<span>&nbsp;</span>&emsp;&emsp;日期：<span>&nbsp;</span>"),
                   class_="sign"))
    page = el("html", el("head", void("meta", charset="utf-8"), el("title", TITLE),
                         el("style", Markup(CSS))), el("body", *body), lang="zh-CN")
    return "<!DOCTYPE html>\n" + str(page)


def _item_html(it: Item) -> Markup:
    parts = [el("strong", f"{it.title}（{it.rule_id}，{it.estate}）"), "：",
             f"要求 {it.required}，设计/实测 {it.measured}，不符合要求。{it.evidence}。",
             el("div", f"依据：{it.citation}", class_="cite")]
    if it.remedy:
        parts.append(el("div", f"整改建议：{it.remedy}"))
    return join(parts)


def _changes_html(changes: pd.DataFrame, against: str) -> Markup:
    lists = change_lists(changes)
    out = [el("p", f"与 {against} 相比：已整改 {len(lists['fixed'])} 项，新增不符合 "
                   f"{len(lists['broken'])} 项，变差 {len(lists['worse'])} 项。")]
    for key, head in (("fixed", "已整改达标"), ("broken", "新增不符合项"), ("worse", "变差"),
                      ("other", "其他变化")):
        t = lists[key]
        if len(t):
            out += [el("h3", head), _table(
                ["小区/地块", "指标", "变化", "上一版", "本版"],
                [[r.estate_name if isinstance(r.estate_name, str) else r.estate_id,
                  f"{r.title_zh}（{r.rule_id}）", CHANGE_ZH.get(r.change, r.change),
                  r.before or "—", r.after or "—"] for r in t.itertuples()])]
    if not len(changes):
        out.append(el("p", "两版方案的审查结论及数值无变化。"))
    return join(out)


def failing_positions(result: Result) -> np.ndarray:
    """Positions (in the site's estates) of the estates with a failing rule, for figures."""
    failing = set(result.findings.loc[result.findings["status"] == FAIL, "estate_id"])
    return np.flatnonzero(result.site.estates["estate_id"].isin(failing).to_numpy())
