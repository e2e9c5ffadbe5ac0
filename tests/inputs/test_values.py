"""Field values turned into plain text, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geocheck.inputs.values import as_text

RAW = [" a ", "\u3000全角\u3000", "\t\n", "", None, "x\u00a0", "12", " 12.0 ", "a"]
TEXT = ["a", "全角", None, None, None, "x", "12", "12.0", "a"]


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "string[python]", object])
def test_text_is_stripped_and_blanks_are_none_whatever_the_column_type(dtype) -> None:
    values = pd.Series(RAW, dtype=dtype, index=range(10, 19))
    got = as_text(values)
    assert got.dtype == object and list(got.index) == list(range(10, 19))
    assert got.tolist() == TEXT
    assert as_text(values.iloc[3:7]).tolist() == TEXT[3:7]  # a slice of a column


def test_whole_floats_lose_their_point_and_others_keep_it() -> None:
    assert as_text(pd.Series([12.0, np.nan, 3.0])).tolist() == ["12", None, "3"]
    assert as_text(pd.Series([12.5, 3.0])).tolist() == ["12.5", "3.0"]
