"""Giving freed memory back to the operating system between the stages of a big run.

pandas keeps text columns in Arrow arrays, whose allocator (mimalloc) holds on to memory the
program has freed, for reuse; glibc's malloc does the same with its heap. Neither counts against
a later stage's own needs, but both count in the process's resident memory, and so in the peak a
province-sized run is measured by. On the 3,000-estate city, the Arrow pool alone held 167 MB
of freed memory after judging.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .progress import Progress

__all__ = ["give_back", "stage"]

_libc: ctypes.CDLL | None = None


def give_back() -> None:
    """Return the memory freed so far to the operating system: Arrow's pool (when pyarrow is
    loaded; it is not imported here) and glibc's heap (``malloc_trim``, on glibc only)."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = getattr(_glibc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name) if name else None
        except OSError:
            _libc = None
    return _libc


@contextmanager
def stage(progress: Progress, label: str) -> Iterator[Progress]:
    """``progress.stage(label)``, then the memory the stage freed is given back to the system
    (:func:`give_back`), so the next stage starts from what is still held."""
    with progress.stage(label) as shown:
        yield shown
    give_back()
