"""Record-based checks: indicators read from the attributes sheet, not measured on the map.

Each check reads one or two attribute columns (see :mod:`geocheck.inputs.attributes`) and judges
them against a rule. A blank cell, an estate missing from the sheet, or no sheet at all is no data,
never a pass. Percentages are held as ratios (95 % is 0.95), yes/no as 1/0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import PackError
from ..core.indicators import Attribute
from ..core.status import (
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
)
from ..core.units import RATIO_DECIMALS, number, percent, plain, share
from .context import REQUIRED, Context, Outcome, check, exactly_one
from .packs.model import Rule

SCORE_CHECKS = ("score_points", "score_from_rate")
"""Checks whose value is points towards a pack's score."""
UNIT_OF_KIND = {"count": "count", "number": "number", "area": "m2", "percent": "ratio",
                "yesno": "yes/no", "points": "points"}
NUMBER_DECIMALS = 6


def attribute_values(ctx: Context, key: str) -> tuple[np.ndarray, np.ndarray]:
    """One attribute for every estate: ``(values, why_missing)``.

    ``values`` are floats (NaN when missing); ``why_missing`` holds the no-data reason where a
    value is missing ('' elsewhere): no sheet given, the estate not in the sheet, a blank, or a
    cell that holds no value (``site.attributes_no_data``, e.g. a formula never computed).
    """
    n = len(ctx.estates)
    table = ctx.site.attributes
    if table is None:
        return (np.full(n, np.nan),
                np.full(n, "no data: no attributes sheet given (geocheck template makes one; "
                           "pass it with --attributes)", dtype=object))
    if key not in table:
        header = ctx.pack.attribute(key).header
        return (np.full(n, np.nan),
                np.full(n, f"no data: the attributes sheet has no column {header}", dtype=object))
    values = table[key].to_numpy(dtype=float)
    header = ctx.pack.attribute(key).header
    why = np.where(~table["in_sheet"].to_numpy(dtype=bool),
                   f"no data: estate not in the attributes sheet {ctx.site.attributes_source}",
                   f"no data: {header} blank in the attributes sheet")
    reasons = ctx.site.attributes_no_data
    if reasons is not None and key in reasons:
        given = reasons[key].to_numpy(dtype=object)
        why = np.where(given != "", f"no data: {header} in the attributes sheet is a " + given,
                       why)
    return values, np.where(np.isnan(values), why, "").astype(object)


def _fmt(value: float, kind: str) -> str:
    if np.isnan(value):
        return "blank"
    if kind == "percent":
        return percent(np.round(value, RATIO_DECIMALS))
    if kind == "yesno":
        return "是 (yes)" if value else "否 (no)"
    return _num(value) + (" m2" if kind == "area" else "")


def _num(value: float) -> str:
    """A number of the sheet or a pack to the places it is judged at, trailing zeros dropped
    (998.96 m2 against >= 999 m2 is never shown as 999.0)."""
    return number(value, NUMBER_DECIMALS, judged=NUMBER_DECIMALS, trim=True)


def _frame(n: int, unit: str, threshold: str, method: str) -> pd.DataFrame:
    return pd.DataFrame({"status": np.full(n, NO_DATA, dtype=object), "value": np.full(n, np.nan),
                         "unit": unit, "threshold": threshold, "method": method,
                         "evidence": np.full(n, "", dtype=object)})


def _method(attr: Attribute) -> str:
    return f"from the attributes sheet, column {attr.header}"


def _attr(ctx: Context, key: str) -> Attribute:
    return ctx.pack.attribute(key)


def _texts(known: np.ndarray, make: Callable[..., str], *columns: np.ndarray) -> np.ndarray:
    """``make(*row)`` of the ``columns`` (numbers) on every row where ``known`` is true, ``""``
    elsewhere; each distinct row is formatted once (a sheet's values repeat: yes/no, counts)."""
    out = np.full(len(known), "", dtype=object)
    rows = np.flatnonzero(known)
    if len(rows):
        table = np.column_stack([np.asarray(c, dtype=float)[rows] for c in columns])
        distinct, which = np.unique(table, axis=0, return_inverse=True)
        made = np.array([make(*row) for row in distinct.tolist()], dtype=object)
        out[rows] = made[which.reshape(-1)]
    return out


