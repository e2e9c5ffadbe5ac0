"""The outputs of a run are all or nothing: a run killed (SIGTERM, SIGKILL) at a random moment or
stopped by a full disk leaves the previous run's complete outputs; a second run removes the
first run's outputs it does not write; output files that are links or the run's own input are
refused before any work; an output too large for Excel is cut to fit, never a failure.

A folder is complete when its manifest (geocheck-run.json) lists exactly the geocheck outputs
in it and every one has the bytes and SHA-256 the manifest records.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, SAMPLE, SHEET

import geocheck.cli
from geocheck.cli import main
from geocheck.outdir import MANIFEST, OUTPUT_NAMES, STAGING_PREFIX, recover
from geocheck.rules.result import FINDINGS_COLUMNS
from geocheck.views import excel

CITY_ESTATES = 200
"""Estates of the synthetic city: a run of it takes some 5 to 15 s."""
FAST = ("--report-maps", "5")
SEEDS = (3, 7, 11)


def geocheck_check(*args: str, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geocheck", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, preexec_fn=preexec)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def complete(out: Path, users: tuple[str, ...] = ()) -> dict:
    """Assert ``out`` holds one run's complete outputs (and the user's files ``users``), no
    other file but hidden staging folders; return its manifest."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    listed = {f["name"]: f for f in manifest["files"]}
    present = {p.name for p in out.iterdir() if p.name in OUTPUT_NAMES}
    assert present == set(listed), "a mix of two runs' outputs"
    for name, f in listed.items():
        assert (out / name).stat().st_size == f["bytes"], f"{name} cut short"
        assert sha256(out / name) == f["sha256"], f"{name} differs from the manifest"
    others = {p.name for p in out.iterdir()} - present - {MANIFEST, *users}
    assert all(n.startswith(STAGING_PREFIX) for n in others), others
    return manifest


def snapshot(out: Path) -> dict[str, bytes | None]:
    """Every entry of ``out``: a file's bytes, None for a folder."""
    return {p.name: None if p.is_dir() else p.read_bytes() for p in out.iterdir()}


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("city") / "city.gpkg"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_city.py"), "--estates",
                    str(CITY_ESTATES), "-o", str(path), "-q"], check=True)
    return path


