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
:meth:`_MapFigure.scale_symbols`). A per-estate map names its estate in bold and up to
:data:`NEIGHBOUR_LABEL_MAX` neighbours in grey, and draws that estate's evidence only.

Figures are built with :class:`matplotlib.figure.Figure` and ``FigureCanvasAgg``, never pyplot,
and the CJK font is passed to each text: no global matplotlib state is read or changed but
matplotlib's defaults. Each layer is drawn as one compound path per colour, built from
:func:`shapely.to_ragged_array` with numpy. Per-estate maps share one figure: the fixed parts
(legend, title, north arrow) are drawn once into a background, and for each estate only the
features whose envelope meets its frame (one spatial-index query per layer for all frames) are
drawn over it. Drawing every feature once and only moving the view was measured and is three
to four times slower (Agg still rasterises the filled paths outside the view).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib_scalebar.scalebar import ScaleBar
from pyproj import CRS

from .core.errors import CRSError, GeocheckError
from .core.roles import ROLES
from .core.status import (
    FAIL,
    NOT_APPLICABLE,
    WORST_FIRST,
)
from .rules.result import Result
from .webmap import EVIDENCE_COLOUR, ROLE_COLOURS, STATUS_COLOURS, STATUS_LABELS

LABEL_MAX = 60
"""Most estate names (and evidence distances) written on the overview; see the module text."""
NEIGHBOUR_LABEL_MAX = 30
"""Most neighbouring estates named on a per-estate map."""
MARGIN_M = 150.0
"""Least margin around an estate and its evidence on a per-estate map, metres."""
MIN_HALF_SPAN_M = 300.0
"""A per-estate map shows at least this far from its centre in every direction, metres."""
FULL_SYMBOLS_M_PER_PT = 8.0
"""Map scale (metres per typographic point) up to which symbols are drawn at full size."""
FILL_ALPHA = 0.35
"""Opacity of an estate's verdict fill (its outline is opaque)."""
GREEN_COLOUR = "#c7e9c0"
BUILDING_COLOUR = "#d4d4d4"
BACKGROUND = "#ffffff"
OVERVIEW_SIZE = (10.0, 7.5)
ESTATE_SIZE = (8.0, 6.0)
"""Figure sizes, inches (pixels = inches x dpi)."""
MAP_RECT = (0.015, 0.06, 0.70, 0.83)
"""Where the map axes sits in the figure (left, bottom, width, height as fractions); the legend
is to its right, the title above and the footnote below."""

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
             "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei",
             "PingFang SC", "Heiti SC", "Noto Sans CJK JP", "Noto Sans CJK TC")
"""Fonts tried first, in order; failing these, any installed font whose character map covers
:data:`CJK_SAMPLE`."""
CJK_SAMPLE = "小区达标北图例"

_TEXT = {
    "zh": {"verdict": "小区评定", "layers": "图层", "facilities": "设施", "evidence": "证据",
           "line": "判定距离线", "uncovered": "服务半径外的建筑",
           "too_close": "距建筑过近的点", "north": "北", "overall": "总体评定",
           "overview": "小区总览：{n} 个小区（{counts}）", "count": "{label} {k}",
           "labels_failing": "名称标注：仅不达标小区", "labels_none": "小区过多，未标注名称",
           "crs": "坐标系 {crs}（米），上方为坐标北"},
    "en": {"verdict": "Estate verdict", "layers": "Layers", "facilities": "Facilities",
           "evidence": "Evidence", "line": "evidence line (distance)",
           "uncovered": "building beyond service radius",
           "too_close": "point too close to a building", "north": "N", "overall": "overall",
           "overview": "Overview: {n} estates ({counts})", "count": "{k} {label}",
           "labels_failing": "names shown for failing estates only",
           "labels_none": "too many estates to name",
           "crs": "{crs}, metres; up is grid north"},
}


