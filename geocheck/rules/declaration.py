"""Who may declare: compliance rate and eligibility per estate under a pack's ``[declaration]``.

Compliance rate = standards passed / standards applicable (no data counts as applicable and not
passed: missing data is never a pass). Guangxi (seed 001, 五（二）): at least 85 % and one
standard passed under every requirement; the requirements without one block the estate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS, SEVERITY
from ..core.units import percent, share
from .packs.model import Pack
from .scorecard import listed, standard_severity


def declaration_table(pack: Pack, estates: pd.DataFrame, severity: np.ndarray
                      ) -> pd.DataFrame | None:
    """Compliance rate and eligibility per estate, or None when the pack has no declaration.

    ``estates`` (``estate_id``, ``name``) and ``severity`` (estates x rules, :data:`SEVERITY`)
    are in the findings' order.

    Columns: ``estate_id, estate_name, compliance_rate`` (0-1), ``eligible`` (bool),
    ``standards_passed, standards_applicable, standards_failed, standards_no_data,
    standards_not_applicable``, ``requirements_met`` (requirements with a standard passed),
    ``blocking_requirements`` (those without, with titles), ``verdict`` (a sentence: eligible,
    not eligible and why, or not eligible yet because data is missing and what it could change)
    and ``verdict_zh`` (the same in Chinese).
    """
    rule = pack.declaration
    if rule is None:
        return None
    worst, _ = standard_severity(pack, severity)
    count = {name: (worst == SEVERITY[name]).sum(axis=1) for name in SEVERITY}
    passed = count[PASS]
    applicable = passed + count[FAIL] + count[NO_DATA]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(applicable > 0, passed / applicable, np.nan)
        best = np.where(applicable > 0, (passed + count[NO_DATA]) / applicable, np.nan)
    reqs = [r.id for r in pack.requirements]
    std_req = np.array([st.requirement for st in pack.standards])
    met = np.stack([(worst[:, std_req == r] == SEVERITY[PASS]).any(axis=1) for r in reqs], axis=1)
    open_ = np.stack([(worst[:, std_req == r] == SEVERITY[NO_DATA]).any(axis=1) for r in reqs],
                     axis=1)
    if not rule.every_requirement:
        met = np.ones_like(met)
    blocking = listed(reqs, ~met)
    titles = {r.id: r.title_zh for r in pack.requirements}
    could = (met | open_).all(axis=1)
    ok_rate = np.round(np.nan_to_num(rate, nan=-1), 6) >= rule.min_compliance
    eligible = ok_rate & met.all(axis=1)
    best_ok = np.round(np.nan_to_num(best, nan=-1), 6) >= rule.min_compliance
    need = percent(rule.min_compliance, sep="")

    def sentences(i: int) -> tuple[str, str]:
        """The verdict of estate ``i``, in English and in Chinese."""
        rate_text = share(rate[i], limit=rule.min_compliance)
        if eligible[i]:
            return (f"eligible: {rate_text} of applicable standards passed, every requirement "
                    "met", f"可申报：适用标准达标率 {rate_text}，每项要求均有达标标准")
        why, why_zh = [], []
        if np.isnan(rate[i]):
            why.append("no applicable standard")
            why_zh.append("无适用标准")
        elif not ok_rate[i]:
            why.append(f"compliance {rate_text} < {need}")
            why_zh.append(f"达标率 {rate_text}，低于 {need}")
        if blocking[i]:
            why.append("no standard passed under " + ", ".join(blocking[i].split(" ")))
            why_zh.append("、".join(blocking[i].split(" ")) + " 无达标标准")
        text = "not eligible: " + "; ".join(why)
        text_zh = "不可申报：" + "；".join(why_zh)
        if count[NO_DATA][i] and best_ok[i] and could[i]:
            text += (f" ({count[NO_DATA][i]} standards lack data: with them passed "
                     "it could become eligible)")
            text_zh += f"（{count[NO_DATA][i]} 项标准缺数据：补齐且均达标即可申报）"
        return text, text_zh

    # estates alike in all a sentence says share it: each is written once (a city has a few
    # hundred distinct ones for thousands of estates)
    said = pd.DataFrame({"rate": rate, "eligible": eligible, "ok_rate": ok_rate,
                         "blocking": blocking, "no_data": count[NO_DATA], "best_ok": best_ok,
                         "could": could})
    codes = said.groupby(list(said.columns), dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    texts = [sentences(i) for i in first.tolist()]
    verdicts = np.array([en for en, _ in texts], dtype=object)[codes]
    verdicts_zh = np.array([zh for _, zh in texts], dtype=object)[codes]
    est = estates
    table = pd.DataFrame({
        "estate_id": est["estate_id"].to_numpy(), "estate_name": est["name"].to_numpy(),
        "compliance_rate": np.round(rate, 6), "eligible": eligible,
        "standards_passed": passed, "standards_applicable": applicable,
        "standards_failed": count[FAIL], "standards_no_data": count[NO_DATA],
        "standards_not_applicable": count[NOT_APPLICABLE],
        "requirements_met": met.sum(axis=1),
        "blocking_requirements": pd.Series(blocking).map(
            {b: "; ".join(f"{r} {titles[r]}" for r in b.split(" ")) if b else ""
             for b in set(blocking)}).to_numpy(dtype=object),
        "verdict": verdicts,
        "verdict_zh": verdicts_zh,
    })
    return table
