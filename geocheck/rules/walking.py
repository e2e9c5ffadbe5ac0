"""Walking readings of the distance rules: how far residents walk, along the paths layer, from
the same origins as the straight line to the nearest facility of a kind.

Each reading is one search of :func:`geocheck.rules.network.walk_to_nearest` per facility layer
and origin kind, shared by every rule reading that layer (:meth:`Context.walk
<geocheck.rules.context.Context.walk>`). Walks are searched up to :data:`LIMIT_RATIO` times the
largest threshold of the rules using the layer, so a detour of up to :data:`DETOUR_RATIO` still
gets a number; beyond it there is "no walking route within N m". Everything is in the working
CRS, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.units import DISTANCE_DECIMALS, metres, metres_all, plain
from .network import JOIN_TOLERANCE_M, Network, Walks, walk_to_nearest

DETOUR_RATIO = 1.5
"""A walk longer than this many times the straight line (and longer than the threshold) is a
detour, said in the evidence whatever the verdict."""

LIMIT_RATIO = 1.6
"""Walks are searched up to this many times the largest threshold (metres) of the rules that
read a layer: a little above :data:`DETOUR_RATIO`, so every detour within it gets a number."""

WALK_SPEED_M_S = 1.0
"""Walking speed (metres per second) turning a life circle's minutes into metres.

geocheck's reading, not a clause: GB 50180-2018 城市居住区规划设计标准 defines the
15-, 10- and 5-minute life circles by walking time, and gives walking distances of about
800-1000 m, 500 m and 300 m, but no speed. 900 m (the middle of 800-1000 m) in 15 minutes and
300 m in 5 minutes are both 1.0 m/s, so 15 minutes is 900 m and 10 minutes 600 m."""

WALK_METHOD = ("walking along the paths layer: lines meet only at shared vertices (within "
               f"{plain(JOIN_TOLERANCE_M)} m); legs from the entrances/boundary to the nearest "
               "path and from the path to the facility counted")
"""The ``method`` of a finding judged by walking distance."""

NEEDS_PATHS = "no data: --distance walk needs a paths layer"
"""The no-data reason of a distance rule in walk mode when the input has no paths layer."""


@dataclass
class Walked:
    """The walk from each origin group (an estate, or a residential building) to the nearest
    facility of one layer.

    Attributes
    ----------
    distance_m : metres walked (``inf``: no route within ``limit_m``; 0 for a facility inside
        the estate or touching the origin).
    facility_pos : position in the layer of the facility reached (-1 for none).
    limit_m : how far the walks were searched, metres.
    """

    distance_m: np.ndarray
    facility_pos: np.ndarray
    limit_m: float
    _walks: Walks = field(repr=False)
    _at_zero: np.ndarray = field(repr=False)
    _routes: np.ndarray | None = field(default=None, repr=False)

    def routes(self) -> np.ndarray:
        """The route of each group as a LineString (None where there is none, or the walk is
        0 m), computed once on demand."""
        if self._routes is None:
            routes = self._walks.routes()
            routes[self._at_zero] = None
            self._routes = routes
        return self._routes


def walk_from(network: Network, origins: np.ndarray, facilities: np.ndarray, *,
              limit_m: float, inside_pos: np.ndarray | None = None) -> Walked:
    """The walk from each origin (one group each) to its nearest facility.

    Parameters
    ----------
    network : the paths, metres.
    origins : per group, the geometry walked from: an estate's entrances (a MultiPoint) or its
        polygon, or a building footprint.
    facilities : the layer's geometries.
    limit_m : how far to search, metres.
    inside_pos : per group, the position of a facility inside the estate (-1 for none): such
        a group stays at 0 m, as for the straight line.
    """
    n = len(origins)
    walks = walk_to_nearest(network, origins, np.arange(n), n, facilities, limit_m=limit_m)
    d, f = walks.distance_m.copy(), walks.facility.copy()
    zero = np.zeros(n, dtype=bool) if inside_pos is None else inside_pos >= 0
    d[zero], f[zero] = 0.0, inside_pos[zero] if inside_pos is not None else -1
    return Walked(d, f, limit_m, walks, zero | (d == 0))


def detours(straight_m: np.ndarray, walk_m: np.ndarray, limit_m: float) -> np.ndarray:
    """Which walks are detours: longer than :data:`DETOUR_RATIO` x the straight line and than
    the threshold ``limit_m`` (to the millimetre). No route at all counts as longer."""
    straight = np.nan_to_num(np.asarray(straight_m, dtype=float), nan=np.inf)
    walk = np.asarray(walk_m, dtype=float)
    with np.errstate(invalid="ignore"):
        return (np.isfinite(straight) & (np.round(walk, DISTANCE_DECIMALS) > limit_m)
                & (walk > DETOUR_RATIO * straight))


def on_foot(walk_m: float, limit_m: float, searched_m: float) -> str:
    """A walk for people: ``1,630 m on foot`` (reading as its verdict against ``limit_m``), or
    ``no walking route within 800 m`` when none was found within ``searched_m``."""
    if not np.isfinite(walk_m):
        return f"no walking route within {plain(round(searched_m, 1))} m"
    return f"{metres(walk_m, limit_m)} on foot"


def detour_text(straight_m: float, walk_m: float, limit_m: float, searched_m: float) -> str:
    """``420 m as the crow flies, but 1,630 m on foot (3.9x): a detour`` (or ``... but no
    walking route within 800 m: a detour``)."""
    walk = on_foot(walk_m, limit_m, searched_m)
    crow = f"{metres(straight_m, limit_m)} as the crow flies, but {walk}"
    if np.isfinite(walk_m) and straight_m > 0:
        crow += f" ({walk_m / straight_m:.1f}x)"
    return crow + ": a detour"


def detour_texts(straight_m: np.ndarray, walk_m: np.ndarray, limit_m: float,
                 searched_m: float) -> np.ndarray:
    """:func:`detour_text` of every row (metres), written column-wise."""
    straight_m = np.asarray(straight_m, dtype=float)
    walk_m = np.asarray(walk_m, dtype=float)
    found = np.isfinite(walk_m)
    walk = np.where(found, np.array(metres_all(walk_m, limit_m), dtype=object) + " on foot",
                    f"no walking route within {plain(round(searched_m, 1))} m")
    crow = (np.array(metres_all(straight_m, limit_m), dtype=object)
            + " as the crow flies, but " + walk)
    ratio = np.full(len(walk_m), "", dtype=object)
    has = found & (straight_m > 0)
    ratio[has] = (" (" + np.char.mod("%.1f", walk_m[has] / straight_m[has]).astype(object)
                  + "x)")
    return crow + ratio + ": a detour"


def detour_suffixes(straight_m: np.ndarray, walk_m: np.ndarray, limit_m: float,
                    searched_m: float) -> np.ndarray:
    """Per row, ``"; " + detour_text(...)`` where the walk is a detour, else ``""``."""
    out = np.full(len(walk_m), "", dtype=object)
    rows = np.flatnonzero(detours(straight_m, walk_m, limit_m))
    out[rows] = "; " + detour_texts(np.asarray(straight_m, dtype=float)[rows],
                                    np.asarray(walk_m, dtype=float)[rows], limit_m, searched_m)
    return out


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """Metres with ``inf`` (no route) made NaN, for a table."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)
