"""opinion.docx: the review opinion as a Word document a bureau edits and stamps
(python-docx). The same content as opinion.html (:mod:`geocheck.views.opinion.page`); Word holds
text only, so nothing from the input can become a field or a formula."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from ...rules.diff import CHANGE_ZH
from . import TITLE, Opinion, change_lists

FONT = "SimSun"
"""The East Asian font named in the document (Word substitutes what the machine has)."""


def _clean(text: object) -> str:
    """Text as Word can hold it: control characters other than tab and newline removed."""
    s = "" if text is None else str(text)
    return "".join(ch for ch in s if ch in "\t\n" or ord(ch) >= 32)


def _table(doc: Document, headers: list[str], rows: list[list[object]]) -> None:
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    for cell, h in zip(t.rows[0].cells, headers, strict=True):
        cell.text = _clean(h)
    for row in rows:
        cells = t.add_row().cells
        for cell, v in zip(cells, row, strict=True):
            cell.text = _clean(v)


def write_opinion_docx(op: Opinion, path: Path) -> Path:
    """Write the opinion to ``path`` (.docx)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    head = doc.add_heading(TITLE, level=0)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    i = op.info
    doc.add_heading("一、项目及图纸信息", level=1)
    _table(doc, ["项目", "内容"], [["方案名称", i.name], ["审查日期", i.date], ["坐标系", i.crs],
                                   ["规则包", i.pack],
                                   *([["对比版本", i.against]] if i.against else [])])
    doc.add_paragraph()
    _table(doc, ["文件", "字节", "SHA-256"], [[n, f"{b:,}", h] for n, b, h in i.files])
    doc.add_heading("二、图纸符合性", level=1)
    doc.add_paragraph(_clean(f"量测坐标系：{i.crs}，单位：米。"))
    _table(doc, ["图层", "读取", "采用", "剔除"], [list(r) for r in op.layers])
    if len(op.rejects):
        doc.add_paragraph("剔除的要素：")
        _table(doc, ["图层", "要素", "原因"],
               op.rejects[["layer", "feature_id", "reason"]].astype(str).values.tolist())
    else:
        doc.add_paragraph("无剔除要素。")
    for note in op.notes:
        doc.add_paragraph(_clean(note), style="List Bullet")
    doc.add_heading("三、指标审查表", level=1)
    _table(doc, ["小区/地块", "指标", "要求", "设计/实测", "结论", "依据"],
           op.indicators[["estate", "indicator", "required", "measured", "verdict",
                          "citation"]].values.tolist())
    doc.add_heading("四、审查意见", level=1)
    if not op.items:
        doc.add_paragraph("经审查，所列指标均未发现不符合项。")
    for it in op.items:
        p = doc.add_paragraph()
        p.add_run(_clean(f"{it.number}. {it.title}（{it.rule_id}，{it.estate}）")).bold = True
        p.add_run(_clean(f"：要求 {it.required}，设计/实测 {it.measured}，不符合要求。"
                         f"{it.evidence}。"))
        doc.add_paragraph(_clean(f"依据：{it.citation}"))
        if it.remedy:
            doc.add_paragraph(_clean(f"整改建议：{it.remedy}"))
    for eid, png in op.figures.items():
        doc.add_picture(io.BytesIO(png), width=Cm(14))
        doc.add_paragraph(_clean(f"图：{eid} 审查示意图")).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if op.no_data:
        doc.add_heading("无法判定的指标（缺少数据）", level=2)
        for t in op.no_data:
            doc.add_paragraph(_clean(t), style="List Bullet")
    if op.changes is not None:
        doc.add_heading("五、与上一版方案对比", level=1)
        lists = change_lists(op.changes)
        doc.add_paragraph(_clean(f"与 {i.against} 相比：已整改 {len(lists['fixed'])} 项，"
                                 f"新增不符合 {len(lists['broken'])} 项，变差 "
                                 f"{len(lists['worse'])} 项。"))
        for key, title in (("fixed", "已整改达标"), ("broken", "新增不符合项"),
                           ("worse", "变差"), ("other", "其他变化")):
            t = lists[key]
            if len(t):
                doc.add_heading(title, level=2)
                _table(doc, ["小区/地块", "指标", "变化", "上一版", "本版"],
                       [[r.estate_name if isinstance(r.estate_name, str) else r.estate_id,
                         f"{r.title_zh}（{r.rule_id}）", CHANGE_ZH.get(r.change, r.change),
                         r.before or "—", r.after or "—"] for r in t.itertuples()])
    doc.add_paragraph()
    doc.add_paragraph("审查人：____________________        日期：____________________")
    doc.save(str(path))
    return path
