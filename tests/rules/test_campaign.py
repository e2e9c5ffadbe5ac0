"""Campaign progress: the [campaign] table of a pack, estates' target years, and progress by year
against the targets, computed on paper for tiny hand-built layers."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import LAYERS, at, estate, rect
from matplotlib.image import imread

import geocheck
from geocheck import InputError, PackError, load_pack
from geocheck.rules.campaign import PROGRESS_COLUMNS
from geocheck.rules.packs.model import Campaign, Target
from geocheck.views.charts import progress_chart_figure, progress_chart_png

HEAD = '''
[pack]
id = "mini"
title_zh = "小测试"
title_en = "mini"
document = "a document"
'''
BUS_RULE = '''
[[rules]]
id = "BUS"
title_zh = "公交站点500米"
title_en = "Bus stop within 500 m"
citation = "a document, article 1"
check = "nearest_within"
params.max_m = { bus_stops = 500 }
'''
CAMPAIGN = '''
[campaign]
title_zh = "创建进度"
title_en = "Campaign progress"
citation = "a programme, part 1: 35 % by 2021, 70 % by 2022, 90 % by 2023, all by 2024"
targets = [{ year = 2021, share = 0.35 }, { year = 2022, share = 0.70 },
           { year = 2023, share = 0.90 }, { year = 2024, share = 1.0 }]
'''
PNG = b"\x89PNG\r\n\x1a\n"


def _pack(tmp_path: Path, body: str, name: str = "mini.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _estates(plan: list[tuple[str, object, bool]], column: str = "target_year") -> tuple[
        list[dict], list[dict]]:
    """Estates 1 km apart, each (id, target year, passes); a bus stop 50 m from those that
    pass, none within 500 m of the others."""
    rows, stops = [], []
    for i, (eid, year, passes) in enumerate(plan):
        x = 1000.0 * i
        rows.append({**estate(eid, rect(x, 0, x + 100, 100)), column: year})
        if passes:
            stops.append({"id": f"b{eid}", "name": "站", "geometry": at(x + 50, 150)})
    return rows, stops


# 10 campaign estates: 2021: 4 (3 pass), 2022: 4 (2 pass), 2023: 2 (0 pass);
# and 2 without a target year (one passes).
PLAN = ([("A1", 2021, True), ("A2", 2021, True), ("A3", 2021, True), ("A4", 2021, False),
         ("B1", 2022, True), ("B2", 2022, True), ("B3", 2022, False), ("B4", 2022, False),
         ("C1", 2023, False), ("C2", 2023, False),
         ("U1", None, True), ("U2", None, False)])


@pytest.fixture
def mini(tmp_path) -> Path:
    return _pack(tmp_path, HEAD + BUS_RULE + CAMPAIGN)


def test_progress_by_year_computed_on_paper(gpkg, mini) -> None:
    rows, stops = _estates(PLAN)
    result = geocheck.check(gpkg(estates=rows, bus_stops=stops), pack=mini)
    assert result.overall().to_dict() == {eid: "pass" if ok else "fail" for eid, _, ok in PLAN}
    table = result.progress
    assert list(table.columns) == PROGRESS_COLUMNS
    # by 2021: 4 of 10 scheduled, 3 of 10 pass (30 % < 35 %); by 2022: 8 scheduled, 3 + 2 = 5
    # pass (50 % < 70 %); by 2023 and 2024: all 10 scheduled, still 5 pass (50 % < 90 %, 100 %)
    expected = pd.DataFrame({
        "year": [2021, 2022, 2023, 2024],
        "scheduled": [4, 4, 2, 0],
        "scheduled_cumulative": [4, 8, 10, 10],
        "scheduled_share": [0.4, 0.8, 1.0, 1.0],
        "target_share": [0.35, 0.70, 0.90, 1.0],
        "passing": [3, 5, 5, 5],
        "passing_share": [0.3, 0.5, 0.5, 0.5],
        "on_track": pd.array([False, False, False, False], dtype="boolean"),
    })
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table.attrs["campaign_estates"] == 10
    assert table.attrs["unscheduled"] == 2 and table.attrs["unscheduled_passing"] == 1
    assert table.attrs["unscheduled_ids"] == ("U1", "U2")
    assert table.attrs["basis"] == "overall"


def test_on_track_at_the_target_and_years_beyond_the_targets(gpkg, tmp_path) -> None:
    # 20 estates: 7 scheduled 2021 that all pass (7 / 20 = 35 %: exactly on track);
    # 2020 (before the first target): 1, passing; 2022: 6 (4 pass); 2023: 4 (one passes);
    # 2025 (after the last target): 2, one of them passing already.
    plan = ([("P0", 2020, True)] + [(f"P1{i}", 2021, True) for i in range(6)]
            + [(f"P2{i}", 2022, i < 4) for i in range(6)]
            + [(f"P3{i}", 2023, i == 0) for i in range(5)]
            + [("P50", 2025, True), ("P51", 2025, False)])
    assert len(plan) == 20
    rows, stops = _estates(plan)
    result = geocheck.check(gpkg(estates=rows, bus_stops=stops),
                            pack=_pack(tmp_path, HEAD + BUS_RULE + CAMPAIGN))
    t = result.progress
    assert t["year"].tolist() == [2020, 2021, 2022, 2023, 2024, 2025]
    assert t["scheduled"].tolist() == [1, 6, 6, 5, 0, 2]
    assert t["scheduled_cumulative"].tolist() == [1, 7, 13, 18, 18, 20]
    assert t["passing"].tolist() == [1, 7, 11, 12, 12, 13]
    assert t["passing_share"].tolist() == [0.05, 0.35, 0.55, 0.6, 0.6, 0.65]
    assert t["scheduled_share"].tolist() == [0.05, 0.35, 0.65, 0.9, 0.9, 1.0]
    assert np.isnan(t["target_share"].iloc[0]) and np.isnan(t["target_share"].iloc[5])
    assert t["on_track"].tolist() == [pd.NA, True, False, False, False, pd.NA]
    assert t.attrs["unscheduled"] == 0 and t.attrs["unscheduled_ids"] == ()


def test_passing_means_eligible_to_declare_when_the_pack_has_a_declaration(gpkg,
                                                                            tmp_path) -> None:
    # Two standards under one requirement; declaring needs 50 % of them and one per
    # requirement. An estate near a bus stop but far from any rail station fails overall yet
    # may declare; one near neither may not.
    body = HEAD + '''
[[categories]]
id = "C1"
title_zh = "类"
title_en = "category"

[[requirements]]
id = "R1"
title_zh = "要求"
title_en = "requirement"
category = "C1"

[[standards]]
id = "S1"
title_zh = "公交"
title_en = "bus"
requirement = "R1"

[[standards]]
id = "S2"
title_zh = "轨道"
title_en = "rail"
requirement = "R1"

[declaration]
min_compliance = 0.5
every_requirement = true
citation = "a programme, part 5"
''' + BUS_RULE.replace('id = "BUS"', 'id = "BUS"\nstandard = "S1"') + '''
[[rules]]
id = "RAIL"
standard = "S2"
title_zh = "轨道站点800米"
title_en = "Rail station within 800 m"
citation = "a document, article 2"
check = "nearest_within"
params.max_m = { rail_stations = 800 }
''' + CAMPAIGN
    rows, stops = _estates([("E1", 2021, True), ("E2", 2021, False), ("E3", 2022, False)])
    far_rail = [{"id": "r1", "name": "站", "geometry": at(0, 50_000)}]
    result = geocheck.check(gpkg(estates=rows, bus_stops=stops, rail_stations=far_rail),
                            pack=_pack(tmp_path, body))
    assert result.overall().tolist() == ["fail", "fail", "fail"]
    t = result.progress
    assert t.attrs["basis"] == "declaration"
    assert t["passing"].tolist() == [1, 1, 1, 1]  # E1 is eligible (1 of 2 standards)
    assert t["passing_share"].tolist() == pytest.approx([1 / 3] * 4, abs=1e-6)
    assert t["on_track"].tolist() == [False, False, False, False]


def test_no_progress_without_campaign_or_target_years(gpkg, tmp_path) -> None:
    rows, stops = _estates([("E1", 2021, True), ("E2", None, False)])
    layers = gpkg(estates=rows, bus_stops=stops)
    plain = geocheck.check(layers, pack=_pack(tmp_path, HEAD + BUS_RULE))
    assert plain.pack.campaign is None and plain.progress is None
    written = geocheck.write_outputs(plain, tmp_path / "out", formats=("csv", "png"))
    assert "progress" not in written and "progress_png" not in written
    assert not (tmp_path / "out" / "progress.csv").exists()
    rows, stops = _estates([("E1", None, True), ("E2", None, False)])
    unscheduled = geocheck.check(gpkg(estates=rows, bus_stops=stops),
                                 pack=_pack(tmp_path, HEAD + BUS_RULE + CAMPAIGN))
    assert unscheduled.site.estates["target_year"].isna().all()
    assert unscheduled.progress is None
    # known without the declaration (made before the outputs' second process starts)
    assert "declaration" not in vars(unscheduled)


# ---- target_year as read -----------------------------------------------------------------

@pytest.mark.parametrize("column", ["target_year", "创建年份", "目标年份"])
def test_target_year_column_names(gpkg, mini, column) -> None:
    rows, stops = _estates([("E1", 2021, True), ("E2", "2022年", False), ("E3", "２０２３", True),
                            ("E4", None, False), ("E5", " ", False), ("E6", "2024", True)],
                           column=column)
    est = geocheck.check(gpkg(estates=rows, bus_stops=stops), pack=mini).site.estates
    assert str(est["target_year"].dtype) == "Int64"
    assert est["target_year"].tolist() == [2021, 2022, 2023, pd.NA, pd.NA, 2024]


def test_target_year_numbers_with_blanks_and_field_mapping(gpkg, mini) -> None:
    # a numeric column with a blank is stored as REAL: 2022.0 is 2022
    rows, stops = _estates([("E1", 2022, True), ("E2", None, False)], column="计划")
    layers = gpkg(estates=rows, bus_stops=stops)
    est = geocheck.check(layers, pack=mini, fields=["estates.target_year=计划"]).site.estates
    assert est["target_year"].tolist() == [2022, pd.NA]
    # unmapped, an unknown column is not read
    est = geocheck.check(layers, pack=mini).site.estates
    assert est["target_year"].isna().all()
    with pytest.raises(InputError, match="has no field '年份'"):
        geocheck.check(layers, pack=mini, fields=["target_year=年份"])


@pytest.mark.parametrize(("value", "shown"), [
    ("明年", "'明年'"), (2022.5, "2022.5"), (1999, "1999"), (2101, "2101"), ("2,022", "'2,022'"),
])
def test_bad_target_year_is_an_error_naming_estate_and_value(gpkg, mini, value, shown) -> None:
    rows, stops = _estates([("E1", 2021, True), ("E2", value, False)])
    with pytest.raises(InputError) as err:
        geocheck.check(gpkg(estates=rows, bus_stops=stops), pack=mini)
    assert f"estate 'E2': target_year = {shown} is not a year 2000-2100" in str(err.value)


# ---- the [campaign] table ----------------------------------------------------------------

def test_guangxi_campaign_is_qinzhou_targets() -> None:
    c = load_pack("guangxi").campaign
    assert [(t.year, t.share) for t in c.targets] == [(2021, 0.35), (2022, 0.7), (2023, 0.9),
                                                      (2024, 1.0)]
    assert c.citation.startswith("《钦州市保障性住房小区开展“阳光社区·美丽家园”创建活动实施方案》"
                                 "一、工作目标：")
    assert "35%以上" in c.citation and "100%创建成为" in c.citation
    assert c.target(2022) == 0.7 and c.target(2025) is None
    assert load_pack("nanhai").campaign is None and load_pack("gongshu").campaign is None


@pytest.mark.parametrize(("change", "message"), [
    (('citation = "a programme, part 1: 35 % by 2021, 70 % by 2022, 90 % by 2023, all by '
      '2024"\n', ""), r"\[campaign\] has no citation"),
    (('title_en = "Campaign progress"\n', ""), r"\[campaign\] has no title_en"),
    (("{ year = 2022, share = 0.70 }", "{ year = 2021, share = 0.70 }"),
     r"target years must increase \(2021 follows 2021\)"),
    (("{ year = 2023, share = 0.90 }", "{ year = 2023, share = 0.60 }"),
     r"target shares must not decrease \(2023: 0.6 < 2022: 0.7\)"),
    (("share = 0.35", "share = 35"), r"target 2021: share = 35 is not a ratio .*35 % is 0\.35"),
    (("year = 2021", 'year = "2021"'), r"target year '2021' is not a year 2000-2100"),
    (("year = 2021", "year = 21"), "target year 21 is not a year 2000-2100"),
    (("{ year = 2021, share = 0.35 }", "{ year = 2021, share = 0.35, count = 11 }"),
     "a target has unknown keys: count"),
    (('title_zh = "创建进度"', 'title_zh = "创建进度"\ncity = "钦州"'),
     r"\[campaign\] has unknown keys: city"),
])
def test_malformed_campaign_refused_naming_pack(tmp_path, change, message) -> None:
    path = _pack(tmp_path, HEAD + BUS_RULE + CAMPAIGN.replace(*change))
    assert CAMPAIGN.count(change[0]) == 1  # the change applies
    with pytest.raises(PackError, match=rf"^{tmp_path / 'mini.toml'}: .*{message}"):
        load_pack(path)


def test_campaign_targets_must_be_given(tmp_path) -> None:
    head = HEAD + BUS_RULE + '[campaign]\ntitle_zh = "甲"\ntitle_en = "a"\ncitation = "b"\n'
    for targets, message in (("", "targets must be a non-empty list"),
                             ("targets = []\n", "targets must be a non-empty list"),
                             ("targets = [2021]\n", "targets must be a non-empty list")):
        with pytest.raises(PackError, match=message):
            load_pack(_pack(tmp_path, head + targets))
    with pytest.raises(PackError, match=r"\[campaign\] is not a table"):
        load_pack(_pack(tmp_path, 'campaign = "soon"\n' + HEAD + BUS_RULE))


def test_extends_inherits_or_replaces_the_campaign(tmp_path) -> None:
    base = load_pack("guangxi").campaign
    _pack(tmp_path, '[pack]\nid = "city"\nextends = "guangxi"\ntitle_zh = "某市"\n', "city.toml")
    assert load_pack(tmp_path / "city.toml").campaign == base
    own = CAMPAIGN.replace("share = 0.35", "share = 0.5").replace("share = 0.70", "share = 0.8")
    _pack(tmp_path, '[pack]\nid = "own"\nextends = "guangxi"\n' + own, "own.toml")
    pack = load_pack(tmp_path / "own.toml")
    assert pack.campaign.title_zh == "创建进度"
    assert [t.share for t in pack.campaign.targets] == [0.5, 0.8, 0.9, 1.0]
    assert pack.declaration == load_pack("guangxi").declaration
    # a grandchild of a pack file inherits its parent's campaign
    _pack(tmp_path, '[pack]\nid = "grand"\nextends = "own.toml"\n', "grand.toml")
    assert load_pack(tmp_path / "grand.toml").campaign == pack.campaign
    # a pack without a campaign, extended with one
    _pack(tmp_path, '[pack]\nid = "nh"\nextends = "nanhai"\n' + CAMPAIGN, "nh.toml")
    assert load_pack(tmp_path / "nh.toml").campaign.targets[0] == Target(2021, 0.35)
    # the child's campaign is validated like any other
    _pack(tmp_path, '[pack]\nid = "bad"\nextends = "guangxi"\n'
          + CAMPAIGN.replace("share = 1.0", "share = 0.2"), "bad.toml")
    with pytest.raises(PackError, match=r"bad\.toml: \[campaign\]: target shares must not"):
        load_pack(tmp_path / "bad.toml")


# ---- chart and files ---------------------------------------------------------------------

@pytest.fixture
def judged(gpkg, mini) -> geocheck.Result:
    rows, stops = _estates(PLAN)
    return geocheck.check(gpkg(estates=rows, bus_stops=stops), pack=mini)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_is_a_png_drawn_without_warnings(judged, lang) -> None:
    # warnings are errors: a missing CJK glyph would fail here
    data = progress_chart_png(judged.progress, judged.pack.campaign, lang=lang, dpi=100)
    assert data.startswith(PNG)
    pixels = imread(io.BytesIO(data))
    assert pixels.shape[:2] == (480, 800)  # 8 x 4.8 inches at 100 dpi
    # the passing bars are drawn in the fail colour (every year is behind its target)
    red = np.all(np.abs(pixels[..., :3] - np.array([0xd7, 0x30, 0x27]) / 255) < 0.02, axis=-1)
    assert red.sum() > 500


def test_chart_takes_titles_as_text(judged) -> None:
    """A title that mathtext would parse (or refuse: ``$\\frac{$`` is malformed) is drawn as
    the characters it is: its Text says exactly that, with math parsing off, and it renders."""
    odd = Campaign(r"进度 $\alert$ ${alert(1)}", r"$\frac{$", "cite",
                   judged.pack.campaign.targets)
    for lang, title in (("zh", odd.title_zh), ("en", odd.title_en)):
        fig = progress_chart_figure(judged.progress, odd, lang=lang, dpi=50)
        shown = [t for t in fig.texts if t.get_text() == title]
        assert len(shown) == 1 and not shown[0].get_parse_math()
        fig.canvas.draw()  # mathtext would raise on $\frac{$; plain text draws
        assert shown[0].get_window_extent().width > 0
        assert progress_chart_png(judged.progress, odd, lang=lang, dpi=50).startswith(PNG)
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        progress_chart_figure(judged.progress, odd, lang="fr")


def test_progress_files_written_with_the_outputs(judged, tmp_path) -> None:
    written = geocheck.write_outputs(judged, tmp_path / "out", formats=("csv", "png"))
    assert written["progress"] == tmp_path / "out" / "progress.csv"
    assert written["progress_png"] == tmp_path / "out" / "progress.png"
    raw = written["progress"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(written["progress"], encoding="utf-8-sig")
    assert back.columns.tolist() == PROGRESS_COLUMNS
    assert back["passing"].tolist() == [3, 5, 5, 5]
    assert back["on_track"].tolist() == [False] * 4
    assert written["progress_png"].read_bytes().startswith(PNG)


def test_sample_progress_from_its_sheet() -> None:
    """The sample sheet's years (layers/make_attributes.py), against Qinzhou's targets; the
    estates that may be declared are NN-001, -002, -006, -007, -008, -009, -011, -012."""
    root = LAYERS
    result = geocheck.check(root / "nanning_sample.gpkg",
                            attributes=root / "nanning_attributes.xlsx")
    table = result.progress
    assert table.attrs["basis"] == "declaration"
    assert table.attrs["campaign_estates"] == 11 and table.attrs["unscheduled_ids"] == ("NN-010",)
    assert table["scheduled"].tolist() == [4, 4, 2, 1]
    # 2021: all 4 eligible (4/11 = 36.4 % >= 35 %); 2022: + NN-008, -009, -012 (7/11 = 63.6 %
    # < 70 %); 2023: + NN-011 (8/11 = 72.7 % < 90 %); 2024: NN-005 is not (8/11 < 100 %)
    assert table["passing"].tolist() == [4, 7, 8, 8]
    assert table["passing_share"].tolist() == [round(k / 11, 6) for k in (4, 7, 8, 8)]
    assert table["on_track"].tolist() == [True, False, False, False]
    assert geocheck.check(root / "nanning_sample.gpkg").progress is None  # no sheet, no years


def _year_sheet(path: Path, rows: list[tuple[str, object]], header: str = "创建年份") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["小区编号", header])
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


def test_target_years_from_the_attributes_sheet(gpkg, mini, tmp_path) -> None:
    rows, stops = _estates([(eid, None, ok) for eid, _, ok in PLAN])  # no years in the layer
    layers = gpkg(estates=rows, bus_stops=stops)
    sheet = _year_sheet(tmp_path / "years.xlsx",
                        [(eid, f"{year}年" if eid == "A1" else year)
                         for eid, year, _ in PLAN if year is not None])
    from_sheet = geocheck.check(layers, pack=mini, attributes=sheet).progress
    rows, stops = _estates(PLAN)
    from_layer = geocheck.check(gpkg(estates=rows, bus_stops=stops), pack=mini).progress
    pd.testing.assert_frame_equal(from_sheet, from_layer)  # the same table, worked out above
    assert from_sheet["passing"].tolist() == [3, 5, 5, 5]


def test_target_year_in_the_sheet_refused_when_unreadable_or_contradicting(gpkg, mini,
                                                                          tmp_path) -> None:
    rows, stops = _estates(PLAN)
    layers = gpkg(estates=rows, bus_stops=stops)
    bad = _year_sheet(tmp_path / "bad.xlsx", [("U1", "明年")], header="目标年份")
    with pytest.raises(geocheck.InputError,
                       match=r"estate U1 \(row 2\), column '目标年份': '明年' is not a year "
                             r"2000-2100"):
        geocheck.check(layers, pack=mini, attributes=bad)
    clash = _year_sheet(tmp_path / "clash.xlsx", [("A1", 2022)])
    with pytest.raises(geocheck.InputError, match="estate A1 has target_year 2021 in the "
                                                  "estates layer but 2022 in the sheet"):
        geocheck.check(layers, pack=mini, attributes=clash)


def test_template_has_the_year_column_when_the_pack_has_a_campaign(tmp_path) -> None:
    from geocheck.views.template import columns

    assert "创建年份（年）" in columns(geocheck.load_pack("guangxi"))["header"].tolist()
    assert "创建年份（年）" not in columns(geocheck.load_pack("nanhai"))["header"].tolist()
