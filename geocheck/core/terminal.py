"""Text made safe and bounded for a terminal.

Names, ids, layer names and pack titles come from files anyone can write. Printed raw, an
escape sequence in an estate's name could recolour, retitle or clear the user's terminal, and
a bidi override could make a line read backwards. Everything geocheck prints passes through
:func:`printable`; tables cap their cells with :func:`clip`. Files keep the full text.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

_END = r"(?:\x07|\x1b\\|\x9c|(?=\n)|$)"
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"               # CSI: colours, cursor moves, clearing
    r"|\x1b[\]PX^_][^\n]*?" + _END +        # OSC (titles, links), DCS, SOS, PM, APC
    r"|\x9b[0-?]*[ -/]*[@-~]"                 # CSI as one C1 character
    r"|[\x90\x98\x9d-\x9f][^\n]*?" + _END +  # DCS, SOS, OSC, PM, APC as C1 characters
    r"|\x1b[ -/]*[0-~]?")                     # any other escape
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_BREAKS = re.compile("[\t\r\u2028\u2029\x85]")


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` as a string with nothing a terminal would act on.

    Escape sequences (colours, cursor moves, window titles, links) are removed whole; other
    C0 and C1 control characters, DEL and bidi controls (U+202A-202E, U+2066-2069, U+200E,
    U+200F, U+061C) are removed; tabs, carriage returns and Unicode line breaks become spaces.
    Newlines are kept when ``newlines``, else they become spaces too (one line).
    """
    out = _ESCAPES.sub("", str(text))
    out = _BREAKS.sub(" ", out)
    if not newlines:
        out = out.replace("\n", " ")
    return _CONTROLS.sub("", out)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK, full-width) characters take two,
    combining marks none."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal columns, ending with an ellipsis when cut."""
    used, cut = 0, 0
    for i, c in enumerate(text):
        used += display_width(c)
        if used > width:
            return text[:cut] + ELLIPSIS
        if used <= width - 1:
            cut = i + 1
    return text
