"""The role layers geocheck reads, their geometry kinds and their fields.

A GeoPackage given to ``geocheck check`` holds one layer per role, named by the role. Field names
are the defaults below; other names (for example Chinese ones such as ``户数``) are mapped onto
them with :class:`FieldMap`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InputError

POINT = "point"
LINE = "line"
POLYGON = "polygon"

ENTRANCE_SNAP_M = 20.0
"""An entrance without ``estate_id`` belongs to the nearest estate within this many metres."""


@dataclass(frozen=True)
class Role:
    """One kind of layer geocheck understands.

    Attributes
    ----------
    name : layer name in the GeoPackage, e.g. ``"bus_stops"``.
    geometry : geometry kinds accepted (``"point"``, ``"line"``, ``"polygon"``); multi-parts are
        accepted.
    id_field : field holding the feature id; features without one are named ``fid:N``.
    fields : the fields geocheck reads from this layer (after mapping).
    label_en, label_zh : how the role is named in reports and maps (English: plural).
    one_en : one feature of the role in English ("bus stop"), for sentences.
    """

    name: str
    geometry: frozenset[str]
    id_field: str
    fields: tuple[str, ...]
    label_en: str
    label_zh: str
    one_en: str


def _role(name: str, kinds: Iterable[str], id_field: str, fields: tuple[str, ...],
          en: str, zh: str, one: str | None = None) -> Role:
    return Role(name, frozenset(kinds), id_field, fields, en, zh, one or en.removesuffix("s"))


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        _role("estates", [POLYGON], "estate_id",
              ("estate_id", "name", "households", "built", "target_year"), "estates", "小区"),
        _role("buildings", [POLYGON], "building_id",
              ("building_id", "use", "estate_id", "floors", "height"),
              "buildings", "建筑"),
        _role("entrances", [POINT], "entrance_id", ("entrance_id", "estate_id"),
              "estate entrances", "小区出入口"),
        _role("bus_stops", [POINT], "id", ("id", "name"), "bus stops", "公交站点"),
        _role("rail_stations", [POINT], "id", ("id", "name"), "rail stations", "轨道交通站点"),
        _role("garbage_points", [POINT, POLYGON], "id", ("id", "name"),
              "garbage collection points", "垃圾收集点"),
        _role("kindergartens", [POINT, POLYGON], "id", ("id", "name"), "kindergartens", "幼儿园"),
        _role("schools", [POINT, POLYGON], "id", ("id", "name"), "schools", "学校"),
        _role("green_space", [POLYGON], "id", ("id", "name"), "green space", "绿地"),
        _role("clinics", [POINT, POLYGON], "id", ("id", "name"), "clinics", "医疗卫生设施"),
        _role("paths", [LINE], "id", ("id", "name", "kind"), "walking paths", "步行路径"),
    )
}
"""Every role by layer name. ``paths`` are lines people can walk along (footways, steps,
pedestrian and ordinary streets, road centrelines; ``kind`` is the road class, e.g. OSM's
``highway`` value); they are not linked to estates. ``clinics`` are community health stations,
clinics and hospitals, as points or outlines."""

BUILT_VALUES: dict[str, str] = {
    "new": "new",
    "existing": "existing",
    "新建": "new",
    "已建": "existing",
    "已建成": "existing",
    "既有": "existing",
}
"""Accepted spellings of the estates' ``built`` field, mapped to ``new`` / ``existing``."""

FIELD_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("estates", "target_year"): ("创建年份", "目标年份"),
    ("buildings", "floors"): ("层数", "cad_text"),
    ("buildings", "height"): ("高度", "建筑高度"),
}
"""Other names a field is read from when the layer lacks the default name and no mapping
names a source: (layer, field) -> names, tried in order."""

TARGET_YEARS = (2000, 2100)
"""The years (inclusive) an estate's ``target_year`` or a campaign target may name."""

RESIDENTIAL_VALUES = frozenset({"residential", "住宅", "居住"})
"""Values of the buildings' ``use`` field that mean residential (a missing value does too)."""


class FieldMap:
    """Maps geocheck's field names onto the names used in the user's layers.

    Parameters
    ----------
    pairs : strings ``FIELD=SOURCE`` (every layer) or ``LAYER.FIELD=SOURCE`` (one layer),
        e.g. ``"households=户数"`` or ``"estates.name=小区名称"``.

    Examples
    --------
    >>> FieldMap(["households=户数"]).source("estates", "households")
    '户数'
    """

    def __init__(self, pairs: Iterable[str] = ()) -> None:
        self._map: dict[tuple[str | None, str], str] = {}
        for pair in pairs:
            target, sep, source = pair.partition("=")
            target, source = target.strip(), source.strip()
            if not sep or not target or not source:
                raise InputError(f"field mapping {pair!r} is not of the form FIELD=SOURCE "
                                 "or LAYER.FIELD=SOURCE")
            layer, dot, field = target.rpartition(".")
            if dot and layer not in ROLES:
                raise InputError(f"field mapping {pair!r} names unknown layer {layer!r}; "
                                 f"layers are: {', '.join(ROLES)}")
            known = {f for r in ROLES.values() for f in r.fields}
            if field not in known:
                raise InputError(f"field mapping {pair!r} names unknown field {field!r}; "
                                 f"fields are: {', '.join(sorted(known))}")
            self._map[(layer or None, field)] = source

    def source(self, layer: str, field: str) -> str:
        """Return the user's name for ``field`` in ``layer`` (the default name when unmapped)."""
        return self._map.get((layer, field), self._map.get((None, field), field))

    def __bool__(self) -> bool:
        return bool(self._map)
