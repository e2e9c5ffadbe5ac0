"""What it takes to pass: the ``remedy`` of each failing finding, computed from its measures.

One function per check kind, each vectorised over the estates of one rule (:func:`remedy_of`);
the score items of a pack with a ``[scoring]`` get the points to the next star afterwards
(:func:`add_score_remedies`). A finding that passes, is not applicable or has no data has no
remedy (``""``): the reason for no data is already in its evidence.

Amounts are rounded up, so that the remedy done as written passes: an area to whole square
metres, a count to whole units, a share to 0.1 percentage point.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..core.indicators import Attribute
from ..core.roles import ROLES
from ..core.status import FAIL
from ..core.units import (
    DISTANCE_DECIMALS,
    RATIO_DECIMALS,
    metres_all,
    number,
    numbers_all,
    percent,
    plain,
)
from .circles import circle_m
from .context import ORIGINS, RESIDENTIAL, Context
from .measure import ENTRANCES
from .packs.model import Pack, Rule
from .records import attribute_values
from .scores import scores_table

PROPOSALS_NOTE = ("see proposals.gpkg{layer} (sites for the estates the run proposes for: at most "
                  "--proposals, the worst first; the summary names the others)")
"""Where the garbage remedies point: the set-cover proposals of :mod:`geocheck.rules.proposals`,
which a run makes for a limited number of estates (:data:`~geocheck.rules.proposals.PROPOSE_MAX`
by default), so the remedy says so rather than promise sites for every one."""
LISTED = 5
"""At most this many buildings or points are named in one remedy (the count is always given)."""


def _up(x: np.ndarray, step: float) -> np.ndarray:
    """``x`` rounded up to a multiple of ``step`` (after rounding off float noise)."""
    return np.ceil(np.round(np.asarray(x, dtype=float) / step, 6)) * step


def _amount(x: float, unit: str = "") -> str:
    """A number as people write it with thousands separators, trailing zeros dropped."""
    text = number(x, 2, judged=6, trim=True)
    return f"{text} {unit}".rstrip()


def _amounts(x: np.ndarray) -> list[str]:
    """:func:`_amount` of every value of ``x``, without a unit, vectorised."""
    return numbers_all(x, 2, judged=6, trim=True)


def _beyond(d: np.ndarray, limit: float) -> list[str]:
    """How far each distance (metres) is beyond ``limit``, never shown as 0 when it is not."""
    over = np.round(np.asarray(d, dtype=float), DISTANCE_DECIMALS) - limit
    return metres_all(over, 0.0, at_most=False)


def _listed(est: np.ndarray, key: np.ndarray, text: Callable[[np.ndarray], list[str]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Rows grouped by estate position ``est``, each group in order of ``key`` (ascending;
    equal keys in row order), with the first :data:`LISTED` rows of each group named.

    ``text(rows)`` makes the names of the given rows (positions in ``est``); it is called for
    the named rows only. Returns (estate of each group, its number of rows, its first row,
    its names: ``"a, b, c, d, e and 4 more"``).
    """
    order = np.lexsort((key, est))
    e = est[order]
    if not len(e):
        return e, np.zeros(0, int), order, []
    start = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    sizes = np.diff(np.r_[start, len(e)])
    rank = np.arange(len(e)) - np.repeat(start, sizes)
    made = np.asarray(text(order[rank < LISTED]), dtype=object)
    cuts = np.cumsum(np.minimum(sizes, LISTED))[:-1]
    names = [", ".join(part) + (f" and {size - LISTED} more" if size > LISTED else "")
             for part, size in zip(np.split(made, cuts), sizes.tolist(), strict=True)]
    return e[start], sizes, order[start], names


