"""Progress lines: shown on a terminal, never in logs or with --quiet."""

from __future__ import annotations

import io

from geocheck.core.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stages_and_steps_on_a_terminal() -> None:
    out = Terminal()
    progress = Progress(stream=out)
    with progress.stage("judging 3 estates x 2 rules"):
        progress.step(0, 2)
        progress.step(2, 2)  # the last step is always drawn
    text = out.getvalue()
    assert text.startswith("geocheck: judging 3 estates x 2 rules ...\n")
    assert "\r\033[Kgeocheck: judging 3 estates x 2 rules [0/2]" in text
    assert "[2/2]" in text
    assert text.endswith("\r\033[Kgeocheck: judging 3 estates x 2 rules: done in "
                         + text.rsplit("done in ", 1)[1])
    assert text.rsplit("done in ", 1)[1].endswith(" s\n")


def test_silent_in_logs_and_when_quiet() -> None:
    for progress in (Progress(stream=io.StringIO()), Progress(enabled=False, stream=Terminal())):
        with progress.stage("reading"):
            progress.step(1, 2)
        assert progress.stream.getvalue() == ""
