"""Pieces judged on a Dask cluster give the findings of one process, byte for byte.

The test starts a real dask.distributed scheduler and two worker processes on 127.0.0.1 (as an
office would on its machines), and a local cluster through ``--workers 2``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT

from geocheck.core.errors import GeocheckError
from geocheck.pipeline import check

sys.path.insert(0, str(ROOT / "bench"))
from make_city import make_city, write_city


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "city.gpkg"
    write_city(make_city(30, 5), path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes on 127.0.0.1."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                 "1", "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_scheduler_and_two_workers_give_the_findings_of_one_process(city: Path,
                                                                      scheduler: str) -> None:
    from distributed import Client

    one = check(city, per_piece=None).findings.to_csv(index=False)
    spread = check(city, per_piece=6, scheduler=scheduler)
    assert spread.findings.to_csv(index=False) == one
    with Client(scheduler) as client:  # both workers judged pieces
        done = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(done) == 2 and all(n > 0 for n in done.values()), done


def test_workers_on_the_command_line_give_the_findings_of_one_process(city: Path,
                                                                     tmp_path: Path) -> None:
    def run(*extra: str) -> bytes:
        out = tmp_path / f"out{len(extra)}"
        proc = subprocess.run([sys.executable, "-m", "geocheck", "check", str(city), "--format",
                               "csv", "-o", str(out), "-q", *extra], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr
        return (out / "findings.csv").read_bytes()

    assert run("--workers", "2", "--piece", "6") == run("--piece", "all")


def test_an_unreachable_scheduler_is_a_clear_error(city: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(GeocheckError, match="cannot reach the Dask scheduler at tcp://127"):
        check(city, scheduler=address)


def test_workers_must_be_a_positive_number(city: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "geocheck", "check", str(city), "--workers",
                           "0", "-o", str(tmp_path / "o")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "not a number of workers" in proc.stderr and "Traceback" not in proc.stderr
