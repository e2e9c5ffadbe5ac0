"""Read role layers from a GeoPackage.

Only regular local files in the formats :mod:`geocheck.inputs.gdal_guard` allows are opened;
each layer is read whole with pyogrio. Reading does not judge the data:
:mod:`geocheck.inputs.normalise` does that and keeps the ledger of rejects.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from ..core.errors import InputError
from ..core.roles import ROLES
from .gdal_guard import check_local_file, vet

__all__ = ["SOURCES_TABLE", "RawLayers", "check_local_file", "describe_layers", "list_layers",
           "read_layers"]

SOURCES_TABLE = "geocheck_sources"
"""Provenance table written by ``geocheck import`` beside the role layers."""

ARC_STEP_DEGREES = 1.0
"""Curves (CAD arcs: CircularString, CurvePolygon ...) are read as straight segments, one every
this many degrees of arc (GDAL's OGR_ARC_STEPSIZE). A chord then departs from its arc by at most
r * (1 - cos 0.5 deg) = 0.0038 % of the radius: 4 mm for a 100 m arc."""

_CURVE_TYPES = np.arange(8, 18)
"""ISO WKB type codes (modulo 1000) of curved and other non-linear geometries."""


@dataclass
class RawLayers:
    """Layers as read from the file, before normalising.

    Attributes
    ----------
    path : the file read.
    layers : role name -> GeoDataFrame, in the file's own CRS and field names (as they
        arrive, when read ahead: :class:`ArrivingLayers`).
    ignored : layers in the file that are not a geocheck role, with their feature counts.
    sources : provenance of layers written by ``geocheck import`` (table ``geocheck_sources``):
        role, source, crs, coords, converted, notes.
    paths : the source file of each role when the layers come from different files.
    notes : what reading did to the layers (curves linearised).
    """

    path: Path
    layers: Mapping[str, gpd.GeoDataFrame]
    ignored: dict[str, int] = field(default_factory=dict)
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def close(self, wait: bool = True) -> None:
        """Stop the reads not yet started and end their thread (``wait``: wait for the read
        under way, if any), when the layers are read ahead."""
        if isinstance(self.layers, ArrivingLayers):
            self.layers.close(wait)

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


_LINEAR = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}


def _may_curve(path: Path, layer: str) -> bool:
    """Whether a layer's declared geometry type allows curves (Unknown, CurvePolygon ...)."""
    kind = pyogrio.read_info(path, layer=layer).get("geometry_type")
    return kind is not None and str(kind).split(" ")[0] not in _LINEAR


def _curved(path: Path, layer: str) -> np.ndarray:
    """Per feature, whether its geometry is curved (read as WKB, unparsed, from GDAL)."""
    _, table = pyogrio.raw.read_arrow(path, layer=layer, columns=[])
    wkb = table.column(table.num_columns - 1).to_pylist()
    head = [w[:5] if w is not None and len(w) >= 5 else b"\x01\x00\x00\x00\x00" for w in wkb]
    codes = np.array([int.from_bytes(h[1:], "little" if h[0] == 1 else "big") for h in head])
    curved = np.isin((codes & 0x0FFFFFFF) % 1000, _CURVE_TYPES)
    collections = np.flatnonzero((codes & 0x0FFFFFFF) % 1000 == 7)
    for i in collections:  # a collection may hold curves: try the few there are
        try:
            shapely.from_wkb(wkb[i])
        except NotImplementedError:
            curved[i] = True
    return curved


