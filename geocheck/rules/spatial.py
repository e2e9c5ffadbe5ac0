"""The checks measured on the map: distances to facilities, coverage, setbacks, greening.

Each is declared with :func:`geocheck.rules.context.check` and listed in
:mod:`geocheck.rules.registry`; see :mod:`geocheck.rules.context` for how thresholds are judged.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.roles import ROLES
from ..core.status import (
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
)
from ..core.units import (
    DISTANCE_DECIMALS,
    RATIO_DECIMALS,
    metres_all,
    percent,
    plain,
    shares_all,
)
from .context import (
    ONLY_HELPS,
    ONLY_HURTS,
    ORIGINS,
    REQUIRED,
    RESIDENTIAL,
    STRICT,
    Context,
    LayerUse,
    Outcome,
    check,
    evidence_frame,
    exactly_one,
    layer_missing,
    worst_per_estate,
)
from .measure import (
    ENTRANCES,
    INSIDE,
    green_patches,
)
from .packs.model import Rule
from .walking import (
    NEEDS_PATHS,
    WALK_METHOD,
    Walked,
    detour_suffixes,
    detour_texts,
    detours,
    finite_or_nan,
    on_foot,
)


def _frame(n: int, unit: str) -> pd.DataFrame:
    return pd.DataFrame({"status": np.full(n, NO_DATA, dtype=object), "value": np.full(n, np.nan),
                         "unit": unit, "threshold": "", "method": "",
                         "evidence": np.full(n, "", dtype=object)})


ORIGIN_TEXT = {ENTRANCES: "from the estate's entrances", "boundary": "from the estate boundary",
               INSIDE: "facility inside the estate (0 m)"}


@check("nearest_within",
       {"max_m": ("metres_by_layer", REQUIRED)},
       "Nearest facility of any listed layer within its distance (any one suffices).",
       uses=lambda rule: (LayerUse("entrances", STRICT),
                          *(LayerUse(role, ONLY_HELPS, limit, ORIGINS)
                            for role, limit in rule.params["max_m"].items())),
       walks=lambda rule: (ORIGINS, dict(rule.params["max_m"])))
def nearest_within(ctx: Context, rule: Rule) -> Outcome:
    """Pass when, for any listed layer, the nearest feature is within its distance in metres.

    Distance is measured from the estate's entrances when it has any, else from its boundary;
    a feature inside the estate is at 0 m. A layer that is absent is unknown: the estate passes
    if another layer passes, else it is no data. A layer that is present but empty has none.
    With a paths layer, ``walk_m`` is the walk to the nearest feature of the deciding layer, and
    a walk of more than :data:`~geocheck.rules.walking.DETOUR_RATIO` x the straight line (and
    more than the distance) is called a detour; with ``--distance walk`` the walk is judged.
    """
    limits: dict[str, float] = rule.params["max_m"]
    n = len(ctx.estates)
    out = _frame(n, "m")
    out["threshold"] = " or ".join(f"{ROLES[r].one_en} <= {plain(v)} m" for r, v in limits.items())
    state = np.full((len(limits), n), np.nan)  # 1 pass, 0 fail, nan unknown
    dists = np.full((len(limits), n), np.nan)
    walks = np.full((len(limits), n), np.nan)
    texts, methods, evidence = [], [], []
    geoms, _ = ctx.origins
    for k, (role, limit) in enumerate(limits.items()):
        near = ctx.nearest(role)
        if near is None:
            texts.append(np.full(n, layer_missing(role), dtype=object))
            methods.append(np.full(n, "", dtype=object))
            continue
        straight = near["distance_m"].to_numpy()
        walked = ctx.walk(role, ORIGINS, limit)
        if walked is not None:
            walks[k] = walked.distance_m
        methods.append(near["method"].map(ORIGIN_TEXT).to_numpy())
        if ctx.walking and walked is None:
            texts.append(np.full(n, NEEDS_PATHS, dtype=object))
            continue
        d = walked.distance_m if ctx.walking else straight
        pos = walked.facility_pos if ctx.walking else near["facility_pos"].to_numpy()
        dists[k] = finite_or_nan(d)
        state[k] = np.where(np.isnan(straight), 0, np.round(d, DISTANCE_DECIMALS) <= limit)
        labels = ctx.label(role, pos)
        one = ROLES[role].one_en
        if ctx.walking:
            said = [f"nearest {one} on foot: {lab}, {on_foot(w, limit, walked.limit_m)}" if p >= 0
                    else f"no {one} reached: {on_foot(w, limit, walked.limit_m)}"
                    for lab, w, p in zip(labels, d, pos, strict=True)]
        else:
            said = [f"nearest {one}: {lab} at {m}"
                    for lab, m in zip(labels, metres_all(d, limit), strict=True)]
        said = np.asarray(said, dtype=object)
        if walked is not None:
            said = said + detour_suffixes(straight, walked.distance_m, limit, walked.limit_m)
        texts.append(np.where(np.isnan(straight), f"no {ROLES[role].label_en} in the data",
                              said))
        evidence += [(k, ev) for ev in _lines(ctx, rule, role, near, walked, limit, geoms)]
    passed = (state == 1).any(axis=0)
    failed = (state == 0).all(axis=0)
    out["status"] = np.where(passed, PASS, np.where(failed, FAIL, NO_DATA))
    first_pass = np.argmax(state == 1, axis=0)
    first_known = np.argmax(~np.isnan(state), axis=0)
    decider = np.where(passed, first_pass, first_known)
    out["value"] = dists[decider, np.arange(n)]
    out["walk_m"] = walks[decider, np.arange(n)]
    out["evidence"] = ["; ".join(t[i] for t in texts) for i in range(n)]
    out["method"] = [
        "; ".join(f"{r}: {m[i]}" for r, m in zip(limits, methods, strict=True) if m[i])
        + (f"; {WALK_METHOD}" if ctx.walking else "")
        for i in range(n)
    ]
    lines_out = []
    for k, ev in evidence:
        ev["decisive"] = decider[ev["estate_pos"].to_numpy()] == k
        lines_out.append(ev)
    return Outcome(out, lines_out)


def _lines(ctx: Context, rule: Rule, role: str, near: pd.DataFrame, walked: Walked | None,
           limit: float, geoms: np.ndarray) -> list[gpd.GeoDataFrame]:
    """The evidence lines of one layer: to the nearest feature as the crow flies, or (judged
    on foot) along the route walked, where there is one; read as a radius with a paths layer,
    the walking routes too (layer ``walk_routes``)."""
    on = ctx.walking and walked is not None
    pos = walked.facility_pos if on else near["facility_pos"].to_numpy()
    d = walked.distance_m if on else near["distance_m"].to_numpy()
    has = np.flatnonzero(pos >= 0)
    fac = ctx.layer(role).geometry.to_numpy()[pos[has]]
    inside = near["method"].to_numpy()[has] == INSIDE
    lines = shapely.shortest_line(np.where(inside, ctx.anchors[has], geoms[has]), fac)
    if on:
        routes = walked.routes()[has]
        lines = np.where(shapely.is_geometry(routes), routes, lines)
    out = [evidence_frame("evidence_lines", rule, has,
                          [f"{rule.id}: {lab} {m}" + (" on foot" if on else "") for lab, m
                           in zip(ctx.label(role, pos[has]), metres_all(d[has], limit),
                                  strict=True)],
                          d[has], lines, ctx.site.crs, limit=limit)]
    if walked is None or on:
        return out
    routes = walked.routes()
    drawn = np.flatnonzero(shapely.is_geometry(routes))
    w, straight = walked.distance_m[drawn], near["distance_m"].to_numpy()[drawn]
    ratio = [f" ({a / b:.1f}x)" if b > 0 else "" for a, b in zip(w, straight, strict=True)]
    out.append(evidence_frame(
        "walk_routes", rule, drawn,
        [f"{rule.id}: walking route to {lab}, {m} on foot{r}" for lab, m, r
         in zip(ctx.label(role, walked.facility_pos[drawn]), metres_all(w, limit), ratio,
                strict=True)], w, routes[drawn], ctx.site.crs, limit=limit))
    return out


@check("buildings_within",
       {"layer": ("layer", REQUIRED), "max_m": ("metres", REQUIRED)},
       "Every residential building of the estate within a distance of a facility.",
       uses=lambda rule: (LayerUse("buildings", STRICT),
                          LayerUse(rule.params["layer"], ONLY_HELPS, rule.params["max_m"],
                                   RESIDENTIAL)),
       walks=lambda rule: (RESIDENTIAL, {rule.params["layer"]: rule.params["max_m"]}))
def buildings_within(ctx: Context, rule: Rule) -> Outcome:
    """Pass when every residential building of the estate is within ``max_m`` metres of its
    nearest feature of ``layer`` (any such feature, inside the estate or not), measured to the
    building footprint. No residential building: no data. The layer present but empty: fail.
    With a paths layer, ``walk_m`` is the longest walk of the estate's buildings; with
    ``--distance walk`` each building's walk is judged.
    """
    role, limit = rule.params["layer"], rule.params["max_m"]
    n = len(ctx.estates)
    out = _frame(n, "m")
    out["threshold"] = (f"every residential building <= {plain(limit)} m from a "
                        f"{ROLES[role].one_en}")
    out["method"] = "distance from each building footprint to its nearest feature; value = largest"
    res, targets = ctx.residential, ctx.layer(role)
    if res is None or targets is None:
        out["evidence"] = layer_missing("buildings" if res is None else role)
        return Outcome(out)
    walked = ctx.walk(role, RESIDENTIAL, limit)
    if ctx.walking:
        out["method"] = ("walking distance from each building footprint to its nearest feature; "
                         f"value = largest; {WALK_METHOD}")
    near = ctx.nearest_to_residential(role)
    straight = near["distance_m"].to_numpy()
    on = ctx.walking and walked is not None
    d = walked.distance_m if on else straight
    est = res["estate_pos"].to_numpy()
    count = np.bincount(est, minlength=n)
    out.loc[count == 0, "evidence"] = "no data: no residential building in the estate"
    if targets.empty:
        has = count > 0
        out.loc[has, "status"] = FAIL
        out.loc[has, "evidence"] = f"no {ROLES[role].label_en} in the data"
        return Outcome(out)
    if walked is not None:
        longest = np.full(n, -np.inf)
        np.maximum.at(longest, est, walked.distance_m)
        out["walk_m"] = longest
    if ctx.walking and walked is None:
        out.loc[count > 0, "evidence"] = NEEDS_PATHS
        return Outcome(out)
    beyond = np.round(d, DISTANCE_DECIMALS) > limit
    n_beyond = np.bincount(est, weights=beyond, minlength=n).astype(int)
    has = count > 0
    worst = worst_per_estate(est, d, n, largest=True)[has]
    out.loc[has, "value"] = finite_or_nan(d[worst])
    out.loc[has, "status"] = np.where(n_beyond[has] > 0, FAIL, PASS)
    bids = res["feature_id"].to_numpy()
    target_pos = walked.facility_pos if on else near["target_pos"].to_numpy()
    wlabels = ctx.label(role, target_pos[worst])
    far = ([f"{on_foot(d[w], limit, walked.limit_m)} from {lab}" if lab else
            on_foot(d[w], limit, walked.limit_m) for w, lab in zip(worst, wlabels, strict=True)]
           if on else [f"at {m} from {lab}" for m, lab in zip(metres_all(d[worst], limit),
                                                                  wlabels, strict=True)])
    out.loc[has, "evidence"] = [
        (f"{nb} of {c} residential buildings beyond {plain(limit)} m; " if nb else
         f"all {c} residential buildings within {plain(limit)} m; ")
        + f"farthest: building {bids[w]} {f}"
        for nb, c, w, f in zip(n_beyond[has], count[has], worst, far, strict=True)
    ]
    if walked is not None:
        out.loc[has, "evidence"] += _building_detours(walked, straight, est, bids, limit, n)[has]
    bad = np.flatnonzero(beyond)
    ev = [evidence_frame("uncovered_buildings", rule, est[bad],
                         [f"building {b}: {m} to {t}" for b, m, t
                          in zip(bids[bad], metres_all(d[bad], limit),
                                 ctx.label(role, target_pos[bad]), strict=True)],
                         d[bad], res.geometry.to_numpy()[bad], ctx.site.crs, limit=limit)]
    # judged on foot: the route of each estate's farthest building beyond, on the map (one an
    # estate: a route for every building beyond would be most of the city's paths again)
    far = worst[beyond[worst]]
    routes = walked.routes()[far] if on else np.empty(0, dtype=object)
    drawn = shapely.is_geometry(routes)
    if drawn.any():
        far = far[drawn]
        ev.append(evidence_frame("evidence_lines", rule, est[far],
                                 [f"{rule.id}: building {b} {m} on foot" for b, m
                                  in zip(bids[far], metres_all(d[far], limit), strict=True)],
                                 d[far], routes[drawn], ctx.site.crs, limit=limit))
    return Outcome(out, ev)


def _building_detours(walked: Walked, straight: np.ndarray, est: np.ndarray, bids: np.ndarray,
                      limit: float, n: int) -> np.ndarray:
    """Per estate, ``"; "`` + how many of its buildings walk a detour and the longest of them
    (``""`` for none)."""
    out = np.full(n, "", dtype=object)
    mask = detours(straight, walked.distance_m, limit)
    if not mask.any():
        return out
    rows = np.flatnonzero(mask)
    worst = rows[worst_per_estate(est[rows], walked.distance_m[rows], n, largest=True)]
    count = np.bincount(est[rows], minlength=n)
    some = np.flatnonzero(count)
    w = worst[some]
    out[some] = ("; " + count[some].astype(str).astype(object) + " building(s) walk a detour: "
                 "building " + bids[w].astype(str).astype(object) + ": "
                 + detour_texts(straight[w], walked.distance_m[w], limit, walked.limit_m))
    return out


@check("setback_from_buildings",
       {"layer": ("layer", REQUIRED), "min_m": ("metres", REQUIRED)},
       "Every facility inside the estate at least a distance from the nearest building.",
       uses=lambda rule: (LayerUse(rule.params["layer"], STRICT),
                          LayerUse("buildings", ONLY_HURTS, rule.params["min_m"])))
def setback_from_buildings(ctx: Context, rule: Rule) -> Outcome:
    """Pass when every feature of ``layer`` inside the estate is at least ``min_m`` metres from
    the nearest building (any building). None inside the estate: not applicable.
    """
    role, limit = rule.params["layer"], rule.params["min_m"]
    n = len(ctx.estates)
    out = _frame(n, "m")
    out["threshold"] = (f"every {ROLES[role].one_en} in the estate >= {plain(limit)} m from "
                        "buildings")
    out["method"] = "distance from each facility inside the estate to the nearest building; " \
                    "value = smallest"
    feats, buildings = ctx.layer(role), ctx.layer("buildings")
    if feats is None or buildings is None or buildings.empty:
        out["evidence"] = (layer_missing(role) if feats is None
                           else "no data: no buildings to measure from")
        return Outcome(out)
    pairs = ctx.inside(role)
    near = ctx.nearest_building(role)
    est = pairs["estate_pos"].to_numpy()
    fpos = pairs["feature_pos"].to_numpy()
    d = near["distance_m"].to_numpy()[fpos]
    count = np.bincount(est, minlength=n)
    out.loc[count == 0, "status"] = NOT_APPLICABLE
    out.loc[count == 0, "evidence"] = f"no {ROLES[role].label_en} inside the estate"
    if len(est) == 0:
        return Outcome(out)
    close = np.round(d, DISTANCE_DECIMALS) < limit
    n_close = np.bincount(est, weights=close, minlength=n).astype(int)
    has = count > 0
    worst = worst_per_estate(est, d, n, largest=False)
    out.loc[has, "value"] = d[worst[has]]
    out.loc[has, "status"] = np.where(n_close[has] > 0, FAIL, PASS)
    flabels = ctx.label(role, fpos)
    blabels = ctx.label("buildings", near["target_pos"].to_numpy()[fpos])
    closest = metres_all(d[worst[has]], limit, at_most=False)
    out.loc[has, "evidence"] = [
        (f"{nc} of {c} {ROLES[role].label_en} closer than {plain(limit)} m; " if nc else
         f"all {c} {ROLES[role].label_en} at least {plain(limit)} m away; ")
        + f"closest: {flabels[w]} at {m} from building {blabels[w]}"
        for nc, c, w, m in zip(n_close[has], count[has], worst[has], closest, strict=True)
    ]
    bad = np.flatnonzero(close)
    geoms = feats.geometry.to_numpy()[fpos[bad]]
    geoms = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    ev = evidence_frame("too_close_points", rule, est[bad],
                   [f"{f}: {m} from building {b}" for f, m, b
                    in zip(flabels[bad], metres_all(d[bad], limit, at_most=False), blabels[bad],
                           strict=True)],
                   d[bad], geoms, ctx.site.crs, limit=limit)
    return Outcome(out, [ev])


@check("facility_inside_by_households",
       {"layer": ("layer", REQUIRED), "min_households": ("count", REQUIRED),
        "report_nearest": ("layers", ())},
       "An estate of at least N households has a facility of its own inside it.",
       uses=lambda rule: (LayerUse(rule.params["layer"], ONLY_HELPS),))
def facility_inside_by_households(ctx: Context, rule: Rule) -> Outcome:
    """Pass when an estate of at least ``min_households`` households has a feature of ``layer``
    inside it (value = how many). Smaller estates: not applicable, with the distances to the
    nearest feature of each layer in ``report_nearest``. Households missing: no data.
    """
    role, minimum = rule.params["layer"], rule.params["min_households"]
    n = len(ctx.estates)
    out = _frame(n, "count")
    out["threshold"] = f"one or more {ROLES[role].label_en} inside when households >= {minimum}"
    out["method"] = f"{ROLES[role].label_en} intersecting the estate polygon"
    hh = ctx.estates["households"]
    known = hh.notna().to_numpy()
    big = known & (hh.fillna(0).to_numpy() >= minimum)
    small = known & ~big
    out.loc[~known, "evidence"] = "no data: households missing"
    near_text = np.full(n, "", dtype=object)
    for other in rule.params["report_nearest"]:
        near = ctx.nearest(other)
        if near is None:
            part = np.full(n, f"{ROLES[other].label_en}: layer not provided", dtype=object)
        else:
            labels = ctx.label(other, near["facility_pos"].to_numpy())
            part = np.array([f"nearest {ROLES[other].label_en}: {lab} at {m}" if lab else
                             f"no {ROLES[other].label_en} in the data"
                             for lab, m in zip(labels, metres_all(near["distance_m"]),
                                               strict=True)],
                            dtype=object)
        near_text = np.where(near_text == "", part, near_text + "; " + part)
    guessed = ctx.estates.get("households_estimated", pd.Series(False, index=hh.index))
    hh_text = np.array([f"{int(h):,} households" + (" (an estimate from residential floor "
                        "area, not a record)" if g else "") if k else ""
                        for h, k, g in zip(hh.fillna(0), known, guessed, strict=True)],
                       dtype=object)
    out.loc[small, "status"] = NOT_APPLICABLE
    out.loc[small, "evidence"] = hh_text[small] + f" (< {minimum}); " + near_text[small]
    feats = ctx.layer(role)
    if feats is None:
        out.loc[big, "evidence"] = layer_missing(role)
        return Outcome(out)
    pairs = ctx.inside(role)
    inside = np.bincount(pairs["estate_pos"].to_numpy(), minlength=n)
    first = np.full(n, -1)
    uniq, idx = np.unique(pairs["estate_pos"].to_numpy(), return_index=True)
    first[uniq] = pairs["feature_pos"].to_numpy()[idx]
    labels = ctx.label(role, first)
    out.loc[big, "value"] = inside[big]
    out.loc[big, "status"] = np.where(inside[big] > 0, PASS, FAIL)
    out.loc[big, "evidence"] = [
        f"{h}; {ROLES[role].label_en} inside: {c} ({lab})" if c else
        f"{h}; no {ROLES[role].label_en} inside; {nt}"
        for h, c, lab, nt in zip(hh_text[big], inside[big], labels[big], near_text[big],
                                 strict=True)
    ]
    return Outcome(out)


def _one_ratio(rid: str, params: dict[str, Any], attributes: dict[str, Any]) -> None:
    exactly_one(rid, params, "min_ratio")


@check("green_ratio",
       {"min_ratio": ("ratio", None), "min_ratio_by_built": ("ratio_by_built", None)},
       "Green area inside the estate / estate area at least a ratio.", _one_ratio,
       uses=lambda rule: (LayerUse("green_space", STRICT),))
def green_ratio(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the union of green polygons clipped to the estate (holes kept) covers at least
    ``min_ratio`` of the estate's area, or the ratio for the estate's ``built`` value.
    """
    n = len(ctx.estates)
    out = _frame(n, "ratio")
    out["method"] = "union of green_space polygons clipped to the estate, holes kept, / estate area"
    by_built = rule.params["min_ratio_by_built"]
    if by_built:
        out["threshold"] = " / ".join(f">= {percent(v)} ({k})" for k, v in by_built.items())
        limit = ctx.estates["built"].map(by_built).to_numpy(dtype=float)
    else:
        out["threshold"] = f">= {percent(rule.params['min_ratio'])}"
        limit = np.full(n, rule.params["min_ratio"])
    green = ctx.layer("green_space")
    if green is None:
        out["evidence"] = layer_missing("green_space")
        return Outcome(out)
    area = ctx.estates.geometry.area.to_numpy()
    gar = ctx.area_in_estates("green_space").to_numpy()
    ratio = gar / area
    out["value"] = ratio
    ok = ~np.isnan(limit)
    met = np.round(ratio, RATIO_DECIMALS) >= limit
    out.loc[ok, "status"] = np.where(met[ok], PASS, FAIL)
    out["evidence"] = [f"green {g:,.1f} m2 of {a:,.1f} m2 ({r})"
                       for g, a, r in zip(gar.tolist(), area.tolist(), shares_all(ratio, limit),
                                          strict=True)]
    out.loc[~ok, "evidence"] = "no data: built (new / existing) missing; " + out.loc[~ok,
                                                                                   "evidence"]
    return Outcome(out)


