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

from .core.errors import CRSError, GeocheckError, InputError, PackError
from .core.roles import FieldMap
from .core.site import Site
from .core.status import Status
from .core.version import VERSION
from .inputs.normalise import normalise
from .inputs.read import read_layers
from .pipeline import check, write_outputs
from .rules.judge import judge
from .rules.packs.load import load_pack, shipped_packs
from .rules.packs.model import Pack
from .rules.result import Result

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
