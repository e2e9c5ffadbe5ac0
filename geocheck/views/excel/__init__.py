"""findings.xlsx: the workbook a campaign office opens in Excel or WPS.

Sheets, in order: ``汇总 summary`` (declaration or points per estate, else each estate's
overall status and status counts), ``标准 scorecard`` (packs with standards), ``结果 findings``
(one row per estate x rule), ``剔除 rejects`` (the ledger's rejected features) and
``说明 about`` (pack, source, CRS, version, status legend). A table too large for an Excel
sheet (1,048,576 rows x 16,384 columns) is cut to fit, known before anything is written
(:func:`plan_sheets`), and the workbook then opens on a ``注意 notice`` sheet saying so; what
will be cut is known even before the judging, from the numbers of estates, rules and
standards (:func:`forecast_sheets`). The data rows are written a column at a time
(:mod:`geocheck.views.excel.rows`).

Every table has a bold, frozen header, an autofilter and verdict colours given by conditional
formats on the status-like columns (one rule per status per column, however many rows).

Formula safety: text from the data never becomes a formula. Every text cell is written with
``write_string``; text starting with ``= + - @``, tab or carriage return also gets the
``quote_prefix`` format, so Excel keeps it as text when the user edits the cell. The text itself
is unchanged (no apostrophe is added). Numbers are written as numbers, booleans as booleans,
and missing values (NaN, NA, empty text) as empty cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ...core.status import (
    FAIL,
    NO_DATA,
    PASS,
)
from ...core.version import VERSION
from ...rules.packs.model import Pack
from ...rules.result import Result
from ..style import STATUS_COLOURS
from ..text import FORMULA_START, LEGEND_ORDER, STATUS_LABELS
from .rows import (
    CellColumn,
    FastSheet,
    bool_cells,
    close_fast,
    number_cells,
    rows_size,
    rows_xml,
    text_cells,
)

SHEET_NAMES = {"summary": "汇总 summary", "scorecard": "标准 scorecard",
               "findings": "结果 findings", "rejects": "剔除 rejects",
               "life_circles": "生活圈 life circles", "about": "说明 about"}
"""Sheet names (Chinese and English, each at most 31 characters), in workbook order."""

STATUS_COLUMNS = ("status", "overall")
"""Columns holding a status name (pass, fail, no_data, not_applicable), coloured by value."""

PERCENT_FORMAT = "0.00##%"
"""Number format of ratio columns (``*_rate``, 0-1): a percent with two to four decimals
(85.00%, 84.8485%), the millionth of a ratio that verdicts are judged at, so that a rate just
below a threshold (84.8485% against 84.85 %) never looks as if it met it."""

LIGHTEN = 0.75
"""Share of white mixed into each :data:`~geocheck.views.style.STATUS_COLOURS` for cell fills."""

MAX_ROWS = 1_048_575
"""Data rows an Excel sheet holds below its header."""

MAX_COLS = 16_384
"""Columns an Excel sheet holds."""

NOTICE_SHEET = "注意 notice"
"""The first sheet of a workbook whose tables were cut to fit Excel."""

MAX_WIDTH = 60
MIN_WIDTH = 6
WIDTH_PAD = 2

WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False, "nan_inf_to_errors": False}
"""No text is ever turned into a formula, link or number. Not ``constant_memory``: its in-line
strings made a 3,000-estate city's workbook about twice as slow to write, and 67 MB instead of
24 MB."""


def light(colour: str, share: float = LIGHTEN) -> str:
    """``#rrggbb`` mixed with ``share`` (0-1) of white, as ``#RRGGBB``."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * share):02X}" for c in rgb)


FILLS = {status: light(colour) for status, colour in STATUS_COLOURS.items()}
"""Light fill of each status (pass green, fail red, no data grey, not applicable blue)."""


_WIDE = re.compile("[\u2e80-\U0010ffff]")
"""Characters from U+2E80 on (CJK and full width), two character cells wide."""


def text_width(text: str) -> int:
    """Display width of ``text`` in character cells: CJK and full-width characters (from
    U+2E80 on) count 2, every other character 1."""
    return 2 * len(text) - len(_WIDE.sub("", text))


@dataclass
class _Column:
    """One column ready to write: its cells (:class:`~geocheck.views.excel.rows.CellColumn`),
    width and conditional formats."""

    name: str
    cells: CellColumn
    width: float
    rules: list[dict] = field(default_factory=list)


