"""The PostGIS peer: the five lean rules in tuned PostGIS SQL, side by side with geocheck.

Usage::

    python bench/postgis_peer.py --estates 3000 [--repeat 3] [--keep DIR]
    python bench/postgis_peer.py --city CITY.gpkg [--url postgresql://user:pw@host:5432/db]

Steps, on one GeoPackage (``bench/make_city.py``'s city without its paths layer, so that every
tool measures the five rules as the crow flies):

1. **Server**: a throw-away PostgreSQL + PostGIS cluster in a temporary folder, on 127.0.0.1
   only (``bench/pg_server.py``), or the database at ``--url`` (in a schema ``geocheck_peer``
   created and dropped by the run). No PostgreSQL or PostGIS here: the run prints a line saying
   it is skipped, and why, and exits 0.
2. **Load** (timed): ``ogr2ogr`` copies the eight layers the rules read into the schema, then
   the spatial and key indexes are built and ``ANALYZE`` run (``bench/peer_sql.py``).
3. **Query** (timed, data loaded): one SQL statement judges the five rules for every estate,
   to the millimetre as geocheck does, and ``psql`` writes its rows to a CSV (``estate_id,
   rule_id, status, value``).
4. **Side by side**: the lean script (``bench/lean.py``) and ``python -m geocheck check CITY
   --pack lean-rules.toml --format csv`` are timed on the same file (wall clock of a fresh
   process, as ``bench/run.py`` does).
5. **Agreement**: geocheck's findings.csv against the peer's rows, per rule: the share of
   estates with the same status, and how far the values are apart.

Each step runs ``--repeat`` times (the load from an empty schema each time) and the best time
counts. Exit status: 0 when every verdict agrees (or the run is skipped), 1 when some differ,
2 when a command failed.

:func:`peer_bench` does it all for a city path and returns a :class:`PeerResult`, for a scale
benchmark to call.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import peer_sql  # noqa: E402
import pg_server  # noqa: E402
from run import CACHE, compile_package, ensure_city, lean_pack, run_once  # noqa: E402
from walk import without_paths  # noqa: E402

SCHEMA = "geocheck_peer"


@dataclass
class PeerResult:
    """Timings (seconds, every run; the best counts) and agreement of one city."""

    city: Path
    server: str = ""
    ogr2ogr_s: list[float] = field(default_factory=list)
    index_s: list[float] = field(default_factory=list)
    query_s: list[float] = field(default_factory=list)
    lean_s: list[float] = field(default_factory=list)
    geocheck_s: list[float] = field(default_factory=list)
    agreement: pd.DataFrame | None = None
    differences: pd.DataFrame | None = None
    skipped: str | None = None

    @property
    def load_s(self) -> list[float]:
        """Each run's load: ogr2ogr, then the indexes and ANALYZE."""
        return [a + b for a, b in zip(self.ogr2ogr_s, self.index_s, strict=True)]

    def best(self, name: str) -> float:
        """Best (lowest) time of ``name`` (``load_s``, ``query_s`` ...), NaN when not run."""
        runs = getattr(self, name)
        return min(runs) if runs else float("nan")

    @property
    def total(self) -> float:
        """Best load + best query: the PostGIS answer from the file."""
        return self.best("load_s") + self.best("query_s")

    @property
    def agrees(self) -> bool:
        """Whether every estate x rule has the same status in both."""
        return self.agreement is not None and bool(
            (self.agreement["same"] == self.agreement["estates"]).all())


def _load(server: pg_server.Server, city: Path, log: Path) -> tuple[float, float]:
    """Load the rules' layers into :data:`SCHEMA` (emptied first); (ogr2ogr s, index s)."""
    pg_server.run_psql(server, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};")
    cmd = ["ogr2ogr", "-f", "PostgreSQL", f"PG:{server.conninfo()}", str(city),
           *peer_sql.TABLES, "-lco", f"SCHEMA={SCHEMA}", "-lco", "GEOMETRY_NAME=geom",
           "-lco", "FID=fid", "-lco", "SPATIAL_INDEX=NONE", "-lco", "UNLOGGED=ON",
           "-gt", "unlimited", "--config", "PG_USE_COPY", "YES"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=server.env())
    ogr_s = time.perf_counter() - t0
    log.write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"ogr2ogr failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    t0 = time.perf_counter()
    pg_server.run_psql(server, f"SET search_path = {SCHEMA}, public;\n{peer_sql.INDEXES}")
    return ogr_s, time.perf_counter() - t0


