"""Pieces judged on a Dask cluster give the findings of one process, byte for byte.

The test starts a real dask.distributed scheduler and two worker processes on 127.0.0.1 (as an
office would on its machines), the same speaking only TLS, and a local cluster through
``--workers 2``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _cluster(protocol: str = "tcp", tls: Path | None = None) -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes on 127.0.0.1, speaking
    ``protocol`` (with ``tls``: the folder of ca.pem, node.pem and node.key, one certificate for
    all), once both workers have joined; yields the scheduler's address."""
    from distributed import Client
    from distributed.security import Security

    port = _free_port()
    address = f"{protocol}://127.0.0.1:{port}"
    files = [] if tls is None else ["--tls-ca-file", str(tls / "ca.pem"), "--tls-cert",
                                    str(tls / "node.pem"), "--tls-key", str(tls / "node.key")]
    security = None if tls is None else Security(
        tls_ca_file=str(tls / "ca.pem"), tls_client_cert=str(tls / "node.pem"),
        tls_client_key=str(tls / "node.key"), require_encryption=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--protocol",
                               protocol, "--no-dashboard", *files],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                 "1", "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard", *files],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout="60s", security=security) as client:
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


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes on 127.0.0.1."""
    with _cluster() as address:
        yield address


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


@pytest.fixture(scope="module")
def tls_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Dask scheduler and two workers on 127.0.0.1 that speak only TLS, with a throw-away
    authority and one certificate for all (made with the openssl command); yields the address
    and the folder of ca.pem, node.pem and node.key."""
    if shutil.which("openssl") is None:
        message = "openssl not found: apt-get install openssl"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pem = tmp_path_factory.mktemp("pem")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=pem, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "1", "-subj", "/CN=geocheck test authority")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
            "-subj", "/CN=127.0.0.1")
    (pem / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "node.pem", "-days", "1", "-extfile", "san.cnf")
    with _cluster("tls", pem) as address:
        yield address, pem


def test_a_tls_scheduler_gives_the_findings_of_one_process(city: Path, tmp_path: Path,
                                                           tls_scheduler) -> None:
    address, pem = tls_scheduler
    tls = ["--tls-ca-file", str(pem / "ca.pem"), "--tls-cert", str(pem / "node.pem"),
           "--tls-key", str(pem / "node.key")]

    def run(name: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "geocheck", "check", str(city),
                               "--format", "csv", "-o", str(tmp_path / name), *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)

    one = run("one", "--piece", "all", "-q")
    assert one.returncode in (0, 1), one.stderr
    spread = run("tls", "--scheduler", address, "--piece", "6", "-q", *tls)
    assert spread.returncode in (0, 1), spread.stderr
    assert (tmp_path / "tls" / "findings.csv").read_bytes() == \
        (tmp_path / "one" / "findings.csv").read_bytes()
    manifest = (tmp_path / "tls" / "geocheck-run.json").read_text(encoding="utf-8")
    assert '"tls": true' in manifest and str(pem) not in manifest
    # without the files, or with only some of them: a clear error before any work
    plain = run("plain", "--scheduler", address, "-q")
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert f"cannot reach the Dask scheduler at {address}: TLS needs --tls-ca-file" \
        in plain.stderr
    some = run("some", "--scheduler", address, *tls[:4])
    assert some.returncode == 2 and "--tls-key missing" in some.stderr
    tcp = run("tcp", "--workers", "2", *tls)
    assert tcp.returncode == 2 and "are for a --scheduler tls://HOST:PORT" in tcp.stderr
    gone = run("gone", "--scheduler", address, *tls[:5], str(pem / "none.key"))
    assert gone.returncode == 2 and f"--tls-key {pem / 'none.key'}: no such file" in gone.stderr
