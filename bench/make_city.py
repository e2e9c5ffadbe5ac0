"""Generate a synthetic city GeoPackage for benchmarking geocheck.

The city is a grid of residential estates separated by streets, centred on Nanning
(108.3 E, 22.8 N) and written in EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E,
metres). Every layer draws from its own child of one seeded RNG, so the same
``--estates`` and ``--seed`` give the same file.

Usage::

    python bench/make_city.py --estates 3000 -o /tmp/city.gpkg [--seed 42]

Layers (exact names and fields):

=================  =======  ==============================================================
layer              type     fields
=================  =======  ==============================================================
``estates``        Polygon  ``estate_id`` (text, unique), ``name``, ``households``
                            (int, ~3 % NULL), ``built`` ("new" / "existing")
``buildings``      Polygon  ``building_id``, ``use`` ("residential" / "commercial"),
                            ``estate_id``
``entrances``      Point    ``estate_id`` (0-3 per estate, on the estate boundary)
``bus_stops``      Point    ``id``, ``name`` (along streets, in patchy served areas)
``rail_stations``  Point    ``id``, ``name`` (on a few straight lines, ~1 per 50 estates)
``garbage_points`` Point    ``id``, ``name`` (2-4 per estate)
``kindergartens``  Point    ``id``, ``name`` (~1 per 5 estates, most inside estates)
``schools``        Point    ``id``, ``name`` (~1 per 8 estates)
``green_space``    Polygon  ``id``, ``name`` (1-4 per estate, some overlapping, some
                            crossing the estate edge, a few with holes)
``paths``          Line     ``id``, ``kind`` (street / bridge / footpath / gate): streets,
                            flyovers, a river with few bridges, estate footpaths (city_paths)
=================  =======  ==============================================================

The generator plants a mix of passing and failing cases for every spatial rule of the
Guangxi pack (bus / rail reach, garbage radius and setback, kindergarten, greening), so a
check of the city exercises both branches of each rule. All geometry is built with
vectorised numpy / shapely calls: 3,000 estates and ~120,000 buildings take a few seconds.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from city_paths import make_paths
from numpy.typing import NDArray
from pyproj import Transformer

CRS = "EPSG:4545"
CENTRE_LONLAT = (108.3, 22.8)

# Grid cell (estate + half of the street on each side), metres: estates are ~280-310 x 320-350.
CELL_W = 330.0
CELL_H = 370.0
# Building slots inside an estate: columns x rows, pitch in metres, inner margin.
SLOT_COLS = 4
SLOT_ROWS = 11
SLOT_DX = 62.0
SLOT_DY = 27.0
INNER_MARGIN = 15.0
# Bus stops per estate where fully served, and the service-field value below which none.
BUS_RATE = 6.0
BUS_CUTOFF = 0.5

Float = NDArray[np.float64]
Int = NDArray[np.int64]

DISTRICTS = ["青秀", "邕江", "江南", "西乡塘", "良庆", "兴宁", "五象", "相思湖", "凤岭", "朝阳"]
SUFFIXES = ["花园", "家园", "小区", "新村", "苑", "公寓", "雅居", "名城"]


@dataclass
class Grid:
    """Estate placement: one estate per grid cell, bounds in EPSG:4545 metres."""

    n: int
    col: Int
    row: Int
    cell_x0: Float
    cell_y0: Float
    x0: Float
    y0: Float
    x1: Float
    y1: Float
    notch_corner: Int  # -1: plain rectangle; 0..3: corner cut away (BL, BR, TR, TL)
    notch_fx: Float
    notch_fy: Float


def city_origin() -> tuple[float, float]:
    """Return the EPSG:4545 coordinates of the city centre (Nanning), in metres."""
    tr = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = tr.transform(*CENTRE_LONLAT)
    return float(x), float(y)


def ids(prefix: str, n: int) -> NDArray[np.str_]:
    """Return ``n`` zero-padded text ids such as ``E000001``."""
    width = max(4, len(str(n)))
    return np.array(
        [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=f"<U{len(prefix) + 12}"
    )


def rects(cx: Float, cy: Float, w: Float, h: Float, angle_deg: Float) -> Float:
    """Return ``(N, 5, 2)`` closed rings of rectangles centred on (cx, cy), rotated."""
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    dx = ux[None, :] * w[:, None]
    dy = uy[None, :] * h[:, None]
    a = np.deg2rad(angle_deg)[:, None]
    cos, sin = np.cos(a), np.sin(a)
    xs = cx[:, None] + dx * cos - dy * sin
    ys = cy[:, None] + dx * sin + dy * cos
    return np.stack([xs, ys], axis=-1)


def make_grid(n: int, rng: np.random.Generator) -> Grid:
    """Lay ``n`` estates out on a near-square grid of cells centred on Nanning."""
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    ox, oy = city_origin()
    i = np.arange(n)
    col, row = i % ncols, i // ncols
    cell_x0 = (ox - ncols * CELL_W / 2 + col * CELL_W).astype(np.float64)
    cell_y0 = (oy - nrows * CELL_H / 2 + row * CELL_H).astype(np.float64)
    # Half-street margins: streets between estates are 20-50 m wide.
    m = rng.uniform(10.0, 25.0, size=(4, n))
    notch_corner = np.where(rng.random(n) < 0.2, rng.integers(0, 4, n), -1)
    return Grid(
        n=n,
        col=col,
        row=row,
        cell_x0=cell_x0,
        cell_y0=cell_y0,
        x0=cell_x0 + m[0],
        y0=cell_y0 + m[1],
        x1=cell_x0 + CELL_W - m[2],
        y1=cell_y0 + CELL_H - m[3],
        notch_corner=notch_corner,
        notch_fx=rng.uniform(0.2, 0.3, n),
        notch_fy=rng.uniform(0.2, 0.3, n),
    )


def estate_polygons(g: Grid) -> NDArray[np.object_]:
    """Rectangles, ~20 % of them L-shaped (one corner cut away)."""
    polys = shapely.box(g.x0, g.y0, g.x1, g.y1)
    k = np.flatnonzero(g.notch_corner >= 0)
    if k.size:
        fx, fy = g.notch_fx[k, None], g.notch_fy[k, None]
        one, zero = np.ones_like(fx), np.zeros_like(fx)
        # L-shape in the unit square with the notch at the bottom-left corner:
        # (fx,0) (1,0) (1,1) (0,1) (0,fy) (fx,fy) back to (fx,0).
        u = np.hstack([fx, one, one, zero, zero, fx, fx])
        v = np.hstack([zero, zero, one, one, fy, fy, zero])
        c = g.notch_corner[k, None]
        u = np.where((c == 1) | (c == 2), 1.0 - u, u)
        v = np.where(c >= 2, 1.0 - v, v)
        xs = g.x0[k, None] + u * (g.x1 - g.x0)[k, None]
        ys = g.y0[k, None] + v * (g.y1 - g.y0)[k, None]
        polys[k] = shapely.polygons(np.stack([xs, ys], axis=-1))
    return polys


def in_notch(g: Grid, est: Int, x: Float, y: Float, pad_x: float,
             pad_y: float) -> NDArray[np.bool_]:
    """True where (x, y) is in its estate's cut-away corner, grown by pad_x / pad_y metres."""
    c = g.notch_corner[est]
    nx = g.notch_fx[est] * (g.x1 - g.x0)[est] + pad_x
    ny = g.notch_fy[est] * (g.y1 - g.y0)[est] + pad_y
    left = x < g.x0[est] + nx
    right = x > g.x1[est] - nx
    low = y < g.y0[est] + ny
    high = y > g.y1[est] - ny
    hit = np.select(
        [c == 0, c == 1, c == 2, c == 3],
        [left & low, right & low, right & high, left & high],
        False,
    )
    return np.asarray(hit, dtype=bool)


