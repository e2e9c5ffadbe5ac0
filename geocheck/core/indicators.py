"""Record-based indicators: the columns of the attributes sheet, and its fixed headers.

A pack lists its indicators (:class:`Attribute`); the inputs wing reads the sheet's columns by
them, the views wing writes the fill-in template with them, and the record checks judge them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .units import plain

ATTRIBUTE_KINDS = {
    "count": "a whole number >= 0",
    "number": "a number >= 0",
    "area": "an area in m2 (a number >= 0)",
    "percent": "a percentage 0-100 (kept as a ratio 0-1)",
    "yesno": "是 / 否",
    "points": "points awarded, 0 to the item's maximum",
}
"""Kinds of record-based indicators read from the attributes sheet, and what a cell holds."""


@dataclass(frozen=True)
class Attribute:
    """A record-based indicator: one column of the attributes sheet.

    Attributes
    ----------
    key : column key, e.g. ``gx16_staff``.
    title_zh, title_en : what the column holds.
    kind : one of :data:`ATTRIBUTE_KINDS`.
    unit : unit shown in the header (Chinese), e.g. ``人``, ``m²``, ``%``.
    standard : the standard it serves, shown in the header, e.g. ``GX-16``.
    max : largest allowed value (points items: the item's full marks).
    help_zh : how to fill it (a cell comment in the template).
    """

    key: str
    title_zh: str
    title_en: str
    kind: str
    unit: str = ""
    standard: str = ""
    max: float | None = None
    help_zh: str = ""

    @property
    def header(self) -> str:
        """The sheet's column header, e.g. ``GX-16 社区专职工作人员（人）``."""
        unit = {"yesno": "是/否", "percent": "%"}.get(self.kind, self.unit)
        if self.kind == "points" and self.max is not None:
            unit = f"分，满分{plain(self.max)}"
        text = f"{self.standard} {self.title_zh}".strip()
        return f"{text}（{unit}）" if unit else text


# The sheet's fixed columns, before the indicators: the estate, and what fills the estates
# layer's blanks.
ID_HEADER, NAME_HEADER = "小区编号", "小区名称"
HOUSEHOLDS_HEADER, BUILT_HEADER = "户数（户）", "建设类型（新建/已建成）"
TARGET_YEAR_HEADER = "创建年份（年）"
BUILT_ZH = {"new": "新建", "existing": "已建成"}
"""How the template writes the estates' ``built`` values."""
