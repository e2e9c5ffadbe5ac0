"""What every check works with: the Context it measures in and the Outcome it returns.

A check is a function ``(Context, Rule) -> Outcome`` declared with :func:`check`, which names it
and gives the kinds of its parameters; a pack's rule names the check and gives the parameters.
Thresholds are inclusive as written: "within 500 m" passes at 500 m, ">= 5 m" passes at 5 m.
Distances are judged to the millimetre and ratios to the millionth (:mod:`geocheck.core.units`),
so that reprojection noise cannot flip a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.errors import PackError
from ..core.indicators import Attribute
from ..core.site import Site
from ..core.units import WALK
from .measure import (
    ENTRANCES,
    INSIDE,
    estate_origins,
    features_in_estates,
    green_area,
    nearest_facility,
    nearest_feature_distance,
)
from .network import Network, build_network
from .packs.model import Pack, Rule
from .walking import LIMIT_RATIO, Walked, walk_from

REQUIRED = object()
"""A parameter default meaning: the rule must give this parameter."""

OUTCOME_COLUMNS = ["status", "value", "unit", "threshold", "method", "evidence"]
"""The columns of a check's table, one row per estate; a distance rule's table also has
``walk_m`` (metres on foot, NaN or inf for none)."""

EVIDENCE_COLUMNS = ["layer", "estate_pos", "rule_id", "label", "distance_m", "limit_m",
                    "decisive"]
"""The columns of an evidence frame (besides the geometry); ``limit_m`` is the threshold in
metres the distance was judged against, so that a view can write the distance so that it
never reads as the other verdict (:func:`geocheck.core.units.metres`)."""


@dataclass
class Outcome:
    """What a check returns for every estate.

    Attributes
    ----------
    table : indexed by estate position, columns :data:`OUTCOME_COLUMNS`.
    evidence : geometries that decided verdicts (lines to facilities, uncovered buildings, ...),
        columns :data:`EVIDENCE_COLUMNS` plus geometry; ``layer`` names the output layer.
    """

    table: pd.DataFrame
    evidence: list[gpd.GeoDataFrame] = field(default_factory=list)


class Context:
    """A normalised site plus measures shared between checks (computed once, on demand).

    Parameters
    ----------
    distance : how distance rules are read, ``"radius"`` or ``"walk"`` (default: the pack's).
    reach : per facility layer, the largest threshold (metres) of the rules walking to it;
        walks to it are searched up to :data:`~geocheck.rules.walking.LIMIT_RATIO` times that.
    """

    def __init__(self, site: Site, pack: Pack, distance: str | None = None,
                 reach: dict[str, float] | None = None) -> None:
        self.site = site
        self.pack = pack
        self.estates = site.estates
        self.distance = distance or pack.distance
        self.reach = dict(reach or {})
        self._nearest: dict[str, pd.DataFrame] = {}
        self._from_residential: dict[str, pd.DataFrame] = {}
        self._walks: dict[tuple[str, str, float], Walked] = {}
        self._memo: dict[tuple[str, str], Any] = {}

    @property
    def walking(self) -> bool:
        """Whether distance rules are judged by walking distance (``--distance walk``)."""
        return self.distance == WALK

    @cached_property
    def network(self) -> Network | None:
        """The walking network built from the ``paths`` layer, or None without one."""
        paths = self.layer("paths")
        return None if paths is None else build_network(paths.geometry.to_numpy())

    def walk(self, role: str, origin: str, reach_m: float) -> Walked | None:
        """The walk to the nearest feature of ``role``: from each estate's entrances, else its
        polygon (``origin`` :data:`ORIGINS`; a feature inside the estate is at 0 m), or from
        each of :attr:`residential` (:data:`RESIDENTIAL`). None without a paths layer, the
        layer, or (for buildings) residential buildings.

        Searched up to :data:`~geocheck.rules.walking.LIMIT_RATIO` times the largest of
        ``reach_m`` and :attr:`reach` for the layer, metres; computed once and shared.
        """
        res = self.residential if origin == RESIDENTIAL else self.estates
        if self.network is None or self.layer(role) is None or res is None:
            return None
        limit = LIMIT_RATIO * max(self.reach.get(role, 0.0), reach_m)
        key = (role, origin, limit)
        if key not in self._walks:
            facilities = self.layer(role).geometry.to_numpy()
            if origin == RESIDENTIAL:
                self._walks[key] = walk_from(self.network, res.geometry.to_numpy(), facilities,
                                             limit_m=limit)
            else:
                near = self.nearest(role)
                inside = np.where(near["method"].to_numpy() == INSIDE,
                                  near["facility_pos"].to_numpy(), -1)
                self._walks[key] = walk_from(self.network, self.origins[0], facilities,
                                             limit_m=limit, inside_pos=inside)
        return self._walks[key]

    @cached_property
    def origins(self) -> tuple[np.ndarray, np.ndarray]:
        """Per estate: geometry distances are measured from, and ``entrances``/``boundary``."""
        return estate_origins(self.estates, self.site.layer("entrances"))

    @cached_property
    def anchors(self) -> np.ndarray:
        """Per estate, where an evidence line to a facility inside it starts: the entrances,
        else a point on the estate's surface."""
        geoms, method = self.origins
        return np.where(method == ENTRANCES, geoms,
                        shapely.point_on_surface(self.estates.geometry.to_numpy()))

    def layer(self, role: str) -> gpd.GeoDataFrame | None:
        """The normalised layer, or None when the input has none."""
        return self.site.layer(role)

    def nearest(self, role: str) -> pd.DataFrame | None:
        """Nearest feature of ``role`` to each estate (see :func:`measure.nearest_facility`)."""
        if self.layer(role) is None:
            return None
        if role not in self._nearest:
            geoms, method = self.origins
            self._nearest[role] = nearest_facility(self.estates, geoms, method, self.layer(role))
        return self._nearest[role]

    def nearest_to_residential(self, role: str) -> pd.DataFrame:
        """Nearest feature of ``role`` to each of :attr:`residential` (see
        :func:`measure.nearest_feature_distance`); call only when both layers exist."""
        if role not in self._from_residential:
            self._from_residential[role] = nearest_feature_distance(self.residential,
                                                                    self.layer(role))
        return self._from_residential[role]

    def _once(self, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def inside(self, role: str) -> pd.DataFrame:
        """The features of ``role`` inside each estate (see
        :func:`measure.features_in_estates`), computed once for the rules and their remedies;
        call only when the layer exists. Read only."""
        return self._once(("inside", role),
                          lambda: features_in_estates(self.estates, self.layer(role)))

    def nearest_building(self, role: str) -> pd.DataFrame:
        """Nearest building (metres) to each feature of ``role`` inside an estate (see
        :func:`measure.nearest_feature_distance`; NaN and -1 for the features outside every
        estate, which no rule asks about: a piece of a province holds every facility of the
        province), computed once; call only when both layers exist. Read only."""
        def compute() -> pd.DataFrame:
            feats = self.layer(role)
            inside = np.unique(self.inside(role)["feature_pos"].to_numpy())
            near = nearest_feature_distance(feats.iloc[inside], self.layer("buildings"))
            out = pd.DataFrame({"distance_m": np.full(len(feats), np.nan),
                                "target_pos": np.full(len(feats), -1)})
            out.loc[inside, "distance_m"] = near["distance_m"].to_numpy()
            out.loc[inside, "target_pos"] = near["target_pos"].to_numpy()
            return out
        return self._once(("nearest_building", role), compute)

    def area_in_estates(self, role: str) -> pd.Series:
        """Per estate, the area (m2) of the union of the polygons of ``role`` clipped to it
        (see :func:`measure.green_area`), computed once; call only when the layer exists."""
        return self._once(("area", role), lambda: green_area(self.estates, self.layer(role)))

    @cached_property
    def residential(self) -> gpd.GeoDataFrame | None:
        """Residential buildings that belong to an estate."""
        b = self.layer("buildings")
        if b is None:
            return None
        return b[b["residential"].to_numpy() & (b["estate_pos"].to_numpy() >= 0)]

    def label(self, role: str, pos: np.ndarray) -> np.ndarray:
        """'id name' labels of features of ``role`` at positions ``pos`` ('' for -1)."""
        gdf = self.layer(role)
        out = np.full(len(pos), "", dtype=object)
        ok = pos >= 0
        if gdf is None or not ok.any():
            return out
        ids = gdf["feature_id"].to_numpy()[pos[ok]]
        names = (gdf["name"].to_numpy()[pos[ok]] if "name" in gdf.columns
                 else np.full(ok.sum(), None))
        out[ok] = [f"{i} {n}" if n else str(i) for i, n in zip(ids, names, strict=True)]
        return out


STRICT = "strict"
"""A missing feature of the layer could change the verdict either way (a building of the
estate, a green area in it): pass, fail and not applicable all become no data."""

ONLY_HELPS = "only_helps"
"""A missing feature of the layer could only help the estate (one more facility can only be
nearer, or one more inside): a pass stands, a fail becomes no data."""

ONLY_HURTS = "only_hurts"
"""A missing feature of the layer could only count against the estate (one more building can
only be nearer to its facilities): a fail stands, a pass becomes no data."""

ORIGINS = "origins"
"""Measure a reject's reach from the estate's entrances, else its boundary."""
ESTATE = "estate"
"""Measure a reject's reach from the estate's polygon."""
RESIDENTIAL = "residential"
"""Measure a reject's reach from the estate's residential buildings."""


@dataclass(frozen=True)
class LayerUse:
    """How a check reads one layer, so that a feature lost from it can be judged.

    Attributes
    ----------
    role : the layer read.
    effect : :data:`STRICT`, :data:`ONLY_HELPS` or :data:`ONLY_HURTS`: what a missing feature
        could do to a verdict.
    reach_m : None when the layer's features count for the estate they belong to (by their
        ``estate_id``, else by lying in or touching it, entrances within
        :data:`~geocheck.core.roles.ENTRANCE_SNAP_M`); a distance in metres when a feature
        counts for every estate within it, measured from ``origin``.
    origin : :data:`ORIGINS`, :data:`ESTATE` or :data:`RESIDENTIAL` (with ``reach_m``).
    """

    role: str
    effect: str
    reach_m: float | None = None
    origin: str = ESTATE


CheckFunc = Callable[[Context, Rule], Outcome]
Validator = Callable[[str, dict[str, Any], dict[str, Attribute]], None]
Uses = Callable[[Rule], tuple[LayerUse, ...]]
Walks = Callable[[Rule], tuple[str, dict[str, float]]]


def _no_validation(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    return None


def _no_layers(rule: Rule) -> tuple[LayerUse, ...]:
    return ()


@dataclass(frozen=True)
class CheckSpec:
    """A check as a pack names it: its name, function, parameters and what it reads.

    Attributes
    ----------
    name : the name rules give in ``check = "..."``.
    func : ``(Context, Rule) -> Outcome``, judging every estate.
    params : parameter name -> (kind, default); kinds as
        :func:`geocheck.rules.packs.parse.validate_param` reads them, default
        :data:`REQUIRED` when the rule must give it.
    summary : one line saying what the check judges.
    validate : ``(rule_id, params, attributes)``: checks the parameters together, with the
        pack's attributes by key, raising :class:`PackError` naming the rule.
    reads : ``"layers"`` (measured on the map) or ``"sheet"`` (read from the attributes
        sheet).
    uses : ``rule -> (LayerUse, ...)``: the layers a rule's verdict depends on and how a
        feature missing from each could change it (see :mod:`geocheck.rules.rejects`).
    walks : for a distance rule, ``rule -> (origin, {layer: threshold in metres})``: where
        its distances start (:data:`ORIGINS` or :data:`RESIDENTIAL`) and the facility layers
        it measures to; None for any other check. Such a rule gains ``walk_m`` and may be
        judged on foot (``--distance walk``).
    on_foot : judged on foot whatever the distance reading, whenever the paths and facility
        layers exist (a life circle defined by walking time).
    """

    name: str
    func: CheckFunc
    params: dict[str, tuple[str, Any]]
    summary: str
    validate: Validator = _no_validation
    reads: str = "layers"
    uses: Uses = _no_layers
    walks: Walks | None = None
    on_foot: bool = False

    def __call__(self, ctx: Context, rule: Rule) -> Outcome:
        """Judge every estate of ``ctx`` against ``rule``."""
        return self.func(ctx, rule)


def check(name: str, params: dict[str, tuple[str, Any]], summary: str,
          validate: Validator | None = None, *, reads: str = "layers", uses: Uses | None = None,
          walks: Walks | None = None, on_foot: bool = False
          ) -> Callable[[CheckFunc], CheckSpec]:
    """Declare a check function (decorator): the function becomes a :class:`CheckSpec`.

    Declaring registers nothing: :mod:`geocheck.rules.registry` lists every check a pack may
    name, in one place.
    """
    def declare(func: CheckFunc) -> CheckSpec:
        return CheckSpec(name, func, params, summary, validate or _no_validation, reads,
                         uses or _no_layers, walks, on_foot)
    return declare


def evidence_frame(layer: str, rule: Rule, estate_pos: np.ndarray, labels: Any,
                   dist: np.ndarray, geoms: np.ndarray, crs: Any, decisive: Any = True, *,
                   limit: float = np.nan) -> gpd.GeoDataFrame:
    """Evidence geometries for the output layer ``layer``, one row per geometry, with the
    estate positions they belong to, labels, distances in metres and the threshold in metres
    they were judged against (columns :data:`EVIDENCE_COLUMNS`)."""
    return gpd.GeoDataFrame({"layer": layer, "estate_pos": estate_pos, "rule_id": rule.id,
                             "label": labels, "distance_m": dist, "limit_m": float(limit),
                             "decisive": decisive},
                            geometry=list(geoms), crs=crs)


def worst_per_estate(est: np.ndarray, values: np.ndarray, n: int, *, largest: bool) -> np.ndarray:
    """Position (into ``values``) of each estate's largest or smallest value; -1 for none."""
    order = np.lexsort((-values if largest else values, est))
    first = order[np.unique(est[order], return_index=True)[1]]
    worst = np.full(n, -1)
    worst[est[first]] = first
    return worst


def layer_missing(role: str) -> str:
    """The no-data reason for a layer the input lacks."""
    return f"no data: layer {role} not provided"


def exactly_one(rid: str, params: dict[str, Any], name: str) -> None:
    """Refuse a rule that gives both or neither of ``name`` and ``name_by_built``."""
    if (params[name] is None) == (params[f"{name}_by_built"] is None):
        raise PackError(f"rule {rid}: give exactly one of {name} and {name}_by_built")

