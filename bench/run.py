"""Time geocheck's full check against the lean baseline script on a synthetic city.

Usage::

    python bench/run.py --estates 3000 [--seed 42] [--repeat 3] [--keep DIR] [--only lean]

Steps:

1. Generate the city with ``bench/make_city.py`` into ``bench/_cache/`` (gitignored). The
   file is cached by ``--estates``, ``--seed`` and a hash of ``make_city.py``.
2. Run, as subprocesses, each ``--repeat`` times, interleaved (lean, geocheck, lean, ...):

   - ``lean``:     ``python bench/lean.py CITY -o OUT/lean.csv``
   - ``geocheck``: ``python -m geocheck check CITY --pack PACK --format FORMATS -o
     OUT/geocheck``, where PACK is by default ``lean-rules``: the Guangxi pack (``extends =
     "guangxi"``) keeping only the five rules the lean script measures, so both do the same
     work. ``--pack guangxi`` times the whole standard (98 rules, 92 of them no data without an
     attributes sheet). FORMATS is by default ``csv,gpkg,map`` (the tables, the GeoPackage and
     the interactive map); ``--format all`` adds findings.xlsx, map.png and report.html with
     its estate maps, which a lean script does not draw at all.

   recording wall-clock seconds and the peak resident set size (``ru_maxrss`` of the child,
   from ``os.wait4``). geocheck exits 0 (all pass) or 1 (some fail) on success; anything
   else is an error, and its stderr is printed.
3. Print a table (best seconds, every run, peak MB) and the ratio geocheck / lean against
   the target: a whole check takes at most 3x the lean script's time.

Exit status: 0 when every run succeeded and the target is met (or only one tool ran),
1 when the target is missed, 2 when a command failed. Outputs go to a temporary directory
unless ``--keep DIR`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / "_cache"
TARGET_RATIO = 3.0


@dataclass
class Result:
    """Timings of one tool over its repeats."""

    name: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    exit_codes: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def best(self) -> float:
        """Best (lowest) wall-clock time in seconds."""
        return min(self.seconds) if self.seconds else float("nan")


def city_path(estates: int, seed: int, cache: Path) -> Path:
    """Cache path for a city: keyed by the arguments and the generator's source files."""
    source = b"".join((BENCH / f).read_bytes() for f in ("make_city.py", "city_paths.py"))
    digest = hashlib.sha256(source).hexdigest()[:10]
    return cache / f"city_e{estates}_s{seed}_{digest}.gpkg"


