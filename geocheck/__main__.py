"""``python -m geocheck`` and the ``geocheck`` command: :func:`run`."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from typing import NoReturn

from .cli import main


def run() -> NoReturn:
    """Run the command line (:func:`geocheck.cli.main`), then end the process at once with
    its exit code.

    By then every output is committed and synced to disk (:mod:`geocheck.outdir`) and the
    Dask cluster, if any, closed; what is left is freeing the run's memory object by object
    (some 0.2 s for a city of 120,000 buildings, a GEOS geometry at a time), which ending the
    process does at once. Only the standard streams are flushed first.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (``| head``) or a closed stream
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
