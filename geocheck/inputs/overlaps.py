"""Overlapping estates, and the features they make ambiguous.

Two estates whose boundaries overlap (or repeat one another under two ids) leave a feature in the
overlap without an owner: a building or an entrance without ``estate_id`` whose point lies in both,
or a green area covering part of the overlap. Such a feature is not silently given to one of them:
it is recorded in :attr:`~geocheck.core.ledger.Ledger.ambiguous` with the estates that claim it,
and the rules reading its layer become no data for those estates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..core.ledger import Ledger
from ..core.roles import ROLES

OVERLAP_TOLERANCE_M2 = 1.0
"""Estates overlapping by less than this many square metres are taken to touch (digitising
noise); above it, the overlap is noted and features in it are ambiguous."""


def estate_overlaps(estates: gpd.GeoDataFrame, ledger: Ledger
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Note every pair of estates overlapping by more than :data:`OVERLAP_TOLERANCE_M2`.

    Parameters
    ----------
    estates : the estates, in a projected CRS in metres.
    ledger : receives one note per overlapping pair, with the overlap's area in m2.

    Returns
    -------
    (first, second, overlap)
        Estate positions of each overlapping pair (first < second) and the overlap geometry.
    """
    geoms = estates.geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = a < b
    a, b = a[pair], b[pair]
    common = shapely.intersection(geoms[a], geoms[b])
    area = shapely.area(common)
    big = area > OVERLAP_TOLERANCE_M2
    a, b, common, area = a[big], b[big], common[big], area[big]
    ids = estates["estate_id"].to_numpy()
    whole = np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
    for i, j, m2, w in zip(ids[a], ids[b], area, whole, strict=True):  # the overlapping few
        same = " (the same boundary under two ids)" if m2 >= 0.999 * w else ""
        ledger.note(f"estates {i} and {j} overlap by {m2:,.1f} m2{same}; features in the "
                    "overlap without an estate_id belong to neither, and the rules reading them "
                    "are no data for both")
    return a, b, common


def note_ambiguous(ledger: Ledger, role: str, feature_ids: np.ndarray,
                   estate_ids: list[str]) -> None:
    """Record features of ``role`` claimed by several estates (``estate_ids[k]``: ``"A; B"``)."""
    one = ROLES[role].one_en
    for fid, names in zip(feature_ids, estate_ids, strict=True):
        ledger.ambiguous.append({"layer": role, "feature_id": str(fid), "estate_ids": names})
        ledger.note(f"{role}: {one} {fid} lies in overlapping estates "
                    f"{names.replace('; ', ' and ')} without an estate_id saying which it "
                    f"belongs to; their rules reading {role} are no data: give it an estate_id")


def green_in_overlaps(green: gpd.GeoDataFrame, estates: gpd.GeoDataFrame,
                      overlaps: tuple[np.ndarray, np.ndarray, np.ndarray],
                      ledger: Ledger) -> None:
    """Record green areas covering more than :data:`OVERLAP_TOLERANCE_M2` of an overlap of two
    estates as ambiguous between them (a green area counts towards the estate it lies in)."""
    a, b, common = overlaps
    if not len(common) or green.empty:
        return
    geoms = green.geometry.to_numpy()
    g, k = shapely.STRtree(geoms).query(common, predicate="intersects")[::-1]
    shared = shapely.area(shapely.intersection(geoms[g], common[k])) > OVERLAP_TOLERANCE_M2
    g, k = g[shared], k[shared]
    if not len(g):
        return
    ids = estates["estate_id"].to_numpy()
    claims: dict[int, set[str]] = {}
    for gi, ki in zip(g, k, strict=True):  # the ambiguous few
        claims.setdefault(int(gi), set()).update((str(ids[a[ki]]), str(ids[b[ki]])))
    which = sorted(claims)
    note_ambiguous(ledger, "green_space", green["feature_id"].to_numpy()[which],
                   ["; ".join(sorted(claims[i])) for i in which])
