"""``geocheck review`` end to end on a permit site plan (tests/fixtures/review, made by
make_site_plan_dxf.py's review_plan, whose docstring works out every figure): v1, then the
revised v2 against v1. The opinion is read back from Word with python-docx and opened in
Chromium."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docx
import pandas as pd
import pytest
from helpers import FIXTURES

from geocheck.cli import main
from geocheck.review import plan_info, review
from geocheck.views.opinion import build_opinion
from geocheck.views.opinion.page import render_opinion
from geocheck.views.opinion.word import write_opinion_docx

PLANS = FIXTURES / "review"
CONDITIONS = PLANS / "conditions.csv"
V1_FAILS = ["GB-garbage-70", "COND-green-ratio", "COND-setback", "COND-height"]


def word_text(path: Path) -> str:
    """Every paragraph and table cell of a .docx, one per line."""
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("review")
    v1, v2 = d / "v1", d / "v2"
    assert main(["review", str(PLANS / "project_v1.toml"), "--conditions", str(CONDITIONS),
                 "-o", str(v1), "-q"]) == 1
    assert main(["review", str(PLANS / "project_v2.toml"), "--against",
                 str(PLANS / "project_v1.toml"), "--conditions", str(CONDITIONS),
                 "-o", str(v2), "-q"]) == 1
    return v1, v2


def test_v1_opinion_lists_its_failures(reviews) -> None:
    v1, _ = reviews
    for name in ("opinion.docx", "opinion.html", "opinion.pdf", "findings.csv",
                 "geocheck-run.json"):
        assert (v1 / name).is_file(), name
    assert (v1 / "opinion.pdf").read_bytes()[:5] == b"%PDF-"
    text = word_text(v1 / "opinion.docx")
    assert "建设工程设计方案总平面图审查意见" in text and "四、审查意见" in text
    for k, rid in enumerate(V1_FAILS, start=1):  # numbered in findings order
        assert f"{k}. " in text and f"（{rid}，阳光家园）" in text
    assert "5. " not in text and "（COND-plot-ratio，阳光家园）" not in text  # 0.84 <= 1.0
    assert "要求 >= 30 %，设计/实测 20.0%" in text  # green 6 000 of 30 000 m2
    assert "要求 <= 60 m，设计/实测 66.00 m" in text  # 22 storeys x 3 m
    assert "北 north 6.00 m" in text  # 3# is 6 m from the north red line
    assert "规划条件 (figure given by the reviewer): 绿地率 = 30% (conditions.csv)" in text
    sha = hashlib.sha256((PLANS / "site_plan_v1.dxf").read_bytes()).hexdigest()
    assert sha in text  # the plan identified by its SHA-256
    assert "polygon with no area" in text  # the rejected 绿地 outline, in the conformity part
    assert "site_plan_v1.dxf" in text and str(PLANS) not in text  # files named, folders not
    assert str(PLANS) not in (v1 / "opinion.html").read_text(encoding="utf-8")
    assert "审查人" in text and "日期" in text
    assert "五、与上一版方案对比" not in text
    assert len(docx.Document(str(v1 / "opinion.docx")).inline_shapes) == 1  # one figure


def test_v2_opinion_lists_the_fixes_and_the_new_failure(reviews) -> None:
    _, v2 = reviews
    text = word_text(v2 / "opinion.docx")
    assert "1. 规划条件：容积率（COND-plot-ratio，阳光家园）" in text
    assert "2. " not in text
    assert "要求 <= 1，设计/实测 1.032" in text  # 30 960 m2 of floor on 30 000 m2
    assert "五、与上一版方案对比" in text
    assert "已整改 4 项，新增不符合 1 项" in text
    d = pd.read_csv(v2 / "diff.csv", encoding="utf-8-sig")
    assert sorted(d.loc[d["change"] == "fixed", "rule_id"]) == sorted(V1_FAILS)
    assert d.loc[d["change"] == "broken", "rule_id"].tolist() == ["COND-plot-ratio"]
    for rid in V1_FAILS:
        assert f"（{rid}）" in text  # in the table of fixes


def test_opinion_html_opens_in_chromium(reviews, browser) -> None:
    _, v2 = reviews
    page = browser.open(v2 / "opinion.html", serve_leaflet=False)
    assert page.errors == [] and page.refused == []
    assert page.js("document.querySelector('h1').textContent") == "建设工程设计方案总平面图审查意见"
    assert page.js("document.querySelectorAll('ol > li').length") == 1
    assert page.js("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.js("document.querySelectorAll('tr.fail').length") == 1


def test_a_remedy_column_is_written_with_its_opinion_and_escaped(reviews, tmp_path) -> None:
    outcome = review(PLANS / "project_v1.toml", tmp_path / "o", conditions=CONDITIONS,
                     pdf=False)
    result = outcome.result
    f = result.findings.copy()
    f["remedy"] = ""
    f.loc[f["rule_id"] == "COND-green-ratio", "remedy"] = "增加绿地 3000 m2 <script>x</script>"
    result.findings = f
    op = build_opinion(result, plan_info(result, [], pd.Timestamp("2026-01-02")))
    page = render_opinion(op)
    assert "整改建议：增加绿地 3000 m2 &lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>" not in page
    write_opinion_docx(op, tmp_path / "o.docx")
    assert "整改建议：增加绿地 3000 m2 <script>x</script>" in word_text(tmp_path / "o.docx")
    # the run's own remedies, worked out from the plan: 30 % of 30,000 m2 less 6,000 m2 of green
    written = word_text(tmp_path / "o" / "opinion.docx")
    assert ("整改建议：add 3,000 m2 of green: 30 % of the plot's 30,000 m2 is 9,000 m2 (the "
            "planning condition), the plan has 6,000 m2") in written