# ---- fonts -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def find_cjk_font() -> FontProperties | None:
    """An installed font that renders Chinese, or None when there is none.

    Tries :data:`CJK_FONTS` by name, then any font known to matplotlib whose character map
    covers :data:`CJK_SAMPLE`.
    """
    entries = font_manager.fontManager.ttflist
    names = {e.name for e in entries}
    for name in CJK_FONTS:
        if name in names:
            return FontProperties(family=name)
    for entry in entries:
        try:
            charmap = FT2Font(entry.fname, face_index=getattr(entry, "index", 0)).get_charmap()
        except (OSError, RuntimeError, ValueError):
            continue
        if all(ord(c) in charmap for c in CJK_SAMPLE):
            return FontProperties(family=entry.name)
    return None


def cjk_font() -> FontProperties:
    """The font for map text (see :func:`find_cjk_font`).

    Raises
    ------
    GeocheckError
        When no installed font renders Chinese (labels would be drawn as empty boxes).
    """
    font = find_cjk_font()
    if font is None:
        raise GeocheckError(
            "no Chinese (CJK) font is installed, so map labels cannot be drawn: install one, "
            "e.g. Noto Sans CJK SC (Debian/Ubuntu: apt-get install fonts-noto-cjk; Fedora: "
            "dnf install google-noto-sans-cjk-fonts; macOS has PingFang SC; Windows has "
            "Microsoft YaHei), then run again")
    return font


def _font(base: FontProperties, size: float, weight: str = "normal") -> FontProperties:
    font = base.copy()
    font.set_size(size)
    font.set_weight(weight)
    return font


# ---- geometry to paths -----------------------------------------------------------------------

_EMPTY = MplPath(np.empty((0, 2)))


def polygon_path(geoms: np.ndarray) -> MplPath:
    """One compound path of the polygons and multipolygons in ``geoms``; holes stay holes.

    Built from :func:`shapely.to_ragged_array` with numpy only. Rings are turned so that
    exteriors run counter-clockwise and holes clockwise: under the non-zero fill rule holes
    stay empty and overlapping polygons are filled once. Other geometry types are skipped.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)]
    if not len(geoms):
        return _EMPTY
    _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    rings, polygons = offsets[0].astype(np.int64), offsets[1].astype(np.int64)
    start, end = rings[:-1], rings[1:]
    n_rings = len(start)
    rel = coords - coords[0]  # smaller numbers for the shoelace sums
    cross = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    cross[end[:-1] - 1] = 0.0  # the step from one ring into the next is no edge
    area = np.add.reduceat(cross, start) if len(cross) else np.zeros(n_rings)
    exterior = np.zeros(n_rings, dtype=bool)
    exterior[polygons[:-1][polygons[:-1] < n_rings]] = True
    flip = np.where(exterior, area < 0, area > 0)
    ring = np.repeat(np.arange(n_rings), end - start)
    at = np.arange(len(coords))
    order = np.where(flip[ring], start[ring] + end[ring] - 1 - at, at)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[start] = MplPath.MOVETO
    codes[end - 1] = MplPath.CLOSEPOLY
    return MplPath(coords[order], codes)


def line_path(geoms: np.ndarray) -> MplPath:
    """One compound path of the lines and multilines in ``geoms`` (other types skipped)."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), (1, 5)) & ~shapely.is_empty(geoms)]
    if not len(geoms):
        return _EMPTY
    _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[offsets[0][:-1]] = MplPath.MOVETO
    return MplPath(coords, codes)


