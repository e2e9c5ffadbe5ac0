"""Campaign progress: estates created so far against a campaign's yearly targets.

A pack's ``[campaign]`` (see :class:`~geocheck.rules.packs.model.Campaign`) sets targets such
as Qinzhou's (seed 001, 一、工作目标): at least 35 % of the campaign's estates created by the
end of 2021, 70 % by 2022, 90 % by 2023 and 100 % by 2024. Each estate may carry a
``target_year``, the year it is scheduled to be created. :func:`progress_table` counts what
passes now against that schedule and the targets (:attr:`geocheck.rules.result.Result.progress`);
:func:`geocheck.views.charts.progress_chart_png` draws it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .packs.model import Campaign

PROGRESS_COLUMNS = ["year", "scheduled", "scheduled_cumulative", "scheduled_share",
                    "target_share", "passing", "passing_share", "on_track"]
SHARE_DECIMALS = 6
"""Shares are rounded to this many decimals, and compared with targets at that precision (so
7 of 20 estates meets a 35 % target)."""


def progress_table(campaign: Campaign | None, estates: pd.DataFrame, passes: np.ndarray,
                   basis: str) -> pd.DataFrame | None:
    """Campaign progress by year, or None when there is no campaign or no estate has a
    ``target_year``.

    Parameters
    ----------
    campaign : the pack's ``[campaign]``.
    estates : the estates (``estate_id``, ``target_year``).
    passes : whether each estate passes now, in the estates' order.
    basis : what passing means: ``"declaration"`` (eligible to declare) or ``"overall"`` (every
        rule passes); see :attr:`geocheck.rules.result.Result.progress`.

    Definitions
    -----------
    - *Campaign estates*: the estates with a ``target_year``; every share is a share of them.
    - *Passes*: for a pack with a ``[declaration]`` (Guangxi), the estate is ``eligible`` in
      :attr:`geocheck.rules.result.Result.declaration` (may declare: compliance at least 85 % and a
      standard passed under every requirement); otherwise its overall status is ``pass``. This
      is the state of the data now, not a record of when an estate was created.

    Returns
    -------
    pandas.DataFrame
        One row per year that has a campaign target or an estate scheduled for it, in order,
        columns :data:`PROGRESS_COLUMNS`:

        - ``year``;
        - ``scheduled``: campaign estates with ``target_year`` equal to the year;
        - ``scheduled_cumulative``: those with ``target_year`` <= year;
        - ``scheduled_share``: ``scheduled_cumulative`` / campaign estates (ratio 0-1);
        - ``target_share``: the campaign's target for the year (ratio), NaN when it sets none;
        - ``passing``: estates with ``target_year`` <= year that pass now (an estate that
          passes ahead of its schedule counts from its own year only);
        - ``passing_share``: ``passing`` / campaign estates (ratio);
        - ``on_track``: ``passing_share`` >= ``target_share`` (nullable boolean: missing for a
          year without a target).

        ``attrs`` hold ``campaign_estates`` (their number), ``unscheduled`` (estates without a
        target year: not counted in any row), ``unscheduled_passing`` (of those, how many pass
        now), ``unscheduled_ids`` (their estate ids) and ``basis`` (``"declaration"`` or
        ``"overall"``: what passing means).

    Examples
    --------
    With 10 campaign estates, 4 scheduled for 2021 of which 3 pass, the 2021 row has
    ``scheduled_share`` 0.4, ``passing_share`` 0.3 and, against a 35 % target, ``on_track``
    False.
    """
    if campaign is None or "target_year" not in estates:
        return None
    target = pd.array(estates["target_year"], dtype="Int64")
    scheduled = ~target.isna()
    total = int(scheduled.sum())
    if total == 0:
        return None
    years = target[scheduled].to_numpy(dtype="int64")
    ok = passes[scheduled]
    all_years = np.array(sorted({t.year for t in campaign.targets} | set(years.tolist())))
    by = years[None, :] <= all_years[:, None]  # (rows x campaign estates): scheduled by then
    cumulative = by.sum(axis=1)
    passing = (by & ok[None, :]).sum(axis=1)
    goal = np.array([np.nan if campaign.target(int(y)) is None else campaign.target(int(y))
                     for y in all_years], dtype=float)
    passing_share = np.round(passing / total, SHARE_DECIMALS)
    on_track = pd.array([pd.NA if np.isnan(g) else bool(s >= g)
                         for s, g in zip(passing_share, goal, strict=True)], dtype="boolean")
    table = pd.DataFrame({
        "year": all_years.astype("int64"),
        "scheduled": (years[None, :] == all_years[:, None]).sum(axis=1).astype("int64"),
        "scheduled_cumulative": cumulative.astype("int64"),
        "scheduled_share": np.round(cumulative / total, SHARE_DECIMALS),
        "target_share": goal,
        "passing": passing.astype("int64"),
        "passing_share": passing_share,
        "on_track": on_track,
    })
    ids = estates["estate_id"].to_numpy()[~scheduled]
    table.attrs.update({"campaign_estates": total, "unscheduled": len(ids),
                        "unscheduled_passing": int(passes[~scheduled].sum()),
                        "unscheduled_ids": tuple(str(i) for i in ids), "basis": basis})
    return table
