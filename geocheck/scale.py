"""Judge a site in pieces: one after another in this process, or on a Dask cluster.

The pieces come from :func:`geocheck.rules.partition.plan_pieces`; each is cut from the site
here (the driver), judged where it is sent (:func:`geocheck.rules.partition.judge_piece` needs
only its arguments), and the findings come back to be put together in estate order
(:func:`geocheck.rules.judge.finish`). The findings are identical however the work is spread.

A cluster is dask.distributed's: ``workers`` starts a local one of that many processes (one
thread each) for the run; ``scheduler`` (``tcp://host:8786``) uses a running one, whose
workers may be on other machines (each with the same geocheck installed: pieces travel as
pickles). At most two pieces per worker are cut and in flight at once, so the driver's memory
stays that of the site plus a few pieces. A ``tls://`` scheduler is reached with the PEM files
Dask's settings name (:func:`use_tls` sets them from the command line).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal

from .core.beside import Beside, can_fork
from .core.errors import GeocheckError
from .core.memory import give_back
from .core.progress import QUIET, Progress
from .core.site import Site
from .rules.judge import Part, finish, judge
from .rules.packs.model import Pack
from .rules.partition import (
    PIECE_ESTATES,
    Piece,
    cut,
    judge_piece,
    near_bounds,
    piece_estates,
    plan_halves,
    plan_pieces,
)
from .rules.rejects import Losses
from .rules.result import Result

IN_FLIGHT = 2
"""Pieces cut and sent per worker at a time."""

PIECES_PER_WORKER = 2
"""On a cluster, pieces are made small enough that each worker gets at least this many."""


def judge_in_pieces(site: Site, pack: Pack, *, distance: str | None = None,
                    per_piece: int | Literal["auto"] | None = "auto",
                    workers: int | None = None,
                    scheduler: str | None = None, progress: Progress = QUIET,
                    beside: bool = False) -> Result:
    """Judge every estate of ``site`` against ``pack``, in pieces of about ``per_piece``
    estates (None: one piece, as :func:`geocheck.rules.judge.judge`; ``"auto"``: as many as
    :func:`geocheck.rules.partition.piece_estates` gives the pack).

    ``workers``: run the pieces on a local Dask cluster of that many processes; ``scheduler``:
    on the Dask cluster at that address; neither: one after another in this process, or, with
    ``beside``, for a site of :data:`BESIDE_MIN_ESTATES` to :data:`BESIDE_MAX_ESTATES`
    estates that would be one piece, in two halves, one of them in a forked second process
    (:mod:`geocheck.core.beside`; the same findings). Not with a paths layer: the halves'
    halos (twice the farthest walk) would overlap much, and the whole walking network would
    be built again for the catchments.

    Raises
    ------
    GeocheckError
        Dask is not installed, the scheduler cannot be reached, or a worker failed (its
        error named).
    """
    if workers is not None and workers < 1:
        raise GeocheckError(f"--workers must be at least 1, got {workers}")
    if per_piece == "auto":
        per_piece = piece_estates(pack)
    alone = workers is None and scheduler is None
    n = len(site.estates)
    if alone and beside and BESIDE_MIN_ESTATES <= n <= BESIDE_MAX_ESTATES and can_fork() \
            and (per_piece is None or n <= per_piece) and "paths" not in site.layers:
        return _judge_beside(site, pack, distance, progress)
    if alone and (per_piece is None or n <= per_piece):
        return judge(site, pack, progress, distance=distance)
    per_piece = per_piece or PIECE_ESTATES
    losses = Losses.of(site.ledger, site.estates["estate_id"].to_numpy())
    boxes = near_bounds(site)
    if alone:
        parts = []
        pieces = plan_pieces(site, pack, per_piece)
        for k, piece in enumerate(pieces):
            progress.step(k, len(pieces))
            parts.append(_cut_and_judge(site, pack, piece, losses, boxes, distance))
            give_back()  # the allocators keep none of the piece's memory
    else:
        with _client(workers, scheduler) as client:
            # at least two pieces per worker, so that every worker has work
            n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
            share = -(-len(site.estates) // (PIECES_PER_WORKER * n_workers))
            pieces = plan_pieces(site, pack, max(min(per_piece, share), 1))
            parts = _on_cluster(client, site, pack, pieces, losses, boxes, distance, progress)
    return finish(site, pack, parts, losses, None)


BESIDE_MIN_ESTATES = 1_000
"""Sites smaller than this are judged in one process even with ``beside`` (a second process
and the halves' halos would cost more than they save)."""

BESIDE_MAX_ESTATES = 10_000
"""Runs of at most this many estates may use a forked second process (judging one half of the
site, or writing map.html and drawing the static maps beside the tables); a larger run works
in the one process, because at that size memory, not the second core, is what runs short (the
second process shares the run's memory only until either process writes to it)."""


def _cut_and_judge(site: Site, pack: Pack, piece: Piece, losses: Losses,
                   boxes: dict[str, Any], distance: str | None) -> Part:
    """One piece cut from ``site`` (:func:`~geocheck.rules.partition.cut`) and judged here."""
    piece_site, piece_losses = cut(site, piece, losses, boxes)
    return judge_piece(piece_site, piece_losses, pack, piece, distance=distance)


def _judge_beside(site: Site, pack: Pack, distance: str | None, progress: Progress) -> Result:
    """Judge ``site`` in two halves (:func:`geocheck.rules.partition.plan_halves`), the
    second in a forked second process (see :func:`judge_in_pieces`)."""
    halves = plan_halves(site, pack)
    if len(halves) < 2:
        return judge(site, pack, progress, distance=distance)
    losses = Losses.of(site.ledger, site.estates["estate_id"].to_numpy())
    boxes = near_bounds(site)
    judged = partial(_cut_and_judge, site, pack, losses=losses, boxes=boxes, distance=distance)
    other = Beside(partial(judged, halves[1]))
    try:
        part = judged(halves[0])
    except BaseException:
        other.close()
        raise
    return finish(site, pack, [part, other.result()], losses, None)


NEED_DASK = ("--workers and --scheduler need Dask: pip install 'dask[distributed]' (or "
             "geocheck[dask])")

TLS_FLAGS = ("--tls-ca-file", "--tls-cert", "--tls-key")
"""The command line's TLS options for a ``tls://`` scheduler, as Dask's own command line
names them for its scheduler and workers."""


def use_tls(ca_file: str | None, cert: str | None, key: str | None,
            scheduler: str | None) -> bool:
    """Have this process's Dask client speak TLS to ``scheduler`` with these PEM files (the
    certificate(s) of the authority that signed the cluster's certificates, the client's
    certificate and its private key), through Dask's own settings (``distributed.comm.tls``,
    encryption required); return whether it does. All three or none; only with a scheduler.
    The files are named in no output (the run's manifest says only that TLS was used)."""
    files = dict(zip(TLS_FLAGS, (ca_file, cert, key), strict=True))
    given = [flag for flag, f in files.items() if f]
    if not given:
        return False
    if len(given) < len(files):
        raise GeocheckError(f"{', '.join(TLS_FLAGS)} go together: "
                            f"{' and '.join(f for f in TLS_FLAGS if f not in given)} missing")
    if scheduler is None or not scheduler.startswith("tls://"):
        raise GeocheckError(f"{' '.join(TLS_FLAGS)} are for a --scheduler tls://HOST:PORT")
    for flag, f in files.items():
        if not Path(str(f)).is_file():
            raise GeocheckError(f"{flag} {f}: no such file")
    try:
        import dask
    except ImportError as exc:
        raise GeocheckError(NEED_DASK) from exc
    dask.config.set({"distributed.comm.require-encryption": True,
                     "distributed.comm.tls.ca-file": ca_file,
                     "distributed.comm.tls.client.cert": cert,
                     "distributed.comm.tls.client.key": key})
    return True


@contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise GeocheckError(NEED_DASK) from exc
    for name in ("distributed", "distributed.worker", "distributed.scheduler",
                 "distributed.nanny", "distributed.core"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise GeocheckError(f"cannot reach the Dask scheduler at {scheduler}: "
                                f"{exc}") from exc
        except TypeError as exc:  # Dask's word for a tls:// address without certificates
            if not scheduler.startswith("tls://"):
                raise
            raise GeocheckError(f"cannot reach the Dask scheduler at {scheduler}: TLS needs "
                                f"{', '.join(TLS_FLAGS)} (or Dask's distributed.comm.tls "
                                "settings)") from exc
        try:
            yield client
        finally:
            client.close()
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def _on_cluster(client: Any, site: Site, pack: Pack, pieces: list[Piece], losses: Losses,
                boxes: dict[str, Any], distance: str | None, progress: Progress) -> list[Part]:
    """Send the pieces to the cluster's workers, a few at a time, and gather their parts."""
    from dask.distributed import as_completed

    slots = IN_FLIGHT * max(len(client.scheduler_info().get("workers", {})), 1)
    [pack_future] = client.scatter([pack], broadcast=True)
    todo = iter(pieces)
    parts: list[Part] = []

    def send(piece: Piece) -> Any:
        piece_site, piece_losses = cut(site, piece, losses, boxes)
        return client.submit(judge_piece, piece_site, piece_losses, pack_future, piece,
                             distance=distance, pure=False)

    running = as_completed([send(p) for _, p in zip(range(slots), todo, strict=False)])
    for future in running:
        try:
            parts.append(future.result())
        except GeocheckError:
            raise
        except Exception as exc:  # a worker's failure, named
            raise GeocheckError(f"a Dask worker failed on {future.key}: "
                                f"{type(exc).__name__}: {exc}") from exc
        progress.step(len(parts), len(pieces))
        nxt = next(todo, None)
        if nxt is not None:
            running.add(send(nxt))
    return parts
