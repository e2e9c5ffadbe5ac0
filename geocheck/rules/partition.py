"""Cut a site into pieces that can be judged one at a time, or on other machines.

A province is judged piece by piece so that the measures of one piece at a time are in memory
(and so that pieces can run in parallel, see :mod:`geocheck.scale`). Each estate is judged in
exactly one piece, the one whose grid cell holds the centre of its bounding box. A piece also
holds everything its estates' verdicts can depend on:

- every estate whose polygon comes within a *halo* of the piece's own estates (judged with
  them, its findings dropped), with its buildings and entrances;
- of the layers read near an estate (buildings, entrances, green space, paths), every feature
  within the halo; of the facility layers (bus stops, schools ...), every feature, because a
  finding names the nearest one however far it is;
- the whole ledger of rejected features (:class:`~geocheck.rules.rejects.Losses` with estate
  positions of the piece).

The halo (:func:`halo_m`) is, with a paths layer, twice the farthest walk searched (up to
:data:`~geocheck.rules.walking.LIMIT_RATIO` times the rules' thresholds), plus
:data:`HALO_MARGIN_M`: a walk within the search limit cannot leave it, and a feature that joins
the network beyond it cannot give a shorter walk than its straight-line distance. Without paths
it is the farthest a near layer's feature counts (the buildings around a garbage point) plus
the margin. The findings
of a run in pieces are identical to those of a run in one piece (tested byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely

from ..core.site import Site
from .judge import Part, judge_part, walk_reach
from .packs.model import Pack
from .registry import CHECKS
from .rejects import ELSEWHERE, Losses
from .walking import LIMIT_RATIO

NEAR_LAYERS = ("buildings", "entrances", "green_space", "paths")
"""Layers whose features count only near an estate: a piece holds those within its halo. Every
other layer (the facilities) is held whole."""

HALO_MARGIN_M = 100.0
"""Metres added to every halo (see :func:`halo_m`)."""

PIECE_ESTATES = 4000
"""Estates judged per piece by default for a pack of :data:`PIECE_RULES` rules or more (Guangxi's
has 98): a city of up to 4,000 estates is one piece (judged as a whole, with no halo to measure
twice), a province of 100,000 some thirty; the measures of a piece of 4,000 estates take about
0.5 GB beside the site itself."""
PIECE_RULES = 100
"""A pack of fewer rules gets pieces of more estates (:func:`piece_estates`)."""


def piece_estates(pack: Pack) -> int:
    """Estates per piece by default for ``pack``: :data:`PIECE_ESTATES`, or more for a pack of
    fewer than :data:`PIECE_RULES` rules, so that a piece holds about as many findings (estates
    x rules), whose measures are what a piece's memory grows with. A five-rule pack judges a
    city of 30,000 estates in one piece (33.6 s against 40.3 s in nine pieces, 1.73 GB against
    1.63 GB at the peak)."""
    return max(PIECE_ESTATES, PIECE_ESTATES * PIECE_RULES // max(len(pack.rules), 1))


@dataclass(frozen=True)
class Piece:
    """One piece of a site.

    Attributes
    ----------
    index : its number, from 0, in the order pieces are planned (west to east, south to north).
    core : positions (in the whole site) of the estates judged here, ascending.
    members : positions of the estates the piece holds (``core`` and their neighbours within
        the halo), ascending.
    box : the piece's extent with its halo, ``(minx, miny, maxx, maxy)`` in metres in the
        working CRS.
    """

    index: int
    core: np.ndarray
    members: np.ndarray
    box: tuple[float, float, float, float]


def halo_m(pack: Pack, walking: bool) -> float:
    """The halo of a piece for ``pack``, in metres, plus :data:`HALO_MARGIN_M`.

    ``walking`` (the site has paths): twice the farthest walk searched
    (:data:`LIMIT_RATIO` times the largest threshold of the rules walking to a layer), so that
    the whole network a walk within the limit can use is in the piece. Else the largest
    distance within which a feature of a :data:`NEAR_LAYERS` layer counts for an estate (the
    buildings a garbage point keeps its distance from ...): the facility layers are whole.
    """
    reach = [0.0]
    for rule in pack.rules:
        reach += [u.reach_m for u in CHECKS[rule.check].uses(rule)
                  if u.reach_m is not None and u.role in NEAR_LAYERS]
    if walking:
        reach += [2.0 * LIMIT_RATIO * m for m in walk_reach(pack).values()]
    return max(reach) + HALO_MARGIN_M


def plan_pieces(site: Site, pack: Pack, per_piece: int = PIECE_ESTATES) -> list[Piece]:
    """Cut ``site`` into pieces of about ``per_piece`` estates on a square grid (one piece
    when the site has no more estates than that).

    Each estate goes to the cell holding the centre of its bounding box; empty cells are
    dropped. Deterministic: the same site and ``per_piece`` give the same pieces.
    """
    if per_piece < 1:
        raise ValueError(f"plan_pieces: per_piece must be >= 1, got {per_piece}")
    geoms = site.estates.geometry.to_numpy()
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    if n <= per_piece:
        box = _grow(bounds, np.arange(n), 0.0)
        return [Piece(0, np.arange(n), np.arange(n), box)]
    cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    width, height = np.ptp(cx) or 1.0, np.ptp(cy) or 1.0
    cell = np.sqrt(width * height * per_piece / n)
    nx = max(int(np.ceil(width / cell)), 1)
    col = np.minimum(((cx - cx.min()) / cell).astype(np.int64), nx - 1)
    row = ((cy - cy.min()) / cell).astype(np.int64)
    key = row * nx + col
    order = np.argsort(key, kind="stable")
    _, starts = np.unique(key[order], return_index=True)
    halo = halo_m(pack, "paths" in site.layers)
    tree = shapely.STRtree(geoms)
    pieces = []
    for k, core in enumerate(np.split(order, starts[1:])):
        core = np.sort(core)
        box = _grow(bounds, core, halo)
        members = np.union1d(tree.query(shapely.box(*box)), core)
        pieces.append(Piece(k, core, members, box))
    return pieces


def plan_halves(site: Site, pack: Pack) -> list[Piece]:
    """Cut ``site`` into two pieces of as many estates each (one more in the first when odd),
    split across the longer side of the site's extent at the median of the estates' centres
    (the centres of their bounding boxes); equal centres are split in site order."""
    geoms = site.estates.geometry.to_numpy()
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    axis = int(np.ptp(centre[:, 1]) > np.ptp(centre[:, 0])) if n else 0
    order = np.argsort(centre[:, axis], kind="stable")
    halo = halo_m(pack, "paths" in site.layers)
    tree = shapely.STRtree(geoms)
    pieces = []
    for k, core in enumerate((order[:(n + 1) // 2], order[(n + 1) // 2:])):
        core = np.sort(core)
        if not len(core):
            continue
        box = _grow(bounds, core, halo)
        pieces.append(Piece(k, core, np.union1d(tree.query(shapely.box(*box)), core), box))
    return pieces


def _grow(bounds: np.ndarray, rows: np.ndarray, by: float) -> tuple[float, float, float, float]:
    b = bounds[rows]
    return (float(b[:, 0].min() - by), float(b[:, 1].min() - by),
            float(b[:, 2].max() + by), float(b[:, 3].max() + by))


def near_bounds(site: Site) -> dict[str, np.ndarray]:
    """The bounding boxes (minx, miny, maxx, maxy per feature, NaN for an empty one) of the
    site's :data:`NEAR_LAYERS`, taken once for every :func:`cut`: a piece's box is matched
    against them in numpy (a scan of 120,000 boxes takes a millisecond; the spatial index it
    replaces took 40 ms to build before the halves could start)."""
    return {role: shapely.bounds(gdf.geometry.to_numpy()) for role, gdf in site.layers.items()
            if role in NEAR_LAYERS}


def _in_box(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Positions of the boxes ``bounds`` that meet ``box`` (edges included, as an STRtree
    query with a box finds them), in order."""
    with np.errstate(invalid="ignore"):
        return np.flatnonzero((bounds[:, 0] <= box[2]) & (bounds[:, 2] >= box[0])
                              & (bounds[:, 1] <= box[3]) & (bounds[:, 3] >= box[1]))


