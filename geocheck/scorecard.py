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

from .core.status import (
    BY_SEVERITY,
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
    SEVERITY,
)
from .core.units import percent, share
from .findings import Result
from .packs import Pack

SCORECARD_COLUMNS = ["estate_id", "estate_name", "standard_id", "requirement_id", "category",
                     "status", "title_zh", "rules", "failed", "no_data"]
RANK = SEVERITY
NAMES = np.array([s.value for s in BY_SEVERITY], dtype=object)  # by severity


def _ranks(result: Result) -> np.ndarray:
    """(estates x rules) status ranks: not applicable 0, pass 1, no data 2, fail 3."""
    if "ranks" in result.views:
        return result.views["ranks"]
    status = result.matrix("status")
    rank = np.zeros(status.shape, dtype=np.int8)
    for name, value in RANK.items():
        rank[status == name] = value
    result.views["ranks"] = rank
    return rank


def _listed(rule_ids: list[str], mask: np.ndarray) -> np.ndarray:
    """Per row, the rule ids whose column of ``mask`` is true, joined by spaces."""
    out = np.full(mask.shape[0], "", dtype=object)
    for j, rid in enumerate(rule_ids):
        out = np.where(mask[:, j], np.where(out == "", rid, out + " " + rid), out)
    return out


def _standard_ranks(result: Result) -> tuple[np.ndarray, list[list[int]]]:
    """(estates x standards) worst rank, and each standard's rule columns."""
    pack = result.pack
    rank = _ranks(result)
    col = {r.id: j for j, r in enumerate(pack.rules)}
    members = [[col[r.id] for r in pack.rules if r.standard == st.id] for st in pack.standards]
    worst = np.stack([rank[:, m].max(axis=1) for m in members], axis=1)
    return worst, members


def scorecard(result: Result) -> pd.DataFrame | None:
    """Status of every standard for every estate, or None when the pack has no standards.

    Columns :data:`SCORECARD_COLUMNS`; ``rules`` counts the standard's indicators, ``failed``
    and ``no_data`` list the rule ids that failed or lacked data.
    """
    pack = result.pack
    if not pack.standards:
        return None
    if "scorecard" in result.views:
        return result.views["scorecard"]
    worst, members = _standard_ranks(result)
    rank = _ranks(result)
    n, k = worst.shape
    ids = [r.id for r in pack.rules]
    failed = np.stack([_listed([ids[j] for j in m], rank[:, m] == RANK[FAIL]) for m in members],
                      axis=1)
    missing = np.stack([_listed([ids[j] for j in m], rank[:, m] == RANK[NO_DATA])
                        for m in members], axis=1)
    req = {r.id: r for r in pack.requirements}
    cat = {c.id: c.title_zh for c in pack.categories}
    est = result.site.estates
    table = pd.DataFrame({
        "estate_id": np.repeat(est["estate_id"].to_numpy(), k),
        "estate_name": np.repeat(est["name"].to_numpy(), k),
        "standard_id": np.tile([st.id for st in pack.standards], n),
        "requirement_id": np.tile([st.requirement for st in pack.standards], n),
        "category": np.tile([cat[req[st.requirement].category] for st in pack.standards], n),
        "status": NAMES[worst.ravel()],
        "title_zh": np.tile([st.title_zh for st in pack.standards], n),
        "rules": np.tile([len(m) for m in members], n),
        "failed": failed.ravel(),
        "no_data": missing.ravel(),
    })
    result.views["scorecard"] = table
    return table


