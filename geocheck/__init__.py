"""geocheck: audit residential estates against Chinese planning-compliance standards.

The flow is read -> normalise -> judge -> views::

    import geocheck
    result = geocheck.check("layers/nanning_sample.gpkg", pack="guangxi")
    result.findings          # one row per estate x rule
    result.declaration       # compliance and eligibility per estate (Guangxi)
    geocheck.write_outputs(result, "out/")

The house has three wings and a shared vocabulary: :mod:`geocheck.inputs` (users' files into
role layers), :mod:`geocheck.rules` (packs, checks, findings), :mod:`geocheck.views` (maps,
reports, exports), and :mod:`geocheck.core`; :mod:`geocheck.pipeline` runs them in order. This
module only names the public API.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.version import VERSION
from .inputs import gdal_guard as _gdal_guard  # noqa: F401 - seals GDAL off the network

_PUBLIC = {
    "CRSError": "core.errors", "GeocheckError": "core.errors", "InputError": "core.errors",
    "PackError": "core.errors", "FieldMap": "core.roles", "Site": "core.site",
    "Status": "core.status", "normalise": "inputs.normalise", "read_layers": "inputs.read",
    "check": "pipeline", "write_outputs": "write", "judge": "rules.judge",
    "load_pack": "rules.packs.load", "shipped_packs": "rules.packs.load",
    "Pack": "rules.packs.model", "Result": "rules.result",
}
"""Where each public name lives: imported on first use, so that ``import geocheck.cli`` (and
``geocheck check --help``) does not load geopandas, the rules and the views up front."""

_SUBMODULES = {"core", "inputs", "rules", "views", "pipeline", "write", "outdir"}
"""Subpackages and modules reachable as attributes of ``geocheck`` without importing them."""
_LOADED_BEFORE = ("pipeline", "views.charts", "views.excel", "views.qgis_styles", "views.report",
                  "views.static_map", "views.style", "views.tables", "views.webmap")
"""What ``import geocheck`` loaded when it imported the pipeline and every view up front, so
that ``geocheck.views.style`` ... still resolve after a plain ``import geocheck``."""

if TYPE_CHECKING:
    from .core.errors import CRSError, GeocheckError, InputError, PackError
    from .core.roles import FieldMap
    from .core.site import Site
    from .core.status import Status
    from .inputs.normalise import normalise
    from .inputs.read import read_layers
    from .pipeline import check
    from .rules.judge import judge
    from .rules.packs.load import load_pack, shipped_packs
    from .rules.packs.model import Pack
    from .rules.result import Result
    from .write import write_outputs


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (PEP 562); a subpackage or module
    (``geocheck.pipeline``, ``geocheck.views``), imported as it was when this module imported
    the pipeline up front."""
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    elif name in _SUBMODULES:
        for module in _LOADED_BEFORE:  # as loaded when this module imported them up front
            import_module(f".{module}", __name__)
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'geocheck' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names with the public ones not imported yet."""
    return sorted({*globals(), *_PUBLIC})


__all__ = [
    "CRSError",
    "FieldMap",
    "GeocheckError",
    "InputError",
    "Pack",
    "PackError",
    "Result",
    "Site",
    "Status",
    "check",
    "judge",
    "load_pack",
    "normalise",
    "read_layers",
    "shipped_packs",
    "write_outputs",
]
__version__ = VERSION