def _query(server: pg_server.Server, out_csv: Path, values: bool) -> float:
    """Run the rules' query, writing its rows to ``out_csv``; seconds (psql's whole run)."""
    sql = " ".join(peer_sql.rules_sql(values).split())
    script = f"SET search_path = {SCHEMA}, public;\nCOPY ({sql}) TO STDOUT WITH CSV HEADER;\n"
    cmd = [server.psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.conninfo()]
    with out_csv.open("w", encoding="utf-8") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=script, stdout=out, stderr=subprocess.PIPE, text=True,
                              env=server.env())
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds


def compare(peer_csv: Path, findings_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per rule: estates, same status, agreement %, values compared and their largest
    difference, values only one side gives (``one_side``: the peer's verdicts-only query
    leaves some empty); and every estate x rule whose status differs (or that one side lacks)."""
    peer = pd.read_csv(peer_csv, dtype={"estate_id": str})
    gc = pd.read_csv(findings_csv, encoding="utf-8-sig", dtype={"estate_id": str},
                     usecols=["estate_id", "rule_id", "status", "value"])
    gc = gc[gc["rule_id"].isin(peer["rule_id"].unique())]
    both = peer.merge(gc, on=["estate_id", "rule_id"], how="outer",
                      suffixes=("_peer", "_geocheck"))
    both["same"] = both["status_peer"] == both["status_geocheck"]
    valued = both["value_peer"].notna() & both["value_geocheck"].notna()
    both["diff"] = (both["value_peer"] - both["value_geocheck"]).abs().where(valued)
    both["one_side"] = both["value_peer"].notna() != both["value_geocheck"].notna()
    table = both.groupby("rule_id").agg(estates=("same", "size"), same=("same", "sum"),
                                        values=("diff", "count"), max_diff=("diff", "max"),
                                        one_side=("one_side", "sum"))
    table["agreement_pct"] = 100.0 * table["same"] / table["estates"]
    differ = both.loc[~both["same"], ["estate_id", "rule_id", "status_peer", "value_peer",
                                      "status_geocheck", "value_geocheck"]]
    return table.reset_index(), differ.reset_index(drop=True)


def _time_tool(cmd: list[str], log_dir: Path, ok: set[int]) -> float:
    log_dir.mkdir(parents=True, exist_ok=True)
    seconds, _, code, stderr = run_once(cmd, log_dir)
    if code not in ok:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exit {code}: {stderr.strip()[-2000:]}")
    return seconds


def _server(url: str | None) -> AbstractContextManager[pg_server.Server]:
    return pg_server.given(url) if url else pg_server.throwaway()


def peer_bench(city: Path, *, repeat: int = 1, url: str | None = None, values: bool = True,
               out: Path | None = None, others: bool = True,
               findings: Path | None = None) -> PeerResult:
    """Load ``city`` into PostGIS, judge the five rules there, time it, and compare with
    geocheck on the same file.

    Parameters
    ----------
    city : a GeoPackage with make_city.py's layers (paths, if any, are not read by the peer;
        geocheck reads every layer, so pass a city without paths to time the rules alone).
    repeat : runs of each step; the best time counts.
    url : an existing server's ``postgresql://`` URL; default a throw-away local cluster.
    values : compute every value exactly (True) or search only as far as each verdict needs.
    out : folder for peer.csv, geocheck/ and the logs (default: a temporary one, removed).
    others : also time the lean script and geocheck (geocheck runs once at least, for the
        agreement, unless ``findings`` is given).
    findings : geocheck's findings.csv of this city with the lean pack, from an earlier run:
        compared with instead of running geocheck (which is then not timed either).

    Returns
    -------
    PeerResult
        Timings in seconds, agreement per rule; ``skipped`` says why when no PostgreSQL with
        PostGIS is available (nothing else is then filled).
    """
    res = PeerResult(city)
    if why := pg_server.missing(server=url is None):
        res.skipped = why
        return res
    with tempfile.TemporaryDirectory(prefix="geocheck-peer-") as tmp:
        folder = Path(out) if out else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        peer_csv = folder / "peer.csv"
        with _server(url) as server:
            res.server = server.note
            try:
                for _ in range(repeat):
                    ogr_s, idx_s = _load(server, city, folder / "ogr2ogr.log")
                    res.ogr2ogr_s.append(ogr_s)
                    res.index_s.append(idx_s)
                    res.query_s.append(_query(server, peer_csv, values))
            finally:
                if url:
                    pg_server.run_psql(server, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;",
                                       check=False)
        pack = lean_pack(folder)
        gc_dir = folder / "geocheck"
        gc_cmd = [sys.executable, "-m", "geocheck", "check", str(city), "--pack", str(pack),
                  "--format", "csv", "-q", "-o", str(gc_dir)]
        lean_cmd = [sys.executable, str(BENCH / "lean.py"), str(city), "-o",
                    str(folder / "lean.csv")]
        for _ in range(repeat if others else int(findings is None)):
            if others:
                res.lean_s.append(_time_tool(lean_cmd, folder / "lean_logs", {0}))
            if findings is None:
                res.geocheck_s.append(_time_tool(gc_cmd, folder / "geocheck_logs", {0, 1}))
        if not others:
            res.geocheck_s = []
        res.agreement, res.differences = compare(peer_csv,
                                                 findings or gc_dir / "findings.csv")
        if out:
            res.differences.to_csv(folder / "differences.csv", index=False)
    return res


def _runs(xs: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in xs) or "-"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a == a and b == b else "- (not timed)"  # NaN: not timed


def report(res: PeerResult) -> str:
    """The side-by-side table, the ratios and the agreement, as text."""
    if res.skipped:
        return f"PostGIS peer skipped: {res.skipped}"
    rows = [("PostGIS load (ogr2ogr + indexes, ANALYZE)", res.best("load_s"), res.load_s),
            ("  of which ogr2ogr", res.best("ogr2ogr_s"), res.ogr2ogr_s),
            ("  of which indexes + ANALYZE", res.best("index_s"), res.index_s),
            ("PostGIS query (data loaded)", res.best("query_s"), res.query_s),
            ("PostGIS total (best load + best query)", res.total, []),
            ("lean script (bench/lean.py)", res.best("lean_s"), res.lean_s),
            ("geocheck check, five rules, --format csv", res.best("geocheck_s"),
             res.geocheck_s)]
    lines = [f"server: {res.server}", f"city: {res.city}", "",
             f"{'':<42} {'best s':>7}  runs (s)"]
    lines += [f"{name:<42} {best:>7.2f}  {_runs(runs)}" for name, best, runs in rows]
    gc, lean = res.best("geocheck_s"), res.best("lean_s")
    lines += ["", f"geocheck / PostGIS query: {_ratio(gc, res.best('query_s'))}",
              f"geocheck / PostGIS total: {_ratio(gc, res.total)}",
              f"PostGIS total / lean: {_ratio(res.total, lean)}",
              f"geocheck / lean: {_ratio(gc, lean)}", ""]
    if res.agreement is not None:
        t = res.agreement
        lines.append(f"{'rule':<24} {'estates':>7} {'same':>7} {'agree %':>8} {'values':>7} "
                     f"{'max |diff|':>10} {'one side':>8}")
        lines += [f"{r.rule_id:<24} {r.estates:>7,} {r.same:>7,} {r.agreement_pct:>8.2f} "
                  f"{r.values:>7,} {r.max_diff:>10.6f} {r.one_side:>8,}"
                  for r in t.itertuples()]
        d = res.differences
        lines.append(f"\nverdicts differing: {len(d):,}")
        lines += [f"  {r.estate_id} {r.rule_id}: PostGIS {r.status_peer} ({r.value_peer}), "
                  f"geocheck {r.status_geocheck} ({r.value_geocheck})"
                  for r in d.head(20).itertuples()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estates", type=int, default=3000, help="estates in the city (default 3000)")
    ap.add_argument("--seed", type=int, default=42, help="city RNG seed (default 42)")
    ap.add_argument("--city", type=Path, help="a city GeoPackage instead of --estates/--seed")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each step; best counts (1)")
    ap.add_argument("--keep", type=Path, help="keep peer.csv, geocheck/, differences.csv, logs")
    ap.add_argument("--url", help="use this server (postgresql://user:password@host:port/db) "
                                  "instead of a throw-away local one")
    ap.add_argument("--verdicts-only", action="store_true",
                    help="search only as far as each verdict needs (values partly NULL)")
    ap.add_argument("--peer-only", action="store_true",
                    help="time PostGIS only (geocheck still runs once, for the agreement)")
    ap.add_argument("--findings", type=Path,
                    help="compare with this findings.csv (geocheck, lean pack, same city) "
                         "instead of running geocheck")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"city cache (default {CACHE})")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if why := pg_server.missing(server=args.url is None):
        print(f"PostGIS peer skipped: {why}")
        return 0
    compile_package()
    city = args.city or without_paths(ensure_city(args.estates, args.seed, args.cache))
    try:
        res = peer_bench(city.resolve(), repeat=args.repeat, url=args.url,
                         values=not args.verdicts_only,
                         out=args.keep.resolve() if args.keep else None,
                         others=not args.peer_only, findings=args.findings)
    except RuntimeError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2
    print(report(res))
    if args.keep:
        print(f"\noutputs kept in {args.keep}")
    return 0 if res.agrees or res.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
