"""Judge a site against a pack: the long, tidy findings table (one row per estate x rule).

Everything else (scorecards, maps, exports) is a view of :class:`Result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .checks import CHECKS, EVIDENCE_COLUMNS, Context
from .core.progress import QUIET, Progress
from .core.roles import ROLES
from .core.site import Site
from .core.status import (
    FAIL,
    NO_DATA,
    NOT_APPLICABLE,
    PASS,
    overall_status,
)
from .core.units import VALUE_DECIMALS
from .packs import Pack, Rule

FINDINGS_COLUMNS = [
    "estate_id", "estate_name", "pack", "rule_id", "standard_id", "requirement_id", "title_zh",
    "title_en", "status", "value", "unit", "threshold", "method", "evidence", "citation",
]


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
    """

    site: Site
    pack: Pack
    findings: pd.DataFrame
    evidence: gpd.GeoDataFrame
    views: dict[str, object] = field(default_factory=dict, repr=False)
    """Views computed once from the findings (see :mod:`geocheck.scorecard`)."""

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
                              columns=[PASS, FAIL, NOT_APPLICABLE, NO_DATA], fill_value=0)
        return table.fillna(0).astype(int)

    @property
    def exit_code(self) -> int:
        """0 when every finding passes or is not applicable, 1 otherwise (fail or no data)."""
        return 0 if self.findings["status"].isin([PASS, NOT_APPLICABLE]).all() else 1


def roles_of(rule: Rule) -> set[str]:
    """The layers a rule reads: those named in its parameters, plus estates, entrances and
    buildings (which every rule may measure from)."""
    roles = {"estates", "entrances", "buildings"}
    for value in rule.params.values():
        items = value if isinstance(value, list | tuple | dict) else [value]
        roles.update(str(v) for v in items if str(v) in ROLES)
    return roles


def judge(site: Site, pack: Pack, progress: Progress = QUIET) -> Result:
    """Apply every rule of ``pack`` to every estate of ``site``.

    Returns
    -------
    Result
        Findings for every estate x rule (none is skipped: a rule that cannot be measured for
        an estate is ``no_data`` with the reason in ``evidence``).
    """
    ctx = Context(site, pack)
    est = site.estates
    crs_note = f"measured in {site.crs.to_string()} ({site.crs.name}), metres"
    tables, evidence = [], []
    for k, rule in enumerate(pack.rules):
        progress.step(k, len(pack.rules))
        outcome = CHECKS[rule.check].func(ctx, rule)
        t = outcome.table
        t.insert(0, "rule_id", rule.id)
        t.insert(0, "estate_pos", np.arange(len(est)))
        t["standard_id"], t["requirement_id"] = rule.standard, rule.requirement
        t["title_zh"], t["title_en"], t["citation"] = rule.title_zh, rule.title_en, rule.citation
        note = crs_note + "".join(f"; {role} coordinates converted {conv} on import"
                                  for role, conv in site.conversions.items()
                                  if role in roles_of(rule))
        t["method"] = np.where(t["method"] != "", t["method"] + "; " + note, note)
        t["value"] = t["value"].astype(float).round(VALUE_DECIMALS[t["unit"].iloc[0]])
        tables.append(t)
        evidence.extend(e for e in outcome.evidence if len(e))
    table = pd.concat(tables, ignore_index=True)
    table["estate_id"] = est["estate_id"].to_numpy()[table["estate_pos"]]
    table["estate_name"] = est["name"].to_numpy()[table["estate_pos"]]
    table["pack"] = pack.id
    table = table.sort_values(["estate_pos"], kind="stable").reset_index(drop=True)
    if evidence:
        ev = pd.concat(evidence, ignore_index=True)
    else:
        ev = gpd.GeoDataFrame(columns=[*EVIDENCE_COLUMNS, "geometry"], geometry="geometry",
                              crs=site.crs)
    ev["estate_id"] = est["estate_id"].to_numpy()[ev["estate_pos"].astype(int)]
    ev = gpd.GeoDataFrame(ev.drop(columns="estate_pos"), geometry="geometry", crs=site.crs)
    return Result(site, pack, table[FINDINGS_COLUMNS], ev)