@pytest.fixture(scope="session")
def first_run(city, tmp_path_factory) -> tuple[Path, float]:
    """The city checked against the Guangxi pack, every output: the folder and the run's
    duration in seconds."""
    out = tmp_path_factory.mktemp("first") / "out"
    start = time.monotonic()
    proc = geocheck_check(str(city), "-o", str(out), "-q", *FAST)
    assert proc.returncode == 1, proc.stderr
    return out, time.monotonic() - start


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_leaves_the_previous_run_or_its_own_complete(
        sig, city, first_run, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(first_run[0], out)
    before = complete(out)
    assert before["pack"] == "guangxi" and "scorecard.csv" in {f["name"] for f in before["files"]}
    duration = first_run[1]
    outcomes = []
    for seed in SEEDS:  # the Nanhai pack writes no scorecard or summary: a mix would show
        previous = (out / MANIFEST).read_bytes()
        proc = subprocess.Popen([sys.executable, "-m", "geocheck", "check", str(city), "-o",
                                 str(out), "-q", "--pack", "nanhai", *FAST], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if seed == SEEDS[0]:  # once, while it writes: the signal surely comes mid-run
            _wait_for_staging(out, proc, timeout=10 * duration)
        else:
            time.sleep(random.Random(seed).uniform(0.5, duration))
        proc.send_signal(sig)
        code = proc.wait()
        assert code in (-sig, 1), code  # killed, or done before the signal came
        if not (out / MANIFEST).exists():  # SIGKILL inside the commit's milliseconds
            assert sig == signal.SIGKILL
            staged = [p for p in out.iterdir() if (p / MANIFEST).is_file()]
            assert len(staged) == 1
            recover(out)
        after = complete(out)
        if (out / MANIFEST).read_bytes() == previous:
            outcomes.append("previous")
        else:
            assert after["pack"] == "nanhai"
            assert "scorecard.csv" not in {f["name"] for f in after["files"]}
            outcomes.append("new")
    print(sig.name, outcomes)
    assert "previous" in outcomes  # some signal came mid-run
    proc = geocheck_check(str(city), "-o", str(out), "-q", "--pack", "nanhai", "--format", "csv")
    assert proc.returncode == 1, proc.stderr
    assert complete(out)["pack"] == "nanhai"
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", MANIFEST, "rejects.csv"]


def _wait_for_staging(out: Path, proc: subprocess.Popen, *, timeout: float) -> None:
    """Wait until the run ``proc`` writing into ``out`` has made its staging folder."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir()):
            return
        time.sleep(0.005)


def _file_size_limit(limit: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit get EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


@pytest.mark.parametrize(("fmt", "name"), [("gpkg", "results.gpkg"), ("csv", "findings.csv"),
                                           ("xlsx", "findings.xlsx"), ("map", "map.html")])
def test_a_full_disk_is_exit_2_with_the_reason_and_the_previous_run_intact(
        fmt, name, tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "--pack", "nanhai", "-o", str(out), "-q", "--format",
                 "csv,map"]) == 1
    before = snapshot(out)
    # the sample's results.gpkg is about 1 MB, findings.csv 0.7 MB, findings.xlsx 0.12 MB,
    # map.html 0.14 MB: none fits in 60 kB
    proc = geocheck_check(str(SAMPLE), "-o", str(out), "-q", "--format", fmt,
                          preexec=_file_size_limit(60_000))
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err and "internal error" not in err
    assert err.startswith("geocheck: error: ")
    assert f"while writing {name}" in err
    assert "disk full" in err or "file too large" in err
    assert snapshot(out) == before  # nothing renamed into place, no staging folder left
    complete(out)


def test_a_second_run_removes_the_first_runs_outputs_it_does_not_write(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out), "-q",
                 "--format", "csv,xlsx"]) == 1
    (out / "my notes.txt").write_text("mine", encoding="utf-8")
    (out / "findings-2023.csv").write_text("mine too", encoding="utf-8")
    assert {"scorecard.csv", "summary.csv", "progress.csv", "findings.xlsx"} <= {
        p.name for p in out.iterdir()}
    capsys.readouterr()
    assert main(["check", str(SAMPLE), "--pack", "nanhai", "-o", str(out), "--format",
                 "csv"]) == 1
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "findings-2023.csv", "findings.csv", MANIFEST, "my notes.txt", "rejects.csv"]
    assert complete(out, ("my notes.txt", "findings-2023.csv"))["pack"] == "nanhai"
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "mine"
    removed = text.split("removed (stale outputs of the previous run in this folder):\n")[1]
    assert [x.strip() for x in removed.splitlines()[:4]] == [
        "scorecard.csv", "summary.csv", "progress.csv", "findings.xlsx"]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the check gets as far as reading the input."""
    def refuse(*_a, **_k):
        raise AssertionError("the run started its work")
    monkeypatch.setattr(geocheck.cli, "check", refuse)


@pytest.mark.parametrize("target", ["file", "staging"])
def test_links_in_the_output_folder_are_refused_before_any_work(
        target, tmp_path, capsys, no_work) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.csv").write_text("keep me", encoding="utf-8")
    link = out / ("findings.csv" if target == "file" else f"{STAGING_PREFIX}1-x")
    link.symlink_to(elsewhere / "precious.csv" if target == "file" else elsewhere)
    assert main(["check", str(SAMPLE), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"geocheck: error: {link} is a symbolic link (to {os.readlink(link)}); "
                   "geocheck does not write through links: remove it or choose another output "
                   "folder\n")
    assert (elsewhere / "precious.csv").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.csv"]
    assert [p.name for p in out.iterdir()] == [link.name]


@pytest.mark.parametrize("how", ["input", "alias", "attributes", "project"])
def test_an_output_that_is_the_runs_own_input_is_refused_before_any_work(
        how, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "-o", str(out), "-q", "--format", "csv,gpkg"]) == 1
    before = snapshot(out)
    capsys.readouterr()
    monkeypatch.setattr(geocheck.cli, "check", lambda *a, **k: pytest.fail("work started"))
    (tmp_path / "alias").symlink_to(out)
    args = {"input": [str(out / "results.gpkg")],
            "alias": [str(tmp_path / "alias" / "results.gpkg")],
            "attributes": [str(SAMPLE), "--attributes", str(out / "summary.csv")],
            "project": [str(tmp_path / "project.toml")]}[how]
    (tmp_path / "project.toml").write_text('[layers.estates]\npath = "out/results.gpkg"\n',
                                           encoding="utf-8")
    assert main(["check", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    name = "summary.csv" if how == "attributes" else "results.gpkg"
    assert err.startswith(f"geocheck: error: {out / name} is an input of this run")
    assert f"writing the outputs to {out} would overwrite its own input" in err
    assert err.count("\n") == 1
    assert snapshot(out) == before


def test_a_city_too_large_for_excel_is_written_cut_to_fit(tmp_path, capsys, monkeypatch) -> None:
    # at most 100 rows a sheet: the sample's 1,176 findings and 780 standards do not fit
    monkeypatch.setattr(excel, "MAX_ROWS", 100)
    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(out),
                 "--format", "csv,xlsx"]) == 1
    text = capsys.readouterr().out
    notes = text.split("output notes:\n")[1].splitlines()
    assert notes[0].strip().startswith("标准 scorecard: 780 rows x 10 columns do not fit")
    # the findings sheet is the findings table: one column each (walk_m included)
    assert notes[1].strip().startswith(
        f"结果 findings: 1,176 rows x {len(FINDINGS_COLUMNS)} columns do not fit")
    assert "findings.csv has them all" in notes[1]
    manifest = complete(out)
    assert [n.split(":")[0] for n in manifest["notes"]] == ["标准 scorecard", "结果 findings"]
    assert len((out / "findings.csv").read_text(encoding="utf-8-sig").splitlines()) == 1177
