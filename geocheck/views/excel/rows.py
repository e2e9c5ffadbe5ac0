"""The data rows of findings.xlsx, made a column at a time.

xlsxwriter keeps every cell as a Python object and writes it in a Python loop of its own; for
a city's findings (3,000 estates x 98 rules x 17 columns, some five million cells) that was
most of the 24 s the workbook took. Here each column is dictionary-encoded first (one
XML tail per distinct value: a text's shared-string index and style, a number's digits) and
the rows are joined from those by Arrow, a block of :data:`CHUNK_ROWS` rows at a time, and
deflated straight into the workbook's zip where xlsxwriter would write its rows
(:class:`FastSheet`, :class:`_Zip`; never written to a temporary part file). xlsxwriter
still writes everything else (header row, column widths, frozen panes, autofilter,
conditional formats, the shared-string table and the styles).

Formula safety is that of :mod:`geocheck.views.excel`: a text cell is always a shared string
(``t="s"``), never a formula; text starting with ``= + - @``, tab or carriage return also gets
the ``quote_prefix`` style. Shared strings are escaped by xlsxwriter when it writes the table
(plain ones, which need no escaping, are written as they are: :func:`_write_sst_strings`).

The zip is deflated at :data:`ZIP_LEVEL` (:func:`close_fast`), which took the rest of the
time. This uses some of xlsxwriter's internals (tested against the version pinned in
pyproject.toml): the workbook's shared-string table, its writer (``_write_sst_strings``,
``_write_si``) and ``ZipFile``, a format's XF index and the worksheet's
``_write_sheet_data``; and the standard library's ``zipfile`` member writer's compressor.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
import xlsxwriter.workbook
from isal import isal_zlib as _deflate
from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from ..text import FORMULA_START

CHUNK_ROWS = 20_000
"""Rows joined into one block of XML at a time (bounds the memory of the strings)."""

MAX_TEXT = 32_767
"""UTF-16 code units an Excel cell holds; longer text is cut, as xlsxwriter does."""


@dataclass
class CellColumn:
    """One column's cells: row k's cell ends with ``tails[codes[k]]`` (the XML after the
    cell's reference); code -1 leaves the cell empty. Codes are int32 (a sheet has at most
    1,048,576 rows), half the memory of int64 while a cut province waits to be written."""

    codes: np.ndarray
    tails: np.ndarray


def _style(fmt: Format | None) -> str:
    return "" if fmt is None else f' s="{fmt._get_xf_index()}"'


def _fit(text: str) -> str:
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        cut = text.encode("utf-16-le")[:2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
        return cut
    return text


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _inline(text: str, style: str) -> str:
    """An in-line string cell's tail: the text escaped for XML (control characters as
    Excel's ``_xHHHH_``)."""
    text = re.sub("(_x[0-9a-fA-F]{4}_)", r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", xml_escape(text))
    return f'"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def text_cells(codes: np.ndarray, texts: list[str], strings: object,
               quote: Format) -> CellColumn:
    """Shared-string cells of ``texts[codes]`` ('' or code -1: empty); ``strings`` is the
    workbook's shared-string table, ``quote`` the ``quote_prefix`` format given to text that
    starts like a formula. A text xlsxwriter would take for rich text (``<r>...</r>``, which it
    writes into the table unescaped) is written in-line instead, escaped."""
    index = strings._get_shared_string_index  # type: ignore[attr-defined]
    q = _style(quote)
    tails = [""] * len(texts)
    shared = np.zeros(len(texts) + 1, dtype=bool)  # and a last entry for code -1
    for k, t in enumerate(texts):
        if not t:
            continue
        style = q if t.startswith(FORMULA_START) else ""
        if len(t) > MAX_TEXT // 2:
            t = _fit(t)
        if t.startswith("<r>") and t.endswith("</r>"):
            tails[k] = _inline(t, style)
        else:
            tails[k] = f'"{style} t="s"><v>{index(t)}</v></c>'
            shared[k] = True
    filled = np.asarray([bool(t) for t in texts] + [False])
    codes = np.where(filled[codes], codes, -1).astype(np.int32)
    # the table counts every reference to it (index() above counted one per distinct text)
    strings.count += int(shared[codes].sum()) - int(shared.sum())  # type: ignore[attr-defined]
    return CellColumn(codes, np.array([*tails, ""], dtype=object))


