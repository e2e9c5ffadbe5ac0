"""Proposed garbage points: the fewest new sites that make an estate pass the garbage rules.

For a pack with a ``buildings_within`` rule on ``garbage_points`` (Guangxi's
GX-06-garbage-radius: every residential building within 70 m of a garbage point, measured to
the footprint) and a ``setback_from_buildings`` rule on the same layer (GX-06-garbage-setback:
every garbage point inside the estate at least 5 m from every building), each estate that
fails either gets:

- the existing points inside it that break the setback, listed to move (their coverage no
  longer counts);
- the fewest new sites covering every residential building that no kept point covers:
  inside the estate, at least the setback from every building, outside green space where
  that costs no extra site, and within the radius of each building they cover, measured
  exactly as the rule measures (straight line from the footprint, the radius as written).

Candidates are a grid over the estate (:data:`GRID_M`) and points round each uncovered
building's footprint at the setback and just inside the radius, kept as coordinates (placed
and measured in numpy as GEOS would, :mod:`geocheck.rules.point_distance`); a sparse
candidate x building coverage matrix feeds a set cover per estate, solved exactly when it is
small, else greedily with the LP relaxation's bound giving the gap
(:mod:`geocheck.rules.set_cover`). A building no candidate can serve (no free spot inside the
estate within reach of it) is listed as unserved, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.site import Site
from .packs.model import Pack, Rule
from .point_distance import points_along_rings, points_in_boxes, within
from .set_cover import covers

LAYER = "garbage_points"
GRID_M = 10.0
"""Spacing of the candidate grid over an estate, metres."""
MARGIN_M = 0.01
"""Candidates keep this much inside both limits (metres), so that a distance judged to the
millimetre passes after the proposals are written and read back."""
RING_POINTS = 24
"""Candidates on each ring round an uncovered building."""
PROPOSE_MAX = 100
"""Estates a run proposes sites for by default, those with the most residential buildings
uncovered first: each costs some 10 ms (candidates, coverage and an exact solve), 17 s for the
1,786 failing estates of the 3,000-estate synthetic city. The rest are listed
(:attr:`Proposals.left_out`) and the summary says so; ``geocheck check --proposals all``
proposes for every one."""
POINT_COLUMNS = ["estate_id", "site_no", "covers", "n_covers", "why", "in_green", "method",
                 "gap", "geometry"]
MOVE_COLUMNS = ["estate_id", "point_id", "distance_m", "nearest_building", "geometry"]
UNSERVED_COLUMNS = ["estate_id", "building_id", "reason", "geometry"]


@dataclass
class Proposals:
    """The proposals of a check (all in the working CRS).

    Attributes
    ----------
    points : new sites: ``estate_id``, ``site_no`` (1.. per estate), ``covers`` (ids of the
        residential buildings it serves, comma-separated), ``n_covers``, ``why`` (``new``, or
        ``move`` when it takes over from a point listed to move), ``in_green``, ``method``
        (``milp`` exact / ``milp (time limit)`` / ``greedy``), ``gap`` (sites above the solver's
        lower bound; 0 when proven fewest).
    moves : existing points inside a failing estate closer than the setback to a building:
        ``estate_id``, ``point_id``, ``distance_m``, ``nearest_building``.
    unserved : residential buildings no candidate site can serve, with the reason.
    estates : per estate processed: ``estate_id``, ``new``, ``moved``, ``unserved``,
        ``method``, ``gap``.
    radius_m, setback_m : the limits applied (metres); rule ids in ``rules``.
    note : why nothing could be proposed (a layer missing), else ``""``.
    left_out : ids of the failing estates beyond the run's limit (:data:`PROPOSE_MAX`), for
        which nothing was proposed.
    """

    points: gpd.GeoDataFrame
    moves: gpd.GeoDataFrame
    unserved: gpd.GeoDataFrame
    estates: pd.DataFrame
    radius_m: float = math.nan
    setback_m: float = 0.0
    rules: tuple[str, ...] = ()
    note: str = ""
    left_out: tuple[str, ...] = ()

    @property
    def applies(self) -> bool:
        """Whether the pack has a garbage radius rule to propose for."""
        return bool(self.rules)


def garbage_rules(pack: Pack) -> tuple[Rule | None, Rule | None]:
    """The pack's radius rule (``buildings_within`` on garbage points) and setback rule
    (``setback_from_buildings`` on them), each None when absent."""
    radius = next((r for r in pack.rules if r.check == "buildings_within"
                   and r.params["layer"] == LAYER), None)
    setback = next((r for r in pack.rules if r.check == "setback_from_buildings"
                    and r.params["layer"] == LAYER), None)
    return radius, setback


def _empty(columns: list[str], crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _ring(geoms: np.ndarray, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:data:`RING_POINTS` points on the outline of each geometry buffered by ``dist``:
    ``(x, y, index of the geometry)``, the points evenly spaced along the outline starting
    half a step from its first vertex (NaN where the buffer has no single outline)."""
    rings = shapely.get_exterior_ring(shapely.buffer(geoms, dist, quad_segs=8))
    lengths = shapely.length(rings)
    frac = (np.arange(RING_POINTS) + 0.5) / RING_POINTS
    idx = np.repeat(np.arange(len(geoms)), RING_POINTS)
    x, y = points_along_rings(rings, np.tile(frac, len(geoms)) * lengths[idx], RING_POINTS)
    return x, y, idx


