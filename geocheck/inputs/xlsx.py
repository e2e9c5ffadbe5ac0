"""The cells of one worksheet of an .xlsx workbook: only the cells that hold something.

openpyxl pads every row to the sheet's declared used range (one stray cell at XFD1048576 turns
a 40 KB sheet into 17 billion empty cells), reads a formula whose value was never computed as
blank, and in read-only mode knows nothing of merged cells. Here the workbook is first checked
against :data:`MAX_UNCOMPRESSED_BYTES` and :data:`MAX_COMPRESSION_RATIO` from its zip
directory alone, then the sheet's XML is streamed through the standard library's expat parser.
A part that declares a DTD is refused, so no entity is ever expanded or fetched (billion laughs,
XXE). Cells in columns without a header are skipped as they stream by, and at most
:data:`MAX_ROWS` rows of data and :data:`MAX_COLUMNS` headers are kept.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from ..core.errors import InputError

MAX_UNCOMPRESSED_BYTES = 1 << 30
"""Largest total size of a workbook's parts once unzipped (1 GiB). A sheet of 100,000 estates
by 300 filled columns is about 1 GB of XML; a real estate sheet is far smaller."""
MAX_COMPRESSION_RATIO = 100
"""Largest ratio of a part's unzipped to zipped size, for parts over :data:`RATIO_FROM_BYTES`.
Spreadsheet XML compresses some 5-30:1; a zip bomb of repeated rows, about 1000:1."""
RATIO_FROM_BYTES = 1 << 20
"""Parts smaller than this (1 MiB unzipped) are too small to matter, whatever their ratio."""
MAX_ROWS = 500_000
"""Most rows of data a sheet may hold (an estate sheet has at most some 100,000)."""
MAX_COLUMNS = 2_000
"""Most headed columns a sheet may hold (an estate sheet has a few hundred)."""
PERCENT_FORMATS = {9, 10}
"""Built-in number formats that show a percentage (``0%``, ``0.00%``)."""
CHUNK = 1 << 20
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


def size_text(n: int) -> str:
    """A size in bytes as text: ``8 MB`` from a million bytes up, else ``1,234 bytes``."""
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n:,} bytes"


def check_limits(book: zipfile.ZipFile, where: str) -> None:
    """Refuse a workbook whose parts would unzip past the limits, from its zip directory alone.

    Raises
    ------
    InputError
        Naming the limit, the part and its size in MB (or its compression ratio).
    """
    total = 0
    for info in book.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise InputError(f"{where}: part {info.filename} would unzip {ratio:,.0f} times its "
                             f"size ({size_text(info.file_size)}), over the limit of "
                             f"{MAX_COMPRESSION_RATIO}:1 (MAX_COMPRESSION_RATIO); refused as a "
                             "zip bomb")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(f"{where}: the workbook unzips to {size_text(total)}, over the limit of "
                         f"{size_text(MAX_UNCOMPRESSED_BYTES)} (MAX_UNCOMPRESSED_BYTES)")


def _parse(book: zipfile.ZipFile, name: str, where: str,
           start: Callable[[str, dict[str, str]], None], end: Callable[[str], None] | None = None,
           text: Callable[[str], None] | None = None) -> None:
    """Stream the XML part ``name`` through expat; tags are given by local name."""
    def refuse(*_args: Any) -> None:
        raise InputError(f"{where}: part {name} declares a DTD (<!DOCTYPE>), which a workbook "
                         "never does; refused (it could expand or fetch entities)")

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = refuse
    parser.StartElementHandler = lambda tag, attrs: start(tag.rpartition("}")[2], attrs)
    if end is not None:
        parser.EndElementHandler = lambda tag: end(tag.rpartition("}")[2])
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        with book.open(name) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except KeyError:
        raise InputError(f"{where}: not an Excel workbook (no part {name})") from None
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"{where}: part {name} cannot be read ({exc})") from None


def _local(attrs: dict[str, str]) -> dict[str, str]:
    return {k.rpartition("}")[2]: v for k, v in attrs.items()}


def _relations(book: zipfile.ZipFile, part: str, where: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last word, target part path) of ``part``."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    out: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], path)

    if rels in book.NameToInfo:
        _parse(book, rels, where, start)
    return out


def _workbook(book: zipfile.ZipFile, sheet: str | None, where: str
              ) -> tuple[str, str | None, str | None, dict[str, bool]]:
    """The chosen sheet's part, the shared strings and styles parts, and the workbook's flags:
    ``date1904`` (dates count from 1904) and ``recalc`` (``fullCalcOnLoad``: the program that
    wrote it left Excel to compute the formulas, so the values it holds are placeholders)."""
    office = [p for kind, p in _relations(book, "", where).values() if kind == "officeDocument"]
    part = office[0] if office else "xl/workbook.xml"
    sheets: list[tuple[str, str]] = []
    flags = {"date1904": False, "recalc": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            a = _local(attrs)
            sheets.append((a.get("name", ""), a.get("id", "")))
        elif tag == "workbookPr":
            flags["date1904"] = attrs.get("date1904", "0") in ("1", "true")
        elif tag == "calcPr":
            flags["recalc"] = attrs.get("fullCalcOnLoad", "0") in ("1", "true")

    _parse(book, part, where, start)
    rels = _relations(book, part, where)
    if not sheets:
        raise InputError(f"{where}: the workbook has no sheet")
    names = [n for n, _ in sheets]
    if sheet is not None and sheet not in names:
        raise InputError(f"{where}: no sheet {sheet!r}; sheets: {', '.join(names)}")
    rid = dict(sheets)[sheet] if sheet is not None else sheets[0][1]
    if rid not in rels:
        raise InputError(f"{where}: sheet {sheet or names[0]!r} has no part in the workbook")
    found = {kind: p for kind, p in rels.values()}
    return rels[rid][1], found.get("sharedStrings"), found.get("styles"), flags


def _shared_strings(book: zipfile.ZipFile, part: str | None, where: str) -> list[str]:
    strings: list[str] = []
    if part is None:
        return strings
    state = {"parts": [], "in_t": False, "phonetic": 0}

    def start(tag: str, _attrs: dict[str, str]) -> None:
        if tag == "si":
            state["parts"] = []
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "t" and not state["phonetic"]:
            state["in_t"] = True

    def end(tag: str) -> None:
        if tag == "si":
            strings.append("".join(state["parts"]))
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def text(data: str) -> None:
        if state["in_t"]:
            state["parts"].append(data)

    _parse(book, part, where, start, end, text)
    return strings


def _styles(book: zipfile.ZipFile, part: str | None, where: str) -> tuple[set[str], set[str]]:
    """Style indices (``s``) of cells formatted as percentages, and as dates."""
    codes: dict[int, str] = dict(BUILTIN_FORMATS)
    xfs: list[int] = []
    inside = [False]
    if part is None:
        return set(), set()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt":
            codes[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            inside[0] = True
        elif tag == "xf" and inside[0]:
            xfs.append(int(attrs.get("numFmtId", 0)))

    def end(tag: str) -> None:
        if tag == "cellXfs":
            inside[0] = False

    try:
        _parse(book, part, where, start, end)
    except ValueError:
        raise InputError(f"{where}: part {part} has a number format that is not a number") \
            from None
    percent = {str(i) for i, f in enumerate(xfs)
               if f in PERCENT_FORMATS or "%" in codes.get(f, "")}
    dates = {str(i) for i, f in enumerate(xfs) if is_date_format(codes.get(f, "General"))}
    return percent, dates


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
    with book:
        check_limits(book, where)
        part, strings_part, styles_part, flags = _workbook(book, sheet, where)
        percent, dates = _styles(book, styles_part, where)
        reader = _SheetReader(where, _shared_strings(book, strings_part, where), percent, dates,
                              CALENDAR_MAC_1904 if flags["date1904"] else CALENDAR_WINDOWS_1900,
                              recalc=flags["recalc"])
        _parse(book, part, where, reader.start, reader.end, reader.text)
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

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            ref = attrs.get("r")
            match = _REF.match(ref) if ref else None
            self.col = column_number(match.group(1)) if match else self.col + 1
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

    def end(self, tag: str) -> None:
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
