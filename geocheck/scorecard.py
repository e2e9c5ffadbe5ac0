"""Scorecards: standards, declaration eligibility and points scores, as views of the findings.

- :func:`scorecard`: one row per estate x standard (packs with ``[[standards]]``). A standard
  passes when all its applicable indicators pass; it is not applicable when all are; otherwise
  it fails when any indicator fails, else it is no data.
- :func:`declaration`: one row per estate: compliance rate = standards passed / standards
  applicable (no data counts as applicable and not passed: missing data is never a pass), and
  eligibility under the pack's ``[declaration]`` (Guangxi, seed 001: at least 85 % and one
  standard passed under every requirement), naming the requirements that block it.
- :func:`scores`: one row per estate: points per part, the total, satisfaction and the star
  rating under the pack's ``[scoring]`` (Gongshu, seed 004).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import FAIL, NO_DATA, NOT_APPLICABLE, PASS
from .findings import Result
from .packs import Pack

SCORECARD_COLUMNS = ["estate_id", "estate_name", "standard_id", "requirement_id", "category",
                     "status", "title_zh", "rules", "failed", "no_data"]
RANK = {NOT_APPLICABLE: 0, PASS: 1, NO_DATA: 2, FAIL: 3}


def _standard_meta(pack: Pack) -> pd.DataFrame:
    req = {r.id: r for r in pack.requirements}
    cat = {c.id: c for c in pack.categories}
    return pd.DataFrame({
        "standard_id": [s.id for s in pack.standards],
        "requirement_id": [s.requirement for s in pack.standards],
        "category": [cat[req[s.requirement].category].title_zh for s in pack.standards],
        "title_zh": [s.title_zh for s in pack.standards],
        "order": np.arange(len(pack.standards)),
    })


def scorecard(result: Result) -> pd.DataFrame | None:
    """Status of every standard for every estate, or None when the pack has no standards.

    Columns :data:`SCORECARD_COLUMNS`; ``rules`` counts the standard's indicators, ``failed``
    and ``no_data`` list the rule ids that failed or lacked data.
    """
    pack = result.pack
    if not pack.standards:
        return None
    f = result.findings
    worst = f["status"].map(RANK)
    g = f.assign(rank=worst).groupby(["estate_id", "standard_id"], sort=False)
    table = g.agg(rank=("rank", "max"), rules=("rule_id", "size"),
                  estate_name=("estate_name", "first")).reset_index()

    def listed(status: str) -> pd.Series:
        part = f[f["status"] == status]
        return part.groupby(["estate_id", "standard_id"], sort=False)["rule_id"].agg(" ".join)

    key = pd.MultiIndex.from_frame(table[["estate_id", "standard_id"]])
    table["failed"] = listed(FAIL).reindex(key).fillna("").to_numpy()
    table["no_data"] = listed(NO_DATA).reindex(key).fillna("").to_numpy()
    names = {v: k for k, v in RANK.items()}
    table["status"] = table["rank"].map(names)
    table = table.merge(_standard_meta(pack), on="standard_id", how="left")
    order = pd.Series(np.arange(len(result.site.estates)),
                      index=result.site.estates["estate_id"].to_numpy())
    order = order[~order.index.duplicated()]
    table["estate_order"] = table["estate_id"].map(order)
    table = table.sort_values(["estate_order", "order"], kind="stable")
    return table[SCORECARD_COLUMNS].reset_index(drop=True)


def declaration(result: Result, card: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Compliance rate and eligibility per estate, or None when the pack has no declaration.

    Columns: ``estate_id, estate_name, compliance_rate`` (0-1), ``eligible`` (bool),
    ``standards_passed, standards_applicable, standards_failed, standards_no_data,
    standards_not_applicable``, ``requirements_met`` (requirements with a standard passed),
    ``blocking_requirements`` (those without, with titles), ``verdict`` (a sentence: eligible,
    not eligible and why, or not eligible yet because data is missing and what it could change).
    """
    pack = result.pack
    rule = pack.declaration
    if rule is None:
        return None
    card = scorecard(result) if card is None else card
    counts = pd.crosstab(card["estate_id"], card["status"]).reindex(
        columns=[PASS, FAIL, NO_DATA, NOT_APPLICABLE], fill_value=0)
    ids = pd.unique(card["estate_id"])
    counts = counts.reindex(ids, fill_value=0)
    names = card.groupby("estate_id", sort=False)["estate_name"].first().reindex(ids)
    passed = counts[PASS].to_numpy()
    applicable = passed + counts[FAIL].to_numpy() + counts[NO_DATA].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(applicable > 0, passed / applicable, np.nan)
        best = np.where(applicable > 0, (passed + counts[NO_DATA].to_numpy()) / applicable,
                        np.nan)
    reqs = [r.id for r in pack.requirements]
    titles = {r.id: r.title_zh for r in pack.requirements}
    met = (card[card["status"] == PASS].groupby("estate_id")["requirement_id"]
           .agg(set).reindex(ids))
    open_ = (card[card["status"] == NO_DATA].groupby("estate_id")["requirement_id"]
             .agg(set).reindex(ids))
    blocking, could, n_met = [], [], []
    for m, o in zip(met, open_, strict=True):
        m = m if isinstance(m, set) else set()
        o = o if isinstance(o, set) else set()
        missing = [r for r in reqs if r not in m] if rule.every_requirement else []
        blocking.append(missing)
        could.append(all(r in o for r in missing))
        n_met.append(sum(r in m for r in reqs))
    ok_rate = np.round(np.nan_to_num(rate, nan=-1), 6) >= rule.min_compliance
    eligible = ok_rate & np.array([not b for b in blocking])
    best_ok = np.round(np.nan_to_num(best, nan=-1), 6) >= rule.min_compliance
    verdicts = []
    for i in range(len(ids)):
        if eligible[i]:
            verdicts.append(f"eligible: {rate[i]:.1%} of applicable standards passed, every "
                            "requirement met")
            continue
        why = []
        if np.isnan(rate[i]):
            why.append("no applicable standard")
        elif not ok_rate[i]:
            why.append(f"compliance {rate[i]:.1%} < {rule.min_compliance:.0%}")
        if blocking[i]:
            why.append("no standard passed under " + ", ".join(blocking[i]))
        text = "not eligible: " + "; ".join(why)
        if counts[NO_DATA].iloc[i] and best_ok[i] and could[i]:
            text += (f" ({counts[NO_DATA].iloc[i]} standards lack data: with them passed "
                     "it could become eligible)")
        verdicts.append(text)
    return pd.DataFrame({
        "estate_id": ids, "estate_name": names.to_numpy(),
        "compliance_rate": np.round(rate, 6), "eligible": eligible,
        "standards_passed": passed, "standards_applicable": applicable,
        "standards_failed": counts[FAIL].to_numpy(),
        "standards_no_data": counts[NO_DATA].to_numpy(),
        "standards_not_applicable": counts[NOT_APPLICABLE].to_numpy(),
        "requirements_met": n_met,
        "blocking_requirements": ["; ".join(f"{r} {titles[r]}" for r in b) for b in blocking],
        "verdict": verdicts,
    })


