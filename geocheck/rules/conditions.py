"""Planning conditions (规划条件) measured on the plan and judged as rules ``COND-*``.

A reviewer's figures (:class:`~geocheck.core.conditions.Condition`) become rules added to the
pack (:func:`with_conditions`), so that they are judged, tabled and reported like any other
rule, each cited as the reviewer's figure, never as a clause of a standard. They apply to every
estate (plot) of the input: a permit plan has one.

Measured per estate, in the working CRS (metres):

- plot ratio 容积率: the sum of each building's footprint area x its storeys, over the estate's
  area (footprint x storeys stands for the floor area: the plan carries no floor plans);
  no data when a building of the estate has no storeys;
- building density 建筑密度: the union of the building footprints clipped to the estate, over
  its area;
- green ratio 绿地率: the union of the green_space polygons clipped to the estate, over its area;
- setback 建筑退让用地红线: the least distance from a building footprint to each edge of the
  estate's boundary, grouped by the side the edge faces (its outward normal: north, east,
  south or west, each a 90-degree sector centred on the direction); a building reaching
  beyond the boundary has a negative setback on the edges it crosses (minus the distance of
  its farthest vertex outside; on every side when it lies wholly outside);
- height 建筑高度: the tallest building, from its ``height`` field, else storeys x the storey
  height given (``层高``); no data when a building has neither.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.conditions import SIDE_ZH, SIDES, Condition
from ..core.errors import PackError
from ..core.status import FAIL, NO_DATA, PASS
from ..core.units import DISTANCE_DECIMALS, RATIO_DECIMALS, percent, plain
from .context import (
    REQUIRED,
    STRICT,
    Context,
    LayerUse,
    Outcome,
    check,
    evidence_frame,
    layer_missing,
)
from .packs.model import Pack, Rule

_BUILDINGS = (LayerUse("buildings", STRICT),)


def _frame(n: int, unit: str, threshold: str, method: str) -> pd.DataFrame:
    return pd.DataFrame({"status": np.full(n, NO_DATA, dtype=object), "value": np.full(n, np.nan),
                         "unit": unit, "threshold": threshold, "method": method,
                         "evidence": np.full(n, "", dtype=object)})


def _judge(out: pd.DataFrame, value: np.ndarray, ok: np.ndarray, limit: float, *,
           at_most: bool, decimals: int) -> None:
    """Fill value and status where ``ok`` (measured): pass when within the limit (inclusive,
    to ``decimals``)."""
    v = np.round(value, decimals)
    met = v <= limit if at_most else v >= limit
    out.loc[ok, "value"] = value[ok]
    out.loc[ok, "status"] = np.where(met[ok], PASS, FAIL)


def _buildings(ctx: Context) -> gpd.GeoDataFrame | None:
    b = ctx.layer("buildings")
    return None if b is None else b[b["estate_pos"].to_numpy() >= 0]


def _unknown(b: gpd.GeoDataFrame, missing: np.ndarray, n: int, what: str) -> np.ndarray:
    """Per estate, the no-data reason naming the buildings lacking ``what`` ('' for none)."""
    out = np.full(n, "", dtype=object)
    ids = pd.Series(b["feature_id"].to_numpy()[missing].astype(str),
                    index=b["estate_pos"].to_numpy()[missing])
    if ids.empty:
        return out
    groups = ids.groupby(level=0)
    count = groups.size()
    shown = groups.head(5).groupby(level=0).agg(", ".join)
    more = np.where(count > 5, " and " + (count - 5).astype(str) + " more", "")
    out[count.index.to_numpy()] = (f"no data: {what} unknown for " + count.astype(str)
                                   + " building(s): " + shown + more).to_numpy()
    return out


@check("condition_plot_ratio", {"limit": ("number", REQUIRED)},
       "Plot ratio (footprint x storeys / site area) at most the planning condition.",
       uses=lambda rule: _BUILDINGS)
def plot_ratio(ctx: Context, rule: Rule) -> Outcome:
    """Sum of footprint area x storeys of the estate's buildings / estate area <= limit."""
    n, limit = len(ctx.estates), rule.params["limit"]
    out = _frame(n, "number", f"<= {plain(limit)}",
                 "sum of building footprint area x storeys / estate area")
    b = _buildings(ctx)
    if b is None:
        out["evidence"] = layer_missing("buildings")
        return Outcome(out)
    area = ctx.estates.geometry.area.to_numpy()
    est = b["estate_pos"].to_numpy()
    floors = b["floors"].to_numpy(dtype=float)
    gfa = np.bincount(est, weights=np.nan_to_num(b.geometry.area.to_numpy() * floors),
                      minlength=n)
    missing = np.isnan(floors)
    unknown = np.bincount(est[missing], minlength=n) > 0
    ratio = gfa / area
    _judge(out, ratio, ~unknown, limit, at_most=True, decimals=RATIO_DECIMALS)
    count = np.bincount(est, minlength=n)
    out["evidence"] = [f"floor area {g:,.1f} m2 ({c} buildings) on {a:,.1f} m2: "
                       f"plot ratio {r:.2f}" for g, c, a, r in zip(gfa, count, area, ratio,
                                                                  strict=True)]
    reasons = _unknown(b, missing, n, "storeys")
    out.loc[unknown, "evidence"] = reasons[unknown]
    return Outcome(out)


