"""Read role layers from a GeoPackage.

Only regular local files in the formats :mod:`geocheck.inputs.gdal_guard` allows are opened;
each layer is read whole with pyogrio. Reading does not judge the data:
:mod:`geocheck.inputs.normalise` does that and keeps the ledger of rejects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..core.errors import InputError
from ..core.roles import ROLES
from .gdal_guard import check_local_file, vet

__all__ = ["SOURCES_TABLE", "RawLayers", "check_local_file", "describe_layers", "list_layers",
           "read_layers"]

SOURCES_TABLE = "geocheck_sources"
"""Provenance table written by ``geocheck import`` beside the role layers."""


@dataclass
class RawLayers:
    """Layers as read from the file, before normalising.

    Attributes
    ----------
    path : the file read.
    layers : role name -> GeoDataFrame, in the file's own CRS and field names.
    ignored : layers in the file that are not a geocheck role, with their feature counts.
    sources : provenance of layers written by ``geocheck import`` (table ``geocheck_sources``):
        role, source, crs, coords, converted, notes.
    paths : the source file of each role when the layers come from different files.
    """

    path: Path
    layers: dict[str, gpd.GeoDataFrame]
    ignored: dict[str, int] = field(default_factory=dict)
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    paths: dict[str, Path] = field(default_factory=dict)

    def path_of(self, role: str) -> Path:
        """The file a role layer was read from (the GeoPackage, or its own source file)."""
        return self.paths.get(role, self.path)


def list_layers(path: str | Path) -> list[tuple[str, str | None, int]]:
    """List the layers of a vector file as ``(name, geometry type, feature count)``.

    The file is vetted first (:func:`geocheck.inputs.gdal_guard.vet`): a local file in a format
    geocheck reads, never a VRT or another file that points at other files or URLs.
    """
    return [(name, geom, count) for name, geom, count, _crs in describe_layers(path)]


def describe_layers(path: str | Path) -> list[tuple[str, str | None, int, str | None]]:
    """The layers of a vector file as ``(name, geometry type, feature count, CRS)``, the CRS as
    GDAL gives it (``EPSG:4545``, WKT) or None; the file is vetted first, as by
    :func:`list_layers`."""
    return _describe(vet(path).path)


def _describe(p: Path) -> list[tuple[str, str | None, int, str | None]]:
    try:
        out = []
        for name, geom_type in pyogrio.list_layers(p):
            info = pyogrio.read_info(p, layer=name)
            out.append((str(name), geom_type, int(info["features"]), info["crs"]))
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{p}: cannot be opened as a GeoPackage or vector file ({exc})") from None
    return out


def read_layers(path: str | Path) -> RawLayers:
    """Read every role layer present in the GeoPackage at ``path``.

    Parameters
    ----------
    path : a GeoPackage (or any single-file vector format pyogrio reads) whose layers are named
        by role (``estates``, ``buildings``, ``bus_stops`` ...).

    Returns
    -------
    RawLayers
        The role layers in their own CRS, with the GeoPackage fid kept in column ``_fid``.
    """
    p = vet(path).path
    layers: dict[str, gpd.GeoDataFrame] = {}
    ignored: dict[str, int] = {}
    sources = pd.DataFrame()
    for name, _geom_type, count, _crs in _describe(p):
        if name == SOURCES_TABLE:
            sources = pd.DataFrame(pyogrio.read_dataframe(p, layer=name, read_geometry=False))
            continue
        if name not in ROLES:
            ignored[name] = count
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = pyogrio.read_dataframe(p, layer=name, fid_as_index=True, use_arrow=True)
        except Exception as exc:  # pyogrio/GEOS raise several types for a broken layer
            raise InputError(f"{p}: layer {name!r} cannot be read ({exc})") from None
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{p}: layer {name!r} has no geometry column")
        gdf.index.name = None
        gdf["_fid"] = gdf.index.astype("int64")
        layers[name] = gdf.reset_index(drop=True)
    if "estates" not in layers:
        raise InputError(f"{p}: no layer named 'estates' (layers found: "
                         f"{', '.join(sorted(set(layers) | set(ignored))) or 'none'}); for your "
                         "own files write a project .toml naming each role's file, or convert "
                         "them with geocheck import file|dxf|osm")
    return RawLayers(p, layers, ignored, sources)
