"""A small HTML toolkit for the report: text is escaped unless it is :class:`Markup` made here.

Every value from the data goes through :func:`esc` (or an element built by :func:`el`), so a
name like ``<img src=x onerror=...>`` shows as text.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..style import PNG_SIGNATURE


class Markup(str):
    """HTML built by this module; :func:`esc` passes it through and escapes any other text."""

    __slots__ = ()


def missing(value: object) -> bool:
    """True for None, NA and NaN: a value the report shows as a dash."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def esc(value: object) -> Markup:
    """``value`` as HTML text: escaped (quotes too) unless it is Markup; missing -> ''."""
    if isinstance(value, Markup):
        return value
    if type(value) is str:
        return Markup(html.escape(value, quote=True))
    if missing(value):
        return Markup("")
    return Markup(html.escape(str(value), quote=True))


def _attrs(attrs: Mapping[str, object]) -> str:
    # Names are this module's own keywords (class_ -> class, data_id -> data-id); values escape.
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"'
                   for k, v in attrs.items() if v is not None)


def el(tag: str, /, *children: object, **attrs: object) -> Markup:
    """An element ``<tag ...>children</tag>``; children and attribute values are escaped
    unless they are Markup; lists of children are joined; None attributes are left out."""
    out = [f"<{tag}{_attrs(attrs)}>"]
    _flatten(children, out)
    out.append(f"</{tag}>")
    return Markup("".join(out))


def tags(tag: str, /, **attrs: object) -> tuple[Markup, Markup]:
    """The start and end tags of ``el(tag, ..., **attrs)``, for content too large to copy
    into an element: the caller joins start, content and end once."""
    return Markup(f"<{tag}{_attrs(attrs)}>"), Markup(f"</{tag}>")


def void(tag: str, /, **attrs: object) -> Markup:
    """An element without content (``img``, ``meta``)."""
    return Markup(f"<{tag}{_attrs(attrs)}>")


def join(children: Iterable[object]) -> Markup:
    """Children (text, Markup or nested lists of them) joined, text escaped."""
    out: list[str] = []
    _flatten(children, out)
    return Markup("".join(out))


def _flatten(children: Iterable[object], out: list[str]) -> None:
    """Append ``children`` to ``out``, escaped, nested lists and tuples in order: an element
    is joined once, however deeply its children nest (the report's sections hold megabytes
    of images, which each join would copy)."""
    for c in children:
        if isinstance(c, list | tuple):
            _flatten(c, out)
        else:
            out.append(esc(c))


def lookup(values: Iterable[object], func: Callable[[object], str],
           missing: str = "") -> np.ndarray:
    """``func`` of each value as an object array, called once per distinct value (missing
    values -> ``missing``)."""
    if not hasattr(values, "dtype"):  # a list or generator, not a pandas/numpy array
        values = pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(values)
    return np.asarray([*(func(v) for v in uniques), missing], dtype=object)[codes]


def esc_column(values: Iterable[object]) -> np.ndarray:
    """HTML-escaped text of each value (missing -> ''), as an object array; each distinct value
    is escaped once, so the columns of a city-wide findings table escape quickly."""
    return lookup(values, lambda v: html.escape(str(v), quote=True))


def png_uri(data: bytes) -> Markup:
    """A PNG as a ``data:image/png;base64,`` URI (ValueError when ``data`` is not a PNG).

    Markup: base64 has no character HTML escapes, so the URI (some 50 KB a map) is not
    scanned again as an attribute value."""
    if not bytes(data[:8]) == PNG_SIGNATURE:
        raise ValueError("report images must be PNG bytes")
    return Markup("data:image/png;base64," + base64.b64encode(data).decode("ascii"))


def table(headers: Sequence[object], rows: Iterable[Sequence[object]], *,
          numeric: Iterable[int] = (), class_: str | None = None) -> Markup:
    """A small table: header cells, then rows of cells (text or Markup); ``numeric`` columns are
    right-aligned."""
    right = set(numeric)
    head = el("thead", el("tr", [el("th", h) for h in headers]))
    body = el("tbody", [el("tr", [el("td", c, class_="num" if i in right else None)
                                  for i, c in enumerate(r)]) for r in rows])
    return el("table", head, body, class_=class_)
