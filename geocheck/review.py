"""``geocheck review``: the permit-review workflow for one site plan.

The plan (usually a DXF through a project file) is checked with its planning conditions
(规划条件); the check's findings, results.gpkg and map are written as by ``check``, with the
review opinion (opinion.docx, opinion.html and opinion.pdf: :mod:`geocheck.views.opinion`)
and, given the plan's earlier version (``against``), diff.csv and diff.png
(:mod:`geocheck.compare`). Everything is one atomic set of outputs with its manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .compare import Diff, Run, diff_runs, load_side, stage_diff, summary_lines
from .core.digest import sha256
from .core.progress import QUIET, Progress
from .outdir import Staging, input_files
from .pipeline import Outputs, check, write_outputs
from .rules.result import Result
from .views.opinion import Opinion, PlanInfo, build_opinion, failing_positions
from .views.opinion.page import render_opinion
from .views.opinion.word import write_opinion_docx
from .views.report import write_pdf
from .views.static_map import estate_pngs
from .views.style import find_cjk_font

REVIEW_FORMATS = ("csv", "gpkg", "map")
"""The check's outputs ``review`` writes beside the opinion."""

MAX_FIGURES = 20
"""The opinion draws the maps of at most this many failing estates (a permit plan has one)."""


@dataclass
class Review:
    """What a review did: the check's result, the opinion, the diff (None without
    ``against``) and the files written."""

    result: Result
    opinion: Opinion
    diff: Diff | None
    written: Outputs
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """The number of review opinions (failing estate x rule)."""
        return len(self.opinion.items)

    def lines(self) -> list[str]:
        """The terminal summary."""
        out = [f"review of {self.opinion.info.name}: {self.failures} review opinion(s) "
               f"(failing indicators), {len(self.opinion.no_data)} without data"]
        out += [f"  {it.number}. {it.rule_id} {it.title}: required {it.required}, measured "
                f"{it.measured}" for it in self.opinion.items]
        if self.diff is not None:
            out += summary_lines(self.diff)
        out += [f"note: {n}" for n in self.notes]
        out += ["wrote:", *(f"  {p}" for p in self.written.values())]
        return out


def plan_info(result: Result, files: list[Path], started: datetime, against: str = ""
              ) -> PlanInfo:
    """The plan's identification from the run."""
    crs = result.site.crs
    return PlanInfo(name=Path(result.site.source).stem,
                    files=[(p.name, p.stat().st_size, sha256(p)) for p in files],
                    crs=f"{crs.to_string()} ({crs.name})",
                    date=started.date().isoformat(),
                    pack=f"{result.pack.id}: {result.pack.title_zh}", against=against)


def _can_print(notes: list[str]) -> bool:
    """Whether WeasyPrint (and the Pango it needs) is installed; if not, a note says that
    opinion.pdf is left out (the .docx and .html are the opinion)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        notes.append("WeasyPrint is not installed (pip install 'geocheck[pdf]'): opinion.pdf "
                     "is left out")
        return False
    return True


def review(path: str | Path, outdir: str | Path, *, against: str | Path | None = None,
           pdf: bool = True, progress: Progress = QUIET, started: datetime | None = None,
           **options: Any) -> Review:
    """Review one plan and write the opinion (see the module's docstring).

    Parameters
    ----------
    path : the plan: a project file or GeoPackage.
    outdir : the output folder.
    against : the plan's earlier version, an input run with the same ``options`` or an
        output folder.
    pdf : also write opinion.pdf (WeasyPrint, as report.pdf; left out with a note when
        WeasyPrint is not installed).
    options : passed to :func:`geocheck.pipeline.check` (``pack``, ``conditions``,
        ``attributes``, ``fields``, ``dst_crs``).
    """
    started = started or datetime.now().astimezone()
    result = check(path, progress=progress, **options)
    files = input_files(path, attributes=options.get("attributes"))
    cond = options.get("conditions")
    if isinstance(cond, str | Path) and Path(cond).is_file():
        files.append(Path(cond))
    diff = None
    if against is not None:
        with progress.stage(f"checking the earlier version {Path(against).name}"):
            before = load_side(against, **options)
        est = result.site.estates[["estate_id", "name", "geometry"]]
        diff = diff_runs(before, Run(result.findings, est, result.pack.id, Path(path)))
        files += [f for f in before.files if f not in files]
    info = plan_info(result, files, started, "" if against is None else Path(against).name)
    figures = {}
    notes: list[str] = []
    failing = failing_positions(result)
    if find_cjk_font() is not None:
        with progress.stage("drawing the figures"):
            figures = estate_pngs(result, failing[:MAX_FIGURES].tolist())
        if len(failing) > MAX_FIGURES:
            notes.append(f"{len(failing)} estates fail: the opinion shows the maps of the "
                         f"first {MAX_FIGURES}")
    else:
        notes.append("no installed font can draw Chinese: the opinion has no figures")
    opinion = build_opinion(result, info, None if diff is None else diff.table, figures)
    page = render_opinion(opinion)

    def extra(staging: Staging) -> dict[str, Path]:
        out: dict[str, Path] = {}
        with staging.writing("opinion.html") as p:
            p.write_text(page, encoding="utf-8")
            out["opinion_html"] = p
        with staging.writing("opinion.docx") as p:
            out["opinion_docx"] = write_opinion_docx(opinion, p)
        if pdf and _can_print(notes):
            with progress.stage("writing opinion.pdf"), staging.writing("opinion.pdf") as p:
                out["opinion_pdf"] = write_pdf(page, p)
        if diff is not None:
            out.update(stage_diff(diff, staging))
        return out

    opts = {"input": str(path), "against": None if against is None else str(against),
            **{k: v if isinstance(v, str | int | float | None) else str(v)
               for k, v in options.items()}}
    written = write_outputs(result, outdir, formats=REVIEW_FORMATS, progress=progress,
                            inputs=files, options=opts, started=started, extra=extra)
    return Review(result, opinion, diff, written, notes)
