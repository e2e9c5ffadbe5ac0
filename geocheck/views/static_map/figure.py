"""The drawing of a static map: one matplotlib figure whose artists are made once and shown
again for each map (see :mod:`geocheck.views.static_map`).

This is the module that imports matplotlib; :mod:`geocheck.views.static_map` imports it only
when a map is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from ...core.errors import GeocheckError
from ...core.roles import ROLES
from ...core.units import metres
from ...rules.result import Result
from ..style import (
    EVIDENCE_COLOUR,
    PATH_COLOUR,
    ROLE_COLOURS,
    ROUTE_COLOUR,
    STATUS_COLOURS,
    ColourIndex,
    cjk_font,
    encode_png,
    sized_font,
)
from ..text import STATUS_TEXT
from .draw import LayerDrawer
from .frames import MAP_RECT, check_metric_crs, drawn_evidence, estate_names, overall_in_order
from .overlay import Label, MapLabels, MapScaleBar, StampedText, Stamps
from .paths import EMPTY_PATH, PathTable, line_path, polygon_path

FULL_SYMBOLS_M_PER_PT = 8.0
"""Map scale (metres per typographic point) up to which symbols are drawn at full size."""

FILL_ALPHA = 0.35
"""Opacity of an estate's verdict fill (its outline is opaque). The fill is drawn first, on
the white background, so it is drawn as the opaque colour this gives there: the same pixels,
in half the time (where two estates overlap, the one drawn later covers the other)."""

GREEN_COLOUR = "#c7e9c0"

BUILDING_COLOUR = "#d4d4d4"

BACKGROUND = "#ffffff"

TEXT = {
    "zh": {"verdict": "小区评定", "layers": "图层", "facilities": "设施", "evidence": "证据",
           "line": "判定距离线", "route": "步行路线",
           "uncovered": "服务半径外的建筑",
           "too_close": "距建筑过近的点", "north": "北", "overall": "总体评定",
           "overview": "小区总览：{n} 个小区（{counts}）", "count": "{label} {k}",
           "labels_failing": "名称标注：仅不达标小区", "labels_none": "小区过多，未标注名称",
           "crs": "坐标系 {crs}（米），上方为坐标北"},
    "en": {"verdict": "Estate verdict", "layers": "Layers", "facilities": "Facilities",
           "evidence": "Evidence", "line": "evidence line (distance)",
           "route": "walking route",
           "uncovered": "building beyond service radius",
           "too_close": "point too close to a building", "north": "N", "overall": "overall",
           "overview": "Overview: {n} estates ({counts})", "count": "{k} {label}",
           "labels_failing": "names shown for failing estates only",
           "labels_none": "too many estates to name",
           "crs": "{crs}, metres; up is grid north"},
}

_ANGLES = np.linspace(0, 2 * np.pi, 49)
CIRCLE = MplPath(np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)]), closed=True)
"""The point symbol: a circle as a 48-gon, the size of matplotlib's "o". A symbol of curves
would cost a few milliseconds a map: matplotlib finds its extent by solving the curves anew
at every draw."""


def anchor_points(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates of a point on each geometry (the point itself for points; NaN for a
    missing or empty geometry)."""
    geoms = np.asarray(geoms, dtype=object)
    points = geoms.copy()
    other = shapely.get_type_id(geoms) != 0  # a point is its own point on surface
    points[other] = shapely.point_on_surface(geoms[other])
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)]).reshape(-1, 2)


def status_label(status: str, lang: str) -> str:
    """A verdict's name in ``lang``."""
    return STATUS_TEXT[lang][status]


def two_lines(name: str, longest: int = 6) -> str:
    """A name longer than ``longest`` characters broken in the middle (overview labels)."""
    if len(name) <= longest or "\n" in name:
        return name
    middle = (len(name) + 1) // 2
    return f"{name[:middle]}\n{name[middle:]}"


@dataclass
class _Layer:
    """One drawn layer: its geometries; for facility roles, a point per feature."""

    geoms: np.ndarray
    xy: np.ndarray
    is_polygon: np.ndarray


def _prepare(result: Result) -> dict[str, _Layer]:
    layers = {}
    for role in ("paths", "green_space", "buildings", *ROLE_COLOURS):
        gdf = result.site.layer(role)
        if gdf is None or gdf.empty:
            continue
        geoms = gdf.geometry.to_numpy()
        polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
        xy = anchor_points(geoms) if role in ROLE_COLOURS else np.empty((0, 2))
        layers[role] = _Layer(geoms, xy, polygon)
    return layers


