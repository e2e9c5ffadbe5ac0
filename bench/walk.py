"""Time geocheck's walking engine against the lean scipy script on the synthetic city.

Usage::

    python bench/walk.py --estates 3000 [--seed 42] [--repeat 3] [--limit 1200]
                         [--sizes 750,1500,3000] [--only lean] [--keep DIR] [--whole]

Steps:

1. Generate the city (with its ``paths`` layer) into ``bench/_cache/``, as ``run.py`` does.
2. Run, as subprocesses from the repository root, ``--repeat`` times, interleaved:

   - ``lean``:     ``python bench/lean_walk.py CITY -o OUT/lean_walk.csv --stats``
   - ``geocheck``: ``python bench/walk.py --engine CITY -o OUT/geocheck_walk.csv``: reads the
     same layers the same way, then ``geocheck.rules.network.build_network(paths)`` and
     ``walk_to_nearest(network, origins, groups, n_estates, bus_stops, limit_m=LIMIT)`` with
     each estate's entrances as its origins, or its outline when it has none.

   Both walk from every estate to its nearest bus stop and write ``estate_id, walk_m,
   stop_id``; both print one JSON line with the network's nodes and edges and the seconds
   spent building it and searching. geocheck runs only when ``geocheck.rules.network``
   provides both functions (the harness works unchanged the moment it does).
3. Print per tool: nodes, edges, the median over the runs of the wall-clock seconds (start-up,
   imports and reading included) and of the network seconds (build + search), and the peak
   resident set (``ru_maxrss`` of the child, from ``os.wait4``); the ratios geocheck / lean
   against the target (network time <= 2x); and whether the two agree per estate to the
   millimetre (both blank, or |difference| < 0.001 m).
4. Unless ``--sizes ''``: one run of each tool on cities of each size in ``--sizes``, and a
   table of peak memory against network size, with the memory per 1,000 nodes above the
   smallest city's, which stays about constant when memory grows linearly.

5. With ``--whole``: the whole command line, ``python -m geocheck check CITY --pack
   lean-rules --format csv,gpkg,map`` (the five rules of ``run.py``), ``--repeat`` times,
   interleaved, three ways: ``straight`` on the city without its paths layer (the
   straight-line run as it was before walking: no ``walk_m``), ``radius`` on the city with
   its paths (``walk_m`` filled, verdicts as the crow flies) and ``walk`` (``--distance
   walk``). The median wall-clock seconds and peak memory of each, and the ratios walk /
   straight (the target: <= 2x) and walk / radius.

Exit status: 0 when every run succeeded, the tools agree and the target is met (or only lean
ran), 1 when they disagree or the target is missed, 2 when a command failed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / "_cache"
LIMIT_M = 1200.0
TARGET_RATIO = 2.0
AGREE_M = 1e-3


@dataclass
class Runs:
    """One tool's runs on one city."""

    name: str
    wall: list[float] = field(default_factory=list)
    network: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    nodes: int = 0
    edges: int = 0
    error: str | None = None

    def median(self, what: str) -> float:
        values = getattr(self, what)
        return statistics.median(values) if values else float("nan")


