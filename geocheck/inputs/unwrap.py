"""Unwrap GeometryCollections into the geometry they wrap.

Clip and overlay tools often write a polygon as ``GEOMETRYCOLLECTION(POLYGON(...))``. Such a
feature is the polygon: rejecting it would drop a building or a green area that is plainly there.
A collection whose parts are all of one kind the role accepts becomes that part (one part) or its
Multi form (several parts); a collection mixing kinds, or of a kind the role does not accept, is
left for :func:`geocheck.inputs.normalise` to reject, with the kinds found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ..core.roles import LINE, POINT, POLYGON

COLLECTION = 7
"""shapely's type id of a GeometryCollection."""

_KIND_OF_TYPE = {0: POINT, 4: POINT, 1: LINE, 2: LINE, 5: LINE, 3: POLYGON, 6: POLYGON}
"""shapely type id -> the kind of geometry it is (a ring counts as a line)."""


@dataclass(frozen=True)
class Unwrapped:
    """What :func:`unwrap_collections` did to a layer's geometries.

    Attributes
    ----------
    geoms : the geometries, collections of one accepted kind replaced by what they wrap.
    problems : per geometry, '' or why a collection could not be unwrapped (the kinds found).
    single : how many collections of one part became that part.
    multi : how many collections of several parts became a Multi geometry.
    """

    geoms: np.ndarray
    problems: np.ndarray
    single: int
    multi: int

    def note(self, role: str) -> str:
        """The ledger note for ``role`` ('' when nothing was unwrapped)."""
        if not self.single + self.multi:
            return ""
        parts = []
        if self.single:
            parts.append(f"{self.single} of one part to that part")
        if self.multi:
            parts.append(f"{self.multi} of several parts to a Multi geometry")
        return (f"{role}: {self.single + self.multi} GeometryCollection feature(s) unwrapped "
                f"({', '.join(parts)})")


def _leaves(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty single parts of ``geoms`` (collections and Multi geometries opened all the
    way down) and the position of the geometry each came from."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    while len(parts) and np.isin(shapely.get_type_id(parts), [4, 5, 6, COLLECTION]).any():
        parts, inner = shapely.get_parts(parts, return_index=True)
        owner = owner[inner]
    keep = ~shapely.is_empty(parts)
    return parts[keep], owner[keep]


def unwrap_collections(geoms: np.ndarray, kinds: frozenset[str]) -> Unwrapped:
    """Replace each GeometryCollection of one accepted kind by the geometry it wraps.

    Parameters
    ----------
    geoms : geometries of one layer (any CRS; nothing is measured).
    kinds : the geometry kinds the layer's role accepts (``point``, ``line``, ``polygon``).

    Returns
    -------
    Unwrapped
        The geometries, and per geometry why a collection was left as it is: several kinds in
        it (``"GeometryCollection of line and polygon parts; polygon expected"``) or a kind the
        role does not accept. An empty collection is left for the empty-geometry check.
    """
    out = np.array(geoms, dtype=object, copy=True)
    problems = np.full(len(out), "", dtype=object)
    present = ~shapely.is_missing(out)
    where = np.flatnonzero(present & (shapely.get_type_id(out) == COLLECTION))
    if not len(where):
        return Unwrapped(out, problems, 0, 0)
    parts, owner = _leaves(out[where])
    kind = np.array([_KIND_OF_TYPE[t] for t in shapely.get_type_id(parts)], dtype=object)
    n = np.bincount(owner, minlength=len(where))
    # a collection's kinds, as a sorted set; one kind when its first and last sorted agree
    order = np.lexsort((kind, owner))
    first = np.full(len(where), "", dtype=object)
    last = np.full(len(where), "", dtype=object)
    first[owner[order][::-1]] = kind[order][::-1]
    last[owner[order]] = kind[order]
    one_kind = (n > 0) & (first == last) & np.isin(first, list(kinds))
    want = " or ".join(sorted(kinds))
    for k in np.flatnonzero((n > 0) & ~one_kind):  # the rejected few: name their kinds
        found = sorted(set(kind[owner == k]))
        problems[where[k]] = (f"GeometryCollection of {' and '.join(found)} parts where "
                              f"{want} expected")
    single = one_kind & (n == 1)
    is_one = np.isin(owner, np.flatnonzero(single))
    out[where[owner[is_one]]] = parts[is_one]
    several = np.flatnonzero(one_kind & (n > 1))
    makers = ((POINT, shapely.multipoints), (LINE, shapely.multilinestrings),
              (POLYGON, shapely.multipolygons))
    for kind_name, maker in makers:
        mine = several[first[several] == kind_name]
        take = np.isin(owner, mine)
        if take.any():  # parts in owner order, so each Multi keeps its parts' order
            out[where[mine]] = maker(parts[take], indices=np.searchsorted(mine, owner[take]))
    return Unwrapped(out, problems, int(single.sum()), len(several))
