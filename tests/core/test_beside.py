"""Work forked into a second process: its answer comes back, and a failed or killed second
process costs time, never the answer."""

from __future__ import annotations

import os
import time

import pytest

from geocheck.core.beside import Beside, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs Linux with two cores or more")


def test_the_answer_is_made_in_a_second_process_and_comes_back() -> None:
    main = os.getpid()
    job = Beside(lambda: (os.getpid(), [n * n for n in range(1000)]))
    assert job.forked
    pid, squares = job.result()
    assert pid != main
    assert squares[999] == 998_001 and len(squares) == 1000


def test_without_fork_the_work_is_done_here_when_asked() -> None:
    calls = []
    job = Beside(lambda: calls.append(os.getpid()) or "done", fork=False)
    assert not job.forked and calls == []
    assert job.result() == "done"
    assert calls == [os.getpid()]


def test_a_second_process_that_fails_or_dies_leaves_the_work_to_this_one() -> None:
    main = os.getpid()

    def fails_there() -> int:
        if os.getpid() != main:
            raise ValueError("only in the second process")
        return os.getpid()

    def dies_there() -> int:
        if os.getpid() != main:
            os._exit(9)  # as if killed for memory
        return os.getpid()

    for work in (fails_there, dies_there):
        job = Beside(work)
        assert job.forked
        assert job.result() == main


def test_an_error_of_the_work_itself_is_raised_here() -> None:
    def broken() -> None:
        raise ValueError("bad input: layer estates, feature E1")

    job = Beside(broken)
    with pytest.raises(ValueError, match="feature E1"):
        job.result()


def test_closing_stops_the_second_process() -> None:
    import time

    job = Beside(lambda: time.sleep(60))
    process = job._process
    assert process is not None and process.is_alive()
    job.close()
    assert not process.is_alive() and not job.forked


def test_maps_drawn_beside_the_tables_are_the_maps_drawn_after_them(tmp_path) -> None:
    """The bundled sample's report and map.png, with the maps drawn in a second process (the
    report written meanwhile with stand-ins, the maps put in their place after) and in this
    one: the same bytes, but for the report's time of writing; findings.xlsx is written once,
    by one process or the other, and named by the report for the estates it leaves out."""
    import re

    from helpers import SAMPLE

    import geocheck

    result = geocheck.check(SAMPLE)
    pages = {}
    for beside in (True, False):
        out = tmp_path / str(beside)
        written = geocheck.write_outputs(result, out, formats=("report", "png", "xlsx"),
                                         beside=beside, report_sections=2)
        page = written["report"].read_text(encoding="utf-8")
        assert page.count("data:image/png;base64,") == 3  # the overview and 2 estate maps
        assert "findings.xlsx" in page  # where the estates without a section are
        assert written["xlsx"].stat().st_size > 10_000
        pages[beside] = (re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}", "TIME", page),
                         written["png"].read_bytes())
    assert pages[True] == pages[False]
    stand_in = re.compile(r"data:image/png;base64,iVBORw0KGgpnZW9jaGVjaz[A-Za-z0-9+/]{16}")
    assert not stand_in.search(pages[True][0])


def test_findings_xlsx_claimed_by_a_second_process_that_dies_is_written_here(
        tmp_path, monkeypatch) -> None:
    """The second process claims findings.xlsx and dies before writing it: this process,
    refused the claim, writes it after all."""
    import os
    import time

    import openpyxl
    from helpers import SAMPLE

    import geocheck
    from geocheck import write

    result = geocheck.check(SAMPLE)
    real, main = write._write_xlsx, os.getpid()

    def dying(result, staging, *, claim, **kw):
        if os.getpid() != main:
            staging.claim("findings.xlsx")
            os._exit(1)
        if claim:  # this process asks only once the other has claimed it
            marker = staging.dir / ".claim-findings.xlsx"
            for _ in range(600):
                if marker.exists():
                    break
                time.sleep(0.05)
        return real(result, staging, claim=claim, **kw)

    monkeypatch.setattr(write, "_write_xlsx", dying)
    written = geocheck.write_outputs(result, tmp_path, formats=("png", "xlsx"), beside=True)
    book = openpyxl.load_workbook(written["xlsx"], read_only=True)
    assert "NN-001" in str([row for row in book.worksheets[0].iter_rows(values_only=True)])


