"""Errors geocheck raises for bad input, bad packs and bad usage.

Every error carries one line that names the file, layer, feature or rule at fault; the command
line prints it and exits with code 2, never with a traceback.
"""

from __future__ import annotations


class GeocheckError(Exception):
    """Base class: a problem with the user's input, not a bug in geocheck."""


class InputError(GeocheckError):
    """A layer, field, feature or file cannot be read as geocheck needs it."""


class PackError(GeocheckError):
    """A rule pack is missing or malformed."""


class CRSError(InputError):
    """A coordinate reference system is missing, unsuitable or does not fit the data."""


class OutputError(GeocheckError):
    """An output cannot be written: a refused path (a link, the run's own input) or a failed
    write (disk full, file-size limit, permissions). The previous outputs are left as they
    were."""