def number_cells(series: pd.Series, fmt: Format | None) -> CellColumn:
    """Number cells (digits as xlsxwriter writes them, ``%.16G``); NaN, NA and infinities
    empty."""
    numbers = series.astype("float64").to_numpy(na_value=np.nan)
    numbers = np.where(np.isfinite(numbers), numbers, np.nan)
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    s = _style(fmt)
    tails = [f'"{s}><v>{v:.16G}</v></c>' for v in uniques]
    return CellColumn(np.asarray(codes, dtype=np.int32), np.array([*tails, ""], dtype=object))


def bool_cells(series: pd.Series) -> CellColumn:
    """TRUE / FALSE cells; missing values empty."""
    missing = series.isna().to_numpy(dtype=bool)
    truth = series.fillna(False).astype(bool).to_numpy()
    codes = np.where(missing, -1, truth.astype(np.int32)).astype(np.int32)
    return CellColumn(codes, np.array(['" t="b"><v>0</v></c>', '" t="b"><v>1</v></c>', ""],
                                      dtype=object))


def rows_xml(columns: list[CellColumn], first_row: int = 1,
             chunk: int | None = None) -> Iterator[pa.Buffer]:
    """The ``<row>`` elements of ``columns`` as UTF-8 XML, the first one on sheet row
    ``first_row`` (0-based), in blocks of ``chunk`` rows (default :data:`CHUNK_ROWS`, read
    when called).

    A cell is its column's ``<c r="`` and letters, the row number and its tail (taken from the
    column's distinct tails by its codes); a cell of code -1 is left out of its row. The rows
    are joined by Arrow (``binary_join_element_wise``) from two parts per column: the row
    number (null where the cell is left out) and a piece taken from :func:`_pieces`, the
    cell's tail followed by the next cell's ``<c r="`` and letters (or ``</row>``). A column
    whose cells are all left out has no row number part."""
    n = len(columns[0].codes) if columns else 0
    chunk = chunk or CHUNK_ROWS
    text = pa.large_string()
    pieces, lead = _pieces(columns)
    row_open, empty = pa.scalar('<row r="', text), pa.scalar("", text)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        refs = pa.array(np.arange(start + first_row + 1, stop + first_row + 1)).cast(text)
        codes = [col.codes[start:stop] for col in columns]
        present = [c >= 0 for c in codes] + [np.ones(stop - start, dtype=bool)]
        parts = [row_open, refs, pc.take(lead, present[0].view(np.int8))]
        for j, c in enumerate(codes):
            if present[j].all():
                parts.append(refs)
            elif present[j].any():
                parts.append(pc.take(refs, pa.array(np.arange(stop - start, dtype=np.int32),
                                                    mask=~present[j])))
            parts.append(pc.take(pieces[j], 2 * c + 2 + present[j + 1].view(np.int8)))
        rows = pc.binary_join_element_wise(*parts, empty, null_handling="replace",
                                           null_replacement="")
        yield _joined(rows)


def _pieces(columns: list[CellColumn]) -> tuple[list[pa.Array], pa.Array]:
    """Per column, its tails each followed by nothing or by the next cell's start: piece
    ``2 * code + 2 + next`` is the tail of ``code`` (nothing for -1), then, when ``next`` is 1,
    the next column's ``<c r="`` and letters (after the last column: ``</row>``, always).
    And the row's lead: ``">`` then, when the first cell is there, its start."""
    text = pa.large_string()
    starts = ['<c r="' + xl_col_to_name(j) for j in range(len(columns))] + ["</row>"]
    pieces = []
    for j, col in enumerate(columns):
        after = starts[j + 1]
        last = j == len(columns) - 1
        pieces.append(pa.array([t + a for t in ["", *col.tails[:-1]]
                                for a in (after if last else "", after)], text))
    lead = pa.array(['">', '">' + starts[0]], text)
    return pieces, lead


