"""The synthetic city's ``paths`` layer: a street grid, footpaths inside the estates, a river.

``bench/make_city.py`` calls :func:`make_paths` with the estate grid it has already drawn; the
paths draw from their own generator (:func:`paths_rng`), never from the other layers' ones, so
adding or tuning them leaves every other layer of a city exactly as it was.

What is planted (all coordinates in EPSG:4545 metres):

- **streets** on the centre line of every street of the grid (the cell boundaries), one
  LineString per street, with a vertex every <= 25 m and a shared vertex at each crossing;
- **flyovers**: about 3 % of the inner crossings (at least one) where the two streets cross
  without a shared vertex (a bridge or a tunnel: no turn is possible there);
- a **river** along one row boundary (about a third of the way up): the street on it is gone,
  the cross streets stop 5 m short of each bank, and only every tenth cross street
  (``BRIDGE_EVERY``) goes over on a **bridge** (its own two-vertex feature), so that homes just
  across the water from a bus stop have to walk round by the nearest bridge;
- **footpaths** inside 97 % of the estates: 12 east-west lanes in the gaps between the rows of
  slab buildings and 3 north-south lanes (the west edge, the middle, the east edge), lanes
  with a vertex in an L-shaped estate's cut-away corner left out; vertices every <= 45 m;
- **gates**: each of the four sides of such an estate has a gate path to the street with
  probability 0.55 (at least one per estate, none towards the river), from the end of the
  middle lane straight to a shared vertex on the street's centre line. The 3 % of estates
  without footpaths have no gate either: no path touches them.

At 3,000 estates the layer has ~350,000 distinct vertices once shared ones are joined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

if TYPE_CHECKING:  # make_city imports this module; the Grid type is only for annotations
    from make_city import Grid

Float = NDArray[np.float64]
Int = NDArray[np.int64]

PATHS_STREAM = 100
"""Spawn key of the paths' generator: a child of the city seed outside the ones the other
layers use (``make_city`` spawns 11)."""
STREET_STEP_M = 25.0
FLYOVER_SHARE = 0.03
RIVER_HALF_M = 5.0
BRIDGE_EVERY = 10
FOOTPATH_SHARE = 0.97
GATE_P = 0.55
# Footpath layout inside an estate, in metres from its south-west corner (x0, y0): the slab
# buildings stand in 4 columns x 11 rows of slots, 62 x 27 m, 15 m in from the edge.
LANE_MARGIN = 15.0
LANE_DX = 62.0
LANE_DY = 27.0
LANE_ROWS = 12  # gaps between (and around) the 11 rows of slabs
LANE_COLS = (0, 2, 4)  # column gaps with a north-south lane: west edge, middle, east edge
MID_ROW = 6  # the east-west lane the west and east gates leave from


def paths_rng(seed: int) -> np.random.Generator:
    """The paths' own generator for city ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PATHS_STREAM,)))


