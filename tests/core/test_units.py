"""Distances, shares and numbers as written for people, by hand."""

from __future__ import annotations

import numpy as np

from geocheck.core.units import (
    metres,
    metres_all,
    number,
    numbers_all,
    percent,
    plain,
    points,
    share,
    shares_all,
)


def test_metres_reads_as_its_verdict() -> None:
    assert metres(70.0014, 70) == "70.001 m"  # fails <= 70: not "70.0 m"
    assert metres(4.9986, 5, at_most=False) == "4.999 m"  # fails >= 5: not "5.0 m"
    assert metres(70.0004, 70) == "70.0 m"  # judged 70.000: passes
    assert metres(500.4, 500, decimals=0) == "500.4 m"
    assert metres(65.26, 70) == "65.3 m" and metres(1234.56) == "1,234.6 m"
    assert metres(float("nan"), 70) == "n/a"


def test_share_takes_the_judged_ratio_and_the_threshold() -> None:
    assert share(0.8496) == "84.9%"
    assert share(0.3499996) == "35.0%"  # judged 0.35: passes >= 35 %
    assert share(0.3506, limit=0.3505) == "35.06%"  # passes >= 35.05 %: not "35.0%"
    assert share(0.3504, limit=0.3505) == "35.0%"


def test_numbers_are_plain() -> None:
    assert plain(1e12) == "1000000000000" and plain(np.int64(-5)) == "-5"
    assert plain(2.5e-7) == "0.00000025" and plain(np.float64(0.35)) == "0.35"
    assert percent(0.35) == "35 %" and percent(1e-7) == "0.00001 %"
    assert points(73.60000000000001) == "73.6"
    assert number(19.996, 2, 20, at_most=False) == "19.996"


def test_metres_all_writes_what_metres_writes_one_by_one() -> None:
    """The vectorised texts equal the one-by-one ones around each threshold, both directions,
    whole metres and tenths, NaN included (so near misses still read as misses)."""
    rng = np.random.default_rng(7)
    for lim in (5.0, 70.0, 500.0, 0.5):
        d = np.r_[lim + rng.choice([-1, 1], 3000) * 10 ** rng.uniform(-5, 1, 3000),
                  lim, np.nan, 3 * lim]
        for at_most in (True, False):
            for decimals in (0, 1):
                got = metres_all(d, lim, at_most=at_most, decimals=decimals)
                assert got == [metres(x, lim, at_most=at_most, decimals=decimals) for x in d]
    assert metres_all(np.array([70.0014]), 70.0) == ["70.001 m"]
    assert metres_all(np.array([65.26, np.nan])) == ["65.3 m", "n/a"]


def test_shares_all_writes_what_share_writes_one_by_one() -> None:
    """Around each threshold (by a millionth and less), both directions, 0-2 places, one
    threshold or one each with gaps, NaN and infinity included."""
    rng = np.random.default_rng(11)
    for lim in (0.35, 0.85, 0.3505, None):
        centre = 0.5 if lim is None else lim
        r = np.r_[centre + rng.choice([-1, 1], 3000) * 10 ** rng.uniform(-8, -1, 3000),
                  rng.random(500), centre, np.nan, np.inf, -1e-7, 0.0, 1.0]
        for at_most in (False, True):
            for decimals in (0, 1, 2):
                got = shares_all(r, lim, at_most=at_most, decimals=decimals)
                assert got == [share(x, decimals, lim, at_most=at_most) for x in r]
    each = rng.choice([0.35, 0.3, np.nan], len(r))
    assert shares_all(r, each) == [share(x, limit=None if np.isnan(m) else m)
                                   for x, m in zip(r, each, strict=True)]
    assert shares_all(np.array([0.8496, 0.3506]), np.array([np.nan, 0.3505])) == \
        ["84.9%", "35.06%"]


def test_numbers_all_writes_what_number_writes_one_by_one() -> None:
    rng = np.random.default_rng(12)
    x = np.r_[rng.random(3000) * 1e6, np.round(rng.random(300) * 100, 2),
              np.nan, -np.inf, 0.0, -3.14159, 1e12, 2.5e-7, 0.005, 0.015]
    for decimals in (0, 1, 2, 6):
        for judged in (0, 1, 3, 6):
            for trim in (False, True):
                assert numbers_all(x, decimals, judged=judged, trim=trim) == \
                    [number(v, decimals, judged=judged, trim=trim) for v in x]
    assert numbers_all(np.array([1234.5, 2.0, np.nan]), 2, trim=True) == ["1,234.5", "2", "n/a"]