def test_a_claim_is_granted_once_across_a_fork(tmp_path) -> None:
    import os

    from geocheck.outdir import Staging

    s = Staging(tmp_path)
    pid = os.fork()
    if pid == 0:  # the child claims first
        os._exit(0 if s.claim("findings.xlsx") else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not s.claim("findings.xlsx") and s.claim("report.html")
    assert not s.claim("report.html")
    s.discard()


def test_map_pages_written_beside_the_tables_are_those_written_after_them(tmp_path) -> None:
    """map.html of the bundled sample, written by a second process and by this one: the same
    bytes, listed in the run's outputs."""
    from helpers import SAMPLE

    import geocheck

    result = geocheck.check(SAMPLE)
    pages = {}
    for beside in (True, False):
        written = geocheck.write_outputs(result, tmp_path / str(beside),
                                         formats=("csv", "map"), beside=beside)
        assert written["map"].name == "map.html"
        page = written["map"].read_bytes()
        assert page.count(b"NN-001") > 1 and b"L.map(" in page  # estates on a Leaflet map
        pages[beside] = page
    assert pages[True] == pages[False]


def test_a_killed_run_leaves_no_second_process_behind(tmp_path) -> None:
    """A run killed with SIGKILL (no handler, no clean-up) while its second process works:
    the kernel ends the second process too."""
    import signal
    import subprocess
    import sys
    import time

    script = ("import os, sys, time\n"
              "from geocheck.core.beside import Beside\n"
              "job = Beside(lambda: time.sleep(120))\n"
              "print(job._process.pid, flush=True)\n"
              "time.sleep(120)\n")
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as run:
        child = int(run.stdout.readline())
        assert _running(child)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    for _ in range(100):  # the kernel's signal is asynchronous
        if not _running(child):
            break
        time.sleep(0.05)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_map_html_beside_the_tables_is_given_the_proposals_worked_out_once(
        tmp_path, monkeypatch) -> None:
    """The second process writes map.html, which shows the proposals: they are worked out
    before it starts (so in one process only), and the proposals.gpkg of the run holds them."""
    import pyogrio
    from helpers import SAMPLE

    import geocheck
    from geocheck import write

    result = geocheck.check(SAMPLE)
    seen = []
    real = write.Beside

    def spy(work, **kw):
        seen.append("proposals" in result.__dict__)
        return real(work, **kw)

    monkeypatch.setattr(write, "Beside", spy)
    written = geocheck.write_outputs(result, tmp_path, formats=("csv", "gpkg", "map"),
                                     beside=True)
    assert seen == [True]
    sites = pyogrio.read_dataframe(written["proposals"], layer="garbage_points")
    assert len(sites) == len(result.proposals.points) > 0


def test_a_second_process_stuck_without_cpu_is_stopped_and_the_work_done_here(
        monkeypatch, capsys) -> None:
    """A second process that waits on something that never comes (here a sleep: no CPU used)
    is taken for stuck after STALL_S seconds of no CPU; the main process does the work."""
    from geocheck.core import beside

    monkeypatch.setattr(beside, "STALL_S", 2.0)
    main = os.getpid()

    def stuck_there() -> int:
        if os.getpid() != main:
            time.sleep(60)
        return os.getpid()

    job = Beside(stuck_there)
    child = job._process
    t0 = time.monotonic()
    assert job.result() == main
    assert 2.0 <= time.monotonic() - t0 < 20.0
    assert child is not None and not child.is_alive()
    assert "used no CPU for 2 s" in capsys.readouterr().err


def test_a_second_process_busy_computing_is_waited_for(monkeypatch) -> None:
    """A second process that computes for longer than STALL_S is not taken for stuck."""
    from geocheck.core import beside

    monkeypatch.setattr(beside, "STALL_S", 1.0)

    def busy() -> int:
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            sum(range(1000))
        return os.getpid()

    assert Beside(busy).result() != os.getpid()


def test_a_forked_process_syncs_and_hashes_its_files_and_hands_the_records_back(tmp_path,
                                                                             monkeypatch):
    """What the second process writes is synced and hashed there, in its own thread; the main
    process takes the records and does not hash the files again."""
    from geocheck import outdir
    from geocheck.core.digest import file_record
    staging = outdir.Staging(tmp_path / "out")

    def work() -> dict:
        for name, size in (("map-001.html", 3_000_000), ("map-002.html", 10)):
            staging.path(name).write_bytes(b"<" * size)
            staging.settle(staging.path(name))
        return staging.forked_records()
    records = Beside(work).result()
    assert staging.forked_records() == {}  # in the staging folder's own process: none
    assert records == {n: file_record(staging.path(n), n) for n in ("map-001.html",
                                                                     "map-002.html")}
    hashed: list[str] = []
    monkeypatch.setattr(outdir, "_settled_record", lambda p: hashed.append(p.name))
    staging.adopt(records)
    assert staging.record(staging.path("map-001.html")) == records["map-001.html"]
    assert hashed == []  # taken as handed back, not hashed again here
    staging.discard()
