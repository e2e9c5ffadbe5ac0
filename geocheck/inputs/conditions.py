"""Read planning conditions (规划条件) from a small table or a project file.

A conditions file is ``.csv`` or ``.xlsx`` with two columns, key and value (a header row
``key,value`` or ``指标,数值``), or a ``.toml`` of ``key = value`` lines (or a ``[conditions]``
table; TOML wants a Chinese key quoted: ``"容积率" = 2.5``). A project file may carry the
same as its ``[conditions]`` table. Keys are those of
:data:`geocheck.core.conditions.CONDITION_KEYS`, in English or Chinese::

    容积率,2.5
    建筑密度,30%
    绿地率,0.35
    建筑退让用地红线,8
    北侧退让用地红线,10
    建筑高度,54
    层高,3

Ratios are given as a share (0.35) or a percentage with its sign (35%); a bare 35 for a ratio
is refused rather than guessed. An unknown key, a missing value or one given twice is an error
naming the file and the key.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path
from typing import Any

from ..core.conditions import KEY_BY_NAME, Condition
from ..core.errors import InputError
from .gdal_guard import check_local_file
from .xlsx import read_cells

KEY_HEADERS = {"key", "指标", "项目", "名称"}
VALUE_HEADERS = {"value", "数值", "值", "指标值"}
MAX_BYTES = 1 << 20
"""A conditions file larger than this is refused: it is a table of a few lines."""


def _number(key: str, kind: str, value: Any, where: str) -> float:
    text = str(value).strip()
    percent = text.endswith(("%", "％"))
    text = text.rstrip("%％").strip()
    if kind == "metres":
        text = text.removesuffix("米").removesuffix("m").strip()
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{where}: {key} = {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        raise InputError(f"{where}: {key} = {value!r} is not a number of 0 or more")
    if kind == "ratio":
        if percent:
            number /= 100
        if number > 1:
            raise InputError(f"{where}: {key} = {value!r} is more than 1; give a share "
                             f"(0.35) or a percentage with its sign (35%)")
    elif percent:
        raise InputError(f"{where}: {key} = {value!r} is not a percentage")
    return number


def parse_conditions(pairs: list[tuple[Any, Any]], source: str, where: str) -> list[Condition]:
    """Turn (key, value) pairs as typed into :class:`Condition` s; ``source`` is the file
    name cited, ``where`` how messages name the place."""
    out: dict[str, Condition] = {}
    for name, value in pairs:
        label = "" if name is None else str(name).strip()
        if not label:
            continue
        spec = KEY_BY_NAME.get(label.casefold())
        if spec is None:
            known = ", ".join(sorted({k.names[0] for k in KEY_BY_NAME.values()}))
            raise InputError(f"{where}: unknown planning condition {label!r}; known: {known} "
                             "(or their English keys)")
        if value is None or str(value).strip() == "":
            raise InputError(f"{where}: {label} has no value")
        if spec.key in out:
            raise InputError(f"{where}: {label} is given twice")
        number = _number(label, spec.kind, value, where)
        out[spec.key] = Condition(spec.key, number, f"{label} = {str(value).strip()}", source)
    return list(out.values())


def _table_pairs(header: list[Any], rows: list[list[Any]], where: str) -> list[tuple[Any, Any]]:
    names = [str(h).strip().casefold() if h is not None else "" for h in header]
    if len(names) >= 2 and names[0] in KEY_HEADERS and names[1] in VALUE_HEADERS:
        body = rows
    elif len(names) >= 2 and names[0] not in KEY_HEADERS:  # no header row: the first is data
        body = [list(header), *rows]
    else:
        raise InputError(f"{where}: expected two columns, key and value (header "
                         "'key,value' or '指标,数值')")
    return [(r[0] if r else None, r[1] if len(r) > 1 else None) for r in body]


def read_conditions(path: str | Path) -> list[Condition]:
    """Read a conditions file (``.csv``, ``.xlsx`` or ``.toml``).

    Raises
    ------
    InputError
        For a file that is not one of those, too large, or holds an unknown key, a missing or
        unreadable value, naming the file and the key.
    """
    p = check_local_file(path)
    where = f"conditions {p}"
    if p.stat().st_size > MAX_BYTES:
        raise InputError(f"{where}: {p.stat().st_size:,} bytes is too large for a table of "
                         "planning conditions")
    suffix = p.suffix.lower()
    if suffix == ".toml":
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{where}: not valid TOML ({exc})") from None
        table = doc.get("conditions", doc)
        if not isinstance(table, dict):
            raise InputError(f"{where}: [conditions] must be a table of key = value")
        return conditions_table(table, p.name, where)
    if suffix in (".xlsx", ".xlsm"):
        cells = read_cells(p, None, where)
        return parse_conditions(_table_pairs(cells.header, cells.rows, where), p.name, where)
    if suffix in (".csv", ".txt"):
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise InputError(f"{where}: neither UTF-8 nor GBK text") from None
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
        if not rows:
            raise InputError(f"{where}: the file is empty")
        return parse_conditions(_table_pairs(rows[0], rows[1:], where), p.name, where)
    raise InputError(f"{where}: not a .csv, .xlsx or .toml file")


def conditions_table(table: dict[str, Any], source: str, where: str) -> list[Condition]:
    """Conditions from a TOML table (a conditions file, or a project's ``[conditions]``)."""
    nested = [k for k, v in table.items() if isinstance(v, dict | list)]
    if nested:
        raise InputError(f"{where}: {nested[0]} must be a single value")
    return parse_conditions(list(table.items()), source, where)
