"""The words every view shares: languages, the names of the verdicts, safe spreadsheet text.

A distance finding's walk is said beside its value (:func:`walk_notes`).

The verdicts are named in Chinese and English (:data:`STATUS_TEXT`), or both at once where a
view serves both readers (:data:`STATUS_LABELS`). Text from the data written into a CSV,
findings.xlsx or the template can never become a formula (:func:`defuse_formulas`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS
from ..rules.proposals import Proposals
from ..rules.walking import WALK_METHOD

LANGS = ("zh", "en")
"""The languages of the report, the static maps and the charts."""

STATUS_TEXT: dict[str, dict[str, str]] = {
    "zh": {PASS: "达标", FAIL: "不达标", NO_DATA: "无数据", NOT_APPLICABLE: "不适用"},
    "en": {PASS: "pass", FAIL: "fail", NO_DATA: "no data", NOT_APPLICABLE: "not applicable"},
}
"""Each verdict's name by language."""

LEGEND_ORDER = (PASS, FAIL, NO_DATA, NOT_APPLICABLE)
"""The order legends and tallies list the verdicts in."""

STATUS_LABELS: dict[str, str] = {s: f"{STATUS_TEXT['en'][s]} {STATUS_TEXT['zh'][s]}"
                                 for s in LEGEND_ORDER}
"""Each verdict named in both languages: ``pass 达标``."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy in which no text cell can be read as a spreadsheet formula.

    Text cells starting with ``= + - @``, tab or carriage return get a leading apostrophe, as
    OWASP advises for CSV files opened in Excel. Numbers are left alone.
    """
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):  # the dictionary, not every row
            cats = out[col].cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats):
                text = pd.Series(cats, dtype="string")
                risky = text.str[:1].isin(FORMULA_START).fillna(False).to_numpy(dtype=bool)
                if risky.any():
                    fixed = text.where(~risky, "'" + text)
                    if fixed.is_unique:
                        out[col] = out[col].cat.rename_categories(list(fixed))
                    else:
                        out[col] = out[col].astype(object).where(
                            ~out[col].astype(object).isin(cats[risky]),
                            "'" + out[col].astype(object).astype(str))
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str[:1].isin(FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + text[risky].astype(str)
    return out


WALK_WORDS = {"zh": ("步行", "倍", "按步行判定"), "en": ("walk", "x", "on foot")}
"""The words of :func:`walk_notes` by language."""


def walk_notes(findings: pd.DataFrame, lang: str = "en") -> np.ndarray:
    """Per finding, what to write after its value about the walk (``walk_m``): judged on foot
    (the method says so), `` on foot``; else with a walk and a value, `` (walk 1,630 m,
    3.9x)``, the detour ratio walk / value given when the value is above 0; else ``""``.
    Plain text: escape it where it goes into HTML."""
    walk_word, times, judged = WALK_WORDS[lang]
    walk = findings["walk_m"].to_numpy(dtype=float, na_value=np.nan)
    value = findings["value"].to_numpy(dtype=float, na_value=np.nan)
    # each distinct method looked at once (a categorical column, one row per finding)
    codes, methods = pd.factorize(findings["method"])
    walked = pd.Index(methods).astype(str).str.contains(WALK_METHOD, regex=False)
    on_foot = np.r_[np.asarray(walked, dtype=bool), False][codes]  # missing: not on foot
    out = np.full(len(findings), "", dtype=object)
    out[on_foot & np.isfinite(value)] = f" {judged}"
    both = np.flatnonzero(~on_foot & np.isfinite(walk) & np.isfinite(value))
    # walks are findings values, already to the millimetre: whole metres with separators
    out[both] = [f" ({walk_word} {w:,.0f} m" + (f", {w / v:.1f}{times})" if v > 0 else ")")
                 for w, v in zip(walk[both].tolist(), value[both].tolist(), strict=True)]
    return out


def proposals_text(proposals: Proposals, lang: str = "en") -> str:
    """One sentence on the proposed garbage points (see :mod:`geocheck.rules.proposals`):
    sites, estates, points to move, buildings no site can serve, how solved; ``""`` when the
    pack has no garbage radius rule."""
    if not proposals.applies:
        return ""
    p, est = proposals, proposals.estates
    if p.note:
        return (f"垃圾收集点方案：{p.note}" if lang == "zh" else
                f"proposed garbage points: {p.note}")
    if est.empty:
        return ("没有小区未达到垃圾收集点规则，proposals.gpkg 的图层为空。" if lang == "zh" else
                "no estate fails the garbage point rules: proposals.gpkg has empty layers")
    methods = ", ".join(sorted({m for m in est["method"] if m}))
    gap = int(est["gap"].sum())
    proven = ("均为最少（已证明）" if lang == "zh" else "fewest, proven") if gap == 0 else (
        f"比下界多 {gap} 处" if lang == "zh" else f"{gap} above the lower bound")
    n_out = len(p.left_out)
    if lang == "zh":
        more = (f"；另有 {n_out} 个未达标小区未作方案（每次运行默认最多 {len(est)} 个，"
                "未覆盖住宅楼最多者优先；--proposals all 可全部计算）" if n_out else "")
        return (f"拟增设垃圾收集点：{len(est)} 个小区共 {len(p.points)} 处新点位"
                f"（{methods or '无'}，{proven}），需迁移 {len(p.moves)} 处，"
                f"{len(p.unserved)} 栋住宅楼找不到可行点位；见 proposals.gpkg{more}")
    more = (f"; {n_out} more failing estates got none (a run proposes for at most {len(est)}, "
            "those with the most buildings uncovered first; --proposals all for every one)"
            if n_out else "")
    return (f"proposed garbage points: {len(p.points)} new sites for {len(est)} estates "
            f"({methods or 'none needed'}; {proven}), {len(p.moves)} points to move, "
            f"{len(p.unserved)} residential buildings no site can serve; see proposals.gpkg"
            + more)
