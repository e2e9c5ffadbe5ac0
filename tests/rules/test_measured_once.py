"""Measures shared by rules and their remedies are computed once per run (geocheck.rules.context).

The setback rule and its remedy both need the garbage points inside each estate and each
point's nearest building; the green ratio rule and its remedy both need the green area clipped
to each estate. Judging the sample against the Guangxi pack must compute each of them once.
"""

from __future__ import annotations

from collections import Counter

from helpers import SAMPLE

import geocheck
import geocheck.rules.conditions
import geocheck.rules.context
import geocheck.rules.remedies
import geocheck.rules.spatial

MODULES = (geocheck.rules.conditions, geocheck.rules.context, geocheck.rules.remedies,
           geocheck.rules.spatial)
"""Where the rules, the remedies and the context might call the measures from."""


def test_shared_measures_are_computed_once_per_layer(monkeypatch) -> None:
    calls: Counter[tuple[str, int]] = Counter()

    def counting(name, func):
        def wrapper(*args, **kwargs):
            calls[(name, len(args[-1]))] += 1  # keyed by the size of the layer measured
            return func(*args, **kwargs)
        return wrapper

    for name in ("features_in_estates", "nearest_feature_distance", "green_area"):
        for module in MODULES:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    result = geocheck.check(SAMPLE, pack="guangxi")
    site = result.site
    findings = result.findings
    # both rules fail somewhere in the sample, so their remedies were worked out too
    for rule in ("GX-06-garbage-setback", "GX-10-greening"):
        mine = findings[(findings["rule_id"] == rule) & (findings["status"] == "fail")]
        assert len(mine) and (mine["remedy"] != "").all()
    green, points = site.layer("green_space"), site.layer("garbage_points")
    assert calls[("green_area", len(green))] == 1
    assert calls[("features_in_estates", len(points))] == 1
    assert calls[("nearest_feature_distance", len(site.layer("buildings")))] == 1
    assert max(calls.values()) == 1