class _Book:
    """The workbook with its shared formats."""

    def __init__(self, path: Path) -> None:
        self.wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.header = self.wb.add_format({"bold": True, "bottom": 1, "bg_color": "#F2F2F2"})
        self.quote = self.wb.add_format({"quote_prefix": True})
        self.percent = self.wb.add_format({"num_format": PERCENT_FORMAT})
        self.bold = self.wb.add_format({"bold": True})
        self.fill = {s: self.wb.add_format({"bg_color": c}) for s, c in FILLS.items()}

    def text_column(self, name: str, series: pd.Series) -> _Column:
        """A text column: strings as they are, risky starts marked with ``quote_prefix``.

        Work is done once per distinct text (``pd.factorize``): its shared string, style and
        width.
        """
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        texts = [u if type(u) is str else str(u) for u in np.asarray(uniques, dtype=object)]
        cells = text_cells(np.asarray(codes, dtype=np.int32), texts, self.wb.str_table,
                           self.quote)
        return _Column(name, cells, _width(name, np.array([*texts, ""], dtype=object)))

    def number_column(self, name: str, series: pd.Series) -> _Column:
        """A number column: NaN / NA left empty; ``*_rate`` columns formatted as percent."""
        fmt = self.percent if name.endswith("_rate") else None
        return _Column(name, number_cells(series, fmt), max(text_width(name), 10) + WIDTH_PAD)

    def bool_column(self, name: str, series: pd.Series) -> _Column:
        """A boolean column (TRUE / FALSE cells), TRUE coloured as pass and FALSE as fail."""
        rules = [{"type": "cell", "criteria": "==", "value": "TRUE", "format": self.fill[PASS]},
                 {"type": "cell", "criteria": "==", "value": "FALSE",
                  "format": self.fill[FAIL]}]
        return _Column(name, bool_cells(series), max(text_width(name), 6) + WIDTH_PAD, rules)

    def column(self, name: str, series: pd.Series) -> _Column:
        """The column for ``series``, by dtype, with its verdict colours."""
        if pd.api.types.is_bool_dtype(series):
            return self.bool_column(name, series)
        if pd.api.types.is_numeric_dtype(series):
            col = self.number_column(name, series)
        else:
            col = self.text_column(name, series)
        col.rules = self.colour_rules(name)
        return col

    def colour_rules(self, name: str) -> list[dict]:
        """Conditional formats of a status-like column (earlier rules win)."""
        fill = self.fill
        if name in STATUS_COLUMNS:
            return [{"type": "cell", "criteria": "==", "value": f'"{s}"', "format": fill[s]}
                    for s in LEGEND_ORDER]
        if name == "verdict":  # scorecard.declaration
            return [_contains("could become eligible", fill[NO_DATA]),
                    _begins("not eligible", fill[FAIL]), _begins("eligible", fill[PASS])]
        if name == "verdict_zh":
            return [_contains("补齐且均达标即可申报", fill[NO_DATA]),
                    _begins("不可申报", fill[FAIL]), _begins("可申报", fill[PASS])]
        if name == "rating":  # scorecard.scores
            return [_begins("fails outright", fill[FAIL]), _begins("no data", fill[NO_DATA]),
                    _begins("no star", fill[FAIL]), _contains(" stars:", fill[PASS])]
        if name == "rating_zh":
            return [_begins("直接不合格", fill[FAIL]), _begins("缺数据", fill[NO_DATA]),
                    _begins("未达星级", fill[FAIL]), _contains(" 星：", fill[PASS])]
        if name == "stars":
            return [{"type": "blanks", "format": fill[NO_DATA]},
                    {"type": "cell", "criteria": "==", "value": 0, "format": fill[FAIL]},
                    {"type": "cell", "criteria": ">=", "value": 1, "format": fill[PASS]}]
        return []

    def table(self, sheet: str, df: pd.DataFrame, *, freeze_cols: int = 0) -> Worksheet:
        """Write ``df`` as a sheet: bold frozen header, autofilter, widths, verdict colours."""
        n = len(df)
        ws = self.wb.add_worksheet(sheet, worksheet_class=FastSheet)
        cols = [self.column(str(name), df[name]) for name in df.columns]
        for j, col in enumerate(cols):
            ws.set_column(j, j, col.width)
            ws.write_string(0, j, col.name, self.header)
        ws.freeze_panes(1, freeze_cols)
        ws.autofilter(0, 0, n, max(len(cols) - 1, 0))
        for j, col in enumerate(cols):
            for rule in col.rules if n else []:
                ws.conditional_format(1, j, n, j, rule)
        cells = [col.cells for col in cols]
        ws.set_data_rows(lambda: rows_xml(cells), n, len(cols), lambda: rows_size(cells))
        return ws


