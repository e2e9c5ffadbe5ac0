"""The output folder of one run: refused paths, staging, the commit and its manifest.

A run writes every output under a temporary name, in a hidden staging folder inside the output
folder (``.geocheck-staging-<pid>-<random>/``, so on the same file system), and puts them in
place only when all of them are complete (:meth:`Staging.commit`):

1. the run's manifest (:data:`MANIFEST`) is written into the staging folder;
2. SIGTERM, SIGINT and SIGHUP are held back (``signal.pthread_sigmask`` and a handler that
   defers them) for the few milliseconds of the commit;
3. the previous run's manifest is removed, each staged file is renamed into place
   (``os.replace``: a reader sees the old file or the new one, never a part), the previous
   run's outputs that this run does not write are removed (only :func:`is_output` names, never
   the user's files), and the manifest is renamed into place last;
4. held signals are then delivered: a SIGTERM ends the process with its outputs complete.

A run stopped before the commit (SIGTERM, SIGKILL, a crash, a full disk) leaves the previous
run's outputs and manifest untouched; its staging folder is removed at the start of the next
run. SIGKILL cannot be held back: killed inside the commit's window, the folder has no manifest
until the next run, which finds the dead run's staging folder with its manifest and finishes
the commit (:func:`recover`). The manifest is therefore the mark of a complete folder: every
file it lists has the bytes and SHA-256 it records.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyogrio.errors

from .core.digest import file_record
from .core.errors import GeocheckError, OutputError
from .core.version import VERSION
from .inputs.project import parse_project

MANIFEST = "geocheck-run.json"
"""The run's manifest, written last: version, pack, inputs and outputs with their SHA-256."""

STAGING_PREFIX = ".geocheck-staging-"
"""Name start of a run's staging folder; the rest is ``<pid>-<random>``."""

OUTPUT_NAMES = ("findings.csv", "rejects.csv", "scorecard.csv", "summary.csv", "progress.csv",
                "life_circles.csv", "results.gpkg", "proposals.gpkg", "findings.xlsx", "map.html",
                "map.png", "progress.png", "report.html", "report.pdf", "diff.csv", "diff.png",
                "opinion.docx", "opinion.html", "opinion.pdf", "findings.parquet",
                "estates.parquet", "rejects.parquet")
"""Every file name ``geocheck check``, ``diff`` and ``review`` write into an output folder,
with the district pages of a big run's map (:data:`OUTPUT_PATTERN`). Only these (and the
manifest) are ever replaced or removed there."""

OUTPUT_PATTERN = re.compile(r"map-[0-9]{3,}\.html")
"""The names of the district pages of a big run's map (``map-001.html`` ...: see
:mod:`geocheck.views.webmap.districts`), outputs like :data:`OUTPUT_NAMES`."""


def is_output(name: str) -> bool:
    """Whether ``name`` is one of geocheck's output file names."""
    return name in OUTPUT_NAMES or OUTPUT_PATTERN.fullmatch(name) is not None


def outputs_in(folder: Path) -> list[str]:
    """:data:`OUTPUT_NAMES` and the district pages present in ``folder``, in that order."""
    pages = sorted(e.name for e in os.scandir(folder) if OUTPUT_PATTERN.fullmatch(e.name))
    return [*OUTPUT_NAMES, *pages]

HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP")
                     if hasattr(signal, name))
"""Signals held back during the commit and delivered after it."""

PROBE_BYTES = 1 << 20
"""Free bytes below which a failed write is put down to a full disk, and how far past the
largest staged file a probe byte is written to find a file-size limit (GDAL and SQLite errors
carry no errno)."""

_REASONS = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file too large for the file system or the file-size limit",
            errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied", errno.EIO: "input/output error"}
_MESSAGES = (("disk is full", "disk full"), ("no space left", "disk full"),
             ("file too large", _REASONS[errno.EFBIG]), ("quota", "disk quota exceeded"),
             ("read-only", "read-only file system"), ("permission denied", "permission denied"))
"""Reasons read from the text of GDAL and SQLite errors, which carry no errno."""

_LIVE: set[Path] = set()
"""Staging folders of this process still in use (a folder named with this process's id and
not in here is left over from an earlier process that had the same id)."""

_WRITE_ERRORS = (OSError, sqlite3.Error, pyogrio.errors.DataSourceError,
                 pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                 pyogrio.errors.FeatureError, pyogrio.errors.GeometryError)


def _write_errors() -> tuple[type[BaseException], ...]:
    """The errors of writing a file: :data:`_WRITE_ERRORS`, and xlsxwriter's once a view has
    loaded it (a run that writes no workbook does not import xlsxwriter, so cannot raise it)."""
    xlsx = sys.modules.get("xlsxwriter.exceptions")
    return _WRITE_ERRORS + ((xlsx.XlsxFileError,) if xlsx is not None else ())


