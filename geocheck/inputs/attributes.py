"""The attributes sheet: record-based indicators per estate, read from Excel or CSV.

One row per estate, identified by ``小区编号`` (estate_id); one column per attribute of the pack
(see :class:`~geocheck.core.indicators.Attribute`), headed in Chinese with the standard number
and unit, e.g. ``GX-16 社区专职工作人员（人）``. ``户数`` (households) and ``建设类型``
(new / existing) fill what the estates layer lacks. A blank cell is no data, never a pass; a
cell that cannot be read is an error naming the estate and the column.
:func:`geocheck.views.template.write_template` writes a fill-in sheet with Excel data
validation.

A workbook is streamed cell by cell (:mod:`geocheck.inputs.xlsx`): only cells holding data are
read, within limits on its unzipped size, compression ratio, rows and columns; a formula counts
by the value Excel computed, and one without a computed value is no data with that reason;
a merged cell applies to every row it spans. A CSV sheet is held to the same limits before it
is parsed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.indicators import (
    BUILT_HEADER,
    HOUSEHOLDS_HEADER,
    ID_HEADER,
    NAME_HEADER,
    TARGET_YEAR_HEADER,
    Attribute,
)
from ..core.roles import TARGET_YEARS
from ..core.site import Site
from ..core.units import plain
from .sources import Source, read_table
from .xlsx import MAX_COLUMNS, MAX_ROWS, UNCOMPUTED, read_cells
from .xlsx_parts import MAX_UNCOMPRESSED_BYTES, size_text

CORE = {"estate_id": (ID_HEADER, "estate_id", "编号", "小区id"),
        "name": (NAME_HEADER, "name", "名称"),
        "households": (HOUSEHOLDS_HEADER, "households", "户数"),
        "built": (BUILT_HEADER, "built", "建设类型"),
        "target_year": (TARGET_YEAR_HEADER, "target_year", "创建年份", "目标年份")}
FILLED = ("households", "built", "target_year")
"""Core columns whose values fill the estates layer's blanks (and must agree with it)."""
YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "符合", "达标", "已建立", "已设立"}
NO = {"否", "无", "n", "no", "false", "0", "×", "✗", "✘", "不符合", "不达标", "未建立", "未设立"}
BUILT = {"新建": "new", "new": "new", "已建成": "existing", "已建": "existing",
         "existing": "existing", "既有": "existing", "老旧": "existing"}
MAX_ERRORS = 12
MAX_LISTED_REJECTS = 20
"""Rows naming no estate are listed as rejects one by one up to this many; more are counted
in one note."""


def _norm(text: Any) -> str:
    """Header text compared loosely: NFKC (full-width brackets and ％ to ASCII), no spaces,
    lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


@dataclass
class Sheet:
    """An attributes sheet as read: text/number cells by estate, and where each came from.

    Attributes
    ----------
    table : one row per sheet row with an estate id: ``estate_id``, ``row`` (the sheet's row
        label), the core columns present and one column per recognised attribute (raw cells).
    percent_cells : (row label, key) of Excel cells formatted as percentages (value 0.95 = 95 %).
    columns : attribute key -> the header as written in the sheet.
    ignored : headers that name nothing in the pack.
    notes : how the file was read (e.g. decoded as GBK).
    """

    table: pd.DataFrame
    percent_cells: set[tuple[str, str]]
    columns: dict[str, str]
    ignored: list[str]
    notes: list[str]


def _header_map(attributes: Sequence[Attribute]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key, aliases in CORE.items():
        for alias in aliases:
            names[_norm(alias)] = key
    for a in attributes:
        for alias in (a.header, a.key, a.title_zh, f"{a.standard} {a.title_zh}"):
            names.setdefault(_norm(alias), a.key)
    return names


def _read_cells(path: Path, sheet: str | None
                ) -> tuple[list[Any], pd.DataFrame, list[str], set[tuple[int, int]], list[str]]:
    """Header, the cells below it (object columns by header position, blanks None), row
    labels, (row, col) positions of percent cells, notes."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        cells = read_cells(path, sheet, f"attributes sheet {path}")
        body = pd.DataFrame(cells.rows, columns=range(len(cells.header)), dtype=object)
        return cells.header, body, cells.labels, cells.percent, cells.notes
    if suffix in (".csv", ".tsv", ".txt"):
        notes: list[str] = []
        _check_text_limits(path)
        try:
            table, labels, _ = read_table(Source(path, "attributes"), f"attributes sheet {path}")
        except InputError as utf8_error:
            # Excel on Chinese Windows saves CSV as GBK. Unlike a layer, a sheet proves its
            # decoding: read as GB18030, its 小区编号 header must appear, or the first error
            # stands.
            try:
                table, labels, _ = read_table(Source(path, "attributes", encoding="gb18030"),
                                              f"attributes sheet {path}")
            except InputError:
                raise utf8_error from None
            if ID_HEADER not in {str(c).strip() for c in table.columns}:
                raise utf8_error from None
            notes.append(f"attributes sheet {path.name}: not UTF-8; read as GBK (GB18030), "
                         f"which gives its {ID_HEADER} header")
        body = table.astype(object).where(table.notna(), None)
        header = list(body.columns)
        body.columns = range(len(header))
        return header, body, labels, set(), notes
    if suffix == ".xls":
        raise InputError(f"attributes sheet {path}: old .xls workbooks cannot be read; save it "
                         "as .xlsx (Excel: File > Save As > Excel Workbook)")
    raise InputError(f"attributes sheet {path}: not an Excel (.xlsx) or CSV file")