def _grid(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid points every :data:`GRID_M` over each polygon's bounds: ``(x, y, index)``."""
    b = shapely.bounds(polys)
    nx = np.floor((b[:, 2] - b[:, 0]) / GRID_M).astype(int) + 1
    ny = np.floor((b[:, 3] - b[:, 1]) / GRID_M).astype(int) + 1
    counts = nx * ny
    idx = np.repeat(np.arange(len(polys)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    # centred in the bounds, so that a narrow estate still gets a row of points
    offx = (b[:, 2] - b[:, 0] - (nx - 1) * GRID_M) / 2
    offy = (b[:, 3] - b[:, 1] - (ny - 1) * GRID_M) / 2
    x = b[idx, 0] + offx[idx] + (k % nx[idx]) * GRID_M
    y = b[idx, 1] + offy[idx] + (k // nx[idx]) * GRID_M
    return x, y, idx


def _widened(geoms: np.ndarray, margin: float) -> np.ndarray:
    """The bounds ``(xmin, ymin, xmax, ymax)`` of each geometry widened by ``margin``
    (metres) on every side."""
    return shapely.bounds(geoms) + np.array([-margin, -margin, margin, margin])


def _boxes(geoms: np.ndarray, margin: float) -> np.ndarray:
    """The bounds of each geometry widened by ``margin`` (metres) on every side, as boxes."""
    return shapely.box(*_widened(geoms, margin).T)


def _ranks(v: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Dense rank (0, 1, ...) of each value of ``v``, sorted within each slice, counted from the
    start of its slice (``first`` marks where each slice starts)."""
    new = np.ones(len(v), dtype=bool)
    new[1:] = v[1:] != v[:-1]
    new |= first
    step = np.cumsum(new) - 1
    return step - np.maximum.accumulate(np.where(first, step, 0))


def propose(site: Site, pack: Pack, limit: int | None = PROPOSE_MAX) -> Proposals:
    """The proposals for every estate that fails the pack's garbage rules (see the module).

    An estate is processed when, after the points breaking the setback are taken away, some
    residential building of it has no garbage point within the radius, or it has a point to
    move. Without a radius rule, a buildings layer or a garbage point layer: no proposals
    (:attr:`Proposals.applies` says whether the pack has the rule at all). At most ``limit``
    estates (None: all), those with the most residential buildings uncovered first; the others
    are named in :attr:`Proposals.left_out`.
    """
    crs = site.crs
    radius_rule, setback_rule = garbage_rules(pack)
    empty = Proposals(_empty(POINT_COLUMNS, crs), _empty(MOVE_COLUMNS, crs),
                      _empty(UNSERVED_COLUMNS, crs),
                      pd.DataFrame(columns=["estate_id", "new", "moved", "unserved", "method",
                                            "gap"]))
    if radius_rule is None:
        return empty
    if limit == 0:
        empty.rules = tuple(r.id for r in (radius_rule, setback_rule) if r is not None)
        empty.note = "none asked for (--proposals 0)"
        return empty
    radius = float(radius_rule.params["max_m"])
    setback = float(setback_rule.params["min_m"]) if setback_rule is not None else 0.0
    empty.radius_m, empty.setback_m = radius, setback
    empty.rules = tuple(r.id for r in (radius_rule, setback_rule) if r is not None)
    buildings, points = site.layer("buildings"), site.layer(LAYER)
    if buildings is None or points is None or buildings.empty:
        missing = "buildings" if buildings is None or buildings.empty else LAYER
        empty.note = f"no {missing} layer: nothing could be proposed"
        return empty
    est = site.estates
    ids = est["estate_id"].to_numpy()
    egeoms = est.geometry.to_numpy()
    bgeoms = buildings.geometry.to_numpy()
    is_res = buildings["residential"].to_numpy() & (buildings["estate_pos"] >= 0).to_numpy()
    res = buildings[is_res]
    rgeoms, rest = res.geometry.to_numpy(), res["estate_pos"].to_numpy()
    pgeoms = points.geometry.to_numpy()
    btree = shapely.STRtree(bgeoms)
    ptree = shapely.STRtree(pgeoms)

    # points to move: inside an estate and closer than the setback to a building (only a
    # point with a building within the setback and a millimetre can round below it)
    move_est, move_pos = ptree.query(egeoms, predicate="intersects")
    near_b, near_d = np.full(len(pgeoms), -1), np.full(len(pgeoms), np.inf)
    maybe = np.unique(move_pos)
    maybe = maybe[np.unique(btree.query(pgeoms[maybe], predicate="dwithin",
                                        distance=setback + 0.001)[0])]
    if len(maybe):
        (src, dst), dist = btree.query_nearest(pgeoms[maybe], return_distance=True,
                                               all_matches=False)
        near_b[maybe[src]], near_d[maybe[src]] = dst, dist
    close = np.round(near_d[move_pos], 3) < setback
    move_est, move_pos = move_est[close], move_pos[close]
    kept = np.ones(len(pgeoms), dtype=bool)
    kept[move_pos] = False

    # residential buildings no kept point covers (and those only a moved point covered)
    covered = np.zeros(len(rgeoms), dtype=bool)
    by_moved = np.zeros(len(rgeoms), dtype=bool)
    if len(pgeoms):
        res_pos = np.full(len(bgeoms), -1)
        res_pos[np.flatnonzero(is_res)] = np.arange(len(rgeoms))
        # the pairs whose bounds come that close: a pair farther than the radius and half a
        # millimetre never rounds to within it, so the distance decides alone
        p_i, b_i = btree.query(_boxes(pgeoms, radius + 0.0005))
        b_i = res_pos[b_i]
        p_i, b_i = p_i[b_i >= 0], b_i[b_i >= 0]
        d = shapely.distance(rgeoms[b_i], pgeoms[p_i])
        ok = np.round(d, 3) <= radius
        covered[b_i[ok & kept[p_i]]] = True
        by_moved[b_i[ok & ~kept[p_i]]] = True
    need = ~covered
    todo = np.union1d(np.unique(rest[need]), np.unique(move_est))
    if len(todo) == 0:
        return empty
    left_out: tuple[str, ...] = ()
    if limit is not None and len(todo) > limit:
        worst = np.bincount(rest[need], minlength=len(est))[todo]
        order = np.lexsort((todo, -worst))  # most uncovered first, then in estate order
        left_out = tuple(ids[np.sort(todo[order[limit:]])].astype(str))
        todo = np.sort(todo[order[:limit]])
        move_keep = np.isin(move_est, todo)
        move_est, move_pos = move_est[move_keep], move_pos[move_keep]
        if not len(todo):
            empty.left_out = left_out
            return empty

    # candidates (coordinates): a grid over each estate to do, rings round its uncovered
    # buildings; kept when inside the estate and farther than the setback from every building
    gx, gy, gidx = _grid(egeoms[todo])
    ub = np.flatnonzero(need & np.isin(rest, todo))
    x1, y1, i1 = _ring(rgeoms[ub], setback + 2 * MARGIN_M)
    x2, y2, i2 = _ring(rgeoms[ub], radius - 2 * MARGIN_M)
    cx, cy = np.concatenate([gx, x1, x2]), np.concatenate([gy, y1, y2])
    cest = np.concatenate([todo[gidx], rest[ub][i1], rest[ub][i2]])
    fresh = ~shapely.is_prepared(egeoms[todo])
    shapely.prepare(egeoms[todo][fresh])
    try:
        ok = np.flatnonzero(shapely.contains_xy(egeoms[cest], cx, cy))
    finally:
        shapely.destroy_prepared(egeoms[todo][fresh])
    cx, cy, cest = cx[ok], cy[ok], cest[ok]
    lim = setback + MARGIN_M
    # the buildings whose bounds come within the limit (and a metre) of an estate to do
    b_near = np.unique(btree.query(_boxes(egeoms[todo], lim + 1.0))[1])
    k, c = points_in_boxes(cx, cy, _widened(bgeoms[b_near], lim + 1.0), GRID_M)
    taken = within(bgeoms[b_near], cx, cy, k, c, lim)
    free = np.ones(len(cx), dtype=bool)
    free[c[taken]] = False
    green = site.layer("green_space")
    in_green = np.zeros(len(cx), dtype=bool)
    if green is not None and len(green) and free.any():
        f = np.flatnonzero(free)
        ggeoms = green.geometry.to_numpy()
        gi, pi = points_in_boxes(cx[f], cy[f], shapely.bounds(ggeoms), GRID_M)
        in_green[f[pi[shapely.intersects_xy(ggeoms[gi], cx[f[pi]], cy[f[pi]])]]] = True

    # coverage: candidate -> uncovered building of the same estate, within the radius
    reach = radius - MARGIN_M
    f = np.flatnonzero(free)
    b_i, c_i = points_in_boxes(cx[f], cy[f], _widened(rgeoms[ub], reach + 1.0), GRID_M)
    c_i = f[c_i]
    mine = rest[ub][b_i] == cest[c_i]
    b_i, c_i = b_i[mine], c_i[mine]
    near = within(rgeoms[ub], cx, cy, b_i, c_i, reach, outside=True)
    # the candidates kept, numbered in their order
    b_i, c_i = b_i[near], (np.cumsum(free) - 1)[c_i[near]]
    cx, cy, cest, in_green = cx[free], cy[free], cest[free], in_green[free]
    bids = res["feature_id"].astype(str).to_numpy()

    ub_est = rest[ub]
    served = np.zeros(len(ub), dtype=bool)
    served[b_i] = True
    lost = ub[~served]
    unserved = gpd.GeoDataFrame({
        "estate_id": ids[rest[lost]], "building_id": bids[lost],
        "reason": f"no spot inside the estate at least {setback:g} m from every building is "
                  f"within {radius:g} m of it"}, geometry=rgeoms[lost], crs=crs)
    moves = gpd.GeoDataFrame({
        "estate_id": ids[move_est], "point_id": points["feature_id"].astype(str).to_numpy()[
            move_pos],
        "distance_m": np.round(near_d[move_pos], 3),
        "nearest_building": buildings["feature_id"].astype(str).to_numpy()[near_b[move_pos]]},
        geometry=pgeoms[move_pos], crs=crs)
    n_lost = np.bincount(rest[lost], minlength=len(est))
    n_moved = np.bincount(move_est, minlength=len(est))
    # the coverage pairs by estate, then candidate, then building: each estate's set cover
    # reads one slice, its columns (candidates) and rows (buildings) numbered in their order
    pair_est = ub_est[b_i]
    order = np.lexsort((b_i, c_i, pair_est))
    b_s, c_s, pair_est = b_i[order], c_i[order], pair_est[order]
    starts = np.searchsorted(pair_est, todo, side="left")
    ends = np.searchsorted(pair_est, todo, side="right")
    first = np.zeros(len(order), dtype=bool)
    first[starts[ends > starts]] = True
    col_ix = _ranks(c_s, first)
    row_order = np.lexsort((b_s, pair_est))
    row_ix = np.empty(len(order), dtype=np.int64)
    row_ix[row_order] = _ranks(b_s[row_order], first)  # the estates' slices are alike
    problems, built = [], []  # each estate its own set cover
    for e, a0, a1 in zip(todo, starts, ends, strict=True):
        if a1 > a0:
            n_cols, n_rows = col_ix[a1 - 1] + 1, row_ix[row_order[a1 - 1]] + 1
            a = np.zeros((n_rows, n_cols), dtype=bool)
            a[row_ix[a0:a1], col_ix[a0:a1]] = True
            mine = np.empty(n_rows, dtype=np.int64)
            mine[row_ix[a0:a1]] = b_s[a0:a1]
            cols = c_s[a0:a1][np.r_[0, np.flatnonzero(np.diff(col_ix[a0:a1])) + 1]]
            problems.append((a, 1.0 + in_green[cols] / (n_rows + 1.0)))
            built.append((e, a, mine, cols))
    solved = dict(zip([b[0] for b in built], covers(problems), strict=True))
    rows, summary, sites = [], [], []
    for e, a, mine, cols in built:
        chosen, method, gap = solved[e]
        for k, j in enumerate(chosen, start=1):  # the few sites chosen
            served_by = ub[mine[np.flatnonzero(a[:, j])]]
            rows.append({
                "estate_id": ids[e], "site_no": k,
                "covers": ", ".join(bids[served_by]), "n_covers": len(served_by),
                "why": "move" if by_moved[served_by].any() else "new",
                "in_green": bool(in_green[cols[j]]), "method": method, "gap": gap})
            sites.append(cols[j])
    for e in todo:
        chosen, method, gap = solved.get(e, (np.arange(0), "", 0))
        summary.append({"estate_id": ids[e], "new": len(chosen), "moved": int(n_moved[e]),
                        "unserved": int(n_lost[e]), "method": method, "gap": gap})
    at = np.asarray(sites, dtype=np.int64)
    points_out = (gpd.GeoDataFrame(pd.DataFrame(rows), geometry=shapely.points(cx[at], cy[at]),
                                   crs=crs)[POINT_COLUMNS] if rows
                  else _empty(POINT_COLUMNS, crs))
    return Proposals(points_out, moves, unserved, pd.DataFrame(summary), radius, setback,
                     empty.rules, left_out=left_out)