def _xy(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates of a point on each geometry (the point itself for points; NaN for a
    missing or empty geometry)."""
    points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)]).reshape(-1, 2)


def encode_png(rgb: np.ndarray, dpi: float, level: int = 1, *, palette: bool = False) -> bytes:
    """PNG bytes of an (h, w, 3) uint8 image, resolution ``dpi`` recorded (pHYs) (with
    ``palette``, an (h, w, 4) image is taken too, its alpha ignored).

    Rows are written unfiltered and deflated at zlib ``level``: for flat-coloured maps this is
    two to three times quicker than Pillow's adaptive filtering, for about the same size.

    ``palette``: reduce the image to 256 colours first (Pillow's fast octree, no dithering)
    and write an indexed PNG, about a quarter of the size; a map's flat fills, lines and
    anti-aliased text look the same, but colours may move by a few levels in 255.
    """
    if palette:
        return _palette_png(rgb, dpi)
    h, w, _ = rgb.shape
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = rgb.reshape(h, -1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ppm = round(dpi / 0.0254)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + chunk(b"IEND", b""))


def _palette_png(pixels: np.ndarray, dpi: float) -> bytes:
    """Indexed PNG of an (h, w, 3) RGB or (h, w, 4) RGBA image (alpha ignored)."""
    import io

    from PIL import Image

    if pixels.shape[2] == 4 and pixels.flags.c_contiguous:
        image = Image.fromarray(pixels, "RGBA").convert("RGB")  # no copy of the buffer first
    else:
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    image = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    # The octree gives each colour cube its centre (white comes out 254); give each palette
    # entry the mean of the pixels it stands for instead (from every other row and column:
    # plenty for flat fills, a quarter of the work), so fills keep their exact colour.
    index = np.asarray(image)[::2, ::2].ravel()
    sample = pixels[::2, ::2]
    counts = np.bincount(index, minlength=256)
    sums = np.stack([np.bincount(index, weights=sample[..., c].ravel(), minlength=256)
                     for c in range(3)], axis=1)
    palette = np.array(image.getpalette("RGB") or [0, 0, 0], dtype=np.uint8)
    palette = np.resize(palette, 768).reshape(256, 3).copy()
    seen = counts > 0
    palette[seen] = np.rint(sums[seen] / counts[seen, None]).astype(np.uint8)
    image.putpalette(palette.ravel().tobytes())
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(dpi, dpi), compress_level=3)
    return buffer.getvalue()


# ---- checks and frames -----------------------------------------------------------------------

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


def _fit(boxes: np.ndarray, aspect: float) -> np.ndarray:
    """Grow (k, 4) boxes about their centres to the width/height ``aspect``."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    hw, hh = (boxes[:, 2] - boxes[:, 0]) / 2, (boxes[:, 3] - boxes[:, 1]) / 2
    hw, hh = np.maximum(hw, hh * aspect), np.maximum(hh, hw / aspect)
    return np.column_stack([cx - hw, cy - hh, cx + hw, cy + hh])


def _axes_aspect(size: tuple[float, float]) -> float:
    return size[0] * MAP_RECT[2] / (size[1] * MAP_RECT[3])


def _evidence(result: Result) -> pd.DataFrame:
    """The evidence drawn (decisive lines, uncovered buildings, too-close points) with
    ``estate_pos``, the position of its estate, sorted by it."""
    ev = result.evidence
    layer = ev["layer"].astype(object).to_numpy()
    keep = (((layer == "evidence_lines") & ev["decisive"].astype(bool).to_numpy())
            | (layer == "uncovered_buildings") | (layer == "too_close_points"))
    ids = pd.Index(result.site.estates["estate_id"].astype(str).to_numpy(dtype=object))
    pos = ids.get_indexer(ev["estate_id"].astype(str).to_numpy(dtype=object))
    keep &= pos >= 0
    order = np.argsort(pos[keep], kind="stable")
    return pd.DataFrame({"layer": layer[keep][order], "estate_pos": pos[keep][order],
                         "distance_m": ev["distance_m"].astype(float).to_numpy()[keep][order],
                         "geometry": ev.geometry.to_numpy()[keep][order]})


def _frames(estates: np.ndarray, ev: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
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
    return _fit(np.column_stack([lo, hi]), _axes_aspect(ESTATE_SIZE))


def estate_frames(result: Result, positions: Sequence[int] | None = None) -> np.ndarray:
    """The extent of each per-estate map, as (k, 4) ``minx, miny, maxx, maxy`` in metres.

    The estate and its evidence (decisive lines, uncovered buildings, too-close points), with a
    margin of at least :data:`MARGIN_M` (or a tenth of their extent), reaching at least
    :data:`MIN_HALF_SPAN_M` each way from the centre, grown to the map's aspect.
    """
    est = result.site.estates
    pos = np.arange(len(est)) if positions is None else np.asarray(positions, dtype=int)
    return _frames(est.geometry.to_numpy(), _evidence(result), pos)


# ---- drawing ---------------------------------------------------------------------------------

def _status_label(status: str, lang: str) -> str:
    en, zh = STATUS_LABELS[status].rsplit(" ", 1)
    return zh if lang == "zh" else en


def _names(result: Result) -> np.ndarray:
    """Each estate's name as text, or its id when it has none."""
    est = result.site.estates
    names = est["name"].astype(object).to_numpy()
    ids = est["estate_id"].astype(str).to_numpy(dtype=object)
    blank = pd.isna(names)
    names = np.where(blank, "", names).astype(str)
    return np.where(np.char.strip(names) == "", ids, names).astype(object)


def _two_lines(name: str, longest: int = 6) -> str:
    """A name longer than ``longest`` characters broken in the middle (overview labels)."""
    if len(name) <= longest or "\n" in name:
        return name
    middle = (len(name) + 1) // 2
    return f"{name[:middle]}\n{name[middle:]}"


def _overall(result: Result) -> np.ndarray:
    """Each estate's overall status, in site order (not_applicable for a pack with no rules)."""
    overall = result.overall()
    index = pd.Index(overall.index.astype(str).to_numpy(dtype=object))
    hit = index.get_indexer(result.site.estates["estate_id"].astype(str).to_numpy(dtype=object))
    return np.where(hit >= 0, overall.to_numpy(dtype=object)[hit], NOT_APPLICABLE)


@dataclass
class _Layer:
    """One drawn layer: its geometries; for facility roles, a point per feature."""

    geoms: np.ndarray
    xy: np.ndarray
    is_polygon: np.ndarray


def _prepare(result: Result) -> dict[str, _Layer]:
    layers = {}
    for role in ("green_space", "buildings", *ROLE_COLOURS):
        gdf = result.site.layer(role)
        if gdf is None or gdf.empty:
            continue
        geoms = gdf.geometry.to_numpy()
        polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
        xy = _xy(geoms) if role in ROLE_COLOURS else np.empty((0, 2))
        layers[role] = _Layer(geoms, xy, polygon)
    return layers


def _pale(colour: str, alpha: float) -> tuple[float, float, float]:
    """``colour`` at ``alpha`` over the white background, as an opaque colour."""
    rgb = alpha * np.asarray(to_rgb(colour)) + (1 - alpha) * np.asarray(to_rgb(BACKGROUND))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


class _MapFigure:
    """A figure with every artist of a map made once; :meth:`show` sets what it draws.

    ``dynamic`` are the artists that change from map to map (drawn over a saved background
    by :meth:`blit`), in drawing order.
    """

    def __init__(self, result: Result, size: tuple[float, float], dpi: int, lang: str) -> None:
        check_metric_crs(result.site.crs)
        if lang not in _TEXT:
            raise GeocheckError(f"unknown map language {lang!r}: choose zh or en")
        self.result, self.lang, self.text, self.dpi = result, lang, _TEXT[lang], dpi
        self.font = cjk_font()
        self.layers = _prepare(result)
        self.status = _overall(result)
        self.names = _names(result)
        self.estates = result.site.estates.geometry.to_numpy()
        self.estate_xy = _xy(self.estates)
        self.evidence = _evidence(result)
        self.fig = Figure(figsize=size, dpi=dpi, facecolor=BACKGROUND)
        FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes(MAP_RECT)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_facecolor(BACKGROUND)
        for spine in ax.spines.values():
            spine.set_zorder(9.5)
        self.labels: list[Text] = []
        self._artists()
        self._furniture()
        self._background = None

    # artists made once; their paths and offsets are set per map
    def _patch(self, z: float, **style: object) -> PathPatch:
        patch = PathPatch(_EMPTY, zorder=z, **style)
        self.ax.add_patch(patch)
        return patch

    def _points(self, z: float, **style: object) -> PathCollection:
        return self.ax.scatter(np.empty(0), np.empty(0), zorder=z, **style)

    def _artists(self) -> None:
        red = EVIDENCE_COLOUR
        self.fills = {s: self._patch(1, facecolor=to_rgba(c, FILL_ALPHA), edgecolor="none")
                      for s, c in STATUS_COLOURS.items()}
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
        self.points = {r: self._points(7, s=14 if r == "entrances" else 26, c=c,
                                       edgecolors="white", linewidths=0.6,
                                       marker="s" if r == "entrances" else "o")
                       for r, c in ROLE_COLOURS.items() if r in self.layers}
        self.rings = self._points(8, s=150, facecolors="none", edgecolors=red, linewidths=2.0)

    def _furniture(self) -> None:
        """Scale bar, north arrow, legend, title, subtitle and footnote."""
        t, font, ax = self.text, self.font, self.ax
        self.scalebar = ScaleBar(1, "m", location="lower left", length_fraction=0.25,
                                 box_alpha=0.8,
                                 font_properties={"family": font.get_family(), "size": 8})
        self.scalebar.set_zorder(9.6)
        ax.add_artist(self.scalebar)
        # The north arrow stands in the margin, below the legend: it is the same on every map.
        x, base = MAP_RECT[0] + MAP_RECT[2] + 0.10, MAP_RECT[1] + 0.04
        self.fig.add_artist(FancyArrowPatch((x, base), (x, base + 0.11),
                                            transform=self.fig.transFigure, color="black",
                                            arrowstyle="-|>,head_width=4,head_length=8",
                                            linewidth=1.8))
        self.fig.text(x, base + 0.12, t["north"], ha="center", va="bottom",
                      fontproperties=_font(font, 12, "bold"), parse_math=False)
        self._legend()
        x0 = MAP_RECT[0]
        pack = self.result.pack
        title = pack.title_zh if self.lang == "zh" else pack.title_en
        self.title = self.fig.text(x0, 0.975, title, va="top", ha="left",
                                   fontproperties=_font(font, 11, "bold"), parse_math=False)
        room = self.fig.bbox.width * (1 - 2 * x0)
        for _ in range(4):  # a long pack title is set smaller, on one line
            width = self.title.get_window_extent(self.fig.canvas.get_renderer()).width
            if width <= room:
                break
            self.title.set_fontsize(self.title.get_fontsize() * room / width * 0.98)
        self.subtitle = self.fig.text(x0, MAP_RECT[1] + MAP_RECT[3] + 0.012, "", va="bottom",
                                      ha="left", fontproperties=_font(font, 10),
                                      parse_math=False)
        crs = self.result.site.crs
        self.footnote = self.fig.text(x0, 0.018, t["crs"].format(crs=f"{crs.to_string()} "
                                                                   f"{crs.name}"),
                                      va="bottom", ha="left", color="#555555",
                                      fontproperties=_font(font, 7), parse_math=False)

    def _legend(self) -> None:
        t, lang, red = self.text, self.lang, EVIDENCE_COLOUR
        rows: list[tuple[Artist, str, bool]] = [(_NO_HANDLE, t["verdict"], True)]
        rows += [(Patch(facecolor=to_rgba(c, FILL_ALPHA), edgecolor=c, linewidth=1.4),
                  _status_label(s, lang), False) for s, c in STATUS_COLOURS.items()]
        base = [(Patch(facecolor=colour, edgecolor=edge, linewidth=0.5),
                 self._role_label(role), False)
                for role, colour, edge in (("green_space", GREEN_COLOUR, "none"),
                                           ("buildings", BUILDING_COLOUR, "#a8a8a8"))
                if role in self.layers]
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
            ("uncovered_buildings", Patch(facecolor=_pale(red, 0.75), edgecolor=red),
             t["uncovered"]),
            ("too_close_points", Line2D([], [], linestyle="none", marker="o", markersize=10,
                                        markerfacecolor="none", markeredgecolor=red,
                                        markeredgewidth=2), t["too_close"]),
        ]
        kinds = set(self.evidence["layer"])
        if kinds:
            rows.append((_NO_HANDLE, t["evidence"], True))
            rows += [(h, label, False) for kind, h, label in evidence if kind in kinds]
        left = MAP_RECT[0] + MAP_RECT[2] + 0.012
        legend = self.fig.legend([r[0] for r in rows], [r[1] for r in rows], loc="upper left",
                                 bbox_to_anchor=(left, MAP_RECT[1] + MAP_RECT[3]),
                                 prop=_font(self.font, 8), frameon=False, handlelength=1.8,
                                 borderaxespad=0, labelspacing=0.45)
        for text, row in zip(legend.get_texts(), rows, strict=True):
            text.set_parse_math(False)
            if row[2]:
                text.set_fontproperties(_font(self.font, 8.5, "bold"))

    def _role_label(self, role: str) -> str:
        return ROLES[role].label_zh if self.lang == "zh" else ROLES[role].label_en

    @property
    def dynamic(self) -> list[Artist]:
        artists = [*self.fills.values(), self.green, self.buildings, self.uncovered,
                   *self.outlines.values(), *self.role_outlines.values(), self.lines,
                   *self.points.values(), self.rings, *self.labels,
                   *self.ax.spines.values(), self.scalebar]
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
                      self.uncovered):
            patch.set_linewidth(max(patch.get_linewidth() * k, 0.3))
        self.buildings.set_linewidth(0)

    def show(self, box: np.ndarray, index: dict[str, np.ndarray], ev: pd.DataFrame,
             labels: np.ndarray, own: int | None = None, distances: bool = True) -> None:
        """Set the features drawn (``index``: positions per layer and for ``estates``), the
        evidence rows ``ev``, name labels for the estates at ``labels`` (``own``: the map's
        estate, in bold; the others grey) and the view ``box`` (minx, miny, maxx, maxy, m)."""
        layers = self.layers
        for role, patch in (("green_space", self.green), ("buildings", self.buildings)):
            if role in layers:
                patch.set_path(polygon_path(layers[role].geoms[index[role]]))
        est = index["estates"]
        for status in STATUS_COLOURS:
            path = polygon_path(self.estates[est[self.status[est] == status]])
            self.fills[status].set_path(path)
            self.outlines[status].set_path(path)
        for role, points in self.points.items():
            i = index[role]
            points.set_offsets(layers[role].xy[i])
            self.role_outlines[role].set_path(
                polygon_path(layers[role].geoms[i[layers[role].is_polygon[i]]]))
        kind = ev["layer"].to_numpy()
        geoms = ev["geometry"].to_numpy()
        lines = geoms[kind == "evidence_lines"]
        self.lines.set_path(line_path(lines))
        self.uncovered.set_path(polygon_path(geoms[kind == "uncovered_buildings"]))
        self.rings.set_offsets(_xy(geoms[kind == "too_close_points"]).reshape(-1, 2))
        for label in self.labels:
            label.remove()
        self.labels = []
        halo = {"boxstyle": "square,pad=0.1", "facecolor": (1, 1, 1, 0.7), "edgecolor": "none"}
        plain, bold = _font(self.font, 7 if own is None else 8), _font(self.font, 10, "bold")
        for k in labels:
            name = self.names[k] if own is not None else _two_lines(self.names[k])
            self.labels.append(self.ax.text(
                *self.estate_xy[k], name, ha="center", va="center", zorder=9,
                color="black" if own is None or k == own else "#555555", clip_on=True,
                fontproperties=bold if k == own else plain, parse_math=False, bbox=halo))
        if distances and len(lines):
            mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5,
                                                                         normalized=True))
            dist = ev["distance_m"].to_numpy()[kind == "evidence_lines"]
            font = _font(self.font, 8, "bold")
            for (x, y), d in zip(mid, dist, strict=True):
                self.labels.append(self.ax.text(
                    x, y, f"{d:,.0f} m", ha="center", va="center", color=EVIDENCE_COLOUR,
                    zorder=9, clip_on=True, fontproperties=font, parse_math=False, bbox=halo))
        self.ax.set_xlim(box[0], box[2])
        self.ax.set_ylim(box[1], box[3])

    def png(self) -> bytes:
        """Draw the whole figure; PNG bytes."""
        self.fig.canvas.draw()
        return self._encode()

    def blit(self) -> bytes:
        """Draw only the dynamic artists over the saved background; PNG bytes (the same
        pixels as :meth:`png`, since nothing else changes from map to map)."""
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
        for artist in self.dynamic:
            if not _empty(artist):
                self.ax.draw_artist(artist)
        self.fig.draw_artist(self.subtitle)
        return self._encode()

    def _encode(self) -> bytes:
        rgba = np.asarray(self.fig.canvas.buffer_rgba())
        return encode_png(rgba, self.dpi, palette=True)


