"""Static maps (PNG) for printed reports: the whole site, and one map per estate.

Drawn with matplotlib's Agg canvas in the working CRS (projected, metres), with no web tiles, so
they work offline: green space light green, buildings light grey (uncovered buildings red),
estates filled and outlined in their overall verdict's colour, facility points by role, decisive
evidence lines dashed red with their distance, too-close points as red rings. Every map has a
title, a legend, a scale bar and a north arrow (in the margin under the legend; it points to
grid north, the CRS's "up", which in a Gauss-Kruger or UTM zone differs from true north by the
meridian convergence, a degree or two). The footnote names the CRS.

Name labels: the overview names every estate when there are at most :data:`LABEL_MAX`; beyond,
only the failing ones if they are at most :data:`LABEL_MAX`, else none (the footnote says
which). Evidence distances are written on the overview up to :data:`LABEL_MAX` lines. On a
city-wide overview, point symbols and line widths shrink with the scale (see
:meth:`.figure.MapFigure.scale_symbols`). A per-estate map names its estate in bold and up to
:data:`NEIGHBOUR_LABEL_MAX` neighbours in grey, and draws that estate's evidence only.

Figures are built with :class:`matplotlib.figure.Figure` and ``FigureCanvasAgg``, never pyplot,
and the CJK font is passed to each text: no global matplotlib state is read or changed but
matplotlib's defaults. Each layer is drawn as one compound path per colour, built from
:func:`shapely.to_ragged_array` with numpy. Per-estate maps share one figure: the fixed parts
(legend, title, north arrow) are drawn once into a background, and for each estate only the
features whose envelope meets its frame (one spatial-index query per layer for all frames) are
drawn over it. Drawing every feature once and only moving the view was measured and is three
to four times slower (Agg still rasterises the filled paths outside the view). The polygons a
chunk of maps shows are converted to paths once for the chunk (:class:`.paths.PathTable`).
Labels, the subtitle and the scale bar's length are not laid out by matplotlib on every map:
each glyph is rasterised once and each label blended into the canvas from a bitmap kept by the
figure (:mod:`.overlay`). The layers are drawn with the renderer calls matplotlib would make,
without ``Axes.draw_artist`` (:mod:`.draw`). The PNG is indexed, its palette chosen with numpy
once a run of one colour (:func:`geocheck.views.style.encode_png`); a chunk's maps are encoded
in a second thread, in order, while the next map is drawn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ...core.errors import GeocheckError
from ...core.progress import QUIET, Progress
from ...core.status import FAIL, WORST_FIRST
from ...rules.result import Result
from ..style import STATUS_COLOURS, cjk_font
from ..text import LANGS
from .frames import (
    ESTATE_SIZE,
    MAP_RECT,
    MARGIN_M,
    MIN_HALF_SPAN_M,
    OVERVIEW_SIZE,
    axes_aspect,
    check_metric_crs,
    estate_frames,
    fit_boxes,
    frames_of,
    split_hits,
)

if TYPE_CHECKING:  # matplotlib is imported only when a map is drawn (see .figure)
    from matplotlib.figure import Figure

    from .figure import MapFigure

__all__ = ["ESTATE_SIZE", "MAP_RECT", "MARGIN_M", "MIN_HALF_SPAN_M", "OVERVIEW_SIZE",
           "EstateMaps", "check_metric_crs", "estate_figure", "estate_frames", "estate_pngs",
           "overview_figure", "overview_png"]

LABEL_MAX = 60
"""Most estate names (and evidence distances) written on the overview; see the module text."""
NEIGHBOUR_LABEL_MAX = 30
"""Most neighbouring estates named on a per-estate map."""
ENCODE_AHEAD = 2
"""Per-estate maps drawn and waiting to be encoded at most (each a copy of the canvas,
2.3 MB at 110 dpi)."""


def overview_figure(result: Result, *, dpi: int = 150, lang: str = "zh") -> Figure:
    """The overview map of the whole site, as a matplotlib Figure (Agg canvas, not pyplot).

    ``fig.axes[0]`` is the map, in the working CRS (metres); after drawing, its ``transData``
    maps coordinates to pixels of the PNG (origin at the bottom left). See
    :func:`overview_png`.
    """
    return _overview(result, dpi, lang).fig


def _overview(result: Result, dpi: int, lang: str) -> MapFigure:
    from .figure import MapFigure, status_label  # matplotlib, loaded when a map is drawn

    m = MapFigure(result, OVERVIEW_SIZE, dpi, lang)
    n = len(m.estates)
    if n == 0:
        raise GeocheckError("there are no estates to map")
    everything = {role: np.arange(len(layer.geoms)) for role, layer in m.layers.items()}
    everything["estates"] = np.arange(n)
    failing = np.flatnonzero(m.status == FAIL)
    note = ""
    if n <= LABEL_MAX:
        labels = np.arange(n)
    elif len(failing) <= LABEL_MAX:
        labels, note = failing, m.text["labels_failing"]
    else:
        labels, note = np.empty(0, dtype=int), m.text["labels_none"]
    n_lines = int((m.evidence["layer"] == "evidence_lines").sum())
    bounds = shapely.bounds(np.r_[m.estates, m.evidence["geometry"].to_numpy()])
    box = np.r_[np.nanmin(bounds[:, :2], axis=0), np.nanmax(bounds[:, 2:], axis=0)]
    pad = max(0.04 * max(box[2] - box[0], box[3] - box[1]), 50.0)
    box = fit_boxes((box + np.array([-pad, -pad, pad, pad]))[None, :], axes_aspect(OVERVIEW_SIZE))
    m.scale_symbols(box[0])
    m.show(box[0], everything, m.evidence, labels, distances=n_lines <= LABEL_MAX)
    counts = pd.Series(m.status).value_counts()
    t = m.text
    parts = [t["count"].format(label=status_label(s, lang), k=f"{counts[s]:,}")
             for s in WORST_FIRST if s in counts]
    m.subtitle.set_text(t["overview"].format(n=f"{n:,}", counts=", ".join(parts)))
    if note:
        m.footnote.set_text(m.footnote.get_text() + " · " + note)
    return m


def overview_png(result: Result, *, dpi: int = 150, lang: str = "zh") -> bytes:
    """The overview map of the whole site as PNG bytes.

    Parameters
    ----------
    result : a check result; its working CRS must be projected in metres.
    dpi : resolution; the image is :data:`OVERVIEW_SIZE` inches (10 x 7.5) times ``dpi``
        pixels (1500 x 1125 at 150 dpi).
    lang : ``"zh"`` or ``"en"``: title, legend and notes.

    Raises
    ------
    CRSError
        When the working CRS is not projected in metres.
    GeocheckError
        When no installed font renders Chinese (see :func:`cjk_font`), or there are no
        estates.
    """
    return _overview(result, dpi, lang).png()


class EstateMaps:
    """One map per estate, drawn with one figure: the legend, title and other fixed parts are
    drawn once and each estate's map over them.

    Make one for a result, then ask it for successive chunks of estates (:meth:`pngs`): they
    share the figure and its background.

    Parameters
    ----------
    result : a check result; its working CRS must be projected in metres.
    dpi : resolution; each image is :data:`ESTATE_SIZE` inches (8 x 6) times ``dpi`` pixels
        (880 x 660 at 110 dpi).
    lang : ``"zh"`` or ``"en"``.

    Raises
    ------
    CRSError
        When the working CRS is not projected in metres.
    GeocheckError
        When no installed font renders Chinese, or ``lang`` is neither zh nor en.
    """

    def __init__(self, result: Result, *, dpi: int = 110, lang: str = "zh") -> None:
        check_metric_crs(result.site.crs)
        cjk_font()
        if lang not in LANGS:
            raise GeocheckError(f"unknown map language {lang!r}: choose zh or en")
        self.result, self.dpi, self.lang = result, dpi, lang
        self._figure: MapFigure | None = None

    def pngs(self, positions: Sequence[int] | None = None) -> dict[str, bytes]:
        """The maps of the estates at ``positions`` (rows of ``result.site.estates``; None for
        all) as PNG bytes, keyed by estate_id.

        Each map is framed on its estate and that estate's evidence (see
        :func:`estate_frames`), shows every layer in the frame, names the estate (its
        neighbours in grey), draws this estate's evidence only, and gives its overall status in
        the title.

        Raises
        ------
        GeocheckError
            When a position is out of range.
        """
        ids = self.result.site.estates["estate_id"].astype(str).to_numpy(dtype=object)
        out: dict[str, bytes] = {}
        pending: deque[tuple[str, Future[bytes]]] = deque()
        # Each map is encoded (its palette, zlib) in a second thread while the next is drawn;
        # one thread, so the maps are encoded in order (they share the colour numbering).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geocheck-png") as pool:
            for p, m in self._maps(positions):
                pending.append((ids[p], pool.submit(m.encode, m.draw_over())))
                if len(pending) > ENCODE_AHEAD:
                    key, png = pending.popleft()
                    out[key] = png.result()
            for key, png in pending:
                out[key] = png.result()
        return out

    def _maps(self, positions: Sequence[int] | None) -> Iterator[tuple[int, MapFigure]]:
        """Yield (position, figure) with the figure set to show each estate's map in turn."""
        from .figure import MapFigure, status_label  # matplotlib, loaded when a map is drawn

        result, lang = self.result, self.lang
        est = result.site.estates
        pos = np.arange(len(est)) if positions is None else np.asarray(positions, dtype=int)
        if len(pos) and (pos.min() < 0 or pos.max() >= len(est)):
            raise GeocheckError(f"estate positions must be within 0..{len(est) - 1}")
        if not len(pos):
            return
        if self._figure is None:
            self._figure = MapFigure(result, ESTATE_SIZE, self.dpi, lang)
        m = self._figure
        frames = frames_of(m.estates, m.evidence, pos)
        boxes = shapely.box(*frames.T)
        hits = {role: split_hits(result.site.layer(role).sindex.query(boxes), len(pos))
                for role in m.layers}
        hits["estates"] = split_hits(est.sindex.query(boxes), len(pos))
        m.prepare(hits)
        ev_pos = m.evidence["estate_pos"].to_numpy()
        ev = {c: m.evidence[c].to_numpy(dtype=float if c in ("distance_m", "limit_m") else object)
              for c in ("layer", "geometry", "distance_m", "limit_m")}
        starts = np.searchsorted(ev_pos, pos, side="left")
        ends = np.searchsorted(ev_pos, pos, side="right")
        ids = est["estate_id"].astype(str).to_numpy(dtype=object)
        t = m.text
        for k, p in enumerate(pos):
            index = {role: idx[k] for role, idx in hits.items()}
            near, box = index["estates"], frames[k]
            xy = m.estate_xy[near]
            inside = ((xy[:, 0] > box[0]) & (xy[:, 0] < box[2]) & (xy[:, 1] > box[1])
                      & (xy[:, 1] < box[3]) & (near != p))
            labels = np.r_[near[inside][:NEIGHBOUR_LABEL_MAX], p]
            m.show(box, index, {c: v[starts[k]:ends[k]] for c, v in ev.items()}, labels, own=p)
            name, eid = m.names[p], ids[p]
            head = name if name == eid else (f"{name}（{eid}）" if lang == "zh"
                                             else f"{name} ({eid})")
            m.subtitle.set_text(f"{head} · {t['overall']}{'：' if lang == 'zh' else ': '}"
                                f"{status_label(m.status[p], lang)}")
            m.subtitle.set_color(STATUS_COLOURS[m.status[p]])
            yield int(p), m


