"""Storeys and heights of buildings, read from a field or from a CAD label.

A building's ``floors`` come from a ``floors`` / ``层数`` field (a whole number), or, for a
building imported from a DXF, from the one text drawn inside its outline (``cad_text``) when
that text states storeys: ``18F``, ``18层``, ``6 floors`` (``1#`` names the building and
says nothing about storeys). ``height`` (metres) comes from a ``height`` / ``高度`` /
``建筑高度`` field. What cannot be read is missing (NaN), never guessed; a value that is there
but unreadable is noted in the ledger.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..core.ledger import Ledger

MAX_FLOORS = 200
"""More storeys than this is refused as implausible (the tallest buildings have some 160)."""
MAX_HEIGHT_M = 1000.0
"""A height above this many metres is refused as implausible."""

_STOREYS = re.compile(r"(\d{1,3})\s*(?:F\b|f\b|层|floors?\b|storeys?\b)")


def parse_floors(values: pd.Series, *, from_label: pd.Series | None = None) -> pd.Series:
    """Storeys per building as floats (NaN where unknown).

    Parameters
    ----------
    values : the ``floors`` field as read: numbers, or texts such as ``"18"``, ``"18F"``,
        ``"18层"``.
    from_label : True where the value is a CAD label (only a text stating storeys counts,
        a bare number such as ``"3"`` may be a building number); default: none is.
    """
    text = values.astype(object).where(values.notna(), None)
    out = pd.to_numeric(values, errors="coerce").astype(float)
    labels = (pd.Series(False, index=values.index) if from_label is None
              else from_label.reindex(values.index).fillna(False).astype(bool))
    out[labels] = np.nan
    found = text.astype(str).str.extract(_STOREYS, expand=False)
    use = out.isna() & text.notna() & found.notna()
    out[use] = pd.to_numeric(found[use], errors="coerce")
    whole = (out == np.floor(out)) & (out >= 1) & (out <= MAX_FLOORS)
    return out.where(whole)


def parse_height(values: pd.Series) -> pd.Series:
    """Height in metres per building as floats (NaN where missing or not a plausible
    height: a number above 0 and up to :data:`MAX_HEIGHT_M`); ``"54.3m"`` and ``"54.3米"`` are
    read as 54.3."""
    text = values.astype(object).where(values.notna(), None).astype(str)
    stripped = text.str.replace(r"\s*(?:m|米)\s*$", "", regex=True)
    out = pd.to_numeric(stripped.where(values.notna()), errors="coerce").astype(float)
    return out.where((out > 0) & (out <= MAX_HEIGHT_M))


def read_storeys(buildings: pd.DataFrame, ledger: Ledger, *, label_floors: bool) -> None:
    """Parse the buildings' ``floors`` and ``height`` in place, noting unreadable values.

    ``label_floors``: the floors were taken from a CAD label (``cad_text``), where a text
    that states no storeys (a building number) is simply no storeys, not an error.
    """
    def floors(v: pd.Series) -> pd.Series:
        return parse_floors(v, from_label=pd.Series(label_floors, index=v.index))

    for name, parse, quiet in (("floors", floors, label_floors),
                               ("height", parse_height, False)):
        raw = buildings[name]
        # each distinct value is read once (a city's 120,000 buildings have a few hundred)
        codes, distinct = pd.factorize(raw, use_na_sentinel=True)
        distinct = pd.Series(distinct)
        parsed = np.append(parse(distinct).to_numpy(dtype=float), np.nan)[codes]
        given = distinct.notna() & (distinct.astype(str).str.strip() != "")
        bad = np.append(given.to_numpy(dtype=bool), False)[codes] & np.isnan(parsed)
        if bad.any() and not quiet:
            ids = buildings.loc[bad, "feature_id"].astype(str).tolist()
            values = raw[bad].tolist()
            shown = ", ".join(f"{i} ({v!r})" for i, v in zip(ids[:5], values[:5], strict=False))
            more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
            ledger.note(f"buildings: {name} unreadable for {len(ids)} building(s): {shown}{more}"
                        "; they count as no data for the planning conditions")
        buildings[name] = pd.Series(parsed, index=buildings.index)
