"""The command line end to end: outputs, exit codes, errors, escaping."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from helpers import SAMPLE, SHEET, at, estate, rect

import geocheck
import geocheck.views.style
from geocheck.cli import main
from geocheck.rules.registry import CHECKS
from geocheck.views.report import report_map_positions


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geocheck", *args], capture_output=True,
                          text=True, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The README's demo, run once as a process: the sample with its attributes sheet."""
    out = tmp_path_factory.mktemp("demo") / "out"
    return run("check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out)), out


def test_check_sample_end_to_end(demo) -> None:
    proc, out = demo
    assert proc.returncode == 1, proc.stderr  # the sample has failures by design
    assert "GX-53" in proc.stdout and "working CRS: EPSG:4545" in proc.stdout
    assert "exit 1" in proc.stdout
    raw = (out / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    for col in ("estate_id", "estate_name", "pack", "rule_id", "status", "value", "unit",
                "threshold", "method", "evidence", "citation"):
        assert col in findings.columns
    assert len(findings) == 12 * 98  # the Guangxi pack's 98 rules
    assert "declaration (85% of applicable standards passed" in proc.stdout
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert summary["eligible"].sum() == 8 and len(summary) == 12
    card = pd.read_csv(out / "scorecard.csv", encoding="utf-8-sig")
    assert len(card) == 12 * 65
    assert set(findings["status"]) <= {"pass", "fail", "not_applicable", "no_data"}
    layers = {name for name, _ in pyogrio.list_layers(out / "results.gpkg")}
    assert {"estates", "evidence_lines", "uncovered_buildings", "too_close_points",
            "findings"} <= layers
    est = pyogrio.read_dataframe(out / "results.gpkg", layer="estates")
    assert len(est) == 12 and {"overall", "GX-53", "GX-10-greening", "compliance_rate",
                                "eligible"} <= set(est.columns)
    lines = pyogrio.read_dataframe(out / "results.gpkg", layer="evidence_lines")
    nn002 = lines[(lines["estate_id"] == "NN-002") & lines["decisive"]]
    assert len(nn002) == 1 and nn002.length.iloc[0] == pytest.approx(760.0, abs=0.01)
    html = (out / "map.html").read_text(encoding="utf-8")
    for text in ("estates 小区 (verdict)", "evidence lines", "uncovered buildings",
                 "OpenStreetMap", "凤岭北保障房小区", "GX-06-garbage-setback"):
        assert text in html or json.dumps(text)[1:-1] in html  # raw or \uXXXX
    assert (out / "rejects.csv").exists()


def test_the_process_ends_with_main_s_code_and_its_output_flushed(tmp_path) -> None:
    """``python -m geocheck`` ends the process at once after :func:`main` (no teardown): the
    exit code is main's and every line written reaches a pipe, block-buffered as a pipe is
    (so the test runs without PYTHONUNBUFFERED, which would flush each line anyway)."""
    import os
    from importlib.metadata import entry_points
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def started(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "geocheck", *args], capture_output=True,
                              text=True, check=False, env=env)
    listing = started("packs", "show", "guangxi")
    assert listing.returncode == 0
    assert listing.stdout == main_output(["packs", "show", "guangxi"])
    bad = started("check", str(tmp_path / "absent.gpkg"), "-o", str(tmp_path / "o"))
    assert bad.returncode == 2 and bad.stderr.startswith("geocheck: error:")
    scripts = entry_points(group="console_scripts")
    assert [e.value for e in scripts if e.name == "geocheck"] == ["geocheck.__main__:run"]


def main_output(argv: list[str]) -> str:
    """What :func:`main` prints to stdout for ``argv``, run in this process."""
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(argv)
    return buffer.getvalue()


def test_nanhai_pack_and_exit_codes(tmp_path, gpkg) -> None:
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100), built="new")],
                green_space=[{"id": "g", "name": "园", "geometry": rect(0, 0, 100, 30)}])
    spatial = tmp_path / "spatial.toml"  # nanhai's map-measured rules only: no sheet needed
    records = [r.id for r in geocheck.load_pack("nanhai").rules if CHECKS[r.check].reads == "sheet"]
    spatial.write_text(f'[pack]\nid = "nh-map"\nextends = "nanhai"\nremove = {records!r}\n',
                       encoding="utf-8")
    assert main(["check", str(path), "--pack", str(spatial), "-o", str(tmp_path / "o"),
                 "-q"]) == 0
    assert main(["check", str(path), "--pack", "nanhai", "-o", str(tmp_path / "o1"), "-q"]) == 1
    assert main(["check", str(path), "-o", str(tmp_path / "o2"), "-q"]) == 1  # guangxi: 30 < 35