def _judge(out: pd.DataFrame, values: np.ndarray, why: np.ndarray, met: np.ndarray,
           make: Callable[..., str], *columns: np.ndarray) -> None:
    """Fill ``out`` from ``values`` (NaN: no data, the reason from ``why``): pass where
    ``met``, else fail, the evidence ``make(*row)`` of ``columns`` (default: the value)."""
    known = ~np.isnan(values)
    out["value"] = values
    out["status"] = np.where(known, np.where(met, PASS, FAIL), NO_DATA)
    out["evidence"] = np.where(known, _texts(known, make, *(columns or (values,))), why)


def _kind_is(rid: str, attr: Attribute, kinds: tuple[str, ...], param: str) -> None:
    if attr.kind not in kinds:
        raise PackError(f"rule {rid}: {param} names attribute {attr.key} of kind {attr.kind}; "
                        f"this check needs {' or '.join(kinds)}")


def _threshold_fits(rid: str, name: str, value: float, attr: Attribute) -> None:
    if attr.kind == "count" and value != int(value):
        raise PackError(f"rule {rid}: parameter {name} = {plain(value)} is not a whole number, but "
                        f"{attr.key} is a count")
    if attr.kind == "percent" and not 0 <= value <= 1:
        raise PackError(f"rule {rid}: parameter {name} = {plain(value)} is not a ratio between "
                        f"0 and 1, but {attr.key} is a percentage (95 % is 0.95)")
    if attr.max is not None and value > attr.max:
        raise PackError(f"rule {rid}: parameter {name} = {plain(value)} is above {attr.key}'s "
                        f"maximum {plain(attr.max)}")


