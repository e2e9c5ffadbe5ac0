"""The command line with PostGIS: ``check postgresql://...`` and ``--to-db``, with the
password kept out of every output file and of stderr, and a failed connection or write
reported in one line (exit 2). Needs a PostGIS server (``pg_server``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from helpers import SAMPLE, SHEET
from pgserver import load_layers

from geocheck.core.database import connect


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geocheck", *args], capture_output=True,
                          text=True, check=False, env=env)


def password_of(url: str) -> str:
    return url.split("://")[1].split("@")[0].split(":")[1]


def with_password(url: str, password: str) -> str:
    head, rest = url.split("://")
    user = rest.split(":")[0]
    return f"{head}://{user}:{password}@{rest.split('@')[1]}"


def file_texts(folder: Path) -> dict[str, bytes]:
    """Every file of the folder as bytes; a zip (findings.xlsx) by its members."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.name] = p.read_bytes()
            if zipfile.is_zipfile(p):
                with zipfile.ZipFile(p) as z:
                    for name in z.namelist():
                        out[f"{p.name}/{name}"] = z.read(name)
    return out


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geocheck: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def loaded(pg_schema: tuple[str, str]) -> tuple[str, str]:
    """The sample's layers loaded into a fresh schema: (server URL, schema)."""
    url, schema = pg_schema
    load_layers(url, schema, {name: pyogrio.read_dataframe(SAMPLE, layer=name)
                              for name, _ in pyogrio.list_layers(SAMPLE)})
    return url, schema


def test_a_database_run_writes_no_password_anywhere(loaded: tuple[str, str],
                                                    tmp_path: Path) -> None:
    """Every output of a run from PostGIS to PostGIS: the findings equal the GeoPackage's
    findings.csv byte for byte, the database rows equal findings.csv, and the password is
    in no file, not in the manifest, not on stdout or stderr."""
    url, schema = loaded
    secret = password_of(url)
    out = tmp_path / "out"
    proc = run("check", f"{url}?schema={schema}", "--attributes", str(SHEET), "-o", str(out),
               "--to-db", f"{url}?schema={schema}_out", "--report-maps", "2")
    assert proc.returncode == 1, proc.stderr
    assert secret not in proc.stdout and secret not in proc.stderr
    assert f"run 'geocheck.{schema}:guangxi' written (geocheck_findings 1,176" in proc.stdout
    texts = file_texts(out)
    assert {"findings.csv", "report.html", "map.html", "findings.xlsx", "results.gpkg",
            "geocheck-run.json"} <= set(texts)
    leaks = [name for name, data in texts.items() if secret.encode() in data]
    assert leaks == []
    manifest = json.loads(texts["geocheck-run.json"])
    redacted = url.replace(f":{secret}@", ":***@")
    assert manifest["options"]["input"] == f"{redacted}?schema={schema}"
    assert manifest["options"]["to_db"] == f"{redacted}?schema={schema}_out"
    assert manifest["options"]["run_id"] == f"geocheck.{schema}:guangxi"
    ref = tmp_path / "ref"
    assert run("check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(ref), "--format",
               "csv", "-q").returncode == 1
    assert (out / "findings.csv").read_bytes() == (ref / "findings.csv").read_bytes()
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", keep_default_na=False)
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT estate_id, rule_id, status, value FROM {schema}_out."
                    "geocheck_findings WHERE run_id = %s", (f"geocheck.{schema}:guangxi",))
        rows = cur.fetchall()
        cur.execute(f"DROP SCHEMA {schema}_out CASCADE")
        conn.commit()
    db = pd.DataFrame(rows, columns=["estate_id", "rule_id", "status", "value"])
    both = csv.merge(db, on=["estate_id", "rule_id"], suffixes=("", "_db"), validate="1:1")
    assert len(both) == len(csv) == 1176
    assert (both["status"] == both["status_db"]).all()
    written = pd.to_numeric(both["value"]).to_numpy()
    stored = both["value_db"].astype(float).to_numpy()
    assert ((written == stored) | (pd.isna(written) & pd.isna(stored))).all()


