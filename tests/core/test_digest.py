"""Input files hashed ahead, in a background thread, for the manifest."""

from __future__ import annotations

import hashlib
import os

from geocheck.core import digest
from geocheck.core.digest import file_record, hash_ahead


def test_a_file_hashed_ahead_has_its_sha256_and_a_changed_one_is_hashed_again(tmp_path,
                                                                              monkeypatch):
    same, changed = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    same.write_bytes(b"x" * 3_000_000)
    changed.write_bytes(b"y" * 1000)
    hashed: list[str] = []
    real = digest.sha256

    def counted(path):
        hashed.append(os.path.basename(path))
        return real(path)
    monkeypatch.setattr(digest, "sha256", counted)
    hash_ahead([same, changed, tmp_path / "absent.csv"])
    changed.write_bytes(b"z" * 1001)  # edited while the run works: another size and time
    rec = file_record(same)
    assert rec == {"path": str(same), "bytes": 3_000_000,
                   "sha256": hashlib.sha256(b"x" * 3_000_000).hexdigest()}
    assert file_record(changed)["sha256"] == hashlib.sha256(b"z" * 1001).hexdigest()
    assert hashed.count("a.gpkg") == 1  # a once, ahead (b's stale hash may run late or not)
    file_record(same)
    assert hashed.count("a.gpkg") == 2  # a record taken once: the next is hashed anew
