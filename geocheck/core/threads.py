"""Vectorised work split across threads: shapely and numpy release the GIL in their array
functions, so a long array is done in one chunk per core at once."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")

PARALLEL_MIN = 20_000
"""Arrays shorter than this are done in the calling thread (threads would cost more than
they save)."""


def by_chunks(func: Callable[[int, int], T], n: int, min_items: int = PARALLEL_MIN) -> list[T]:
    """``func(lo, hi)`` for consecutive chunks ``[lo, hi)`` of ``range(n)``, one per core (at
    most 8) in threads, the answers in chunk order; one chunk ``(0, n)`` in the calling
    thread when ``n < min_items`` or there is one core."""
    workers = min(os.cpu_count() or 1, 8)
    if n < min_items or workers == 1:
        return [func(0, n)]
    bounds = np.linspace(0, n, workers + 1).astype(int).tolist()
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, bounds[:-1], bounds[1:]))


def in_threads(func: Callable[[np.ndarray], np.ndarray], items: np.ndarray,
               min_items: int = PARALLEL_MIN) -> np.ndarray:
    """``func(items)`` for an elementwise ``func``, computed by :func:`by_chunks` and joined
    in order; the same array as ``func(items)``."""
    parts = by_chunks(lambda lo, hi: func(items[lo:hi]), len(items), min_items)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
