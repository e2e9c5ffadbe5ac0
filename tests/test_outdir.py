"""The output folder's machinery by hand: reasons of failed writes, a write error leaving the
folder as it was, a commit cut short by SIGKILL finished by the next run, signals held back
during the commit."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pyogrio.errors
import pytest
import xlsxwriter.exceptions

import geocheck
import geocheck.views.tables
from geocheck.core.digest import sha256
from geocheck.core.errors import OutputError
from geocheck.outdir import (
    MANIFEST,
    STAGING_PREFIX,
    Staging,
    input_files,
    recover,
    run_manifest,
    signals_held,
    write_reason,
)


@pytest.mark.parametrize(("exc", "reason"), [
    (OSError(errno.ENOSPC, "No space left on device"), "disk full"),
    (OSError(errno.EFBIG, "File too large"),
     "file too large for the file system or the file-size limit"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk quota exceeded"),
    (xlsxwriter.exceptions.FileCreateError(OSError(errno.ENOSPC, "No space")), "disk full"),
    (sqlite3.OperationalError("database or disk is full"), "disk full"),
    (pyogrio.errors.DataLayerError("sqlite3_exec(...) failed: database or disk is full"),
     "disk full"),
    (ValueError("a bug"), None),
])
def test_write_reasons(exc, reason) -> None:
    assert write_reason(exc) == reason


def test_a_write_error_is_an_output_error_and_the_folder_is_left_as_it_was(
        sample, tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    first = geocheck.write_outputs(sample, out, formats=("csv",))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"findings.csv", "rejects.csv", "scorecard.csv", "summary.csv",
                           "progress.csv", MANIFEST} and set(first) - {"manifest"} == {
        "findings", "rejects", "scorecard", "summary", "progress"}

    def full(*_a, **_k):
        raise pyogrio.errors.DataLayerError("sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(geocheck.views.tables, "write_gpkg", full)  # as the pipeline calls it
    with pytest.raises(OutputError) as info:
        geocheck.write_outputs(sample, out, formats=("csv", "gpkg"))
    assert str(info.value) == (f"disk full while writing results.gpkg (in {out}); the "
                               "previous outputs there are left as they were")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging folder left


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_commit_cut_short_is_finished_by_the_next_run(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "findings.csv").write_text("old findings", encoding="utf-8")
    (out / "scorecard.csv").write_text("old scorecard", encoding="utf-8")
    (out / MANIFEST).write_text("{}", encoding="utf-8")
    # a dead run staged findings.csv and map.html with its manifest, removed the old manifest
    # and renamed map.html into place, then was killed
    staging = out / f"{STAGING_PREFIX}{_dead_pid()}-abc"
    staging.mkdir()
    (staging / "findings.csv").write_text("new findings", encoding="utf-8")
    (out / "map.html").write_text("new map", encoding="utf-8")
    manifest = run_manifest(pack="nanhai", inputs=[], options={},
                            started=datetime.now().astimezone(),
                            files=[staging / "findings.csv", out / "map.html"])
    (staging / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (out / MANIFEST).unlink()
    # and another dead run was stopped mid-write: no manifest, its files are thrown away
    partial = out / f"{STAGING_PREFIX}{_dead_pid()}-def"
    partial.mkdir()
    (partial / "findings.csv").write_text("half", encoding="utf-8")
    done = recover(out)
    assert done == [f"finished the commit of an interrupted run ({staging.name})"]
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", MANIFEST, "map.html"]
    assert (out / "findings.csv").read_text(encoding="utf-8") == "new findings"
    written = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert {f["name"]: f["sha256"] for f in written["files"]} == {
        "findings.csv": sha256(out / "findings.csv"), "map.html": sha256(out / "map.html")}


def test_a_live_runs_staging_folder_is_left_alone(tmp_path) -> None:
    live = tmp_path / f"{STAGING_PREFIX}1-abc"  # pid 1 is always running
    live.mkdir()
    (live / "findings.csv").write_text("being written", encoding="utf-8")
    assert recover(tmp_path) == []
    assert (live / "findings.csv").exists()


def test_signals_are_held_during_the_commit_and_delivered_after() -> None:
    seen = []
    old = signal.signal(signal.SIGINT, lambda s, _f: seen.append(("handled", s)))
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            seen.append("inside")
        seen.append("after")
        # the kernel may hand a process-wide signal to another thread (the test process has
        # Arrow's and others' threads), whose note of it the main thread reads a little later:
        # wait for it rather than assume it came before "after"
        for _ in range(500):
            if ("handled", signal.SIGINT) in seen:
                break
            time.sleep(0.01)
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen[0] == "inside"  # not handled within the block
    assert seen.count(("handled", signal.SIGINT)) == 1 and "after" in seen


def test_the_manifest_lists_inputs_options_and_files(sample, tmp_path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("estate_id\n", encoding="utf-8")
    project = tmp_path / "p.toml"
    project.write_text(f'attributes = "sheet.csv"\n[layers.estates]\npath = "{sample.site.source}"'
                       f'\n', encoding="utf-8")
    assert input_files(project) == [project, Path(sample.site.source), sheet]
    out = tmp_path / "out"
    written = geocheck.write_outputs(sample, out, formats=("csv",), inputs=[project],
                                     options={"pack": None})
    m = json.loads(written["manifest"].read_text(encoding="utf-8"))
    assert m["geocheck"] == geocheck.__version__ and m["pack"] == "guangxi"
    assert m["inputs"] == [{"path": str(project.resolve()), "bytes": project.stat().st_size,
                            "sha256": sha256(project)}]
    assert m["options"]["formats"] == ["csv"] and m["options"]["pack"] is None
    assert [f["name"] for f in m["files"]] == ["findings.csv", "rejects.csv", "scorecard.csv",
                                               "summary.csv", "progress.csv"]
    assert m["files"][0]["bytes"] == (out / "findings.csv").stat().st_size
    assert m["started"] <= m["finished"]


def test_staging_refuses_names_it_does_not_own(tmp_path) -> None:
    s = Staging(tmp_path)
    try:
        with pytest.raises(ValueError):
            s.path("../evil.csv")
    finally:
        s.discard()
    assert list(tmp_path.iterdir()) == []


def test_files_are_synced_and_hashed_as_they_are_written_and_once(tmp_path, monkeypatch) -> None:
    import geocheck.outdir as outdir
    synced: list[str] = []
    fsync = outdir._fsync
    monkeypatch.setattr(outdir, "_fsync", lambda p: (synced.append(Path(p).name), fsync(p)))
    s = Staging(tmp_path)
    with s.writing("findings.csv") as path:
        path.write_text("a,b\n1,2\n", encoding="utf-8")
    s.path("rejects.csv").write_text("x\n", encoding="utf-8")  # as a forked process writes
    records = [s.record(s.path(n)) for n in ("findings.csv", "rejects.csv")]
    assert records == [{"name": "findings.csv", "bytes": 8, "sha256": sha256(tmp_path / s.dir.name
                                                                          / "findings.csv")},
                       {"name": "rejects.csv", "bytes": 2,
                        "sha256": sha256(s.path("rejects.csv"))}]
    assert sorted(synced) == ["findings.csv", "rejects.csv"]
    s.commit(run_manifest(pack="guangxi", inputs=[], options={}, started=datetime.now(),
                          files=[s.path("findings.csv"), s.path("rejects.csv")],
                          record=s.record))
    # each file was synced once; the commit then synced its manifest and the folder only
    assert sorted(synced[:2]) == ["findings.csv", "rejects.csv"] and "findings.csv" \
        not in synced[2:] and "rejects.csv" not in synced[2:]
    assert (tmp_path / "findings.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
