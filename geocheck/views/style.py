"""The look every view shares: the palette, the CJK font for drawn text, PNG encoding.

One place for the colours of the four verdicts and of the facility roles, so that map.html,
the static maps, the charts, findings.xlsx, the QGIS styles and the report agree. matplotlib
is imported only when a font is looked up (that is, when something is drawn).
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import GeocheckError
from ..core.status import FAIL, NO_DATA, NOT_APPLICABLE, PASS

if TYPE_CHECKING:  # matplotlib is imported where text is drawn
    from matplotlib.font_manager import FontProperties

STATUS_COLOURS = {PASS: "#1a9850", FAIL: "#d73027", NO_DATA: "#969696", NOT_APPLICABLE: "#4575b4"}
"""The colour of each verdict, in every map, chart, sheet and report."""
ROLE_COLOURS = {
    "bus_stops": "#1f78b4", "rail_stations": "#6a3d9a", "garbage_points": "#b15928",
    "kindergartens": "#e7298a", "schools": "#ff7f00", "clinics": "#00897b",
    "entrances": "#000000",
}
"""Facility points by role."""
PATH_COLOUR = "#9e9e9e"
"""Walking paths: thin grey lines under every other layer."""
EVIDENCE_COLOUR = "#d73027"
"""Evidence: lines that decided a distance, uncovered buildings, too-close points."""
ROUTE_COLOUR = "#7b3294"
"""Walking routes drawn beside a straight evidence line (distance rules read as a radius)."""
CATCHMENT_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
"""Walking catchment bands, the nearest band darkest; further bands share the last colour."""
CATCHMENT_ALPHA = 0.35
"""Opacity of a walking catchment band's fill."""


def band_colours(bands: object) -> dict[float, str]:
    """The colour of each catchment band (metres), the shortest darkest."""
    ordered = sorted({float(b) for b in bands})  # type: ignore[attr-defined]
    last = len(CATCHMENT_COLOURS) - 1
    return {b: CATCHMENT_COLOURS[min(i, last)] for i, b in enumerate(ordered)}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The first eight bytes of every PNG file."""


# ---- fonts -----------------------------------------------------------------------------------

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
             "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei",
             "PingFang SC", "Heiti SC", "Noto Sans CJK JP", "Noto Sans CJK TC")
"""Fonts tried first, in order; failing these, any installed font whose character map covers
:data:`CJK_SAMPLE`."""

CJK_SAMPLE = "小区达标北图例"
"""Characters a font must have to count as one that renders Chinese."""


@lru_cache(maxsize=1)
def find_cjk_font() -> FontProperties | None:
    """An installed font that renders Chinese, or None when there is none.

    Tries :data:`CJK_FONTS` by name, then any font known to matplotlib whose character map
    covers :data:`CJK_SAMPLE`.
    """
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import FT2Font

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


def sized_font(base: FontProperties | None, size: float, weight: str = "normal"
               ) -> FontProperties:
    """``base`` (None: matplotlib's default font) at ``size`` points and ``weight``."""
    from matplotlib.font_manager import FontProperties

    out = FontProperties() if base is None else base.copy()
    out.set_size(size)
    out.set_weight(weight)
    return out


# ---- PNG -------------------------------------------------------------------------------------

def encode_png(rgb: np.ndarray, dpi: float, level: int = 1, *, palette: bool = False,
               colours: ColourIndex | None = None) -> bytes:
    """PNG bytes of an (h, w, 3) uint8 image, resolution ``dpi`` recorded (pHYs) (with
    ``palette``, an (h, w, 4) image is taken too, its alpha ignored).

    Rows are written unfiltered and deflated at zlib ``level``: for flat-coloured maps this is
    two to three times quicker than Pillow's adaptive filtering, for about the same size.

    ``palette``: write an indexed PNG of at most 256 colours, about a quarter of the size. An
    image of at most 256 colours is written exactly; beyond, the 256 colours covering most
    pixels are kept exactly (a map's fills, lines and the commonest anti-aliasing shades) and
    every other pixel takes the nearest of them (a few percent of a map's pixels, at the
    edges of text and lines). ``colours``: a :class:`ColourIndex` kept between images that
    share most of their colours (a series of maps), which makes this several times quicker;
    the bytes are the same with or without it.
    """
    if palette:
        return _palette_png(rgb, dpi, colours)
    h, w, _ = rgb.shape
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = rgb.reshape(h, -1)
    return _png(w, h, 2, dpi, zlib.compress(raw.tobytes(), level))


def _png(w: int, h: int, colour_type: int, dpi: float, idat: bytes, plte: bytes = b"") -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ppm = round(dpi / 0.0254)
    return (PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))
            + (chunk(b"PLTE", plte) if plte else b"")
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


PALETTE_LEVEL = 3
"""zlib level of indexed PNGs: a 880 x 660 map in about 3 ms, some 38 KB."""


