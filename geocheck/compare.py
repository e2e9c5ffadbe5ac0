"""``geocheck diff``: compare two runs, given as output folders or as inputs to run.

An output folder is read only when it is complete: its manifest (``geocheck-run.json``,
written last by :mod:`geocheck.outdir`) must be there and every file it lists must have the
size it records. Its ``findings.csv`` gives the verdicts and ``results.gpkg`` (when the run
wrote one) the estates' outlines for the map. An input (GeoPackage or project file) is run
first, both with the same pack and options. The comparison itself is
:func:`geocheck.rules.diff.diff_findings`: estates matched by ``estate_id`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from .core.errors import InputError
from .core.progress import QUIET, Progress
from .core.terminal import printable
from .outdir import MANIFEST, Staging, input_files, refuse_unsafe, run_manifest
from .pipeline import check
from .rules.diff import CHANGE_ORDER, NEGATIVE, diff_findings, worst_change
from .rules.result import Result
from .views.diff_map import diff_png
from .views.style import find_cjk_font
from .views.tables import write_csv


@dataclass
class Run:
    """One side of a comparison: its findings, estate outlines (None when unknown), pack id
    and where it came from."""

    findings: pd.DataFrame
    estates: gpd.GeoDataFrame | None
    pack: str
    source: Path
    files: list[Path] = field(default_factory=list)


@dataclass
class Diff:
    """A comparison: the diff table (:data:`geocheck.rules.diff.DIFF_COLUMNS`), both runs,
    and notes for the reader (different packs, estates matched by id only ...)."""

    table: pd.DataFrame
    before: Run
    after: Run
    notes: list[str]

    def counts(self) -> dict[str, int]:
        """Rows per kind of change, in :data:`CHANGE_ORDER`, kinds present only."""
        vc = self.table["change"].value_counts()
        return {c: int(vc[c]) for c in CHANGE_ORDER if c in vc}


def read_run(folder: str | Path) -> Run:
    """Read a complete output folder of ``geocheck check`` (or ``review``).

    Raises
    ------
    InputError
        Without a manifest (an interrupted run, or not an output folder), when a file it lists
        is missing or of another size, or without findings.csv.
    """
    d = Path(folder)
    man = d / MANIFEST
    if not man.is_file():
        raise InputError(f"{d}: no {MANIFEST}, so not a complete geocheck output folder (a "
                         "run was interrupted, or this is not an output folder)")
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
        listed = {f["name"]: int(f["bytes"]) for f in manifest["files"]}
        pack = str(manifest["pack"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{man}: not a readable geocheck manifest ({exc})") from None
    for name, size in listed.items():
        p = d / name
        if not p.is_file() or p.stat().st_size != size:
            raise InputError(f"{d}: {name} is listed in {MANIFEST} but is missing or was "
                             "changed since the run; run it again")
    if "findings.csv" not in listed:
        raise InputError(f"{d}: the run wrote no findings.csv (run check with csv among its "
                         "formats)")
    findings = pd.read_csv(d / "findings.csv", encoding="utf-8-sig",
                           dtype={"estate_id": str, "rule_id": str}, keep_default_na=False,
                           na_values={"value": [""], "walk_m": [""]})
    estates = None
    if "results.gpkg" in listed:
        estates = pyogrio.read_dataframe(d / "results.gpkg", layer="estates",
                                         columns=["estate_id", "name"])
        estates["estate_id"] = estates["estate_id"].astype(str)
    return Run(findings, estates, pack, d, [d / n for n in listed] + [man])


def run_input(path: str | Path, **options: Any) -> Run:
    """Run ``geocheck check`` on an input (no outputs written) and keep what a diff needs."""
    result: Result = check(path, **options)
    est = result.site.estates[["estate_id", "name", "geometry"]].copy()
    return Run(result.findings, est, result.pack.id, Path(path), input_files(path))


def load_side(path: str | Path, **options: Any) -> Run:
    """An output folder is read (:func:`read_run`); anything else is run as an input."""
    return read_run(path) if Path(path).is_dir() else run_input(path, **options)


def compare(old: str | Path, new: str | Path, *, progress: Progress = QUIET,
            **options: Any) -> Diff:
    """Compare two runs (output folders or inputs; inputs are run with ``options``, the same
    for both: ``pack``, ``conditions``, ``attributes`` ... of :func:`geocheck.pipeline.check`).
    """
    with progress.stage(f"reading {Path(old).name}"):
        before = load_side(old, **options)
    with progress.stage(f"reading {Path(new).name}"):
        after = load_side(new, **options)
    return diff_runs(before, after)


def diff_runs(before: Run, after: Run) -> Diff:
    """The diff of two runs, with the notes a reader needs."""
    table = diff_findings(before.findings, after.findings)
    notes = []
    if before.pack != after.pack:
        notes.append(f"warning: the runs used different packs ({before.pack} before, "
                     f"{after.pack} after): rules of one pack only are listed as new or "
                     "removed rules, not compared")
    ids0, ids1 = set(before.findings["estate_id"]), set(after.findings["estate_id"])
    notes.append(f"estates are matched by estate_id only: {len(ids0 & ids1)} in both, "
                 f"{len(ids1 - ids0)} new, {len(ids0 - ids1)} removed (an estate whose id "
                 "changed counts as removed and new)")
    return Diff(table, before, after, notes)


def summary_lines(diff: Diff, worst: int = 10) -> list[str]:
    """The terminal summary: counts per change and the worst rows."""
    counts = diff.counts()
    lines = [f"diff: {diff.before.source} -> {diff.after.source}",
             "changes: " + (", ".join(f"{n} {c}" for c, n in counts.items()) or "none")]
    bad = diff.table[diff.table["change"].isin(NEGATIVE)].head(worst)
    if len(bad):
        lines.append("worst:")
        lines += [f"  {r.estate_id}  {r.rule_id}  {r.change}: {r.before or '-'} -> "
                  f"{r.after or '-'}" for r in bad.itertuples()]
    lines += [f"note: {n}" for n in diff.notes]
    return [printable(x) for x in lines]


def outlines(diff: Diff) -> gpd.GeoDataFrame | None:
    """Both runs' estate outlines, one per id (the later run's where both have it), in the
    later run's CRS; None when either run has none."""
    a, b = diff.after.estates, diff.before.estates
    if a is None or b is None or a.crs is None or not a.crs.is_projected:
        return None
    b = b.to_crs(a.crs)
    both = pd.concat([a, b[~b["estate_id"].isin(set(a["estate_id"]))]], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=a.crs)


