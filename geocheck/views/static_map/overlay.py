"""Name labels and the scale bar of a static map, drawn without matplotlib's text layout.

A per-estate map writes up to 31 labels (names, evidence distances) and a scale bar, and
matplotlib's ``Text`` lays out and rasterises each glyph again on every draw, about 5 ms a
label. Here each distinct label is rasterised once (:class:`Stamps`: FreeType through
matplotlib's ``FT2Font``, the font matplotlib would pick) and kept as a coverage bitmap; a map
then blends the bitmaps into the Agg canvas with numpy: a white box at 70 % opacity (the
halo that keeps a name readable over fills and lines), and the text over it.

:class:`MapLabels` and :class:`MapScaleBar` are matplotlib artists; on a renderer other than
Agg (a figure saved as SVG or PDF) they draw ordinary ``Text`` instead, so a figure from
:func:`geocheck.views.static_map.estate_figure` still saves to any format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import FT2Font
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform

from ..style import sized_font

HALO_ALPHA = 0.7
"""Opacity of the white box behind a label."""
HALO_PAD = 0.1
"""Room between a label's text and the edge of its box, in font sizes."""

SCALE_FRACTION = 0.25
"""A scale bar is the longest round length up to this share of the map's width."""
SCALE_STEPS = (1.0, 2.0, 5.0)
"""Round lengths: these times a power of ten metres."""
SCALE_FONT_PT = 8.0


@dataclass(frozen=True)
class Stamp:
    """A label rasterised once: ``coverage`` (h, w) uint8 is the text's ink placed in its
    halo box, the box being the whole array, ``pad`` pixels wider than the text each way."""

    coverage: np.ndarray
    colour: tuple[float, float, float]
    pad: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.coverage.shape  # type: ignore[return-value]


class Stamps:
    """Rasterised labels of one figure (one dpi), by text and style.

    Lines of a label are centred under each other, spaced by the font's ascent and descent
    as matplotlib spaces them; the box around them leaves :data:`HALO_PAD` of the font size.
    """

    MAX = 8192
    """Labels kept; beyond, the cache is emptied (a city's maps reuse their neighbours'
    names many times; a few KB each)."""

    def __init__(self, dpi: float) -> None:
        self.dpi = dpi
        self._cache: dict[tuple[str, FontProperties, object], Stamp] = {}
        self._glyphs: dict[tuple[FontProperties, str], _Glyph] = {}
        self._metrics: dict[FontProperties, tuple[float, float]] = {}
        self._files: dict[FontProperties, list[str]] = {}

    def get(self, text: str, prop: FontProperties, colour: object) -> Stamp:
        key = (text, prop, colour)
        stamp = self._cache.get(key)
        if stamp is None:
            if len(self._cache) >= self.MAX:
                self._cache.clear()
            pad = HALO_PAD * prop.get_size_in_points() * self.dpi / 72
            stamp = self._cache[key] = Stamp(self._render(text, prop, pad),
                                             to_rgb(colour), pad)  # type: ignore[arg-type]
        return stamp

    def _render(self, text: str, prop: FontProperties, pad: float) -> np.ndarray:
        files = self._files.get(prop)
        if files is None:  # the font files matplotlib would pick, looked up once a style
            files = self._files[prop] = fontManager._find_fonts_by_props(prop)
        font = get_font(files)
        font.set_size(prop.get_size_in_points(), self.dpi)
        ascent, descent = self._heights(font, prop)
        lines = [self._line(font, prop, line) for line in text.split("\n")]
        width = max(sum(g.advance for g in glyphs) for glyphs in lines)
        height = len(lines) * (ascent + descent)
        box = np.zeros((math.ceil(height + 2 * pad), math.ceil(width + 2 * pad)), np.uint8)
        for k, glyphs in enumerate(lines):
            baseline = pad + k * (ascent + descent) + ascent
            pen = pad + (width - sum(g.advance for g in glyphs)) / 2
            for g in glyphs:
                _blend_max(box, g.image, math.floor(pen + g.left), round(baseline + g.below)
                           - g.image.shape[0])
                pen += g.advance
        return box

    def _heights(self, font: FT2Font, prop: FontProperties) -> tuple[float, float]:
        """The font's ascent and descent at ``prop``'s size, pixels (its typographic ones, as
        matplotlib spaces lines)."""
        heights = self._metrics.get(prop)
        if heights is None:
            size_px = prop.get_size_in_points() * self.dpi / 72
            head, os2 = font.get_sfnt_table("head"), font.get_sfnt_table("OS/2")
            if head and os2:
                scale = size_px / head["unitsPerEm"]
                heights = os2["sTypoAscender"] * scale, -os2["sTypoDescender"] * scale
            else:
                heights = 0.88 * size_px, 0.12 * size_px
            self._metrics[prop] = heights
        return heights

    def _line(self, font: FT2Font, prop: FontProperties, line: str) -> list[_Glyph]:
        """The glyphs of one line of text: each character's from the cache, or the whole
        line as one when a character is not in the first font (matplotlib then draws it from
        a fallback font, and so does FreeType here)."""
        glyphs = []
        for char in line:
            glyph = self._glyphs.get((prop, char))
            if glyph is None:
                if not font.get_char_index(ord(char)):
                    return [self._rasterise(font, line, None)]
                glyph = self._glyphs[prop, char] = self._rasterise(font, char, ord(char))
            glyphs.append(glyph)
        return glyphs

    @staticmethod
    def _rasterise(font: FT2Font, text: str, code: int | None) -> _Glyph:
        """``text`` rasterised by FreeType; its advance from the glyph of ``code`` (None:
        the width of the text's ink)."""
        font.set_text(text, 0.0, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=True)
        xo, _ = font.get_bitmap_offset()
        if code is None:
            advance = font.get_width_height()[0] / 64
        else:
            advance = font.load_char(code, flags=get_hinting_flag()).horiAdvance / 64
        return _Glyph(np.array(font.get_image(), dtype=np.uint8), xo / 64,
                      font.get_descent() / 64, advance)