def engine_missing() -> str | None:
    """None when geocheck's walking engine can be imported from the repo root, else why not."""
    probe = ("import sys; from geocheck.rules import network as n; "
             "sys.exit(not (hasattr(n, 'build_network') and hasattr(n, 'walk_to_nearest')))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True)
    if proc.returncode == 0:
        return None
    last = proc.stderr.strip().splitlines()[-1:] or ["build_network / walk_to_nearest missing"]
    return f"geocheck.rules.network not available ({last[0]})"


def commands(city: Path, out: Path, limit: float, tools: list[str]) -> dict[str, list[str]]:
    """The command line of each tool, writing ``OUT/<tool>_walk.csv``."""
    cmds = {
        "lean": [sys.executable, str(BENCH / "lean_walk.py"), str(city), "--stats"],
        "geocheck": [sys.executable, str(BENCH / "walk.py"), "--engine", str(city)],
    }
    return {t: [*cmds[t], "-o", str(out / f"{t}_walk.csv"), "--limit", str(limit)]
            for t in tools}


def time_tools(cmds: dict[str, list[str]], repeat: int, out: Path) -> dict[str, Runs]:
    """Run every tool ``repeat`` times, interleaved; collect times, sizes and peak memory."""
    from run import run_once

    runs = {name: Runs(name) for name in cmds}
    for i in range(repeat):
        for name, cmd in cmds.items():
            r = runs[name]
            if r.error:
                continue
            log = out / f"{name}_logs"
            log.mkdir(parents=True, exist_ok=True)
            seconds, peak, code, stderr = run_once(cmd, log)
            if code != 0:
                r.error = f"exit code {code}\n{stderr.strip()}"
                continue
            stats = json.loads((log / "stdout.txt").read_text().strip().splitlines()[-1])
            r.wall.append(seconds)
            r.network.append(stats["build_s"] + stats["walk_s"])
            r.peak_mb = max(r.peak_mb, peak)
            r.nodes, r.edges = stats["nodes"], stats["edges"]
            print(f"  {name} run {i + 1}/{repeat}: {seconds:.2f} s wall, "
                  f"{r.network[-1]:.2f} s network, {peak:.0f} MB")
    return runs


def agreement(a: Path, b: Path) -> tuple[int, int, float]:
    """(estates compared, estates differing, largest difference in metres) of two walk CSVs."""
    import numpy as np
    import pandas as pd

    x = pd.read_csv(a, dtype={"estate_id": str}).set_index("estate_id")["walk_m"]
    y = pd.read_csv(b, dtype={"estate_id": str}).set_index("estate_id")["walk_m"]
    x, y = x.align(y)
    both_blank = x.isna() & y.isna()
    diff = (x - y).abs()
    bad = ~both_blank & ~(diff < AGREE_M)
    return len(x), int(bad.sum()), float(np.nanmax(diff.to_numpy(), initial=0.0))


def memory_table(sizes: list[int], seed: int, limit: float, tools: list[str],
                 cache: Path, out: Path) -> None:
    """Peak memory of one run of each tool on cities of each size."""
    from run import ensure_city

    rows = []
    for n in sizes:
        city = ensure_city(n, seed, cache)
        d = out / f"size_{n}"
        d.mkdir(parents=True, exist_ok=True)
        runs = time_tools(commands(city, d, limit, tools), 1, d)
        rows += [(n, r) for r in runs.values()]
    print(f"\n{'tool':<9} {'estates':>7} {'nodes':>9} {'edges':>9} {'peak MB':>8} "
          f"{'MB / 1k nodes above the smallest':>33}")
    base: dict[str, Runs] = {}
    for n, r in rows:
        if r.error:
            print(f"{r.name:<9} {n:>7} ERROR: {r.error.splitlines()[0]}")
            continue
        b = base.setdefault(r.name, r)
        slope = ((r.peak_mb - b.peak_mb) / (r.nodes - b.nodes) * 1000
                 if r.nodes > b.nodes else float("nan"))
        print(f"{r.name:<9} {n:>7} {r.nodes:>9,} {r.edges:>9,} {r.peak_mb:>8.0f} {slope:>33.3f}")


def report(runs: dict[str, Runs], agree: tuple[int, int, float] | None, target: float) -> int:
    """Print the timing table, the ratios and the agreement; return the exit status."""
    print(f"\n{'tool':<9} {'nodes':>9} {'edges':>9} {'wall s':>7} {'network s':>9} "
          f"{'peak MB':>8}  runs (wall s)")
    for r in runs.values():
        walls = " ".join(f"{s:.2f}" for s in r.wall) or "-"
        print(f"{r.name:<9} {r.nodes:>9,} {r.edges:>9,} {r.median('wall'):>7.2f} "
              f"{r.median('network'):>9.2f} {r.peak_mb:>8.0f}  {walls}")
    failed = [r for r in runs.values() if r.error]
    for r in failed:
        print(f"\nERROR: {r.name}: {r.error}", file=sys.stderr)
    if failed:
        return 2
    if "geocheck" not in runs:
        print(f"\ntarget: geocheck / lean network time <= {target:g}x (not measured)")
        return 0
    lean, gc = runs["lean"], runs["geocheck"]
    ratio = gc.median("network") / lean.median("network")
    print(f"\nratio geocheck / lean: network time {ratio:.2f}x, wall "
          f"{gc.median('wall') / lean.median('wall'):.2f}x, peak memory "
          f"{gc.peak_mb / lean.peak_mb:.2f}x")
    print(f"target: network time <= {target:g}x -> {'met' if ratio <= target else 'MISSED'}")
    status = 0 if ratio <= target else 1
    if agree is not None:
        n, bad, worst = agree
        print(f"agreement: {n - bad:,} of {n:,} estates within {AGREE_M * 1000:g} mm "
              f"(largest difference {worst:.4f} m)")
        status = max(status, int(bad > 0))
    return status


def without_paths(city: Path) -> Path:
    """The city's GeoPackage without its paths layer, cached beside it."""
    import pyogrio

    out = city.with_name(f"{city.stem}_nopaths.gpkg")
    if out.exists():
        return out
    tmp = out.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, _ in pyogrio.list_layers(city):
        if name != "paths":
            pyogrio.write_dataframe(pyogrio.read_dataframe(city, layer=name), tmp, layer=name)
    tmp.rename(out)
    return out


def whole_runs(city: Path, out: Path, repeat: int, target: float,
               check_args: list[str] | None = None) -> int:
    """Time ``geocheck check`` straight (no paths), radius (paths) and walk, each with
    ``check_args`` added; print the ratios."""
    from run import FORMATS, lean_pack, run_once

    pack = lean_pack(out)
    plain_city = without_paths(city)
    ways = {"straight": (plain_city, []), "radius": (city, []),
            "walk": (city, ["--distance", "walk"])}
    runs = {name: Runs(name) for name in ways}
    for i in range(repeat):
        for name, (src, extra) in ways.items():
            r = runs[name]
            if r.error:
                continue
            log = out / f"whole_{name}_logs"
            log.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "geocheck", "check", str(src), "--pack", str(pack),
                   "--format", FORMATS, "-o", str(out / f"whole_{name}"), "-q", *extra,
                   *(check_args or [])]
            seconds, peak, code, stderr = run_once(cmd, log)
            if code not in (0, 1):
                r.error = f"exit code {code}\n{stderr.strip()}"
                continue
            r.wall.append(seconds)
            r.peak_mb = max(r.peak_mb, peak)
            print(f"  check {name} run {i + 1}/{repeat}: {seconds:.2f} s wall, {peak:.0f} MB")
    print(f"\n{'check':<9} {'wall s':>7} {'peak MB':>8}  runs (wall s)")
    for r in runs.values():
        walls = " ".join(f"{s:.2f}" for s in r.wall) or "-"
        print(f"{r.name:<9} {r.median('wall'):>7.2f} {r.peak_mb:>8.0f}  {walls}")
    failed = [r for r in runs.values() if r.error]
    for r in failed:
        print(f"\nERROR: check {r.name}: {r.error}", file=sys.stderr)
    if failed:
        return 2
    walk, straight, radius = (runs[k].median("wall") for k in ("walk", "straight", "radius"))
    ratio = walk / straight
    print(f"\nratio walk / straight: {ratio:.2f}x (target <= {target:g}x -> "
          f"{'met' if ratio <= target else 'MISSED'}); walk / radius: {walk / radius:.2f}x; "
          f"peak memory walk / straight {runs['walk'].peak_mb / runs['straight'].peak_mb:.2f}x")
    return 0 if ratio <= target else 1


