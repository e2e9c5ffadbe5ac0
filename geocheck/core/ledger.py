"""The ledger: an account of every input feature, read, judged or rejected with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Ledger:
    """What happened to the input while it was read and normalised.

    Attributes
    ----------
    read : features read per layer.
    rejects : one dict per rejected feature: ``layer``, ``feature_id``, ``reason``.
    notes : messages the user must see (repairs, conversions, assignments, ignored layers).
    counted : rejected features per layer told by one note each rather than listed one by one
        (see :meth:`reject_counted`).
    """

    read: dict[str, int] = field(default_factory=dict)
    rejects: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)

    def reject(self, layer: str, feature_ids: Iterable[str], reason: str | Iterable[str]) -> None:
        """Record features of ``layer`` as rejected, with one reason for all or one each."""
        ids = list(feature_ids)
        reasons = [reason] * len(ids) if isinstance(reason, str) else list(reason)
        self.rejects.extend(
            {"layer": layer, "feature_id": str(i), "reason": r}
            for i, r in zip(ids, reasons, strict=True)
        )

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
        """Rejected features as a table with columns ``layer, feature_id, reason``."""
        return pd.DataFrame(self.rejects, columns=["layer", "feature_id", "reason"])