def test_hostile_names_are_inert(tmp_path, gpkg) -> None:
    hostile = "<img src=x onerror=alert(1)>${alert(2)}</script>"
    path = gpkg(estates=[estate("A", rect(0, 0, 100, 100), name=hostile),
                         estate("=HYPERLINK(\"http://x\")", rect(200, 0, 300, 100),
                                name="@SUM(1)")],
                bus_stops=[{"id": "s", "name": "<b>站</b>", "geometry": at(50, 200)}])
    out = tmp_path / "out"
    assert main(["check", str(path), "-o", str(out), "-q"]) == 1
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<img" not in html and "<b>站" not in html and "onerror=alert(1)>" not in html
    assert html.count("</script>") == html.count("<script")  # nothing closes a script early
    # The popup text was HTML-escaped by geocheck (&lt;img) before the JSON escaping
    # (\u003c): Leaflet inserts popup strings as HTML, so the first is what keeps it inert.
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html
    assert "${alert(2)}" in html  # plain JSON string data; the page builds no template literals
    text = (out / "findings.csv").read_text(encoding="utf-8-sig")
    cells = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype=str)
    assert not cells.map(lambda v: isinstance(v, str) and v[:1] in "=+-@").any().any()
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text


@pytest.mark.parametrize(("args", "message"), [
    (["check", "no/such.gpkg"], "no/such.gpkg: no such file"),
    (["check", "{}", "--pack", "atlantis"], "no pack 'atlantis'"),
    (["check", "SAMPLE", "--dst-crs", "EPSG:3857"], "Web Mercator"),
    (["check", "SAMPLE", "--field", "households"], "not of the form FIELD=SOURCE"),
    (["frobnicate"], "invalid choice"),
    (["check", "SAMPLE", "-o", "SAMPLE"], "cannot write the outputs to"),
])
def test_bad_input_one_line_exit_2(args, message, capsys) -> None:
    args = [str(SAMPLE) if a == "SAMPLE" else a for a in args]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse exits on a usage error
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_input_from_the_process_is_one_line_and_exit_2() -> None:
    """The same contract from the installed command as a process: stderr holds one line."""
    proc = run("check", str(SAMPLE), "--dst-crs", "EPSG:3857")
    assert proc.returncode == 2 and "Web Mercator" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    usage = run("frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_packs_and_info_commands(capsys) -> None:
    assert main(["packs", "list"]) == 0
    assert "guangxi" in capsys.readouterr().out
    assert main(["packs", "show", "guangxi"]) == 0
    shown = capsys.readouterr().out
    assert "GX-06-garbage-radius" in shown and "服务半径≤70米" in shown
    assert main(["info", str(SAMPLE)]) == 0
    info = capsys.readouterr().out
    assert "estates" in info and "EPSG:4545" in info and "12 features" in info


def test_dst_crs_option_gives_same_verdicts(tmp_path) -> None:
    a = main(["check", str(SAMPLE), "-o", str(tmp_path / "a"), "-q", "--format", "csv"])
    b = main(["check", str(SAMPLE), "-o", str(tmp_path / "b"), "-q", "--format", "csv",
              "--dst-crs", "EPSG:32649"])
    assert a == b == 1
    fa = pd.read_csv(Path(tmp_path / "a" / "findings.csv"), encoding="utf-8-sig")
    fb = pd.read_csv(Path(tmp_path / "b" / "findings.csv"), encoding="utf-8-sig")
    assert (fa["status"] == fb["status"]).all()
    assert "EPSG:32649" in fb["method"].iloc[0]


def test_summary_names_estates_without_a_name(gpkg) -> None:
    from geocheck import check
    from geocheck.views.summary import summarise

    rows = [estate("A", rect(0, 0, 100, 100))]
    rows[0]["name"] = None
    text = summarise(check(gpkg(estates=rows)))
    assert "  A: no_data 97 rules" in text and "nan" not in text
    assert "estates: 1 · all applicable rules met 0 · some rule failed 0 · missing data 1" in text


def test_every_output_by_default_and_narrowed(demo, tmp_path) -> None:
    _, out = demo  # the sample's sheet gives estates campaign years: progress is written too
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv", "findings.xlsx", "geocheck-run.json", "map.html", "map.png",
        "progress.csv", "progress.png", "proposals.gpkg", "rejects.csv", "report.html",
        "results.gpkg", "scorecard.csv", "summary.csv"]
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    narrow = tmp_path / "narrow"
    sample = SAMPLE
    assert main(["check", str(sample), "-o", str(narrow), "-q", "--format", "csv,map"]) == 1
    assert sorted(p.name for p in narrow.iterdir()) == [
        "findings.csv", "geocheck-run.json", "map.html", "rejects.csv", "scorecard.csv",
        "summary.csv"]


