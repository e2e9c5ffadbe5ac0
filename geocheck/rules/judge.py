"""Judge a site against a pack: every rule for every estate, into the long, tidy findings table.

One row per estate x rule, none skipped: a rule that cannot be measured for an estate is
``no_data`` with the reason in ``evidence``. Everything else (scorecards, maps, exports) is a
view of the :class:`~geocheck.rules.result.Result`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ..core.progress import QUIET, Progress
from ..core.roles import ROLES
from ..core.site import Site
from ..core.units import DISTANCE_DECIMALS, VALUE_DECIMALS
from .context import EVIDENCE_COLUMNS, ONLY_HELPS, CheckSpec, Context, LayerUse
from .network import Network
from .packs.model import Pack, Rule
from .registry import CHECKS
from .rejects import Losses, apply_losses, attribute
from .remedies import add_score_remedies, remedy_of
from .result import FINDINGS_COLUMNS, Result


def roles_of(rule: Rule) -> set[str]:
    """The layers a rule reads: those named in its parameters, plus estates, entrances and
    buildings (which every rule may measure from)."""
    roles = {"estates", "entrances", "buildings"}
    for value in rule.params.values():
        items = value if isinstance(value, list | tuple | dict) else [value]
        roles.update(str(v) for v in items if str(v) in ROLES)
    return roles


def walk_reach(pack: Pack) -> dict[str, float]:
    """Per facility layer, the largest threshold (metres) of the pack's distance rules that
    measure to it (see :attr:`CheckSpec.walks`)."""
    reach: dict[str, float] = {}
    for rule in pack.rules:
        walks = CHECKS[rule.check].walks
        for role, metres in (walks(rule)[1] if walks else {}).items():
            reach[role] = max(reach.get(role, 0.0), metres)
    return reach


def walking_uses(ctx: Context, spec: CheckSpec, rule: Rule) -> tuple[LayerUse, ...]:
    """The layers a rule judged on foot also reads: the paths (a missing path could only make
    a walk shorter), and for a check always on foot its facility layers. None for a rule
    judged as the crow flies (the paths then only feed ``walk_m``)."""
    if spec.walks is None or ctx.layer("paths") is None or not (ctx.walking or spec.on_foot):
        return ()
    origin, reach = spec.walks(rule)
    present = {r: m for r, m in reach.items() if ctx.layer(r) is not None}
    if not present or (spec.on_foot and len(present) < len(reach)):
        return ()
    facilities = tuple(LayerUse(r, ONLY_HELPS, m, origin) for r, m in present.items()
                       if spec.on_foot)
    return (*facilities, LayerUse("paths", ONLY_HELPS, max(present.values()), origin))


def judge(site: Site, pack: Pack, progress: Progress = QUIET, *,
          distance: str | None = None) -> Result:
    """Apply every rule of ``pack`` to every estate of ``site``.

    ``distance`` is how distance rules are read: ``"radius"`` (as written) or ``"walk"``
    (along the paths layer); default: the pack's (:attr:`Pack.distance`).

    Returns
    -------
    Result
        Findings for every estate x rule (none is skipped: a rule that cannot be measured for
        an estate is ``no_data`` with the reason in ``evidence``). A verdict that a rejected or
        ambiguous feature could change is no data (see :mod:`geocheck.rules.rejects`); the
        estates each reject bears on are recorded in ``site.ledger.attributed``.
    """
    est = site.estates
    losses = Losses.of(site.ledger, est["estate_id"].to_numpy())
    part = judge_part(site, pack, losses, progress, distance=distance)
    return finish(site, pack, [part], losses, part.network)


@dataclass
class Part:
    """What judging one piece of a site gives, before the pieces are put together
    (:func:`finish`).

    Attributes
    ----------
    table : one row per estate x rule, rules in pack order, with ``estate_pos`` (the estate's
        position in the whole site) instead of its id and name.
    evidence : evidence geometries, with ``estate_pos`` and ``rule_pos`` (the rule's position
        in the pack).
    lost_rows, lost_estates : the pairs of (row of the site's :class:`Losses`, estate position
        in the whole site) found to bear on each other.
    network : the walking network built (None without a paths layer, and for a piece sent
        back from another process).
    """

    table: pd.DataFrame
    evidence: pd.DataFrame | None
    lost_rows: np.ndarray
    lost_estates: np.ndarray
    network: Network | None = None


def judge_part(site: Site, pack: Pack, losses: Losses, progress: Progress = QUIET, *,
               distance: str | None = None, positions: np.ndarray | None = None,
               keep: np.ndarray | None = None) -> Part:
    """Judge every estate of ``site`` (the whole site, or a piece of it cut by
    :mod:`geocheck.rules.partition`) against every rule of ``pack``.

    ``losses`` are the site's lost features with estate positions in ``site``;
    ``positions`` the position in the whole site of each estate of ``site`` (default: the
    same); ``keep`` which estates of ``site`` to return findings for (default: all; the others
    are only there as neighbours of those kept).
    """
    ctx = Context(site, pack, distance, walk_reach(pack))
    est = site.estates
    n = len(est)
    positions = np.arange(n) if positions is None else np.asarray(positions)
    keep = np.ones(n, bool) if keep is None else np.asarray(keep, bool)
    every = bool(keep.all())
    crs_note = f"measured in {site.crs.to_string()} ({site.crs.name}), metres"
    tables, evidence = [], []
    lost_rows, lost_estates = [], []
    for k, rule in enumerate(pack.rules):
        progress.step(k, len(pack.rules))
        spec = CHECKS[rule.check]
        outcome = spec.func(ctx, rule)
        uses = (*spec.uses(rule), *walking_uses(ctx, spec, rule))
        t, rows, estates = apply_losses(losses, ctx, uses, outcome.table)
        lost_rows.append(rows)
        lost_estates.append(estates)
        t.insert(0, "rule_pos", np.int16(k))
        t.insert(0, "estate_pos", np.arange(n))
        note = crs_note + "".join(f"; {role} coordinates converted {conv} on import"
                                  for role, conv in site.conversions.items()
                                  if role in roles_of(rule))
        codes, methods = pd.factorize(t["method"].to_numpy(dtype=object))
        t["method"] = pd.Categorical.from_codes(
            codes, [f"{m}; {note}" if m else note for m in methods])
        t["value"] = t["value"].astype(float).round(VALUE_DECIMALS[t["unit"].iloc[0]])
        walk = t["walk_m"].to_numpy(dtype=float) if "walk_m" in t else np.full(len(t), np.nan)
        t["walk_m"] = np.where(np.isfinite(walk), walk, np.nan).round(DISTANCE_DECIMALS)
        t["remedy"] = remedy_of(ctx, rule, t)
        tables.append(t if every else t[keep])
        for e in outcome.evidence:
            e = e[keep[e["estate_pos"].to_numpy(dtype=int)]] if len(e) else e
            if len(e):
                e = e.assign(rule_pos=k)
                evidence.append(e)
    rows, estates = np.concatenate(lost_rows), np.concatenate(lost_estates)
    table = with_rule_texts(pd.concat(tables, ignore_index=True), pack)
    table["estate_pos"] = positions[table["estate_pos"].to_numpy()]
    ev = pd.concat(evidence, ignore_index=True) if evidence else None
    if ev is not None:
        ev["estate_pos"] = positions[ev["estate_pos"].to_numpy(dtype=int)]
    network = ctx.network if ctx.layer("paths") is not None else None
    return Part(table, ev, rows[keep[estates]], positions[estates[keep[estates]]], network)


def finish(site: Site, pack: Pack, parts: list[Part], losses: Losses,
           network: Network | None) -> Result:
    """Put the judged pieces of ``site`` together into its :class:`Result`: findings in estate
    order, then rule order (whatever the pieces' order), evidence by rule then estate, and the
    estates each reject bears on recorded in ``site.ledger.attributed``."""
    est = site.estates
    attribute(site.ledger, losses, np.concatenate([p.lost_rows for p in parts]),
              np.concatenate([p.lost_estates for p in parts]), est["estate_id"].to_numpy())
    table = concat_encoded([p.table for p in parts])
    for p in parts:
        p.table = table.iloc[:0]  # the pieces' copies go as soon as they are joined
    order = np.argsort(table["estate_pos"].to_numpy(), kind="stable")
    columns = {}
    for c in list(table.columns):  # a column at a time, each let go once it is in order
        columns[c] = table[c].take(order).reset_index(drop=True)
        del table[c]
    table = pd.DataFrame(columns)
    del columns
    pos = table["estate_pos"].to_numpy()
    table["estate_id"] = est["estate_id"].to_numpy()[pos]
    table["estate_name"] = est["name"].to_numpy()[pos]
    table["pack"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), [pack.id])
    add_score_remedies(pack, est, table, site.attributes)
    if len(table) != len(est) * len(pack.rules):
        raise AssertionError(f"judged {len(table)} findings for {len(est)} estates x "
                             f"{len(pack.rules)} rules")
    evidence = [p.evidence for p in parts if p.evidence is not None]
    if evidence:
        ev = pd.concat(evidence, ignore_index=True)
        ev = ev.sort_values(["rule_pos", "estate_pos"], kind="stable").reset_index(drop=True)
    else:
        ev = gpd.GeoDataFrame(columns=[*EVIDENCE_COLUMNS, "rule_pos", "geometry"],
                              geometry="geometry", crs=site.crs)
    ev["estate_id"] = est["estate_id"].to_numpy()[ev["estate_pos"].astype(int)]
    ev = gpd.GeoDataFrame(ev.drop(columns=["estate_pos", "rule_pos"]), geometry="geometry",
                          crs=site.crs)
    return Result(site, pack, table[FINDINGS_COLUMNS], ev, network)


ENCODED = ("pack", "rule_id", "standard_id", "requirement_id", "title_zh", "title_en",
           "unit", "method", "citation")
"""Findings columns held as pandas categoricals: the same few texts repeated on every estate
(a citation once per rule, not once per finding), which keeps a province's findings small."""


RULE_TEXTS = {"rule_id": "id", "standard_id": "standard", "requirement_id": "requirement",
              "title_zh": "title_zh", "title_en": "title_en", "citation": "citation"}
"""Findings columns that are a text of the rule (column -> attribute of the rule)."""


def with_rule_texts(table: pd.DataFrame, pack: Pack) -> pd.DataFrame:
    """A piece's findings with the rule's texts added from ``rule_pos`` and the
    :data:`ENCODED` columns dictionary-encoded (one dictionary per piece, joined by
    :func:`concat_encoded`)."""
    rule_pos = table["rule_pos"].to_numpy()
    for column, attr in RULE_TEXTS.items():
        codes, texts = pd.factorize(pd.Series([getattr(r, attr) for r in pack.rules],
                                              dtype=object))
        table[column] = pd.Categorical.from_codes(codes[rule_pos], texts)
    for column in ("unit", "method"):
        codes, texts = pd.factorize(table[column])
        table[column] = pd.Categorical.from_codes(codes, texts)
    return table


def concat_encoded(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Tables of findings one under the other, the :data:`ENCODED` columns staying encoded
    (their dictionaries joined)."""
    if len(tables) == 1:
        return tables[0].reset_index(drop=True)
    cols = [c for c in ENCODED if c in tables[0].columns]
    out = pd.concat([t.drop(columns=cols) for t in tables], ignore_index=True)
    for c in cols:
        out[c] = union_categoricals([t[c] for t in tables])
    return out
