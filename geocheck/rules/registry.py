"""Every check a pack may name, registered here and only here.

A check is declared where it is written (:func:`geocheck.rules.context.check`) and listed below;
nothing registers itself on import. A pack names a check by :attr:`CheckSpec.name`, and
:func:`geocheck.rules.packs.parse.parse_pack` refuses a rule naming one that is not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import circles, conditions, records, spatial
from .context import CheckSpec


def _registry(*specs: CheckSpec) -> Mapping[str, CheckSpec]:
    table: dict[str, CheckSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"two checks are named {spec.name!r}")
        table[spec.name] = spec
    return MappingProxyType(table)


CHECKS: Mapping[str, CheckSpec] = _registry(
    # measured on the map
    spatial.nearest_within,
    spatial.buildings_within,
    spatial.setback_from_buildings,
    spatial.facility_inside_by_households,
    spatial.green_ratio,
    spatial.green_patch,
    # on the map when the layers exist, else from the attributes sheet
    circles.walk_minutes,
    circles.life_circle,
    # a plot's planning conditions (规划条件), added to a pack by conditions.with_conditions
    conditions.plot_ratio,
    conditions.building_density,
    conditions.green_ratio,
    conditions.setback,
    conditions.height,
    # read from the attributes sheet
    records.attribute_yes,
    records.attribute_at_least,
    records.attribute_at_most,
    records.attribute_per_households,
    records.attribute_share,
    records.score_points,
    records.score_from_rate,
    records.households_per,
)
"""Check name -> its :class:`CheckSpec`, in the order listed above (read-only)."""

SCORE_CHECKS = records.SCORE_CHECKS
"""Checks whose value is points towards a pack's score (a pack's ``[scoring]`` parts)."""