def estate_figure(result: Result, position: int, *, dpi: int = 110,
                  lang: str = "zh") -> Figure:
    """The map of the estate at row ``position`` of ``result.site.estates``, as a Figure.

    ``fig.axes[0]`` is the map in the working CRS (metres); see :class:`EstateMaps`.
    """
    for _, m in EstateMaps(result, dpi=dpi, lang=lang)._maps([position]):
        return m.fig
    raise GeocheckError(f"no estate at position {position}")


def estate_pngs(result: Result, positions: Sequence[int] | None = None, *, dpi: int = 110,
                lang: str = "zh") -> dict[str, bytes]:
    """One map per estate as PNG bytes, keyed by estate_id: :meth:`EstateMaps.pngs` of a new
    :class:`EstateMaps` (to draw many estates in chunks, keep one EstateMaps instead)."""
    return EstateMaps(result, dpi=dpi, lang=lang).pngs(positions)


MAP_CHUNK = 50
"""Estate maps are drawn this many at a time by :func:`draw_maps`, so that progress can be
shown between chunks."""


def draw_maps(result: Result, *, lang: str = "zh", positions: Sequence[int] = (),
              progress: Progress = QUIET) -> tuple[bytes, dict[str, bytes]]:
    """The overview map and the maps of the estates at ``positions``, as PNG bytes (the
    estate maps by estate id), with a progress step every :data:`MAP_CHUNK` maps."""
    overview = overview_png(result, lang=lang)
    pngs: dict[str, bytes] = {}
    k = len(positions)
    if k:
        maps = EstateMaps(result, lang=lang)
        for start in range(0, k, MAP_CHUNK):
            progress.step(start, k)
            pngs.update(maps.pngs(positions[start:start + MAP_CHUNK]))
    return overview, pngs
