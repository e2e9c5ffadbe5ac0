"""Walking catchments: the paths reached within each threshold of a facility type.

For each facility layer, one multi-source shortest-path search from all its features (joined to
the network as the walking rules join them, legs counted) gives the walking distance from the
nearest facility to every node. Along each edge, the part within ``band_m`` is found from the
distances at its two ends (a walk enters from either end), so the band ends exactly where the
walk reaches ``band_m``; the reached parts are buffered by :data:`BUFFER_M` each side and
merged, one (multi)polygon per layer and band. Merging buffers costs seconds per band on a city
(some 200,000 reached pieces take 10 s), so a band of more than :data:`EXACT_PIECES` pieces is
drawn instead as the :data:`BUFFER_M` grid cells its paths pass through and their neighbours
(:func:`grid_cover`: every point within 18.75 m of a reached path is in it, nothing farther
than 84 m), outlined from a raster in a few tenths of a second; the ``method`` column says
which. Bands are
nested: the 500 m band contains the 300 m one. Everything is in the working CRS, in metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..core.units import plain
from .network import Network
from .network_joins import join, split_segments
from .packs.model import Pack
from .registry import CHECKS

CATCHMENT_ROLES = ("bus_stops", "rail_stations", "garbage_points", "kindergartens", "schools",
                   "clinics", "green_space")
"""The facility layers given a catchment, when the input has them and a paths layer."""

BUFFER_M = 25.0
"""Half-width (metres) of the band drawn round each reached path."""

SIMPLIFY_M = 1.0
"""The reached paths are simplified to this tolerance (metres) before they are buffered."""

RASTER_CELLS = 16_000_000
"""The largest extent (grid cells, 100 km square at 25 m) :func:`grid_cover` outlines from a
raster in memory (some 150 MB); beyond it the cells are merged as strips."""

EXACT_PIECES = 20_000
"""A band of more reached pieces (edge parts) than this is drawn on a grid (:func:`grid_cover`)
rather than by buffering: a district's bands stay exact, a city's take a second each."""

CATCHMENT_COLUMNS = ["role", "band_m", "method", "geometry"]


def catchment_bands(pack: Pack) -> dict[str, tuple[float, ...]]:
    """Per facility layer of :data:`CATCHMENT_ROLES` that a distance rule of the pack measures
    to (:attr:`CheckSpec.walks`), the bands: those rules' thresholds (metres, ascending).

    A layer no rule measures to gets no catchment: on a city of 3,000 estates each band costs
    some seconds of buffering and merging, and a band no rule asks for answers no question."""
    found: dict[str, set[float]] = {}
    for rule in pack.rules:
        walks = CHECKS[rule.check].walks
        for role, metres in (walks(rule)[1] if walks else {}).items():
            found.setdefault(role, set()).add(float(metres))
    return {role: tuple(sorted(found[role])) for role in CATCHMENT_ROLES if role in found}


def node_distances(network: Network, facilities: np.ndarray, *, limit_m: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walking metres from the nearest facility to every node of the network split at the
    facilities' joins.

    Returns ``(xy, edge_u, edge_v, edge_m, dist)``: the split network's nodes and undirected
    edges, and per node the metres (legs included; ``inf`` beyond ``limit_m``).
    """
    from scipy.sparse import csr_array  # scipy only for a run with paths
    from scipy.sparse.csgraph import dijkstra
    at_f = join(network, facilities)
    split = split_segments(network, at_f)
    n_real = len(split.xy)
    dist = np.full(n_real, np.inf)
    if not len(at_f.owner):
        return split.xy, split.edge_u, split.edge_v, split.edge_m, dist
    n_all = n_real + len(facilities)
    # each (facility, node) leg once, the shortest: csr_array would add duplicates up
    key = (n_real + at_f.owner).astype(np.int64) * n_all + split.node
    order = np.lexsort((at_f.leg, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    key, leg = key[order][first], at_f.leg[order][first]
    src, dst = key // n_all, key % n_all
    u, v, m = split.edge_u, split.edge_v, split.edge_m
    graph = csr_array((np.concatenate([m, m, leg]),
                       (np.concatenate([u, v, src]), np.concatenate([v, u, dst]))),
                      shape=(n_all, n_all))
    found = dijkstra(graph, directed=True, indices=np.unique(src), min_only=True,
                     limit=limit_m)
    return split.xy, u, v, m, found[:n_real]


def reached_pieces(xy: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray, edge_m: np.ndarray,
                   dist: np.ndarray, band_m: float) -> np.ndarray:
    """The parts of the edges within ``band_m`` metres' walk, as (k, 2, 2) segment coordinates.

    An edge of length m whose ends are at du and dv is reached from its start up to
    ``band_m - du`` along it and from its end back to ``band_m - dv``; where the two meet, the
    whole edge.
    """
    du, dv = dist[edge_u], dist[edge_v]
    with np.errstate(invalid="ignore"):
        a = np.clip(band_m - du, 0.0, edge_m)     # reached from u: [0, a]
        b = np.clip(band_m - dv, 0.0, edge_m)     # reached from v: [m - b, m]
    a, b = np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=0.0)
    whole = a + b >= edge_m
    a = np.where(whole, edge_m, a)
    b = np.where(whole, 0.0, b)
    from_u = np.flatnonzero(a > 0)
    from_v = np.flatnonzero(b > 0)
    edge = np.concatenate([from_u, from_v])
    t0 = np.concatenate([np.zeros(len(from_u)), edge_m[from_v] - b[from_v]])
    t1 = np.concatenate([a[from_u], edge_m[from_v]])
    p, q = xy[edge_u[edge]], xy[edge_v[edge]]
    with np.errstate(invalid="ignore", divide="ignore"):
        f0 = np.nan_to_num(t0 / edge_m[edge])[:, None]
        f1 = np.nan_to_num(t1 / edge_m[edge], nan=1.0)[:, None]
    return np.stack([p + (q - p) * f0, p + (q - p) * f1], axis=1)


def walk_catchments(network: Network, layers: dict[str, np.ndarray],
                    bands: dict[str, tuple[float, ...]], crs: object, *,
                    buffer_m: float = BUFFER_M) -> gpd.GeoDataFrame:
    """The walking catchment of each facility layer: the paths within each band's walk of the
    nearest facility, buffered by ``buffer_m`` metres each side.

    Parameters
    ----------
    network : the paths, metres.
    layers : role -> the facilities' geometries (points or polygons, metres).
    bands : role -> the band limits in metres (walks up to and including each).
    crs : the working CRS of the result.

    Returns
    -------
    GeoDataFrame
        One row per layer and band that reaches any path (columns ``role``, ``band_m``), the
        largest band of a layer first; bands are nested.
    """
    roles, limits, methods, geoms = [], [], [], []
    for role, facilities in layers.items():
        wanted = sorted(bands.get(role, ()), reverse=True)
        if not wanted or not len(facilities):
            continue
        xy, u, v, m, dist = node_distances(network, facilities, limit_m=wanted[0])
        for band in wanted:
            pieces = reached_pieces(xy, u, v, m, dist, band)
            if not len(pieces):
                continue
            roles.append(role)
            limits.append(float(band))
            if len(pieces) > EXACT_PIECES:
                methods.append(f"{plain(buffer_m)} m grid cells along the reached paths")
                geoms.append(grid_cover(pieces, buffer_m))
                continue
            # buffering a whole MultiLineString at once is some 4x slower than buffering its
            # merged, simplified parts and merging those with union_all
            lines = shapely.line_merge(shapely.multilinestrings(shapely.linestrings(pieces)))
            parts = shapely.simplify(shapely.get_parts(lines), SIMPLIFY_M)
            methods.append(f"reached paths buffered {plain(buffer_m)} m each side")
            geoms.append(shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=2)))
    return gpd.GeoDataFrame({"role": roles, "band_m": np.asarray(limits, dtype=float),
                             "method": methods}, geometry=geoms, crs=crs)