def rows_size(columns: list[CellColumn], first_row: int = 1) -> int:
    """Bytes of all the XML :func:`rows_xml` makes of ``columns`` (UTF-8), counted without
    making it."""
    n = len(columns[0].codes) if columns else 0
    if not n:
        return 0
    refs = np.arange(first_row + 1, first_row + n + 1)
    digits = 1 + sum((refs >= 10 ** k).astype(np.int64) for k in range(1, 8))
    cells = np.zeros(n, dtype=np.int64)
    size = n * len('<row r=""></row>')
    for j, col in enumerate(columns):
        tails = np.array([len(t.encode("utf-8")) for t in col.tails], dtype=np.int64)
        present = col.codes >= 0
        cells += present
        size += int(tails[col.codes].sum())  # code -1 takes the last, empty, tail
        size += int(present.sum()) * len('<c r="' + xl_col_to_name(j))
    return size + int((digits * (cells + 1)).sum())


def _joined(strings: pa.Array) -> pa.Buffer:
    """The values of a (large) string array one after another, as UTF-8 bytes (the array's
    own buffer, not copied)."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return strings.buffers()[2][first:last]


ZIP_LEVEL = 1
"""Deflate level of the workbook's zip (xlsxwriter's is zlib's default, 6). On a city's
findings (a 154 MB sheet XML) level 1 compressed some five times faster than level 6, into a
file about 17 % larger (20 MB against 17 MB). ISA-L's level 0 takes as long as its level 1
on a city's parts (223 MB of XML: 0.24 s) into a 37 % larger zip (39.5 MB against 28.9 MB);
its level 2 is level 1 again, its level 3 five times slower for 4 % less."""

ZIP_BLOCK = 1 << 20
"""Bytes of a part file read and deflated at a time (the standard library's ``ZipFile.write``
reads 8 KiB, twenty-seven thousand calls for a city's findings sheet)."""

class _Zip(zipfile.ZipFile):
    """The workbook's zip: each part file deflated at :data:`ZIP_LEVEL`, read
    :data:`ZIP_BLOCK` bytes at a time, by ISA-L (at level 1 about three times as fast as
    zlib, into as small a file; any deflate stream is a valid zip member, which readers
    inflate as any other). The data rows of ``sheets`` (:class:`FastSheet`) that were left
    out of their part files are made here, where they go: into the zip, between the part
    file's bytes before and after them, never written to a temporary file and read back."""

    def __init__(self, *args: object, sheets: tuple[FastSheet, ...] = (),
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._sheets = sheets  # their part files are written after the zip is opened

    def write(self, filename: object, arcname: object = None, compress_type: object = None,
              compresslevel: object = None) -> None:
        if compress_type is not None or compresslevel is not None or os.path.isdir(filename):
            super().write(filename, arcname, compress_type, compresslevel)
            return
        info = zipfile.ZipInfo.from_file(filename, arcname,
                                         strict_timestamps=self._strict_timestamps)
        info.compress_type = self.compression
        info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
        sheet = next((ws for ws in self._sheets
                      if ws.rows_left is not None and ws.rows_left[0] == filename), None)
        if sheet is not None:  # the whole part's size decides whether it needs ZIP64
            info.file_size += sheet.rows_size()
        with open(filename, "rb") as src, self.open(info, "w") as dest:
            if self.compression == zipfile.ZIP_DEFLATED:
                # the stdlib's writer takes its compressor from zlib; same raw deflate format
                dest._compressor = _deflate.compressobj(  # type: ignore[attr-defined]
                    ZIP_LEVEL, _deflate.DEFLATED, -15)
            if sheet is not None:
                dest.write(src.read(sheet.rows_left[1]))
                for block in sheet.data_rows():  # type: ignore[misc]
                    dest.write(memoryview(block))
            shutil.copyfileobj(src, dest, ZIP_BLOCK)


_NOT_PLAIN = r"[\x00-\x1f&<>]|_x"
"""What makes xlsxwriter write a shared string other than as ``<si><t>text</t></si>``, with
leading or trailing white space (kept with ``xml:space``): control characters (escaped
``_xHHHH_``, and an ``_x`` that could read as one), XML's ``& < >`` (escaped, or ``<r>`` rich
text). Looked for by Arrow (RE2) in all the strings at once."""


def _plain(strings: list[str]) -> list[bool]:
    """Whether each string is plain: none of :data:`_NOT_PLAIN`, and no white space (as
    Python's ``str.isspace``, which is the ``\\s`` xlsxwriter looks for) first or last."""
    if not strings:
        return []
    odd = pc.match_substring_regex(pa.array(strings, pa.large_string()), _NOT_PLAIN)
    return [not (o or s[:1].isspace() or s[-1:].isspace())
            for o, s in zip(odd.to_numpy(zero_copy_only=False).tolist(), strings, strict=True)]


def _write_sst_strings(self: SharedStrings) -> None:
    """xlsxwriter's ``SharedStrings._write_sst_strings``, the same XML: a plain text
    (:func:`_plain`) is written as it is, a block at a time; any other by xlsxwriter's own
    ``_write_si``."""
    strings = self.string_table.string_array
    block: list[str] = []
    for string, plain in zip(strings, _plain(strings), strict=True):
        if plain:
            block.append(f"<si><t>{string}</t></si>")
        else:
            self.fh.write("".join(block))
            block = []
            self._write_si(string)
    self.fh.write("".join(block))


def close_fast(wb: xlsxwriter.Workbook) -> None:
    """Close (write) the workbook, its zip deflated at :data:`ZIP_LEVEL` (:class:`_Zip`),
    its shared strings written by :func:`_write_sst_strings`, the data rows of its
    :class:`FastSheet` sheets made straight into the zip.

    xlsxwriter has no option for the level; its ``ZipFile`` and the shared-string writer are
    replaced for this call only.
    """
    module = xlsxwriter.workbook
    original, sst = module.ZipFile, SharedStrings._write_sst_strings
    sheets = tuple(ws for ws in wb.worksheets() if isinstance(ws, FastSheet))
    for ws in sheets:
        ws.rows_to_zip = True
    module.ZipFile = functools.partial(_Zip, compresslevel=ZIP_LEVEL, sheets=sheets)
    SharedStrings._write_sst_strings = _write_sst_strings  # type: ignore[method-assign]
    try:
        wb.close()
    finally:
        module.ZipFile = original
        SharedStrings._write_sst_strings = sst  # type: ignore[method-assign]
        for ws in sheets:
            ws.rows_to_zip, ws.rows_left = False, None


class FastSheet(Worksheet):
    """A worksheet whose data rows below the header come from :attr:`data_rows` (XML blocks,
    see :func:`rows_xml`) instead of xlsxwriter's cell table.

    When :attr:`rows_to_zip` is set (by :func:`close_fast`) and the sheet's part is a file,
    the rows are left out of it: :attr:`rows_left` then holds the file's name and the offset
    where they go, and :class:`_Zip` makes them into the zip there."""

    def __init__(self) -> None:
        super().__init__()
        self.data_rows: Callable[[], Iterator[pa.Buffer]] | None = None
        self.rows_size: Callable[[], int] | None = None
        self.rows_to_zip = False
        self.rows_left: tuple[str, int] | None = None

    def set_data_rows(self, rows: Callable[[], Iterator[pa.Buffer]], n: int, ncols: int,
                      size: Callable[[], int] | None = None) -> None:
        """Write ``rows()`` below the header: ``n`` rows of ``ncols`` columns, ``size()``
        bytes in all (when given, the rows can be made straight into the zip)."""
        self.data_rows, self.rows_size = rows, size
        if n and ncols:
            self._check_dimensions(n, ncols - 1)

    def _write_sheet_data(self) -> None:
        if self.data_rows is None or self.dim_rowmin is None:  # no rows, or not even a header
            super()._write_sheet_data()
            return
        self._xml_start_tag("sheetData")
        last, self.dim_rowmax = self.dim_rowmax, 0
        self._write_rows()  # the header row, kept by xlsxwriter
        self.dim_rowmax = last
        raw = getattr(self.fh, "buffer", None)  # the sheet's file (None: in memory)
        self.fh.flush()
        if raw is not None and self.rows_to_zip and self.rows_size is not None:
            self.rows_left = (self.fh.name, raw.tell())
        else:
            for block in self.data_rows():
                if raw is None:
                    self.fh.write(block.to_pybytes().decode("utf-8"))
                else:
                    raw.write(block)
        self._xml_end_tag("sheetData")