def _check_text_limits(path: Path) -> None:
    """Refuse a CSV sheet over the size, row or column limits before it is parsed (rows
    counted as line ends, columns as the header line's separators: upper bounds)."""
    where = f"attributes sheet {path}"
    size = path.stat().st_size
    if size > MAX_UNCOMPRESSED_BYTES:
        raise InputError(f"{where}: {size_text(size)}, over the limit of "
                         f"{size_text(MAX_UNCOMPRESSED_BYTES)} (MAX_UNCOMPRESSED_BYTES)")
    lines, first = 0, b""
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            if not lines and not first:
                first = chunk.split(b"\n", 1)[0]
            lines += chunk.count(b"\n")
    if lines > MAX_ROWS + 1:
        raise InputError(f"{where}: {lines:,} lines, over the limit of {MAX_ROWS:,} rows of "
                         "data (MAX_ROWS); split the sheet")
    columns = 1 + max(first.count(sep) for sep in (b",", b"\t", b";"))
    if columns > MAX_COLUMNS:
        raise InputError(f"{where}: about {columns:,} columns, over the limit of "
                         f"{MAX_COLUMNS:,} (MAX_COLUMNS)")


def read_sheet(path: str | Path, attributes: Sequence[Attribute], sheet: str | None = None
               ) -> Sheet:
    """Read an attributes sheet's cells, matching its headers to ``attributes`` (a pack's
    indicators).

    Raises
    ------
    InputError
        The file cannot be read, has no ``小区编号`` column, names an estate twice, has a row of
        values with no estate id, or heads two columns with the same attribute.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"attributes sheet {path} not found")
    header, body, labels, percent, notes = _read_cells(path, sheet)
    names = _header_map(attributes)
    columns: dict[str, str] = {}
    keep: list[int] = []
    ignored: list[str] = []
    for j, h in enumerate(header):
        if h is None or not str(h).strip():
            continue
        key = names.get(_norm(h))
        if key is None:
            ignored.append(str(h))
            continue
        if key in columns:
            raise InputError(f"attributes sheet {path}: columns {columns[key]!r} and {h!r} both "
                             f"give {key}")
        columns[key] = str(h).strip()
        keep.append(j)
    if "estate_id" not in columns:
        raise InputError(f"attributes sheet {path}: no {ID_HEADER} (estate_id) column; the "
                         f"headers are: {', '.join(str(h) for h in header if h is not None)}")
    keys = [names[_norm(header[j])] for j in keep]
    data = body[keep].set_axis(keys, axis=1)
    blank = data.isna() | data.apply(lambda c: c.astype("string").str.strip() == "").fillna(False)
    used = ~blank.all(axis=1).to_numpy()
    no_id = used & blank["estate_id"].to_numpy()
    formula = used & (data["estate_id"].map(lambda v: v is UNCOMPUTED)).to_numpy(dtype=bool)
    for bad, why in ((no_id, f"values but no {ID_HEADER}"),
                     (formula, f"{ID_HEADER} is a formula without a computed value; open and "
                               "save the workbook in Excel")):
        if bad.any():
            raise InputError(f"attributes sheet {path}, {labels[int(np.argmax(bad))]}: {why}")
    key_of = dict(zip(keep, keys, strict=True))
    pct = {(labels[i], key_of[j]) for i, j in percent if j in key_of and used[i]}
    table = data[used].reset_index(drop=True)
    table["estate_id"] = [_id_text(v) for v in table["estate_id"]]
    table.insert(1, "row", np.asarray(labels, dtype=object)[used])
    twice = table["estate_id"][table["estate_id"].duplicated()].unique()
    if len(twice):
        raise InputError(f"attributes sheet {path}: estate {', '.join(twice[:5])} has more than "
                         "one row")
    return Sheet(table, pct, columns, ignored, notes)


def _id_text(value: Any) -> str:
    """An estate id cell as text: 12.0 -> '12'; the apostrophe that keeps a CSV cell such as
    '-12 from being a formula is dropped."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