class ColourIndex:
    """A numbering of the 24-bit colours seen so far, for :func:`encode_png`: one lookup per
    pixel instead of sorting the image's colours. Holds a 32 MB table of which only the
    pages of colours seen are touched; starts afresh after 65,535 colours, and numbers none of
    an image that alone has more (:meth:`codes` returns None)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.table = np.zeros(1 << 24, dtype=np.uint16)  # colour -> 1 + number; 0: unseen
        self.colours = np.zeros(1, dtype=np.uint32)  # number + 1 -> colour

    def codes(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(codes of each pixel's colour ``key`` (0xBBGGRR), colour of each code); None when
        the image alone has more colours than the table numbers."""
        code = self.table[key]
        new = code == 0
        if new.any():
            fresh = np.unique(key[new])
            if len(fresh) >= 0xFFFF:
                return None
            if len(self.colours) + len(fresh) > 0xFFFF:
                self._reset()
                return self.codes(key)
            self.table[fresh] = np.arange(len(self.colours), len(self.colours) + len(fresh))
            self.colours = np.r_[self.colours, fresh.astype(np.uint32)]
            code[new] = self.table[key[new]]
        return code, self.colours


def _palette_png(pixels: np.ndarray, dpi: float, index: ColourIndex | None) -> bytes:
    """Indexed PNG of an (h, w, 3) RGB or (h, w, 4) RGBA image (alpha ignored); see
    :func:`encode_png`.

    The pixels are taken as runs of one colour (in reading order, across rows): a map's fills
    make some ten pixels a run, so colours are looked up, counted and mapped to the palette
    once a run, and the rows of palette indices are the runs' indices repeated."""
    h, w, depth = pixels.shape
    if depth == 4 and pixels.flags.c_contiguous:
        word = pixels.view("<u4").reshape(-1)  # RGBA: runs of one RGBA are runs of one RGB
    else:
        rgb = pixels[..., :3].astype(np.uint32)
        word = (rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)).reshape(-1)
    starts = _run_starts(word)
    lengths = np.diff(np.append(starts, len(word)))
    key = word[starts] & np.uint32(0xFFFFFF)  # each run's colour
    numbered = None if index is None else index.codes(key)
    if numbered is None:
        colours, code = np.unique(key, return_inverse=True)
    else:
        code, colours = numbered
    counts = np.bincount(code, weights=lengths, minlength=len(colours)).astype(np.int64)
    used = np.flatnonzero(counts)
    used = used[np.argsort(colours[used])]  # (numbered as first seen with an index)
    keep, nearest = _palette(colours[used], counts[used])
    remap = np.zeros(len(colours), dtype=np.uint8)
    remap[used] = nearest
    raw = np.empty((h, w + 1), dtype=np.uint8)
    raw[:, 0] = 0  # no filter
    raw[:, 1:] = np.repeat(remap[code], lengths).reshape(h, w)
    return _png(w, h, 3, dpi, zlib.compress(raw, PALETTE_LEVEL),
                plte=_rgb(colours[used][keep]).astype(np.uint8).tobytes())


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal ``values`` (1-d, not empty) begins."""
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return np.flatnonzero(change)


PALETTE_CUBE = 16
"""Edge of the colour cubes of :func:`_palette`, in levels of 255."""


def _palette(colours: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The palette of an image whose distinct colours are ``colours`` (0xBBGGRR, ascending),
    ``counts`` pixels each: (positions in ``colours`` of at most 256 palette colours, in
    ascending order; for each colour, the position in the palette of the colour it is drawn
    with).

    All the colours when there are at most 256. Else, in each cube of :data:`PALETTE_CUBE`
    levels a side, its commonest colour, which the cube's other colours take (from the 256
    cubes of most pixels, when more are filled; a colour in another cube takes the nearest
    palette colour). A flat fill, the commonest colour of its cube, so stays exact however
    few its pixels, and so does a small swatch of a colour no other fill is near.
    """
    n = len(colours)
    if n <= 256:
        return np.arange(n), np.arange(n)
    rgb = _rgb(colours)
    side = -(-256 // PALETTE_CUBE)
    at = rgb.astype(np.int64) // PALETTE_CUBE
    cube = (at[:, 0] * side + at[:, 1]) * side + at[:, 2]
    order = np.lexsort((colours, -counts, cube))  # by cube; in each, commonest first
    first = order[np.r_[True, cube[order][1:] != cube[order][:-1]]]  # one per cube, by cube
    of_cube = np.searchsorted(cube[first], cube)
    filled = np.bincount(of_cube, weights=counts)
    kept = np.zeros(len(first), dtype=bool)
    kept[np.lexsort((colours[first], -filled))[:256]] = True
    keep = np.sort(first[kept])
    slot = np.full(len(first), -1)
    slot[kept] = np.searchsorted(keep, first[kept])
    nearest = slot[of_cube]
    lost = nearest < 0
    if lost.any():
        distance = ((rgb[lost][:, None, :] - rgb[keep][None, :, :]) ** 2).sum(axis=2)
        nearest[lost] = np.argmin(distance, axis=1)
    return keep, nearest


def _rgb(colours: np.ndarray) -> np.ndarray:
    """(n, 3) float32 RGB of 0xBBGGRR colours."""
    return np.column_stack([colours & 0xFF, (colours >> 8) & 0xFF,
                            (colours >> 16) & 0xFF]).astype(np.float32)
