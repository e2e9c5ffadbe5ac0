"""The look every view shares: the palette, the CJK font for drawn text, PNG encoding.

One place for the colours of the four verdicts and of the facility roles, so that map.html,
the static maps, the charts, findings.xlsx, the QGIS styles and the report agree. matplotlib
is imported only when a font is looked up (that is, when something is drawn).
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

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
    return (PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + chunk(b"IEND", b""))


def _palette_png(pixels: np.ndarray, dpi: float) -> bytes:
    """Indexed PNG of an (h, w, 3) RGB or (h, w, 4) RGBA image (alpha ignored)."""
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
