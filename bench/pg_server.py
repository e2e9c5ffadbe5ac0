"""A throw-away PostgreSQL + PostGIS server for the PostGIS peer benchmark, or a given one.

:func:`throwaway` runs ``initdb`` and ``pg_ctl`` into a temporary directory (as the
``postgres`` user when run as root: the server refuses to run as root), listening on
127.0.0.1 only, on a free port, with a random password for TCP connections (scram-sha-256),
and removes it all on exit. :func:`given` uses an existing server from a
``postgresql://user:password@host:port/dbname`` URL. Either yields a :class:`Server`, whose
:meth:`Server.env` carries the password to ``psql`` and ``ogr2ogr`` as ``PGPASSWORD`` so that
it never appears on a command line, in a log or in an output.

Binaries are looked up in ``$PG_BIN``, then ``/usr/lib/postgresql/<newest>/bin``, then the
``PATH``; :func:`find_binaries` returns None (and :func:`missing` the reason) when there is
no PostgreSQL or no PostGIS, so that the benchmark can skip with a note.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

SETTINGS = {
    # A throw-away copy of data that is on disk anyway: durability off, as for a bulk load.
    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
    "wal_level": "minimal", "max_wal_senders": "0",
    # Memory for joins, sorts and index builds; two cores: two parallel workers at most.
    "shared_buffers": "512MB", "work_mem": "256MB", "maintenance_work_mem": "1GB",
    "effective_cache_size": "4GB", "random_page_cost": "1.1",
    "max_parallel_workers_per_gather": "2", "max_parallel_maintenance_workers": "2",
    # JIT compilation costs more than it saves on queries of a second or two.
    "jit": "off",
}
"""Server settings of the throw-away cluster (``postgres -c``): the "tuned" in tuned PostGIS."""


@dataclass
class Server:
    """How to reach a PostgreSQL database with PostGIS: libpq keywords and a password."""

    host: str
    port: int
    user: str
    dbname: str
    password: str = field(default="", repr=False)
    bin_dir: Path | None = None
    note: str = ""

    def conninfo(self) -> str:
        """libpq keyword string without the password (see :meth:`env`)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    def env(self) -> dict[str, str]:
        """The environment for a client: ``PGPASSWORD`` set, ``PG*`` variables that could
        point elsewhere removed."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def psql(self) -> str:
        """The ``psql`` to use: the server's own when known, else the one on the PATH."""
        if self.bin_dir and (self.bin_dir / "psql").exists():
            return str(self.bin_dir / "psql")
        return shutil.which("psql") or "psql"


def find_binaries() -> Path | None:
    """The directory with ``initdb``, ``pg_ctl`` and ``psql``, or None."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()),
                          key=lambda p: int(p.name), reverse=True)
        candidates += [v / "bin" for v in versions]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for c in candidates:
        if all((c / b).exists() for b in ("initdb", "pg_ctl", "psql", "postgres")):
            return c
    return None


def has_postgis(bin_dir: Path) -> bool:
    """Whether the server's extension directory holds PostGIS."""
    pg_config = bin_dir / "pg_config"
    if pg_config.exists():
        share = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        if share.returncode == 0:
            return (Path(share.stdout.strip()) / "extension" / "postgis.control").exists()
    version = bin_dir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


def missing(server: bool = True) -> str | None:
    """Why a throw-away server (``server`` False: just the clients, psql and ogr2ogr, for a
    given server) cannot be used here; None when it can."""
    if not server:
        if not (find_binaries() or shutil.which("psql")):
            return "no psql found; set PG_BIN to its folder"
        return None if shutil.which("ogr2ogr") else "no ogr2ogr (Debian: apt-get install gdal-bin)"
    bin_dir = find_binaries()
    if bin_dir is None:
        return "no PostgreSQL binaries (initdb, pg_ctl, psql) found; set PG_BIN to their folder"
    if not has_postgis(bin_dir):
        return f"PostgreSQL in {bin_dir} has no PostGIS extension"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    if not shutil.which("ogr2ogr"):
        return "no ogr2ogr (Debian: apt-get install gdal-bin)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_psql(server: Server, sql: str, *, db: str | None = None, csv: bool = False,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` with psql (stop at the first error); returns the finished process."""
    conninfo = server.conninfo() if db is None else server.conninfo().replace(
        f"dbname={server.dbname}", f"dbname={db}")
    cmd = [server.psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
    if csv:
        cmd += ["--csv"]
    proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, env=server.env())
    if check and proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


@contextmanager
def throwaway(bin_dir: Path | None = None) -> Iterator[Server]:
    """Start a throw-away cluster with PostGIS in database ``peer``; stop and delete it after."""
    bin_dir = bin_dir or find_binaries()
    if bin_dir is None:
        raise RuntimeError(missing() or "no PostgreSQL binaries")
    root = Path(tempfile.mkdtemp(prefix="geocheck-peer-pg-"))
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o700)
    password = secrets.token_urlsafe(24)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if as_root:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    data, log = root / "data", root / "server.log"
    port = _free_port()
    server = Server("127.0.0.1", port, "postgres", "peer", password, bin_dir,
                    note=f"throw-away PostgreSQL ({bin_dir}) on 127.0.0.1:{port}")
    started = False
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
              "-E", "UTF8", "--no-locale", "--auth-local=trust",
              "--auth-host=scram-sha-256", f"--pwfile={pwfile}"], "initdb")
        pwfile.unlink()
        opts = " ".join([f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"]
                        + [f"-c {k}={v}" for k, v in SETTINGS.items()])
        _run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log),
              "-o", opts, "-w", "-t", "60", "start"], "pg_ctl start", log)
        started = True
        run_psql(server, "CREATE DATABASE peer;", db="postgres")
        run_psql(server, "CREATE EXTENSION postgis;")
        yield server
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _run(cmd: list[str], what: str, log: Path | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()}\n{tail}")


def parse_url(url: str) -> Server:
    """A ``postgresql://user:password@host:port/dbname`` URL as a :class:`Server`."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("the URL must start with postgresql://")
    dbname = unquote(parts.path.lstrip("/")) or "postgres"
    return Server(parts.hostname or "127.0.0.1", parts.port or 5432,
                  unquote(parts.username or os.environ.get("USER", "postgres")), dbname,
                  unquote(parts.password or ""), find_binaries(),
                  note=f"given server {parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
                       f"/{dbname}")


@contextmanager
def given(url: str) -> Iterator[Server]:
    """Use an existing server (PostGIS must be installed in the database or installable)."""
    server = parse_url(url)
    run_psql(server, "CREATE EXTENSION IF NOT EXISTS postgis;")
    yield server
