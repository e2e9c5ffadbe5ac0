"""What changed between two runs' findings: estate x rule, before and after.

Estates are matched by ``estate_id`` only (a renamed or re-drawn estate with a new id is a
removed estate and a new one); rules by ``rule_id``. Every estate x rule whose status or value
changed is one row of the diff, with its ``change``:

- ``fixed``: it failed and now passes (or is not applicable);
- ``broken``: it now fails and did not before (from pass, not applicable or no data);
- ``worse``: it now lacks data and did not (data lost is never an improvement, even from a
  fail: a fail that became no data is not fixed); or the same status with the value moved away
  from the threshold;
- ``better``: no data before, now passes (or is not applicable); pass and not applicable
  exchanged by severity; or the same status with the value moved towards the threshold
  (or beyond it, further on the passing side);
- ``changed``: the same status, a value moved, and the threshold does not say which way is
  better (neither ``<=`` nor ``>=`` alone in it);
- ``new estate`` / ``removed estate``: the estate is in one run only (one row per rule, with
  its status there);
- ``new rule`` / ``removed rule``: the rule is in one run only (different packs or planning
  conditions), for estates in both.

The direction of a value is read from the threshold text: ``<=`` alone (``<= 1.0``, ``every
residential building <= 70 m ...``): lower is better; ``>=`` alone: higher is better.
Each row's ``severity`` is the status severity (:data:`geocheck.core.status.SEVERITY`) of
the status it ends in (for a removed estate or rule, the one it had); rows are sorted by
:data:`CHANGE_ORDER`, then severity, worst first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS, SEVERITY

CHANGE_ORDER = ("broken", "worse", "removed estate", "removed rule", "changed", "new estate",
                "new rule", "better", "fixed")
"""The kinds of change, from the one a reviewer must see first to the last."""

CHANGE_ZH = {"broken": "新增不符合", "worse": "变差", "removed estate": "删除的小区",
             "removed rule": "删除的规则", "changed": "数值变化", "new estate": "新增小区",
             "new rule": "新增规则", "better": "改善", "fixed": "已整改达标", "unchanged": "无变化"}
"""The changes in Chinese, for the map's legend and the review opinion."""

NEGATIVE = frozenset({"broken", "worse"})
"""Changes for the worse."""

DIFF_COLUMNS = ["estate_id", "estate_name", "rule_id", "title_zh", "title_en", "change",
                "severity", "before", "after", "before_status", "after_status",
                "before_value", "after_value", "unit", "threshold", "before_evidence",
                "after_evidence"]
"""The diff's columns; ``before`` and ``after`` are the status and value as one text
(``fail 6 m``), blank for the side an estate or rule is missing from."""

_KEY = ["estate_id", "rule_id"]
_CARRY = ["estate_name", "title_zh", "title_en", "status", "value", "unit", "threshold",
          "evidence"]


def direction(threshold: pd.Series) -> np.ndarray:
    """+1 where a higher value is better (``>=`` alone in the threshold), -1 where lower is
    (``<=`` alone), 0 where the text does not say."""
    t = threshold.astype(object).fillna("").astype(str)
    ge, le = t.str.contains(">=", regex=False), t.str.contains("<=", regex=False)
    return np.select([ge & ~le, le & ~ge], [1, -1], 0)


def _text(status: pd.Series, value: pd.Series, unit: pd.Series) -> pd.Series:
    """``fail 6 m``; the status alone without a value; blank without a status."""
    num = np.array(["" if pd.isna(v) else f" {float(v):.6g}" for v in value], dtype=object)
    u = unit.astype(object).fillna("").astype(str).to_numpy(dtype=object)
    suffix = np.where((num != "") & np.isin(u, ["m", "m2"]), " " + u, "").astype(object)
    text = status.fillna("").astype(str).to_numpy(dtype=object) + num + suffix
    return pd.Series(np.where(status.notna().to_numpy(), text, ""), index=status.index,
                     dtype=object)