def grid_cover(pieces: np.ndarray, cell_m: float) -> shapely.Geometry:
    """The square grid cells (``cell_m`` metres, aligned on the CRS origin) holding a point
    sampled every ``cell_m / 2`` along the segments ``pieces`` ((n, 2, 2) metres), and the eight
    cells round each, outlined as a (multi)polygon.

    The outline is the 0.5 contour of the cells' 0/1 raster through the cells' centres
    (contourpy's marching squares): it follows the cells' edges and cuts each outer corner
    (and fills each inner one) by a right triangle with legs of ``cell_m / 2``. Every point
    within ``cell_m * 3 / 4`` of a segment is covered (it lies within ``cell_m`` of a sample, so
    in one of the nine cells round the sample's, whose only cut corners are the block's own four,
    at least ``cell_m * 1.06`` from it), and nothing farther than ``(2 * sqrt(2) + 1 / 2) *
    cell_m`` (a cell's far corner, or a filled triangle's half cell beyond one). An extent of
    more than :data:`RASTER_CELLS` cells is merged from column strips instead (slower, exact
    squares).
    """
    import contourpy  # only when catchments are drawn
    a, b = pieces[:, 0], pieces[:, 1]
    steps = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / (cell_m / 2))).astype(np.int64)
    seg = np.repeat(np.arange(len(a)), steps + 1)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    points = a[seg] + (b - a)[seg] * (k / steps[seg])[:, None]
    cells = np.floor(points / cell_m).astype(np.int64)
    lo = cells.min(axis=0) - 2  # a margin of two cells: the neighbours and the outside
    shape = cells.max(axis=0) - lo + 3
    if int(shape[0]) * int(shape[1]) > RASTER_CELLS:
        return _strips_cover(cells, cell_m)
    sampled = np.zeros(tuple(shape), dtype=bool)
    sampled[cells[:, 0] - lo[0], cells[:, 1] - lo[1]] = True
    covered = sampled.copy()
    inner = sampled[1:-1, 1:-1]
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            covered[1 + dx:shape[0] - 1 + dx, 1 + dy:shape[1] - 1 + dy] |= inner
    xs = (lo[0] + np.arange(shape[0]) + 0.5) * cell_m
    ys = (lo[1] + np.arange(shape[1]) + 0.5) * cell_m
    contours = contourpy.contour_generator(xs, ys, covered.T.astype(np.float64),
                                           name="serial", fill_type="ChunkCombinedOffsetOffset")
    (xy,), (ring_at,), (poly_at,) = contours.filled(0.5, 1.5)
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(ring_at) - 1),
                                                      np.diff(ring_at.astype(np.int64))))
    polygons = shapely.polygons(rings, indices=np.repeat(np.arange(len(poly_at) - 1),
                                                         np.diff(poly_at.astype(np.int64))))
    # the contour has a vertex at every cell's edge: only the corners are kept
    return shapely.multipolygons(shapely.simplify(polygons, 0.0, preserve_topology=False))


def _strips_cover(cells: np.ndarray, cell_m: float) -> shapely.Geometry:
    """:func:`grid_cover` for a very large extent: the sampled ``cells`` ((n, 2) grid indices)
    and their neighbours merged as runs of cells up each column (exact squares)."""
    lo = cells.min(axis=0) - 1  # a margin of one cell for the neighbours
    width = int(cells[:, 1].max() - lo[1]) + 2
    keys = np.unique((cells[:, 0] - lo[0]) * width + (cells[:, 1] - lo[1]))
    near = np.array([i * width + j for i in (-1, 0, 1) for j in (-1, 0, 1)])
    keys = np.unique((keys[:, None] + near[None]).reshape(-1))
    cx, cy = keys // width, keys % width
    # runs of cells up a column become one strip each (some 40x fewer shapes to merge)
    start = np.flatnonzero(np.r_[True, (np.diff(keys) != 1) | (np.diff(cx) != 0)])
    end = np.r_[start[1:] - 1, len(keys) - 1]
    x0, y0 = (cx[start] + lo[0]) * cell_m, (cy[start] + lo[1]) * cell_m
    y1 = (cy[end] + lo[1] + 1) * cell_m
    return shapely.union_all(shapely.box(x0, y0, x0 + cell_m, y1))