@check("green_patch",
       {"min_width_m": ("metres", REQUIRED), "min_area_m2": ("number", 0.0)},
       "A contiguous green patch inside the estate, at least a width across (and an area).",
       uses=lambda rule: (LayerUse("green_space", STRICT),))
def green_patch(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the estate's green (green_space polygons clipped to it and unioned) has one
    contiguous patch at least ``min_width_m`` metres across (a disc of that diameter fits in it)
    and of at least ``min_area_m2`` square metres. Value: the largest such patch, in m2.
    """
    width, area_min = rule.params["min_width_m"], rule.params["min_area_m2"]
    n = len(ctx.estates)
    out = _frame(n, "m2")
    out["threshold"] = (f"a contiguous green patch >= {plain(width)} m across"
                        + (f" and >= {plain(area_min)} m2" if area_min else ""))
    out["method"] = ("green_space polygons clipped to the estate and unioned; each contiguous "
                     f"patch tested for a {plain(width)} m disc inside it")
    green = ctx.layer("green_space")
    if green is None:
        out["evidence"] = layer_missing("green_space")
        return Outcome(out)
    patches = green_patches(ctx.estates, green, width)
    ok = patches["wide"].to_numpy() & (np.round(patches["area_m2"].to_numpy(), 1) >= area_min)
    est = patches["estate_pos"].to_numpy()
    best = np.zeros(n)
    np.maximum.at(best, est[ok], patches["area_m2"].to_numpy()[ok])
    largest = np.zeros(n)
    np.maximum.at(largest, est, patches["area_m2"].to_numpy())
    count = np.bincount(est, minlength=n)
    good = np.bincount(est[ok], minlength=n)
    out["value"] = np.round(np.where(good > 0, best, largest), 1)  # judged to 0.1 m2
    out["status"] = np.where(good > 0, PASS, FAIL)
    out["evidence"] = [
        f"{g} of {c} green patches qualify; largest qualifying {b:,.1f} m2" if g else
        (f"no green patch qualifies ({c} patches, largest {lg:,.1f} m2)" if c else
         "no green inside the estate")
        for g, c, b, lg in zip(good, count, best, largest, strict=True)
    ]
    return Outcome(out)

