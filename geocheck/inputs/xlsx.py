"""The cells of one worksheet of an .xlsx workbook: only the cells that hold something.

openpyxl pads every row to the sheet's declared used range (one stray cell at XFD1048576 turns
a 40 KB sheet into 17 billion empty cells), reads a formula whose value was never computed as
blank, and in read-only mode knows nothing of merged cells. Here the workbook is checked against
its limits and its parts are found by :mod:`geocheck.inputs.xlsx_parts`, then the sheet's XML
is streamed through expat: cells in columns without a header are skipped as they stream by, and
at most :data:`MAX_ROWS` rows of data and :data:`MAX_COLUMNS` headers are kept.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .xlsx_parts import cell_styles, check_limits, parse_part, shared_strings, workbook_parts

MAX_ROWS = 500_000
"""Most rows of data a sheet may hold (an estate sheet has at most some 100,000)."""
MAX_COLUMNS = 2_000
"""Most headed columns a sheet may hold (an estate sheet has a few hundred)."""
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


class Uncomputed:
    """A formula cell whose workbook holds no computed value (it was written by a program and
    never opened in Excel): no data, neither 0 nor blank."""

    def __repr__(self) -> str:
        return "formula without a computed value"


UNCOMPUTED = Uncomputed()
"""The value of every formula cell without a computed value."""


@dataclass
class Cells:
    """A worksheet's header and rows of data, as read.

    Attributes
    ----------
    header : the header row's non-empty cells, left to right (the first row holding anything).
    rows : the rows below it holding a value under a header, each aligned to ``header``; a
        formula without a computed value is :data:`UNCOMPUTED`.
    labels : each row's label, ``row 7`` for the sheet's row 7.
    percent : (row index, header index) of numbers formatted as percentages (0.95 = 95 %).
    notes : what the reader did that the user should know (formulas, merged cells).
    """

    header: list[Any]
    rows: list[list[Any]]
    labels: list[str]
    percent: set[tuple[int, int]] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def column_number(letters: str) -> int:
    """Column letters as a 1-based number: ``A`` -> 1, ``XFD`` -> 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    """A 1-based column number as letters: 28 -> ``AB``."""
    text = ""
    while n:
        n, r = divmod(n - 1, 26)
        text = chr(65 + r) + text
    return text


def read_cells(path: Path, sheet: str | None, where: str) -> Cells:
    """Read the header and the rows of data of one sheet of the .xlsx workbook at ``path``.

    Parameters
    ----------
    path : the workbook (.xlsx or .xlsm).
    sheet : the sheet's name; None for the first sheet.
    where : how messages name the file, e.g. ``attributes sheet a.xlsx``.

    Raises
    ------
    InputError
        The file is not a workbook, is over a limit (:data:`MAX_UNCOMPRESSED_BYTES`,
        :data:`MAX_COMPRESSION_RATIO`, :data:`MAX_ROWS`, :data:`MAX_COLUMNS`), declares a DTD,
        or has no such sheet.
    """
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{where}: cannot be read as an Excel workbook ({exc})") from None
    # openpyxl (its date and number-format tables only) is loaded when a workbook is read
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900
    with book:
        check_limits(book, where)
        part, strings_part, styles_part, flags = workbook_parts(book, sheet, where)
        percent, dates = cell_styles(book, styles_part, where)
        reader = _SheetReader(where, shared_strings(book, strings_part, where), percent, dates,
                              CALENDAR_MAC_1904 if flags["date1904"] else CALENDAR_WINDOWS_1900,
                              recalc=flags["recalc"])
        parse_part(book, part, where, reader.start, reader.end, reader.text, local_names=False)
    return reader.finish()