def nearest_within(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """Per listed layer: the nearest feature's distance and how far beyond its limit; the
    facility needed, from the estate's entrances or boundary."""
    limits: dict[str, float] = rule.params["max_m"]
    n = len(t)
    parts = np.full(n, "", dtype=object)
    for role, limit in limits.items():
        one = ROLES[role].one_en
        if ctx.layer(role) is None:
            continue
        walked = ctx.walk(role, ORIGINS, limit) if ctx.walking else None
        d = (walked.distance_m if walked is not None
             else ctx.nearest(role)["distance_m"].to_numpy())
        on = " on foot" if walked is not None else ""
        none = (f"no {one} in the data" if ctx.layer(role).empty else
                f"no {one} reached{on} within the search")
        lim = plain(limit)
        text = np.array([none if not np.isfinite(x) else
                         f"nearest {one} {m}{on}, {b} beyond {lim} m" for x, m, b
                         in zip(d.tolist(), metres_all(d, limit), _beyond(d, limit),
                                strict=True)], dtype=object)
        parts = np.where(parts == "", text, parts + "; " + text)
    origin = np.where(ctx.origins[1] == ENTRANCES, "of the entrances", "of the estate")
    need = " or ".join(f"a {ROLES[r].one_en} within {plain(m)} m" for r, m in limits.items())
    out = np.full(n, "", dtype=object)
    out[fail] = parts[fail] + ": " + need + " " + origin[fail] + " is needed"
    return out


def buildings_within(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The residential buildings beyond the distance, farthest first, and what serves them."""
    role, limit = rule.params["layer"], rule.params["max_m"]
    n, one = len(t), ROLES[role].one_en
    out = np.full(n, "", dtype=object)
    res, feats = ctx.residential, ctx.layer(role)
    if res is None or feats is None or not fail.any():
        return out
    est = res["estate_pos"].to_numpy()
    count = np.bincount(est, minlength=n)
    walked = ctx.walk(role, RESIDENTIAL, limit) if ctx.walking else None
    if feats.empty:
        d = np.full(len(res), np.inf)
    elif walked is not None:
        d = walked.distance_m
    else:
        d = ctx.nearest_to_residential(role)["distance_m"].to_numpy()
    rows = np.flatnonzero(~(np.round(d, DISTANCE_DECIMALS) <= limit) & fail[est])
    ids, far = res["feature_id"].to_numpy()[rows], d[rows]

    def text(r: np.ndarray) -> list[str]:
        return [f"{b} {m}" if np.isfinite(x) else f"{b} not reached"
                for b, x, m in zip(ids[r], far[r], metres_all(far[r], limit), strict=True)]

    e, k, first, named = _listed(est[rows], -far, text)  # the farthest first
    w = far[first]
    where = " on foot" if walked is not None else ""
    note = "" if walked is not None else "; " + PROPOSALS_NOTE.format(layer="")
    beyond = [f"farthest {b} beyond" if np.isfinite(x) else "some not reached within the "
              "search" for x, b in zip(w, _beyond(w, limit), strict=True)]
    lim = plain(limit)
    out[e] = [f"no {one} in the data: {one}s within {lim} m of all {c} residential "
              f"buildings are needed{note}" if feats.empty else
              f"{m} of {c} residential buildings beyond {lim} m{where} ({b}; {txt}): "
              f"a {one} within {lim} m of each is needed{note}"
              for c, m, b, txt in zip(count[e], k, beyond, named, strict=True)]
    return out


def setback_from_buildings(ctx: Context, rule: Rule, t: pd.DataFrame,
                           fail: np.ndarray) -> np.ndarray:
    """The features inside the estate closer than the setback, with how much closer, to move."""
    role, limit = rule.params["layer"], rule.params["min_m"]
    n = len(t)
    out = np.full(n, "", dtype=object)
    feats, buildings = ctx.layer(role), ctx.layer("buildings")
    if feats is None or buildings is None or not fail.any():
        return out
    pairs = ctx.inside(role)
    near = ctx.nearest_building(role)
    fpos = pairs["feature_pos"].to_numpy()
    d = near["distance_m"].to_numpy()[fpos]
    close = np.round(d, DISTANCE_DECIMALS) < limit
    est = pairs["estate_pos"].to_numpy()
    rows = np.flatnonzero(close & fail[est])
    dr, fr = d[rows], fpos[rows]
    short = limit - np.round(dr, DISTANCE_DECIMALS)

    def text(r: np.ndarray) -> list[str]:
        return [f"{f} {m} from building {b} ({s} short)" for f, m, b, s in zip(
            ctx.label(role, fr[r]), metres_all(dr[r], limit, at_most=False),
            ctx.label("buildings", near["target_pos"].to_numpy()[fr[r]]),
            metres_all(short[r], 0.0, at_most=False), strict=True)]

    idx, k, _, named = _listed(est[rows], dr, text)  # the closest first
    lim, note = plain(limit), PROPOSALS_NOTE.format(layer=", layer points_to_move")
    out[idx] = [f"{ROLES[role].label_en} closer than {lim} m: {c} ({txt}); move each at "
                f"least {lim} m from every building; " + note
                for c, txt in zip(k, named, strict=True)]
    return out


def facility_inside_by_households(ctx: Context, rule: Rule, t: pd.DataFrame,
                                  fail: np.ndarray) -> np.ndarray:
    """The facility required, with the households that require it."""
    hh = ctx.estates["households"].to_numpy(dtype=float, na_value=np.nan)
    one = ROLES[rule.params["layer"]].one_en
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"a {one} is required inside the estate: {h:,.0f} households (threshold "
                 f"{rule.params['min_households']:,})" for h in hh[fail]]
    return out


def green_ratio(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The green area to add (m2, rounded up) for the estate's green to reach the ratio of its
    area (the estate polygon's area, the rule's basis)."""
    by_built = rule.params["min_ratio_by_built"]
    limit = (ctx.estates["built"].map(by_built).to_numpy(dtype=float) if by_built
             else np.full(len(t), rule.params["min_ratio"]))
    out = np.full(len(t), "", dtype=object)
    if not fail.any():
        return out
    area = ctx.estates.geometry.area.to_numpy()
    green = ctx.area_in_estates("green_space").to_numpy()
    add = _up(area * limit - green, 1.0)
    m = limit[fail]
    out[fail] = [f"add {a} m2 of green inside the estate: {percent(r)} of {s} m2 is {q} m2, "
                 f"green now {g} m2"
                 for a, r, s, q, g in zip(_amounts(add[fail]), m.tolist(),
                                          _amounts(np.round(area[fail], 1)),
                                          _amounts(np.round(area[fail] * m, 1)),
                                          _amounts(np.round(green[fail], 1)), strict=True)]
    return out


def green_patch(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The patch needed, against the largest patch there is."""
    width, area_min = rule.params["min_width_m"], rule.params["min_area_m2"]
    value = t["value"].to_numpy(dtype=float)
    need = f"a contiguous green patch at least {plain(width)} m across" + (
        f" and {_amount(area_min, 'm2')}" if area_min else "")
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{need} is needed (largest patch now {_amount(v, 'm2')}, not qualifying)"
                 if v > 0 else f"{need} is needed (no green inside the estate)"
                 for v in value[fail]]
    return out


def _gap(attr: Attribute, gap: np.ndarray) -> list[str]:
    """A shortfall of an attribute in its own unit, rounded up (counts to whole units, areas
    to whole m2, shares to 0.1 percentage point)."""
    if attr.kind == "percent":
        return [f"{_amount(g, 'percentage points')}" for g in _up(gap * 100, 0.1)]
    if attr.kind == "count":
        return [_amount(g, attr.unit) for g in _up(gap, 1.0)]
    if attr.kind == "area":
        return [_amount(g, "m2") for g in _up(gap, 1.0)]
    return [_amount(g, attr.unit) for g in np.round(gap, 6)]


def _value(attr: Attribute, v: np.ndarray) -> list[str]:
    if attr.kind == "percent":
        return [percent(np.round(x, RATIO_DECIMALS)) for x in v]
    return [_amount(x, "m2" if attr.kind == "area" else attr.unit) for x in v]


def attribute_bound(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray,
                    name: str, sign: int) -> np.ndarray:
    """The amount missing below a minimum, or above a maximum, in the attribute's unit."""
    attr = ctx.pack.attribute(rule.params["attribute"])
    limit = rule.params[name]
    v = t["value"].to_numpy(dtype=float)[fail]
    gap = (limit - v) * sign
    word = "short of" if sign > 0 else "above"
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{g} {word} {lim} ({attr.title_zh} {x})" for g, x, lim in zip(
        _gap(attr, gap), _value(attr, v), _value(attr, np.full(len(v), limit)), strict=True)]
    return out


def attribute_yes(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """A yes/no item: it has to be done and recorded as yes."""
    attr = ctx.pack.attribute(rule.params["attribute"])
    out = np.full(len(t), "", dtype=object)
    out[fail] = f"{attr.title_zh}: now 否 (no); to be done and recorded as 是 (yes)"
    return out


def attribute_per_households(ctx: Context, rule: Rule, t: pd.DataFrame,
                             fail: np.ndarray) -> np.ndarray:
    """The amount short: required per 100 households x households / 100 - the amount there."""
    attr = ctx.pack.attribute(rule.params["attribute"])
    by_built = rule.params["min_per_100_by_built"]
    n = len(t)
    limit = (ctx.estates["built"].map(by_built).to_numpy(dtype=float) if by_built
             else np.full(n, rule.params["min_per_100"]))
    hh = ctx.estates["households"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    have, _ = attribute_values(ctx, attr.key)
    need = limit * hh / 100
    unit = "m2" if attr.kind == "area" else attr.unit
    out = np.full(n, "", dtype=object)
    out[fail] = [f"{g} short: {_amount(m)} {unit} per 100 households x {h:,.0f} households = "
                 f"{_amount(q, unit)} needed, {_amount(x, unit)} given" for g, m, h, q, x in zip(
                     _gap(attr, need[fail] - have[fail]), limit[fail], hh[fail], need[fail],
                     have[fail], strict=True)]
    return out


def attribute_share(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The amount of the numerator short of the share of the denominator."""
    a = ctx.pack.attribute(rule.params["attribute"])
    b = ctx.pack.attribute(rule.params["of"])
    ratio = rule.params["min_ratio"]
    num, _ = attribute_values(ctx, a.key)
    den, _ = attribute_values(ctx, b.key)
    need = ratio * den
    unit = "m2" if a.kind == "area" else a.unit
    unit_b = "m2" if b.kind == "area" else b.unit
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{a.title_zh} {g} short: {percent(ratio)} of {b.title_zh} "
                 f"{_amount(y, unit_b)} is {_amount(q, unit)}, {_amount(x, unit)} given"
                 for g, y, q, x in zip(_gap(a, need[fail] - num[fail]), den[fail], need[fail],
                                       num[fail], strict=True)]
    return out


def households_per(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The units missing for households / units to be at most the maximum."""
    attr = ctx.pack.attribute(rule.params["attribute"])
    top = rule.params["max"]
    hh = ctx.estates["households"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    units, _ = attribute_values(ctx, attr.key)
    need = _up(hh / top, 1.0)
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{_amount(q - u)} more {attr.title_zh} ({attr.unit}) needed: {h:,.0f} households "
                 f"/ {_amount(top)} = {_amount(q)} needed, {_amount(u)} given"
                 for q, u, h in zip(need[fail], units[fail], hh[fail], strict=True)]
    return out


def score_points(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The points deducted from the item's full marks."""
    top = rule.params["max_points"]
    v = t["value"].to_numpy(dtype=float)[fail]
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{_amount(top - x)} points deducted of {_amount(top)}" for x in v]
    return out


def score_from_rate(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The points deducted, and the rate that gives full marks (100 %)."""
    attr = ctx.pack.attribute(rule.params["attribute"])
    top = rule.params["max_points"]
    v = t["value"].to_numpy(dtype=float)[fail]
    rate, _ = attribute_values(ctx, attr.key)
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{_amount(top - x)} points deducted of {_amount(top)}: {attr.title_zh} "
                 f"{percent(np.round(r, RATIO_DECIMALS))}, full marks at 100 %"
                 for x, r in zip(v, rate[fail], strict=True)]
    return out


def _distance_remedy(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray,
                     limit: float, what: str) -> np.ndarray:
    d = t["value"].to_numpy(dtype=float)
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"nearest {what} {m} on foot, {b} beyond {plain(limit)} m" if np.isfinite(x)
                 else f"no {what} reached within the search" for x, m, b in zip(
                     d[fail], metres_all(d[fail], limit), _beyond(d[fail], limit), strict=True)]
    return out


def walk_minutes(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """On the map: metres walked beyond the circle; from the sheet: minutes beyond."""
    if (t["unit"] == "m").all():
        limit = circle_m(rule.params["max_min"])
        return _distance_remedy(ctx, rule, t, fail, limit, ROLES[rule.params["layer"]].one_en)
    return attribute_bound(ctx, rule, t, fail, "max_min", -1)


def life_circle(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray) -> np.ndarray:
    """The share short of the target, in percentage points (and households when known)."""
    target = rule.params["target"]
    v = t["value"].to_numpy(dtype=float)
    hh = ctx.estates["households"].to_numpy(dtype=float, na_value=np.nan)
    gap = _up((target - v) * 100, 0.1)
    many = np.where(np.isfinite(hh), np.ceil(np.round((target - v) * hh, 6)), np.nan)
    one = ROLES[rule.params["layer"]].one_en
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{_amount(g)} percentage points short of {percent(target)}"
                 + (f" (about {m:,.0f} households)" if np.isfinite(m) else "")
                 + f": a {one} within the walk of more residential buildings is needed"
                 for g, m in zip(gap[fail], many[fail], strict=True)]
    return out


def condition_ratio(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray,
                    what: str, at_most: bool) -> np.ndarray:
    """A planning condition on a ratio of the plot's area (plot ratio, building density, green
    ratio): the area (m2, rounded up) to take away or to add to reach the reviewer's figure."""
    limit = float(rule.params["limit"])
    area = ctx.estates.geometry.area.to_numpy()
    v = t["value"].to_numpy(dtype=float)
    amount = _up(np.abs(v - limit) * area, 1.0)
    shown = (f"plot ratio {plain(limit)} on" if rule.check == "condition_plot_ratio"
             else f"{percent(limit)} of")
    verb = "take away" if at_most else "add"
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"{verb} {_amount(m)} m2 of {what}: {shown} the plot's {_amount(a)} m2 is "
                 f"{_amount(limit * a)} m2 (the planning condition), the plan has "
                 f"{_amount(x * a)} m2"
                 for m, a, x in zip(amount[fail], area[fail], v[fail], strict=True)]
    return out


def condition_height(ctx: Context, rule: Rule, t: pd.DataFrame, fail: np.ndarray
                     ) -> np.ndarray:
    """The metres (and, given a storey height, storeys) the tallest building is over."""
    limit, storey = float(rule.params["limit"]), rule.params.get("storey_m")
    over = np.round(t["value"].to_numpy(dtype=float), DISTANCE_DECIMALS) - limit
    out = np.full(len(t), "", dtype=object)
    out[fail] = [f"lower the tallest building by {_amount(o)} m to {plain(limit)} m"
                 + (f" (about {math.ceil(round(o / storey, 6))} storeys of {plain(storey)} m)"
                    if storey else "")
                 for o in over[fail]]
    return out


REMEDIES: dict[str, Callable[[Context, Rule, pd.DataFrame, np.ndarray], np.ndarray]] = {
    "nearest_within": nearest_within,
    "buildings_within": buildings_within,
    "setback_from_buildings": setback_from_buildings,
    "facility_inside_by_households": facility_inside_by_households,
    "green_ratio": green_ratio,
    "green_patch": green_patch,
    "walk_minutes": walk_minutes,
    "life_circle": life_circle,
    "attribute_yes": attribute_yes,
    "attribute_at_least": lambda c, r, t, f: attribute_bound(c, r, t, f, "min", +1),
    "attribute_at_most": lambda c, r, t, f: attribute_bound(c, r, t, f, "max", -1),
    "attribute_per_households": attribute_per_households,
    "attribute_share": attribute_share,
    "score_points": score_points,
    "score_from_rate": score_from_rate,
    "households_per": households_per,
    "condition_plot_ratio": lambda c, r, t, f: condition_ratio(c, r, t, f, "floor area", True),
    "condition_density": lambda c, r, t, f: condition_ratio(c, r, t, f, "footprint", True),
    "condition_green_ratio": lambda c, r, t, f: condition_ratio(c, r, t, f, "green", False),
    "condition_height": condition_height,
}
"""Check name -> its remedy function (every check of :data:`geocheck.rules.registry.CHECKS`)."""


def remedy_of(ctx: Context, rule: Rule, table: pd.DataFrame) -> np.ndarray:
    """The remedy of each estate's finding for one rule (``table``: the rule's findings, one
    row per estate in site order, with ``status`` and ``value``): ``""`` unless it fails."""
    fail = (table["status"] == FAIL).to_numpy()
    if not fail.any():
        return np.full(len(table), "", dtype=object)
    if "remedy" in table:  # a check that worked its remedy out while measuring (setbacks)
        return np.where(fail, table["remedy"].fillna("").to_numpy(dtype=object), "")
    return REMEDIES[rule.check](ctx, rule, table, fail)


def add_score_remedies(pack: Pack, estates: pd.DataFrame, findings: pd.DataFrame,
                       attributes: pd.DataFrame | None) -> None:
    """Append the points to the next star to the remedy of each failing score item (in place).

    The total is the estate's points (see :func:`geocheck.rules.scores.scores_table`); the next
    star is the lowest rating above the estate's, with its satisfaction floor.
    """
    if pack.scoring is None:
        return
    scores = scores_table(pack, estates, findings, attributes)
    items = [r for part in pack.scoring.parts for r in part.rules]
    rows = findings["rule_id"].isin(items).to_numpy() & (findings["status"] == FAIL).to_numpy()
    if not rows.any():
        return
    stars = sorted(pack.scoring.stars, key=lambda s: s.min_total)
    total = scores["total"].to_numpy(dtype=float)
    have = scores["stars"].to_numpy(dtype=float)
    sat = scores["satisfaction_rate"].to_numpy(dtype=float)
    text = np.full(len(scores), "", dtype=object)
    floor = pack.scoring.floor
    low = np.isfinite(sat) & (np.round(sat, RATIO_DECIMALS) < floor)
    text[low] = [f"; satisfaction {percent(np.round(s, RATIO_DECIMALS))} is below the "
                 f"{percent(floor)} floor: no star at any total until it reaches it"
                 for s in sat[low]]
    for star in stars:  # a few ratings
        nxt = (text == "") & np.isfinite(total) & (np.nan_to_num(have, nan=math.inf) < star.stars)
        more = np.maximum(star.min_total - total, 0)
        sat_low = np.isfinite(sat) & (np.round(sat, RATIO_DECIMALS) < star.min_satisfaction)
        text[nxt] = [f"; total {_amount(x)} points: "
                     + (f"{_amount(m)} more for {star.stars} stars ({_amount(star.min_total)})"
                        if m > 0 else f"enough for {star.stars} stars ({_amount(star.min_total)})")
                     + (f", which also need satisfaction >= {percent(star.min_satisfaction)} "
                        f"(now {percent(np.round(s, RATIO_DECIMALS))})" if lo else "")
                     for x, m, s, lo in zip(total[nxt], more[nxt], sat[nxt], sat_low[nxt],
                                            strict=True)]
    pos = pd.Index(estates["estate_id"].to_numpy()).get_indexer(
        findings["estate_id"].to_numpy()[rows])
    findings.loc[rows, "remedy"] = findings.loc[rows, "remedy"].to_numpy() + text[pos]