def smooth_field(g: Grid, rng: np.random.Generator, scale: int = 5) -> Float:
    """Bilinear-interpolated coarse noise in [0, 1], one value per estate (patchy service)."""
    nr = int(g.row.max()) // scale + 2
    nc = int(g.col.max()) // scale + 2
    coarse = rng.random((nr, nc))
    fr, fc = g.row / scale, g.col / scale
    r0, c0 = fr.astype(int), fc.astype(int)
    tr, tc = fr - r0, fc - c0
    return (
        coarse[r0, c0] * (1 - tr) * (1 - tc)
        + coarse[r0 + 1, c0] * tr * (1 - tc)
        + coarse[r0, c0 + 1] * (1 - tr) * tc
        + coarse[r0 + 1, c0 + 1] * tr * tc
    )


def point_frame(prefix: str, label: str, x: Float, y: Float) -> gpd.GeoDataFrame:
    """A point layer with ``id`` and ``name`` fields."""
    n = len(x)
    pid = ids(prefix, n)
    return gpd.GeoDataFrame({"id": pid, "name": np.char.add(label, pid)},
                            geometry=shapely.points(x, y), crs=CRS)


def street_points(g: Grid, est: Int, rng: np.random.Generator) -> tuple[Float, Float]:
    """Points on the street centre line of a random side of each estate's cell (+-4 m)."""
    side = rng.integers(0, 4, est.size)
    t = rng.uniform(0.05, 0.95, est.size)
    off = rng.uniform(-4.0, 4.0, est.size)
    cx0, cy0 = g.cell_x0[est], g.cell_y0[est]
    x = np.select(
        [side == 0, side == 1, side == 2],
        [cx0 + t * CELL_W, cx0 + CELL_W + off, cx0 + t * CELL_W],
        cx0 + off,
    )
    y = np.select(
        [side == 0, side == 1, side == 2],
        [cy0 + off, cy0 + t * CELL_H, cy0 + CELL_H + off],
        cy0 + t * CELL_H,
    )
    return x, y


