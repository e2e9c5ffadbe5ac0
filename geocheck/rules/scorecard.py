"""The scorecard: the status of every standard for every estate (packs with ``[[standards]]``).

A standard passes when all its applicable indicators pass; it is not applicable when all are;
otherwise it fails when any indicator fails, else it is no data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.status import BY_SEVERITY, FAIL, NO_DATA, SEVERITY
from .packs.model import Pack

SCORECARD_COLUMNS = ["estate_id", "estate_name", "standard_id", "requirement_id", "category",
                     "status", "title_zh", "rules", "failed", "no_data"]
NAMES = np.array([s.value for s in BY_SEVERITY], dtype=object)
"""Status text by severity."""


def listed(rule_ids: list[str], mask: np.ndarray) -> np.ndarray:
    """Per row, the rule ids whose column of ``mask`` is true, joined by spaces."""
    out = np.full(mask.shape[0], "", dtype=object)
    for j, rid in enumerate(rule_ids):
        out = np.where(mask[:, j], np.where(out == "", rid, out + " " + rid), out)
    return out


def standard_severity(pack: Pack, severity: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """(estates x standards) worst severity of each standard's rules, and each standard's rule
    columns."""
    col = {r.id: j for j, r in enumerate(pack.rules)}
    members = [[col[r.id] for r in pack.rules if r.standard == st.id] for st in pack.standards]
    worst = np.stack([severity[:, m].max(axis=1) for m in members], axis=1)
    return worst, members


def scorecard_table(pack: Pack, estates: pd.DataFrame, severity: np.ndarray
                    ) -> pd.DataFrame | None:
    """Status of every standard for every estate, or None when the pack has no standards.

    Parameters
    ----------
    pack : the pack judged.
    estates : the estates (``estate_id``, ``name``), in the findings' order.
    severity : (estates x rules) severity of each finding's status (:data:`SEVERITY`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SCORECARD_COLUMNS`, one row per estate x standard; ``rules`` counts the
        standard's indicators, ``failed`` and ``no_data`` list the rule ids that failed or
        lacked data. The standard's texts (``standard_id``, ``requirement_id``, ``category``,
        ``title_zh``) are categoricals: a province's 1,950,000 rows hold each text once.
    """
    if not pack.standards:
        return None
    worst, members = standard_severity(pack, severity)
    rank = severity
    n, k = worst.shape
    ids = [r.id for r in pack.rules]
    failed = np.stack([listed([ids[j] for j in m], rank[:, m] == SEVERITY[FAIL]) for m in members],
                      axis=1)
    missing = np.stack([listed([ids[j] for j in m], rank[:, m] == SEVERITY[NO_DATA])
                        for m in members], axis=1)
    req = {r.id: r for r in pack.requirements}
    cat = {c.id: c.title_zh for c in pack.categories}
    est = estates
    each = np.tile(np.arange(k), n)  # row i is standard i % k

    def per_standard(texts: list[str]) -> pd.Categorical:
        """A text of each standard, repeated for every estate: held once, as a category."""
        uniques, codes = np.unique(np.array(texts, dtype=object), return_inverse=True)
        return pd.Categorical.from_codes(codes[each], categories=list(uniques))

    table = pd.DataFrame({
        "estate_id": np.repeat(est["estate_id"].to_numpy(), k),
        "estate_name": np.repeat(est["name"].to_numpy(), k),
        "standard_id": per_standard([st.id for st in pack.standards]),
        "requirement_id": per_standard([st.requirement for st in pack.standards]),
        "category": per_standard([cat[req[st.requirement].category] for st in pack.standards]),
        "status": NAMES[worst.ravel()],
        "title_zh": per_standard([st.title_zh for st in pack.standards]),
        "rules": np.array([len(m) for m in members], dtype="int64")[each],
        "failed": failed.ravel(),
        "no_data": missing.ravel(),
    })
    return table
