"""Rejected and ambiguous features: a verdict they could change is never a pass or a fail.

A feature the inputs rejected (unusable geometry, unknown ``estate_id`` ...) or could not give to
one estate (in two overlapping estates, without ``estate_id``) is missing from the measures. Every
check declares the layers it reads as :class:`~geocheck.rules.context.LayerUse`; after each check,
:func:`apply_losses` finds the estates each lost feature bears on and changes their verdicts:

- a layer read :data:`~geocheck.rules.context.STRICT` (a building of the estate, a green area
  in it): pass, fail and not applicable become ``no_data``;
- a layer read :data:`~geocheck.rules.context.ONLY_HELPS` (a facility searched within a distance,
  a facility inside the estate): one more such feature can only bring a facility nearer or add
  one inside, so a pass stands (its evidence names the reject) and a fail becomes ``no_data``;
- a layer read :data:`~geocheck.rules.context.ONLY_HURTS` (the buildings a garbage point must
  keep its distance from): one more building can only be nearer, so a fail stands (naming the
  reject) and a pass becomes ``no_data``.

Which estates a reject bears on: for a layer counted per estate, the estate named by its
``estate_id``, else the estates its place lies in or touches (entrances: within
:data:`~geocheck.core.roles.ENTRANCE_SNAP_M`); for a layer searched within a distance, every
estate within that distance of the place; a reject with no usable coordinate, every estate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..core.ledger import Ledger
from ..core.roles import ENTRANCE_SNAP_M, ROLES
from ..core.status import FAIL, NO_DATA, PASS
from .context import ONLY_HELPS, ONLY_HURTS, ORIGINS, RESIDENTIAL, STRICT, Context, LayerUse

SEE = "see rejects.csv"

ELSEWHERE = -2
""":attr:`Losses.owner` of a feature naming an estate that is not in the piece of the site being
judged (see :mod:`geocheck.rules.partition`): it bears on that estate alone, judged elsewhere."""

RANK = {STRICT: 0, ONLY_HURTS: 1, ONLY_HELPS: 2}
"""Effects in the order they prevail when several bear on one verdict."""


@dataclass
class Losses:
    """The features lost to a site's measures, one row each.

    Attributes
    ----------
    layer, feature_id, text : per lost feature, its layer, id and what happened to it.
    reject : position in the ledger's rejects (-1 for an ambiguous feature, which was judged).
    owner : position of the estate it names by ``estate_id`` (ambiguous: -1), else -1;
        :data:`ELSEWHERE` in a piece of a site for an estate outside the piece.
    place : where it lies in the working CRS, or None.
    claimed : per ambiguous feature, the estate positions claiming it (else empty).
    """

    layer: np.ndarray
    feature_id: np.ndarray
    text: np.ndarray
    reject: np.ndarray
    owner: np.ndarray
    place: np.ndarray
    claimed: list[np.ndarray]

    @classmethod
    def of(cls, ledger: Ledger, estate_ids: np.ndarray) -> Losses:
        """The rejects and ambiguous features of ``ledger``; ``estate_ids`` in estate order."""
        pos_of = {str(e): i for i, e in enumerate(estate_ids)}
        rej, amb = ledger.rejects, ledger.ambiguous
        places = ledger.places or [(None, None, None)] * len(rej)
        layer = [r["layer"] for r in rej] + [a["layer"] for a in amb]
        fids = [r["feature_id"] for r in rej] + [a["feature_id"] for a in amb]
        text = [f"{_one(r['layer'])} {r['feature_id']} was rejected ({r['reason']})"
                for r in rej]
        text += [f"{_one(a['layer'])} {a['feature_id']} lies in overlapping estates "
                 f"{a['estate_ids'].replace('; ', ' and ')} without an estate_id, so it is "
                 "counted in neither" for a in amb]
        owner = [pos_of.get(str(o), -1) if o is not None else -1 for o, _, _ in places]
        claimed = [np.empty(0, int)] * len(rej) + [
            np.array([pos_of[e] for e in a["estate_ids"].split("; ") if e in pos_of], int)
            for a in amb]
        return cls(np.array(layer, dtype=object), np.array(fids, dtype=object),
                   np.array(text, dtype=object),
                   np.r_[np.arange(len(rej)), np.full(len(amb), -1)].astype(int),
                   np.array(owner + [-1] * len(amb), dtype=int),
                   np.array([w for _, w, _ in places] + [None] * len(amb), dtype=object),
                   claimed)


def _one(role: str) -> str:
    return ROLES[role].one_en if role in ROLES else role


def _pairs(losses: Losses, rows: np.ndarray, use: LayerUse, ctx: Context
           ) -> tuple[np.ndarray, np.ndarray]:
    """(loss row, estate position) for every estate the lost features ``rows`` bear on."""
    n = len(ctx.estates)
    out_r: list[np.ndarray] = []
    out_e: list[np.ndarray] = []
    located = rows[shapely.is_geometry(losses.place[rows])]
    lost = rows[~shapely.is_geometry(losses.place[rows]) & (losses.reject[rows] >= 0)]
    if use.reach_m is None:
        for r in rows[losses.reject[rows] < 0]:  # ambiguous: the estates claiming it
            out_r.append(np.full(len(losses.claimed[r]), r))
            out_e.append(losses.claimed[r])
        owned = rows[losses.owner[rows] >= 0]
        out_r.append(owned)
        out_e.append(losses.owner[owned])
        located = located[losses.owner[located] == -1]
        lost = lost[losses.owner[lost] == -1]
        snap = ENTRANCE_SNAP_M if use.role == "entrances" else 0.0
        targets, est_of = ctx.estates.geometry.to_numpy(), np.arange(n)
    else:
        located = located[losses.reject[located] >= 0]  # an ambiguous feature was measured
        owned = lost[losses.owner[lost] >= 0]  # nowhere to be found, but its estate_id says
        out_r.append(owned)
        out_e.append(losses.owner[owned])
        lost = lost[losses.owner[lost] == -1]
        snap = use.reach_m
        targets, est_of = _origins(ctx, use.origin)
    if len(located) and len(targets):
        src, dst = shapely.STRtree(targets).query(losses.place[located], predicate="dwithin",
                                                  distance=snap)
        out_r.append(located[src])
        out_e.append(est_of[dst])
    out_r.append(np.repeat(lost, n))  # nowhere to be found: every estate
    out_e.append(np.tile(np.arange(n), len(lost)))
    r, e = np.concatenate(out_r).astype(int), np.concatenate(out_e).astype(int)
    keep = np.unique(np.column_stack([r, e]), axis=0) if len(r) else np.empty((0, 2), int)
    return keep[:, 0], keep[:, 1]


def _origins(ctx: Context, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """The geometries a reach is measured from, and the estate position of each."""
    n = len(ctx.estates)
    if origin == ORIGINS:
        return ctx.origins[0], np.arange(n)
    if origin == RESIDENTIAL:
        res = ctx.residential
        if res is None:
            return np.empty(0, dtype=object), np.empty(0, int)
        return res.geometry.to_numpy(), res["estate_pos"].to_numpy()
    return ctx.estates.geometry.to_numpy(), np.arange(n)


def apply_losses(losses: Losses, ctx: Context, uses: tuple[LayerUse, ...],
                 table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Make the verdicts of ``table`` (a check's table, one row per estate) that a lost feature
    could change ``no_data``, naming the feature in the evidence.

    Returns
    -------
    (table, loss rows, estate positions)
        The table, and the pairs of (row of ``losses``, estate) found to bear on each other.
    """
    rs, es, effects = [], [], []
    for use in uses:
        rows = np.flatnonzero(losses.layer == use.role)
        if not len(rows) or (use.role not in ctx.site.layers and use.role != "estates"):
            continue  # a layer the input lacks is no data already
        r, e = _pairs(losses, rows, use, ctx)
        rs.append(r)
        es.append(e)
        effects.append(np.full(len(r), RANK[use.effect]))
    if not rs or not sum(map(len, rs)):
        return table, np.empty(0, int), np.empty(0, int)
    r, e, rank = np.concatenate(rs), np.concatenate(es), np.concatenate(effects)
    order = np.lexsort((r, rank, e))  # per estate: strict first, then in ledger order
    r, e, rank = r[order], e[order], rank[order]
    uniq, first = np.unique(e, return_index=True)
    # the distinct lost features per estate (one may bear on it through several uses)
    pairs = np.unique(e.astype(np.int64) * len(losses.text) + r)
    n_lost = np.bincount(np.searchsorted(uniq, pairs // len(losses.text)), minlength=len(uniq))
    status = table["status"].to_numpy().copy()
    evidence = table["evidence"].to_numpy().copy()
    old = status[uniq]
    # strict unsettles every verdict; a facility that could only help, a fail; a building that
    # could only hurt, a pass (one estate may meet several of these)
    to_no_data = (rank[first] == RANK[STRICT]) & (old != NO_DATA)
    for effect, unsettled in ((ONLY_HELPS, FAIL), (ONLY_HURTS, PASS)):
        met = np.zeros(len(uniq), bool)
        met[np.searchsorted(uniq, e[rank == RANK[effect]])] = True
        to_no_data |= met & (old == unsettled)
    # the evidence of every estate a lost feature bears on, written column-wise
    row = r[first]
    what = losses.text[row] + np.where(
        n_lost > 1, " (and " + (n_lost - 1).astype(str).astype(object) + " more lost feature(s))",
        "").astype(object)
    fix = np.where(losses.reject[row] >= 0, SEE, "give it an estate_id").astype(object)
    was = evidence[uniq].astype(str).astype(object)
    evidence[uniq] = np.select(
        [to_no_data, old == PASS, old == FAIL],
        ["no data: " + what + " and could change this verdict; " + fix
         + "; measured without it: " + was,
         was + "; " + what + ", but a missing facility could only be nearer (or one more "
         "inside): the pass stands; " + fix,
         was + "; " + what + ", but a missing building could only be nearer: the fail "
         "stands; " + fix],
        was + "; also " + what + "; " + fix)
    status[uniq[to_no_data]] = NO_DATA
    table = table.copy()
    table["status"], table["evidence"] = status, evidence
    return table, r, e


def attribute(ledger: Ledger, losses: Losses, rows: np.ndarray, estates: np.ndarray,
              estate_ids: np.ndarray) -> None:
    """Record in ``ledger.attributed`` the estates each reject was found to bear on (``"A; B"``,
    or ``"all"`` when it bears on every estate because it could not be located)."""
    ledger.attributed.clear()
    is_reject = losses.reject[rows] >= 0
    rows, estates = rows[is_reject], estates[is_reject]
    n = len(estate_ids)
    if not len(rows):
        return
    pairs = np.unique(np.column_stack([rows, estates]), axis=0)  # by reject, then estate
    uniq, first, count = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    unlocated = ~shapely.is_geometry(losses.place[uniq]) & (losses.owner[uniq] < 0)
    everywhere = unlocated & (count == n)
    names = estate_ids[pairs[:, 1]].astype(str)
    for k in np.flatnonzero(~everywhere):  # one line of text per reject bearing on estates
        ledger.attributed[int(losses.reject[uniq[k]])] = "; ".join(
            names[first[k]:first[k] + count[k]])
    ledger.attributed.update(dict.fromkeys(losses.reject[uniq[everywhere]].tolist(), "all"))
