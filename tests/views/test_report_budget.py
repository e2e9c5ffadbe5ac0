"""report.html's size budget: above a number of estates only the chosen ones keep a section,
every estate is listed once in the compact table, links only to sections that exist, and the
header says how many are shown. Pages are read back with a parser, never by string search
alone."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from helpers import SAMPLE, estate, rect
from matplotlib.figure import Figure

import geocheck
import geocheck.views.report.budget
from geocheck.cli import main
from geocheck.core.errors import GeocheckError
from geocheck.views.report import render_report, section_positions

# Without the attributes sheet, the sample's estates 0, 1, 8 and 11 (NN-001, NN-002, NN-009,
# NN-012) lack data and the other eight fail (see tests/cli/test_cli.py).
FAILING = ["NN-003", "NN-004", "NN-005", "NN-006", "NN-007", "NN-008", "NN-010", "NN-011"]
NO_DATA = ["NN-001", "NN-002", "NN-009", "NN-012"]
STATUS_EN = {"fail": "fail", "no data": "no_data", "pass": "pass", "not applicable":
             "not_applicable"}


@pytest.fixture(scope="module")
def bare() -> geocheck.Result:
    return geocheck.check(SAMPLE)


def png() -> bytes:
    fig = Figure(figsize=(1, 1), dpi=20)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class Page(HTMLParser):
    """Estate sections (data-estate-id), every id and href, the header's text, and the rows of
    the all-estates tables (whose cells and rows have no end tags: a new ``td`` or ``tr``
    starts the next one), each row's cell texts and the href of its link if any; the header
    cells of the first of them, and the number of rows of each."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.header = ""
        self.head: list[str] = []
        self.rows: list[dict] = []
        self.table_rows: list[int] = []
        self._in_header = self._in_table = self._in_th = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag == "section" and "estate" in a.get("class", "").split():
            self.sections.append(a["data-estate-id"])
        if tag == "header":
            self._in_header = True
        if tag == "table" and a.get("class") == "all-estates":
            self._in_table = True
            self.table_rows.append(0)
        if not self._in_table:
            return
        if tag == "th":
            self._in_th = len(self.table_rows) == 1
            self.head += [""] if self._in_th else []
        elif tag == "tr":
            self.rows.append({"cells": [], "href": None, "class": []})
            self.table_rows[-1] += 1
        elif tag == "td":
            self.rows[-1]["cells"].append("")
            self.rows[-1]["class"].append(a.get("class"))
        elif tag == "a":
            self.rows[-1]["href"] = a["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self._in_header = False
        if tag == "th":
            self._in_th = False
        if tag == "table" and self._in_table:
            self._in_table = False
            self.rows = [r for r in self.rows if r["cells"]]  # the header row has no td
            self.table_rows[-1] -= 1

    def handle_data(self, data: str) -> None:
        if self._in_header:
            self.header += data
        if self._in_table and self._in_th:
            self.head[-1] += data
        elif self._in_table and self.rows and self.rows[-1]["cells"]:
            self.rows[-1]["cells"][-1] += data


def test_section_positions_worst_first_and_mapped_by_hand(bare) -> None:
    ids = bare.site.estates["estate_id"]
    assert ids[section_positions(bare, 10)].tolist() == [*NO_DATA[:2], *FAILING]
    assert ids[section_positions(bare, 3)].tolist() == FAILING[:3]
    assert ids[section_positions(bare, 3, ["NN-012"])].tolist() == [*FAILING[:3], "NN-012"]
    assert section_positions(bare, 0).tolist() == []
    assert section_positions(bare, None).tolist() == list(range(12))
    with pytest.raises(GeocheckError, match="cannot be negative"):
        section_positions(bare, -1)


def test_over_budget_sections_table_links_and_header(bare) -> None:
    text = render_report(bare, lang="en", sections=5, estate_pngs={"NN-012": png()},
                         elsewhere=["findings.csv", "results.gpkg"])
    page = Page(text)
    # sections for the five first failing estates and the one with a map, in layer order
    assert page.sections == [*FAILING[:5], "NN-012"]
    # the table lists every estate exactly once, in the layer's order
    assert page.head == ["ID", "Name", "Overall verdict", "fail", "no data", "pass",
                         "not applicable"]
    assert [r["cells"][0] for r in page.rows] == bare.site.estates["estate_id"].tolist()
    assert [r["cells"][1] for r in page.rows] == bare.site.estates["name"].tolist()
    overall = bare.overall()
    assert [STATUS_EN[r["cells"][2]] for r in page.rows] == [overall[e] for e in
                                                            bare.site.estates["estate_id"]]
    counts = pd.crosstab(bare.findings["estate_id"], bare.findings["status"]).reindex(
        columns=["fail", "no_data", "pass", "not_applicable"], fill_value=0)
    for row in page.rows:
        assert [int(c) for c in row["cells"][3:]] == counts.loc[row["cells"][0]].tolist()
    # a link for exactly the estates with a section, each to that estate's own section
    linked = {r["cells"][0]: r["href"] for r in page.rows if r["href"] is not None}
    assert sorted(linked) == sorted(page.sections)
    anchor = dict(zip(page.sections, re.findall(r'<section class="estate" id="([^"]+)"', text),
                      strict=True))
    assert all(href == "#" + anchor[eid] for eid, href in linked.items())
    # no anchor on the whole page points to a missing id
    assert len(page.ids) == len(set(page.ids))
    assert all(h.startswith("#") and h[1:] in page.ids for h in page.hrefs)
    assert "This report shows 6 of the 12 estates in detail" in page.header
    assert "the findings of the others are in findings.csv, results.gpkg" in page.header
    assert "at most 5;" in page.header
    assert "every estate with a map (1) is among them" in page.header


def test_table_cut_into_parts_lists_every_estate_once(bare, monkeypatch) -> None:
    monkeypatch.setattr(geocheck.views.report.budget, "TABLE_ROWS", 5)
    page = Page(render_report(bare, lang="en", sections=2))
    assert page.table_rows == [5, 5, 2]
    assert [r["cells"][0] for r in page.rows] == bare.site.estates["estate_id"].tolist()
    assert page.head[:3] == ["ID", "Name", "Overall verdict"] and len(page.head) == 7
    assert [r["cells"][0] for r in page.rows if r["href"]] == page.sections == FAILING[:2]


def test_under_budget_the_page_is_unchanged(bare) -> None:
    def undated(text: str) -> str:
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}", "", text)

    whole = render_report(bare)
    assert undated(render_report(bare, sections=12)) == undated(whole)
    assert undated(render_report(bare, sections=50)) == undated(whole)
    page = Page(whole)
    assert page.sections == bare.site.estates["estate_id"].tolist()
    assert "all-estates" not in page.ids and page.rows == []
    assert "in detail" not in Page(render_report(bare, lang="en")).header
    # one estate fewer than the budget is over it
    assert len(Page(render_report(bare, sections=11)).rows) == 12


