"""Life circles: rules written as minutes of walking, measured on the map when the layers exist.

A circle of N minutes is N x 60 x :data:`~geocheck.rules.walking.WALK_SPEED_M_S` metres of
walking along the paths layer (15 minutes: 900 m), from the estate's entrances, else its
boundary, to the nearest facility; without the paths or the facility layer the minutes typed in
the attributes sheet are judged instead, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..core.errors import PackError
from ..core.indicators import Attribute
from ..core.roles import ROLES
from ..core.status import FAIL, NO_DATA, PASS
from ..core.units import DISTANCE_DECIMALS, RATIO_DECIMALS, metres_all, percent, plain, share
from .context import (
    ORIGINS,
    REQUIRED,
    RESIDENTIAL,
    STRICT,
    Context,
    LayerUse,
    Outcome,
    check,
    evidence_frame,
    layer_missing,
    worst_per_estate,
)
from .packs.model import Rule
from .records import attribute_bound, validate_bound
from .walking import WALK_METHOD, WALK_SPEED_M_S, detour_suffixes, finite_or_nan, on_foot


def circle_m(minutes: float) -> float:
    """The walking distance (metres) of a circle of ``minutes`` at :data:`WALK_SPEED_M_S`."""
    return minutes * 60.0 * WALK_SPEED_M_S


def _validate(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    validate_bound("max_min")(rid, params, attributes)


@check("walk_minutes",
       {"layer": ("layer", REQUIRED), "max_min": ("number", REQUIRED),
        "attribute": ("attribute", REQUIRED)},
       "The nearest facility within a walk of some minutes: on the map (the facility and paths "
       "layers, at a stated walking speed), else the minutes of the attributes sheet.",
       _validate, reads="sheet",
       walks=lambda rule: (ORIGINS, {rule.params["layer"]: circle_m(rule.params["max_min"])}),
       on_foot=True)
def walk_minutes(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the walk from the estate's entrances (else its boundary) to the nearest
    feature of ``layer`` takes at most ``max_min`` minutes at :data:`WALK_SPEED_M_S` (value:
    metres walked, judged to the millimetre against :func:`circle_m`); a feature inside the
    estate is at 0 m. Without a paths layer or ``layer``: the attribute's minutes, at most
    ``max_min`` (blank: no data).
    """
    role, minutes = rule.params["layer"], rule.params["max_min"]
    limit = circle_m(minutes)
    walked = ctx.walk(role, ORIGINS, limit)
    if walked is None:
        sheet = attribute_bound(ctx, rule, "max_min", -1)
        lacks = " or ".join(r for r in (role, "paths") if ctx.layer(r) is None)
        sheet.table["method"] += f" (the input has no {lacks} layer to measure the walk on)"
        return sheet
    d, pos = walked.distance_m, walked.facility_pos
    straight = ctx.nearest(role)["distance_m"].to_numpy()
    one = ROLES[role].one_en
    at_speed = f"{plain(minutes)} minutes at {plain(WALK_SPEED_M_S)} m/s"
    labels = ctx.label(role, pos)
    said = np.array([f"nearest {one} on foot: {lab}, {on_foot(w, limit, walked.limit_m)}"
                     + (f" ({w / 60 / WALK_SPEED_M_S:.1f} min)" if np.isfinite(w) else "")
                     if p >= 0 else f"no {one} reached: {on_foot(w, limit, walked.limit_m)}"
                     for lab, w, p in zip(labels, d, pos, strict=True)], dtype=object)
    said = said + detour_suffixes(straight, d, limit, walked.limit_m)
    empty = ctx.layer(role).empty
    table = pd.DataFrame({
        "status": np.where(np.round(d, DISTANCE_DECIMALS) <= limit, PASS, FAIL),
        "value": finite_or_nan(d), "unit": "m", "walk_m": d,
        "threshold": f"<= {plain(limit)} m on foot ({at_speed})",
        "method": (f"measured on the map: walk to the nearest {one} from the estate's entrances, "
                   f"else its boundary; {at_speed} (geocheck's reading of GB 50180-2018's "
                   f"life circles); {WALK_METHOD}"),
        "evidence": np.where(empty, f"no {ROLES[role].label_en} in the data", said)})
    has = np.flatnonzero(pos >= 0)
    routes = walked.routes()[has]
    drawn = shapely.is_geometry(routes)
    ev = evidence_frame("evidence_lines", rule, has[drawn],
                        [f"{rule.id}: {lab} {m} on foot" for lab, m
                         in zip(labels[has][drawn], metres_all(d[has][drawn], limit),
                                strict=True)],
                        d[has][drawn], routes[drawn], ctx.site.crs, limit=limit)
    return Outcome(table, [ev])


