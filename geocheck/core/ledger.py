"""The ledger: an account of every input feature, read, judged or rejected with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Ledger:
    """What happened to the input while it was read and normalised.

    Attributes
    ----------
    read : features read per layer.
    rejects : one dict per rejected feature: ``layer``, ``feature_id``, ``reason``.
    notes : messages the user must see (repairs, conversions, assignments, ignored layers).
    places : one per reject, in the order of ``rejects``: ``(estate_id, where, crs)``, the
        estate the feature names in its ``estate_id`` field (None for none) and where it lies
        (a shapely geometry in ``crs``, or None when no usable coordinate is left). The rules
        use them to find the estates whose verdicts a reject could change.
    ambiguous : features judged but claimed by more than one estate (in overlapping estates,
        without an ``estate_id``): ``layer``, ``feature_id``, ``estate_ids`` (``"A; B"``).
    attributed : reject position -> the estates it was found to bear on (``"A; B"``, ``"all"``),
        filled in by the rules when they judge.
    counted : rejected features per layer told by one note each rather than listed one by one
        (see :meth:`reject_counted`).
    """

    read: dict[str, int] = field(default_factory=dict)
    rejects: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    places: list[tuple[str | None, Any, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, str]] = field(default_factory=list)
    attributed: dict[int, str] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)

    def reject(self, layer: str, feature_ids: Iterable[str], reason: str | Iterable[str], *,
               estate_ids: Iterable[str | None] | None = None,
               places: Iterable[Any] | None = None, crs: Any = None) -> None:
        """Record features of ``layer`` as rejected, with one reason for all or one each.

        ``estate_ids`` (the estate each names, or None) and ``places`` (where each lies: a
        geometry in ``crs``, or None) say which estates a reject may bear on; without them the
        reject is unlocated.
        """
        ids = list(feature_ids)
        reasons = [reason] * len(ids) if isinstance(reason, str) else list(reason)
        owners = [None] * len(ids) if estate_ids is None else list(estate_ids)
        where = [None] * len(ids) if places is None else list(places)
        self.rejects.extend(
            {"layer": layer, "feature_id": str(i), "reason": r}
            for i, r in zip(ids, reasons, strict=True)
        )
        self.places.extend((o, w, crs) for o, w in zip(owners, where, strict=True))

    def reject_counted(self, layer: str, count: int, note: str) -> None:
        """Record ``count`` rejected features of ``layer`` by one note that says why, not a
        row each (a sheet of a million stray rows must not write a million rejects)."""
        self.counted[layer] = self.counted.get(layer, 0) + count
        self.note(note)

    def note(self, message: str) -> None:
        """Record a message for the summary and the findings."""
        self.notes.append(message)

    def rejected(self, layer: str) -> int:
        """Number of rejected features of ``layer``."""
        return sum(1 for r in self.rejects if r["layer"] == layer) + self.counted.get(layer, 0)

    def total_rejected(self) -> int:
        """Rejected features of every layer, listed or counted."""
        return len(self.rejects) + sum(self.counted.values())

    def counts(self) -> pd.DataFrame:
        """Table of ``layer, read, judged, rejected``, where judged = read - rejected."""
        rows = [
            {"layer": layer, "read": n, "judged": n - self.rejected(layer),
             "rejected": self.rejected(layer)}
            for layer, n in self.read.items()
        ]
        return pd.DataFrame(rows, columns=["layer", "read", "judged", "rejected"])

    def rejects_frame(self) -> pd.DataFrame:
        """Rejected features as a table with columns ``layer, feature_id, reason, estate_id``:
        ``estate_id`` names the estates whose verdicts the reject was found to bear on (``"A;
        B"``; ``"all"`` when it could not be located; ``""`` for none)."""
        frame = pd.DataFrame(self.rejects, columns=["layer", "feature_id", "reason"])
        frame["estate_id"] = [self.attributed.get(i, "") for i in range(len(frame))]
        return frame
