"""Where rejected features lie, so that the rules can tell which estates a reject bears on.

A feature rejected for its geometry often still says where it is: a wrong-type or invalid
geometry has vertices, a polygon with one NaN vertex has the others. :func:`envelopes` keeps the
envelope of the finite ones; :func:`reproject_places` brings every reject's place into the working
CRS once the normalising is done.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from ..core.ledger import Ledger


def envelopes(geoms: np.ndarray) -> np.ndarray:
    """Where each geometry lies, as far as its finite coordinates tell: the envelope of those
    (a point or a box), or None when it has none (no geometry, empty, every vertex NaN)."""
    out = np.full(len(geoms), None, dtype=object)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    ok = np.isfinite(coords).all(axis=1)
    coords, owner = coords[ok], owner[ok]
    if not len(owner):
        return out
    low = np.full((len(geoms), 2), np.inf)
    high = np.full((len(geoms), 2), -np.inf)
    np.minimum.at(low, owner, coords)
    np.maximum.at(high, owner, coords)
    has = np.unique(owner)
    lo, hi = low[has], high[has]
    point = (lo == hi).all(axis=1)
    out[has] = np.where(point, shapely.points(lo), shapely.box(lo[:, 0], lo[:, 1], hi[:, 0],
                                                                 hi[:, 1]))
    return out


def reproject_places(ledger: Ledger, crs: CRS) -> None:
    """Bring the place of every reject in ``ledger`` into ``crs`` (the working CRS, metres).

    A place that does not survive the transformation (non-finite result) becomes None: the reject
    is then unlocated.
    """
    by_crs: dict[object, list[int]] = {}
    for i, (_, where, src) in enumerate(ledger.places):
        if where is not None and src is not None:
            by_crs.setdefault(CRS(src).to_wkt(), []).append(i)
    for wkt, rows in by_crs.items():
        moved = gpd.GeoSeries([ledger.places[i][1] for i in rows], crs=wkt).to_crs(crs)
        geoms = moved.to_numpy()
        bounds = shapely.bounds(geoms)
        ok = np.isfinite(bounds).all(axis=1)
        for i, g, good in zip(rows, geoms, ok, strict=True):
            ledger.places[i] = (ledger.places[i][0], g if good else None, crs)