UNIT_SUFFIXES = ("平方米", "m2", "m²", "㎡", "人", "次", "册", "种", "支", "个", "分", "户", "月",
                 "季度", "处", "分钟", "名")


def _number(cell: Any, unit: str) -> float:
    if isinstance(cell, bool):
        raise ValueError("is true/false, not a number")
    if isinstance(cell, int | float):
        if not np.isfinite(cell):
            raise ValueError("is not a finite number")
        return float(cell)
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    for suffix in sorted({unit, *UNIT_SUFFIXES} - {""}, key=len, reverse=True):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
            break
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    if not NUMBER.match(text):
        raise ValueError("is not a number")
    return float(text)


def parse_cell(cell: Any, attr: Attribute, percent_formatted: bool = False) -> float:
    """One cell as the attribute's value: counts and areas as numbers, percentages as ratios
    (95 or '95%' -> 0.95), yes/no as 1.0/0.0, points 0..max. Blank -> NaN.

    Raises
    ------
    ValueError
        With a short reason, when the cell cannot be read as this kind.
    """
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return np.nan
    kind = attr.kind
    if kind == "yesno":
        if isinstance(cell, bool):
            return float(cell)
        text = _norm(cell)
        if text in YES:
            return 1.0
        if text in NO:
            return 0.0
        raise ValueError("is not 是 or 否")
    if kind == "percent":
        text = unicodedata.normalize("NFKC", str(cell)).strip() if isinstance(cell, str) else ""
        if text.endswith("%"):
            value = _number(text[:-1], "") / 100
        elif percent_formatted:
            value = _number(cell, "")
        else:
            value = _number(cell, "")
            if 0 < value < 1:
                raise ValueError("looks like a fraction: write a percentage, 95 or 95%")
            value /= 100
        if not 0 <= value <= 1:
            raise ValueError("is not a percentage between 0 and 100")
        return value
    value = _number(cell, attr.unit)
    if value < 0:
        raise ValueError("is negative")
    if kind == "count" and not value.is_integer():
        raise ValueError("is not a whole number")
    if attr.max is not None and value > attr.max:
        raise ValueError(f"is above the maximum {plain(attr.max)}")
    return value


def _core_value(cell: Any, key: str) -> Any:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if key == "households":
        value = _number(cell, "户")
        if value < 0 or not value.is_integer():
            raise ValueError("is not a whole number of households")
        return int(value)
    if key == "target_year":
        text = unicodedata.normalize("NFKC", str(cell)).strip().removesuffix("年")
        low, high = TARGET_YEARS
        try:
            year = float(text)
        except ValueError:
            year = float("nan")
        if not (year.is_integer() and low <= year <= high):
            raise ValueError(f"is not a year {low}-{high}")
        return int(year)
    if key == "built":
        built = BUILT.get(_norm(cell))
        if built is None:
            raise ValueError("is not 新建 (new) or 已建成 (existing)")
        return built
    return str(cell).strip()


def _estates(n: int) -> str:
    return f"{n} estate" + ("" if n == 1 else "s")


