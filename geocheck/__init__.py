"""geocheck: audit residential estates against Chinese planning-compliance standards.

The flow is read -> normalise -> measure -> judge -> findings -> views::

    import geocheck
    result = geocheck.check("layers/nanning_sample.gpkg", pack="guangxi")
    result.findings          # one row per estate x rule
    geocheck.write_outputs(result, "out/")
"""

from __future__ import annotations

from pathlib import Path

from pyproj import CRS

from ._errors import CRSError, GeocheckError, InputError, PackError
from .findings import Result, judge
from .normalise import Site, normalise
from .packs import Pack, load_pack, shipped_packs
from .read import read_layers
from .schema import FieldMap

__all__ = [
    "CRSError",
    "FieldMap",
    "GeocheckError",
    "InputError",
    "Pack",
    "PackError",
    "Result",
    "Site",
    "check",
    "judge",
    "load_pack",
    "normalise",
    "read_layers",
    "shipped_packs",
    "write_outputs",
]
__version__ = "0.1.0"


def check(path: str | Path, *, pack: str | Path | Pack = "guangxi",
          fields: FieldMap | list[str] | None = None,
          dst_crs: CRS | str | int | None = None) -> Result:
    """Read a GeoPackage of role layers and judge every estate against a rule pack.

    Parameters
    ----------
    path : GeoPackage with layers named by role (``estates`` required).
    pack : shipped pack id (``guangxi``, ``nanhai``), a pack file path, or a loaded Pack.
    fields : field-name mapping, e.g. ``["households=户数"]``.
    dst_crs : working CRS (projected, metres); by default the CGCS2000 3-degree Gauss-Kruger
        zone of the estates in China, else their UTM zone.

    Returns
    -------
    Result
        Findings (one row per estate x rule), evidence geometries and the normalised site.
    """
    if not isinstance(pack, Pack):
        pack = load_pack(pack)
    if not isinstance(fields, FieldMap):
        fields = FieldMap(fields or [])
    site = normalise(read_layers(path), fields=fields, dst_crs=dst_crs)
    return judge(site, pack)


def write_outputs(result: Result, outdir: str | Path) -> dict[str, Path]:
    """Write findings.csv, rejects.csv, results.gpkg and map.html into ``outdir``."""
    from .export import write_all

    return write_all(result, Path(outdir))
