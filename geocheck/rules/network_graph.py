"""The walking network: lines in metres made into a graph of nodes and edges.

Everything is in the working CRS, in metres. Lines connect only where they share a vertex
(vertices of different lines closer than :data:`JOIN_TOLERANCE_M` are one node), never where
they merely cross, so a bridge or a tunnel does not meet the street it passes over or under.

Each straight segment keeps its own length; the segments are also kept (with an STRtree)
for points and polygons to join (:mod:`geocheck.rules.network_joins`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

JOIN_TOLERANCE_M = 0.05
"""Vertices of different lines closer than this (metres, inclusive) are one node."""

_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString


@dataclass(frozen=True, eq=False)
class Network:
    """A walkable graph in the working CRS (metres).

    Attributes
    ----------
    xy : (n_nodes, 2) float array, the coordinates of each node in metres.
    edge_u, edge_v, edge_m : the undirected edges (``edge_u < edge_v``, each pair once) and
        their lengths in metres (the shortest segment between the two nodes).
    seg_xy : (n_segments, 2, 2) float array, each straight segment of the input lines
        (collapsed segments left out), the ones points and polygons join.
    seg_u, seg_v : the node at the start and at the end of each segment.
    seg_m : the length of each segment in metres.
    tree : an STRtree over the segments (as 2-point LineStrings).
    tolerance_m : the join tolerance the network was built with, in metres.
    """

    xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_m: np.ndarray
    seg_xy: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_m: np.ndarray
    tree: shapely.STRtree
    tolerance_m: float

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return len(self.edge_u)

    @property
    def segments(self) -> np.ndarray:
        """The segments as shapely LineStrings (the geometries of :attr:`tree`)."""
        return self.tree.geometries


def build_network(lines: np.ndarray, *, tolerance_m: float = JOIN_TOLERANCE_M) -> Network:
    """Build the walkable graph of some lines.

    Parameters
    ----------
    lines : array of shapely LineString or MultiLineString geometries in a projected CRS in
        metres (missing or empty ones are skipped).
    tolerance_m : vertices of different lines at most this far apart (metres) are one node.
        Lines connect only where they share a vertex, never where they merely cross.

    Returns
    -------
    Network
        Node ids come from the vertex coordinates: identical coordinates are one vertex, and
        vertices of different lines within ``tolerance_m`` are clustered into one node placed
        at one of them. Each segment keeps its own length.

    Raises
    ------
    ValueError
        A geometry that is not a line, a coordinate that is not finite, or a negative tolerance.
    """
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"build_network: tolerance_m must be >= 0 m, got {tolerance_m}")
    geoms = np.asarray(lines, dtype=object).reshape(-1)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(types, _LINE_TYPES))
    if len(bad):
        raise ValueError(f"build_network: only lines can be walked along, got a "
                         f"{geoms[bad[0]].geom_type}")
    parts = shapely.get_parts(geoms)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    if not np.isfinite(coords).all():
        raise ValueError("build_network: a line has a coordinate that is not finite")
    vertex_xy, vertex = _distinct(coords)
    cluster = _cluster(vertex_xy, vertex, line, tolerance_m)
    first = np.unique(cluster, return_index=True)[1]
    node = cluster[vertex]
    # consecutive coordinates of one line part are a segment
    start = np.flatnonzero(line[1:] == line[:-1])
    seg_u, seg_v = node[start], node[start + 1]
    seg_xy = np.stack([coords[start], coords[start + 1]], axis=1)
    keep = seg_u != seg_v
    seg_u, seg_v, seg_xy = seg_u[keep], seg_v[keep], seg_xy[keep]
    seg_m = np.hypot(*(seg_xy[:, 1] - seg_xy[:, 0]).T)
    edge_u, edge_v, edge_m = _unique_edges(seg_u, seg_v, seg_m)
    tree = shapely.STRtree(shapely.linestrings(seg_xy))
    return Network(xy=vertex_xy[first], edge_u=edge_u, edge_v=edge_v, edge_m=edge_m,
                   seg_xy=seg_xy, seg_u=seg_u, seg_v=seg_v, seg_m=seg_m, tree=tree,
                   tolerance_m=float(tolerance_m))


def _distinct(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct coordinates and, for each input row, which one it is (like
    ``np.unique(axis=0, return_inverse=True)``, without its slow row sort)."""
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    ordered = coords[order]
    new = np.ones(len(coords), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(len(coords), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _cluster(vertex_xy: np.ndarray, vertex: np.ndarray, line: np.ndarray,
             tolerance_m: float) -> np.ndarray:
    """Node label (0..k-1) of each distinct vertex: vertices of different line parts within
    the tolerance are linked and each connected group is one node. Vertices of one part are
    never linked to each other, so a finely drawn curve does not collapse."""
    from scipy.sparse import coo_array  # scipy only for a run with paths
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree
    n = len(vertex_xy)
    if n < 2 or tolerance_m == 0:
        return np.arange(n)
    owner = np.empty(n, dtype=np.intp)
    owner[vertex] = line
    pairs = cKDTree(vertex_xy).query_pairs(tolerance_m, output_type="ndarray")
    pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]]
    if not len(pairs):
        return np.arange(n)
    links = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(links, directed=False)[1]


def _unique_edges(u: np.ndarray, v: np.ndarray, m: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unordered node pair once, with the least length."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((m, hi, lo))
    lo, hi, m = lo[order], hi[order], m[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return lo[first], hi[first], m[first]