def _begins(text: str, fmt: Format) -> dict:
    return {"type": "text", "criteria": "begins with", "value": text, "format": fmt}


def _contains(text: str, fmt: Format) -> dict:
    return {"type": "text", "criteria": "containing", "value": text, "format": fmt}


def _width(name: str, uniques: np.ndarray) -> float:
    """Column width for a header and its distinct texts, capped at :data:`MAX_WIDTH`."""
    widest = text_width(name)
    if len(uniques):
        lengths = np.fromiter((len(u) for u in uniques), dtype=np.int64, count=len(uniques))
        longest = int(lengths.max())
        if longest >= MAX_WIDTH:
            widest = MAX_WIDTH
        else:  # a text is at most twice its length wide: only those can be the widest
            widest = max(widest, *(text_width(u) for u in uniques[2 * lengths >= longest]))
    return max(MIN_WIDTH, min(widest, MAX_WIDTH)) + WIDTH_PAD


def overall_summary(result: Result) -> pd.DataFrame:
    """One row per estate: ``estate_id, estate_name, overall`` (the worst status) and the
    number of rules per status ``n_pass, n_fail, n_no_data, n_not_applicable``."""
    est = result.site.estates
    status = result.matrix("status")
    table = pd.DataFrame({"estate_id": est["estate_id"].to_numpy(),
                          "estate_name": est["name"].to_numpy()})
    table["overall"] = table["estate_id"].map(result.overall()).to_numpy()
    for s in LEGEND_ORDER:
        table[f"n_{s}"] = (status == s).sum(axis=1)
    return table


def about_rows(result: Result) -> list[tuple[str, str]]:
    """The about sheet's (item, value) rows, before the status legend."""
    site, pack = result.site, result.pack
    crs = site.crs
    epsg = crs.to_epsg()
    rows = [("pack 规则包", pack.id), ("title 标题", pack.title_zh),
            ("title (en)", pack.title_en),
            ("rules 指标数", str(len(pack.rules))),
            ("estates 小区数", str(len(site.estates))),
            ("source 数据文件", str(site.source)),
            ("working CRS 坐标系", f"EPSG:{epsg} {crs.name}" if epsg else crs.name),
            ("geocheck version 版本", VERSION)]
    if site.attributes_source:
        rows.append(("attributes 指标填报表", site.attributes_source))
    rows += [("note 说明", note) for note in site.ledger.notes]
    return rows


def _about(book: _Book, result: Result) -> None:
    ws = book.wb.add_worksheet(SHEET_NAMES["about"])
    rows = about_rows(result)
    ws.set_column(0, 0, max(text_width(k) for k, _ in rows) + WIDTH_PAD)
    ws.set_column(1, 1, MAX_WIDTH + WIDTH_PAD)
    ws.write_string(0, 0, "item 项目", book.header)
    ws.write_string(0, 1, "value 内容", book.header)
    for i, (key, value) in enumerate(rows, start=1):
        _safe_text(ws, i, 0, key, book)
        _safe_text(ws, i, 1, value, book)
    r = len(rows) + 2
    ws.write_string(r, 0, "status legend 图例", book.bold)
    for i, s in enumerate(LEGEND_ORDER, start=r + 1):
        ws.write_string(i, 0, s, book.fill[s])
        ws.write_string(i, 1, STATUS_LABELS[s], book.fill[s])


def _safe_text(ws: Worksheet, row: int, col: int, text: str, book: _Book) -> None:
    if text:
        ws.write_string(row, col, text, book.quote if text.startswith(FORMULA_START) else None)


CSV_OF_SHEET = {"summary": "summary.csv", "scorecard": "scorecard.csv",
                "findings": "findings.csv", "rejects": "rejects.csv",
                "life_circles": "life_circles.csv"}
"""The CSV table that holds every row of a sheet cut to fit."""

KEPT_WHEN_CUT = (FAIL, NO_DATA)
"""Statuses a table with a ``status`` column keeps when its rows do not fit in one sheet."""


@dataclass(frozen=True)
class Sheet:
    """One sheet to write: its name, its table and the columns frozen at the left."""

    name: str
    table: pd.DataFrame
    freeze: int


