"""The bundled sample against the verdicts it was designed to get (layers/expected.csv).

expected.csv was derived by arithmetic from the layout in layers/make_sample.py, not by running
geocheck (see layers/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import geocheck

LAYERS = Path(__file__).resolve().parent.parent / "layers"
SAMPLE = LAYERS / "nanning_sample.gpkg"


@pytest.mark.parametrize("pack", ["guangxi", "nanhai"])
def test_sample_matches_designed_verdicts(pack: str) -> None:
    expected = pd.read_csv(LAYERS / "expected.csv", dtype={"estate_id": str})
    expected = expected[expected["pack"] == pack]
    result = geocheck.check(SAMPLE, pack=pack)
    got = result.findings.set_index(["estate_id", "rule_id"])
    assert len(got) == len(expected)
    for row in expected.itertuples():
        found = got.loc[(row.estate_id, row.rule_id)]
        assert found["status"] == row.status, (row.estate_id, row.rule_id, found["evidence"])
        if pd.notna(row.value):
            assert found["value"] == pytest.approx(row.value, abs=0.05), (row.estate_id,
                                                                         row.rule_id)


def test_sample_has_every_verdict_and_no_rejects() -> None:
    result = geocheck.check(SAMPLE)
    assert set(result.findings["status"]) == {"pass", "fail", "not_applicable", "no_data"}
    assert result.site.ledger.rejects == []
    assert result.site.crs.to_epsg() == 4545
