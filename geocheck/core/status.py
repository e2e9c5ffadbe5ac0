"""The four verdicts a rule gives an estate, and their order of severity.

Every finding has one :class:`Status`. Severity orders them for an estate's overall verdict
and for every list that shows the worst first: ``fail`` > ``no_data`` > ``pass`` >
``not_applicable``. Missing data ranks above a pass, so it can never hide behind one.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd


class Status(StrEnum):
    """A rule's verdict for one estate; compares equal to its text (``Status.PASS == "pass"``).
    """

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NO_DATA = "no_data"

    @property
    def severity(self) -> int:
        """0 not applicable, 1 pass, 2 no data, 3 fail: the worst has the highest."""
        return SEVERITY[self]


PASS, FAIL, NOT_APPLICABLE, NO_DATA = (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE,
                                       Status.NO_DATA)

BY_SEVERITY: tuple[Status, ...] = (NOT_APPLICABLE, PASS, NO_DATA, FAIL)
"""The statuses from the mildest to the worst: a status's position is its severity."""
SEVERITY: dict[str, int] = {s.value: k for k, s in enumerate(BY_SEVERITY)}
"""Status text -> severity (see :data:`BY_SEVERITY`)."""
WORST_FIRST: tuple[Status, ...] = BY_SEVERITY[::-1]
"""The statuses from the worst to the mildest, the order every list and legend shows."""
COUNT_ORDER: tuple[Status, ...] = (PASS, FAIL, NOT_APPLICABLE, NO_DATA)
"""The order of the per-rule status counts (the terminal summary, the counts table)."""


def overall_status(findings: pd.DataFrame) -> pd.Series:
    """Worst status per estate (see :data:`BY_SEVERITY`), indexed by ``estate_id`` in the order
    estates first appear in ``findings`` (columns ``estate_id`` and ``status``)."""
    names = {k: s.value for k, s in enumerate(BY_SEVERITY)}
    # each distinct status is mapped once: Series.map over millions of rows took seconds
    codes, uniques = pd.factorize(findings["status"])
    table = np.append(pd.Series(uniques, dtype=object).map(SEVERITY).to_numpy(dtype=float),
                      np.nan)  # code -1 (a missing status) ranks as nothing
    severity = pd.Series(table[codes], index=findings.index)
    worst = severity.groupby(findings["estate_id"], sort=False).max()
    return worst.map(names)