LIFE_CIRCLE_MINUTES = (5.0, 10.0, 15.0)
"""The life circles of GB 50180-2018, in minutes of walking."""

BASES = ("households", "buildings")
"""What a life circle's share counts: households (split over an estate's residential
buildings by footprint area), or residential buildings."""


def circle_limit(params: dict[str, Any]) -> float:
    """A life circle rule's walking distance in metres: ``max_m``, else :func:`circle_m` of
    ``minutes``."""
    return params["max_m"] if params["max_m"] is not None else circle_m(params["minutes"])


def _validate_circle(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    if (params["minutes"] is None) == (params["max_m"] is None):
        raise PackError(f"rule {rid}: give exactly one of minutes (5, 10 or 15) and max_m")
    if params["minutes"] is not None and params["minutes"] not in LIFE_CIRCLE_MINUTES:
        raise PackError(f"rule {rid}: minutes = {plain(params['minutes'])} is not a life circle "
                        "of GB 50180-2018 (5, 10 or 15); give max_m for another walking distance")
    if params["target"] <= 0:
        raise PackError(f"rule {rid}: target = 0 is met by any estate; give a share above 0 "
                        "(90 % is 0.9)")
    if params["basis"] not in BASES:
        raise PackError(f"rule {rid}: basis = {params['basis']!r} is not one of "
                        f"{', '.join(BASES)}")


def _circle_text(params: dict[str, Any]) -> str:
    """``300 m on foot (5 minutes at 1 m/s)``, or ``500 m on foot``."""
    limit = circle_limit(params)
    if params["minutes"] is None:
        return f"{plain(limit)} m on foot"
    return (f"{plain(limit)} m on foot ({plain(params['minutes'])} minutes at "
            f"{plain(WALK_SPEED_M_S)} m/s)")


@check("life_circle",
       {"layer": ("layer", REQUIRED), "minutes": ("number", None), "max_m": ("metres", None),
        "target": ("ratio", 1.0), "basis": ("text", "households")},
       "The share of an estate's households (or residential buildings) within a walk of a "
       "facility (a 5/10/15-minute life circle, or metres) reaches a target.",
       _validate_circle,
       uses=lambda rule: (LayerUse("buildings", STRICT),),
       walks=lambda rule: (RESIDENTIAL, {rule.params["layer"]: circle_limit(rule.params)}),
       on_foot=True)
def life_circle(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the share of the estate's households whose residential building walks to a
    feature of ``layer`` within the circle (``minutes`` at :data:`WALK_SPEED_M_S`, or
    ``max_m`` metres; inclusive, to the millimetre) is at least ``target``.

    Each residential building walks from its footprint along the paths layer to its nearest
    feature (any, inside the estate or not). With ``basis = "households"`` the estate's
    households are split over its residential buildings by footprint area (buildings carry no
    household counts); an estate without households counts its buildings instead, as with
    ``basis = "buildings"``. Value: the share (0-1). No data without a paths layer, the
    facility layer, or residential buildings in the estate; the layer present but empty: 0.
    """
    p = rule.params
    role, limit, target = p["layer"], circle_limit(p), p["target"]
    n = len(ctx.estates)
    one = ROLES[role].one_en
    by_households = p["basis"] == "households"
    counted = "households" if by_households else "residential buildings"
    out = pd.DataFrame({"status": np.full(n, NO_DATA, dtype=object), "value": np.nan,
                        "unit": "ratio", "walk_m": np.nan,
                        "threshold": (f">= {percent(target, sep='')} of {counted} within "
                                      f"{_circle_text(p)} of a {one}"),
                        "method": "", "evidence": np.full(n, "", dtype=object)})
    split = ("households split over the estate's residential buildings by footprint area "
             "(buildings carry no household counts; an estate without households counts its "
             "buildings); " if by_households else "")
    out["method"] = (f"measured on the map: walk from each residential building footprint to "
                     f"its nearest {one}; value = share of {counted} within "
                     f"{plain(limit)} m; {split}{plain(WALK_SPEED_M_S)} m/s (geocheck's reading "
                     f"of GB 50180-2018's life circles); {WALK_METHOD}")
    res, walked = ctx.residential, ctx.walk(role, RESIDENTIAL, limit)
    if res is None or ctx.layer(role) is None:
        out["evidence"] = layer_missing("buildings" if res is None else role)
        return Outcome(out)
    if walked is None:
        out["evidence"] = NEEDS_PATHS_CIRCLE
        return Outcome(out)
    est = res["estate_pos"].to_numpy()
    count = np.bincount(est, minlength=n)
    d = walked.distance_m
    within = np.round(d, DISTANCE_DECIMALS) <= limit
    hh = ctx.estates["households"].to_numpy(dtype=float, na_value=np.nan)
    known = by_households & np.isfinite(hh) & (hh > 0)
    area = shapely.area(res.geometry.to_numpy())
    area_sum = np.bincount(est, weights=area, minlength=n)
    weight = np.where(known[est], hh[est] * area / np.where(area_sum[est] > 0, area_sum[est], 1),
                      1.0)
    total = np.bincount(est, weights=weight, minlength=n)
    reached = np.bincount(est, weights=weight * within, minlength=n)
    n_within = np.bincount(est, weights=within, minlength=n).astype(int)
    has = count > 0
    value = np.divide(reached, total, out=np.full(n, np.nan), where=has)
    longest = np.full(n, -np.inf)
    np.maximum.at(longest, est, d)
    out["walk_m"] = np.where(has, longest, np.nan)
    out["value"] = value
    out.loc[has, "status"] = np.where(np.round(value[has], RATIO_DECIMALS) >= target, PASS, FAIL)
    worst = worst_per_estate(est, d, n, largest=True)
    far = ctx.label(role, walked.facility_pos[np.maximum(worst, 0)])
    bids = res["feature_id"].to_numpy()
    empty = ctx.layer(role).empty
    said = []
    for e in np.flatnonzero(has):  # one sentence per estate
        w = worst[e]
        head = (f"{share(value[e], limit=target)} of "
                + (f"{plain(round(hh[e]))} households ({n_within[e]} of {count[e]} residential "
                   "buildings)" if known[e] else
                   f"{count[e]} residential buildings"
                   + (" (households unknown: buildings counted)" if by_households else ""))
                + f" within {plain(limit)} m on foot")
        tail = (f"no {ROLES[role].label_en} in the data" if empty else
                f"farthest: building {bids[w]} {on_foot(d[w], limit, walked.limit_m)}"
                + (f" to {far[e]}" if walked.facility_pos[w] >= 0 else ""))
        said.append(f"{head}; {tail}")
    out.loc[has, "evidence"] = said
    out.loc[~has, "evidence"] = "no data: no residential building in the estate"
    bad = np.flatnonzero(~within)
    ev = [evidence_frame("uncovered_buildings", rule, est[bad],
                         [f"building {b}: {on_foot(x, limit, walked.limit_m)}"
                          for b, x in zip(bids[bad], d[bad], strict=True)],
                         finite_or_nan(d[bad]), res.geometry.to_numpy()[bad], ctx.site.crs,
                         limit=limit)]
    return Outcome(out, ev)


NEEDS_PATHS_CIRCLE = "no data: a life circle is measured on foot and needs a paths layer"
"""The no-data reason of a life circle rule when the input has no paths layer."""
