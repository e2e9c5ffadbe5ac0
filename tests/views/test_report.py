"""report.html (and report.pdf): content read back by parsing the page, never by string search
alone; escaping of hostile names; no external resource; Chinese in the PDF."""

from __future__ import annotations

import io
import logging
import re
import sys
from html.parser import HTMLParser

import pandas as pd
import pytest
from helpers import GONGSHU_KEYS, GONGSHU_ROWS, at, estate, rect
from matplotlib.figure import Figure
from openpyxl import Workbook
from shapely.geometry import LineString

import geocheck
from geocheck.core.errors import GeocheckError
from geocheck.views.report import (
    format_values,
    png_uri,
    render_report,
    write_pdf,
)

HOSTILE = ['<img src=x onerror=alert(1)>', '=HYPERLINK("http://x","y")', "${alert(1)}",
           "{{7*7}}"]


def png(title: str = "") -> bytes:
    """A small real PNG drawn by matplotlib."""
    fig = Figure(figsize=(2, 1.5), dpi=50)
    fig.add_subplot().set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class Page(HTMLParser):
    """What the tests read from a report: estate sections with their findings rows (rule ids
    linked in the first cell, status from the badge class, cell texts), every id, every
    src/href, tables by the section they are in, and the text of each section."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.estates: list[dict] = []
        self.ids: list[str] = []
        self.refs: list[tuple[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}  # "section id/nth" -> rows of cell texts
        self.text: dict[str, list[str]] = {}
        self._sections: list[dict[str, str]] = []
        self._row: dict | None = None
        self._cells: list[str] | None = None
        self._table: list[list[str]] | None = None
        self._link = False
        self.feed(text)
        self.close()

    def _section(self) -> str:
        ids = [s.get("id", "") for s in self._sections if s.get("id")]
        return ids[-1] if ids else ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if "id" in a:
            self.ids.append(a["id"])
        self.refs += [(k, a[k]) for k in ("src", "href") if k in a]
        if tag == "section":
            self._sections.append(a)
            if "estate" in classes:
                self.estates.append({"id": a["data-estate-id"], "anchor": a["id"], "rows": [],
                                     "text": [], "imgs": [], "details": False})
        in_estate = any("estate" in s.get("class", "").split() for s in self._sections)
        if tag == "table":
            key = self._section()
            n = sum(k.startswith(key + "/") for k in self.tables)
            self._table = self.tables.setdefault(f"{key}/{n}", [])
        if tag == "tr":
            self._cells = []
            self._row = {"rules": [], "status": None, "cells": self._cells,
                         "group": "group" in classes}
        if tag in ("td", "th") and self._cells is not None:
            self._cells.append("")
        if tag == "a" and self._cells is not None and len(self._cells) == 1:
            self._link = True
            self._row["rules"].append("")
        if tag == "span" and "badge" in classes and self._row is not None:
            self._row["status"] = next(c[2:] for c in classes if c.startswith("s-"))
        if in_estate and tag == "img":
            self.estates[-1]["imgs"].append(a["src"])
        if in_estate and tag == "details":
            self.estates[-1]["details"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._sections.pop()
        if tag == "a":
            self._link = False
        if tag == "tr" and self._row is not None:
            if self._table is not None:
                self._table.append(self._cells)
            in_estate = any("estate" in s.get("class", "").split() for s in self._sections)
            if in_estate and self._row["status"] is not None:
                self.estates[-1]["rows"].append(self._row)
            self._row = self._cells = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._link:
            self._row["rules"][-1] += data
        if self._cells:
            self._cells[-1] += data
        self.text.setdefault(self._section(), []).append(data)
        if any("estate" in s.get("class", "").split() for s in self._sections):
            self.estates[-1]["text"].append(data)

    def section_text(self, sid: str) -> str:
        return "".join(self.text.get(sid, []))


@pytest.fixture(scope="module")
def zh(sample) -> str:
    return render_report(sample)


@pytest.fixture(scope="module")
def en(sample) -> str:
    return render_report(sample, lang="en")


def statuses(page: Page) -> dict[str, dict[str, str]]:
    """estate_id -> rule_id -> status as the page shows it (each rule listed once)."""
    out: dict[str, dict[str, str]] = {}
    for sec in page.estates:
        shown = [(rid, row["status"]) for row in sec["rows"] for rid in row["rules"]]
        assert len(shown) == len({rid for rid, _ in shown}), sec["id"]  # no rule twice
        out[sec["id"]] = dict(shown)
    return out


def test_one_section_per_estate_with_its_findings(sample, zh) -> None:
    page = Page(zh)
    ids = sample.site.estates["estate_id"].tolist()
    assert [s["id"] for s in page.estates] == ids and len(ids) == 12
    expected = {eid: dict(zip(g["rule_id"], g["status"], strict=True))
                for eid, g in sample.findings.groupby("estate_id")}
    assert statuses(page) == expected
    # the table of contents links every estate section, and every link has its target
    anchors = {s["anchor"] for s in page.estates}
    assert {h for k, h in page.refs if k == "href" and h[1:] in anchors} == \
        {"#" + a for a in anchors}
    assert all(h[1:] in page.ids for k, h in page.refs if k == "href")
    assert len(page.ids) == len(set(page.ids))


def test_repeated_no_data_shares_one_row(sample, zh) -> None:
    page = Page(zh)
    # NN-010 has no row in the attributes sheet: its 92 record-based rules lack data for the
    # same reason and are listed in one row; its 6 map-measured rules have a row each
    f = sample.findings[sample.findings["estate_id"] == "NN-010"]
    reason = "no data: estate not in the attributes sheet nanning_attributes.xlsx"
    assert (f["evidence"] == reason).sum() == 92
    sec = next(s for s in page.estates if s["id"] == "NN-010")
    groups = [r for r in sec["rows"] if r["group"]]
    assert len(groups) == 1 and len(groups[0]["rules"]) == 92
    assert groups[0]["status"] == "no_data" and groups[0]["cells"][-1] == reason
    assert groups[0]["cells"][0].startswith("92 条规则")
    assert len(sec["rows"]) == 1 + 6
    full = Page(render_report(sample, compact=False))
    assert statuses(full) == statuses(page)
    assert all(len(s["rows"]) == 98 and not any(r["group"] for r in s["rows"])
               for s in full.estates)


def test_finding_cells_and_formatted_values(zh) -> None:
    page = Page(zh)
    nn002 = next(s for s in page.estates if s["id"] == "NN-002")
    row = {r["rules"][0]: r["cells"] for r in nn002["rows"] if not r["group"]}
    # green 33,500 m2 of 90,000 m2 = 37.2222 %: shown as judged (to 6 decimals of the ratio)
    assert row["GX-10-greening"][1] == "实际绿化率不低于35%"
    assert row["GX-10-greening"][2:5] == ["达标", "37.2222 %", ">= 35 %"]
    assert row["GX-10-greening"][5] == "green 33,500.0 m2 of 90,000.0 m2 (37.2%)"
    assert row["GX-06-garbage-radius"][3] == "35 m"  # farthest building 35.0 m from a point
    assert row["GX-01"][2:4] == ["达标", "是"]


def test_format_values_by_hand() -> None:
    got = format_values([0.35, 0.34996, 736.0, 1.0, 0.0, float("nan"), 19555.94, 1562, 20.0],
                        ["ratio", "ratio", "m", "yes/no", "yes/no", "m", "m2", "count",
                         "per 100 households"], "zh")
    # an area from the attributes sheet is judged as typed, so it is shown as typed
    assert got.tolist() == ["35 %", "34.996 %", "736 m", "是", "否", "", "19,555.94 m²",
                            "1,562", "20/百户"]
    assert format_values([1.0, 12.5], ["yes/no", "points"], "en").tolist() == \
        ["yes", "12.5 points"]


def test_summary_counts_declaration_and_failing_rules(sample, zh) -> None:
    page = Page(zh)
    f = sample.findings
    verdicts = dict((r[0], int(r[1])) for r in page.tables["summary/0"][1:])
    worst = f.assign(rank=f["status"].map({"fail": 3, "no_data": 2, "pass": 1,
                                           "not_applicable": 0})).groupby("estate_id")["rank"]
    ranks = worst.max().value_counts()
    assert verdicts == {"不达标": ranks.get(3, 0), "无数据": ranks.get(2, 0),
                        "达标": ranks.get(1, 0), "不适用": ranks.get(0, 0)}
    assert verdicts["不达标"] == 8 and verdicts["达标"] == 4
    assert "已判定小区 12 个；剔除要素 1 个" in page.section_text("summary")
    layers = {r[0]: r[1:] for r in page.tables["summary/1"][1:]}
    assert layers["attributes"] == ["12", "11", "1"] and layers["buildings"][0] == "135"
    declaration = page.tables["summary/2"]
    assert declaration[0][:3] == ["编号", "名称", "达标率"]
    assert sum(r[4] == "是" for r in declaration[1:]) == 8  # as test_cli counts eligible
    nn001 = next(r for r in declaration if r[0] == "NN-001")
    assert nn001[2:5] == ["100.0%", "65/65", "是"]
    failing = page.tables["summary/3"]
    fails = f[f["status"] == "fail"].groupby("rule_id").size()
    assert [r[0] for r in failing[1:]] == [r.id for r in sample.pack.rules if r.id in fails]
    assert all(int(r[2]) == fails[r[0]] for r in failing[1:])


def test_estates_that_pass_are_folded(sample, zh) -> None:
    page = Page(zh)
    folded = {s["id"] for s in page.estates if s["details"]}
    assert folded == {"NN-001", "NN-002", "NN-009", "NN-012"}
    assert folded == set(sample.overall()[lambda s: s == "pass"].index)
    nn002 = next(s for s in page.estates if s["id"] == "NN-002")
    assert "97 条规则全部达标，1 条不适用" in "".join(nn002["text"])  # 1500-household rule


def test_citations_listed_once_in_the_appendix(sample, zh) -> None:
    page = Page(zh)
    rows = page.tables["rules/0"][1:]
    assert [r[0] for r in rows] == [r.id for r in sample.pack.rules]
    assert [r[3] for r in rows] == [r.citation for r in sample.pack.rules]
    text = "".join(v for k, v_list in page.text.items() for v in v_list if k != "rules")
    assert not any(r.citation in text for r in sample.pack.rules)
    # every rule id in a findings row links to the rule's appendix row
    targets = {r[0]: i for i, r in enumerate(rows)}
    hrefs = {v for k, v in page.refs if k == "href"}
    assert all(f"#r{targets[rid]}" in hrefs
               for s in page.estates for row in s["rows"] for rid in row["rules"])


def test_rejects_and_notes(sample, zh) -> None:
    page = Page(zh)
    rejects = sample.site.ledger.rejects_frame()
    assert page.tables["rejects/0"][1:] == rejects.astype(str).to_numpy().tolist()
    notes = page.section_text("notes")
    assert "EPSG:4545 — CGCS2000 / 3-degree Gauss-Kruger CM 108E" in notes
    assert "以米（平方米）为单位" in notes and "nanning_attributes.xlsx" in notes
    assert all(n in notes for n in sample.site.ledger.notes)
    methods = page.tables["notes/0"][1:]
    assert len(methods) == sample.findings["method"].nunique()
    assert {m[0] for m in methods} == set(sample.findings["method"])


def test_many_rejects_all_listed(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100)), estate("C", None)],
                bus_stops=[{"id": f"s{i}", "name": "线",
                            "geometry": LineString([at(i, 0), at(i, 9)])} for i in range(30)])
    result = geocheck.check(path)
    rejects = result.site.ledger.rejects_frame()
    assert len(rejects) == 31
    page = Page(render_report(result, lang="en"))
    assert page.tables["rejects/0"][0] == ["Layer", "Feature ID", "Reason",
                                           "Estates whose verdicts it bears on"]
    assert set(rejects["estate_id"]) == {"", "A"}  # the lines lie in A; C has no verdicts
    assert page.tables["rejects/0"][1:] == rejects.astype(str).to_numpy().tolist()


def test_self_contained_with_images(sample, tmp_path) -> None:
    chart, overview, estate_map = png("chart"), png("overview"), png("NN-003")
    progress = pd.DataFrame({
        "year": [2024, 2025], "scheduled": [3, 4], "scheduled_cumulative": [3, 7],
        "scheduled_share": [0.25, 7 / 12], "target_share": [0.3, 0.6], "passing": [2, 4],
        "passing_share": [2 / 12, 4 / 12], "on_track": [False, True]})
    text = render_report(sample, overview_png=overview, estate_pngs={"NN-003": estate_map},
                         progress=progress, progress_png=chart)
    page = Page(text)
    assert all(v.startswith("#") for k, v in page.refs if k == "href")
    assert sorted(v for k, v in page.refs if k == "src") == sorted(
        png_uri(p) for p in (chart, overview, estate_map))
    for kind, url in re.findall(r"""(src|href)\s*=\s*["']?([^"' >]*)""", text):
        assert not url.startswith(("http:", "https:", "//")), (kind, url)
    assert not re.search(r"url\(", text) and "<script" not in text and "<link" not in text
    assert "@import" not in text
    nn003 = next(s for s in page.estates if s["id"] == "NN-003")
    assert nn003["imgs"] == [png_uri(estate_map)]
    assert all(not s["imgs"] for s in page.estates if s["id"] != "NN-003")
    table = next(t for t in page.tables.values() if t and t[0][0] == "年份")
    # shares truncated to 0.1 %: 2/12 = 16.67 % shows as 16.6 %, never above what it is
    assert table[1:] == [["2024", "3", "3", "25.0%", "30.0%", "2", "16.6%", "否"],
                         ["2025", "4", "7", "58.3%", "60.0%", "4", "33.3%", "是"]]
    assert "data:image/png;base64," not in render_report(sample)  # none given, none shown
    with pytest.raises(ValueError, match="PNG"):
        render_report(sample, overview_png=b"GIF89a")


def test_hostile_names_are_text(gpkg) -> None:
    path = gpkg(estates=[estate(f"E{i}", rect(200 * i, 0, 200 * i + 100, 100), name=n)
                         for i, n in enumerate(HOSTILE)]
                + [estate('"><b>E9</b>', rect(1000, 0, 1100, 100), name="x")],
                bus_stops=[{"id": "<i>s</i>", "name": "<b>站</b>",
                            "geometry": LineString([at(0, 0), at(9, 9)])}])
    result = geocheck.check(path)
    for lang in ("zh", "en"):
        text = render_report(result, lang=lang)
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "<b>E9" not in text and "<i>s" not in text and "<script" not in text
        assert "&lt;b&gt;E9&lt;/b&gt;" in text and "&lt;i&gt;s&lt;/i&gt;" in text
        assert "${alert(1)}" in text and "{{7*7}}" in text  # literal text; the page has no JS
        assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in text
        page = Page(text)
        assert [s["id"] for s in page.estates] == [*(f"E{i}" for i in range(4)),
                                                   '"><b>E9</b>']
        for sec, name in zip(page.estates, HOSTILE, strict=False):
            assert "".join(sec["text"]).startswith(f"{sec['id']} {name}")
        assert page.tables["rejects/0"][1][:2] == ["bus_stops", "<i>s</i>"]
        assert all(v.startswith("#") for k, v in page.refs if k == "href")


def test_elements_join_nested_children_once_and_escape_them() -> None:
    from geocheck.views.report.html import Markup, el, join, tags

    nested = ["a<", [Markup("<b>"), ("&", [HOSTILE[0]])], Markup("</b>")]
    inner = "a&lt;<b>&amp;&lt;img src=x onerror=alert(1)&gt;</b>"
    assert join(nested) == inner and isinstance(join(nested), Markup)
    assert el("p", nested, class_='"x"') == f'<p class="&quot;x&quot;">{inner}</p>'
    start, end = tags("section", id="estates", data_x=None)
    assert start + join(nested) + end == el("section", *nested, id="estates", data_x=None)
    assert isinstance(png_uri(png()), Markup)  # base64 needs no escaping


def test_languages(sample, zh, en) -> None:
    for text, lang, words, other in [
        (zh, "zh-CN", ["概要", "各小区审查结果", "剔除的要素", "坐标系与方法说明",
                       "附录：规则与依据", "实际绿化率不低于35%"],
         ["Summary", "Rejected features"]),
        (en, "en", ["Summary", "Findings per estate", "Rejected features",
                    "CRS and method notes", "Appendix: rules and citations",
                    sample.pack.rule("GX-10-greening").title_en],
         ["概要", "剔除的要素", "实际绿化率不低于35%"]),
    ]:
        assert f'<html lang="{lang}">' in text
        assert all(w in text for w in words) and not any(w in text for w in other)
    page = Page(en)
    assert {row["cells"][2] for s in page.estates for row in s["rows"] if not row["group"]} <= \
        {"pass", "fail", "no data", "not applicable"}
    assert page.tables["summary/0"][1][0] == "fail"
    # the declaration sentences in the report's language (NN-004: 54/65 = 83.08 %, shown
    # truncated as 83.0 %; R01 and R03 blocked)
    assert "不可申报：达标率 83.0%，低于 85%；R01、R03 无达标标准" in zh
    assert "not eligible: compliance 83.0% &lt; 85%; no standard passed under R01, R03" in en
    assert "not eligible" not in zh and "不可申报" not in en
    # citations stay as written in both
    assert sample.pack.rules[0].citation in en and sample.pack.rules[0].citation in zh
    assert 'font-family: "Noto Sans CJK SC", "Source Han Sans SC"' in zh
    assert "break-before: page" in zh and "size: A4" in zh
    with pytest.raises(GeocheckError, match="choose zh or en"):
        render_report(sample, lang="fr")


def test_reference_pack_says_so(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100))])
    ref = render_report(geocheck.check(path, pack="gb50180"))
    assert geocheck.load_pack("gb50180").reference
    assert "参考值，非地方标准" in ref
    assert "参考值，非地方标准" not in render_report(geocheck.check(path, pack="nanhai"))
    en = render_report(geocheck.check(path, pack="gb50180"), lang="en")
    assert "Reference values, not a local standard" in en


