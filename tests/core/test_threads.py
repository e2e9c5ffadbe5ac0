"""Work split across threads gives the array the function gives in one call."""

from __future__ import annotations

import numpy as np
import shapely

from geocheck.core.threads import in_threads


def test_validity_in_threads_is_the_same_array_in_the_same_order() -> None:
    """25,000 squares, every third a bow-tie (invalid): the chunks are joined in order."""
    n = 25_000
    x = np.arange(n, dtype=float) * 10
    square = shapely.box(x, 0, x + 1, 1)
    bowtie = shapely.polygons([[(a, 0), (a + 1, 1), (a + 1, 0), (a, 1), (a, 0)] for a in x])
    geoms = np.where(np.arange(n) % 3 == 0, bowtie, square)
    valid = in_threads(shapely.is_valid, geoms)
    assert valid.dtype == bool and len(valid) == n
    assert (np.flatnonzero(~valid) == np.arange(0, n, 3)).all()
    assert (in_threads(shapely.area, geoms, min_items=10) == shapely.area(geoms)).all()
    assert in_threads(shapely.is_valid, geoms[:0]).shape == (0,)