def input_files(path: str | Path, *, attributes: str | Path | None = None,
                pack: str | Path | None = None) -> list[Path]:
    """The files a run reads: the GeoPackage or project file, every source file a project
    names (a shapefile with its ``.dbf``, ``.shx``, ``.prj`` and ``.cpg``), the attributes
    sheet and a pack given as a file. Files that do not exist are left out (reading them
    reports the error)."""
    paths: list[Path] = [Path(path)]
    main = Path(path)
    if main.suffix.lower() == ".toml" and main.is_file():
        project = parse_project(main)
        paths += [s.path for s in project.sources if s.url is None]  # files, not databases
        if project.attributes is not None and attributes is None:
            paths.append(project.attributes)
        if isinstance(project.pack, str) and project.pack.endswith(".toml") and pack is None:
            paths.append(main.parent / project.pack)
    if attributes is not None:
        paths.append(Path(attributes))
    if pack is not None and str(pack).endswith(".toml"):
        paths.append(Path(pack))
    for p in list(paths):
        if p.suffix.lower() == ".shp":
            paths += [p.with_suffix(ext) for ext in (".dbf", ".shx", ".prj", ".cpg")]
    return list(dict.fromkeys(p for p in paths if p.is_file()))


def refuse_unsafe(outdir: str | Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output folder geocheck must not write into, before any work is done.

    Raises
    ------
    OutputError
        When ``outdir`` is not a folder; when a file geocheck would write or remove there
        (:data:`OUTPUT_NAMES`, :data:`MANIFEST`) or a staging folder is a symbolic link (it
        would write elsewhere) or a folder; when one of those files is one of ``inputs`` (the
        run would overwrite its own input).
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write the outputs to {out}: it is a file, not a folder")
    if not out.exists():
        return
    inputs = [Path(p) for p in inputs]
    names = [*outputs_in(out), MANIFEST]
    names += [e.name for e in os.scandir(out) if e.name.startswith(STAGING_PREFIX)]
    for name in names:
        p = out / name
        if p.is_symlink():
            raise OutputError(f"{p} is a symbolic link (to {os.readlink(p)}); geocheck does not "
                              "write through links: remove it or choose another output folder")
        if name.startswith(STAGING_PREFIX) or not p.exists():
            continue
        if p.is_dir():
            raise OutputError(f"{p} is a folder where geocheck writes a file: move it or "
                              "choose another output folder")
        for source in inputs:
            if source.exists() and os.path.samefile(p, source):
                same = "" if os.path.abspath(source) == os.path.abspath(p) else \
                    f" (the same file as {source})"
                raise OutputError(f"{p} is an input of this run{same}: writing the outputs to "
                                  f"{out} would overwrite its own input; choose another output "
                                  "folder (-o)")


def write_reason(exc: BaseException) -> str | None:
    """Why a write failed, in a few words (``disk full``), or None when ``exc`` is not an
    error of writing a file. Looks through the exception's causes and arguments, as GDAL,
    SQLite and xlsxwriter wrap the operating system's error."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.append(e)
        todo += [x for x in (e.__cause__, e.__context__, *e.args) if isinstance(x, BaseException)]
    for e in seen:
        if isinstance(e, OSError) and e.errno is not None:
            return _REASONS.get(e.errno, e.strerror or str(e))
    if not any(isinstance(e, _write_errors()) for e in seen):
        return None
    text = " ".join(str(e) for e in seen).lower()
    return next((reason for key, reason in _MESSAGES if key in text), str(exc) or "failed")


def _has_errno(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno is not None


def probe_space(folder: Path) -> str | None:
    """Why writing in ``folder`` fails, or None when no reason is found: disk full when less
    than :data:`PROBE_BYTES` are free; the file-size limit when a byte cannot be written that
    far past the largest file there (a sparse write: no space is used). GDAL and SQLite report
    either as a failed statement, without the reason."""
    if shutil.disk_usage(folder).free < PROBE_BYTES:
        return _REASONS[errno.ENOSPC]
    xfsz = getattr(signal, "SIGXFSZ", None)
    if xfsz is not None and signal.getsignal(xfsz) == signal.SIG_DFL:
        return None  # past a file-size limit the process would have ended with SIGXFSZ
    largest = max((p.stat().st_size for p in folder.iterdir() if p.is_file()), default=0)
    probe = folder / ".probe"
    try:
        with open(probe, "wb") as fh:
            fh.seek(largest + PROBE_BYTES)
            fh.write(b"\0")
    except OSError as exc:
        return write_reason(exc)
    finally:
        probe.unlink(missing_ok=True)
    return None


class Staging:
    """A run's staging folder inside the output folder (created on construction, after the
    staging folders of dead runs are cleaned up by :func:`recover`).

    Each file written in a :meth:`writing` block (or handed to :meth:`settle`) is synced to
    disk and hashed in a background thread as soon as it is written, while the run writes the
    next: the commit and the manifest (:meth:`record`) then wait for what is left rather than
    doing it all at the end (on the synthetic city of 3,000 estates, 540 MB of outputs took
    0.9 s to sync and 0.5 s to hash). A forked process does the same with a thread of its own
    and hands the records back (:meth:`forked_records`, :meth:`adopt`); other files are synced
    and hashed when they are recorded.
    """

    def __init__(self, outdir: str | Path) -> None:
        self.outdir = Path(outdir)
        self._pid = os.getpid()
        self._pool: ThreadPoolExecutor | None = None
        self._forked: tuple[int, ThreadPoolExecutor, dict[str, Future[dict[str, Any]]]] | None \
            = None  # a forked process's own thread and records (its pid first)
        self._settling: dict[str, Future[dict[str, Any]]] = {}  # by name; done: synced
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.recovered = recover(self.outdir)
            self.dir = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-",
                                             dir=self.outdir))
            _LIVE.add(self.dir.resolve())
        except OSError as exc:
            raise OutputError(f"cannot write to {self.outdir}: "
                              f"{write_reason(exc) or exc}") from None

    def path(self, name: str) -> Path:
        """Where ``name`` is written until the commit."""
        if not is_output(name):
            raise ValueError(f"{name} is not one of geocheck's output names")
        return self.dir / name

    @contextmanager
    def writing(self, name: str) -> Iterator[Path]:
        """Write ``name`` in this block: an error of writing it becomes an
        :class:`~geocheck.core.errors.OutputError` naming the file and the reason."""
        try:
            yield self.path(name)
        except GeocheckError:
            raise
        except _write_errors() as exc:
            reason = write_reason(exc) or str(exc)
            if not _has_errno(exc) and reason not in _REASONS.values():
                reason = probe_space(self.dir) or reason
            raise OutputError(f"{reason} while writing {name} (in {self.outdir}); the previous "
                              "outputs there are left as they were") from None
        self.settle(self.path(name))

    def claim(self, name: str) -> bool:
        """Claim the writing of ``name`` for this process: True the first time any process
        sharing this staging folder asks (a forked one too), False after (an exclusive
        creation of a marker file, which goes with the folder)."""
        try:
            os.close(os.open(self.dir / f".claim-{self.path(name).name}",
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def settle(self, path: Path) -> None:
        """Start syncing and hashing a finished staged file in the background thread (in a
        forked process, in a thread of its own, whose records :meth:`forked_records` gives)."""
        if not path.is_file():
            return
        if os.getpid() != self._pid:
            if self._forked is None or self._forked[0] != os.getpid():
                self._forked = (os.getpid(), ThreadPoolExecutor(1), {})
            self._forked[2][path.name] = self._forked[1].submit(_settled_record, path)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="geocheck-settle")
        self._settling[path.name] = self._pool.submit(_settled_record, path)

    def record(self, path: Path) -> dict[str, Any]:
        """The manifest record of a staged file (:func:`file_record` by its name), once the file
        is synced to disk; waits for the background thread when it is at it.

        Raises
        ------
        OutputError
            The file could not be read back or synced (disk full, I/O error).
        """
        future = self._settling.get(path.name)
        try:
            if future is None:
                record = _settled_record(path)
                future = self._settling[path.name] = Future()
                future.set_result(record)
            record = future.result()
        except OSError as exc:
            raise OutputError(f"{write_reason(exc) or exc} while writing {path.name} (in "
                              f"{self.outdir}); the previous outputs there are left as they "
                              "were") from None
        return record

    def forked_records(self) -> dict[str, dict[str, Any]]:
        """In a forked process: the records of the files it settled, once synced (it waits for
        them); in the process that made the staging folder, none."""
        if self._forked is None or self._forked[0] != os.getpid():
            return {}
        return {name: future.result() for name, future in self._forked[2].items()}

    def adopt(self, records: Mapping[str, dict[str, Any]]) -> None:
        """Take the records a forked process made (:meth:`forked_records`) as this process's."""
        for name, record in records.items():
            if name not in self._settling:
                future: Future[dict[str, Any]] = Future()
                future.set_result(record)
                self._settling[name] = future

    def _recorded(self, name: str) -> bool:
        """Whether ``name`` is synced to disk and hashed (:meth:`record` has its record)."""
        future = self._settling.get(name)
        return future is not None and future.done() and future.exception() is None

    def _stop(self) -> None:
        if self._pool is not None and os.getpid() == self._pid:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def discard(self) -> None:
        """Remove the staging folder and everything in it (the output folder is untouched)."""
        self._stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        _LIVE.discard(self.dir.resolve())

    def commit(self, manifest: Mapping[str, Any]) -> list[str]:
        """Put every staged file in place and the manifest last; return the names of the
        previous run's outputs removed as stale. See the module's docstring for the order."""
        staged = self.dir / MANIFEST
        try:
            for name in manifest["files"]:
                if not self._recorded(name["name"]):
                    _fsync(self.dir / name["name"])
            with open(staged, "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(f"{write_reason(exc)} while writing {MANIFEST} (in "
                              f"{self.outdir}); the previous outputs there are left as they "
                              "were") from None
        with signals_held():
            removed = _apply(self.dir, self.outdir)
            self.discard()
            _fsync(self.outdir)
        return removed


def _settled_record(path: Path) -> dict[str, Any]:
    """Sync a staged file to disk, then return its :func:`file_record` by name."""
    _fsync(path)
    return file_record(path, path.name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply(staging: Path, outdir: Path) -> list[str]:
    """The commit itself, from a staging folder holding its manifest; safe to run again on a
    commit cut short (files already in place are no longer staged)."""
    manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    names = [f["name"] for f in manifest["files"] if is_output(f["name"])]
    (outdir / MANIFEST).unlink(missing_ok=True)
    for name in names:
        if (staging / name).exists():
            os.replace(staging / name, outdir / name)
    removed = [n for n in outputs_in(outdir)
               if n not in names and (outdir / n).is_file() and not (outdir / n).is_symlink()]
    for name in removed:
        (outdir / name).unlink()
    os.replace(staging / MANIFEST, outdir / MANIFEST)
    return removed


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold back :data:`HELD_SIGNALS` in this block and deliver them after it.

    The main thread blocks them (``pthread_sigmask``); one that reaches another thread finds a
    handler that only notes it. Outside the main thread, where handlers cannot be set, the
    block runs unprotected.
    """
    caught: list[int] = []

    def note(signum: int, _frame: object) -> None:
        caught.append(signum)

    try:
        old = {s: signal.signal(s, note) for s in HELD_SIGNALS}
    except ValueError:  # not the main thread
        yield
        return
    masking = hasattr(signal, "pthread_sigmask")  # not on Windows
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS) if masking else None
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if masking:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # pending ones arrive here
        for s in dict.fromkeys(caught):
            signal.raise_signal(s)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(outdir: Path) -> list[str]:
    """Clean up the staging folders of dead runs in ``outdir``; return what was done.

    A staging folder holding its manifest belongs to a run killed during (or just before) its
    commit: the commit is finished. Any other is the part-written outputs of a stopped run and
    is removed. Folders of live runs (their process id is running) are left alone.
    """
    done = []
    for entry in sorted(os.scandir(outdir), key=lambda e: e.name):
        if not entry.name.startswith(STAGING_PREFIX) or entry.is_symlink():
            continue
        pid = entry.name[len(STAGING_PREFIX):].split("-")[0]
        staging = Path(entry.path)
        if not pid.isdigit() or staging.resolve() in _LIVE or (
                int(pid) != os.getpid() and _alive(int(pid))):
            continue
        if (staging / MANIFEST).is_file():
            try:
                _apply(staging, outdir)
                done.append(f"finished the commit of an interrupted run ({entry.name})")
            except (ValueError, KeyError, TypeError):  # a manifest cut short: not begun
                pass
        shutil.rmtree(staging, ignore_errors=True)
    return done


def run_manifest(*, pack: str, inputs: Iterable[Path], options: Mapping[str, Any],
                 files: Iterable[Path], started: datetime, notes: Iterable[str] = (),
                 record: Callable[[Path], dict[str, Any]] | None = None) -> dict[str, Any]:
    """The manifest of a run: geocheck version, pack id, input files and outputs (name, bytes,
    SHA-256), the options, notes (a sheet cut to fit Excel ...) and the start and end times
    (ISO 8601, local time with its offset). ``record`` gives each output's record (default:
    :func:`file_record` by name; a run passes :meth:`Staging.record`)."""
    record = record or (lambda p: file_record(p, p.name))
    return {"geocheck": VERSION, "pack": pack,
            "inputs": [file_record(p) for p in inputs],
            "options": dict(options),
            "files": [record(p) for p in files],
            "notes": list(notes),
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now().astimezone().isoformat(timespec="seconds")}
