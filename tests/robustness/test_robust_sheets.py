"""Attributes sheets built to blow up or mislead: a stray cell at XFD1048576, a zip bomb, a
DTD, a sheet of 200,000 rows naming 12 estates, one over the row limit. Each is read quickly in
little memory, or refused with one line naming the file and the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, estate, rect, text_cell, xlsx_by_hand
from openpyxl import Workbook

import geocheck
from geocheck import InputError
from geocheck.cli import main
from geocheck.inputs.attributes import MAX_LISTED_REJECTS

CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway read dies, not the host
from geocheck import load_pack
from geocheck.inputs.attributes import read_sheet
attributes = load_pack("guangxi").attributes
start = time.perf_counter()
sheet = read_sheet(Path(sys.argv[1]), attributes)
seconds = time.perf_counter() - start
tracemalloc.start()
read_sheet(Path(sys.argv[1]), attributes)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": seconds, "peak": peak, "rows": len(sheet.table),
                  "last": sheet.table["row"].iloc[-1]}))
"""


def test_a_stray_cell_at_xfd1048576_is_read_without_walking_its_range(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["小区编号", "小区名称", "户数（户）"])
    for i in range(1_500):
        ws.append([f"E{i}", f"小区{i}", 100 + i])
    ws.cell(row=1_048_576, column=16_384, value="x")  # the declared range: 17 billion cells
    path = tmp_path / "stray.xlsx"
    book.save(path)
    assert 30_000 < path.stat().st_size < 60_000
    run = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    assert (got["rows"], got["last"]) == (1_500, "row 1501")
    # memory, not time, shows the 17 billion declared cells were never walked (a walk of them
    # would not end within the timeout either)
    assert got["peak"] < 30 * 2**20  # bytes


def _bomb(path: Path) -> Path:
    # 8 MB of identical rows zip to some 20 KB (about 400:1); a 13 MB one unzips to 4 GB
    return xlsx_by_hand(path, '<row r="1">' + text_cell("A1", "小区编号") + "</row>"
                        + "<row><c><v>1</v></c></row>" * 300_000)


def test_a_zip_bomb_is_refused_before_parsing(tmp_path: Path, gpkg, capsys) -> None:
    layers = gpkg(estates=[estate("E1", rect(0, 0, 100, 100))])
    bomb = _bomb(tmp_path / "bomb.xlsx")
    code = main(["check", str(layers), "--attributes", str(bomb), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "bomb.xlsx: part xl/worksheets/sheet1.xml would unzip" in err
    assert "over the limit of 100:1 (MAX_COMPRESSION_RATIO)" in err


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'])
def test_entities_never_expand_or_load(tmp_path: Path, gpkg, capsys, prolog: str) -> None:
    layers = gpkg(estates=[estate("E1", rect(0, 0, 100, 100))])
    sheet = xlsx_by_hand(tmp_path / "dtd.xlsx", '<row r="1">' + text_cell("A1", "小区编号")
                         + '</row><row r="2">' + text_cell("A2", "E1") + "</row>",
                         prolog=prolog)
    code = main(["check", str(layers), "--attributes", str(sheet), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err
    assert "dtd.xlsx: part xl/worksheets/sheet1.xml declares a DTD" in err


def test_200000_rows_naming_12_estates_leave_a_small_ledger(tmp_path: Path, gpkg) -> None:
    layers = gpkg(estates=[estate(f"E{i}", rect(200 * i, 0, 200 * i + 100, 100),
                                  households=None) for i in range(12)])
    lines = ["小区编号,户数（户）"] + [f"E{i},{100 + i}" for i in range(12)] \
        + [f"X{i},5" for i in range(199_988)]
    sheet = tmp_path / "big.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = geocheck.check(layers, attributes=sheet)
    ledger = result.site.ledger
    assert ledger.counts().set_index("layer").loc["attributes"].to_dict() == \
        {"read": 200_000, "judged": 12, "rejected": 199_988}
    assert ledger.rejected("attributes") == 199_988 and ledger.total_rejected() == 199_988
    assert len(ledger.rejects) <= MAX_LISTED_REJECTS and len(ledger.notes) < 20
    told = [n for n in ledger.notes if "rows name no estate" in n]
    assert told == ["attributes sheet big.csv: 199,988 rows name no estate in the estates layer, "
                    "e.g. X0 (row 14), X1 (row 15), X2 (row 16), X3 (row 17), X4 (row 18); "
                    "they are rejected"]
    assert result.site.attributes["in_sheet"].all()
    assert result.site.estates["households"].tolist() == list(range(100, 112))


def test_a_sheet_over_the_row_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    sheet = tmp_path / "huge.csv"
    sheet.write_bytes(b"\xe5\xb0\x8f\xe5\x8c\xba\xe7\xbc\x96\xe5\x8f\xb7\n"  # 小区编号
                      + b"".join(b"X%d\n" % i for i in range(600_000)))
    with pytest.raises(InputError, match=r"huge\.csv: 600,001 lines, over the limit of 500,000 "
                                         r"rows of data \(MAX_ROWS\); split the sheet"):
        geocheck.inputs.attributes.read_sheet(sheet, [])
