"""Points and stars: the score per estate under a pack's ``[scoring]`` (Gongshu, seed 004).

The parts' points add up to the total; star ratings need a total and a satisfaction rate;
below the satisfaction floor an estate fails outright. A blank item leaves the total unknown,
and the rating says which stars the missing points could still give.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.units import percent, points
from .packs.model import Pack


def _stars(total: np.ndarray, sat: np.ndarray, pack: Pack) -> np.ndarray:
    out = np.zeros(len(total), dtype=int)
    for star in sorted(pack.scoring.stars, key=lambda s: s.stars):
        ok = (np.round(total, 6) >= star.min_total) & (np.round(sat, 6) >= star.min_satisfaction)
        out = np.where(ok, star.stars, out)
    return out


def scores_table(pack: Pack, estates: pd.DataFrame, findings: pd.DataFrame,
                 attributes: pd.DataFrame | None) -> pd.DataFrame | None:
    """Points per part, total, satisfaction and stars per estate, or None when the pack has no
    ``[scoring]``.

    Columns: ``estate_id, estate_name``, one ``<part id>`` column of points per part,
    ``total`` (NaN when an item is blank), ``total_known`` (points of the items with data),
    ``items_missing``, ``satisfaction_rate`` (ratio), ``stars`` (0 = none; NaN when missing data
    could change it), ``rating`` (a sentence, e.g. "4 stars: 262.4 points, satisfaction 88 %")
    and ``rating_zh`` (the same in Chinese: "4 星：262.4 分，满意率 88%").
    Below the satisfaction floor an estate fails outright, whatever its points.

    ``findings`` are the findings table, ``estates`` the estates (``estate_id``, ``name``) and
    ``attributes`` the attributes sheet's values by estate position (None without a sheet).
    """
    sc = pack.scoring
    if sc is None:
        return None
    f = findings
    est = estates
    ids = est["estate_id"].to_numpy()
    n = len(ids)
    out = pd.DataFrame({"estate_id": ids, "estate_name": est["name"].to_numpy()})
    known = np.zeros(n)
    top_missing = np.zeros(n)
    n_missing = np.zeros(n, dtype=int)
    any_missing = np.zeros(n, dtype=bool)
    for part in sc.parts:
        rows = f[f["rule_id"].isin(part.rules)]
        pts = rows.pivot(index="estate_id", columns="rule_id", values="value").reindex(ids)
        pts = pts[list(part.rules)]
        full = np.array([pack.rule(r).params["max_points"] for r in part.rules])
        missing = pts.isna().to_numpy()
        got = pts.fillna(0).to_numpy().sum(axis=1)
        out[part.id] = np.where(missing.any(axis=1), np.nan, np.round(got, 6))
        known += got
        top_missing += (missing * full).sum(axis=1)
        n_missing += missing.sum(axis=1)
        any_missing |= missing.any(axis=1)
    table = attributes
    if table is not None and sc.satisfaction in table:
        sat = table[sc.satisfaction].to_numpy(dtype=float)
    else:
        sat = np.full(n, np.nan)
    total = np.where(any_missing, np.nan, np.round(known, 6))
    low = _stars(known, np.nan_to_num(sat, nan=-1), pack)
    high = _stars(known + top_missing, np.nan_to_num(sat, nan=2), pack)
    floor_fail = np.round(np.nan_to_num(sat, nan=2), 6) < sc.floor
    stars = np.where(floor_fail, 0, np.where(low == high, low, -1)).astype(float)
    stars[stars < 0] = np.nan
    ratings, ratings_zh = [], []
    floor = percent(sc.floor, sep="")
    for i in range(n):
        got, up = points(known[i]), points(top_missing[i])
        pts = f"{got} points" if not any_missing[i] else \
            f"{got} points known, {n_missing[i]} items blank (up to {up} more)"
        pts_zh = f"{got} 分" if not any_missing[i] else \
            f"已知 {got} 分，{n_missing[i]} 项空白（最多还有 {up} 分）"
        typed = percent(sat[i], sep="")
        s = "satisfaction unknown" if np.isnan(sat[i]) else f"satisfaction {typed}"
        s_zh = "满意率未知" if np.isnan(sat[i]) else f"满意率 {typed}"
        if floor_fail[i]:
            ratings.append(f"fails outright: {s} < {floor}; {pts}")
            ratings_zh.append(f"直接不合格：{s_zh}，低于 {floor}；{pts_zh}")
        elif np.isnan(stars[i]):
            ratings.append(f"no data: between {low[i]} and {high[i]} stars; {pts}; {s}")
            ratings_zh.append(f"缺数据：{low[i]} 至 {high[i]} 星之间；{pts_zh}；{s_zh}")
        elif stars[i] == 0:
            ratings.append(f"no star: {pts}, {s}")
            ratings_zh.append(f"未达星级：{pts_zh}，{s_zh}")
        else:
            ratings.append(f"{int(stars[i])} stars: {pts}, {s}")
            ratings_zh.append(f"{int(stars[i])} 星：{pts_zh}，{s_zh}")
    out["total"] = total
    out["total_known"] = np.round(known, 6)
    out["items_missing"] = n_missing
    out["satisfaction_rate"] = sat
    out["stars"] = stars
    out["rating"] = ratings
    out["rating_zh"] = ratings_zh
    return out