def test_a_wrong_password_is_one_line_without_the_password(loaded: tuple[str, str],
                                                           tmp_path: Path) -> None:
    url, schema = loaded
    wrong = with_password(url, "not-the-Secret-42")
    for args in (("check", f"{wrong}?schema={schema}"),
                 ("check", str(SAMPLE), "--to-db", wrong)):
        proc = run(*args, "-o", str(tmp_path / "out"))
        line = one_line_error(proc)
        assert "password authentication failed" in line and ":***@" in line
        assert "not-the-Secret-42" not in proc.stderr + proc.stdout
        assert not (tmp_path / "out").exists()  # refused before any work


def test_a_server_that_is_down_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://someone:Hidden-Word-7@127.0.0.1:{port}/db"
    for args in (("check", url), ("check", str(SAMPLE), "--to-db", url)):
        proc = run(*args, "-o", str(tmp_path / "out"))
        line = one_line_error(proc)
        assert f"postgresql://someone:***@127.0.0.1:{port}/db: cannot connect" in line
        assert "Hidden-Word-7" not in proc.stderr + proc.stdout


def test_a_failed_write_leaves_the_previous_run_and_says_so(pg_schema: tuple[str, str],
                                                            tmp_path: Path) -> None:
    """A second write of the same run id breaks a check constraint on the estates table
    (after the findings were already replaced in the transaction): exit 2, one line, and
    the first run's rows are all still there."""
    url, schema = pg_schema
    target = f"{url}?schema={schema}"
    first = run("check", str(SAMPLE), "-o", str(tmp_path / "a"), "--format", "csv",
                "--to-db", target, "--run-id", "weekly", "-q")
    assert first.returncode == 1, first.stderr
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"ALTER TABLE {schema}.geocheck_estates ADD CONSTRAINT only_passes "
                    "CHECK (overall <> 'fail') NOT VALID")
        cur.execute(f"UPDATE {schema}.geocheck_findings SET evidence = 'first run'")
        conn.commit()
    proc = run("check", str(SAMPLE), "--attributes", str(SHEET), "-o", str(tmp_path / "b"),
               "--format", "csv", "--to-db", target, "--run-id", "weekly", "-q")
    line = one_line_error(proc)
    assert "writing run 'weekly' failed, the database keeps its previous results" in line
    assert "only_passes" in line
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT count(*), count(*) FILTER (WHERE evidence = 'first run') FROM "
                    f"{schema}.geocheck_findings WHERE run_id = 'weekly'")
        assert cur.fetchone() == [1176, 1176]


def test_the_password_from_pgpassword_or_a_password_file(loaded: tuple[str, str],
                                                         tmp_path: Path) -> None:
    url, schema = loaded
    secret = password_of(url)
    bare = url.replace(f":{secret}@", "@")
    base = {k: v for k, v in os.environ.items()
            if k not in ("PGPASSWORD", "PGPASSFILE")}
    no_file = {**base, "PGPASSFILE": str(tmp_path / "none")}
    proc = run("check", f"{bare}?schema={schema}", "-o", str(tmp_path / "o1"), "--format",
               "csv", "-q", env=no_file)
    assert "the server asks for a password and none was given" in one_line_error(proc)
    proc = run("check", f"{bare}?schema={schema}", "-o", str(tmp_path / "o2"), "--format",
               "csv", "-q", env={**no_file, "PGPASSWORD": secret})
    assert proc.returncode == 1, proc.stderr
    host, port_db = bare.split("@")[1].split(":")
    port = port_db.split("/")[0]
    user = bare.split("://")[1].split("@")[0]
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"# comment\nelsewhere:*:*:*:wrong\n{host}:{port}:*:{user}:{secret}\n")
    proc = run("check", f"{bare}?schema={schema}", "-o", str(tmp_path / "o3"), "--format",
               "csv", "-q", env={**base, "PGPASSFILE": str(pgpass)})
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "o3" / "findings.csv").read_bytes() == \
        (tmp_path / "o2" / "findings.csv").read_bytes()


def test_the_attributes_template_lists_the_databases_estates(loaded: tuple[str, str],
                                                             tmp_path: Path) -> None:
    url, schema = loaded
    proc = run("template", f"{url}?schema={schema}", "-o", str(tmp_path / "sheet.csv"))
    assert proc.returncode == 0, proc.stderr
    sheet = pd.read_csv(tmp_path / "sheet.csv", encoding="utf-8-sig")
    assert sheet.iloc[:, 0].tolist() == [f"NN-{i:03d}" for i in range(1, 13)]
