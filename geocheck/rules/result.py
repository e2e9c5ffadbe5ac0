"""The result of a check: the findings table, the evidence, and the views computed from them.

:class:`Result` holds one row per estate x rule (:data:`FINDINGS_COLUMNS`) and the evidence
geometries; its scorecard, declaration, scores and campaign progress are computed on first use
and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from ..core.site import Site
from ..core.status import COUNT_ORDER, NOT_APPLICABLE, PASS, SEVERITY, overall_status
from .campaign import progress_table
from .catchments import CATCHMENT_COLUMNS, catchment_bands, walk_catchments
from .declaration import declaration_table
from .life_circles import life_circle_table
from .network import Network, build_network
from .packs.model import Pack
from .proposals import PROPOSE_MAX, Proposals, propose
from .scorecard import scorecard_table
from .scores import scores_table

FINDINGS_COLUMNS = [
    "estate_id", "estate_name", "pack", "rule_id", "standard_id", "requirement_id", "title_zh",
    "title_en", "status", "value", "unit", "walk_m", "threshold", "method", "evidence",
    "remedy", "citation",
]
"""The findings' columns. ``walk_m``: for a distance rule, the walking distance in metres
along the paths layer from the same origin to the nearest facility of the kind that decided
it (NaN without a paths layer, without a route within the search limit, or for any other
rule). ``remedy``: for a failing finding, what would make it pass, computed from its
measures (see :mod:`geocheck.rules.remedies`); blank otherwise."""


@dataclass
class Result:
    """The outcome of a check.

    Attributes
    ----------
    site : the normalised input (layers in the working CRS, ledger).
    pack : the rule pack applied.
    findings : one row per estate x rule, columns :data:`FINDINGS_COLUMNS`.
    evidence : evidence geometries in the working CRS, with ``layer``, ``estate_id``,
        ``rule_id``, ``label``, ``distance_m``, ``decisive``.
    network : the walking network of the paths layer (None without one; built when first
        needed for a site judged in pieces).
    proposals_max : the most estates garbage points are proposed for (None: every failing
        one; see :func:`geocheck.rules.proposals.propose`).
    """

    site: Site
    pack: Pack
    findings: pd.DataFrame
    evidence: gpd.GeoDataFrame
    network: Network | None = field(default=None, repr=False)
    proposals_max: int | None = field(default=PROPOSE_MAX, repr=False)

    def matrix(self, column: str = "status") -> np.ndarray:
        """A findings column as an (estates x rules) array, estates in site order and rules in
        pack order (the findings are stored in that order)."""
        n, r = len(self.site.estates), len(self.pack.rules)
        return self.findings[column].to_numpy().reshape(n, r)

    def overall(self) -> pd.Series:
        """Each estate's overall status, indexed by estate_id.

        ``fail`` if any rule fails; else ``no_data`` if any rule lacks data; else ``pass`` if any
        rule passes; else ``not_applicable``.
        """
        return overall_status(self.findings)

    def status_counts(self) -> pd.DataFrame:
        """Counts of each status per rule (rules in pack order)."""
        table = pd.crosstab(self.findings["rule_id"], self.findings["status"])
        table = table.reindex(index=[r.id for r in self.pack.rules],
                              columns=[s.value for s in COUNT_ORDER], fill_value=0)
        return table.fillna(0).astype(int)

    @property
    def exit_code(self) -> int:
        """0 when every finding passes or is not applicable, 1 otherwise (fail or no data)."""
        return 0 if self.findings["status"].isin([PASS, NOT_APPLICABLE]).all() else 1

    @cached_property
    def severity(self) -> np.ndarray:
        """(estates x rules) severity of each finding's status (see
        :data:`geocheck.core.status.SEVERITY`: not applicable 0, pass 1, no data 2, fail 3)."""
        status = self.matrix("status")
        out = np.zeros(status.shape, dtype=np.int8)
        for name, value in SEVERITY.items():
            out[status == name] = value
        return out

    @cached_property
    def walk_catchments(self) -> gpd.GeoDataFrame:
        """The walking catchment of each facility layer present, in bands at the pack's
        thresholds (see :func:`geocheck.rules.catchments.walk_catchments`): columns ``role``,
        ``band_m``, geometry in the working CRS; empty without a paths layer."""
        bands = catchment_bands(self.pack)
        layers = {role: self.site.layer(role).geometry.to_numpy() for role in bands
                  if self.site.layer(role) is not None}
        paths = self.site.layer("paths")
        if self.network is None and paths is not None:  # judged in pieces: built once here
            self.network = build_network(paths.geometry.to_numpy())
        if self.network is None or not layers:
            return gpd.GeoDataFrame(columns=CATCHMENT_COLUMNS, geometry="geometry",
                                    crs=self.site.crs)
        return walk_catchments(self.network, layers, bands, self.site.crs)

    @cached_property
    def proposals(self) -> Proposals:
        """Proposed garbage points for the estates failing the pack's garbage radius or setback
        rule (see :func:`geocheck.rules.proposals.propose`); empty when none fails or the pack
        has no such rule (:attr:`Proposals.applies`)."""
        return propose(self.site, self.pack, self.proposals_max)

    @cached_property
    def scorecard(self) -> pd.DataFrame | None:
        """Every standard's status for every estate, or None when the pack has no standards
        (see :func:`geocheck.rules.scorecard.scorecard_table`)."""
        return scorecard_table(self.pack, self.site.estates, self.severity)

    @cached_property
    def declaration(self) -> pd.DataFrame | None:
        """Compliance rate and eligibility per estate, or None when the pack has no
        ``[declaration]`` (see :func:`geocheck.rules.declaration.declaration_table`)."""
        return declaration_table(self.pack, self.site.estates, self.severity)

    @cached_property
    def scores(self) -> pd.DataFrame | None:
        """Points, total and stars per estate, or None when the pack has no ``[scoring]``
        (see :func:`geocheck.rules.scores.scores_table`)."""
        return scores_table(self.pack, self.site.estates, self.findings, self.site.attributes)

    @cached_property
    def life_circles(self) -> pd.DataFrame | None:
        """The whole area's share within each ``life_circle`` rule, or None when the pack has
        none (see :func:`geocheck.rules.life_circles.life_circle_table`)."""
        return life_circle_table(self.pack, self.site, self.matrix("status"),
                                 self.matrix("value"))

    @cached_property
    def progress(self) -> pd.DataFrame | None:
        """Campaign progress by year, or None when the pack has no ``[campaign]`` or no estate
        has a target year (see :func:`geocheck.rules.campaign.progress_table`).

        An estate passes when it is eligible to declare, for a pack with a ``[declaration]``
        (Guangxi); otherwise when its overall status is ``pass``. This is the state of the data
        now, not a record of when an estate was created.
        """
        estates = self.site.estates
        if self.pack.campaign is None or "target_year" not in estates \
                or estates["target_year"].isna().all():
            return None  # what progress_table answers, without the declaration made first
        if self.declaration is not None:
            passes, basis = self.declaration["eligible"].to_numpy(dtype=bool), "declaration"
        else:
            overall = self.overall().reindex(self.site.estates["estate_id"].to_numpy())
            passes, basis = (overall == PASS).to_numpy(dtype=bool), "overall"
        return progress_table(self.pack.campaign, self.site.estates, passes, basis)
