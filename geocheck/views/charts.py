"""Charts: campaign progress against its yearly targets, as a PNG.

Drawn with matplotlib's Agg canvas (never pyplot), imported only when a chart is drawn.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.status import FAIL, PASS
from ..rules.packs.model import Campaign
from .style import STATUS_COLOURS, cjk_font, find_cjk_font, sized_font

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn
    from matplotlib.figure import Figure


_TEXT = {
    "zh": {"year": "年份（年底）", "count": "小区数（个）", "share": "占创建小区总数的比例",
           "scheduled": "计划创建（累计）", "on": "现已达标（累计），达到年度目标",
           "off": "现已达标（累计），未达年度目标", "none": "现已达标（累计），该年无目标",
           "target": "年度目标比例", "total": "创建小区 {n} 个",
           "unscheduled": "另有 {n} 个小区未定创建年份，未计入",
           "declaration": "达标：符合申报条件", "overall": "达标：全部规则达标"},
    "en": {"year": "year (by year end)", "count": "estates", "share": "share of campaign estates",
           "scheduled": "scheduled (cumulative)", "on": "passing now (cumulative), on track",
           "off": "passing now (cumulative), behind target",
           "none": "passing now (cumulative), no target that year",
           "target": "target share", "total": "{n} campaign estates",
           "unscheduled": "not counted: {n} estate(s) without a target year",
           "declaration": "passing: eligible to declare", "overall": "passing: every rule passes"},
}
SCHEDULED_COLOUR = "#c6cbd1"
NO_TARGET_COLOUR = "#6b8fb3"
TARGET_COLOUR = "#222222"


def progress_chart_png(table: pd.DataFrame, campaign: Campaign, *, lang: str = "zh",
                       dpi: int = 150) -> bytes:
    """The progress chart (see :func:`progress_chart_figure`) as PNG bytes."""
    fig = progress_chart_figure(table, campaign, lang=lang, dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def progress_chart_figure(table: pd.DataFrame, campaign: Campaign, *, lang: str = "zh",
                          dpi: int = 150) -> Figure:
    """The progress table as a bar chart: a matplotlib Figure on an Agg canvas (not pyplot).

    Titles and notes from the pack are drawn as plain text, never as mathtext (``$...$``).

    Per year: a grey bar of estates scheduled by then and, in front, a bar of those passing now
    (green when on track, red when behind the year's target, blue for a year without one), on
    a left axis in estates; the targets as markers joined by a dashed line on a right axis in
    percent of the campaign estates, scaled so that 100 % lines up with their number.

    Parameters
    ----------
    table : as returned by :func:`geocheck.rules.campaign.progress_table`.
    campaign : the pack's campaign (its title heads the chart).
    lang : ``zh`` (default) or ``en``: the language of the title and labels.
    dpi : resolution, dots per inch (the figure is 8 x 4.8 inches).

    Raises
    ------
    GeocheckError
        For ``lang="zh"`` when no installed font renders Chinese.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    if lang not in _TEXT:
        raise ValueError(f"unknown language {lang!r}: choose zh or en")
    t = _TEXT[lang]
    base = cjk_font() if lang == "zh" else find_cjk_font()
    total = int(table["scheduled"].sum())
    years = table["year"].to_numpy(dtype="int64")
    x = np.arange(len(years))
    fig = Figure(figsize=(8.0, 4.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.2, 0.8, 0.66))
    ax.bar(x, table["scheduled_cumulative"], width=0.7, color=SCHEDULED_COLOUR, zorder=2)
    track = table["on_track"]
    colours = np.where(track.isna().to_numpy(), NO_TARGET_COLOUR,
                       np.where(track.fillna(False).to_numpy(dtype=bool), STATUS_COLOURS[PASS],
                                STATUS_COLOURS[FAIL]))
    passing = table["passing"].to_numpy(dtype="int64")
    bars = ax.bar(x, passing, width=0.42, color=colours, zorder=3)
    top = max(total, 1) * 1.15
    # counts inside tall bars (a target marker may sit on a bar's top), above short ones
    tall = passing >= 0.08 * top
    ax.bar_label(bars, labels=[str(n) if t else "" for n, t in zip(passing, tall, strict=True)],
                 label_type="center", color="white", fontproperties=sized_font(base, 8, "bold"))
    ax.bar_label(bars, labels=[str(n) if not t else "" for n, t in zip(passing, tall,
                                                                        strict=True)],
                 padding=2, fontproperties=sized_font(base, 8))
    ax.set_ylim(0, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_xlabel(t["year"], fontproperties=sized_font(base, 10))
    ax.set_ylabel(t["count"], fontproperties=sized_font(base, 10))
    ax.grid(axis="y", color="#e5e5e5", zorder=0)
    share = ax.twinx()
    share.set_ylim(0, top / max(total, 1))
    share.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    share.set_ylabel(t["share"], fontproperties=sized_font(base, 10))
    goal = table["target_share"].to_numpy(dtype=float)
    has = ~np.isnan(goal)
    share.plot(x[has], goal[has], linestyle="--", marker="D", color=TARGET_COLOUR, zorder=4)
    for xi, g in zip(x[has], goal[has], strict=True):
        share.annotate(f"{g:.0%}", (xi, g), xytext=(-7, 5), textcoords="offset points",
                       ha="right", fontproperties=sized_font(base, 8), color=TARGET_COLOUR)
    handles = [Patch(color=SCHEDULED_COLOUR, label=t["scheduled"])]
    on = track.fillna(False).to_numpy(dtype=bool)
    off = ~track.fillna(True).to_numpy(dtype=bool)
    for key, colour, present in (("on", STATUS_COLOURS[PASS], on.any()),
                                 ("off", STATUS_COLOURS[FAIL], off.any()),
                                 ("none", NO_TARGET_COLOUR, track.isna().any())):
        if present:
            handles.append(Patch(color=colour, label=t[key]))
    handles.append(share.lines[0] if has.any() else Patch(color=TARGET_COLOUR))
    handles[-1].set_label(t["target"])
    ax.legend(handles=handles, loc="upper left", prop=sized_font(base, 8), frameon=False, ncols=2,
              bbox_to_anchor=(0, -0.12))
    title = campaign.title_zh if lang == "zh" else campaign.title_en
    fig.text(0.09, 0.94, title, fontproperties=sized_font(base, 12, "bold"), parse_math=False)
    note = [t["total"].format(n=total), t.get(table.attrs.get("basis", ""), "")]
    if table.attrs.get("unscheduled"):
        note.append(t["unscheduled"].format(n=table.attrs["unscheduled"]))
    fig.text(0.09, 0.895, ("；" if lang == "zh" else "; ").join(n for n in note if n),
             fontproperties=sized_font(base, 8.5), color="#555555", parse_math=False)
    return fig