def read_vector(path: Path, layer: str, where: str, **options: object
                ) -> tuple[gpd.GeoDataFrame, str]:
    """Read one layer with pyogrio, linearising curves; return it and a note ('' when no curve).

    Curves are turned into segments every :data:`ARC_STEP_DEGREES` by GDAL; a curved feature
    GDAL cannot linearise comes back with geometry None and the reason in ``source_problem``.
    ``options`` go to :func:`pyogrio.read_dataframe` (``use_arrow`` is chosen here).
    """
    previous = pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(ARC_STEP_DEGREES)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if options.get("use_arrow") or not _may_curve(path, layer):
                try:
                    return pyogrio.read_dataframe(path, layer=layer, **options), ""
                except NotImplementedError:  # shapely met a curve in GDAL's WKB
                    pass
            curved = _curved(path, layer)
            # GDAL linearises curves when it hands each feature over itself (not through Arrow)
            gdf = pyogrio.read_dataframe(path, layer=layer, **{**options, "use_arrow": False,
                                                               "on_invalid": "ignore"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": previous})
    if not curved.any():
        return gdf, ""
    failed = curved & gdf.geometry.isna().to_numpy()
    if failed.any():
        problem = pd.Series(None, index=gdf.index, dtype=object)
        problem[failed] = "a curved geometry GDAL could not turn into segments"
        gdf["source_problem"] = problem
    n = int(curved.sum())
    return gdf, (f"{where}: {n} curved feature(s) linearised, arcs approximated by a segment "
                 f"every {ARC_STEP_DEGREES:g} degree (within {_sagitta_share():.4%} of the "
                 "radius)")


def _sagitta_share() -> float:
    """How far a chord departs from its arc, as a share of the radius."""
    return 1 - float(np.cos(np.radians(ARC_STEP_DEGREES / 2)))


def read_layers(path: str | Path, *, ahead: bool = False) -> RawLayers:
    """Read every role layer present in the GeoPackage at ``path``.

    Parameters
    ----------
    path : a GeoPackage (or any single-file vector format pyogrio reads) whose layers are named
        by role (``estates``, ``buildings``, ``bus_stops`` ...).
    ahead : return at once, the role layers being read one after another in a thread of their
        own (:class:`ArrivingLayers`): each is waited for when first looked up, so that the
        layers read first are worked on while the others are read. A layer that cannot be read
        raises its error where it is looked up; ``notes`` is complete once every layer has
        been looked up.

    Returns
    -------
    RawLayers
        The role layers in their own CRS, with the GeoPackage fid kept in column ``_fid``.
    """
    p = vet(path).path
    ignored: dict[str, int] = {}
    notes: list[str] = []
    sources = pd.DataFrame()
    try:
        names = [str(name) for name, _geom_type in pyogrio.list_layers(p)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{p}: cannot be opened as a GeoPackage or vector file ({exc})") from None
    roles = []
    for name in names:
        if name == SOURCES_TABLE:
            sources = pd.DataFrame(pyogrio.read_dataframe(p, layer=name, read_geometry=False))
        elif name not in ROLES:  # counted for the note only (opening a layer takes a while)
            ignored[name] = int(pyogrio.read_info(p, layer=name)["features"])
        else:
            roles.append(name)
    if "estates" not in roles:
        raise InputError(f"{p}: no layer named 'estates' (layers found: "
                         f"{', '.join(sorted(set(roles) | set(ignored))) or 'none'}); for your "
                         "own files write a project .toml naming each role's file, or convert "
                         "them with geocheck import file|dxf|osm")

    def read(name: str) -> gpd.GeoDataFrame:
        try:
            gdf, note = read_vector(p, name, f"layer {name!r}", fid_as_index=True,
                                    use_arrow=True)
        except Exception as exc:  # pyogrio/GEOS raise several types for a broken layer
            raise InputError(f"{p}: layer {name!r} cannot be read ({exc})") from None
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{p}: layer {name!r} has no geometry column")
        gdf.index.name = None
        gdf["_fid"] = gdf.index.astype("int64")
        notes.extend([note] if note else [])
        return gdf.reset_index(drop=True)

    layers: Mapping[str, gpd.GeoDataFrame] = (
        ArrivingLayers(read, roles) if ahead else {name: read(name) for name in roles})
    return RawLayers(p, layers, ignored, sources, notes=notes)


class ArrivingLayers(Mapping[str, gpd.GeoDataFrame]):
    """Layers read one after another, in the order named, by a thread of their own; looking
    one up waits for it (and raises its reading error). :meth:`close` drops what is not yet
    being read and ends the thread."""

    def __init__(self, read: Callable[[str], gpd.GeoDataFrame], names: list[str]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geocheck-read")
        self._futures = {name: self._pool.submit(read, name) for name in names}

    def __getitem__(self, name: str) -> gpd.GeoDataFrame:
        return self._futures[name].result()

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)

    def close(self, wait: bool = True) -> None:
        """Cancel the reads not yet started (after an error elsewhere, say) and end the
        thread; ``wait`` for it to end (with the read under way, if any), so that no thread
        of it is left when the run forks its processes."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
