"""The bundled sample against the verdicts it was designed to get (layers/expected.csv).

expected.csv was derived by arithmetic from the layout in layers/make_sample.py, not by running
geocheck (see layers/README.md).
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import LAYERS, SAMPLE

import geocheck
from geocheck.rules.registry import CHECKS


@pytest.mark.parametrize("pack", ["guangxi", "nanhai"])
def test_sample_matches_designed_verdicts(pack: str) -> None:
    expected = pd.read_csv(LAYERS / "expected.csv", dtype={"estate_id": str})
    expected = expected[expected["pack"] == pack]
    result = geocheck.check(SAMPLE, pack=pack)
    got = result.findings.set_index(["estate_id", "rule_id"])
    assert len(got) == 12 * len(result.pack.rules)
    # without an attributes sheet every record-based rule is no data, never a pass
    records = result.findings[result.findings["rule_id"].isin(
        [r.id for r in result.pack.rules if CHECKS[r.check].reads == "sheet"])]
    assert len(records) and (records["status"] == "no_data").all()
    assert records["evidence"].str.startswith("no data: no attributes sheet given").all()
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


def test_sample_attributes_sheet_gives_the_designed_declarations() -> None:
    """layers/nanning_attributes.xlsx is designed estate by estate (layers/make_attributes.py)."""
    result = geocheck.check(SAMPLE, attributes=LAYERS / "nanning_attributes.xlsx")
    summary = result.declaration.set_index("estate_id")
    eligible = set(summary.index[summary["eligible"]])
    assert eligible == {"NN-001", "NN-002", "NN-006", "NN-007", "NN-008", "NN-009", "NN-011",
                        "NN-012"}
    assert summary.loc["NN-003", "blocking_requirements"] == "R22 物业服务"
    assert summary.loc["NN-003", "compliance_rate"] >= 0.85  # one survey alone blocks it
    nn004 = summary.loc["NN-004"]
    assert (nn004["standards_passed"], nn004["standards_applicable"]) == (54, 65)
    assert nn004["blocking_requirements"] == "R01 建立工作机制; R03 监督管理"
    nn005 = summary.loc["NN-005"]
    assert nn005["standards_no_data"] == 4 and "could become eligible" in nn005["verdict"]
    assert nn005["verdict_zh"] == ("不可申报：R21、R22、R23、R24 无达标标准（4 项标准缺数据："
                                   "补齐且均达标即可申报）")
    assert summary.loc["NN-004", "verdict_zh"] == ("不可申报：达标率 83.0%，低于 85%；"
                                                   "R01、R03 无达标标准")
    assert summary.loc["NN-001", "verdict_zh"] == ("可申报：适用标准达标率 100.0%，"
                                                   "每项要求均有达标标准")
    assert summary.loc["NN-001", "compliance_rate"] == 1.0
    f = result.findings.set_index(["estate_id", "rule_id"])
    assert f.loc[("NN-006", "GX-16-staff"), "value"] == 6
    assert f.loc[("NN-007", "GX-07-elderly-rooms"), "status"] == "pass"      # 15 per 100
    assert f.loc[("NN-007", "GX-51-elderly-rooms"), "status"] == "fail"      # new: 20 per 100
    assert f.loc[("NN-011", "GX-08"), "value"] == pytest.approx(0.08)
    assert (f.xs("NN-010")["evidence"].str.contains("not in the attributes sheet").sum()
            == sum(CHECKS[r.check].reads == "sheet" for r in result.pack.rules))
    est = result.site.estates.set_index("estate_id")
    assert est.loc["NN-008", "households"] == 1000 and est.loc["NN-009", "built"] == "existing"
    assert result.site.ledger.rejects == [{"layer": "attributes", "feature_id": "NN-099",
                                           "reason": "row 13: no estate NN-099 in the estates "
                                                     "layer"}]
