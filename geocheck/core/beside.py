"""Work done in a second process beside the main one: on a machine of two cores, a city's
static maps are drawn while the tables are written.

The second process is forked, so it starts with the run's judged result in memory, shared
copy-on-write, and sends back only what it made (pickled). It is used only where forking is
safe and cheap: on Linux, from the command line (never inside QGIS, whose process must not be
forked), and for runs small enough that a second process's memory does not matter (see
:data:`geocheck.pipeline.BESIDE_MAX_ESTATES`). When it cannot be started, or dies without an
answer (killed for memory ...), the work is done in the main process instead, so a run never
loses an output to it; an error raised by the work itself is raised in the main process.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal a process gets when its parent ends."""

_WORK: Callable[[], object] | None = None
"""The work of the process being forked (set just before the fork, read by the child)."""


def _die_with(parent: int) -> None:
    """Have the kernel end this process when ``parent`` ends (a run killed with SIGTERM or
    SIGKILL leaves no second process behind), or end it now if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


def _child(send: Connection, parent: int) -> None:
    """The forked process: do the work and send ``(True, answer)``, or ``(False, None)``
    when it raised (the main process then does it again itself, and raises the error with
    its own traceback)."""
    assert _WORK is not None
    _die_with(parent)
    try:
        answer: tuple[bool, object] = (True, _WORK())
    except BaseException:  # Ctrl-C reaches both processes: the main one reports it
        answer = (False, None)
    try:
        send.send(answer)
        send.close()
    except OSError:  # the main process is gone
        pass


def can_fork() -> bool:
    """Whether work can be forked into a second process here (Linux, and more than one
    core)."""
    return sys.platform.startswith("linux") and (multiprocessing.cpu_count() or 1) > 1


class Beside(Generic[T]):
    """``work()`` started in a forked process; :meth:`result` waits for its answer.

    With ``fork=False`` (or where :func:`can_fork` is false) nothing is started and
    :meth:`result` does the work in the calling process.
    """

    def __init__(self, work: Callable[[], T], fork: bool = True) -> None:
        global _WORK
        self._work = work
        self._process: multiprocessing.process.BaseProcess | None = None
        self._recv: Connection | None = None
        if not (fork and can_fork()):
            return
        for stream in (sys.stdout, sys.stderr):  # else the child would write their buffers too
            stream.flush()
        context = multiprocessing.get_context("fork")
        recv, send = context.Pipe(duplex=False)
        _WORK = work
        gc.freeze()  # the child's collector then leaves the parent's objects (and pages) alone
        try:
            process = context.Process(target=_child, args=(send, os.getpid()), daemon=True)
            with warnings.catch_warnings():
                # Python 3.12+ warns of forking a process with threads (Arrow's pool, which
                # pyarrow re-creates in the child after a fork)
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
        except OSError:  # no process could be started (limits): the work is done here
            recv.close()
            return
        finally:
            send.close()
            gc.unfreeze()
            _WORK = None
        self._process, self._recv = process, recv

    @property
    def forked(self) -> bool:
        """Whether the work runs in a second process."""
        return self._process is not None

    def result(self) -> T:
        """The work's answer: from the second process, or computed here when none was
        started, or it failed or died without an answer."""
        if self._recv is None:
            return self._work()
        try:
            ok, answer = self._recv.recv()
        except (EOFError, OSError):  # it died (killed for memory ...)
            ok, answer = False, None
        finally:
            self.close()
        return answer if ok else self._work()  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the second process, if any (an answer not yet given is dropped)."""
        process, recv = self._process, self._recv
        self._process = self._recv = None
        if recv is not None:
            recv.close()
        if process is not None:
            if process.is_alive():
                process.terminate()
            process.join()