def declaration(result: Result) -> pd.DataFrame | None:
    """Compliance rate and eligibility per estate, or None when the pack has no declaration.

    Columns: ``estate_id, estate_name, compliance_rate`` (0-1), ``eligible`` (bool),
    ``standards_passed, standards_applicable, standards_failed, standards_no_data,
    standards_not_applicable``, ``requirements_met`` (requirements with a standard passed),
    ``blocking_requirements`` (those without, with titles), ``verdict`` (a sentence: eligible,
    not eligible and why, or not eligible yet because data is missing and what it could change)
    and ``verdict_zh`` (the same in Chinese).
    """
    pack = result.pack
    rule = pack.declaration
    if rule is None:
        return None
    if "declaration" in result.views:
        return result.views["declaration"]
    worst, _ = _standard_ranks(result)
    count = {name: (worst == RANK[name]).sum(axis=1) for name in RANK}
    passed = count[PASS]
    applicable = passed + count[FAIL] + count[NO_DATA]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(applicable > 0, passed / applicable, np.nan)
        best = np.where(applicable > 0, (passed + count[NO_DATA]) / applicable, np.nan)
    reqs = [r.id for r in pack.requirements]
    std_req = np.array([st.requirement for st in pack.standards])
    met = np.stack([(worst[:, std_req == r] == RANK[PASS]).any(axis=1) for r in reqs], axis=1)
    open_ = np.stack([(worst[:, std_req == r] == RANK[NO_DATA]).any(axis=1) for r in reqs],
                     axis=1)
    if not rule.every_requirement:
        met = np.ones_like(met)
    blocking = _listed(reqs, ~met)
    titles = {r.id: r.title_zh for r in pack.requirements}
    could = (met | open_).all(axis=1)
    ok_rate = np.round(np.nan_to_num(rate, nan=-1), 6) >= rule.min_compliance
    eligible = ok_rate & met.all(axis=1)
    best_ok = np.round(np.nan_to_num(best, nan=-1), 6) >= rule.min_compliance
    verdicts, verdicts_zh = [], []
    need = percent(rule.min_compliance, sep="")
    for i in range(len(passed)):  # one sentence per estate, in English and in Chinese
        if eligible[i]:
            verdicts.append(f"eligible: {share(rate[i])} of applicable standards passed, every "
                            "requirement met")
            verdicts_zh.append(f"可申报：适用标准达标率 {share(rate[i])}，每项要求均有达标标准")
            continue
        why, why_zh = [], []
        if np.isnan(rate[i]):
            why.append("no applicable standard")
            why_zh.append("无适用标准")
        elif not ok_rate[i]:
            why.append(f"compliance {share(rate[i])} < {need}")
            why_zh.append(f"达标率 {share(rate[i])}，低于 {need}")
        if blocking[i]:
            why.append("no standard passed under " + ", ".join(blocking[i].split(" ")))
            why_zh.append("、".join(blocking[i].split(" ")) + " 无达标标准")
        text = "not eligible: " + "; ".join(why)
        text_zh = "不可申报：" + "；".join(why_zh)
        if count[NO_DATA][i] and best_ok[i] and could[i]:
            text += (f" ({count[NO_DATA][i]} standards lack data: with them passed "
                     "it could become eligible)")
            text_zh += f"（{count[NO_DATA][i]} 项标准缺数据：补齐且均达标即可申报）"
        verdicts.append(text)
        verdicts_zh.append(text_zh)
    est = result.site.estates
    table = pd.DataFrame({
        "estate_id": est["estate_id"].to_numpy(), "estate_name": est["name"].to_numpy(),
        "compliance_rate": np.round(rate, 6), "eligible": eligible,
        "standards_passed": passed, "standards_applicable": applicable,
        "standards_failed": count[FAIL], "standards_no_data": count[NO_DATA],
        "standards_not_applicable": count[NOT_APPLICABLE],
        "requirements_met": met.sum(axis=1),
        "blocking_requirements": ["; ".join(f"{r} {titles[r]}" for r in b.split(" ")) if b
                                  else "" for b in blocking],
        "verdict": verdicts,
        "verdict_zh": verdicts_zh,
    })
    result.views["declaration"] = table
    return table


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
    could change it), ``rating`` (a sentence, e.g. "4 stars: 262.4 points, satisfaction 88 %")
    and ``rating_zh`` (the same in Chinese: "4 星：262.4 分，满意率 88%").
    Below the satisfaction floor an estate fails outright, whatever its points.
    """
    pack = result.pack
    sc = pack.scoring
    if sc is None:
        return None
    if "scores" in result.views:
        return result.views["scores"]
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
    ratings, ratings_zh = [], []
    floor = percent(sc.floor, sep="")
    for i in range(n):
        pts = f"{known[i]:g} points" if not any_missing[i] else \
            f"{known[i]:g} points known, {n_missing[i]} items blank (up to {top_missing[i]:g} more)"
        pts_zh = f"{known[i]:g} 分" if not any_missing[i] else \
            f"已知 {known[i]:g} 分，{n_missing[i]} 项空白（最多还有 {top_missing[i]:g} 分）"
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
    result.views["scores"] = out
    return out
