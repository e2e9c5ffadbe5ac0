"""Read role layers from a GeoPackage.

Only regular local files are opened; each layer is read whole with pyogrio. Reading does not
judge the data: :mod:`geocheck.inputs.normalise` does that and keeps the ledger of rejects.
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


def check_local_file(path: str | Path) -> Path:
    """Return ``path`` as a Path if it is an existing regular local file, else raise InputError.

    GDAL dataset strings (``/vsicurl/...``, ``CSV:...``, inline JSON or VRT text) are refused.
    """
    text = str(path)
    if text.startswith("/vs") or text.lstrip().startswith(("{", "<")) or (
        ":" in text.split("/")[0] and len(text.split(":")[0]) > 1
    ):
        raise InputError(f"{text[:80]!r} is not a local file path; geocheck opens only regular "
                         "local files")
    p = Path(text)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a regular file")
    return p


def list_layers(path: str | Path) -> list[tuple[str, str | None, int]]:
    """List the layers of a vector file as ``(name, geometry type, feature count)``."""
    p = check_local_file(path)
    try:
        names = pyogrio.list_layers(p)
        out = []
        for name, geom_type in names:
            info = pyogrio.read_info(p, layer=name)
            out.append((str(name), geom_type, int(info["features"])))
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
    p = check_local_file(path)
    layers: dict[str, gpd.GeoDataFrame] = {}
    ignored: dict[str, int] = {}
    sources = pd.DataFrame()
    for name, _geom_type, count in list_layers(p):
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