def test_plain_pack_lists_estates_and_verdicts(gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100)), estate("B", rect(200, 0, 300, 100))])
    result = geocheck.check(path, pack="nanhai")
    page = Page(render_report(result))
    table = page.tables["summary/2"]
    assert table[0] == ["编号", "名称", "总体结论"]
    overall = result.overall()
    shown = {"fail": "不达标", "no_data": "无数据", "pass": "达标", "not_applicable": "不适用"}
    assert [r[2] for r in table[1:]] == [shown[overall[e]] for e in ("A", "B")]


def test_score_pack_shows_points_and_stars(tmp_path, gpkg) -> None:
    layers = gpkg(estates=[estate(e, rect(200 * i, 0, 200 * i + 100, 100))
                           for i, e in enumerate(GONGSHU_ROWS)])
    pack = geocheck.load_pack("gongshu")
    book = Workbook()
    ws = book.active
    ws.append(["小区编号", *(pack.attribute(k).header for k in GONGSHU_KEYS)])
    for eid, values in GONGSHU_ROWS.items():
        ws.append([eid, *values])
    book.save(tmp_path / "scores.xlsx")
    result = geocheck.check(layers, pack="gongshu", attributes=tmp_path / "scores.xlsx")
    page = Page(render_report(result, lang="en"))
    table = page.tables["summary/2"]
    assert table[0][-3:] == ["Total", "Stars", "Rating"]
    rows = {r[0]: r for r in table[1:]}
    # worked out by hand in test_scores.py
    assert [rows[e][-3] for e in "ABCD"] == ["287.6", "290.4", "267.2", "242"]
    assert [rows[e][-2] for e in "ABCDEF"] == ["★★★★★", "★★★★", "no star", "★★★", "★★★★★",
                                              "—"]
    assert rows["B"][-1] == "4 stars: 290.4 points, satisfaction 88%"
    a = next(s for s in page.estates if s["id"] == "A")
    assert "Total 287.6; 5 stars: 287.6 points" in "".join(a["text"])


