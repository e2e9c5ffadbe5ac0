"""Life circles: rules written as minutes of walking, measured on the map when the layers exist.

A circle of N minutes is N x 60 x :data:`~geocheck.rules.walking.WALK_SPEED_M_S` metres of
walking along the paths layer (15 minutes: 900 m), from the estate's entrances, else its
boundary, to the nearest facility; without the paths or the facility layer the minutes typed in
the attributes sheet are judged instead, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..core.indicators import Attribute
from ..core.roles import ROLES
from ..core.status import FAIL, PASS
from ..core.units import DISTANCE_DECIMALS, metres_all, plain
from .context import ORIGINS, REQUIRED, Context, Outcome, check, evidence_frame
from .packs.model import Rule
from .records import attribute_bound, validate_bound
from .walking import WALK_METHOD, WALK_SPEED_M_S, detour_suffixes, finite_or_nan, on_foot


def circle_m(minutes: float) -> float:
    """The walking distance (metres) of a circle of ``minutes`` at :data:`WALK_SPEED_M_S`."""
    return minutes * 60.0 * WALK_SPEED_M_S


def _validate(rid: str, params: dict[str, Any], attributes: dict[str, Attribute]) -> None:
    validate_bound("max_min")(rid, params, attributes)


@check("walk_minutes",
       {"layer": ("layer", REQUIRED), "max_min": ("number", REQUIRED),
        "attribute": ("attribute", REQUIRED)},
       "The nearest facility within a walk of some minutes: on the map (the facility and paths "
       "layers, at a stated walking speed), else the minutes of the attributes sheet.",
       _validate, reads="sheet",
       walks=lambda rule: (ORIGINS, {rule.params["layer"]: circle_m(rule.params["max_min"])}),
       on_foot=True)
def walk_minutes(ctx: Context, rule: Rule) -> Outcome:
    """Pass when the walk from the estate's entrances (else its boundary) to the nearest
    feature of ``layer`` takes at most ``max_min`` minutes at :data:`WALK_SPEED_M_S` (value:
    metres walked, judged to the millimetre against :func:`circle_m`); a feature inside the
    estate is at 0 m. Without a paths layer or ``layer``: the attribute's minutes, at most
    ``max_min`` (blank: no data).
    """
    role, minutes = rule.params["layer"], rule.params["max_min"]
    limit = circle_m(minutes)
    walked = ctx.walk(role, ORIGINS, limit)
    if walked is None:
        sheet = attribute_bound(ctx, rule, "max_min", -1)
        lacks = " or ".join(r for r in (role, "paths") if ctx.layer(r) is None)
        sheet.table["method"] += f" (the input has no {lacks} layer to measure the walk on)"
        return sheet
    d, pos = walked.distance_m, walked.facility_pos
    straight = ctx.nearest(role)["distance_m"].to_numpy()
    one = ROLES[role].one_en
    at_speed = f"{plain(minutes)} minutes at {plain(WALK_SPEED_M_S)} m/s"
    labels = ctx.label(role, pos)
    said = np.array([f"nearest {one} on foot: {lab}, {on_foot(w, limit, walked.limit_m)}"
                     + (f" ({w / 60 / WALK_SPEED_M_S:.1f} min)" if np.isfinite(w) else "")
                     if p >= 0 else f"no {one} reached: {on_foot(w, limit, walked.limit_m)}"
                     for lab, w, p in zip(labels, d, pos, strict=True)], dtype=object)
    said = said + detour_suffixes(straight, d, limit, walked.limit_m)
    empty = ctx.layer(role).empty
    table = pd.DataFrame({
        "status": np.where(np.round(d, DISTANCE_DECIMALS) <= limit, PASS, FAIL),
        "value": finite_or_nan(d), "unit": "m", "walk_m": d,
        "threshold": f"<= {plain(limit)} m on foot ({at_speed})",
        "method": (f"measured on the map: walk to the nearest {one} from the estate's entrances, "
                   f"else its boundary; {at_speed} (geocheck's reading of GB 50180-2018 "
                   f"2.0.2-2.0.4); {WALK_METHOD}"),
        "evidence": np.where(empty, f"no {ROLES[role].label_en} in the data", said)})
    has = np.flatnonzero(pos >= 0)
    routes = walked.routes()[has]
    drawn = shapely.is_geometry(routes)
    ev = evidence_frame("evidence_lines", rule, has[drawn],
                        [f"{rule.id}: {lab} {m} on foot" for lab, m
                         in zip(labels[has][drawn], metres_all(d[has][drawn], limit),
                                strict=True)],
                        d[has][drawn], routes[drawn], ctx.site.crs, limit=limit)
    return Outcome(table, [ev])
