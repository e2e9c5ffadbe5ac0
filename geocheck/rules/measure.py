"""Pure, vectorised measures on a normalised :class:`~geocheck.core.site.Site`.

Every function takes GeoDataFrames in one projected CRS in metres and returns plain tables
indexed by estate position (0..n-1) or by feature position. Nothing here knows thresholds or
verdicts: that is :mod:`geocheck.rules.spatial`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.threads import PARALLEL_MIN, by_chunks  # STRtree queries release the GIL

WIDTH_TOLERANCE_M = 0.001
"""Widths are judged to the millimetre, like distances."""

ENTRANCES = "entrances"
BOUNDARY = "boundary"
INSIDE = "inside"


def query_nearest(tree: shapely.STRtree, geoms: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest tree item to each geometry: ``(input index, tree index, distance)``.

    One nearest item per input; of items equally near, the first in the tree's input order
    (so the answer does not hang on how the tree was built, nor on which other items it
    holds). Missing or empty inputs get no row. Large inputs are split into chunks queried in
    parallel threads.
    """
    def one(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src, dst, dist = _first_nearest(tree, geoms[lo:hi])
        return src + lo, dst, dist

    parts = by_chunks(one, len(geoms), PARALLEL_MIN)
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))  # type: ignore[return-value]


def _first_nearest(tree: shapely.STRtree, geoms: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (src, dst), dist = tree.query_nearest(geoms, return_distance=True, all_matches=True)
    if len(src) and (np.diff(src) == 0).any():  # ties: keep the lowest tree index
        order = np.lexsort((dst, src))
        src, dst, dist = src[order], dst[order], dist[order]
        first = np.r_[True, src[1:] != src[:-1]]
        src, dst, dist = src[first], dst[first], dist[first]
    return src, dst, dist


def query_within(tree: shapely.STRtree, geoms: np.ndarray, distance: np.ndarray | float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every (input index, tree index) pair within ``distance`` metres (one for all inputs,
    or one each), as ``tree.query(geoms, predicate="dwithin")``; large inputs are split into
    chunks queried in parallel threads, the pairs in the same order."""
    distance = np.broadcast_to(np.asarray(distance, dtype=float), (len(geoms),))

    def one(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        src, dst = tree.query(geoms[lo:hi], predicate="dwithin", distance=distance[lo:hi])
        return src + lo, dst

    parts = by_chunks(one, len(geoms), PARALLEL_MIN)
    if len(parts) == 1:
        return parts[0][0], parts[0][1]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def estate_origins(estates: gpd.GeoDataFrame,
                   entrances: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Where distances from each estate are measured from.

    Returns
    -------
    (geometries, method)
        Per estate: the MultiPoint of its entrances (method ``"entrances"``) when it has any,
        else its polygon (method ``"boundary"``; a point inside it is at 0 m).
    """
    geoms = estates.geometry.to_numpy().copy()
    method = np.full(len(estates), BOUNDARY, dtype=object)
    if entrances is not None and len(entrances):
        linked = entrances[entrances["estate_pos"] >= 0]
        if len(linked):
            pos = linked["estate_pos"].to_numpy()
            order = np.argsort(pos, kind="stable")
            pos_sorted = pos[order]
            uniq, starts = np.unique(pos_sorted, return_index=True)
            multis = shapely.multipoints(linked.geometry.to_numpy()[order],
                                         indices=np.searchsorted(uniq, pos_sorted))
            geoms[uniq] = multis
            method[uniq] = ENTRANCES
            del starts
    return geoms, method


def nearest_facility(estates: gpd.GeoDataFrame, origins: np.ndarray, origin_method: np.ndarray,
                     facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Distance in metres from each estate to its nearest facility of one layer.

    A facility intersecting the estate polygon is at 0 m (method ``"inside"``); otherwise the
    distance is from the estate's origin (entrances or boundary, see :func:`estate_origins`).

    Returns
    -------
    DataFrame indexed by estate position with ``distance_m`` (NaN when the layer is empty),
    ``facility_pos`` (-1 when none) and ``method``.
    """
    n = len(estates)
    out = pd.DataFrame({"distance_m": np.full(n, np.nan), "facility_pos": np.full(n, -1),
                        "method": origin_method.copy()})
    if facilities is None or facilities.empty:
        return out
    fgeoms = facilities.geometry.to_numpy()
    tree = shapely.STRtree(fgeoms)
    src, dst, dist = query_nearest(tree, origins)
    out.loc[src, "facility_pos"] = dst
    out.loc[src, "distance_m"] = dist
    est, fac = tree.query(estates.geometry.to_numpy(), predicate="intersects")
    if len(est):
        first = np.unique(est, return_index=True)[1]
        out.loc[est[first], "facility_pos"] = fac[first]
        out.loc[est[first], "distance_m"] = 0.0
        out.loc[est[first], "method"] = INSIDE
    return out


def nearest_feature_distance(features: gpd.GeoDataFrame,
                             targets: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Distance in metres from each feature to the nearest target feature.

    Returns
    -------
    DataFrame indexed like ``features`` by position, with ``distance_m`` (NaN when there is no
    target) and ``target_pos`` (-1 when none).
    """
    n = len(features)
    out = pd.DataFrame({"distance_m": np.full(n, np.nan), "target_pos": np.full(n, -1)})
    if targets is None or targets.empty or n == 0:
        return out
    tgeoms = targets.geometry.to_numpy()
    tree = shapely.STRtree(tgeoms)
    src, dst, dist = query_nearest(tree, features.geometry.to_numpy())
    out.loc[src, "target_pos"] = dst
    out.loc[src, "distance_m"] = dist
    return out


def features_in_estates(estates: gpd.GeoDataFrame, features: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of (estate position, feature position) where the feature intersects the estate."""
    if features is None or features.empty:
        return pd.DataFrame({"estate_pos": [], "feature_pos": []}, dtype="int64")
    tree = shapely.STRtree(features.geometry.to_numpy())
    est, fea = tree.query(estates.geometry.to_numpy(), predicate="intersects")
    return pd.DataFrame({"estate_pos": est, "feature_pos": fea})


def green_inside(estates: gpd.GeoDataFrame, green: gpd.GeoDataFrame | None) -> np.ndarray:
    """The green inside each estate: the green polygons intersecting it, clipped to it and
    unioned, so overlapping polygons count once and holes stay holes.

    Returns
    -------
    Array of geometries by estate position (None where no green polygon touches the estate).
    """
    out = np.full(len(estates), None, dtype=object)
    if green is None or green.empty:
        return out
    pairs = features_in_estates(estates, green)
    if pairs.empty:
        return out
    est = pairs["estate_pos"].to_numpy()
    pieces = shapely.intersection(estates.geometry.to_numpy()[est],
                                  green.geometry.to_numpy()[pairs["feature_pos"]])
    # Pad the pieces into an (estate x piece) array and union each row in one call.
    order = np.argsort(est, kind="stable")
    est, pieces = est[order], pieces[order]
    uniq, start, count = np.unique(est, return_index=True, return_counts=True)
    grid = np.full((len(uniq), count.max()), None, dtype=object)
    grid[np.repeat(np.arange(len(uniq)), count), np.arange(len(est)) - np.repeat(start, count)] \
        = pieces
    out[uniq] = shapely.union_all(grid, axis=1)
    return out


def green_area(estates: gpd.GeoDataFrame, green: gpd.GeoDataFrame | None) -> pd.Series:
    """Green area inside each estate, in square metres (see :func:`green_inside`).

    Returns
    -------
    Series indexed by estate position (0.0 where no green polygon touches the estate).
    """
    return pd.Series(shapely.area(green_inside(estates, green))).fillna(0.0)


def green_patches(estates: gpd.GeoDataFrame, green: gpd.GeoDataFrame | None,
                  min_width_m: float) -> pd.DataFrame:
    """Contiguous green patches inside each estate and whether each is at least a width across.

    A patch is one polygon of the estate's green (see :func:`green_inside`); it is at least
    ``min_width_m`` metres wide when a disc of that diameter fits inside it (its inward buffer
    by half the width, less a millimetre so that the threshold is inclusive, is not empty), so
    a narrow verge never counts as a patch.

    Returns
    -------
    DataFrame with ``estate_pos``, ``area_m2``, ``wide`` (bool), ``geometry`` (one row per patch).
    """
    inside = green_inside(estates, green)
    parts, idx = shapely.get_parts(inside, return_index=True)
    polys = shapely.get_type_id(parts) == 3
    parts, idx = parts[polys], idx[polys]
    # Inclusive to the millimetre: a strip exactly min_width_m wide qualifies.
    shrink = max(min_width_m / 2 - WIDTH_TOLERANCE_M, 0)
    wide = ~shapely.is_empty(shapely.buffer(parts, -shrink)) if shrink > 0 else \
        np.ones(len(parts), dtype=bool)
    return pd.DataFrame({"estate_pos": idx, "area_m2": shapely.area(parts), "wide": wide,
                         "geometry": parts})