def ensure_city(estates: int, seed: int, cache: Path, paths: bool = True) -> Path:
    """Generate the city unless it is cached; returns its path. ``paths=False``: the same city
    without its paths layer (``..._nopaths.gpkg``), so that geocheck measures straight lines
    only, as the lean script does."""
    path = city_path(estates, seed, cache)
    bare = path.with_name(path.stem + "_nopaths.gpkg")
    if not paths and bare.exists():
        print(f"city without paths: {bare} (cached)")
        return bare
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.gpkg")
        cmd = [sys.executable, str(BENCH / "make_city.py"), "--estates", str(estates)]
        cmd += ["--seed", str(seed), "-o", str(tmp), "-q"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        tmp.replace(path)
        print(f"city: {path} (generated in {time.perf_counter() - t0:.1f} s)")
    else:
        print(f"city: {path} (cached)")
    if paths:
        return path
    if not bare.exists():
        tmp = bare.with_suffix(".tmp.gpkg")
        tmp.unlink(missing_ok=True)
        for name, _ in pyogrio.list_layers(path):
            if name != "paths":
                df = pyogrio.read_dataframe(path, layer=str(name))
                pyogrio.write_dataframe(df, tmp, layer=str(name), driver="GPKG")
        tmp.replace(bare)
    print(f"city without paths: {bare}")
    return bare


FORMATS = "csv,gpkg,map"
"""geocheck's outputs timed by default: the tables, results.gpkg and map.html."""


def layer_counts(path: Path) -> dict[str, int]:
    """Feature count of every layer of a GeoPackage."""
    return {
        str(name): int(pyogrio.read_info(path, layer=str(name))["features"])
        for name, _ in pyogrio.list_layers(path)
    }


def run_once(cmd: list[str], log_dir: Path) -> tuple[float, float, int, str]:
    """Run ``cmd`` from the repository root; return (seconds, peak MB, exit code, stderr)."""
    seconds, _, peak, code, stderr = run_timed(cmd, log_dir)
    return seconds, peak, code, stderr


def run_timed(cmd: list[str], log_dir: Path) -> tuple[float, float, float, int, str]:
    """Run ``cmd`` from the repository root; return (wall seconds, CPU seconds (user + system,
    of the process and the child processes it waited for), peak MB of the largest of them,
    exit code, stderr)."""
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    # Linux reports ru_maxrss in KiB.
    return seconds, cpu, usage.ru_maxrss / 1024, code, err_path.read_text(errors="replace")


@dataclass
class Tool:
    """A command to time, the output it must write, and the exit codes that mean success."""

    name: str
    cmd: list[str]
    output: Path
    ok_codes: set[int]


def bench(tools: list[Tool], repeat: int) -> list[Result]:
    """Run the tools ``repeat`` times, interleaved (lean, geocheck, lean, ...), so that a change
    in the machine's load touches both alike; each output is cleared before its run."""
    results = {t.name: Result(t.name) for t in tools}
    for i in range(repeat):
        for tool in tools:
            res = results[tool.name]
            if res.error:
                continue
            log_dir = tool.output.parent / f"{tool.name}_logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            if tool.output.is_dir():
                shutil.rmtree(tool.output)
            tool.output.unlink(missing_ok=True)
            seconds, cpu, peak, code, stderr = run_timed(tool.cmd, log_dir)
            res.exit_codes.append(code)
            if code not in tool.ok_codes:
                res.error = f"exit code {code}\n{stderr.strip()}"
            elif not tool.output.exists():
                res.error = f"exit code {code} but no output at {tool.output}\n{stderr.strip()}"
            if res.error:
                continue
            res.seconds.append(seconds)
            res.cpu.append(cpu)
            res.peak_mb = max(res.peak_mb, peak)
            print(f"  {tool.name} run {i + 1}/{repeat}: {seconds:.2f} s ({cpu:.2f} s CPU), "
                  f"{peak:.0f} MB, exit {code}")
    return list(results.values())


def compile_package() -> None:
    """Write geocheck's bytecode (``__pycache__``, gitignored) before anything is timed, as an
    installed package has it: pip compiles modules at install, and Python on their first
    import, unless PYTHONDONTWRITEBYTECODE is set (as in some containers), when each run
    would compile geocheck's 150 modules again (0.15-0.2 s a run on the bench machine) while
    the lean script, one file, compiles in no time."""
    import compileall

    compileall.compile_dir(REPO / "geocheck", quiet=1)


def geocheck_importable() -> str | None:
    """None when ``python -m geocheck`` can start from the repo root, else the reason."""
    probe = (
        "import importlib.util, sys; "
        "sys.exit(importlib.util.find_spec('geocheck.__main__') is None)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    if proc.returncode == 0:
        return None
    return f"geocheck is not runnable as `python -m geocheck` from {REPO}\n{proc.stderr.strip()}"


def compare_verdicts(lean_csv: Path, findings_csv: Path) -> None:
    """Print how many estate x rule verdicts lean and geocheck share (two independent codes)."""
    import pandas as pd

    lean = pd.read_csv(lean_csv, dtype={"estate_id": str})
    gc = pd.read_csv(findings_csv, encoding="utf-8-sig", dtype={"estate_id": str})
    both = lean.merge(gc, on=["estate_id", "rule_id"], suffixes=("_lean", "_gc"))
    same = int((both["status_lean"] == both["status_gc"]).sum())
    print(f"\nverdicts: lean {len(lean):,}, geocheck {len(gc):,}, matched {len(both):,}, "
          f"same status {same:,}")
    for row in both[both["status_lean"] != both["status_gc"]].head(10).itertuples():
        print(f"  differs: {row.estate_id} {row.rule_id}: lean {row.status_lean}, "
              f"geocheck {row.status_gc}")


def paired_ratios(lean: list[float], geocheck: list[float]) -> np.ndarray:
    """Each geocheck run's seconds over those of the lean run just before it (the runs are
    interleaved): unlike best against best, it holds when the machine's speed drifts, as both
    runs of a pair meet about the same load."""
    n = min(len(lean), len(geocheck))
    return np.asarray(geocheck[:n], dtype=float) / np.asarray(lean[:n], dtype=float)


def report(results: list[Result], target: float) -> int:
    """Print the table and the ratio; return the exit status."""
    print()
    print(f"{'tool':<10} {'best s':>8} {'CPU s':>8} {'peak MB':>8}  runs (s)")
    for r in results:
        runs = " ".join(f"{s:.2f}" for s in r.seconds) or "-"
        cpu = r.cpu[r.seconds.index(r.best)] if r.seconds else float("nan")
        print(f"{r.name:<10} {r.best:>8.2f} {cpu:>8.2f} {r.peak_mb:>8.0f}  {runs}")
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"\nERROR: {r.name}: {r.error}", file=sys.stderr)
    if failed:
        return 2
    by = {r.name: r for r in results}
    if "lean" not in by or "geocheck" not in by:
        print(f"\ntarget: geocheck / lean <= {target:g} (not measured: only {results[0].name} ran)")
        return 0
    ratio = by["geocheck"].best / by["lean"].best
    mem = by["geocheck"].peak_mb / by["lean"].peak_mb
    verdict = "met" if ratio <= target else "MISSED"
    print(f"\nratio geocheck / lean: time {ratio:.2f}x, peak memory {mem:.2f}x")
    pairs = paired_ratios(by["lean"].seconds, by["geocheck"].seconds)
    if len(pairs):
        print(f"run by run (each geocheck run / the lean run just before it): median "
              f"{np.median(pairs):.2f}x ({pairs.min():.2f}x-{pairs.max():.2f}x over "
              f"{len(pairs)} pairs)")
    print(f"target: time ratio <= {target:g}x -> {verdict}")
    return 0 if ratio <= target else 1


LEAN_PACK = "lean-rules"
LEAN_RULES = ("GX-53", "GX-06-garbage-radius", "GX-06-garbage-setback", "GX-06-kindergarten",
              "GX-10-greening")


def lean_pack(folder: Path) -> Path:
    """Write a pack that extends guangxi and removes every rule the lean script lacks."""
    from geocheck import load_pack

    drop = [r.id for r in load_pack("guangxi").rules if r.id not in LEAN_RULES]
    path = folder / "lean-rules.toml"
    path.write_text(f'[pack]\nid = "lean-rules"\nextends = "guangxi"\nremove = {drop!r}\n',
                    encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estates", type=int, default=3000, help="estates in the city (default 3000)")
    ap.add_argument("--seed", type=int, default=42, help="city RNG seed (default 42)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; best is kept (default 3)")
    ap.add_argument("--keep", type=Path, help="keep outputs and logs in this directory")
    ap.add_argument("--only", choices=["lean", "geocheck"], help="run one tool only")
    ap.add_argument("--pack", default=LEAN_PACK,
                    help=f"geocheck rule pack (default {LEAN_PACK}: Guangxi's five lean rules)")
    ap.add_argument("--format", default=FORMATS,
                    help=f"geocheck's outputs (default {FORMATS}; 'all' for every one)")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"city cache (default {CACHE})")
    ap.add_argument("--target", type=float, default=TARGET_RATIO, help="max time ratio (3)")
    ap.add_argument("--paths", action="store_true",
                    help="keep the city's paths layer (geocheck then also fills walk_m)")
    ap.add_argument("--check-args", default="--proposals 0",
                    help="more arguments for geocheck check (default: --proposals 0, since "
                         "the lean script proposes no garbage points)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    compile_package()
    city = ensure_city(args.estates, args.seed, args.cache, paths=args.paths)
    counts = layer_counts(city)
    print(", ".join(f"{k} {v:,}" for k, v in counts.items()))
    n_est, n_bld = counts.get("estates", 0), counts.get("buildings", 0)
    print(f"city has {n_est:,} estates and {n_bld:,} buildings")

    with tempfile.TemporaryDirectory(prefix="geocheck-bench-") as tmp:
        out = args.keep.resolve() if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        tools: list[Tool] = []
        errors: list[Result] = []
        if args.only in (None, "lean"):
            lean_csv = out / "lean.csv"
            cmd = [sys.executable, str(BENCH / "lean.py"), str(city), "-o", str(lean_csv)]
            tools.append(Tool("lean", cmd, lean_csv, {0}))
        if args.only in (None, "geocheck"):
            gc_dir = out / "geocheck"
            reason = geocheck_importable()
            if reason:
                errors.append(Result("geocheck", error=reason))
            else:
                cmd = [sys.executable, "-m", "geocheck", "check", str(city)]
                pack = lean_pack(out) if args.pack == LEAN_PACK else args.pack
                cmd += ["--pack", str(pack), "--format", args.format, "-o", str(gc_dir)]
                cmd += args.check_args.split()
                tools.append(Tool("geocheck", cmd, gc_dir, {0, 1}))
        results = bench(tools, args.repeat) + errors
        if not any(r.error for r in results) and len(tools) == 2:
            compare_verdicts(out / "lean.csv", out / "geocheck" / "findings.csv")
        if args.keep:
            print(f"outputs kept in {out}")
        return report(results, args.target)


if __name__ == "__main__":
    sys.exit(main())