@check("condition_density", {"limit": ("ratio", REQUIRED)},
       "Building density (footprints / site area) at most the planning condition.",
       uses=lambda rule: _BUILDINGS)
def building_density(ctx: Context, rule: Rule) -> Outcome:
    """Union of the building footprints clipped to the estate / estate area <= limit."""
    n, limit = len(ctx.estates), rule.params["limit"]
    out = _frame(n, "ratio", f"<= {percent(limit)}",
                 "union of building footprints clipped to the estate / estate area")
    b = _buildings(ctx)
    if b is None:
        out["evidence"] = layer_missing("buildings")
        return Outcome(out)
    area = ctx.estates.geometry.area.to_numpy()
    built = ctx.area_in_estates("buildings").to_numpy()
    ratio = built / area
    _judge(out, ratio, np.ones(n, bool), limit, at_most=True, decimals=RATIO_DECIMALS)
    out["evidence"] = [f"footprints {f:,.1f} m2 of {a:,.1f} m2 ({r:.1%})"
                       for f, a, r in zip(built, area, ratio, strict=True)]
    return Outcome(out)


@check("condition_green_ratio", {"limit": ("ratio", REQUIRED)},
       "Green ratio (green area / site area) at least the planning condition.",
       uses=lambda rule: (LayerUse("green_space", STRICT),))
def green_ratio(ctx: Context, rule: Rule) -> Outcome:
    """Union of the green_space polygons clipped to the estate / estate area >= limit."""
    n, limit = len(ctx.estates), rule.params["limit"]
    out = _frame(n, "ratio", f">= {percent(limit)}",
                 "union of green_space polygons clipped to the estate / estate area")
    green = ctx.layer("green_space")
    if green is None:
        out["evidence"] = layer_missing("green_space")
        return Outcome(out)
    area = ctx.estates.geometry.area.to_numpy()
    gar = ctx.area_in_estates("green_space").to_numpy()
    ratio = gar / area
    _judge(out, ratio, np.ones(n, bool), limit, at_most=False, decimals=RATIO_DECIMALS)
    out["evidence"] = [f"green {g:,.1f} m2 of {a:,.1f} m2 ({r:.1%})"
                       for g, a, r in zip(gar, area, ratio, strict=True)]
    return Outcome(out)