@dataclass(frozen=True)
class _Glyph:
    """A rasterised glyph (or line): its ``image``, the image's left edge from the pen and
    bottom edge below the baseline, pixels, and how far it moves the pen."""

    image: np.ndarray
    left: float
    below: float
    advance: float


def _blend_max(target: np.ndarray, image: np.ndarray, left: int, top: int) -> None:
    """Put ``image`` into ``target`` at (left, top), keeping the larger coverage; clipped."""
    h, w = target.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + image.shape[0], h), min(left + image.shape[1], w)
    if y1 > y0 and x1 > x0:
        part = image[y0 - top:y1 - top, x0 - left:x1 - left]
        np.maximum(target[y0:y1, x0:x1], part, out=target[y0:y1, x0:x1])


def stamp_into(rgba: np.ndarray, stamp: Stamp, left: int, top: int,
               clip: tuple[int, int, int, int], halo: bool = True) -> None:
    """Blend ``stamp`` (its halo box, then its text; with ``halo`` False the text only) into
    the (H, W, 4) uint8 canvas ``rgba`` with its top-left corner at pixel (left, top), within
    ``clip`` = (x0, y0, x1, y1) pixels."""
    h, w = stamp.shape
    y0, x0 = max(top, clip[1]), max(left, clip[0])
    y1, x1 = min(top + h, clip[3]), min(left + w, clip[2])
    if y1 <= y0 or x1 <= x0:
        return
    cover = stamp.coverage[y0 - top:y1 - top, x0 - left:x1 - left, None] * np.float32(1 / 255)
    dst = rgba[y0:y1, x0:x1, :3]
    under = (dst * np.float32(1 - HALO_ALPHA) + np.float32(255 * HALO_ALPHA) if halo
             else dst.astype(np.float32))
    ink = np.asarray(stamp.colour, dtype=np.float32) * 255
    dst[...] = np.rint(under + (ink - under) * cover).astype(np.uint8)