class _SheetReader:
    """The handlers that stream one worksheet's XML into :class:`Cells`."""

    def __init__(self, where: str, strings: list[str], percent: set[str], dates: set[str],
                 epoch: Any, *, recalc: bool) -> None:
        self.where, self.strings, self.epoch, self.recalc = where, strings, epoch, recalc
        self.percent_styles, self.date_styles = percent, dates
        self.header: list[Any] | None = None
        self.head_cells: dict[int, Any] = {}
        self.keep: dict[int, int] = {}
        self.rows: list[list[Any]] = []
        self.row_numbers: list[int] = []
        self.percent: set[tuple[int, int]] = set()
        self.merges: list[str] = []
        self.computed: list[str] = []
        self.uncomputed: list[str] = []
        self.row, self.col, self.current = 0, 0, None
        self.cell: dict[str, Any] | None = None
        self.buffer: list[str] | None = None
        self.phonetic, self.header_row = 0, 0
        self.columns: dict[str, int] = {}  # letters -> column number, once per column
        self.tags: dict[str, str] = {}  # namespace}tag -> tag, once per distinct tag

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = self.tags.get(name) or self._tag(name)
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = self.columns.get(letters)
                if col is None:
                    match = _REF.match(ref)
                    col = self.columns[letters] = column_number(match.group(1)) if match else 0
                self.col = col or self.col + 1
            else:
                self.col += 1
            if self.header is not None and self.col not in self.keep:
                self.cell = None  # no header above it: not read
                return
            self.cell = {"t": attrs.get("t", "n"), "s": attrs.get("s"), "v": None,
                         "f": False, "is": None}
        elif self.cell is None:
            if tag == "row":
                self.row = int(attrs.get("r", self.row + 1))
                self.col, self.current = 0, None
            elif tag == "mergeCell" and attrs.get("ref"):
                self.merges.append(attrs["ref"])
        elif tag == "v":
            self.buffer = []
        elif tag == "f":
            self.cell["f"] = True
        elif tag == "is":
            self.cell["is"] = []
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and self.cell["is"] is not None and not self.phonetic:
            self.buffer = self.cell["is"]

    def text(self, data: str) -> None:
        if self.buffer is not None:
            self.buffer.append(data)

    def _tag(self, name: str) -> str:
        tag = self.tags[name] = name.rpartition("}")[2]
        return tag

    def end(self, name: str) -> None:
        tag = self.tags.get(name) or self._tag(name)
        if self.cell is not None:
            if tag == "v":
                self.cell["v"] = "".join(self.buffer or [])
                self.buffer = None
            elif tag == "t":
                self.buffer = None
            elif tag == "rPh":
                self.phonetic -= 1
            elif tag == "c":
                self._store(self._value(self.cell), self.cell["s"])
                self.cell = None
        elif tag == "row":
            self._end_row()

    def _value(self, cell: dict[str, Any]) -> Any:
        kind, v = cell["t"], cell["v"]
        if cell["f"]:
            ref = f"{column_letters(self.col)}{self.row}"
            if self.recalc or v is None or (v == "" and kind not in ("str", "inlineStr")):
                self.uncomputed.append(ref)
                return UNCOMPUTED
            self.computed.append(ref)
        try:
            if kind == "inlineStr":
                return "".join(cell["is"] or []) or None
            if v is None or v == "":
                return None
            if kind == "s":
                return self.strings[int(v)] or None
            if kind == "b":
                return v.strip() in ("1", "true")
            if kind in ("str", "e", "d"):
                return v
            number = float(v)
        except (ValueError, IndexError):
            ref = f"{column_letters(self.col)}{self.row}"
            raise InputError(f"{self.where}: cell {ref} holds {v[:40]!r}, which is not a valid "
                             f"{kind!r} cell") from None
        if cell["s"] in self.date_styles:
            try:
                from openpyxl.utils.datetime import from_excel
                return from_excel(number, self.epoch)
            except (ValueError, OverflowError):
                return number
        return int(number) if number.is_integer() and abs(number) < 1e15 else number

    def _store(self, value: Any, style: str | None) -> None:
        if value is None:
            return
        if self.header is None:
            self.head_cells[self.col] = value
            return
        if self.current is None:
            self.current = [None] * len(self.keep)
            self.rows.append(self.current)
            self.row_numbers.append(self.row)
            if len(self.rows) > MAX_ROWS:
                raise InputError(f"{self.where}: more than {MAX_ROWS:,} rows of data, over the "
                                 "limit (MAX_ROWS); split the sheet")
        j = self.keep[self.col]
        self.current[j] = value
        if style in self.percent_styles and isinstance(value, int | float) \
                and not isinstance(value, bool):
            self.percent.add((len(self.rows) - 1, j))

    def _end_row(self) -> None:
        if self.header is None and self.head_cells:
            cols = sorted(c for c, v in self.head_cells.items()
                          if v is not UNCOMPUTED and str(v).strip())
            if len(cols) > MAX_COLUMNS:
                raise InputError(f"{self.where}: {len(cols):,} headed columns, over the limit "
                                 f"of {MAX_COLUMNS:,} (MAX_COLUMNS)")
            self.header = [self.head_cells[c] for c in cols]
            self.keep = {c: j for j, c in enumerate(cols)}
            self.header_row = self.row
            self.computed, self.uncomputed = [], []
        self.current = None

    def finish(self) -> Cells:
        if self.header is None:
            raise InputError(f"{self.where}: the sheet is empty")
        notes: list[str] = []
        spread = self._spread_merges()
        if spread:
            notes.append(f"{self.where}: merged cells in rows {spread} applied to each row "
                         "they span")
        done, never = len(self.computed), len(self.uncomputed)
        if done:
            notes.append(f"{self.where}: " + ("1 cell is a formula; its computed value was used"
                                               if done == 1 else f"{done:,} cells are formulas; "
                                               "their computed values were used"))
        if never:
            some = ", ".join(self.uncomputed[:5]) + (" ..." if never > 5 else "")
            notes.append(f"{self.where}: " + (
                f"1 cell is a formula without a computed value ({some}); it is no data"
                if never == 1 else f"{never:,} cells are formulas without a computed value "
                f"({some}); they are no data") + " (open and save the workbook in Excel to "
                "compute them)" + ("; the program that wrote it left their computing to Excel "
                                   "(fullCalcOnLoad), so the values it holds are placeholders"
                                   if self.recalc else ""))
        labels = [f"row {r}" for r in self.row_numbers]
        return Cells(self.header, self.rows, labels, self.percent, notes)

    def _spread_merges(self) -> str:
        """Copy each merged range's value (its top-left cell's) to every row of data and headed
        column it spans; return the row spans applied, e.g. ``4-9, 12-13``."""
        index = {r: i for i, r in enumerate(self.row_numbers)}
        spans: list[str] = []
        for ref in self.merges:
            corners = [_REF.match(p) for p in ref.split(":")]
            if len(corners) != 2 or not all(corners):
                continue
            (c0, r0), (c1, r1) = ((column_number(m.group(1)), int(m.group(2)))
                                  for m in corners if m)
            if r0 <= self.header_row or c0 not in self.keep or r0 not in index:
                continue
            top = index[r0]
            value = self.rows[top][self.keep[c0]]
            is_percent = (top, self.keep[c0]) in self.percent
            targets = [(index[r], self.keep[c]) for r in range(r0, r1 + 1) if r in index
                       for c in range(c0, c1 + 1) if c in self.keep]
            if value is None or len(targets) < 2:
                continue
            for i, j in targets:
                self.rows[i][j] = value
                if is_percent:
                    self.percent.add((i, j))
            spans.append(f"{r0}-{r1}" if r1 > r0 else f"{r0}")
        return ", ".join(spans[:10]) + (f" and {len(spans) - 10} more" if len(spans) > 10
                                         else "")