def cut(site: Site, piece: Piece, losses: Losses,
        boxes: dict[str, np.ndarray] | None = None) -> tuple[Site, Losses]:
    """The site of one piece (its member estates, the near layers within its box, every other
    layer whole) and ``losses`` (the whole site's) with the piece's estate positions.
    ``boxes``: :func:`near_bounds` of the site (taken here when not given)."""
    boxes = near_bounds(site) if boxes is None else boxes
    n = len(site.estates)
    local = np.full(n, -1, dtype=np.int64)
    local[piece.members] = np.arange(len(piece.members))
    estates = site.estates.iloc[piece.members].reset_index(drop=True)
    layers = {}
    for role, gdf in site.layers.items():
        if role in NEAR_LAYERS:
            rows = _in_box(boxes[role], piece.box)
            if "estate_pos" in gdf.columns:  # and every feature of a member estate
                pos = gdf["estate_pos"].to_numpy()
                rows = np.union1d(rows, np.flatnonzero((pos >= 0) &
                                                       (local[np.maximum(pos, 0)] >= 0)))
            gdf = gdf.iloc[rows].reset_index(drop=True)
        if "estate_pos" in gdf.columns:
            pos = gdf["estate_pos"].to_numpy()
            gdf = gdf.assign(estate_pos=np.where(pos >= 0, local[np.maximum(pos, 0)], -1))
        layers[role] = gdf
    piece_site = replace(
        site, estates=estates, layers=layers,
        attributes=_rows(site.attributes, piece.members),
        attributes_no_data=_rows(site.attributes_no_data, piece.members))
    owner = losses.owner
    owner = np.where(owner >= 0, local[np.maximum(owner, 0)], owner)
    owner = np.where((losses.owner >= 0) & (owner < 0), ELSEWHERE, owner)
    claimed = [local[c][local[c] >= 0] for c in losses.claimed]
    return piece_site, replace(losses, owner=owner, claimed=claimed)


def _rows(table: pd.DataFrame | None, positions: np.ndarray) -> pd.DataFrame | None:
    return None if table is None else table.iloc[positions].reset_index(drop=True)


def judge_piece(piece_site: Site, piece_losses: Losses, pack: Pack, piece: Piece, *,
                distance: str | None = None) -> Part:
    """Judge one piece, as :func:`cut` gives it; the findings, with whole-site estate
    positions, are those of its core estates. Runs anywhere: it needs only its arguments."""
    part = judge_part(piece_site, pack, piece_losses, distance=distance,
                      positions=piece.members, keep=np.isin(piece.members, piece.core))
    part.network = None
    return part
