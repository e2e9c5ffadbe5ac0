"""opinion.html: the review opinion as one self-contained page (see
:mod:`geocheck.views.opinion`). Every text is escaped (:func:`el`); maps are inlined PNGs."""

from __future__ import annotations

import base64
import html

import pandas as pd

from ...rules.diff import CHANGE_ZH
from . import TITLE, Item, Opinion, change_lists


class Markup(str):
    """HTML made here: :func:`esc` passes it through."""


def esc(value: object) -> Markup:
    """``value`` as escaped HTML text (quotes too), unless it is Markup; None -> ''."""
    if isinstance(value, Markup):
        return value
    return Markup("" if value is None else html.escape(str(value), quote=True))


def el(tag: str, /, *children: object, **attrs: object) -> Markup:
    """``<tag ...>children</tag>``: children and attribute values escaped unless Markup,
    lists joined, None attributes left out."""
    at = "".join(f' {k.rstrip("_")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Markup(f"<{tag}{at}>{join(children)}</{tag}>")


def join(children: object) -> Markup:
    """Children (text, Markup, or lists of them) joined, text escaped."""
    if isinstance(children, list | tuple):
        return Markup("".join(join(c) for c in children))
    return esc(children)


def img(png: bytes, alt: str) -> Markup:
    """An inlined PNG."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return Markup(f'<img src="{uri}" alt="{esc(alt)}">')


CSS = """
body{font-family:"Noto Sans CJK SC","Noto Serif CJK SC","Source Han Sans SC","Microsoft YaHei",
sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{text-align:center;font-size:1.6em}
h2{border-bottom:1px solid #999;font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #aaa;padding:.25em .4em;vertical-align:top;text-align:left}
th{background:#eee}td:first-child{white-space:nowrap}figure{margin:1em 0}
.fail{color:#b2182b;font-weight:bold}.pass{color:#1a7837}
.no_data{color:#666}.cite{font-size:.85em;color:#444}ol li{margin-bottom:.8em}
img{max-width:100%;border:1px solid #ccc}.sign{margin-top:3em;font-size:1.1em}
.sign span{display:inline-block;min-width:12em;border-bottom:1px solid #000}
"""


def _table(headers: list[str], rows: list[list[object]], cls: list[str] | None = None
           ) -> Markup:
    head = el("tr", [el("th", h) for h in headers])
    body = [el("tr", [el("td", c) for c in row], class_=(cls[k] if cls else None))
            for k, row in enumerate(rows)]
    return el("table", el("thead", head), el("tbody", body))


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
    notes = el("ul", [el("li", n) for n in op.notes]) if op.notes else ""
    ind = op.indicators
    indicators = _table(["小区/地块", "指标 indicator", "要求 required", "设计/实测 measured",
                         "结论 verdict", "依据 citation"],
                        ind[["estate", "indicator", "required", "measured", "verdict",
                             "citation"]].values.tolist(),
                        cls=ind["status"].astype(str).tolist())
    items = el("ol", [el("li", _item_html(it)) for it in op.items]) if op.items else \
        el("p", "经审查，所列指标均未发现不符合项。")
    figures = join([el("figure", img(png, f"{eid} 总平面示意"),
                      el("figcaption", f"图：{eid} 审查示意图")) for eid, png in
                   op.figures.items()])
    lacking = (join([el("h3", "无法判定的指标（缺少数据）"),
                     el("ul", [el("li", t) for t in op.no_data])]) if op.no_data else "")
    body = [el("h1", TITLE), el("h2", "一、项目及图纸信息"), ident, files,
            el("h2", "二、图纸符合性"),
            el("p", f"量测坐标系：{i.crs}，单位：米。"), layers, rej, notes,
            el("h2", "三、指标审查表"), indicators,
            el("h2", "四、审查意见"), items, figures, lacking]
    if op.changes is not None:
        body += [el("h2", "五、与上一版方案对比"), _changes_html(op.changes, i.against)]
    body.append(el("p", Markup("审查人：<span>&nbsp;</span>&emsp;&emsp;日期：<span>&nbsp;</span>"),
                   class_="sign"))
    page = el("html", el("head", Markup('<meta charset="utf-8">'), el("title", TITLE),
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


