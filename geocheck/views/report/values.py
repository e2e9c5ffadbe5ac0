"""Findings' values as the report prints them: distances, areas and counts to the precision they
were judged at, ratios as percentages, yes/no and points in words of the report's language."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.units import VALUE_DECIMALS, share
from .html import missing
from .text import TEXT, UNIT_TEXT


def trim(text: str) -> str:
    """A formatted number without trailing zeros after its decimal point."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_values(values: np.ndarray, units: np.ndarray, lang: str) -> np.ndarray:
    """Values as text with their unit, to the precision they are judged at (trailing zeros
    dropped): metres ``736.5 m``, square metres ``m²``, ratios as a percentage (``34.996 %``),
    yes/no as words; missing values as ''. Each distinct (value, unit) is formatted once."""
    values = np.asarray(values, dtype=float)
    units = np.asarray(units, dtype=object)
    out = np.full(len(values), "", dtype=object)
    known = ~np.isnan(values)
    words = TEXT[lang]
    for unit in pd.unique(units[known]):
        mask = known & (units == unit)
        uniq, inverse = np.unique(values[mask], return_inverse=True)
        if unit == "yes/no":
            text = [words["yes"] if v >= 0.5 else words["no"] for v in uniq]
        elif unit == "ratio":
            d = max(VALUE_DECIMALS["ratio"] - 2, 0)
            text = [trim(f"{v * 100:,.{d}f}") + " %" for v in uniq]
        else:
            d = VALUE_DECIMALS.get(str(unit), 6)
            label = UNIT_TEXT[lang].get(str(unit), str(unit))
            sep = "" if label.startswith("/") or not label else " "
            text = [trim(f"{v:,.{d}f}") + sep + label for v in uniq]
        out[mask] = np.asarray(text, dtype=object)[inverse]
    return out


def percent_text(value: object, limit: float | None = None) -> str:
    """A ratio as a percentage to 0.1 %, truncated rather than rounded, so that a share just
    below a threshold (84.96 % against 85 %) never shows as reaching it; given the threshold
    ``limit`` (a ratio it must reach), never reading as the other verdict (see
    :func:`geocheck.core.units.share`)."""
    if missing(value):
        return "—"
    return share(float(value), limit=limit)


def number_text(value: object) -> str:
    if missing(value):
        return "—"
    return f"{value:,}" if isinstance(value, int | np.integer) else trim(f"{float(value):,.6f}")


def yes_no(value: object, lang: str) -> str:
    return "—" if missing(value) else TEXT[lang]["yes" if bool(value) else "no"]