def classify(before: pd.Series, after: pd.Series, v0: pd.Series, v1: pd.Series,
             threshold: pd.Series) -> np.ndarray:
    """The change of each estate x rule present in both runs ('' for no change); see the
    module's docstring."""
    b, a = before.to_numpy(dtype=object), after.to_numpy(dtype=object)
    x0, x1 = v0.to_numpy(dtype=float), v1.to_numpy(dtype=float)
    same_value = (np.isnan(x0) & np.isnan(x1)) | np.isclose(x0, x1, rtol=0, atol=1e-9)
    sev0 = np.array([SEVERITY.get(s, -1) for s in b])
    sev1 = np.array([SEVERITY.get(s, -1) for s in a])
    way = direction(threshold) * np.sign(np.nan_to_num(x1 - x0))
    ok = np.isin(a, [PASS, NOT_APPLICABLE])
    return np.select(
        [(a == b) & same_value,
         (a == FAIL) & (b != FAIL),
         (b == FAIL) & ok,
         (a == NO_DATA) & (b != NO_DATA),
         (b == NO_DATA) & ok,
         a != b,
         way > 0, way < 0],
        ["", "broken", "fixed", "worse", "better",
         np.where(sev1 < sev0, "better", "worse"), "better", "worse"],
        "changed")


def diff_findings(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every estate x rule whose status or value changed from ``before`` to ``after`` (two
    findings tables), columns :data:`DIFF_COLUMNS`, worst first (see the module's docstring).
    """
    cols = [*_KEY, *_CARRY]
    m = before[cols].merge(after[cols], on=_KEY, how="outer", suffixes=("_0", "_1"),
                           indicator=True)
    est0, est1 = set(before["estate_id"]), set(after["estate_id"])
    rules0, rules1 = set(before["rule_id"]), set(after["rule_id"])
    in0 = m["estate_id"].isin(est0).to_numpy()
    in1 = m["estate_id"].isin(est1).to_numpy()
    both = (m["_merge"] == "both").to_numpy()
    change = np.full(len(m), "", dtype=object)
    change[both] = classify(m.loc[both, "status_0"], m.loc[both, "status_1"],
                            m.loc[both, "value_0"], m.loc[both, "value_1"],
                            m.loc[both, "threshold_1"])
    change[~in0] = "new estate"
    change[~in1] = "removed estate"
    rule_only = ~both & in0 & in1
    change[rule_only & m["rule_id"].isin(rules1 - rules0).to_numpy()] = "new rule"
    change[rule_only & m["rule_id"].isin(rules0 - rules1).to_numpy()] = "removed rule"
    m["change"] = change
    m = m[m["change"] != ""].copy()
    for c in ("estate_name", "title_zh", "title_en", "unit", "threshold"):
        m[c] = m[f"{c}_1"].where(m[f"{c}_1"].notna(), m[f"{c}_0"])
    m["before"] = _text(m["status_0"], m["value_0"], m["unit_0"])
    m["after"] = _text(m["status_1"], m["value_1"], m["unit_1"])
    ends = m["status_1"].where(m["status_1"].notna(), m["status_0"])
    m["severity"] = ends.map(SEVERITY).fillna(0).astype(int)
    m = m.rename(columns={"status_0": "before_status", "status_1": "after_status",
                          "value_0": "before_value", "value_1": "after_value",
                          "evidence_0": "before_evidence", "evidence_1": "after_evidence"})
    m["order"] = m["change"].map({c: k for k, c in enumerate(CHANGE_ORDER)})
    m = m.sort_values(["order", "severity", "estate_id", "rule_id"],
                      ascending=[True, False, True, True], kind="stable")
    return m[DIFF_COLUMNS].reset_index(drop=True)


def worst_change(diff: pd.DataFrame) -> pd.Series:
    """Each estate's worst change (the first in :data:`CHANGE_ORDER`), indexed by
    ``estate_id``."""
    order = diff["change"].map({c: k for k, c in enumerate(CHANGE_ORDER)})
    worst = order.groupby(diff["estate_id"]).min()
    return worst.map(dict(enumerate(CHANGE_ORDER)))
