"""SHA-256s of files for a run's manifest, those of the inputs begun in a background thread
while the run works (:func:`hash_ahead`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


_AHEAD: dict[tuple[str, int, int], Future[str]] = {}
"""SHA-256s of input files begun by :func:`hash_ahead`, by path, size and modification time."""


def _stat_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


def hash_ahead(paths: Iterable[Path]) -> None:
    """Begin the SHA-256 of each file of ``paths`` (a run's inputs) in a background thread,
    so that the manifest, written at the end, finds it done (:func:`file_record`): a
    province's GeoPackage of some GB takes seconds to hash, while the run reads and judges
    on one core. A file changed in the meantime is hashed again at the end."""
    todo = [(key, p) for p in paths if (key := _stat_key(p)) is not None and key not in _AHEAD]
    if todo:
        pool = ThreadPoolExecutor(1, thread_name_prefix="geocheck-inputs")
        for key, p in todo:
            _AHEAD[key] = pool.submit(sha256, p)
        pool.shutdown(wait=False)


def file_record(path: Path, name: str | None = None) -> dict[str, Any]:
    """``{"name" or "path", "bytes", "sha256"}`` of one file for the manifest (its SHA-256
    begun by :func:`hash_ahead` if it was, and the file is unchanged since)."""
    ahead = _AHEAD.pop(key, None) if (key := _stat_key(path)) is not None else None
    return {"name" if name else "path": name or os.path.abspath(path),
            "bytes": path.stat().st_size,
            "sha256": ahead.result() if ahead is not None else sha256(path)}