def test_no_section_at_all_and_chinese_header(bare) -> None:
    page = Page(render_report(bare, sections=0))
    assert page.sections == [] and len(page.rows) == 12
    assert all(r["href"] is None for r in page.rows)
    assert all(h[1:] in page.ids for h in page.hrefs)
    assert "本报告只详列 12 个小区中的 0 个" in page.header
    assert "请加 --format csv" in page.header  # no file written: says how to get the findings


def test_hostile_names_in_the_table_are_text(gpkg) -> None:
    names = ['<img src=x onerror=alert(1)>', '"><b>x</b>', "a&b"]
    path = gpkg(estates=[estate(f"<i>{i}</i>", rect(200 * i, 0, 200 * i + 100, 100), name=n)
                         for i, n in enumerate(names)])
    text = render_report(geocheck.check(path, pack="nanhai"), sections=1)
    assert "<img src=x" not in text and "<b>x" not in text and "<i>0" not in text
    page = Page(text)
    assert [r["cells"][:2] for r in page.rows] == [[f"<i>{i}</i>", n]
                                                    for i, n in enumerate(names)]


def test_pipeline_and_cli_option(bare, tmp_path, capsys) -> None:
    out = tmp_path / "lib"
    written = geocheck.write_outputs(bare, out, formats=("csv", "report"), lang="en",
                                     report_maps=0, report_sections=3)
    page = Page(written["report"].read_text(encoding="utf-8"))
    assert page.sections == FAILING[:3] and len(page.rows) == 12
    assert "in findings.csv, summary.csv." in page.header
    manifest = json.loads(written["manifest"].read_text(encoding="utf-8"))
    assert manifest["options"]["report_sections"] == 3
    cli = tmp_path / "cli"
    assert main(["check", str(SAMPLE), "-o", str(cli), "-q", "--format", "report",
                 "--report-maps", "0", "--report-estates", "2"]) == 1
    page = Page((cli / "report.html").read_text(encoding="utf-8"))
    assert page.sections == FAILING[:2] and "12 个小区中的 2 个" in page.header
    assert main(["check", str(SAMPLE), "-o", str(cli), "-q", "--format", "report",
                 "--report-maps", "0", "--report-estates", "all"]) == 1
    assert len(Page((cli / "report.html").read_text(encoding="utf-8")).sections) == 12
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(SAMPLE), "-o", str(cli), "--report-estates", "-3"])
    assert exit_.value.code == 2
    assert "'-3' is not a number of estates (or 'all')" in capsys.readouterr().err


def test_chromium_reads_the_table_as_written(browser, bare, tmp_path, monkeypatch) -> None:
    """The table leaves out the optional end tags: a browser must still see one row of seven
    cells per estate, and every in-page link must find its target."""
    monkeypatch.setattr(geocheck.views.report.budget, "TABLE_ROWS", 10)
    path = tmp_path / "report.html"
    path.write_text(render_report(bare, lang="en", sections=3), encoding="utf-8")
    page = browser.open(path, serve_leaflet=False)
    assert page.errors == [] and page.refused == []
    rows = page.js("Array.from(document.querySelectorAll('table.all-estates tbody tr'))"
                   ".map(function(r) { return Array.from(r.cells).map(function(c) {"
                   " return c.textContent.trim(); }); })")
    assert [r[0] for r in rows] == bare.site.estates["estate_id"].tolist()
    assert {len(r) for r in rows} == {7}
    assert page.js("document.querySelectorAll('table.all-estates').length") == 2
    assert page.js("Array.from(document.querySelectorAll('a[href^=\"#\"]')).filter(function(a)"
                   " { return !document.getElementById(a.getAttribute('href').slice(1)); })"
                   ".length") == 0
    linked = page.js("Array.from(document.querySelectorAll('table.all-estates a'))"
                     ".map(function(a) { return a.textContent; })")
    assert linked == FAILING[:3]
