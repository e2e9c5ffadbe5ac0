"""Work done in a second process beside the main one: on a machine of two cores, a city's
static maps are drawn while the tables are written.

The second process is forked, so it starts with the run's judged result in memory, shared
copy-on-write, and sends back only what it made (pickled). It is used only where forking is
safe and cheap: on Linux, from the command line (never inside QGIS, whose process must not be
forked), and for runs small enough that a second process's memory does not matter (see
:data:`geocheck.scale.BESIDE_MAX_ESTATES`). When it cannot be started, or dies without an
answer (killed for memory ...), the work is done in the main process instead, so a run never
loses an output to it; an error raised by the work itself is raised in the main process. A
second process that uses no CPU for :data:`STALL_S` seconds while the main one waits for it
(stuck on a lock some library held in a thread at the fork) is stopped, and the work is done in
the main process too.
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

STALL_S = 30.0
"""Seconds the second process may go without using any CPU, while the main one waits for its
answer, before it is taken for stuck (its work is all computing and writing local files)."""

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
        ok, answer = False, None
        try:
            if self._wait():
                ok, answer = self._recv.recv()
        except (EOFError, OSError):  # it died (killed for memory ...)
            pass
        finally:
            self.close()
        return answer if ok else self._work()  # type: ignore[return-value]

    def _wait(self) -> bool:
        """Wait for the second process's answer (or its end); False when it used no CPU for
        :data:`STALL_S` seconds meanwhile (a note on stderr says so)."""
        assert self._recv is not None and self._process is not None
        pid, ticks, still = self._process.pid, None, 0.0
        while not self._recv.poll(1.0):
            now = _cpu_ticks(pid)
            still = still + 1.0 if now is not None and now == ticks else 0.0
            ticks = now
            if still >= STALL_S:
                print(f"geocheck: note: the second process used no CPU for {STALL_S:g} s; "
                      "its work is done in the main process instead", file=sys.stderr)
                return False
        return True

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


def _cpu_ticks(pid: int) -> int | None:
    """CPU time a process has used (user and system, in clock ticks, from ``/proc``), or None
    when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat
