"""The per-map layers drawn straight onto the renderer give the pixels matplotlib draws."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from geocheck.views.static_map.draw import LayerDrawer
from geocheck.views.static_map.figure import CIRCLE


def scene(view: tuple[float, float, float, float]) -> tuple[Figure, list]:
    fig = Figure(figsize=(3, 2), dpi=90, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.1, 0.7, 0.8))
    ax.set_aspect("equal", adjustable="datalim")
    square = MplPath([(0, 0), (40, 3), (43, 41), (2, 38), (0, 0)], closed=True)
    artists = [
        ax.add_patch(PathPatch(square, facecolor="#c7e9c0", edgecolor="#a8a8a8", lw=0.3)),
        ax.add_patch(PathPatch(square.transformed(_shift(25)), facecolor="none",
                               edgecolor="#d73027", lw=1.4, alpha=0.8)),
        ax.add_patch(PathPatch(MplPath([(0, 50), (90, 10)]), fill=False, edgecolor="red",
                               lw=1.6, linestyle=(0, (4, 2.5)))),  # dashed: its own draw
        # two points on the edges of the clipped view, half in it
        ax.scatter([10, 30, 95, 60, 15, 45], [10, 45, 5, 20, 20, 15], s=26, c="#1f78b4",
                   edgecolors="white", linewidths=0.6, marker=CIRCLE),
        ax.scatter([20, 70], [30, 35], s=150, facecolors="none", edgecolors="red",
                   linewidths=2.0, marker=CIRCLE),
        ax.scatter([50, 52], [40, 12], s=14, c=["black", "orange"], marker="s"),  # 2 colours
        ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False,
                               clip_on=False, edgecolor="black", lw=0.8)),
    ]
    ax.set_xlim(*view[:2])
    ax.set_ylim(*view[2:])
    return fig, artists


def _shift(dx: float):
    from matplotlib.transforms import Affine2D
    return Affine2D().translate(dx, 5)


@pytest.mark.parametrize("view", [(-10, 100, -5, 55), (15, 45, 10, 30)])  # all in; clipped
def test_layers_drawn_straight_are_the_pixels_of_draw_artist(view) -> None:
    images = []
    for straight in (False, True):
        fig, artists = scene(view)
        for a in artists:
            a.set_visible(False)
        fig.canvas.draw()  # the axes and their background
        ax = fig.axes[0]
        for a in artists:
            a.set_visible(True)
        drawer = LayerDrawer()
        for _ in range(2):  # twice: what is kept between maps changes nothing
            if straight:
                drawer.draw(fig.canvas.get_renderer(), artists, ax.transData)
            else:
                for a in artists:
                    ax.draw_artist(a)
        images.append(np.array(fig.canvas.buffer_rgba()))
    assert (images[0] != 255).any()  # something was drawn
    assert np.array_equal(images[0], images[1])