def stage_diff(diff: Diff, staging: Staging) -> dict[str, Path]:
    """Write diff.csv and (with outlines and a CJK font) diff.png into ``staging``."""
    written: dict[str, Path] = {}
    with staging.writing("diff.csv") as path:
        written["diff"] = write_csv(diff.table, path)
    est = outlines(diff)
    if est is None:
        diff.notes.append("diff.png left out: a run without results.gpkg (run check with "
                          "gpkg among its formats) has no estate outlines to draw")
    elif find_cjk_font() is None:
        diff.notes.append("diff.png left out: no installed font can draw Chinese")
    else:
        with staging.writing("diff.png") as path:
            path.write_bytes(diff_png(est, worst_change(diff.table),
                                      title="变化对比 what changed"))
            written["diff_png"] = path
    return written


def write_diff(diff: Diff, outdir: str | Path, *, options: dict[str, Any] | None = None,
               started: datetime | None = None) -> dict[str, Path]:
    """Write diff.csv and diff.png into ``outdir`` as one atomic set with a manifest."""
    started = started or datetime.now().astimezone()
    inputs = [*diff.before.files, *diff.after.files]
    refuse_unsafe(outdir, inputs)
    staging = Staging(outdir)
    try:
        staged = stage_diff(diff, staging)
        manifest = run_manifest(pack=diff.after.pack, inputs=inputs, options=options or {},
                                files=staged.values(), started=started, notes=diff.notes,
                                record=staging.record)
        staging.commit(manifest)
    except BaseException:
        staging.discard()
        raise
    return {k: Path(outdir) / p.name for k, p in staged.items()}