def _pale(colour: str, alpha: float) -> tuple[float, float, float]:
    """``colour`` at ``alpha`` over the white background, as an opaque colour."""
    rgb = alpha * np.asarray(to_rgb(colour)) + (1 - alpha) * np.asarray(to_rgb(BACKGROUND))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


class MapFigure:
    """A figure with every artist of a map made once; :meth:`show` sets what it draws.

    ``dynamic`` are the artists that change from map to map (drawn over a saved background
    by :meth:`blit`), in drawing order.
    """

    def __init__(self, result: Result, size: tuple[float, float], dpi: int, lang: str) -> None:
        check_metric_crs(result.site.crs)
        if lang not in TEXT:
            raise GeocheckError(f"unknown map language {lang!r}: choose zh or en")
        self.result, self.lang, self.text, self.dpi = result, lang, TEXT[lang], dpi
        self.font = cjk_font()
        self.layers = _prepare(result)
        self.status = overall_in_order(result)
        self.names = estate_names(result)
        self.estates = result.site.estates.geometry.to_numpy()
        self.estate_xy = anchor_points(self.estates)
        self.evidence = drawn_evidence(result)
        self.fig = Figure(figsize=size, dpi=dpi, facecolor=BACKGROUND)
        FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes(MAP_RECT)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_facecolor(BACKGROUND)
        # the frame: one rectangle over the map (four spines cost four draws a map)
        for spine in ax.spines.values():
            spine.set_visible(False)
        self.frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, clip_on=False,
                               edgecolor="black", linewidth=rcParams["axes.linewidth"],
                               zorder=9.5)
        ax.add_patch(self.frame)
        self.stamps = Stamps(dpi)
        self.labels = MapLabels(self.stamps, zorder=9)
        ax.add_artist(self.labels)
        self._artists()
        self._furniture()
        self._background = None
        self._drawer = LayerDrawer()
        self.colours = ColourIndex()
        self._tables: dict[str, tuple[np.ndarray, PathTable]] = {}

    # artists made once; their paths and offsets are set per map
    def _patch(self, z: float, **style: object) -> PathPatch:
        patch = PathPatch(EMPTY_PATH, zorder=z, **style)
        self.ax.add_patch(patch)
        return patch

    def _points(self, z: float, **style: object) -> PathCollection:
        return self.ax.scatter(np.empty(0), np.empty(0), zorder=z, **style)

    def _artists(self) -> None:
        red = EVIDENCE_COLOUR
        self.fills = {s: self._patch(1, facecolor=_pale(c, FILL_ALPHA), edgecolor="none")
                      for s, c in STATUS_COLOURS.items()}
        self.paths = self._patch(1.5, fill=False, edgecolor=PATH_COLOUR, linewidth=0.4)
        self.green = self._patch(2, facecolor=GREEN_COLOUR, edgecolor="none")
        self.buildings = self._patch(3, facecolor=BUILDING_COLOUR, edgecolor="#a8a8a8",
                                     linewidth=0.3)
        self.uncovered = self._patch(4, facecolor=_pale(red, 0.75), edgecolor=red,
                                     linewidth=0.6)
        self.outlines = {s: self._patch(5, facecolor="none", edgecolor=c, linewidth=1.4)
                         for s, c in STATUS_COLOURS.items()}
        self.role_outlines = {r: self._patch(5.5, facecolor="none", edgecolor=c, linewidth=0.8)
                              for r, c in ROLE_COLOURS.items() if r in self.layers}
        self.lines = self._patch(6, fill=False, edgecolor=red, linewidth=1.6,
                                 linestyle=(0, (4, 2.5)))
        self.routes = self._patch(5.8, fill=False, edgecolor=ROUTE_COLOUR, linewidth=1.2,
                                  linestyle=(0, (1, 2)))
        self.points = {r: self._points(7, s=14 if r == "entrances" else 26, c=c,
                                       edgecolors="white", linewidths=0.6,
                                       marker="s" if r == "entrances" else CIRCLE)
                       for r, c in ROLE_COLOURS.items() if r in self.layers}
        self.rings = self._points(8, s=150, facecolors="none", edgecolors=red, linewidths=2.0,
                                  marker=CIRCLE)

    def _furniture(self) -> None:
        """Scale bar, north arrow, legend, title, subtitle and footnote."""
        t, font, ax = self.text, self.font, self.ax
        self.scalebar = MapScaleBar(self.stamps, font, zorder=9.6)
        ax.add_artist(self.scalebar)
        # The north arrow stands in the margin, below the legend: it is the same on every map.
        x, base = MAP_RECT[0] + MAP_RECT[2] + 0.10, MAP_RECT[1] + 0.04
        self.fig.add_artist(FancyArrowPatch((x, base), (x, base + 0.11),
                                            transform=self.fig.transFigure, color="black",
                                            arrowstyle="-|>,head_width=4,head_length=8",
                                            linewidth=1.8))
        self.fig.text(x, base + 0.12, t["north"], ha="center", va="bottom",
                      fontproperties=sized_font(font, 12, "bold"), parse_math=False)
        self._legend()
        x0 = MAP_RECT[0]
        pack = self.result.pack
        title = pack.title_zh if self.lang == "zh" else pack.title_en
        self.title = self.fig.text(x0, 0.975, title, va="top", ha="left",
                                   fontproperties=sized_font(font, 11, "bold"), parse_math=False)
        room = self.fig.bbox.width * (1 - 2 * x0)
        for _ in range(4):  # a long pack title is set smaller, on one line
            width = self.title.get_window_extent(self.fig.canvas.get_renderer()).width
            if width <= room:
                break
            self.title.set_fontsize(self.title.get_fontsize() * room / width * 0.98)
        # drawn on every map: rasterised once per text (see .overlay)
        self.subtitle = StampedText(self.stamps, x0, MAP_RECT[1] + MAP_RECT[3] + 0.012, "",
                                    va="bottom", ha="left", parse_math=False,
                                    fontproperties=sized_font(font, 10),
                                    transform=self.fig.transFigure, figure=self.fig)
        self.fig.texts.append(self.subtitle)
        crs = self.result.site.crs
        self.footnote = self.fig.text(x0, 0.018, t["crs"].format(crs=f"{crs.to_string()} "
                                                                   f"{crs.name}"),
                                      va="bottom", ha="left", color="#555555",
                                      fontproperties=sized_font(font, 7), parse_math=False)

    def _legend(self) -> None:
        t, lang, red = self.text, self.lang, EVIDENCE_COLOUR
        rows: list[tuple[Artist, str, bool]] = [(_NO_HANDLE, t["verdict"], True)]
        rows += [(Patch(facecolor=to_rgba(c, FILL_ALPHA), edgecolor=c, linewidth=1.4),
                  status_label(s, lang), False) for s, c in STATUS_COLOURS.items()]
        base = [(Patch(facecolor=colour, edgecolor=edge, linewidth=0.5),
                 self._role_label(role), False)
                for role, colour, edge in (("green_space", GREEN_COLOUR, "none"),
                                           ("buildings", BUILDING_COLOUR, "#a8a8a8"))
                if role in self.layers]
        if "paths" in self.layers:
            base.append((Line2D([], [], color=PATH_COLOUR, linewidth=0.8),
                         self._role_label("paths"), False))
        if base:
            rows += [(_NO_HANDLE, t["layers"], True), *base]
        roles = [r for r in ROLE_COLOURS if r in self.layers]
        if roles:
            rows.append((_NO_HANDLE, t["facilities"], True))
            rows += [(Line2D([], [], linestyle="none", marker="s" if r == "entrances" else "o",
                             markerfacecolor=ROLE_COLOURS[r], markeredgecolor="white",
                             markersize=6), self._role_label(r), False) for r in roles]
        evidence = [
            ("evidence_lines", Line2D([], [], color=red, linewidth=1.6, linestyle=(0, (4, 2.5))),
             t["line"]),
            ("walk_routes", Line2D([], [], color=ROUTE_COLOUR, linewidth=1.2,
                                   linestyle=(0, (1, 2))), t["route"]),
            ("uncovered_buildings", Patch(facecolor=_pale(red, 0.75), edgecolor=red),
             t["uncovered"]),
            ("too_close_points", Line2D([], [], linestyle="none", marker="o", markersize=10,
                                        markerfacecolor="none", markeredgecolor=red,
                                        markeredgewidth=2), t["too_close"]),
        ]
        kinds = set(self.evidence["layer"].unique())
        if kinds:
            rows.append((_NO_HANDLE, t["evidence"], True))
            rows += [(h, label, False) for kind, h, label in evidence if kind in kinds]
        left = MAP_RECT[0] + MAP_RECT[2] + 0.012
        legend = self.fig.legend([r[0] for r in rows], [r[1] for r in rows], loc="upper left",
                                 bbox_to_anchor=(left, MAP_RECT[1] + MAP_RECT[3]),
                                 prop=sized_font(self.font, 8), frameon=False, handlelength=1.8,
                                 borderaxespad=0, labelspacing=0.45)
        for text, row in zip(legend.get_texts(), rows, strict=True):
            text.set_parse_math(False)
            if row[2]:
                text.set_fontproperties(sized_font(self.font, 8.5, "bold"))

    def _role_label(self, role: str) -> str:
        return ROLES[role].label_zh if self.lang == "zh" else ROLES[role].label_en

    @property
    def dynamic(self) -> list[Artist]:
        artists = [*self.fills.values(), self.paths, self.green, self.buildings, self.uncovered,
                   *self.outlines.values(), *self.role_outlines.values(), self.routes,
                   self.lines, *self.points.values(), self.rings, self.labels,
                   self.frame, self.scalebar]
        return sorted(artists, key=lambda a: a.get_zorder())

    def scale_symbols(self, box: np.ndarray) -> None:
        """Shrink point symbols and line widths on a small-scale map (a city overview), so
        that they do not bury the estates: full size up to :data:`FULL_SYMBOLS_M_PER_PT`
        metres per point of the map, proportionally smaller beyond (at least a fifth)."""
        width_pt = self.fig.get_figwidth() * MAP_RECT[2] * 72
        k = float(np.clip(FULL_SYMBOLS_M_PER_PT / ((box[2] - box[0]) / width_pt), 0.2, 1.0))
        if k == 1.0:
            return
        for artist in (*self.points.values(), self.rings):
            artist.set_sizes(artist.get_sizes() * k * k)
            artist.set_linewidths(np.asarray(artist.get_linewidths()) * k)
        for patch in (*self.outlines.values(), *self.role_outlines.values(), self.lines,
                      self.routes, self.uncovered):
            patch.set_linewidth(max(patch.get_linewidth() * k, 0.3))
        self.buildings.set_linewidth(0)
        self.paths.set_linewidth(max(self.paths.get_linewidth() * k, 0.2))

    def prepare(self, hits: dict[str, list[np.ndarray]]) -> None:
        """Convert once the polygons that some maps to come will show: ``hits`` gives per
        layer (and for ``estates``) the positions each map shows (see :class:`.PathTable`)."""
        self._tables = {}
        for key, per_map in hits.items():
            if key == "paths" or not per_map:
                continue
            union = np.unique(np.concatenate(per_map))
            geoms = self.estates if key == "estates" else self.layers[key].geoms
            self._tables[key] = (union, PathTable(geoms[union]))

    def _polygons(self, key: str, positions: np.ndarray) -> MplPath:
        """The compound path of the polygons at ``positions`` of a layer (or ``estates``)."""
        if not len(positions):
            return EMPTY_PATH
        if key in self._tables:
            union, table = self._tables[key]
            local = np.searchsorted(union, positions)
            if len(local) == 0 or (local.max() < len(union)
                                   and np.array_equal(union[local], positions)):
                return table.path(local)
        geoms = self.estates if key == "estates" else self.layers[key].geoms
        return polygon_path(geoms[positions])

    def show(self, box: np.ndarray, index: dict[str, np.ndarray],
             ev: pd.DataFrame | dict[str, np.ndarray], labels: np.ndarray, own: int | None = None,
             distances: bool = True) -> None:
        """Set the features drawn (``index``: positions per layer and for ``estates``), the
        evidence rows ``ev`` (a frame like :attr:`evidence`, or its columns as arrays), name
        labels for the estates at ``labels`` (``own``: the map's estate, in bold; the others
        grey) and the view ``box`` (minx, miny, maxx, maxy, m)."""
        layers = self.layers
        for role, patch in (("green_space", self.green), ("buildings", self.buildings)):
            if role in layers:
                patch.set_path(self._polygons(role, index[role]))
        if "paths" in layers:
            self.paths.set_path(line_path(layers["paths"].geoms[index["paths"]]))
        est = index["estates"]
        for status in STATUS_COLOURS:
            path = self._polygons("estates", est[self.status[est] == status])
            self.fills[status].set_path(path)
            self.outlines[status].set_path(path)
        for role, points in self.points.items():
            i = index[role]
            _set_points(points, layers[role].xy[i])
            self.role_outlines[role].set_path(
                self._polygons(role, i[layers[role].is_polygon[i]]))
        kind = np.asarray(ev["layer"], dtype=object)
        geoms = np.asarray(ev["geometry"], dtype=object)
        lines = geoms[kind == "evidence_lines"]
        self.lines.set_path(line_path(lines))
        self.routes.set_path(line_path(geoms[kind == "walk_routes"]))
        self.uncovered.set_path(polygon_path(geoms[kind == "uncovered_buildings"]))
        _set_points(self.rings, anchor_points(geoms[kind == "too_close_points"]).reshape(-1, 2))
        plain = sized_font(self.font, 7 if own is None else 8)
        bold = sized_font(self.font, 10, "bold")
        xy = self.estate_xy
        drawn = [Label(xy[k, 0], xy[k, 1],
                       self.names[k] if own is not None else two_lines(self.names[k]),
                       bold if k == own else plain,
                       "black" if own is None or k == own else "#555555") for k in labels]
        if distances and len(lines):
            mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5,
                                                                         normalized=True))
            dist = np.asarray(ev["distance_m"])[kind == "evidence_lines"]
            limit = np.asarray(ev["limit_m"], dtype=float)[kind == "evidence_lines"]
            font = sized_font(self.font, 8, "bold")
            # whole metres, more places where they would read as the other verdict
            drawn += [Label(x, y, metres(d, lim, decimals=0), font, EVIDENCE_COLOUR)
                      for (x, y), d, lim in zip(mid, dist, limit, strict=True)]
        self.labels.set_labels(drawn)
        self.ax.set_xlim(box[0], box[2])
        self.ax.set_ylim(box[1], box[3])

    def png(self) -> bytes:
        """Draw the whole figure; PNG bytes."""
        self.fig.canvas.draw()
        return self._encode()

    def blit(self) -> bytes:
        """Draw only the dynamic artists over the saved background; PNG bytes (the same
        pixels as :meth:`png`, since nothing else changes from map to map)."""
        return self.encode(self.draw_over())

    def draw_over(self) -> np.ndarray:
        """Draw only the dynamic artists over the saved background (see :meth:`blit`); a copy
        of the canvas, (h, w, 4) RGBA, for :meth:`encode`."""
        canvas = self.fig.canvas
        if self._background is None:
            dynamic = self.dynamic
            for artist in dynamic:
                artist.set_visible(False)
            self.subtitle.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            for artist in dynamic:
                artist.set_visible(True)
            self.subtitle.set_visible(True)
        canvas.restore_region(self._background)
        self.ax.apply_aspect()
        renderer = canvas.get_renderer()
        self._drawer.draw(renderer, [a for a in self.dynamic if not _empty(a)], self.ax.transData)
        self.subtitle.draw(renderer)
        return np.array(canvas.buffer_rgba())

    def encode(self, rgba: np.ndarray) -> bytes:
        """PNG bytes of a canvas drawn by this figure (indexed, see
        :func:`geocheck.views.style.encode_png`). Images of one figure must be encoded in
        the order drawn, one at a time: they share the figure's colour numbering (which
        leaves the bytes as they would be without it)."""
        return encode_png(rgba, self.dpi, palette=True, colours=self.colours)

    def _encode(self) -> bytes:
        return self.encode(np.asarray(self.fig.canvas.buffer_rgba()))


def _set_points(points: PathCollection, xy: np.ndarray) -> None:
    """Set the points' offsets, unless they stay none (``set_offsets`` converts units)."""
    if len(xy) or len(points.get_offsets()):
        points.set_offsets(xy)


def _empty(artist: Artist) -> bool:
    """True for a patch or point collection with nothing to draw."""
    if isinstance(artist, PathPatch):
        return len(artist.get_path().vertices) == 0
    return isinstance(artist, PathCollection) and len(artist.get_offsets()) == 0


_NO_HANDLE = Line2D([], [], linestyle="none")
"""An empty legend handle, for the legend's section headings."""
