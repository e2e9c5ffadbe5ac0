"""Units, the precision verdicts are judged at, and how numbers, distances and shares are
written for people.

Distances are metres in the working CRS and are judged to the millimetre; ratios (a share of
0-1) are judged to the millionth, so that reprojection noise cannot flip a verdict. A value is
reported to the precision it was judged at (:data:`VALUE_DECIMALS`), and a distance or share
written in a sentence beside its threshold (:func:`metres`, :func:`share`) never reads as the
other verdict: 70.0014 m against "within 70 m" is "70.001 m", never "70.0 m".
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

DISTANCE_DECIMALS = 3
"""Distances (metres) are judged and reported to the millimetre."""
RATIO_DECIMALS = 6
"""Ratios (0-1) are judged and reported to the millionth."""
RADIUS = "radius"
"""Distance reading: every distance rule as written (a straight line, the radius)."""
WALK = "walk"
"""Distance reading: every distance rule by the walking distance along the paths layer."""
DISTANCE_READINGS = (RADIUS, WALK)
"""How distance rules may be read (``--distance``, a pack's or a project's ``distance``)."""
VALUE_DECIMALS = {"m": DISTANCE_DECIMALS, "ratio": RATIO_DECIMALS, "count": 0, "m2": 6,
                  "yes/no": 0, "number": 6, "points": 6, "per 100 households": 6}
"""Decimals a finding's value is reported to, by its unit: the places it is judged at (a ratio
of 0.34996 is not shown as 0.35 next to a fail, nor an area of 998.96 m2 from the attributes
sheet as 999 m2 next to a fail against >= 999 m2)."""


def share(ratio: float, decimals: int = 1, limit: float | None = None, *,
          at_most: bool = False) -> str:
    """A measured ratio (0-1) as a percentage, truncated rather than rounded: "84.9%" ("n/a"
    for NaN or infinity).

    The ratio is first taken as verdicts judge it (to the millionth, :data:`RATIO_DECIMALS`),
    then truncated to ``decimals`` places of a percent, so that a share just below a threshold
    (0.8496 against 85 %) never shows as reaching it. Given the threshold ``limit`` (a ratio)
    and the rule's direction (``at_most`` False: the ratio passes when >= ``limit``), more
    places are shown where the truncated figure would read as the other verdict (0.35055
    against >= 35.05 % is "35.055%", not "35.0%"), up to the millionth judged.
    """
    if not math.isfinite(float(ratio)):
        return "n/a"
    judged = float(np.round(float(ratio), RATIO_DECIMALS))
    if limit is not None and not math.isfinite(float(limit)):
        limit = None
    top = RATIO_DECIMALS - 2
    text = ""
    for places in range(min(decimals, top), top + 1):
        scaled = math.floor(round(judged * 10 ** (places + 2), 6))
        text = f"{scaled / 10 ** places:.{places}f}"
        if limit is None:
            break
        meets = judged <= limit if at_most else judged >= limit
        if reads_as_met(text, plain(round(float(limit) * 100, RATIO_DECIMALS)), at_most) == meets:
            break
    return f"{text}%"


def reads_as_met(shown: str, threshold: str, at_most: bool) -> bool:
    """Whether a reader comparing the number ``shown`` with the number ``threshold`` (both as
    printed, thousands separators allowed) sees the threshold met: ``shown <= threshold`` for
    an upper limit (``at_most``), ``shown >= threshold`` for a lower one."""
    a = Decimal(shown.replace(",", "").strip())
    b = Decimal(threshold.replace(",", "").strip())
    return a <= b if at_most else a >= b


def percent(ratio: float, sep: str = " ") -> str:
    """A ratio set by a pack or typed by someone, as a percentage without rounding: 0.35 ->
    "35 %", 0.125 -> "12.5 %" (``sep=""``: "35%")."""
    return f"{plain(round(float(ratio) * 100, 6))}{sep}%"


def plain(x: float) -> str:
    """A number as people write it, whatever its type (a numpy scalar too): no exponent, no
    trailing zeros, no ``np.float64(...)``: 1e12 -> "1000000000000", 70.0 -> "70",
    0.35 -> "0.35", 2.5e-07 -> "0.00000025"; "nan" and "inf" as such."""
    value = float(x)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 2 ** 53:
        return str(int(value))
    return np.format_float_positional(value, trim="-")


def number(x: float, decimals: int = 1, limit: float | None = None, *, at_most: bool = True,
           judged: int = 6, trim: bool = False) -> str:
    """A measured number for people, with thousands separators: ``1,234.5`` (``decimals``
    places; "n/a" for NaN or infinity).

    The number is first taken as verdicts judge it (rounded to ``judged`` places with
    ``numpy.round``, as the checks do). Given the threshold ``limit`` it was judged against and
    the rule's direction (``at_most``: the number passes when <= ``limit``; else when >=), the
    text never reads as the other verdict: where the rounded figure would, more places are
    shown, up to the ``judged`` places themselves (19.996 against >= 20 is "19.996", not
    "20.0"). ``trim`` drops trailing zeros after the decimal point.
    """
    if not math.isfinite(float(x)):
        return "n/a"
    value = float(np.round(float(x), judged))
    text = f"{value:,.{min(decimals, judged)}f}"
    if limit is not None and math.isfinite(float(limit)):
        meets = value <= limit if at_most else value >= limit
        for places in range(min(decimals, judged), judged + 1):
            text = f"{value:,.{places}f}"
            if reads_as_met(text, plain(limit), at_most) == meets:
                break
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def points(x: float) -> str:
    """Points of a score as people write them, to the millionth they are judged at, without
    trailing zeros or exponent: 73.60000000000001 -> "73.6", 1e12 -> "1,000,000,000,000"."""
    return number(x, 6, judged=6, trim=True)


def metres(d: float, limit: float | None = None, *, at_most: bool = True,
           decimals: int = 1) -> str:
    """A distance for people, in metres: ``1,234.5 m`` (``decimals`` places, "n/a" for NaN).

    Given the threshold ``limit`` (metres) it was judged against and the direction of the
    rule (``at_most``: a distance passes when <= ``limit``, as in "within 70 m"; else when
    >= ``limit``, as in a setback of 5 m), the text never reads as the other verdict: where
    the rounded figure would (70.0014 m shown as "70.0 m" beside a fail against <= 70 m),
    more decimals are shown, up to the millimetre the verdict was judged at
    (:data:`DISTANCE_DECIMALS`).

    Examples
    --------
    >>> metres(70.0014, 70)
    '70.001 m'
    >>> metres(4.9986, 5, at_most=False)
    '4.999 m'
    >>> metres(70.04, 70)
    '70.04 m'
    >>> metres(65.26, 70)
    '65.3 m'
    """
    text = number(d, decimals, limit, at_most=at_most, judged=DISTANCE_DECIMALS)
    return text if text == "n/a" else f"{text} m"


def metres_all(d: np.ndarray, limit: float | np.ndarray | None = None, *, at_most: bool = True,
               decimals: int = 1) -> list[str]:
    """:func:`metres` of every distance of ``d`` (metres), vectorised: each text reads as its
    verdict against ``limit`` (one threshold for all, or one each; NaN: none).

    The figure rounded to ``decimals`` is compared with the threshold in numpy; only the few
    distances whose rounded figure would read as the other verdict (near misses) go through
    :func:`metres` one by one for more places.
    """
    d = np.asarray(d, dtype=float)
    judged = np.round(d, DISTANCE_DECIMALS)
    shown = np.round(judged, decimals)
    texts = list(map(f"{{:,.{decimals}f}} m".format, judged.tolist()))
    for i in np.flatnonzero(~np.isfinite(judged)).tolist():
        texts[i] = "n/a"
    if limit is None:
        return texts
    lim = np.broadcast_to(np.asarray(limit, dtype=float), d.shape)
    given = np.isfinite(lim) & np.isfinite(judged)
    meets = np.where(at_most, judged <= lim, judged >= lim)
    reads = np.where(at_most, shown <= lim, shown >= lim)
    # a rounded figure within a rounding step of the threshold is checked exactly, as printed
    near = given & ((reads != meets) | (np.abs(shown - lim) <= 10.0 ** -decimals))
    for i in np.flatnonzero(near).tolist():
        texts[i] = metres(float(d[i]), float(lim[i]), at_most=at_most, decimals=decimals)
    return texts


def numbers_all(x: np.ndarray, decimals: int = 1, *, judged: int = 6,
                trim: bool = False) -> list[str]:
    """:func:`number` (without a threshold) of every value of ``x``, vectorised: each rounded
    to ``judged`` places as the checks do, then written with ``decimals`` places and
    thousands separators ("n/a" for NaN or infinity; ``trim``: trailing zeros dropped)."""
    values = np.round(np.asarray(x, dtype=float), judged)
    places = min(decimals, judged)
    texts = list(map(f"{{:,.{places}f}}".format, values.tolist()))
    if trim and places > 0:
        texts = [t.rstrip("0").rstrip(".") for t in texts]
    bad = np.flatnonzero(~np.isfinite(values))
    for i in bad.tolist():
        texts[i] = "n/a"
    return texts


def shares_all(ratio: np.ndarray, limit: float | np.ndarray | None = None, *,
               at_most: bool = False, decimals: int = 1) -> list[str]:
    """:func:`share` of every ratio of ``ratio`` (0-1), vectorised: each percentage reads as
    its verdict against ``limit`` (one threshold for all, or one each; NaN: none).

    The percentage truncated to ``decimals`` places is compared with the threshold in numpy;
    only the shares whose figure lies within a step of the threshold go through :func:`share`
    one by one for more places.
    """
    r = np.asarray(ratio, dtype=float)
    judged = np.round(r, RATIO_DECIMALS)
    with np.errstate(invalid="ignore"):
        scaled = np.floor(np.round(judged * 10 ** (decimals + 2), 6))
    shown = (scaled + 0.0) / 10 ** decimals  # + 0.0: no "-0%", as math.floor gives 0
    texts = list(map(f"{{:.{decimals}f}}%".format, shown.tolist()))
    bad = ~np.isfinite(judged)
    for i in np.flatnonzero(bad).tolist():
        texts[i] = "n/a"
    if limit is None:
        return texts
    lim = np.broadcast_to(np.asarray(limit, dtype=float), r.shape)
    given = np.isfinite(lim) & ~bad
    with np.errstate(invalid="ignore"):
        meets = np.where(at_most, judged <= lim, judged >= lim)
        reads = np.where(at_most, shown <= lim * 100, shown >= lim * 100)
        near = given & ((reads != meets) | (np.abs(shown - lim * 100) <= 10.0 ** -decimals))
    for i in np.flatnonzero(near).tolist():
        texts[i] = share(float(r[i]), decimals, float(lim[i]), at_most=at_most)
    return texts


def judged_metres(d: float) -> str:
    """A distance already judged (a findings value, metres) to the millimetre it was judged
    at, without trailing zeros: 70.001 -> "70.001 m", 736.5 -> "736.5 m" ("n/a" for NaN), so
    it always reads as its verdict."""
    text = number(d, DISTANCE_DECIMALS, judged=DISTANCE_DECIMALS, trim=True)
    return text if text == "n/a" else f"{text} m"