def test_households_estimated_and_built(gpkg) -> None:
    rows = [estate("A", rect(0, 0, 100, 100), households=900, built="new"),
            estate("B", rect(200, 0, 300, 100), households=None, built=None)]
    rows[0]["households_estimated"] = True
    rows[1]["households_estimated"] = False
    page = Page(render_report(geocheck.check(gpkg(estates=rows))))
    a, b = ("".join(s["text"]) for s in page.estates)
    assert "户数900 (估算)" in a and "建设类型新建" in a
    assert "户数未知" in b and "建设类型未知" in b and "估算" not in b


def test_pdf_has_chinese_text_and_font(tmp_path, gpkg, caplog) -> None:
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100), name="青山岭安置小区")],
                green_space=[{"id": "g", "name": "园", "geometry": rect(0, 0, 100, 30)}])
    result = geocheck.check(path)  # guangxi: greening 30 % < 35 %: fails
    assert result.overall()["A"] == "fail"
    caplog.set_level(logging.WARNING, logger="weasyprint")
    out = write_pdf(render_report(result, estate_pngs={"A": png("A")}), tmp_path / "r.pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    reader = pypdf.PdfReader(out)
    text = "".join(p.extract_text() for p in reader.pages)
    for word in ("青山岭安置小区", "不达标", "实际绿化率不低于35%", "合规审查报告"):
        assert word in text
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"].get("/Font", {}).values()}
    assert any("CJK" in f for f in fonts), fonts
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=0.5)  # A4
    images = [x for p in reader.pages for x in p["/Resources"].get("/XObject", {}).values()
              if x.get_object()["/Subtype"] == "/Image"]
    assert images


def test_pdf_without_weasyprint_says_how_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    with pytest.raises(GeocheckError, match=r'pip install "geocheck\[pdf\]".*libpango'):
        write_pdf("<p>x</p>", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_report_written_as_utf8(sample, tmp_path) -> None:
    written = geocheck.write_outputs(sample, tmp_path, formats=("report",), lang="en",
                                     report_maps=0)
    assert written["report"] == tmp_path / "report.html"
    assert Page(written["report"].read_text(encoding="utf-8")).estates[0]["id"] == "NN-001"
