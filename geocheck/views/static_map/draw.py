"""The per-map layers drawn straight onto the Agg renderer, with the calls matplotlib makes.

A per-estate map draws some fifteen patches and point collections over its background, and
``Axes.draw_artist`` costs more in Python than Agg takes to rasterise most of them: it looks
the renderer up again, builds the artist's transform (the data transform's affine is
multiplied out anew for every artist) and, for points, finds the extent of the marker on
every draw. :func:`draw_layers` makes the same renderer calls with the same graphics
context for a plain :class:`~matplotlib.patches.Patch` and for a
:class:`~matplotlib.collections.PathCollection` that matplotlib draws as markers, so the
pixels are the same; any other artist (or one with a hatch, a sketch, path effects, an
agg filter, units, dashes with a gap colour, rasterisation) is drawn by its own ``draw``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PathCollection
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Affine2D, Bbox, Transform


class LayerDrawer:
    """Draws artists of one figure onto its Agg renderer (see the module text).

    The figure's size must not change while it is used: whether points are drawn as markers
    depends on their extent against the figure's, worked out once per marker and size.
    """

    def __init__(self) -> None:
        self._fits: dict[tuple[MplPath, bytes], bool] = {}

    def draw(self, renderer: RendererAgg, artists: Iterable[Artist], data: Transform) -> None:
        """Draw ``artists`` in order (invisible ones not at all); ``data`` is their axes'
        ``transData``, whose affine part is worked out once for all of them."""
        affine = data.get_affine() if data.is_affine else None
        for artist in artists:
            if not artist.get_visible():
                continue
            if not _plain(artist):
                artist.draw(renderer)
            elif isinstance(artist, PathCollection):
                self._points(renderer, artist)
            elif isinstance(artist, Patch) and artist.get_linestyle() in ("solid", "-"):
                transform = artist.get_transform()
                _patch(renderer, artist, affine if transform is data and affine is not None
                       else transform)
            else:
                artist.draw(renderer)

    def _points(self, renderer: RendererAgg, points: PathCollection) -> None:
        """A PathCollection as ``Collection.draw`` draws it when it is one marker of one
        style (``draw_markers``); otherwise by its own ``draw``."""
        offsets = points.get_offsets()
        if len(offsets) == 0:
            return
        points.update_scalarmappable()
        transform, offset_trf, paths = points.get_transform(), points.get_offset_transform(), \
            points.get_paths()
        trans, face, edge = points.get_transforms(), points.get_facecolor(), \
            points.get_edgecolor()
        widths, styles, smooth = points.get_linewidth(), points.get_linestyle(), \
            points.get_antialiased()
        if not (transform.is_affine and offset_trf.is_affine and len(paths) == 1
                and len(trans) <= 1 and len(face) == 1 and len(edge) == 1 and len(widths) == 1
                and all(ls[1] is None for ls in styles) and len(smooth) == 1
                and len(points.get_urls()) == 1 and points.get_hatch() is None
                and points.get_joinstyle() is None and points.get_capstyle() is None):
            points.draw(renderer)
            return
        combined = Affine2D(trans[0]) + transform if len(trans) else transform
        key = (paths[0], combined.get_matrix().tobytes())
        fits = self._fits.get(key)
        if fits is None:
            extents = paths[0].get_extents(combined)
            figure = points.get_figure(root=True).bbox
            fits = self._fits[key] = bool(extents.width < figure.width
                                          and extents.height < figure.height)
        if not fits:
            points.draw(renderer)
            return
        if isinstance(offsets, np.ma.MaskedArray):
            offsets = offsets.filled(np.nan)
        gc = renderer.new_gc()
        _clip(gc, points)
        gc.set_snap(points.get_snap())
        gc.set_foreground(tuple(edge[0]), isRGBA=True)
        gc.set_linewidth(widths[0])
        gc.set_dashes(*styles[0])
        gc.set_antialiased(smooth[0])
        gc.set_url(points.get_urls()[0])
        renderer.draw_markers(gc, paths[0], combined.frozen(), MplPath(offsets), offset_trf,
                              tuple(face[0]))
        gc.restore()
        points.stale = False


def _plain(artist: Artist) -> bool:
    """True for an artist with nothing that matplotlib's draw would handle beyond the plain
    calls made here."""
    return (not artist.get_rasterized() and artist.get_agg_filter() is None
            and artist.get_sketch_params() is None and not artist.get_path_effects()
            and not (isinstance(artist, Patch | PathCollection) and artist.get_hatch())
            and not (isinstance(artist, PathCollection) and artist.have_units()))


def _clip(gc: object, artist: Artist) -> None:
    """The artist's clip, as ``Artist._set_gc_clip`` sets it."""
    if artist.get_clip_on():
        box: Bbox | None = artist.get_clip_box()
        if box is not None:
            gc.set_clip_rectangle(box)  # type: ignore[attr-defined]
        gc.set_clip_path(artist.get_clip_path())  # type: ignore[attr-defined]
    else:
        gc.set_clip_rectangle(None)  # type: ignore[attr-defined]
        gc.set_clip_path(None)  # type: ignore[attr-defined]


def _patch(renderer: RendererAgg, patch: Patch, transform: Transform) -> None:
    """A patch with a solid edge, as ``Patch.draw`` draws it (``transform``: its transform,
    or that transform's affine part when it has no other)."""
    path = patch.get_path()
    if not transform.is_affine:
        path = transform.transform_path_non_affine(path)
    affine = transform.get_affine()
    edge, face = patch.get_edgecolor(), patch.get_facecolor()
    gc = renderer.new_gc()
    width = 0 if edge[3] == 0 or patch.get_linestyle() == "None" else patch.get_linewidth()
    gc.set_linewidth(width)
    gc.set_capstyle(patch.get_capstyle())
    gc.set_joinstyle(patch.get_joinstyle())
    gc.set_antialiased(patch.get_antialiased())
    _clip(gc, patch)
    gc.set_url(patch.get_url())
    gc.set_snap(patch.get_snap())
    gc.set_alpha(patch.get_alpha())
    gc.set_foreground(edge, isRGBA=True)
    gc.set_dashes(0, None)
    renderer.draw_path(gc, path, affine, face if face[3] else None)
    gc.restore()
    patch.stale = False
