"""Vectorised work split across threads: shapely and numpy release the GIL in their array
functions, so a long array is done in one chunk per core at once."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PARALLEL_MIN = 20_000
"""Arrays shorter than this are done in the calling thread (threads would cost more than
they save)."""


def in_threads(func: Callable[[np.ndarray], np.ndarray], items: np.ndarray,
               min_items: int = PARALLEL_MIN) -> np.ndarray:
    """``func(items)`` for an elementwise ``func``, computed on one chunk of ``items`` per
    core (at most 8) in threads and joined in order; the same array as ``func(items)``."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < min_items or workers == 1:
        return func(items)
    bounds = np.linspace(0, len(items), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda i: func(items[bounds[i]:bounds[i + 1]]), range(workers)))
    return np.concatenate(parts)
