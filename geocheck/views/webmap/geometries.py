"""Geometries as GeoJSON text in lon/lat, written in bulk.

Points, line strings and polygons without holes, which are nearly every feature a map draws
(estates, buildings, evidence lines, facilities), are written by Arrow: each coordinate's
numbers are cast to text in one pass (the shortest text that reads back as the same double)
and joined per geometry through list offsets. Every other geometry (multi-part, with holes,
empty, with a coordinate that is not finite) is written by GEOS (``shapely.to_geojson``),
as all of them were before. Both write the same numbers: coordinates projected to WGS 84
and rounded to :data:`COORDINATE_DECIMALS` places.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ...core.lonlat import to_wgs84

COORDINATE_DECIMALS = 6  # about 0.1 m

_LARGE = pa.large_string()

_POINT, _LINE, _POLYGON = 0, 1, 3  # shapely's type ids
_OPENINGS = pa.array(['{"type":"Point","coordinates":', '{"type":"LineString","coordinates":[',
                      '', '{"type":"Polygon","coordinates":[['], type=_LARGE)
_CLOSINGS = pa.array(["}", "]}", "", "]]}"], type=_LARGE)
"""What comes before and after a geometry's joined coordinates, by type id."""


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, type=_LARGE)


def geometry_texts(geoms: np.ndarray, crs: Any) -> pa.Array:
    """Each geometry of ``geoms`` (projected in ``crs``, metres) as GeoJSON text in lon/lat
    degrees rounded to :data:`COORDINATE_DECIMALS` places, as an Arrow ``large_string`` array;
    null where a geometry is missing."""
    geoms = np.asarray(geoms, dtype=object)
    xy = shapely.get_coordinates(geoms)
    lon, lat = to_wgs84(crs).transform(xy[:, 0], xy[:, 1])
    lon, lat = np.round(lon, COORDINATE_DECIMALS), np.round(lat, COORDINATE_DECIMALS)
    types = shapely.get_type_id(geoms)
    counts = shapely.get_num_coordinates(geoms)  # in get_coordinates' order, 0 when missing
    ends = np.cumsum(counts)
    finite = np.isfinite(lon) & np.isfinite(lat)
    bad = np.zeros(len(geoms), dtype=bool)  # geometries with a coordinate that is not finite
    bad[np.searchsorted(ends, np.flatnonzero(~finite), side="right")] = True
    simple = np.isin(types, (_POINT, _LINE, _POLYGON)) & (counts > 0) & ~bad
    polygons = np.flatnonzero(simple & (types == _POLYGON))
    simple[polygons] = shapely.get_num_interior_rings(geoms[polygons]) == 0
    at = np.flatnonzero(simple)
    if len(at) == len(geoms):
        return _simple_texts(lon, lat, types, counts)
    owner = np.repeat(np.arange(len(geoms)), counts)
    mine = simple[owner]
    texts = _simple_texts(lon[mine], lat[mine], types[at], counts[at])
    rest = np.flatnonzero(~simple & (types >= 0))
    if len(rest):
        theirs = np.isin(owner, rest)
        others = shapely.set_coordinates(
            shapely.force_2d(geoms[rest]), np.column_stack([lon[theirs], lat[theirs]]))
        texts = pa.concat_arrays([texts, pa.array(shapely.to_geojson(others), type=_LARGE)])
    missing = len(geoms) - len(at) - len(rest)
    texts = pa.concat_arrays([texts, pa.nulls(missing, type=_LARGE)])
    order = np.empty(len(geoms), dtype=np.int64)  # row k of the result is row order[k] of texts
    order[np.r_[at, rest, np.flatnonzero(types < 0)]] = np.arange(len(geoms))
    return texts.take(pa.array(order))


def _simple_texts(lon: np.ndarray, lat: np.ndarray, types: np.ndarray,
                  counts: np.ndarray) -> pa.Array:
    """GeoJSON of points, line strings and polygons without holes from their coordinates
    (``counts`` of them for each geometry, one after another)."""
    pairs = pc.binary_join_element_wise(
        _lit("["), pc.cast(pa.array(lon), _LARGE), _lit(","), pc.cast(pa.array(lat), _LARGE),
        _lit("]"), _lit(""))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    joined = pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), pairs), _lit(","))
    kinds = pa.array(types.astype(np.int64))
    return pc.binary_join_element_wise(_OPENINGS.take(kinds), joined, _CLOSINGS.take(kinds),
                                       _lit(""))
