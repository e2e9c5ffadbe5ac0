"""Text for the terminal: nothing a terminal acts on, cells cut to a width."""

from __future__ import annotations

from geocheck.core.terminal import clip, display_width, printable


def test_printable_removes_escapes_controls_and_bidi() -> None:
    assert printable("a\x1b[31mred\x1b[0m b") == "ared b"
    assert printable("x\x1b]0;title\x07y") == "xy"
    assert printable("x\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\z") == "xlinkz"
    assert printable("bi\u202edi\u2066") == "bidi"
    assert printable("c1\x9b2Jx") == "c1x"
    assert printable("one\ntwo\tthree\r") == "one two three "
    assert printable("one\ntwo", newlines=True) == "one\ntwo"
    assert printable("osc\x1b]no end\nnext", newlines=True) == "osc\nnext"


def test_clip_counts_terminal_columns() -> None:
    assert clip("abc", 3) == "abc" and clip("abcd", 3) == "ab…"
    cut = clip("小区" * 30, 40)
    assert cut.endswith("…") and display_width(cut) == 39
    assert clip("x" * 100_000, 40) == "x" * 39 + "…"
