"""The site: the normalised role layers of one input, in one working CRS (metres).

It is what the inputs wing hands to the rules wing: every layer read, checked and reprojected,
each feature linked to its estate, with the ledger of what was read and rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from .ledger import Ledger


@dataclass
class Site:
    """The normalised layers of one input, in one working CRS (metres).

    Attributes
    ----------
    estates : estates with ``estate_id``, ``name``, ``households`` (nullable Int64), ``built``
        (``new`` / ``existing`` / missing), ``target_year`` (nullable Int64: the year the
        estate is scheduled to be created in its campaign; read from ``target_year``,
        ``创建年份`` or ``目标年份``), ``households_estimated`` (bool: an estimate from floor
        area, not a record); index 0..n-1.
    layers : the other role layers present, each with ``feature_id`` and ``name``; buildings
        have ``use``, ``residential`` and ``estate_pos``; entrances have ``estate_pos``
        (position of their estate in ``estates``, -1 for none).
    crs : the working CRS.
    source : the file read.
    ledger : features read and rejected, and notes.
    conversions : role -> coordinate conversion applied on import (e.g. GCJ-02 -> WGS 84).
    attributes : record-based indicators per estate from the attributes sheet (see
        :mod:`geocheck.inputs.attributes`), indexed by estate position, one float column per
        attribute key (percentages as ratios, yes/no as 1/0, blank as NaN) and ``in_sheet``;
        None when no sheet was given.
    attributes_source : the sheet read, for messages.
    attributes_no_data : why a cell that is not blank is still no data (e.g. ``formula
        without a computed value``), like ``attributes`` by estate position and attribute key,
        '' where there is no such reason; None when there is none at all.
    """

    estates: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    crs: CRS
    source: Path
    ledger: Ledger = field(default_factory=Ledger)
    conversions: dict[str, str] = field(default_factory=dict)
    attributes: pd.DataFrame | None = None
    attributes_source: str = ""
    attributes_no_data: pd.DataFrame | None = None

    def layer(self, role: str) -> gpd.GeoDataFrame | None:
        """Return the normalised layer for ``role``, or None when the input has none."""
        return self.estates if role == "estates" else self.layers.get(role)
