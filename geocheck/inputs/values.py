"""Field values as users' files hold them, turned into plain text.

Whole numbers read as floats (an id column with a blank cell) lose their .0, text is
stripped, and blanks become None, so that 12.0, "12" and " 12 " are one id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_text(values: pd.Series) -> pd.Series:
    """Field values as stripped text (object dtype): whole floats without '.0', blanks None."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        # Arrow's text as it is: stripped and blanked in one pass over the bytes (the same
        # trim as pandas' str.strip on it), not by distinct value (a column of ids has as
        # many distinct values as rows)
        text = pc.utf8_trim_whitespace(pa.array(values.array))
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
        return pd.Series(text.to_numpy(zero_copy_only=False), index=values.index,
                         dtype=object)
    if pd.api.types.is_float_dtype(values):
        finite = values.notna() & np.isfinite(values.fillna(0))
        if (values[finite] % 1 == 0).all():
            values = values.where(finite).astype("Int64")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # strip each distinct value once
    text = pd.Series(uniques).astype("string").str.strip()
    text = text.mask(text == "").astype(object)
    table = np.append(text.where(text.notna(), None).to_numpy(dtype=object), None)
    return pd.Series(table[codes], index=values.index, dtype=object)  # code -1 -> None
