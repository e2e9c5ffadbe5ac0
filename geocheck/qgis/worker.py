"""The geocheck side of the QGIS algorithms, run in a Python process of its own:
``python -m geocheck.qgis.worker SPEC`` (SPEC: a JSON object naming the command and its
arguments). It imports no QGIS.

Why a process of its own: inside the QGIS application, QGIS's own GEOS, GDAL and PROJ are
loaded first, and the copies bundled with shapely, pyogrio and pyproj's wheels then resolve
some of their symbols to QGIS's (shapely fails with "WKB output dimension must be 2 or 3").
A separate process loads only geocheck's libraries; it also lets Cancel stop a run at once
(SIGTERM: the output folder is left as it was, :mod:`geocheck.outdir`).

It writes one JSON object per line on standard output: ``{"kind": "stage", "label": ...}``,
``{"kind": "stage_done", "label": ..., "seconds": ...}``, ``{"kind": "step", "done": ...,
"total": ...}``, and last ``{"kind": "done", ...}`` with the command's results, or
``{"kind": "error", "message": ...}`` for geocheck's own errors (exit code 2).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..core.errors import GeocheckError
from ..core.progress import Progress
from ..core.roles import FieldMap
from ..inputs.importers import import_osm
from ..inputs.normalise import normalise
from ..inputs.read import read_layers
from ..outdir import input_files, refuse_unsafe
from ..pipeline import check, write_outputs
from ..rules.packs.load import load_pack
from ..views.summary import summarise
from ..views.template import write_template


def emit(kind: str, **fields: Any) -> None:
    """Write one message line on standard output."""
    print(json.dumps({"kind": kind, **fields}, ensure_ascii=False), flush=True)


class LineProgress(Progress):
    """geocheck's stages and steps as message lines (steps at most ten a second)."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
        self._shown = 0.0

    @contextmanager
    def stage(self, label: str) -> Iterator[Progress]:
        start = time.perf_counter()
        emit("stage", label=label)
        yield self
        emit("stage_done", label=label, seconds=round(time.perf_counter() - start, 1))

    def step(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self._shown < 0.1:
            return
        self._shown = now
        emit("step", done=done, total=total)


def run_check(spec: dict[str, Any]) -> dict[str, Any]:
    """``geocheck check``: judge, write the outputs; the summary and the files written."""
    progress = LineProgress()
    inputs = input_files(spec["input"], attributes=spec.get("attributes"), pack=spec["pack"])
    refuse_unsafe(spec["output"], inputs)
    result = check(spec["input"], pack=spec["pack"], fields=spec.get("fields") or [],
                   attributes=spec.get("attributes"), progress=progress)
    options = {"input": "QGIS layers", "pack": spec["pack"], "field": spec.get("fields"),
               "attributes": spec.get("attributes")}
    written = write_outputs(result, spec["output"], progress=progress, inputs=inputs,
                            options=options)
    summary = summarise(result, written, removed=written.removed, notes=written.notes)
    return {"summary": summary, "files": {k: str(v) for k, v in written.items()},
            "exit_code": result.exit_code}


def run_template(spec: dict[str, Any]) -> dict[str, Any]:
    """``geocheck template``: the attributes sheet, for the estates of ``input`` if given."""
    pack = load_pack(spec["pack"])
    estates = None
    if spec.get("input"):
        fields = FieldMap(spec.get("fields") or [])
        estates = normalise(read_layers(spec["input"]), fields=fields).estates
    path = write_template(pack, spec["output"], estates)
    rows = f"{len(estates)} estates" if estates is not None else "blank rows"
    return {"path": str(path), "summary": f"wrote {path}: {len(pack.attributes)} indicators "
            f"of pack {pack.id}, {rows}; blank cells are read as no data"}


def run_import_osm(spec: dict[str, Any]) -> dict[str, Any]:
    """``geocheck import osm``: the role layers written and the account of them."""
    report = import_osm(spec["input"], spec["output"], households=spec.get("households"),
                        floor_area_per_household=spec.get("floor_area", 90.0))
    return {"path": str(report.out), "roles": list(report.counts),
            "summary": "\n".join(report.lines())}


COMMANDS = {"check": run_check, "template": run_template, "import_osm": run_import_osm}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command SPEC names; 0 when done, 2 for geocheck's own errors."""
    args = list(sys.argv[1:] if argv is None else argv)
    spec = json.loads(args[0])
    try:
        emit("done", **COMMANDS[spec["command"]](spec))
    except GeocheckError as exc:
        emit("error", message=str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