def central_points(g: Grid, est: Int, rng: np.random.Generator) -> tuple[Float, Float]:
    """Points within +-15 % of each estate's centre: always inside, even L-shaped estates."""
    fx = rng.uniform(0.35, 0.65, est.size)
    fy = rng.uniform(0.35, 0.65, est.size)
    return g.x0[est] + fx * (g.x1 - g.x0)[est], g.y0[est] + fy * (g.y1 - g.y0)[est]


def make_estates(g: Grid, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The ``estates`` layer."""
    n = g.n
    households = pd.array(rng.integers(300, 3001, n), dtype="Int64")
    households[rng.random(n) < 0.03] = pd.NA
    names = np.char.add(
        np.char.add(
            np.asarray(DISTRICTS)[rng.integers(0, len(DISTRICTS), n)],
            (g.row * 100 + g.col).astype(str),
        ),
        np.asarray(SUFFIXES)[rng.integers(0, len(SUFFIXES), n)],
    )
    return gpd.GeoDataFrame(
        {
            "estate_id": ids("E", n),
            "name": names,
            "households": households,
            "built": np.where(rng.random(n) < 0.35, "new", "existing"),
        },
        geometry=estate_polygons(g),
        crs=CRS,
    )


def make_buildings(g: Grid, estate_ids: NDArray[np.str_],
                   rng: np.random.Generator) -> gpd.GeoDataFrame:
    """~40 slab buildings (~12 x 50 m) per estate on a jittered 4 x 11 slot grid."""
    n, slots = g.n, SLOT_COLS * SLOT_ROWS
    count = np.clip(np.rint(rng.normal(41.5, 3, n)), 25, slots).astype(int)
    count[rng.random(n) < 0.01] = 0  # a few estates with no buildings at all
    # A random subset of slots per estate: rank random keys, keep the lowest ``count``.
    rank = np.argsort(np.argsort(rng.random((n, slots)), axis=1), axis=1)
    est, slot = np.nonzero(rank < count[:, None])
    scol, srow = slot % SLOT_COLS, slot // SLOT_COLS
    cx = g.x0[est] + INNER_MARGIN + (scol + 0.5) * SLOT_DX + rng.uniform(-1.5, 1.5, est.size)
    cy = g.y0[est] + INNER_MARGIN + (srow + 0.5) * SLOT_DY + rng.uniform(-0.8, 0.8, est.size)
    keep = ~in_notch(g, est, cx, cy, pad_x=28.0, pad_y=8.0)
    est, cx, cy = est[keep], cx[keep], cy[keep]
    m = est.size
    w = rng.uniform(46.0, 54.0, m)
    h = rng.uniform(11.2, 12.8, m)
    ang = rng.uniform(-1.2, 1.2, m)
    geom = shapely.polygons(rects(cx, cy, w, h, ang))
    return gpd.GeoDataFrame(
        {
            "building_id": ids("B", m),
            "use": np.where(rng.random(m) < 0.05, "commercial", "residential"),
            "estate_id": estate_ids[est],
        },
        geometry=geom, crs=CRS,
    )


def make_entrances(
    g: Grid, estates: NDArray[np.object_], estate_ids: NDArray[np.str_], rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """0-3 entrances per estate, on the estate boundary."""
    k = rng.choice(4, size=g.n, p=[0.15, 0.30, 0.35, 0.20])
    est = np.repeat(np.arange(g.n), k)
    pts = shapely.line_interpolate_point(
        shapely.boundary(estates[est]), rng.random(est.size), normalized=True
    )
    return gpd.GeoDataFrame({"estate_id": estate_ids[est]}, geometry=pts, crs=CRS)


def make_garbage(g: Grid, buildings: gpd.GeoDataFrame, estate_index: Int,
                 rng: np.random.Generator) -> gpd.GeoDataFrame:
    """2-4 garbage points per estate, in the gaps between building rows.

    About half the estates are well served (4 points at the quartiles: every building within
    70 m), the rest get 2-4 points at random places (some buildings beyond 70 m). In ~20 % of
    estates one point is moved to 0.5-4 m from a building (setback failure), and in ~2 % all
    the points stand on the street outside the estate (no point inside).
    """
    n = g.n
    well = rng.random(n) < 0.5
    k = np.where(well, 4, rng.integers(2, 5, n))
    est = np.repeat(np.arange(n), k)
    j = np.arange(est.size) - np.repeat(np.cumsum(k) - k, k)  # position within the estate
    inner_w = SLOT_COLS * SLOT_DX
    # Well served: x at the quartiles, y on row gaps 3 and 8.
    wx = np.where(j % 2 == 0, 0.25, 0.75) * inner_w + rng.uniform(-6, 6, est.size)
    wr = np.where(j < 2, 3, 8)
    # Under served: anywhere along a random row gap.
    rx = rng.uniform(0.0, inner_w, est.size)
    rr = rng.integers(0, SLOT_ROWS + 1, est.size)
    w = well[est]
    x = g.x0[est] + INNER_MARGIN + np.where(w, wx, rx)
    y = g.y0[est] + INNER_MARGIN + np.where(w, wr, rr) * SLOT_DY

    # Setback failures: first point of ~20 % of estates placed next to one of its buildings.
    b_est = estate_index
    first = np.flatnonzero(j == 0)
    cand = first[rng.random(first.size) < 0.2]
    has_b = np.bincount(b_est, minlength=n) > 0
    cand = cand[has_b[est[cand]]]
    if cand.size:
        order = np.argsort(b_est, kind="stable")
        starts = np.searchsorted(b_est[order], est[cand])
        nb = np.bincount(b_est, minlength=n)[est[cand]]
        pick = order[starts + (rng.random(cand.size) * nb).astype(int)]
        c = shapely.centroid(buildings.geometry.values[pick])
        bx, by = shapely.get_x(c), shapely.get_y(c)
        sign = np.where(rng.random(cand.size) < 0.5, -1.0, 1.0)
        x[cand] = bx + rng.uniform(-15, 15, cand.size)
        y[cand] = by + sign * (6.8 + rng.uniform(0.5, 3.5, cand.size))

    # ~2 % of estates: all points on the street outside.
    out = rng.random(n) < 0.02
    o = out[est]
    sx, sy = street_points(g, est[o], rng)
    x[o], y[o] = sx, sy
    return point_frame("GP", "垃圾收集点", x, y)


def make_green(g: Grid, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """1-4 green polygons per estate; target ratio drawn per estate, some overlaps / holes."""
    n = g.n
    k = rng.integers(1, 5, n)
    target = rng.uniform(0.15, 0.65, n)
    est = np.repeat(np.arange(n), k)
    m = est.size
    ew, eh = (g.x1 - g.x0)[est], (g.y1 - g.y0)[est]
    area = target[est] * ew * eh / k[est] * rng.uniform(0.7, 1.3, m)
    aspect = rng.uniform(0.5, 2.0, m)
    w = np.minimum(np.sqrt(area * aspect), 0.95 * ew)
    h = np.minimum(area / w, 0.95 * eh)
    # Centres keep the polygon inside the estate's bounding box ...
    cx = g.x0[est] + w / 2 + rng.random(m) * (ew - w)
    cy = g.y0[est] + h / 2 + rng.random(m) * (eh - h)
    # ... except ~15 % that are pushed across the estate edge (up to ~20 m beyond it).
    cross = rng.random(m) < 0.15
    side = rng.integers(0, 2, m)
    cx = np.where(cross & (side == 0), g.x0[est] + w / 2 - rng.uniform(5, 20, m), cx)
    cy = np.where(cross & (side == 1), g.y1[est] - h / 2 + rng.uniform(5, 20, m), cy)
    ang = np.where(rng.random(m) < 0.3, rng.uniform(-15, 15, m), 0.0)
    shells = rects(cx, cy, w, h, ang)
    geom = shapely.polygons(shells)
    hole = np.flatnonzero(rng.random(m) < 0.05)
    if hole.size:
        f = rng.uniform(0.2, 0.45, hole.size)
        rings = rects(cx[hole], cy[hole], w[hole] * f, h[hole] * f, ang[hole])
        geom[hole] = shapely.polygons(shells[hole], holes=rings[:, None])
    gid = ids("GS", m)
    return gpd.GeoDataFrame({"id": gid, "name": np.char.add("绿地", gid)}, geometry=geom, crs=CRS)


def make_rail(g: Grid, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """~1 station per 50 estates on a few straight lines, snapped to street crossings."""
    n_st = max(1, round(g.n / 50))
    n_lines = max(1, math.ceil(n_st / 15))
    per = np.full(n_lines, n_st // n_lines)
    per[: n_st % n_lines] += 1
    line = np.repeat(np.arange(n_lines), per)
    t = (np.arange(n_st) - np.repeat(np.cumsum(per) - per, per) + 0.5) / per[line]
    xmin, ymin = g.cell_x0.min(), g.cell_y0.min()
    xmax, ymax = g.cell_x0.max() + CELL_W, g.cell_y0.max() + CELL_H
    # Each line runs between random points on two opposite sides of the city.
    vertical = rng.random(n_lines) < 0.5
    a, b = rng.uniform(0.1, 0.9, n_lines), rng.uniform(0.1, 0.9, n_lines)
    x0 = np.where(vertical, xmin + a * (xmax - xmin), xmin)
    x1 = np.where(vertical, xmin + b * (xmax - xmin), xmax)
    y0 = np.where(vertical, ymin, ymin + a * (ymax - ymin))
    y1 = np.where(vertical, ymax, ymin + b * (ymax - ymin))
    x = x0[line] + t * (x1 - x0)[line]
    y = y0[line] + t * (y1 - y0)[line]
    x = xmin + np.rint((x - xmin) / CELL_W) * CELL_W
    y = ymin + np.rint((y - ymin) / CELL_H) * CELL_H
    return point_frame("RS", "地铁站", x, y)


def make_bus(g: Grid, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Bus stops along streets: Poisson per estate, rate from a patchy field (some areas none)."""
    lam = BUS_RATE * np.clip((smooth_field(g, rng) - BUS_CUTOFF) / 0.3, 0.0, 1.0)
    est = np.repeat(np.arange(g.n), rng.poisson(lam))
    x, y = street_points(g, est, rng)
    return point_frame("BS", "公交站", x, y)


def make_kindergartens(g: Grid, households: Float, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """~1 kindergarten per 5 estates, 85 % inside estates (favouring 1500+ households)."""
    n_kg = max(1, round(g.n / 5))
    weight = np.where(households >= 1500, 5.0, 1.0)
    kin = rng.choice(g.n, size=min(round(0.85 * n_kg), g.n), replace=False, p=weight / weight.sum())
    kx, ky = central_points(g, kin, rng)
    sx, sy = street_points(g, rng.integers(0, g.n, n_kg - kin.size), rng)
    return point_frame("KG", "幼儿园", np.concatenate([kx, sx]), np.concatenate([ky, sy]))


def make_schools(g: Grid, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """~1 school per 8 estates, half inside estates, half on streets."""
    n_sc = max(1, round(g.n / 8))
    sin_ = rng.choice(g.n, size=n_sc // 2, replace=False)
    ix, iy = central_points(g, sin_, rng)
    ox, oy = street_points(g, rng.integers(0, g.n, n_sc - sin_.size), rng)
    return point_frame("SC", "学校", np.concatenate([ix, ox]), np.concatenate([iy, oy]))


def make_city(n: int, seed: int) -> dict[str, gpd.GeoDataFrame]:
    """Build every layer of a synthetic city of ``n`` estates; returns ``{layer: frame}``.

    Each layer draws from its own child generator of ``seed``, so tuning one layer does not
    reshuffle the others (the paths from one outside the eleven spawned here).
    """
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    g = make_grid(n, rng[0])
    estates = make_estates(g, rng[1])
    eids = estates["estate_id"].to_numpy().astype(str)
    buildings = make_buildings(g, eids, rng[2])
    b_est = np.searchsorted(eids, buildings["estate_id"].to_numpy().astype(str))
    households = estates["households"].to_numpy(dtype=float, na_value=np.nan)
    return {
        "estates": estates,
        "buildings": buildings,
        "entrances": make_entrances(g, estates.geometry.values, eids, rng[3]),
        "bus_stops": make_bus(g, rng[4]),
        "rail_stations": make_rail(g, rng[5]),
        "garbage_points": make_garbage(g, buildings, b_est, rng[6]),
        "kindergartens": make_kindergartens(g, households, rng[7]),
        "schools": make_schools(g, rng[8]),
        "green_space": make_green(g, rng[9]),
        "paths": make_paths(g, seed),
    }


def write_city(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write every layer to one GeoPackage at ``path`` (replacing any existing file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for name, df in layers.items():
        gtype = {"estates": "Polygon", "buildings": "Polygon", "green_space": "Polygon",
                 "paths": "LineString"}.get(name, "Point")
        pyogrio.write_dataframe(df, path, layer=name, driver="GPKG", geometry_type=gtype)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estates", type=int, default=3000, help="number of estates (default 3000)")
    ap.add_argument("--seed", type=int, default=42, help="RNG seed (default 42)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output .gpkg path")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = ap.parse_args(argv)
    if args.estates < 1:
        ap.error("--estates must be at least 1")
    t0 = time.perf_counter()
    layers = make_city(args.estates, args.seed)
    t1 = time.perf_counter()
    write_city(layers, args.output)
    t2 = time.perf_counter()
    if not args.quiet:
        counts = ", ".join(f"{k} {len(v)}" for k, v in layers.items())
        print(f"{args.output}: {counts}")
        print(f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