def fit_sheet(key: str, df: pd.DataFrame, freeze: int = 0) -> tuple[list[Sheet], str | None]:
    """Fit a table into Excel's sheets of :data:`MAX_ROWS` rows x :data:`MAX_COLS` columns.

    A table that fits is one sheet. One with more rows keeps, when it has a ``status``
    column, only its failing and no-data rows (:data:`KEPT_WHEN_CUT`); what is still too long
    is split over numbered sheets (``结果 findings 1``, ``结果 findings 2`` ...). Columns past
    :data:`MAX_COLS` are left out.

    Returns
    -------
    sheets, note
        The sheets, and a sentence saying what was cut and where the rest is (None when the
        table fits as it is).
    """
    name = SHEET_NAMES[key]
    keep, count, note = _fitting(key, df)
    if df.shape[1] > MAX_COLS:
        df = df.iloc[:, :MAX_COLS]
    if keep is not None:
        df = df[keep]
    if count == 1:
        return [Sheet(name, df, freeze)], note
    return [Sheet(f"{name} {i + 1}", df.iloc[i * MAX_ROWS:(i + 1) * MAX_ROWS], freeze)
            for i in range(count)], note


def _fitting(key: str, df: pd.DataFrame) -> tuple[np.ndarray | None, int, str | None]:
    """How ``df`` fits Excel, without copying it: the rows kept (None: all), the number of
    sheets, and the note of :func:`fit_sheet`."""
    name, csv = SHEET_NAMES[key], CSV_OF_SHEET[key]
    parts: list[str] = []
    n, width = df.shape
    keep = None
    if width > MAX_COLS:
        parts.append(f"only its first {MAX_COLS:,} of {width:,} columns")
    kept = n
    if n > MAX_ROWS and "status" in df.columns:
        keep = df["status"].isin(KEPT_WHEN_CUT).to_numpy(dtype=bool)
        kept = int(keep.sum())
        parts.append(f"only the {kept:,} failing and no-data rows of {n:,}")
    count = max(1, -(-kept // MAX_ROWS))
    if count > 1:
        parts.append(f"its {kept:,} rows split over {count} sheets ({name} 1 ...)")
    if not parts:
        return keep, count, None
    return keep, count, (f"{name}: {n:,} rows x {width:,} columns do not fit in one Excel "
                         f"sheet (at most {MAX_ROWS:,} rows x {MAX_COLS:,} columns); "
                         f"findings.xlsx holds {'; '.join(parts)}; {csv} has them all")


FROZEN_COLUMNS = {"summary": 2, "scorecard": 2, "findings": 2, "rejects": 0,
                  "life_circles": 0}
"""Columns frozen at the left of each table's sheet: estate_id and estate_name stay in view
when scrolling right."""

NARROW = 64
"""At least the columns of every table but the findings, beside one per scoring part of the
summary's points (the summary has 13, the scorecard 10, life circles 13, rejects 4)."""


def _table(result: Result, key: str) -> pd.DataFrame | None:
    """The table of a sheet key (:data:`SHEET_NAMES`), None when the result has none."""
    if key == "summary":
        summary = result.declaration
        if summary is None:
            summary = result.scores
        return overall_summary(result) if summary is None else summary
    if key == "rejects":
        return result.site.ledger.rejects_frame()
    return getattr(result, key)  # scorecard, findings, life_circles


def _tables(result: Result) -> list[tuple[str, pd.DataFrame, int]]:
    """The workbook's tables by sheet key, with the columns frozen at their left."""
    tables = [(key, _table(result, key)) for key in FROZEN_COLUMNS]
    return [(key, df, FROZEN_COLUMNS[key]) for key, df in tables if df is not None]


def _may_not_fit(result: Result) -> list[str]:
    """The sheet keys whose tables may not fit one Excel sheet, from counts alone: at most
    one summary row per estate, a scorecard row per estate x standard, a life circle row
    per rule, a rejects row per rejected feature; :data:`NARROW` columns (and one per
    scoring part) but in the findings."""
    pack, n = result.pack, len(result.site.estates)
    parts = len(pack.scoring.parts) if pack.scoring is not None else 0
    rows = {"summary": n, "scorecard": n * len(pack.standards), "findings": len(result.findings),
            "rejects": len(result.site.ledger.rejects), "life_circles": len(pack.rules)}
    cols = {key: NARROW + parts for key in rows} | {"findings": result.findings.shape[1]}
    return [key for key in FROZEN_COLUMNS if rows[key] > MAX_ROWS or cols[key] > MAX_COLS]


def sheet_notes(result: Result) -> list[str]:
    """What findings.xlsx will cut to fit Excel (the notes of :func:`plan_sheets`), known
    without copying any table, and without making one that fits whatever its content
    (:func:`_may_not_fit`): for a city that fits, from counts alone."""
    notes = [_fitting(key, df)[2] for key in _may_not_fit(result)
             if (df := _table(result, key)) is not None]
    return [note for note in notes if note]


def plan_sheets(result: Result) -> tuple[list[Sheet], list[str]]:
    """The workbook's table sheets, each fitted to Excel (:func:`fit_sheet`), and the notes
    saying what was cut. Known from the result before anything is written.

    Sheets (:data:`SHEET_NAMES`): summary (``scorecard.declaration``, else
    ``scorecard.scores``, else :func:`overall_summary`), scorecard (when the pack has
    standards), findings, rejects, life circles (when the pack has ``life_circle`` rules).
    """
    sheets: list[Sheet] = []
    notes: list[str] = []
    for key, df, freeze in _tables(result):
        fitted, note = fit_sheet(key, df, freeze)
        sheets += fitted
        notes += [note] if note else []
    return sheets, notes


def forecast_sheets(estates: int, pack: Pack, rejects: int = 0) -> list[str]:
    """What findings.xlsx will cut to fit Excel, known before the judging from the counts
    alone: the findings sheet has ``estates`` x rules rows, the scorecard ``estates`` x
    standards, the summary one per estate and the rejects one per rejected feature.

    Returns
    -------
    list of str
        One sentence per table with more rows than an Excel sheet holds (:data:`MAX_ROWS`),
        saying what the sheet will keep (:func:`fit_sheet`) and which CSV has every row;
        empty when every table fits.
    """
    rules, standards = len(pack.rules), len(pack.standards)
    counts = [("findings", estates * rules, f"{estates:,} estates x {rules:,} rules"),
              ("scorecard", estates * standards,
               f"{estates:,} estates x {standards:,} standards"),
              ("summary", estates, f"{estates:,} estates"),
              ("rejects", rejects, f"{rejects:,} rejected features")]
    notes = []
    for key, rows, why in counts:
        if rows > MAX_ROWS:
            keeps = ("only its failing and no-data rows (over numbered sheets if they are "
                     "still too many)") if key in ("findings", "scorecard") else \
                f"its rows over {-(-rows // MAX_ROWS)} numbered sheets"
            notes.append(f"findings.xlsx: {why} = {rows:,} rows do not fit in one Excel sheet "
                         f"(at most {MAX_ROWS:,}); its {SHEET_NAMES[key]} sheet will hold "
                         f"{keeps}; {CSV_OF_SHEET[key]} will have them all")
    return notes


def _notice(book: _Book, notes: list[str]) -> None:
    """The first sheet of a workbook cut to fit Excel: what was cut and where the rest is."""
    ws = book.wb.add_worksheet(NOTICE_SHEET)
    ws.set_column(0, 0, 2 * MAX_WIDTH)
    ws.write_string(0, 0, "notice 注意: this workbook does not hold every row "
                    "本工作簿未包含全部数据", book.header)
    for i, note in enumerate(notes, start=1):
        _safe_text(ws, i, 0, note, book)


def write_xlsx(result: Result, path: Path) -> Path:
    """Write findings.xlsx and return its path.

    Parameters
    ----------
    result : a judged :class:`~geocheck.rules.result.Result`.
    path : the workbook to write (replaced if it exists).

    Returns
    -------
    Path
        ``path``. Sheets (:data:`SHEET_NAMES`): summary (``scorecard.declaration``, else
        ``scorecard.scores``, else :func:`overall_summary`), scorecard (when the pack has
        standards), findings (all columns; ``value`` a number in its ``unit``: metres, a 0-1
        ratio, ...), rejects and about. Rates (``*_rate``, 0-1 ratios) are shown as percent.
        A table too large for one sheet is cut to fit (:func:`plan_sheets`); the workbook
        then opens on a ``注意 notice`` sheet that says what was cut, and the CSV table has
        every row. The size never makes it fail.

    Examples
    --------
    >>> write_xlsx(geocheck.check("layers/nanning_sample.gpkg"), Path("out/findings.xlsx"))
    """
    sheets, notes = plan_sheets(result)
    path = Path(path)
    book = _Book(path)
    if notes:
        _notice(book, notes)
    while sheets:  # a sheet's table is let go once its cells are made
        sheet = sheets.pop(0)
        book.table(sheet.name, sheet.table, freeze_cols=sheet.freeze)
        del sheet
    _about(book, result)
    close_fast(book.wb)
    return path
