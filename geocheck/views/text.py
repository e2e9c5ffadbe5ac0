"""The words every view shares: languages, the names of the verdicts, safe spreadsheet text.

The verdicts are named in Chinese and English (:data:`STATUS_TEXT`), or both at once where a
view serves both readers (:data:`STATUS_LABELS`). Text from the data written into a CSV,
findings.xlsx or the template can never become a formula (:func:`defuse_formulas`).
"""

from __future__ import annotations

import pandas as pd

from ..core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS

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
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str[:1].isin(FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + text[risky].astype(str)
    return out