def validate_bound(name: str) -> Any:
    """A validator for a rule bounding an attribute (``count``, ``number``, ``area``,
    ``percent`` or ``points``) by its parameter ``name``."""
    def validate(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
        attr = attributes[params["attribute"]]
        _kind_is(rid, attr, ("count", "number", "area", "percent", "points"), "attribute")
        _threshold_fits(rid, name, params[name], attr)
    return validate


def _validate_yes(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    _kind_is(rid, attributes[params["attribute"]], ("yesno",), "attribute")
    if params["only_built"] not in ("", "new", "existing"):
        raise PackError(f"rule {rid}: only_built = {params['only_built']!r} is not new or "
                        "existing")


@check("attribute_yes",
       {"attribute": ("attribute", REQUIRED), "only_built": ("text", ""),
        "min_estate_area_m2": ("number", 0.0)},
       "A yes/no item of the attributes sheet is yes (optionally only for new or existing "
       "estates, or estates of at least an area).", _validate_yes, reads="sheet")
def attribute_yes(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the estate's yes/no cell is 是 (yes); fail when 否 (no); blank: no data.

    With ``only_built`` (``new`` / ``existing``) other estates are not applicable (built
    missing: no data); with ``min_estate_area_m2`` estates smaller than that (area of the
    estate polygon in the working CRS) are not applicable.
    """
    attr = _attr(ctx, rule.params["attribute"])
    values, why = attribute_values(ctx, attr.key)
    n = len(values)
    only, min_area = rule.params["only_built"], rule.params["min_estate_area_m2"]
    conditions = ([f"{only} estates"] if only else []) + \
        ([f"estates of >= {_num(min_area)} m2"] if min_area else [])
    out = _frame(n, "yes/no", "是 (yes)" + (f", for {' and '.join(conditions)}"
                                            if conditions else ""), _method(attr))
    _judge(out, values, why, values == 1, lambda v: f"{attr.title_zh}: {_fmt(v, 'yesno')}")
    if min_area:
        area = ctx.estates.geometry.area.to_numpy()
        small = np.round(area, 1) < min_area
        out.loc[small, "status"] = NOT_APPLICABLE
        out.loc[small, "evidence"] = [
            f"estate area {number(a, 0, min_area, at_most=False, judged=1)} m2 < "
            f"{_num(min_area)} m2" for a in area[small]]
        out["method"] += "; estate area measured in the working CRS"
    if only:
        built = ctx.estates["built"].to_numpy(dtype=object)
        missing = pd.isna(built) & (out["status"] != NOT_APPLICABLE).to_numpy()
        other = ~pd.isna(built) & (built != only)
        out.loc[other, "status"] = NOT_APPLICABLE
        out.loc[other, "evidence"] = f"applies to {only} estates only"
        out.loc[missing, "status"] = NO_DATA
        out.loc[missing, "evidence"] = "no data: built (new / existing) missing"
    return Outcome(out)


def attribute_bound(ctx: Context, rule: Rule, name: str, sign: int) -> Outcome:
    """Judge the rule's ``attribute`` against its parameter ``name``: at least it (``sign``
    +1) or at most it (-1), inclusive; blank: no data."""
    attr = _attr(ctx, rule.params["attribute"])
    limit = rule.params[name]
    values, why = attribute_values(ctx, attr.key)
    op = ">=" if sign > 0 else "<="
    out = _frame(len(values), UNIT_OF_KIND[attr.kind], f"{op} {_fmt(limit, attr.kind)}",
                 _method(attr))
    v = np.round(values, NUMBER_DECIMALS)
    met = v >= limit if sign > 0 else v <= limit
    _judge(out, values, why, met, lambda x: f"{attr.title_zh}: {_fmt(x, attr.kind)}")
    return Outcome(out)


@check("attribute_at_least", {"attribute": ("attribute", REQUIRED),
                              "min": ("number", REQUIRED)},
       "A number of the attributes sheet is at least a threshold (percentages as ratios).",
       validate_bound("min"), reads="sheet")
def attribute_at_least(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the estate's value is at least ``min`` (inclusive); a percentage attribute is
    compared as a ratio (``min = 0.95`` for 95 %)."""
    return attribute_bound(ctx, rule, "min", +1)


@check("attribute_at_most", {"attribute": ("attribute", REQUIRED),
                             "max": ("number", REQUIRED)},
       "A number of the attributes sheet is at most a threshold.", validate_bound("max"),
       reads="sheet")
def attribute_at_most(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the estate's value is at most ``max`` (inclusive)."""
    return attribute_bound(ctx, rule, "max", -1)


def _validate_per_households(rid: str, params: dict[str, Any],
                             attributes: dict[str, Attribute]) -> None:
    _kind_is(rid, attributes[params["attribute"]], ("area", "number", "count"), "attribute")
    exactly_one(rid, params, "min_per_100")


@check("attribute_per_households",
       {"attribute": ("attribute", REQUIRED), "min_per_100": ("number", None),
        "min_per_100_by_built": ("number_by_built", None)},
       "An amount per 100 households (e.g. m2 of rooms) at least a threshold.",
       _validate_per_households, reads="sheet")
def attribute_per_households(ctx: Context, rule: Rule) -> Outcome:
    """Pass when attribute / households x 100 is at least ``min_per_100`` (or the value for the
    estate's ``built``: new / existing). Households from the estates layer or the sheet; missing
    households: no data; no households: not applicable."""
    attr = _attr(ctx, rule.params["attribute"])
    values, why = attribute_values(ctx, attr.key)
    n = len(values)
    hh = ctx.estates["households"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    by_built = rule.params["min_per_100_by_built"]
    unit = f"{attr.unit or UNIT_OF_KIND[attr.kind]}/100 households"
    if by_built:
        threshold = " / ".join(f">= {_num(v)} {unit} ({k})" for k, v in by_built.items())
        limit = ctx.estates["built"].map(by_built).to_numpy(dtype=float)
    else:
        threshold = f">= {_num(rule.params['min_per_100'])} {unit}"
        limit = np.full(n, rule.params["min_per_100"])
    out = _frame(n, "per 100 households", threshold,
                 _method(attr) + " / households x 100")
    with np.errstate(divide="ignore", invalid="ignore"):
        per = values / hh * 100
    known = ~np.isnan(values) & ~np.isnan(hh) & (hh > 0) & ~np.isnan(limit)
    met = np.round(per, NUMBER_DECIMALS) >= limit
    out["value"] = np.where(known, per, np.nan)
    out["status"] = np.where(known, np.where(met, PASS, FAIL), NO_DATA)
    text = _texts(known, lambda v, h, p, m: f"{attr.title_zh} {_fmt(v, attr.kind)} for "
                  f"{h:,.0f} households = "
                  f"{number(p, 2, m, at_most=False, judged=NUMBER_DECIMALS)} per 100",
                  values, hh, per, limit)
    reason = np.where(np.isnan(values), why,
                      np.where(np.isnan(hh), "no data: households missing",
                               np.where(np.isnan(limit), "no data: built (new / existing) "
                                        "missing", "")))
    out["evidence"] = np.where(known, text, reason)
    none = ~np.isnan(hh) & (hh == 0)
    out.loc[none, "status"] = NOT_APPLICABLE
    out.loc[none, "evidence"] = "no households"
    return Outcome(out)


def _validate_share(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    a, b = attributes[params["attribute"]], attributes[params["of"]]
    _kind_is(rid, a, ("area", "number", "count"), "attribute")
    _kind_is(rid, b, ("area", "number", "count"), "of")


@check("attribute_share",
       {"attribute": ("attribute", REQUIRED), "of": ("attribute", REQUIRED),
        "min_ratio": ("ratio", REQUIRED)},
       "One amount of the attributes sheet as a share of another at least a ratio.",
       _validate_share, reads="sheet")
def attribute_share(ctx: Context, rule: Rule) -> Outcome:
    """Pass when ``attribute / of`` is at least ``min_ratio`` (e.g. commercial floor area /
    total floor area >= 0.10). Either blank, or ``of`` zero: no data."""
    a, b = _attr(ctx, rule.params["attribute"]), _attr(ctx, rule.params["of"])
    num, why_a = attribute_values(ctx, a.key)
    den, why_b = attribute_values(ctx, b.key)
    n = len(num)
    out = _frame(n, "ratio", f">= {percent(rule.params['min_ratio'])}",
                 f"from the attributes sheet: {a.header} / {b.header}")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    known = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    met = np.round(ratio, RATIO_DECIMALS) >= rule.params["min_ratio"]
    out["value"] = np.where(known, ratio, np.nan)
    out["status"] = np.where(known, np.where(met, PASS, FAIL), NO_DATA)
    text = _texts(known, lambda x, y, r: f"{a.title_zh} {_fmt(x, a.kind)} / {b.title_zh} "
                  f"{_fmt(y, b.kind)} = {share(r, limit=rule.params['min_ratio'])}",
                  num, den, ratio)
    reason = np.where(np.isnan(num), why_a,
                      np.where(np.isnan(den), why_b, f"no data: {b.key} is 0"))
    out["evidence"] = np.where(known, text, reason)
    return Outcome(out)


def _validate_points(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    attr = attributes[params["attribute"]]
    _kind_is(rid, attr, ("points",), "attribute")
    if attr.max != params["max_points"]:
        raise PackError(f"rule {rid}: max_points = {plain(params['max_points'])} but attribute "
                        f"{attr.key} has max {plain(attr.max)}")


@check("score_points", {"attribute": ("attribute", REQUIRED),
                        "max_points": ("number", REQUIRED)},
       "Points awarded for an item (from the sheet), out of its full marks.",
       _validate_points, reads="sheet")
def score_points(ctx: Context, rule: Rule) -> Outcome:
    """Value: the points awarded (0 to ``max_points``). Pass at full marks; fail when points
    were deducted (some part of the item is not met); blank: no data."""
    attr = _attr(ctx, rule.params["attribute"])
    top = rule.params["max_points"]
    values, why = attribute_values(ctx, attr.key)
    out = _frame(len(values), "points", f"{_num(top)} points (full marks)", _method(attr))
    _judge(out, values, why, np.round(values, NUMBER_DECIMALS) >= top,
           lambda v: f"{_num(v)} of {_num(top)} points" + (f" ({_num(top - v)} deducted)"
                                                           if v < top else ""))
    return Outcome(out)


def _validate_rate(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    _kind_is(rid, attributes[params["attribute"]], ("percent",), "attribute")
    if params["deduct_per_point"] <= 0:
        raise PackError(f"rule {rid}: deduct_per_point must be > 0")


@check("score_from_rate",
       {"attribute": ("attribute", REQUIRED), "max_points": ("number", REQUIRED),
        "deduct_per_point": ("number", REQUIRED)},
       "Points from a rate: full marks at 100 %, less a deduction per percentage point below.",
       _validate_rate, reads="sheet")
def score_from_rate(ctx: Context, rule: Rule) -> Outcome:
    """Value: ``max_points - deduct_per_point x (100 - rate in %)``, not below 0. Pass at full
    marks (a rate of 100 %); fail when points were deducted; blank: no data."""
    attr = _attr(ctx, rule.params["attribute"])
    top, per = rule.params["max_points"], rule.params["deduct_per_point"]
    values, why = attribute_values(ctx, attr.key)
    points = np.clip(top - per * (100 - values * 100), 0, top)
    out = _frame(len(values), "points",
                 f"{_num(top)} points at 100 %, less {_num(per)} per point below", _method(attr))
    points = np.round(points, NUMBER_DECIMALS)
    _judge(out, points, why, points >= top,
           lambda v, p: f"{attr.title_zh} {_fmt(v, 'percent')}: {_num(p)} of {_num(top)} points",
           values, points)
    return Outcome(out)


def _validate_households_per(rid: str, params: dict[str, Any],
                             attributes: dict[str, Attribute]) -> None:
    _kind_is(rid, attributes[params["attribute"]], ("count",), "attribute")


@check("households_per",
       {"attribute": ("attribute", REQUIRED), "max": ("number", REQUIRED)},
       "Households per unit of a count (e.g. per grid cell) at most a number.",
       _validate_households_per, reads="sheet")
def households_per(ctx: Context, rule: Rule) -> Outcome:
    """Pass when households / attribute (e.g. grid cells) is at most ``max``. Households missing
    or the count blank: no data; a count of 0: fail (no unit at all)."""
    attr = _attr(ctx, rule.params["attribute"])
    units, why = attribute_values(ctx, attr.key)
    top = rule.params["max"]
    hh = ctx.estates["households"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    n = len(units)
    out = _frame(n, "number", f"<= {_num(top)} households per {attr.title_en}",
                 _method(attr) + "; households / count")
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(units > 0, hh / units, np.inf)
    known = ~np.isnan(units) & ~np.isnan(hh)
    met = np.round(per, NUMBER_DECIMALS) <= top
    out["value"] = np.where(known & np.isfinite(per), per, np.nan)
    out["status"] = np.where(known, np.where(met, PASS, FAIL), NO_DATA)
    text = _texts(known, lambda h, u, p: f"{h:,.0f} households / {_num(u)} {attr.title_zh} = "
                  f"{number(p, 1, top, judged=NUMBER_DECIMALS)}" if u > 0 else
                  f"{attr.title_zh}: 0", hh, units, per)
    reason = np.where(np.isnan(units), why, "no data: households missing")
    out["evidence"] = np.where(known, text, reason)
    return Outcome(out)