def _stars(total: np.ndarray, sat: np.ndarray, pack: Pack) -> np.ndarray:
    out = np.zeros(len(total), dtype=int)
    for star in sorted(pack.scoring.stars, key=lambda s: s.stars):
        ok = (np.round(total, 6) >= star.min_total) & (np.round(sat, 6) >= star.min_satisfaction)
        out = np.where(ok, star.stars, out)
    return out


def scores(result: Result) -> pd.DataFrame | None:
    """Points per part, total, satisfaction and stars per estate, or None when the pack has no
    ``[scoring]``.

    Columns: ``estate_id, estate_name``, one ``<part id>`` column of points per part,
    ``total`` (NaN when an item is blank), ``total_known`` (points of the items with data),
    ``items_missing``, ``satisfaction_rate`` (ratio), ``stars`` (0 = none; NaN when missing data
    could change it), ``rating`` (a sentence, e.g. "4 stars: 262.4 points, satisfaction 88 %").
    Below the satisfaction floor an estate fails outright, whatever its points.
    """
    pack = result.pack
    sc = pack.scoring
    if sc is None:
        return None
    f = result.findings
    est = result.site.estates
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
    table = result.site.attributes
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
    ratings = []
    for i in range(n):
        pts = f"{known[i]:g} points" if not any_missing[i] else \
            f"{known[i]:g} points known, {n_missing[i]} items blank (up to {top_missing[i]:g} more)"
        s = "satisfaction unknown" if np.isnan(sat[i]) else f"satisfaction {sat[i]:.0%}"
        if floor_fail[i]:
            ratings.append(f"fails outright: {s} < {sc.floor:.0%}; {pts}")
        elif np.isnan(stars[i]):
            ratings.append(f"no data: between {low[i]} and {high[i]} stars; {pts}; {s}")
        elif stars[i] == 0:
            ratings.append(f"no star: {pts}, {s}")
        else:
            ratings.append(f"{int(stars[i])} stars: {pts}, {s}")
    out["total"] = total
    out["total_known"] = np.round(known, 6)
    out["items_missing"] = n_missing
    out["satisfaction_rate"] = sat
    out["stars"] = stars
    out["rating"] = ratings
    return out
