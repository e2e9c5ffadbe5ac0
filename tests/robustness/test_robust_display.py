"""What is shown agrees with the verdict; terminal output is inert and bounded; pack limits.

Distances are judged to the millimetre and ratios to the millionth; every distance or share
written for people must read as its verdict (a 70.0014 m building beside a fail against
"within 70 m" never reads "70.0 m"). Text printed to the terminal carries no escape sequence
and no bidi override, and a 100 kB name does not pad every line. An ``extends`` chain of 1,200
packs is refused with a clear error (exit 2), not a RecursionError (exit 3).
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import at, estate, layer, rect, write_gpkg

import geocheck
from geocheck.cli import main
from geocheck.core.units import metres, percent, plain, share

OFFSETS = np.array([0.0, 1e-4, 4e-4, 4.9e-4, 5e-4, 5.1e-4, 6e-4, 9.9e-4, 1e-3, 1.4e-3, 1.5e-3,
                    4.9e-3, 5e-3, 5.1e-3, 0.01, 0.0449, 0.045, 0.049, 0.05, 0.051, 0.0551,
                    0.06, 0.09, 0.0999, 0.1])
"""Distances off a threshold, metres: the rounding boundaries of millimetres and of 0.1 m."""


def around(limit: float, seed: int, n: int = 2000) -> np.ndarray:
    """Distances around ``limit``: exactly at it, +- each of :data:`OFFSETS`, and ``n`` random
    offsets within +- 0.1 m (fixed seed)."""
    rng = np.random.default_rng(seed)
    off = np.r_[OFFSETS, -OFFSETS, rng.uniform(-0.1, 0.1, n), rng.uniform(-2e-3, 2e-3, n)]
    return limit + off


def reads_met(text: str, threshold: str, at_most: bool) -> bool:
    """Whether a reader comparing the first number of ``text`` with ``threshold`` sees it met."""
    shown = Decimal(re.search(r"-?[\d,]+(?:\.\d+)?", text).group().replace(",", ""))
    return shown <= Decimal(threshold) if at_most else shown >= Decimal(threshold)


@pytest.mark.parametrize("at_most", [True, False], ids=["within", "setback"])
@pytest.mark.parametrize("limit", [5.0, 70.0, 500.0, 800.0, 0.5, 70.05, 1234.5])
@pytest.mark.parametrize("decimals", [0, 1])
def test_distance_text_reads_as_its_verdict(limit: float, at_most: bool, decimals: int) -> None:
    d = around(limit, seed=int(limit * 100) + decimals)
    judged = np.round(d, 3)  # as the checks judge distances
    passed = judged <= limit if at_most else judged >= limit
    assert passed.any() and (~passed).any()
    wrong = [(x, t) for x, ok in zip(d, passed, strict=True)
             if reads_met(t := metres(x, limit, at_most=at_most, decimals=decimals),
                          plain(limit), at_most) != ok]
    assert wrong == []


@pytest.mark.parametrize("limit", [0.35, 0.85, 0.3505, 0.1, 0.95, 0.123456])
@pytest.mark.parametrize("at_most", [False, True], ids=["at_least", "at_most"])
def test_share_text_reads_as_its_verdict(limit: float, at_most: bool) -> None:
    rng = np.random.default_rng(int(limit * 1e6))
    steps = np.r_[0.0, np.logspace(-7, -3, 40), rng.uniform(1e-7, 1e-3, 2000)]
    ratios = np.r_[limit + steps, limit - steps, limit * (1 + rng.uniform(-1e-3, 1e-3, 2000))]
    judged = np.round(ratios, 6)  # as the checks judge ratios
    passed = judged <= limit if at_most else judged >= limit
    assert passed.any() and (~passed).any()
    threshold = percent(limit, sep="").removesuffix("%")
    wrong = [(r, t) for r, ok in zip(ratios, passed, strict=True)
             if reads_met(t := share(r, limit=limit, at_most=at_most), threshold, at_most) != ok]
    assert wrong == []


B1 = rect(10, 10, 20, 20)  # a residential building; its east face is x = 20


def _site(tmp_path: Path, offsets: np.ndarray) -> Path:
    """Three 100 m square estates per offset, 1 km apart on a grid, each with a building whose
    east face is 10 m from its west side: ``radius{k}`` with a garbage point 70 m + offset from
    that face, ``setback{k}`` with one 5 m + offset from it, and ``bus{k}`` with a bus stop
    500 m + offset east of the estate (and no rail station)."""
    estates, buildings, points, stops = [], [], [], []
    for k, off in enumerate(offsets):
        for j, kind in enumerate(("radius", "setback", "bus")):
            n = 3 * k + j
            eid, dx, dy = f"{kind}{k}", (n % 16) * 1000.0, (n // 16) * 1000.0
            estates.append(estate(eid, rect(dx, dy, dx + 100, dy + 100)))
            buildings.append({"building_id": f"b-{eid}", "estate_id": eid,
                              "geometry": rect(dx + 10, dy + 10, dx + 20, dy + 20)})
            x = {"radius": 90.0 + off, "setback": 25.0 + off, "bus": 40.0}[kind]
            points.append({"id": f"g-{eid}", "name": "垃圾点", "geometry": at(dx + x, dy + 15)})
            if kind == "bus":
                stops.append({"id": f"s-{eid}", "name": "站",
                              "geometry": at(dx + 600 + off, dy + 50)})
    return write_gpkg(tmp_path / "near.gpkg", {
        "estates": layer(estates), "buildings": layer(buildings),
        "garbage_points": layer(points), "bus_stops": layer(stops),
        "rail_stations": layer([])})


def test_rule_evidence_reads_as_its_verdict(tmp_path: Path) -> None:
    offsets = np.r_[OFFSETS, -OFFSETS, np.random.default_rng(6).uniform(-0.1, 0.1, 30)]
    f = geocheck.check(_site(tmp_path, offsets)).findings.set_index(["estate_id", "rule_id"])
    cases = [("radius", "GX-06-garbage-radius", r"farthest: building \S+ at ([\d,.]+ m)", "70",
              True),
             ("setback", "GX-06-garbage-setback", r"closest: .* at ([\d,.]+ m)", "5", False),
             ("bus", "GX-53", r"nearest bus stop: .* at ([\d,.]+ m)", "500", True)]
    seen = 0
    for kind, rule, pattern, threshold, at_most in cases:
        rows = f.xs(rule, level="rule_id").loc[[f"{kind}{k}" for k in range(len(offsets))]]
        assert set(rows["status"]) == {"pass", "fail"}
        for status, evidence, value in zip(rows["status"], rows["evidence"], rows["value"],
                                           strict=True):
            shown = re.search(pattern, evidence).group(1)
            assert reads_met(shown, threshold, at_most) == (status == "pass"), evidence
            assert reads_met(f"{value}", threshold, at_most) == (status == "pass"), value
            seen += 1
    assert seen == 3 * len(offsets)


def test_near_miss_shown_as_a_miss_in_every_output(tmp_path: Path) -> None:
    # the building's east face is x = 20; the only garbage point at x = 90.0014: 70.0014 m
    src = write_gpkg(tmp_path / "in.gpkg", {
        "estates": layer([estate("E", rect(0, 0, 100, 100))]),
        "buildings": layer([{"building_id": "930563", "estate_id": "E", "geometry": B1}]),
        "garbage_points": layer([{"id": "g1", "name": "垃圾点", "geometry": at(90.0014, 15)}])})
    result = geocheck.check(src)
    row = result.findings.set_index("rule_id").loc["GX-06-garbage-radius"]
    assert row["status"] == "fail" and row["value"] == 70.001
    assert "farthest: building 930563 at 70.001 m" in row["evidence"]
    out = geocheck.write_outputs(result, tmp_path / "out", formats=("csv", "map", "xlsx",
                                                                     "report"), lang="en")
    csv = pd.read_csv(out["findings"], dtype=str).set_index("rule_id")
    assert "at 70.001 m" in csv.loc["GX-06-garbage-radius", "evidence"]
    for name in ("map.html", "report.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "930563 at 70.001 m" in text, name
        assert "930563 at 70.0 m" not in text and '"70.0 m"' not in text, name
    # the value shown beside the verdict: a popup text of its own, a report table cell
    assert '"70.001 m"' in (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert ">70.001 m<" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "out" / "findings.xlsx") as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "930563 at 70.001 m" in strings and "930563 at 70.0 m" not in strings


ESC_NAME = "\x1b[2J\x1b]0;pwned\x07红\u202eevil\x9b31m小区"


def test_terminal_summary_is_inert_and_bounded(tmp_path: Path, capsys) -> None:
    long_name = "长" * 50_000 + "x" * 50_000
    src = write_gpkg(tmp_path / "in.gpkg", {
        "estates": layer([estate("E1\x1b[31m", rect(0, 0, 100, 100), name=ESC_NAME),
                          estate("E2", rect(200, 0, 300, 100), name=long_name)])})
    code = main(["check", str(src), "-o", str(tmp_path / "out"), "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 1
    assert "红evil" in out and "E1" in out  # the names are there, their controls are not
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)
    assert max(len(line) for line in out.splitlines()) < 250
    assert "长" * 10 in out and "…" in out
    # the files keep the full names
    summary = pd.read_csv(tmp_path / "out" / "findings.csv", dtype=str)
    assert long_name in set(summary["estate_name"]) and ESC_NAME in set(summary["estate_name"])


def test_error_naming_a_feature_is_one_inert_line(tmp_path: Path, capsys) -> None:
    # the estate's built value is quoted (repr); the file name is not
    src = write_gpkg(tmp_path / "in.gpkg", {
        "estates": layer([estate("E1", rect(0, 0, 100, 100), built="\x1b[2Jnewish\nx")])})
    assert main(["check", str(src), "-o", str(tmp_path / "out")]) == 2
    gone = tmp_path / "gone\x1b]0;title\x07\u202e\x1b[31m.gpkg"
    assert main(["check", str(gone), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "built = " in err and "gone.gpkg: no such file" in err
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", err)


def test_an_error_quoting_a_100_kb_id_is_one_bounded_line(tmp_path: Path, capsys) -> None:
    huge = "E" * 100_000
    src = write_gpkg(tmp_path / "in.gpkg", {
        "estates": layer([estate(huge, rect(0, 0, 100, 100), built="newish")])})
    assert main(["check", str(src), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert len(err) < 4200 and err.rstrip().endswith("more characters)")
    assert err.startswith("geocheck: error: ") and "E" * 1000 in err


def test_extends_chain_of_1200_packs_is_refused(tmp_path: Path, capsys) -> None:
    for i in range(1200):
        parent = f"p{i + 1}.toml" if i < 1199 else "guangxi"
        (tmp_path / f"p{i}.toml").write_text(f'[pack]\nid = "p{i}"\nextends = "{parent}"\n',
                                             encoding="utf-8")
    assert main(["packs", "show", str(tmp_path / "p0.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{tmp_path / 'p0.toml'}: its extends chain is more than 16 packs deep" in err
    # a chain of 16 is followed
    assert geocheck.load_pack(tmp_path / "p1185.toml").id == "p1185"


def test_pack_numbers_in_errors_are_plain(tmp_path: Path, capsys) -> None:
    pack = tmp_path / "big.toml"
    pack.write_text('[pack]\nid = "big"\nextends = "guangxi"\n\n[[attributes]]\nkey = "huge"\n'
                    'title_zh = "h"\ntitle_en = "h"\nkind = "number"\n'
                    "max = -1e20\n", encoding="utf-8")
    assert main(["packs", "show", str(pack)]) == 2
    err = capsys.readouterr().err
    assert "max = -100000000000000000000 is not a number > 0" in err
    assert "e+" not in err and "np." not in err
