"""Where each static map looks: the frame of an estate and its evidence, in metres.

Pure numpy and shapely (no drawing): the extent of each per-estate map, the evidence drawn on
it, and the per-estate facts the maps print (names, overall status).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ...core.errors import CRSError
from ...core.status import NOT_APPLICABLE
from ...rules.result import Result

MARGIN_M = 150.0
"""Least margin around an estate and its evidence on a per-estate map, metres."""

MIN_HALF_SPAN_M = 300.0
"""A per-estate map shows at least this far from its centre in every direction, metres."""

OVERVIEW_SIZE = (10.0, 7.5)

ESTATE_SIZE = (8.0, 6.0)
"""Figure sizes, inches (pixels = inches x dpi)."""

MAP_RECT = (0.015, 0.06, 0.70, 0.83)
"""Where the map axes sits in the figure (left, bottom, width, height as fractions); the legend
is to its right, the title above and the footnote below."""


def check_metric_crs(crs: CRS | None) -> None:
    """Refuse a CRS that is not projected in metres (the scale bar assumes 1 unit = 1 m).

    Raises
    ------
    CRSError
        For a geographic CRS (degrees), none, or a projected CRS in feet or other units.
    """
    crs = CRS.from_user_input(crs) if crs is not None else None
    units = {a.unit_name for a in crs.axis_info[:2]} if crs is not None else set()
    if crs is None or not crs.is_projected or not units <= {"metre", "meter"}:
        shown = crs.to_string() if crs is not None else "none"
        raise CRSError(f"static maps need a projected CRS in metres; the working CRS is "
                       f"{shown} ({', '.join(sorted(units)) or 'no units'})")


def fit_boxes(boxes: np.ndarray, aspect: float) -> np.ndarray:
    """Grow (k, 4) boxes about their centres to the width/height ``aspect``."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    hw, hh = (boxes[:, 2] - boxes[:, 0]) / 2, (boxes[:, 3] - boxes[:, 1]) / 2
    hw, hh = np.maximum(hw, hh * aspect), np.maximum(hh, hw / aspect)
    return np.column_stack([cx - hw, cy - hh, cx + hw, cy + hh])


def axes_aspect(size: tuple[float, float]) -> float:
    return size[0] * MAP_RECT[2] / (size[1] * MAP_RECT[3])


def drawn_evidence(result: Result) -> pd.DataFrame:
    """The evidence drawn (decisive lines and walking routes, uncovered buildings, too-close
    points) with
    ``estate_pos``, the position of its estate, sorted by it."""
    ev = result.evidence
    layer = ev["layer"].astype(object).to_numpy()
    decisive = ev["decisive"].astype(bool).to_numpy()
    keep = ((np.isin(layer, ("evidence_lines", "walk_routes")) & decisive)
            | (layer == "uncovered_buildings") | (layer == "too_close_points"))
    ids = pd.Index(result.site.estates["estate_id"].astype(str).to_numpy(dtype=object))
    pos = ids.get_indexer(ev["estate_id"].astype(str).to_numpy(dtype=object))
    keep &= pos >= 0
    order = np.argsort(pos[keep], kind="stable")
    return pd.DataFrame({"layer": layer[keep][order], "estate_pos": pos[keep][order],
                         "distance_m": ev["distance_m"].astype(float).to_numpy()[keep][order],
                         "limit_m": ev["limit_m"].astype(float).to_numpy()[keep][order],
                         "geometry": ev.geometry.to_numpy()[keep][order]})


def frames_of(estates: np.ndarray, ev: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    bounds = shapely.bounds(estates[pos])
    if len(ev):
        eb = pd.DataFrame(shapely.bounds(ev["geometry"].to_numpy()),
                          columns=["minx", "miny", "maxx", "maxy"])
        eb = eb.groupby(ev["estate_pos"].to_numpy()).agg(
            {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"})
        hit = eb.index.get_indexer(pos)
        has = hit >= 0
        b = eb.to_numpy()[hit[has]]
        bounds[has, :2] = np.minimum(bounds[has, :2], b[:, :2])
        bounds[has, 2:] = np.maximum(bounds[has, 2:], b[:, 2:])
    span = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    pad = np.maximum(MARGIN_M, span / 10)[:, None]
    lo, hi = bounds[:, :2] - pad, bounds[:, 2:] + pad
    centre = (lo + hi) / 2
    lo, hi = np.minimum(lo, centre - MIN_HALF_SPAN_M), np.maximum(hi, centre + MIN_HALF_SPAN_M)
    return fit_boxes(np.column_stack([lo, hi]), axes_aspect(ESTATE_SIZE))


def estate_frames(result: Result, positions: Sequence[int] | None = None) -> np.ndarray:
    """The extent of each per-estate map, as (k, 4) ``minx, miny, maxx, maxy`` in metres.

    The estate and its evidence (decisive lines, uncovered buildings, too-close points), with a
    margin of at least :data:`MARGIN_M` (or a tenth of their extent), reaching at least
    :data:`MIN_HALF_SPAN_M` each way from the centre, grown to the map's aspect.
    """
    est = result.site.estates
    pos = np.arange(len(est)) if positions is None else np.asarray(positions, dtype=int)
    return frames_of(est.geometry.to_numpy(), drawn_evidence(result), pos)


def estate_names(result: Result) -> np.ndarray:
    """Each estate's name as text, or its id when it has none."""
    est = result.site.estates
    names = est["name"].astype(object).to_numpy()
    ids = est["estate_id"].astype(str).to_numpy(dtype=object)
    blank = pd.isna(names)
    names = np.where(blank, "", names).astype(str)
    return np.where(np.char.strip(names) == "", ids, names).astype(object)


def overall_in_order(result: Result) -> np.ndarray:
    """Each estate's overall status, in site order (not_applicable for a pack with no rules)."""
    overall = result.overall()
    index = pd.Index(overall.index.astype(str).to_numpy(dtype=object))
    hit = index.get_indexer(result.site.estates["estate_id"].astype(str).to_numpy(dtype=object))
    return np.where(hit >= 0, overall.to_numpy(dtype=object)[hit], NOT_APPLICABLE)


def split_hits(pairs: np.ndarray, k: int) -> list[np.ndarray]:
    """Spatial-index hits ``(2, n)`` [frame, feature] -> per frame, its features in order."""
    order = np.lexsort((pairs[1], pairs[0]))
    frame, feature = pairs[0][order], pairs[1][order]
    cuts = np.searchsorted(frame, np.arange(k + 1))
    return [feature[cuts[i]:cuts[i + 1]] for i in range(k)]