def canvas_of(renderer: object) -> np.ndarray | None:
    """The writable (H, W, 4) pixels of an Agg renderer; None for any other renderer."""
    if not isinstance(renderer, RendererAgg):
        return None
    return np.asarray(renderer.buffer_rgba())


def clip_box(artist: Artist, height: int) -> tuple[int, int, int, int]:
    """The artist's axes as (x0, y0, x1, y1) pixel rows and columns, top down."""
    x0, y0, x1, y1 = artist.axes.bbox.extents
    return (round(x0), round(height - y1), round(x1), round(height - y0))


class StampedText(Text):
    """A ``Text`` (a map's subtitle) drawn from :class:`Stamps` on the Agg canvas, as an
    ordinary ``Text`` elsewhere or when rotated; it keeps every ``Text`` method."""

    def __init__(self, stamps: Stamps, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.stamps = stamps

    def draw(self, renderer: object) -> None:
        rgba = canvas_of(renderer)
        ha, va = self.get_horizontalalignment(), self.get_verticalalignment()
        if (rgba is None or self.get_rotation() or ha not in _ALONG or va not in _ACROSS
                or not self.get_visible() or not self.get_text()):
            super().draw(renderer)
            return
        stamp = self.stamps.get(self.get_text(), self.get_fontproperties(), self.get_color())
        x, y = self.get_transform().transform(self.get_unitless_position())
        h, w = stamp.shape
        left = x - stamp.pad - _ALONG[ha] * (w - 2 * stamp.pad)
        top = rgba.shape[0] - y - stamp.pad - (1 - _ACROSS[va]) * (h - 2 * stamp.pad)
        stamp_into(rgba, stamp, round(left), round(top), (0, 0, rgba.shape[1], rgba.shape[0]),
                   halo=False)
        self.stale = False


_ALONG = {"left": 0.0, "center": 0.5, "right": 1.0}
_ACROSS = {"bottom": 0.0, "center": 0.5, "top": 1.0}
"""Where the anchor stands along and across a text, as a share of its width or height."""


@dataclass
class Label:
    """One label: ``x``, ``y`` in data units (metres), its text, font and colour."""

    x: float
    y: float
    text: str
    prop: FontProperties
    colour: str


class MapLabels(Artist):
    """The name and distance labels of a map, each centred on its point in a white box at
    :data:`HALO_ALPHA`, clipped to the axes; set with :meth:`set_labels`."""

    def __init__(self, stamps: Stamps, zorder: float) -> None:
        super().__init__()
        self.stamps = stamps
        self.labels: list[Label] = []
        self.set_zorder(zorder)

    def set_labels(self, labels: list[Label]) -> None:
        self.labels = labels
        self.stale = True

    @property
    def texts(self) -> list[str]:
        """The texts drawn, in drawing order."""
        return [label.text for label in self.labels]

    def draw(self, renderer: object) -> None:
        if not self.get_visible() or not self.labels:
            return
        rgba = canvas_of(renderer)
        if rgba is None:
            self._draw_as_text(renderer)
            return
        xy = self.axes.transData.transform([(a.x, a.y) for a in self.labels])
        clip = clip_box(self, rgba.shape[0])
        for label, (x, y) in zip(self.labels, xy, strict=True):
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            stamp = self.stamps.get(label.text, label.prop, label.colour)
            h, w = stamp.shape
            stamp_into(rgba, stamp, round(x - w / 2), round(rgba.shape[0] - y - h / 2), clip)
        self.stale = False

    def _draw_as_text(self, renderer: object) -> None:
        halo = {"boxstyle": f"square,pad={HALO_PAD}", "facecolor": (1, 1, 1, HALO_ALPHA),
                "edgecolor": "none"}
        for a in self.labels:
            text = Text(a.x, a.y, a.text, ha="center", va="center", color=a.colour,
                        fontproperties=a.prop, parse_math=False, bbox=halo, clip_on=True)
            text.set_figure(self.figure)
            text.axes = self.axes
            text.set_transform(self.axes.transData)
            text.set_clip_box(self.axes.bbox)
            text.draw(renderer)


def scale_length(width_m: float, fraction: float = SCALE_FRACTION) -> float:
    """The longest of 1, 2 or 5 times a power of ten metres up to ``fraction`` of
    ``width_m`` metres (0 for a width that is not positive)."""
    room = width_m * fraction
    if not room > 0 or not math.isfinite(room):
        return 0.0
    power = 10.0 ** math.floor(math.log10(room))
    return max(s * power for s in SCALE_STEPS if s * power <= room * (1 + 1e-9))


def scale_text(length_m: float) -> str:
    """A scale bar's label: metres below a kilometre, else kilometres."""
    if length_m >= 1000:
        return f"{length_m / 1000:g} km"
    return f"{length_m:g} m"


class MapScaleBar(Artist):
    """A scale bar in the lower left of the axes: a black bar of a round number of metres
    (:func:`scale_length`) with its length written under it, on a white box at 80 %.

    The axes must be in metres with an equal aspect. After a draw, ``length_m`` is the
    length shown and ``bar_px`` the bar's (x0, x1) in pixels of the figure.
    """

    def __init__(self, stamps: Stamps, font: FontProperties, zorder: float) -> None:
        super().__init__()
        self.stamps = stamps
        self.prop = sized_font(font, SCALE_FONT_PT)
        self.length_m = 0.0
        self.bar_px = (0.0, 0.0)
        self.set_zorder(zorder)

    def draw(self, renderer: object) -> None:
        if not self.get_visible():
            return
        ax = self.axes
        x_lo, x_hi = ax.get_xlim()
        bbox = ax.bbox
        px_per_m = bbox.width / (x_hi - x_lo) if x_hi != x_lo else 0.0
        self.length_m = scale_length(abs(x_hi - x_lo))
        if not self.length_m or not px_per_m:
            return
        pt = self.figure.dpi / 72
        size = SCALE_FONT_PT * pt
        label = scale_text(self.length_m)
        stamp = self.stamps.get(label, self.prop, "black")
        bar_w, bar_h = self.length_m * abs(px_per_m), bbox.height * 0.01
        text_h, text_w = stamp.shape
        inner_w = max(bar_w, text_w)
        pad, border, sep = 0.2 * size, 0.1 * size, 5 * pt
        box_x0, box_y0 = bbox.x0 + border, bbox.y0 + border
        box_w, box_h = inner_w + 2 * pad, bar_h + sep + text_h + 2 * pad
        bar_x0 = round(box_x0 + pad + (inner_w - bar_w) / 2)
        bar_y0 = box_y0 + pad + text_h + sep
        self.bar_px = (float(bar_x0), bar_x0 + bar_w)
        gc = renderer.new_gc()
        gc.set_clip_rectangle(bbox)
        gc.set_linewidth(0)
        gc.set_alpha(0.8)
        renderer.draw_path(gc, _rect(box_x0, box_y0, box_w, box_h), IdentityTransform(),
                           (1.0, 1.0, 1.0))
        gc.set_alpha(1.0)
        renderer.draw_path(gc, _rect(bar_x0, bar_y0, bar_w, bar_h), IdentityTransform(),
                           (0.0, 0.0, 0.0))
        gc.restore()
        centre_x, text_top = bar_x0 + bar_w / 2, bar_y0 - sep
        rgba = canvas_of(renderer)
        if rgba is None:
            Text(centre_x, text_top, label, ha="center", va="top", fontproperties=self.prop,
                 transform=IdentityTransform(), figure=self.figure).draw(renderer)
        else:
            height = rgba.shape[0]
            # the label's text only: it stands on the scale bar's own box
            stamp_into(rgba, stamp, round(centre_x - text_w / 2), round(height - text_top),
                       clip_box(self, height), halo=False)
        self.stale = False


def _rect(x: float, y: float, w: float, h: float) -> MplPath:
    return MplPath([(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)], closed=True)