def densify(run: Int, t: Float, keep: NDArray[np.bool_], step: float) -> tuple[Int, Float]:
    """Stations of each run sorted, with points added so no gap exceeds ``step`` metres.

    ``run`` / ``t`` are stations (position along a run, metres); those with ``keep`` False
    (flyover crossings) only split the densification and are dropped afterwards, so no vertex
    of the run lies near them. Returns the kept stations and added points, sorted by run, t.
    """
    order = np.lexsort((t, run))
    run, t, keep = run[order], t[order], keep[order]
    same = np.ones(run.size, dtype=bool)
    same[1:] = (run[1:] != run[:-1]) | (t[1:] != t[:-1])
    run, t, keep = run[same], t[same], keep[same]
    gap = np.flatnonzero(run[1:] == run[:-1])
    length = t[gap + 1] - t[gap]
    pieces = np.maximum(1, np.ceil(length / step).astype(np.int64))
    extra = pieces - 1
    k = np.repeat(gap, extra)
    j = np.arange(k.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    added = t[k] + j * (length / pieces)[np.repeat(np.arange(gap.size), extra)]
    run_all = np.concatenate([run[keep], run[k]])
    t_all = np.concatenate([t[keep], added])
    order = np.lexsort((t_all, run_all))
    return run_all[order], t_all[order]


def polylines(run: Int, t: Float, const: Float, vertical: NDArray[np.bool_]) -> NDArray:
    """One LineString per run from its sorted stations (x = t on east-west runs, else y = t)."""
    c = const[run]
    v = vertical[run]
    xy = np.column_stack([np.where(v, c, t), np.where(v, t, c)])
    _, ids = np.unique(run, return_inverse=True)
    return shapely.linestrings(xy, indices=ids)


def lane_offsets() -> Float:
    """North offsets of the east-west lanes from an estate's south edge, metres."""
    return LANE_MARGIN + LANE_DY * np.arange(LANE_ROWS)


def lane_lines(g: Grid, est: Int) -> tuple[NDArray, Int]:
    """Footpath lanes of the estates ``est``, lanes touching a cut-away corner left out.

    Returns the LineStrings and the estate of each.
    """
    from make_city import in_notch

    lane_x, lane_y = LANE_MARGIN + LANE_DX * np.asarray(LANE_COLS), lane_offsets()
    n = est.size
    x0, y0 = g.x0[est], g.y0[est]
    # East-west lanes: one per row gap, vertices at the three north-south lanes and between.
    xs = LANE_MARGIN + LANE_DX * np.linspace(LANE_COLS[0], LANE_COLS[-1], 7)
    hx = np.broadcast_to(x0[:, None, None] + xs, (n, LANE_ROWS, xs.size))
    hy = np.broadcast_to((y0[:, None] + lane_y)[:, :, None], hx.shape)
    hest = np.broadcast_to(est[:, None, None], hx.shape)
    # North-south lanes: vertices at every row gap.
    vy = np.broadcast_to(y0[:, None, None] + lane_y, (n, len(LANE_COLS), LANE_ROWS))
    vx = np.broadcast_to((x0[:, None] + lane_x)[:, :, None], vy.shape)
    vest = np.broadcast_to(est[:, None, None], vy.shape)
    lines, owners = [], []
    for x, y, e in ((hx, hy, hest), (vx, vy, vest)):
        width = x.shape[2]
        flat_e = e.reshape(-1)
        bad = in_notch(g, flat_e, x.reshape(-1), y.reshape(-1), 2.0, 2.0).reshape(-1, width)
        ok = ~bad.any(axis=1)
        coords = np.stack([x, y], axis=-1).reshape(-1, width, 2)[ok]
        lines.append(shapely.linestrings(coords))
        owners.append(e.reshape(-1, width)[ok, 0])
    return np.concatenate(lines), np.concatenate(owners)


def make_paths(g: Grid, seed: int) -> gpd.GeoDataFrame:
    """The ``paths`` layer of the city on grid ``g`` (see the module docstring).

    Parameters
    ----------
    g : the estate grid ``make_city`` drew; its cells give the street centre lines.
    seed : the city seed; the paths draw from :func:`paths_rng` of it.

    Returns
    -------
    LineStrings in EPSG:4545 metres with fields ``id`` and ``kind`` (``street``, ``bridge``,
    ``footpath``, ``gate``).
    """
    from make_city import CELL_H, CELL_W, CRS, ids

    rng = paths_rng(seed)
    ncols, nrows = int(g.col.max()) + 1, int(g.row.max()) + 1
    xs = g.cell_x0[0] + np.arange(ncols + 1) * CELL_W  # street centre lines, west to east
    ys = g.cell_y0[0] + np.arange(nrows + 1) * CELL_H  # south to north
    river = max(1, nrows // 3) if nrows >= 2 else -1  # row boundary the river runs along
    bridges = np.flatnonzero(np.arange(ncols + 1) % BRIDGE_EVERY == BRIDGE_EVERY // 2)
    if river >= 0 and bridges.size == 0:
        bridges = np.array([ncols // 2])

    # Runs: east-west streets (every row boundary but the river's), then north-south ones
    # (split at the river).
    h_rows = np.setdiff1d(np.arange(nrows + 1), [river])
    n_h = h_rows.size
    run_const = [ys[h_rows]]
    run_vertical = [np.zeros(n_h, bool)]
    run_t0, run_t1 = [np.full(n_h, xs[0])], [np.full(n_h, xs[-1])]
    v_col = np.arange(ncols + 1)
    if river >= 0:
        yr = ys[river]
        v_col = np.repeat(v_col, 2)
        v_t0 = np.tile([ys[0], yr + RIVER_HALF_M], ncols + 1)
        v_t1 = np.tile([yr - RIVER_HALF_M, ys[-1]], ncols + 1)
    else:
        v_t0, v_t1 = np.full(ncols + 1, ys[0]), np.full(ncols + 1, ys[-1])
    run_const.append(xs[v_col])
    run_vertical.append(np.ones(v_col.size, bool))
    run_t0.append(v_t0)
    run_t1.append(v_t1)
    const, vertical = np.concatenate(run_const), np.concatenate(run_vertical)
    t0, t1 = np.concatenate(run_t0), np.concatenate(run_t1)
    n_runs = const.size

    # Crossings of an east-west run (row boundary r) with a north-south run (column c); a few
    # inner ones are flyovers (no shared vertex).
    r_idx, c_idx = np.meshgrid(np.arange(n_h), np.arange(ncols + 1), indexing="ij")
    r_idx, c_idx = r_idx.ravel(), c_idx.ravel()
    inner = np.flatnonzero((h_rows[r_idx] > 0) & (h_rows[r_idx] < nrows)
                           & (c_idx > 0) & (c_idx < ncols))
    n_fly = max(1, round(FLYOVER_SHARE * inner.size)) if inner.size else 0
    fly = np.zeros(r_idx.size, bool)
    fly[rng.choice(inner, size=n_fly, replace=False)] = True
    cy = ys[h_rows[r_idx]]
    v_run = n_h + (2 * c_idx + (cy > ys[river]) if river >= 0 else c_idx)
    st_run = [r_idx, v_run, np.arange(n_runs), np.arange(n_runs)]
    st_t = [xs[c_idx], cy, t0, t1]
    st_keep = [~fly, ~fly, np.ones(n_runs, bool), np.ones(n_runs, bool)]

    # Estates with footpaths, their gates, and where each gate meets its street.
    has = rng.random(g.n) < FOOTPATH_SHARE
    gate = rng.random((g.n, 4)) < GATE_P  # south, north, west, east
    gate[:, 0] &= g.row != river
    gate[:, 1] &= g.row + 1 != river
    none = ~gate.any(axis=1)
    allowed = np.ones((g.n, 4), bool)
    allowed[:, 0] = g.row != river
    allowed[:, 1] = g.row + 1 != river
    pick = np.argmax(allowed * rng.random((g.n, 4)), axis=1)
    gate[none, pick[none]] = True
    gate &= has[:, None]
    # The same sums as the lanes' vertices (x0 + offset), so the ends are shared exactly.
    lane_x, lane_y = LANE_MARGIN + LANE_DX * np.asarray(LANE_COLS), lane_offsets()
    gx, gy = g.x0 + lane_x[1], g.y0 + lane_y[MID_ROW]
    inner_end = [(gx, g.y0 + lane_y[0]), (gx, g.y0 + lane_y[-1]),
                 (g.x0 + lane_x[0], gy), (g.x0 + lane_x[-1], gy)]
    h_pos = np.full(nrows + 1, -1)
    h_pos[h_rows] = np.arange(n_h)
    gate_lines = []
    for side in range(4):
        e = np.flatnonzero(gate[:, side])
        ix, iy = inner_end[side][0][e], inner_end[side][1][e]
        if side < 2:  # to the east-west street south / north of the estate
            r = g.row[e] + side
            ox, oy, run = ix, ys[r], h_pos[r]
        else:
            c = g.col[e] + (side - 2)
            ox, oy = xs[c], iy
            above = (oy > ys[river]) if river >= 0 else np.zeros(e.size, bool)
            run = n_h + (2 * c + above if river >= 0 else c)
        st_run.append(run)
        st_t.append(ox if side < 2 else oy)
        st_keep.append(np.ones(e.size, bool))
        gate_lines.append(shapely.linestrings(
            np.stack([np.column_stack([ix, iy]), np.column_stack([ox, oy])], axis=1)))

    run, t = densify(np.concatenate(st_run), np.concatenate(st_t), np.concatenate(st_keep),
                     STREET_STEP_M)
    streets = polylines(run, t, const, vertical)
    if river >= 0:
        bx = xs[bridges]
        bridge = shapely.linestrings(np.stack(
            [np.column_stack([bx, np.full(bx.size, ys[river] - RIVER_HALF_M)]),
             np.column_stack([bx, np.full(bx.size, ys[river] + RIVER_HALF_M)])], axis=1))
    else:
        bridge = np.empty(0, dtype=object)
    lanes, _ = lane_lines(g, np.flatnonzero(has))
    gates = np.concatenate(gate_lines)
    geom = np.concatenate([streets, bridge, lanes, gates])
    kind = np.repeat(["street", "bridge", "footpath", "gate"],
                     [streets.size, bridge.size, lanes.size, gates.size])
    return gpd.GeoDataFrame({"id": ids("P", geom.size), "kind": kind}, geometry=geom, crs=CRS)

