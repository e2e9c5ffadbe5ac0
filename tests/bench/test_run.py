"""bench/run.py's run-by-run ratio: each geocheck run over the lean run just before it."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402


def test_paired_ratios_pair_each_run_with_the_lean_run_before_it(capsys) -> None:
    lean, geocheck = [2.0, 4.0, 3.0], [3.0, 5.0, 6.0, 9.0]  # the last has no lean run
    assert run.paired_ratios(lean, geocheck).tolist() == [1.5, 1.25, 2.0]
    results = [run.Result("lean", lean, [1.0] * 3, 100.0), run.Result("geocheck", geocheck[:3],
                                                                      [1.0] * 3, 150.0)]
    assert run.report(results, target=3.0) == 0
    out = capsys.readouterr().out
    assert "time 1.50x" in out  # best against best: 3.0 / 2.0
    assert "median 1.50x (1.25x-2.00x over 3 pairs)" in out
