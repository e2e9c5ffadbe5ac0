"""Excel's limits known before the judging: from estates x rules (and x standards) alone,
the run says on stderr what findings.xlsx will cut to fit, and the summary says it again."""

from __future__ import annotations

import pytest
from helpers import SAMPLE, SHEET

import geocheck.pipeline
from geocheck.cli import main
from geocheck.core.errors import GeocheckError
from geocheck.rules.packs.load import load_pack
from geocheck.views import excel
from geocheck.views.excel import forecast_sheets, plan_sheets, sheet_notes


def test_the_forecast_counts_estates_times_rules_and_standards() -> None:
    pack = load_pack("guangxi")  # 98 rules, 65 standards
    assert (len(pack.rules), len(pack.standards)) == (98, 65)
    assert forecast_sheets(10_000, pack) == []  # 980,000 findings rows fit (<= 1,048,575)
    notes = forecast_sheets(30_000, pack, rejects=10)
    # 30,000 x 98 = 2,940,000 findings; 30,000 x 65 = 1,950,000 scorecard rows
    assert notes == [
        "findings.xlsx: 30,000 estates x 98 rules = 2,940,000 rows do not fit in one Excel "
        "sheet (at most 1,048,575); its 结果 findings sheet will hold only its failing and "
        "no-data rows (over numbered sheets if they are still too many); findings.csv will "
        "have them all",
        "findings.xlsx: 30,000 estates x 65 standards = 1,950,000 rows do not fit in one "
        "Excel sheet (at most 1,048,575); its 标准 scorecard sheet will hold only its failing "
        "and no-data rows (over numbered sheets if they are still too many); scorecard.csv "
        "will have them all"]
    summary = forecast_sheets(2_100_000, pack)[2]  # 2,100,000 summary rows: 3 sheets
    assert summary.startswith("findings.xlsx: 2,100,000 estates = 2,100,000 rows")
    assert "its 汇总 summary sheet will hold its rows over 3 numbered sheets" in summary


def test_the_forecast_agrees_with_what_the_workbook_cuts(sample, monkeypatch) -> None:
    # 12 estates x 98 rules = 1,176 findings, x 65 standards = 780 scorecard rows, 1 reject
    monkeypatch.setattr(excel, "MAX_ROWS", 1000)
    notes = forecast_sheets(12, sample.pack, len(sample.site.ledger.rejects))
    assert len(notes) == 1 and "12 estates x 98 rules = 1,176 rows" in notes[0]
    cut = plan_sheets(sample)[1]
    assert len(cut) == 1 and cut[0].startswith("结果 findings: 1,176 rows")
    assert sheet_notes(sample) == cut  # the notes without the tables
    monkeypatch.setattr(excel, "MAX_ROWS", 700)
    assert len(forecast_sheets(12, sample.pack)) == len(plan_sheets(sample)[1]) == 2
    monkeypatch.setattr(excel, "MAX_ROWS", 100)  # the findings' kept rows span several sheets
    cut = plan_sheets(sample)[1]
    assert sheet_notes(sample) == cut and any("split over" in note for note in cut)


def test_the_cli_says_it_before_the_judging(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 1000)

    def judge_fails(*args, **kwargs):  # stop where the long work would start
        raise GeocheckError("judging stopped by the test")

    monkeypatch.setattr(geocheck.pipeline, "judge_in_pieces", judge_fails)
    code = main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "judging stopped by the test" in err
    lines = err.splitlines()
    note = [i for i, line in enumerate(lines) if "12 estates x 98 rules = 1,176 rows" in line]
    stop = [i for i, line in enumerate(lines) if "judging stopped" in line]
    assert len(note) == 1 and note[0] < stop[0]
    assert lines[note[0]].startswith("geocheck: note: findings.xlsx:")


@pytest.mark.parametrize(("formats", "said"), [("csv,xlsx", True), ("csv", False)])
def test_the_summary_says_it_again_and_only_with_xlsx(formats, said, tmp_path, monkeypatch,
                                                     capsys) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 1000)
    code = main(["check", str(SAMPLE), "--attributes", str(SHEET), "--format", formats,
                 "-o", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert code == 1
    assert ("1,176 rows do not fit" in err) is said  # the forecast, at the start
    assert ("结果 findings: 1,176 rows x 17 columns do not fit" in out) is said  # the summary


def test_a_big_run_without_parquet_is_told_of_it(sample, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(geocheck.write, "PARQUET_ADVISED_ROWS", 1176)  # the sample's rows
    written = geocheck.write.write_outputs(sample, tmp_path / "a", formats=("csv",),
                                              inputs=[SAMPLE, SHEET])
    assert [n for n in written.notes if "--format all,parquet" in n] == [
        "1,176 findings rows: --format all,parquet also writes them as findings.parquet and "
        "estates.parquet (typed, compressed GeoParquet), which pandas, GeoPandas, DuckDB and "
        "QGIS read far faster than findings.csv"]
    written = geocheck.write.write_outputs(sample, tmp_path / "b",
                                              formats=("csv", "parquet"),
                                              inputs=[SAMPLE, SHEET])
    assert not [n for n in written.notes if "parquet" in n]
    monkeypatch.setattr(geocheck.write, "PARQUET_ADVISED_ROWS", 1177)
    written = geocheck.write.write_outputs(sample, tmp_path / "c", formats=("csv",),
                                              inputs=[SAMPLE, SHEET])
    assert not [n for n in written.notes if "parquet" in n]


def test_sheet_notes_of_a_result_that_fits_make_no_table(sample) -> None:
    import dataclasses
    fresh = dataclasses.replace(sample)  # the same findings, none of the tables made yet
    assert sheet_notes(fresh) == [] == plan_sheets(sample)[1]
    made = {"scorecard", "declaration", "scores", "life_circles", "severity"} & set(vars(fresh))
    assert made == set()  # counts alone: estates, rules, standards, rejects, columns
