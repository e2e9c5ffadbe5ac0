"""Progress lines in the terminal for long runs.

Shown only when standard error is a terminal (so logs, pipes and the one-line error contract
stay clean): each stage prints a line when it starts (``geocheck: judging 3,000 estates x 98
rules ...``) and its duration when it ends, and a stage with many steps redraws a counter in
place (``[40/98]``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .terminal import printable


class Progress:
    """Report stages and step counts to ``stream`` (standard error by default).

    It prints nothing when disabled (``enabled=False``, as with ``--quiet``) or when ``stream``
    is not a terminal, so callers never need to test for it.
    """

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and self._tty
        self._label = ""
        self._last_draw = 0.0

    @contextmanager
    def stage(self, label: str) -> Iterator[Progress]:
        """Print ``label`` now and its duration in seconds when the block ends."""
        start = time.perf_counter()
        label = self._label = printable(label)  # it may name the user's file
        self._write(f"geocheck: {label} ...\n")
        yield self
        if self.enabled:
            self.stream.write("\r\033[K")
        self._write(f"geocheck: {label}: done in {time.perf_counter() - start:.1f} s\n")

    def step(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` steps of the current stage (terminal only, at most ten
        redraws a second)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self.stream.write(f"\r\033[Kgeocheck: {self._label} [{done:,}/{total:,}]")
        self.stream.flush()

    def _write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text)
            self.stream.flush()


QUIET = Progress(enabled=False)
"""A Progress that prints nothing."""