def engine_main(argv: list[str]) -> int:
    """``--engine`` mode: the walk by geocheck's engine, writing what lean_walk.py writes."""
    import numpy as np
    from lean_walk import read_city, write_walks

    ap = argparse.ArgumentParser(prog="walk.py --engine")
    ap.add_argument("city", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--limit", type=float, default=LIMIT_M)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))  # this checkout's geocheck, not an installed one
    from geocheck.rules.network import build_network, walk_to_nearest

    city = read_city(args.city)
    t0 = time.perf_counter()
    network = build_network(city.lines)
    t1 = time.perf_counter()
    no_ent = np.ones(len(city.estates), dtype=bool)
    no_ent[city.entrance_estate] = False
    origins = np.concatenate([city.entrances, city.estates[no_ent]])
    groups = np.concatenate([city.entrance_estate, np.flatnonzero(no_ent)])
    walks = walk_to_nearest(network, origins, groups, len(city.estates), city.stops,
                            limit_m=args.limit)
    t2 = time.perf_counter()
    found = write_walks(city, np.asarray(walks.distance_m, float), np.asarray(walks.facility),
                        args.output)
    print(json.dumps({"nodes": int(network.n_nodes), "edges": int(network.n_edges),
                      "build_s": t1 - t0, "walk_s": t2 - t1, "reached": int(found.sum())}))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--engine"]:
        return engine_main(argv[1:])
    from run import ensure_city

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estates", type=int, default=3000, help="estates in the city (3000)")
    ap.add_argument("--seed", type=int, default=42, help="city RNG seed (default 42)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool (median; default 3)")
    ap.add_argument("--limit", type=float, default=LIMIT_M, help=f"metres ({LIMIT_M:g})")
    ap.add_argument("--sizes", default="750,1500,3000",
                    help="city sizes of the memory table ('' for none; default 750,1500,3000)")
    ap.add_argument("--only", choices=["lean", "geocheck"], help="run one tool only")
    ap.add_argument("--keep", type=Path, help="keep outputs and logs in this directory")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"city cache (default {CACHE})")
    ap.add_argument("--target", type=float, default=TARGET_RATIO, help="max time ratio (2)")
    ap.add_argument("--whole", action="store_true",
                    help="also time the whole `geocheck check`: straight, radius and walk")
    ap.add_argument("--check-args", default="",
                    help="more arguments of the whole runs, e.g. '--proposals 0'")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    tools = ["lean", "geocheck"] if args.only is None else [args.only]
    missing = engine_missing() if "geocheck" in tools else None
    if missing:
        print(f"geocheck: {missing}; timing lean only")
        tools.remove("geocheck")
    if not tools:
        print(f"ERROR: {missing}", file=sys.stderr)
        return 2
    city = ensure_city(args.estates, args.seed, args.cache)
    with tempfile.TemporaryDirectory(prefix="geocheck-walk-") as tmp:
        out = args.keep.resolve() if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        runs = time_tools(commands(city, out, args.limit, tools), args.repeat, out)
        agree = None
        if len(tools) == 2 and not any(r.error for r in runs.values()):
            agree = agreement(out / "lean_walk.csv", out / "geocheck_walk.csv")
        status = report(runs, agree, args.target)
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if sizes and status != 2:
            memory_table(sizes, args.seed, args.limit, tools, args.cache, out)
        if args.whole:
            status = max(status, whole_runs(city, out, args.repeat, args.target,
                                            shlex.split(args.check_args)))
        if args.keep:
            print(f"outputs kept in {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
