"""diff.png: a static map of what changed between two runs, estates coloured by their worst
change (see :mod:`geocheck.rules.diff`)."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd

from ..rules.diff import CHANGE_ORDER, CHANGE_ZH
from .style import cjk_font

CHANGE_COLOURS = {"broken": "#d73027", "worse": "#fc8d59", "removed estate": "#7b3294",
                  "removed rule": "#c2a5cf", "changed": "#fee08b", "new estate": "#4575b4",
                  "new rule": "#91bfdb", "better": "#91cf60", "fixed": "#1a9850",
                  "unchanged": "#f0f0f0"}
"""The colour of each kind of change (unchanged estates pale grey)."""



def diff_png(estates: gpd.GeoDataFrame, worst: pd.Series, *, title: str = "",
             dpi: int = 120) -> bytes:
    """PNG bytes of the estates (``estate_id``, geometry, in a projected CRS in metres; both
    runs' estates, one row per id) coloured by ``worst`` (worst change by estate_id; estates
    absent from it are unchanged), with a legend of the changes present."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(7, 6), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.70, 0.90))
    ax.set_aspect("equal")
    ax.set_axis_off()
    kind = estates["estate_id"].map(worst).fillna("unchanged").to_numpy()
    present = [c for c in (*CHANGE_ORDER, "unchanged") if (kind == c).any()]
    if len(estates):
        estates.plot(ax=ax, color=[CHANGE_COLOURS[k] for k in kind], edgecolor="#333333",
                     linewidth=0.8)
    font = cjk_font()
    if len(estates):
        x0, y0, x1, y1 = estates.total_bounds
        pad = max(x1 - x0, y1 - y0, 1.0) * 0.05
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        pts = estates.geometry.representative_point()
        for (x, y), eid in zip(np.c_[pts.x, pts.y], estates["estate_id"], strict=True):
            ax.text(x, y, str(eid), ha="center", va="center", fontsize=7, fontproperties=font)
    handles = [Patch(facecolor=CHANGE_COLOURS[c], edgecolor="#333333",
                     label=f"{CHANGE_ZH[c]} {c}") for c in present]
    fig.legend(handles=handles, loc="upper right", prop=font, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontproperties=font, fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
