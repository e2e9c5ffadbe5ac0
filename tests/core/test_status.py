"""The four verdicts, their severity, and an estate's overall status, worked out by hand."""

from __future__ import annotations

import pandas as pd

from geocheck import Status
from geocheck.core.status import BY_SEVERITY, WORST_FIRST, overall_status


def test_severity_orders_the_verdicts() -> None:
    assert [s.severity for s in Status] == [1, 3, 0, 2]  # pass, fail, not_applicable, no_data
    assert BY_SEVERITY == (Status.NOT_APPLICABLE, Status.PASS, Status.NO_DATA, Status.FAIL)
    assert tuple(reversed(BY_SEVERITY)) == WORST_FIRST
    assert Status("no_data") is Status.NO_DATA and Status.PASS == "pass"
    assert f"{Status.FAIL}" == "fail"  # written into tables as its text


def test_overall_is_the_worst_finding_of_each_estate() -> None:
    findings = pd.DataFrame({
        "estate_id": ["B", "B", "A", "A", "C", "D", "D"],
        "status": ["pass", "no_data", "pass", "fail", "not_applicable", "not_applicable", "pass"],
    })
    overall = overall_status(findings)
    assert overall.to_dict() == {"B": "no_data", "A": "fail", "C": "not_applicable", "D": "pass"}
    assert list(overall.index) == ["B", "A", "C", "D"]  # in the order estates first appear