def boundary_edges(estates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every edge of every estate's outer boundary: ``estate_pos``, ``side`` (the compass
    direction its outward normal faces: north, east, south, west) and ``geometry`` (a
    two-point line)."""
    parts, owner = shapely.get_parts(estates.geometry.to_numpy(), return_index=True)
    rings = shapely.get_exterior_ring(parts)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    a, b, r = xy[:-1][same], xy[1:][same], ring[:-1][same]
    cross = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
    ccw = np.bincount(r, weights=cross, minlength=len(rings)) > 0
    d = b - a
    sign = np.where(ccw[r], 1.0, -1.0)
    nx, ny = d[:, 1] * sign, -d[:, 0] * sign  # the outward normal
    angle = np.degrees(np.arctan2(ny, nx)) % 360
    side = np.array(SIDES)[np.select(
        [(angle >= 45) & (angle < 135), (angle >= 315) | (angle < 45),
         (angle >= 225) & (angle < 315)], [0, 1, 2], 3)]
    keep = np.hypot(d[:, 0], d[:, 1]) > 0
    return pd.DataFrame({"estate_pos": owner[r][keep], "side": side[keep],
                         "geometry": shapely.linestrings(
                             np.stack([a[keep], b[keep]], axis=1))})


@check("condition_setback", {f"{side}_m": ("metres", None) for side in SIDES},
       "Least distance from the buildings to each side of the red line at least the condition.",
       uses=lambda rule: _BUILDINGS)
def setback(ctx: Context, rule: Rule) -> Outcome:
    """Per side, the least distance from a building footprint to the boundary edges facing
    that way >= the side's limit (metres). Value: the least setback over the judged sides."""
    n = len(ctx.estates)
    limits = {s: rule.params[f"{s}_m"] for s in SIDES if rule.params.get(f"{s}_m") is not None}
    threshold = "; ".join(f"{SIDE_ZH[s]} {s} >= {plain(v)} m" for s, v in limits.items())
    out = _frame(n, "m", threshold, "least distance from a building footprint to the estate "
                 "boundary edges facing each side (outward normal within 45 degrees)")
    b = _buildings(ctx)
    if b is None:
        out["evidence"] = layer_missing("buildings")
        return Outcome(out)
    edges = boundary_edges(ctx.estates)
    edges = edges[edges["side"].isin(list(limits))].reset_index(drop=True)
    bpos = pd.DataFrame({"estate_pos": b["estate_pos"].to_numpy(),
                         "b": np.arange(len(b))})
    pairs = bpos.merge(edges.reset_index(names="e"), on="estate_pos")
    geoms = b.geometry.to_numpy()
    est_geom = ctx.estates.geometry.to_numpy()
    outside = shapely.difference(geoms, est_geom[b["estate_pos"].to_numpy()])
    xy, part = shapely.get_coordinates(outside, return_index=True)
    beyond = np.zeros(len(b))
    np.maximum.at(beyond, part, shapely.distance(shapely.points(xy),
                                                 est_geom[b["estate_pos"].to_numpy()[part]]))
    d = shapely.distance(geoms[pairs["b"].to_numpy()],
                         edges["geometry"].to_numpy()[pairs["e"].to_numpy()])
    # beyond the red line: negative on the edges it crosses (or every edge, when wholly out)
    out_b = beyond[pairs["b"].to_numpy()]
    away = ~shapely.intersects(geoms, est_geom[b["estate_pos"].to_numpy()])
    d = np.where((out_b > 0) & ((d <= 0) | away[pairs["b"].to_numpy()]), -out_b, d)
    pairs["d"] = np.round(d, DISTANCE_DECIMALS)
    pairs["limit"] = pairs["side"].map(limits).astype(float)
    per_side = pairs.groupby(["estate_pos", "side"])[["d", "limit"]].min().reset_index()
    per_side["short"] = per_side["d"] < per_side["limit"]
    least = per_side.groupby("estate_pos")["d"].min()
    failed = per_side.groupby("estate_pos")["short"].any()
    worst = per_side.sort_values(["short", "d"], ascending=[False, True]).drop_duplicates(
        "estate_pos").set_index("estate_pos")
    has = np.zeros(n, bool)
    has[least.index.to_numpy()] = True
    value = np.full(n, np.nan)
    value[has] = np.where(failed.reindex(least.index).to_numpy(),
                          worst.reindex(least.index)["d"].to_numpy(), least.to_numpy())
    out.loc[has, "value"] = value[has]
    status = np.where(failed.reindex(range(n)).fillna(False).to_numpy(dtype=bool), FAIL, PASS)
    out.loc[has, "status"] = status[has]
    text = (per_side.assign(t=lambda f: f["side"].map(SIDE_ZH) + " " + f["side"] + " "
                            + f["d"].map(lambda x: f"{x:,.2f} m"))
            .groupby("estate_pos")["t"].agg("; ".join))
    out.loc[has, "evidence"] = ("least setback by side: " + text.reindex(
        np.flatnonzero(has)).to_numpy())
    out.loc[~has, "evidence"] = "no data: no building of the estate faces a judged side"
    short = per_side[per_side["short"]]
    fix = pd.Series(
        "move back " + short["side"].map(SIDE_ZH).to_numpy(dtype=object) + " "
        + short["side"].to_numpy(dtype=object) + " "
        + np.array([f"{x:,.2f} m" for x in short["limit"] - short["d"]], dtype=object) + " ("
        + np.array([f"{x:,.2f} m" for x in short["d"]], dtype=object) + ", "
        + np.array([f"{plain(x)} m" for x in short["limit"]], dtype=object) + " required)",
        index=short["estate_pos"].to_numpy(), dtype=object).groupby(level=0).agg("; ".join)
    out["remedy"] = fix.reindex(range(n)).fillna("").to_numpy(dtype=object)
    return Outcome(out, [_setback_lines(rule, pairs, per_side, geoms, edges, ctx)])


def _setback_lines(rule: Rule, pairs: pd.DataFrame, per_side: pd.DataFrame,
                   geoms: np.ndarray, edges: pd.DataFrame, ctx: Context) -> gpd.GeoDataFrame:
    """Evidence: for each side short of its setback, the shortest line from the nearest
    building to that side's edge (a point where the building reaches the red line)."""
    short = per_side.loc[per_side["short"], ["estate_pos", "side"]]
    near = pairs.loc[pairs.groupby(["estate_pos", "side"])["d"].idxmin()]
    near = near.merge(short, on=["estate_pos", "side"])
    lines = shapely.shortest_line(geoms[near["b"].to_numpy()],
                                  edges["geometry"].to_numpy()[near["e"].to_numpy()])
    labels = [f"{rule.id}: {side} setback {d:,.2f} m < {limit:g} m" for side, d, limit
              in zip(near["side"], near["d"], near["limit"], strict=True)]
    return evidence_frame("evidence_lines", rule, near["estate_pos"].to_numpy(),
                          labels, near["d"].to_numpy(dtype=float), lines, ctx.site.crs)


