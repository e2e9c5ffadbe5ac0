"""Units, the precision verdicts are judged at, and how shares and percentages are written.

Distances are metres in the working CRS and are judged to the millimetre; ratios (a share of
0-1) are judged to the millionth, so that reprojection noise cannot flip a verdict. A value is
reported to the precision it was judged at (:data:`VALUE_DECIMALS`), so a shown value never
seems to contradict its verdict.
"""

from __future__ import annotations

import math

DISTANCE_DECIMALS = 3
"""Distances (metres) are judged and reported to the millimetre."""
RATIO_DECIMALS = 6
"""Ratios (0-1) are judged and reported to the millionth."""
VALUE_DECIMALS = {"m": DISTANCE_DECIMALS, "ratio": RATIO_DECIMALS, "count": 0, "m2": 1,
                  "yes/no": 0, "number": 6, "points": 6, "per 100 households": 6}
"""Decimals a finding's value is reported to, by its unit (a ratio of 0.34996 is not shown as
0.35 next to a fail)."""


def share(ratio: float, decimals: int = 1) -> str:
    """A measured ratio as a percentage, truncated rather than rounded, so that a share just
    below a threshold (0.8496 against 85 %) never shows as reaching it: "84.9%" ("n/a" for
    NaN or infinity)."""
    if not math.isfinite(ratio):
        return "n/a"
    scale = 10 ** (decimals + 2)
    return f"{math.floor(round(float(ratio) * scale, 6)) / 10 ** decimals:.{decimals}f}%"


def percent(ratio: float, sep: str = " ") -> str:
    """A ratio set by a pack or typed by someone, as a percentage without rounding: 0.35 ->
    "35 %", 0.125 -> "12.5 %" (``sep=""``: "35%")."""
    return f"{round(float(ratio) * 100, 6):g}{sep}%"


def metres(d: float) -> str:
    """A distance for a sentence: ``1,234.5 m`` (one decimal)."""
    return f"{d:,.1f} m"