def _empty(artist: Artist) -> bool:
    """True for a patch or point collection with nothing to draw."""
    if isinstance(artist, PathPatch):
        return len(artist.get_path().vertices) == 0
    return isinstance(artist, PathCollection) and len(artist.get_offsets()) == 0


_NO_HANDLE = Line2D([], [], linestyle="none")
"""An empty legend handle, for the legend's section headings."""


# ---- public ----------------------------------------------------------------------------------

def overview_figure(result: Result, *, dpi: int = 150, lang: str = "zh") -> Figure:
    """The overview map of the whole site, as a matplotlib Figure (Agg canvas, not pyplot).

    ``fig.axes[0]`` is the map, in the working CRS (metres); after drawing, its ``transData``
    maps coordinates to pixels of the PNG (origin at the bottom left). See
    :func:`overview_png`.
    """
    return _overview(result, dpi, lang).fig


def _overview(result: Result, dpi: int, lang: str) -> _MapFigure:
    m = _MapFigure(result, OVERVIEW_SIZE, dpi, lang)
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
    box = _fit((box + np.array([-pad, -pad, pad, pad]))[None, :], _axes_aspect(OVERVIEW_SIZE))
    m.scale_symbols(box[0])
    m.show(box[0], everything, m.evidence, labels, distances=n_lines <= LABEL_MAX)
    counts = pd.Series(m.status).value_counts()
    t = m.text
    parts = [t["count"].format(label=_status_label(s, lang), k=f"{counts[s]:,}")
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


def write_overview(result: Result, path: Path) -> Path:
    """Write the overview map (Chinese, 150 dpi) to ``path`` (e.g. ``out/map.png``)."""
    path = Path(path)
    path.write_bytes(overview_png(result))
    return path


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
        if lang not in _TEXT:
            raise GeocheckError(f"unknown map language {lang!r}: choose zh or en")
        self.result, self.dpi, self.lang = result, dpi, lang
        self._figure: _MapFigure | None = None

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
        return {ids[p]: m.blit() for p, m in self._maps(positions)}

    def _maps(self, positions: Sequence[int] | None) -> Iterator[tuple[int, _MapFigure]]:
        """Yield (position, figure) with the figure set to show each estate's map in turn."""
        result, lang = self.result, self.lang
        est = result.site.estates
        pos = np.arange(len(est)) if positions is None else np.asarray(positions, dtype=int)
        if len(pos) and (pos.min() < 0 or pos.max() >= len(est)):
            raise GeocheckError(f"estate positions must be within 0..{len(est) - 1}")
        if not len(pos):
            return
        if self._figure is None:
            self._figure = _MapFigure(result, ESTATE_SIZE, self.dpi, lang)
        m = self._figure
        frames = _frames(m.estates, m.evidence, pos)
        boxes = shapely.box(*frames.T)
        hits = {role: _split(result.site.layer(role).sindex.query(boxes), len(pos))
                for role in m.layers}
        hits["estates"] = _split(est.sindex.query(boxes), len(pos))
        ev_pos = m.evidence["estate_pos"].to_numpy()
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
            m.show(box, index, m.evidence.iloc[starts[k]:ends[k]], labels, own=p)
            name, eid = m.names[p], ids[p]
            head = name if name == eid else (f"{name}（{eid}）" if lang == "zh"
                                             else f"{name} ({eid})")
            m.subtitle.set_text(f"{head} · {t['overall']}{'：' if lang == 'zh' else ': '}"
                                f"{_status_label(m.status[p], lang)}")
            m.subtitle.set_color(STATUS_COLOURS[m.status[p]])
            yield int(p), m


def _split(pairs: np.ndarray, k: int) -> list[np.ndarray]:
    """Spatial-index hits ``(2, n)`` [frame, feature] -> per frame, its features in order."""
    order = np.lexsort((pairs[1], pairs[0]))
    frame, feature = pairs[0][order], pairs[1][order]
    cuts = np.searchsorted(frame, np.arange(k + 1))
    return [feature[cuts[i]:cuts[i + 1]] for i in range(k)]


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