@check("condition_height", {"limit": ("metres", REQUIRED), "storey_m": ("number", None)},
       "Tallest building (height field, else storeys x storey height) at most the condition.",
       uses=lambda rule: _BUILDINGS)
def height(ctx: Context, rule: Rule) -> Outcome:
    """The tallest of the estate's buildings <= limit (metres)."""
    n, limit, storey = len(ctx.estates), rule.params["limit"], rule.params["storey_m"]
    how = "height field" + (f", else storeys x {plain(storey)} m" if storey else "")
    out = _frame(n, "m", f"<= {plain(limit)} m", f"tallest building ({how})")
    b = _buildings(ctx)
    if b is None:
        out["evidence"] = layer_missing("buildings")
        return Outcome(out)
    h = b["height"].to_numpy(dtype=float)
    if storey:
        h = np.where(np.isnan(h), b["floors"].to_numpy(dtype=float) * storey, h)
    est = b["estate_pos"].to_numpy()
    missing = np.isnan(h)
    tallest = np.full(n, -np.inf)
    np.maximum.at(tallest, est[~missing], h[~missing])
    count = np.bincount(est, minlength=n)
    tallest[count == 0] = 0.0
    unknown = np.bincount(est[missing], minlength=n) > 0
    _judge(out, tallest, ~unknown, limit, at_most=True, decimals=DISTANCE_DECIMALS)
    out["evidence"] = [f"tallest of {c} buildings: {t:,.1f} m" for c, t in
                       zip(count, tallest, strict=True)]
    what = "height" + (" and storeys" if storey else " (give 层高 to use storeys)")
    reasons = _unknown(b, missing, n, what)
    out.loc[unknown, "evidence"] = reasons[unknown]
    return Outcome(out)


def condition_rules(conditions: list[Condition]) -> tuple[Rule, ...]:
    """The rules judging ``conditions``: COND-plot-ratio, COND-density, COND-green-ratio,
    COND-setback and COND-height, for those given (the storey height feeds COND-height)."""
    by = {c.key: c for c in conditions}
    rules: list[Rule] = []

    def add(rid: str, key: str, zh: str, en: str, check_name: str, params: dict,
            cited: list[Condition]) -> None:
        rules.append(Rule(rid, "", "", f"规划条件：{zh}", f"Planning condition: {en}",
                          "; ".join(c.citation for c in cited), check_name, params))

    for rid, key, zh, en, name in (
            ("COND-plot-ratio", "plot_ratio_max", "容积率", "plot ratio", "condition_plot_ratio"),
            ("COND-density", "building_density_max", "建筑密度", "building density",
             "condition_density"),
            ("COND-green-ratio", "green_ratio_min", "绿地率", "green ratio",
             "condition_green_ratio")):
        if key in by:
            add(rid, key, zh, en, name, {"limit": by[key].value}, [by[key]])
    sides = {s: by[f"setback_{s}_m"] for s in SIDES if f"setback_{s}_m" in by}
    if "setback_min_m" in by or sides:
        limits = {s: (sides[s] if s in sides else by["setback_min_m"]).value
                  for s in SIDES if s in sides or "setback_min_m" in by}
        cited = ([by["setback_min_m"]] if "setback_min_m" in by else []) + list(sides.values())
        add("COND-setback", "setback", "建筑退让用地红线", "setback from the red line",
            "condition_setback", {f"{s}_m": v for s, v in limits.items()}, cited)
    if "height_max_m" in by:
        storey = by.get("storey_height_m")
        add("COND-height", "height_max_m", "建筑高度", "building height", "condition_height",
            {"limit": by["height_max_m"].value, "storey_m": storey.value if storey else None},
            [by["height_max_m"], *([storey] if storey else [])])
    return tuple(rules)


def with_conditions(pack: Pack, conditions: list[Condition]) -> Pack:
    """``pack`` with the rules judging ``conditions`` added after its own (the pack itself
    when there are none)."""
    rules = condition_rules(conditions)
    if not rules:
        return pack
    clash = {r.id for r in pack.rules} & {r.id for r in rules}
    if clash:
        raise PackError(f"pack {pack.id} already has rule(s) {', '.join(sorted(clash))}")
    return replace(pack, rules=(*pack.rules, *rules))
