"""Province scale: time and peak memory of whole runs on 3,000 / 30,000 / 100,000 estates.

For each city size it runs, as fresh processes from the repository root:

- ``lean``: the lean script (bench/lean.py, five rules), the baseline;
- ``geocheck``: the default command, every Guangxi rule and every output
  (``python -m geocheck check CITY -o OUT``), in one process (judged in pieces of
  ``--piece`` estates, geocheck's default);
- ``geocheck --workers 2``: the same, the pieces judged on a local Dask cluster of two
  worker processes;
- ``postgis``: the PostGIS peer on the same file (bench/postgis_peer.py: ogr2ogr load plus the
  five lean rules in SQL), beside the lean script and geocheck running the same five rules,
  when PostgreSQL with PostGIS is installed; else a note says it was skipped.

Peak memory is the largest sum, sampled every 0.2 s, of the resident memory of the process and
all its descendants (Dask's workers are separate processes), in MB. Cities are generated with
bench/make_city.py without their paths layer (as the issue's first figures were measured) and
cached in ``--cache``.

    python bench/scale.py --sizes 3000,30000 [--repeat 1] [--skip lean,postgis]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

SAMPLE_S = 0.2


def city(estates: int, cache: Path, seed: int = 42) -> Path:
    """The city of ``estates`` estates without paths, generated once into ``cache``."""
    from run import ensure_city

    return ensure_city(estates, seed, cache, paths=False)


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, MB (from /proc)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            pid = int(entry.name)
            parent[pid] = int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    keep, todo = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in keep:
                keep.add(c)
                todo.append(c)
    return sum(rss.get(p, 0) for p in keep) / 1e6


def run(cmd: list[str], log: Path) -> tuple[float, float, int]:
    """Run ``cmd``; return (seconds, peak MB of its process tree, exit code)."""
    with log.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - t0
    return seconds, peak, proc.returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="3000,30000,100000")
    ap.add_argument("--cache", type=Path, default=BENCH / "_cache")
    ap.add_argument("--skip", default="", help="comma-separated: lean, one, workers, postgis")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--check-args", default="", help="more arguments for geocheck check")
    ap.add_argument("--keep", type=Path, help="keep the outputs and logs here (else they are "
                    "removed, each size's outputs once compared)")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    from run import compile_package

    compile_package()
    work = args.keep or Path(tempfile.mkdtemp(prefix="geocheck-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        path = city(n, args.cache)
        print(f"city: {path}", flush=True)
        extra = args.check_args.split()
        tools = {
            "lean": [py, str(BENCH / "lean.py"), str(path), "-o", str(work / f"lean{n}.csv")],
            "one": [py, "-m", "geocheck", "check", str(path), "-q", "-o",
                    str(work / f"one{n}"), *extra],
            "workers": [py, "-m", "geocheck", "check", str(path), "-q", "-o",
                        str(work / f"workers{n}"), "--workers", str(args.workers), *extra],
        }
        for name, cmd in tools.items():
            if name in skip:
                continue
            seconds, peak, code = run(cmd, work / f"{name}{n}.log")
            ok = code in (0, 1)
            rows.append((n, name, seconds, peak, "ok" if ok else f"exit {code}"))
            print(f"{n:>7,} {name:<10} {seconds:8.1f} s {peak:8.0f} MB  "
                  f"{'ok' if ok else f'exit {code}: see ' + str(work / f'{name}{n}.log')}",
                  flush=True)
        if "one" not in skip and "workers" not in skip:
            same = (work / f"one{n}" / "findings.csv").read_bytes() == \
                (work / f"workers{n}" / "findings.csv").read_bytes()
            print(f"{n:>7,} findings.csv one process == --workers {args.workers}: {same}")
        if args.keep is None:  # a size's outputs (17 GB at 100,000 estates) go once compared
            for name in ("one", "workers"):
                shutil.rmtree(work / f"{name}{n}", ignore_errors=True)
            (work / f"lean{n}.csv").unlink(missing_ok=True)
        if "postgis" not in skip:
            from postgis_peer import peer_bench

            peer = peer_bench(path, out=work / f"peer{n}")
            if peer.skipped:
                print(f"{n:>7,} postgis    skipped: {peer.skipped}")
            else:
                agree = "100 %" if peer.agrees else "NOT all"
                for name, secs in (("postgis load", peer.best("load_s")),
                                   ("postgis query", peer.best("query_s")),
                                   ("postgis total", peer.total),
                                   ("lean (5 rules)", peer.best("lean_s")),
                                   ("geocheck 5 rules", peer.best("geocheck_s"))):
                    rows.append((n, name, secs, float("nan"), f"verdicts agree: {agree}"))
                    print(f"{n:>7,} {name:<16} {secs:8.1f} s", flush=True)
    print("\n| estates | run | seconds | peak MB | result |\n|---|---|---|---|---|")
    for n, name, seconds, peak, status in rows:
        mb = "-" if peak != peak else f"{peak:,.0f}"
        print(f"| {n:,} | {name} | {seconds:.1f} | {mb} | {status} |")
    if args.keep is None and all(status != "failed" and not status.startswith("exit")
                                 for *_, status in rows):
        shutil.rmtree(work, ignore_errors=True)  # else its logs are named above
    return 0


if __name__ == "__main__":
    sys.exit(main())
