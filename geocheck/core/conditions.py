"""Planning conditions (规划条件): a plot's own figures, typed by the reviewer.

A planning condition is not a clause of a standard: it is the figure the planning authority set
for this plot (plot ratio at most 2.5, green ratio at least 30 % ...), which a reviewer copies
from the plot's 规划条件 into a conditions table or the project file. geocheck measures each on
the plan and cites it as the reviewer's figure: ``规划条件 容积率 = 2.5 (conditions.csv)``.

The keys (English or Chinese, as the reviewer prefers) are in :data:`CONDITION_KEYS`.
"""

from __future__ import annotations

from dataclasses import dataclass

SIDES = ("north", "east", "south", "west")
"""The sides of a plot a setback may be given for, by the compass direction its boundary edge
faces (its outward normal)."""
SIDE_ZH = {"north": "北", "east": "东", "south": "南", "west": "西"}


@dataclass(frozen=True)
class ConditionKey:
    """One kind of planning condition.

    Attributes
    ----------
    key : the canonical key, e.g. ``plot_ratio_max``.
    names : other names it may be given by (Chinese first).
    kind : ``"ratio"`` (0-1, or a percentage such as ``35%``), ``"number"`` (plot ratio, a
        plain number) or ``"metres"``.
    title_zh, title_en : how findings and opinions name it.
    """

    key: str
    names: tuple[str, ...]
    kind: str
    title_zh: str
    title_en: str


CONDITION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("plot_ratio_max", ("容积率", "plot_ratio"), "number", "容积率", "plot ratio"),
    ConditionKey("building_density_max", ("建筑密度", "building_density"), "ratio", "建筑密度",
                 "building density"),
    ConditionKey("green_ratio_min", ("绿地率", "green_ratio"), "ratio", "绿地率", "green ratio"),
    ConditionKey("setback_min_m", ("建筑退让用地红线", "退让用地红线", "退线", "setback_m"),
                 "metres", "建筑退让用地红线", "setback from the red line"),
    *(ConditionKey(f"setback_{side}_m", (f"{SIDE_ZH[side]}侧退让用地红线",
                                         f"{SIDE_ZH[side]}退线"),
                   "metres", f"{SIDE_ZH[side]}侧建筑退让用地红线",
                   f"setback from the red line, {side} side") for side in SIDES),
    ConditionKey("height_max_m", ("建筑高度", "建筑限高", "限高", "height_max"), "metres",
                 "建筑高度", "building height"),
    ConditionKey("storey_height_m", ("层高", "storey_height"), "metres", "层高",
                 "storey height"),
)
"""Every key a conditions table may give. ``storey_height_m`` is not judged: it turns storeys
into a height where buildings have no height field."""

KEY_BY_NAME: dict[str, ConditionKey] = {
    name.casefold(): k for k in CONDITION_KEYS for name in (k.key, *k.names)}
"""Any accepted name (case-folded) -> its key."""


@dataclass(frozen=True)
class Condition:
    """One figure a reviewer gave.

    Attributes
    ----------
    key : the canonical key (:data:`CONDITION_KEYS`).
    value : the figure, as a ratio 0-1 for ratios, metres for distances and heights.
    typed : the key and value as the reviewer wrote them, e.g. ``绿地率 = 30%``.
    source : the file it was read from (name only), e.g. ``conditions.csv``.
    """

    key: str
    value: float
    typed: str
    source: str

    @property
    def citation(self) -> str:
        """``规划条件 (the reviewer's figure): 绿地率 = 30% (conditions.csv)``."""
        return f"规划条件 (figure given by the reviewer): {self.typed} ({self.source})"
