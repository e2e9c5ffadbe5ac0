"""The parts of an .xlsx workbook (a zip of XML files) other than the cells of its sheets.

Before anything is parsed, :func:`check_limits` refuses a workbook whose parts would unzip past
:data:`MAX_UNCOMPRESSED_BYTES` or :data:`MAX_COMPRESSION_RATIO`, from the zip directory alone.
Every part is then streamed through the standard library's expat parser by
:func:`parse_part`, which refuses a part that declares a DTD: no entity is ever expanded or
fetched (billion laughs, XXE). Here too: which part holds which sheet, the shared strings, and
which cell styles show percentages or dates. :mod:`geocheck.inputs.xlsx` reads the cells.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

from ..core.errors import InputError

MAX_UNCOMPRESSED_BYTES = 1 << 30
"""Largest total size of a workbook's parts once unzipped (1 GiB). A sheet of 100,000 estates
by 300 filled columns is about 1 GB of XML; a real estate sheet is far smaller."""
MAX_COMPRESSION_RATIO = 100
"""Largest ratio of a part's unzipped to zipped size, for parts over :data:`RATIO_FROM_BYTES`.
Spreadsheet XML compresses some 5-30:1; a zip bomb of repeated rows, about 1000:1."""
RATIO_FROM_BYTES = 1 << 20
"""Parts smaller than this (1 MiB unzipped) are too small to matter, whatever their ratio."""
PERCENT_FORMATS = {9, 10}
"""Built-in number formats that show a percentage (``0%``, ``0.00%``)."""
CHUNK = 1 << 20


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


def parse_part(book: zipfile.ZipFile, name: str, where: str,
           start: Callable[[str, dict[str, str]], None], end: Callable[[str], None] | None = None,
           text: Callable[[str], None] | None = None, *, local_names: bool = True) -> None:
    """Stream the XML part ``name`` through expat; tags are given by local name (or as
    ``namespace}tag`` with ``local_names=False``, sparing a call per element)."""
    def refuse(*_args: Any) -> None:
        raise InputError(f"{where}: part {name} declares a DTD (<!DOCTYPE>), which a workbook "
                         "never does; refused (it could expand or fetch entities)")

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = refuse
    names: dict[str, str] = {}  # namespace}tag -> tag, once per distinct tag

    def local(tag: str) -> str:
        name = names.get(tag)
        if name is None:
            name = names[tag] = tag.rpartition("}")[2]
        return name

    if local_names:
        parser.StartElementHandler = lambda tag, attrs: start(local(tag), attrs)
        if end is not None:
            parser.EndElementHandler = lambda tag: end(local(tag))
    else:
        parser.StartElementHandler, parser.EndElementHandler = start, end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        with book.open(name) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except KeyError:
        raise InputError(f"{where}: not an Excel workbook (no part {name})") from None
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError,
            ValueError) as exc:  # a corrupt zip member, or XML whose numbers are not numbers
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
        parse_part(book, rels, where, start)
    return out


def workbook_parts(book: zipfile.ZipFile, sheet: str | None, where: str
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

    parse_part(book, part, where, start)
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


def shared_strings(book: zipfile.ZipFile, part: str | None, where: str) -> list[str]:
    """The workbook's shared strings in order (rich text joined, phonetic runs left out)."""
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

    parse_part(book, part, where, start, end, text)
    return strings


def cell_styles(book: zipfile.ZipFile, part: str | None, where: str
                ) -> tuple[set[str], set[str]]:
    """Style indices (``s``) of cells formatted as percentages, and as dates."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format  # when a book is read
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
        parse_part(book, part, where, start, end)
    except ValueError:
        raise InputError(f"{where}: part {part} has a number format that is not a number") \
            from None
    percent = {str(i) for i, f in enumerate(xfs)
               if f in PERCENT_FORMATS or "%" in codes.get(f, "")}
    dates = {str(i) for i, f in enumerate(xfs) if is_date_format(codes.get(f, "General"))}
    return percent, dates
