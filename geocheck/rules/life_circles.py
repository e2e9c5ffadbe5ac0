"""The whole area's life circles: per ``life_circle`` rule, the share of all the estates'
households (or residential buildings) within the walk, written to ``life_circles.csv``.

A view of the findings: each estate's share (its finding's value) weighted by its households
(``basis = "households"``; estates without households are left out, and said so) or by its
count of residential buildings (``basis = "buildings"``). Only estates with a verdict (pass or
fail) count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.site import Site
from ..core.status import FAIL, NO_DATA, PASS
from ..core.units import RATIO_DECIMALS
from .circles import circle_limit
from .packs.model import Pack

LIFE_CIRCLE_COLUMNS = ["rule_id", "layer", "within_m", "basis", "target", "estates",
                       "estates_counted", "estates_left_out", "total", "within", "share",
                       "status", "title_en"]
"""The columns of :func:`life_circle_table`: ``total`` and ``within`` are households (or
buildings) in the counted estates and those within the walk; ``share`` = within / total."""


def life_circle_table(pack: Pack, site: Site, status: np.ndarray, value: np.ndarray
                      ) -> pd.DataFrame | None:
    """The whole area's share within each life circle rule, or None when the pack has none.

    Parameters
    ----------
    pack : the pack judged.
    site : the normalised site (estates with ``households``; buildings with ``residential``
        and ``estate_pos``).
    status, value : (estates x rules) findings' status and value, rules in pack order.
    """
    cols = [j for j, r in enumerate(pack.rules) if r.check == "life_circle"]
    if not cols:
        return None
    n = len(site.estates)
    households = site.estates["households"].to_numpy(dtype=float, na_value=np.nan)
    b = site.layer("buildings")
    buildings = np.zeros(n)
    if b is not None:
        est = b["estate_pos"].to_numpy()[b["residential"].to_numpy(dtype=bool)]
        buildings = np.bincount(est[est >= 0], minlength=n).astype(float)
    rows = []
    for j in cols:  # one row per life circle rule: few
        rule = pack.rules[j]
        by_households = rule.params["basis"] == "households"
        weight = households if by_households else buildings
        judged = np.isin(status[:, j], [PASS, FAIL]) & np.isfinite(value[:, j].astype(float))
        counted = judged & np.isfinite(weight) & (weight > 0)
        total = float(weight[counted].sum())
        within = float((weight[counted] * value[counted, j].astype(float)).sum())
        share = within / total if total > 0 else np.nan
        target = rule.params["target"]
        verdict = (NO_DATA if not np.isfinite(share) else
                   PASS if round(share, RATIO_DECIMALS) >= target else FAIL)
        rows.append([rule.id, rule.params["layer"], circle_limit(rule.params),
                     rule.params["basis"], target, n, int(counted.sum()),
                     int((judged & ~counted).sum()), total, round(within, 3),
                     round(share, RATIO_DECIMALS) if total > 0 else np.nan, str(verdict),
                     rule.title_en])
    return pd.DataFrame(rows, columns=LIFE_CIRCLE_COLUMNS)
