"""The diff of two findings tables, on rows written by hand: one case per kind of change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geocheck.rules.diff import DIFF_COLUMNS, diff_findings, worst_change

COLS = ["estate_id", "estate_name", "rule_id", "title_zh", "title_en", "status", "value",
        "unit", "threshold", "evidence"]


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(estate, rule, status, value, threshold) rows as a findings table."""
    return pd.DataFrame([(e, f"名{e}", r, f"题{r}", f"title {r}", s, v, "m", t, "")
                         for e, r, s, v, t in rows], columns=COLS)


BEFORE = frame([
    ("A", "fix", "fail", 600.0, "<= 500 m"),
    ("A", "brk", "pass", 400.0, "<= 500 m"),
    ("A", "nd", "fail", 600.0, "<= 500 m"),      # fail -> no data: worse, not fixed
    ("A", "nd2", "no_data", np.nan, ">= 5 m"),   # no data -> pass: better
    ("A", "up", "pass", 6.0, ">= 5 m"),          # higher is better, moved up
    ("A", "down", "fail", 3.0, ">= 5 m"),        # moved away from the threshold
    ("A", "same", "pass", 1.0, "<= 2"),
    ("A", "odd", "pass", 1.0, "yes/no"),         # no direction in the threshold
    ("A", "gone", "pass", 1.0, "<= 2"),          # rule removed
    ("B", "fix", "pass", 10.0, "<= 500 m"),      # estate removed
])
AFTER = frame([
    ("A", "fix", "pass", 480.0, "<= 500 m"),
    ("A", "brk", "fail", 520.0, "<= 500 m"),
    ("A", "nd", "no_data", np.nan, "<= 500 m"),
    ("A", "nd2", "pass", 7.0, ">= 5 m"),
    ("A", "up", "pass", 9.0, ">= 5 m"),
    ("A", "down", "fail", 2.0, ">= 5 m"),
    ("A", "same", "pass", 1.0, "<= 2"),
    ("A", "odd", "pass", 0.0, "yes/no"),
    ("A", "new", "fail", 3.0, "<= 2"),          # rule added
    ("C", "fix", "fail", 900.0, "<= 500 m"),    # estate added
])


def test_every_kind_of_change() -> None:
    d = diff_findings(BEFORE, AFTER)
    assert list(d.columns) == DIFF_COLUMNS
    got = dict(zip(zip(d["estate_id"], d["rule_id"], strict=True), d["change"], strict=True))
    assert got == {("A", "fix"): "fixed", ("A", "brk"): "broken", ("A", "nd"): "worse",
                   ("A", "nd2"): "better", ("A", "up"): "better", ("A", "down"): "worse",
                   ("A", "odd"): "changed", ("A", "gone"): "removed rule",
                   ("A", "new"): "new rule", ("B", "fix"): "removed estate",
                   ("C", "fix"): "new estate"}  # ("A", "same") unchanged: no row


def test_rows_are_worst_first_and_say_before_and_after() -> None:
    d = diff_findings(BEFORE, AFTER)
    assert d["change"].tolist()[:4] == ["broken", "worse", "worse", "removed estate"]
    assert list(d.loc[d["change"] == "worse", "rule_id"]) == ["down", "nd"]  # fail before no data
    row = d[d["rule_id"] == "brk"].iloc[0]
    assert (row["before"], row["after"], row["severity"]) == ("pass 400 m", "fail 520 m", 3)
    new = d[d["change"] == "new estate"].iloc[0]
    assert (new["before"], new["after"]) == ("", "fail 900 m")


def test_no_change_is_an_empty_diff() -> None:
    assert diff_findings(BEFORE, BEFORE).empty


def test_worst_change_per_estate() -> None:
    w = worst_change(diff_findings(BEFORE, AFTER))
    assert w.to_dict() == {"A": "broken", "B": "removed estate", "C": "new estate"}
