"""Field values as users' files hold them, turned into plain text.

Whole numbers read as floats (an id column with a blank cell) lose their .0, text is
stripped, and blanks become None, so that 12.0, "12" and " 12 " are one id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_text(values: pd.Series) -> pd.Series:
    """Field values as stripped text (object dtype): whole floats without '.0', blanks None."""
    if pd.api.types.is_float_dtype(values):
        finite = values.notna() & np.isfinite(values.fillna(0))
        if (values[finite] % 1 == 0).all():
            values = values.where(finite).astype("Int64")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # strip each distinct value once
    text = pd.Series(uniques).astype("string").str.strip()
    text = text.mask(text == "").astype(object)
    table = np.append(text.where(text.notna(), None).to_numpy(dtype=object), None)
    return pd.Series(table[codes], index=values.index, dtype=object)  # code -1 -> None
