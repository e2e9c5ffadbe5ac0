"""Shapely geometries as matplotlib paths, built with numpy from :func:`shapely.to_ragged_array`.

A layer is drawn as one compound path per colour. :class:`PathTable` builds the paths of many
polygons once and gives the path of any subset by gathering their vertices: the maps of
neighbouring estates share most of their buildings, which are then converted once for a
chunk of maps rather than once a map.
"""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.path import Path as MplPath

EMPTY_PATH = MplPath(np.empty((0, 2)))


class PathTable:
    """The vertices and codes of the polygons and multipolygons in ``geoms``, ready to draw;
    :meth:`path` gives the compound path of those at some positions.

    Rings are turned so that exteriors run counter-clockwise and holes clockwise: under the
    non-zero fill rule holes stay empty and overlapping polygons are filled once. Other
    geometry types (and empty or missing geometries) have no vertices.
    """

    def __init__(self, geoms: np.ndarray) -> None:
        geoms = np.asarray(geoms, dtype=object)
        ok = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
        self.start = np.zeros(len(geoms) + 1, dtype=np.int64)
        self.coords, self.codes = EMPTY_PATH.vertices, np.empty(0, dtype=MplPath.code_type)
        if not ok.any():
            return
        coords, rings, polygons, first_ring = _polygon_parts(geoms[ok])
        counts = np.zeros(len(geoms), dtype=np.int64)
        counts[ok] = np.diff(rings[first_ring])
        np.cumsum(counts, out=self.start[1:])
        start, end = rings[:-1], rings[1:]
        n_rings = len(start)
        rel = coords - coords[0]  # smaller numbers for the shoelace sums
        cross = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
        cross[end[:-1] - 1] = 0.0  # the step from one ring into the next is no edge
        area = np.add.reduceat(cross, start) if len(cross) else np.zeros(n_rings)
        exterior = np.zeros(n_rings, dtype=bool)
        exterior[polygons[:-1][polygons[:-1] < n_rings]] = True
        flip = np.where(exterior, area < 0, area > 0)
        ring = np.repeat(np.arange(n_rings), end - start)
        at = np.arange(len(coords))
        order = np.where(flip[ring], start[ring] + end[ring] - 1 - at, at)
        codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
        codes[start] = MplPath.MOVETO
        codes[end - 1] = MplPath.CLOSEPOLY
        self.coords, self.codes = coords[order], codes

    def path(self, positions: np.ndarray) -> MplPath:
        """One compound path of the geometries at ``positions`` (in that order)."""
        positions = np.asarray(positions, dtype=np.int64)
        first, lengths = self.start[positions], np.diff(self.start)[positions]
        total = int(lengths.sum())
        if not total:
            return EMPTY_PATH
        gather = np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        return MplPath(self.coords[gather], self.codes[gather])


def _polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """(coordinates, ring offsets, polygon offsets into the rings, first ring of each
    geometry) of non-empty polygons and multipolygons, as :func:`shapely.to_ragged_array`
    gives them. Polygons without holes (most buildings) are read with one
    :func:`shapely.get_coordinates`, which makes no ring geometries."""
    if (shapely.get_type_id(geoms) == 3).all() and not shapely.get_num_interior_rings(geoms).any():
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        rings = np.searchsorted(index, np.arange(len(geoms) + 1)).astype(np.int64)
        polygons = np.arange(len(geoms) + 1, dtype=np.int64)
        return coords, rings, polygons, polygons
    _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    rings, polygons = offsets[0].astype(np.int64), offsets[1].astype(np.int64)
    first_ring = polygons[offsets[2]] if len(offsets) == 3 else polygons  # of each geometry
    return coords, rings, polygons, first_ring


def polygon_path(geoms: np.ndarray) -> MplPath:
    """One compound path of the polygons and multipolygons in ``geoms``; holes stay holes
    (see :class:`PathTable`); other geometry types are skipped."""
    if not len(geoms):
        return EMPTY_PATH
    return PathTable(geoms).path(np.arange(len(geoms)))


def line_path(geoms: np.ndarray) -> MplPath:
    """One compound path of the lines and multilines in ``geoms`` (other types skipped)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return EMPTY_PATH
    kind = shapely.get_type_id(geoms)
    keep = ((kind == 1) | (kind == 5)) & ~shapely.is_empty(geoms)
    geoms = geoms[keep]
    if not len(geoms):
        return EMPTY_PATH
    if (kind[keep] == 1).all():  # lines only (evidence lines): one get_coordinates, no ragged array
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        starts = np.searchsorted(index, np.arange(len(geoms)))
    else:
        _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
        starts = offsets[0][:-1]
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[starts] = MplPath.MOVETO
    return MplPath(coords, codes)
