"""What a rule pack is: rules with stable ids, titles, citations and thresholds, and the
structure of the document they come from (categories, requirements, standards), its
record-based indicators, and its declaration rule, points score or campaign targets.

A pack names, for every rule, a registered check (see :mod:`geocheck.rules.registry`) and the
check's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core.indicators import Attribute


@dataclass(frozen=True)
class Rule:
    """One rule of a pack: what it requires, and where that requirement is written.

    Attributes
    ----------
    id : stable rule id shown in every report, e.g. ``GX-06-garbage-radius``.
    standard : the standard it belongs to in its document, e.g. ``GX-06`` (may be empty).
    requirement : the requirement id, e.g. ``R02`` (may be empty).
    title_zh, title_en : short titles.
    citation : document and place in it, quoting the requirement.
    check : name of the registered check that measures and judges it.
    params : the check's parameters (thresholds in metres, ratios 0-1, counts).
    """

    id: str
    standard: str
    requirement: str
    title_zh: str
    title_en: str
    citation: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Category:
    """A category of a standard document (Guangxi: 政府职责 ... 满意调查)."""

    id: str
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class Requirement:
    """A requirement (Guangxi: R01 ... R24) under a category."""

    id: str
    title_zh: str
    title_en: str
    category: str


@dataclass(frozen=True)
class Standard:
    """A standard (Guangxi: GX-01 ... GX-65) under a requirement; its rules are its indicators."""

    id: str
    title_zh: str
    title_en: str
    requirement: str


@dataclass(frozen=True)
class Declaration:
    """Who may declare (seed 001): compliance = standards passed / standards applicable at least
    ``min_compliance``, and, when ``every_requirement``, one standard passed per requirement."""

    min_compliance: float
    every_requirement: bool
    citation: str


@dataclass(frozen=True)
class ScorePart:
    """A part of a points score: its full marks and the rules whose points add up to it."""

    id: str
    title_zh: str
    title_en: str
    max: float
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Star:
    """A star rating: at least ``min_total`` points and satisfaction at least ``min_satisfaction``
    (a ratio 0-1)."""

    stars: int
    min_total: float
    min_satisfaction: float


@dataclass(frozen=True)
class Scoring:
    """A points score (Gongshu: 300 points in five parts) and its star ratings.

    ``satisfaction`` is the attribute the star floors read; below ``floor`` (a ratio) an estate
    fails outright, whatever its points.
    """

    total: float
    parts: tuple[ScorePart, ...]
    stars: tuple[Star, ...]
    satisfaction: str
    floor: float
    citation: str


@dataclass(frozen=True)
class Target:
    """A campaign target: by the end of ``year``, at least ``share`` (a ratio 0-1) of the
    campaign's estates have been created (pass)."""

    year: int
    share: float


@dataclass(frozen=True)
class Campaign:
    """A campaign run over several years (Qinzhou, seed 001 一、工作目标: 35 % of the city's
    estates by the end of 2021, 70 % by 2022, 90 % by 2023, 100 % by 2024).

    ``targets`` are in increasing years with non-decreasing shares. See
    :func:`geocheck.rules.campaign.progress_table` for how estates are counted against them.
    """

    title_zh: str
    title_en: str
    citation: str
    targets: tuple[Target, ...]

    def target(self, year: int) -> float | None:
        """The target share for ``year`` (a ratio 0-1), or None when the campaign sets none."""
        for t in self.targets:
            if t.year == year:
                return t.share
        return None


@dataclass(frozen=True)
class Pack:
    """A rule pack: an ordered list of rules for one jurisdiction's document, with the document's
    structure (categories, requirements, standards), the record-based indicators it reads from
    the attributes sheet, its declaration rule or points score when it has one, and the yearly
    targets of the campaign it serves, when it has them.

    ``distance`` is how its distance rules are read: ``"radius"`` (as written, a straight
    line) or ``"walk"`` (along the paths layer; see :mod:`geocheck.rules.walking`).
    """

    id: str
    title_zh: str
    title_en: str
    document: str
    rules: tuple[Rule, ...]
    reference: bool = False
    extends: str = ""
    categories: tuple[Category, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    standards: tuple[Standard, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    declaration: Declaration | None = None
    scoring: Scoring | None = None
    campaign: Campaign | None = None
    distance: str = "radius"

    def attribute(self, key: str) -> Attribute:
        """The attribute with this key (KeyError when the pack has none)."""
        for a in self.attributes:
            if a.key == key:
                return a
        raise KeyError(key)

    def rule(self, rid: str) -> Rule:
        """The rule with this id (KeyError when the pack has none)."""
        for r in self.rules:
            if r.id == rid:
                return r
        raise KeyError(rid)