def apply_attributes(site: Site, attributes: Sequence[Attribute], path: str | Path,
                     sheet: str | None = None, *, pack_id: str) -> None:
    """Read the attributes sheet at ``path`` into ``site``, by the indicators ``attributes`` of
    the pack ``pack_id`` (named in the notes).

    Sets ``site.attributes`` (one float column per attribute the sheet has, by estate position,
    plus ``in_sheet``), fills missing ``households`` / ``built`` / ``target_year`` (the
    campaign year, column ``创建年份``) of the estates from the sheet,
    and records the sheet's rows in the ledger: rows naming no estate are rejected with the
    reason, so nothing is lost; more than :data:`MAX_LISTED_REJECTS` of them are counted in one
    note naming the first five, not listed one by one. A formula without a computed value is
    no data, with that reason in ``site.attributes_no_data``.

    Raises
    ------
    InputError
        A cell that cannot be read (naming the estate and the column; up to 12 at once), a sheet
        that disagrees with the estates layer on households, built or target year, or an
        unreadable sheet.
    """
    path = Path(path)
    read = read_sheet(path, attributes, sheet)
    t = read.table
    where = f"attributes sheet {path.name}"
    attrs = {a.key: a for a in attributes}
    errors: list[str] = []
    n = len(site.estates)
    pos = pd.Series(np.arange(n), index=site.estates["estate_id"].astype(str).to_numpy())
    pos = pos[~pos.index.duplicated()]
    at = t["estate_id"].map(pos)
    unknown = t[at.isna()]
    site.ledger.read["attributes"] = len(t)
    if len(unknown) > MAX_LISTED_REJECTS:
        some = ", ".join(f"{e} ({r})" for e, r in unknown[["estate_id", "row"]].head(5).to_numpy())
        site.ledger.reject_counted("attributes", len(unknown),
                                   f"{where}: {len(unknown):,} rows name no estate in the "
                                   f"estates layer, e.g. {some}; they are rejected")
    elif len(unknown):
        site.ledger.reject("attributes", unknown["estate_id"],
                           [f"{r}: no estate {e} in the estates layer" for e, r
                            in zip(unknown["estate_id"], unknown["row"], strict=True)])
    t = t[at.notna()]
    at = at[at.notna()].astype(int).to_numpy()
    out = pd.DataFrame(index=pd.RangeIndex(n))
    no_data = pd.DataFrame(index=out.index)
    out["in_sheet"] = False
    out.loc[at, "in_sheet"] = True

    def cells(key: str, parse: Callable[[Any, str], Any]) -> list[Any]:
        values = []
        for cell, eid, row in zip(t[key], t["estate_id"], t["row"], strict=True):
            if cell is UNCOMPUTED:  # no data, with its reason in no_data
                values.append(None)
                continue
            try:
                values.append(parse(cell, row))
            except ValueError as exc:
                errors.append(f"estate {eid} ({row}), column {read.columns[key]!r}: "
                              f"{str(cell)!r} {exc}")
                values.append(None)
        return values

    for key in attrs:
        if key not in t:
            continue
        attr = attrs[key]
        parsed = cells(key, lambda c, row, a=attr: parse_cell(c, a, (row, a.key)
                                                              in read.percent_cells))
        column = np.full(n, np.nan)
        column[at] = np.array([np.nan if v is None else v for v in parsed], dtype=float)
        out[key] = column
        formula = np.array([c is UNCOMPUTED for c in t[key]], dtype=bool)
        if formula.any():
            why = np.full(n, "", dtype=object)
            why[at[formula]] = repr(UNCOMPUTED)
            no_data[key] = why
    fills: dict[str, list[Any]] = {}
    for key in FILLED:
        if key in t:
            fills[key] = cells(key, lambda c, row, k=key: _core_value(c, k))
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise InputError(f"{where}: cells that cannot be read{more}:\n  "
                         + "\n  ".join(errors[:MAX_ERRORS]))
    est = site.estates
    for key, values in fills.items():
        current = est[key].astype(object).to_numpy()[at]
        current = np.array([None if pd.isna(c) else c for c in current], dtype=object)
        given = np.array(values, dtype=object)
        has = np.array([v is not None for v in given], dtype=bool)
        had = np.array([c is not None for c in current], dtype=bool)
        clash = has & had & np.array([g != c for g, c in zip(given, current, strict=True)],
                                     dtype=bool)
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise InputError(f"{where}: estate {t['estate_id'].iloc[i]} has {key} "
                             f"{current[i]} in the estates layer but {given[i]} in the sheet "
                             f"({t['row'].iloc[i]}, column {read.columns[key]!r}); correct one")
        fill = has & ~had
        if fill.any():
            series = est[key].astype(object)
            series.iloc[at[fill]] = given[fill]
            est[key] = series if key == "built" else series.astype(est[key].dtype)
            site.ledger.note(f"{where}: {key} of {_estates(int(fill.sum()))} taken from the "
                             "sheet")
    missing_cols = [a.header for a in attributes if a.key not in t]
    if missing_cols:
        site.ledger.note(f"{where}: no column for {len(missing_cols)} of the pack's "
                         f"{len(attributes)} indicators; their rules are no data")
    if read.ignored:
        site.ledger.note(f"{where}: columns that are not indicators of pack {pack_id}, "
                         f"ignored: {', '.join(read.ignored)}")
    not_in = n - int(out["in_sheet"].sum())
    if not_in:
        site.ledger.note(f"{where}: {_estates(not_in)} without a row; their record-based rules "
                         "are no data")
    for note in read.notes:
        site.ledger.note(note)
    site.attributes = out
    site.attributes_no_data = no_data if len(no_data.columns) else None
    site.attributes_source = path.name