def test_unknown_format_and_language_are_refused(tmp_path, capsys) -> None:
    sample = SAMPLE
    assert main(["check", str(sample), "-o", str(tmp_path), "--format", "csv,pdf"]) == 2
    assert capsys.readouterr().err.strip() == (
        "geocheck: error: unknown output format pdf: choose from csv, gpkg, map, xlsx, "
        "report, png, parquet (comma-separated) or all")
    assert not any(tmp_path.iterdir())


def test_without_a_chinese_font_the_static_maps_are_left_out_not_garbled(
        tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(geocheck.views.style, "find_cjk_font", lambda: None)
    sample = SAMPLE
    out = tmp_path / "out"
    assert main(["check", str(sample), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "no installed font can draw Chinese" in err and "fonts-noto-cjk" in err
    assert not (out / "map.png").exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png" not in report
    assert main(["check", str(sample), "-o", str(tmp_path / "png"), "--format", "png"]) == 2
    assert capsys.readouterr().err.startswith("geocheck: error: no installed font can draw")


def test_report_map_positions_failing_first_by_hand() -> None:
    sample = SAMPLE
    bare = geocheck.check(sample)  # no sheet: estates 0, 1, 8, 11 lack data, the rest fail
    assert report_map_positions(bare, 9).tolist() == [0, 2, 3, 4, 5, 6, 7, 9, 10]
    assert report_map_positions(bare, 3).tolist() == [2, 3, 4]
    assert report_map_positions(bare, 0).tolist() == []
    assert report_map_positions(bare, None).tolist() == list(range(12))
    assert report_map_positions(bare, 50).tolist() == list(range(12))
    full = geocheck.check(sample, attributes=sample.parent / "nanning_attributes.xlsx")
    # with the sheet, estates 0, 1, 8, 11 pass: the 8 failing ones come first
    assert report_map_positions(full, 10).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 9, 10]


def test_report_maps_option_caps_the_estate_maps(tmp_path, capsys) -> None:
    sample = SAMPLE
    out = tmp_path / "out"
    assert main(["check", str(sample), "-o", str(out), "-q", "--format", "report",
                 "--report-maps", "3", "--lang", "en"]) == 1
    text = (out / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section class="estate"[^>]*data-estate-id="([^"]+)"(.*?)</section>',
                          text, flags=re.S)
    assert len(sections) == 12
    with_map = [eid for eid, body in sections if "<img" in body]
    assert with_map == ["NN-003", "NN-004", "NN-005"]  # the first three failing estates
    noted = [eid for eid, body in sections if "maps of 3 of the 12 estates" in body]
    assert sorted(noted + with_map) == sorted(eid for eid, _ in sections)
    with pytest.raises(SystemExit) as exit_:  # argparse's usage error: exit 2
        main(["check", str(sample), "-o", str(out), "--report-maps", "some"])
    assert exit_.value.code == 2
    assert "'some' is not a number of estates (or 'all')" in capsys.readouterr().err


def test_piece_takes_a_number_all_or_auto(tmp_path, capsys) -> None:
    from geocheck.cli import _parser
    parse = _parser().parse_args
    base = ["check", "in.gpkg", "-o", str(tmp_path)]
    assert parse(base).piece == "auto"
    assert [parse([*base, "--piece", p]).piece for p in ("auto", "all", "500")] == [
        "auto", None, 500]
    with pytest.raises(SystemExit) as exit_:
        parse([*base, "--piece", "half"])
    assert exit_.value.code == 2
    assert "'half' is not a number of estates (or 'all', or 'auto')" in capsys.readouterr().err
