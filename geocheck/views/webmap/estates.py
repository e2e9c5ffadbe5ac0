"""The estates' layer of the map: each estate's verdict, tooltip, popup header and, per rule,
its status and the texts its popup shows (value, evidence, remedy) as indexes into one table
of distinct, escaped texts (``GEOCHECK.t``), so the same text is written once, not per estate.

Texts are formatted once per distinct value and told apart by Arrow's hashing; every text from
the data is HTML-escaped (:func:`~geocheck.views.webmap.leaflet.escape_all`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...core.units import (
    DISTANCE_DECIMALS,
    RATIO_DECIMALS,
    VALUE_DECIMALS,
    numbers_all,
    points,
    share,
)
from ...rules.result import Result
from ..text import walk_notes
from .leaflet import escape_all


def _value_text(values: np.ndarray, units: np.ndarray) -> list[str]:
    """Each finding's value as the popup shows it ('' where there is none), vectorised by
    unit: rounded in numpy to the places judged (as :func:`~geocheck.core.units.number`
    rounds one number), formatted, trailing zeros dropped."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), "", dtype=object)
    finite = np.isfinite(values)
    # each distinct unit named once (str of each, as a missing unit was), not once a finding
    codes, distinct = pd.factorize(np.asarray(units, dtype=object), use_na_sentinel=False)
    names = np.array([str(u) for u in distinct.tolist()], dtype=object)
    keys = names[codes] if len(codes) else np.array([], dtype=object)
    for key in dict.fromkeys(keys[finite].tolist()):
        at = np.flatnonzero(finite & (keys == key))
        # each distinct value formatted once (told apart by their bits: -0.0 is not 0.0)
        bits, back = np.unique(values[at].view(np.int64), return_inverse=True)
        v = bits.view(np.float64)
        if key == "ratio":  # to the millionth judged, as a percent: reads as its verdict
            texts = [t + "%" for t in _judged(v * 100, RATIO_DECIMALS - 2)]
        elif key == "count":
            texts = [f"{int(x)}" for x in v.tolist()]
        elif key == "yes/no":
            texts = ["是 yes" if x else "否 no" for x in v.tolist()]
        elif key in ("points", "number"):
            suffix = " points" if key == "points" else ""
            texts = [t + suffix for t in _judged(v, 6)]
        else:  # metres, m2 ...: to the places judged, trailing zeros dropped
            texts = [f"{t} {key}" for t in _judged(v, VALUE_DECIMALS.get(key,
                                                                     DISTANCE_DECIMALS))]
        out[at] = np.array(texts, dtype=object)[back.ravel()]
    return out.tolist()


def _judged(values: np.ndarray, places: int) -> list[str]:
    """Each value to the ``places`` it was judged at, trailing zeros dropped."""
    return numbers_all(values, places, judged=places, trim=True)


def estate_layer_frame(result: Result) -> gpd.GeoDataFrame:
    """Estates with escaped display properties: ``overall``, ``tip``, ``h`` (popup header) and,
    per rule i in pack order, ``s{i}`` status, ``v{i}`` value text (with the walk and the
    detour ratio, :func:`~geocheck.views.text.walk_notes`), ``e{i}`` evidence and ``r{i}``
    remedy as indexes into ``attrs["texts"]`` (the distinct texts, escaped)."""
    est = result.site.estates
    overall = est["estate_id"].map(result.overall()).to_numpy()
    names, ids = escape_all(est["name"]), escape_all(est["estate_id"])
    shown = np.where(names != "", names, ids)
    out = gpd.GeoDataFrame({"overall": overall}, geometry=est.geometry.to_numpy(),
                           crs=est.crs)
    out["tip"] = shown + " (" + ids + "): " + overall
    # Raw (unescaped) name and id for the search box, which only ever sets them as text.
    out["n"] = est["name"].fillna("").astype(str).to_numpy()
    out["i"] = est["estate_id"].astype(str).to_numpy()
    hh, built = escape_all(est["households"].astype(object)), escape_all(est["built"])
    out["h"] = ("<h4>" + shown + "</h4><div>" + ids + " · households " + hh + " · built "
                + built + " · overall <b class='gc-" + overall + "'>" + overall + "</b></div>")
    out["h"] += _scorecard_html(result)
    # Per rule: s{i} status, v{i} and e{i} indexes into one table of distinct, escaped texts
    # (GEOCHECK.t), so that the same evidence ("no data: ...") is written once, not per estate.
    f = result.findings  # estates x rules, in site and pack order
    shown_values = (np.array(_value_text(f["value"].to_numpy(dtype=float, na_value=np.nan),
                                         f["unit"].to_numpy()), dtype=object)
                    + walk_notes(f))
    codes, uniques = _text_codes([shown_values, f["evidence"], f["remedy"]])
    n, r = len(est), len(result.pack.rules)
    # the codes as one block of integers (v0 ... e0 ... r0 ...), each rule's statuses taken
    # from the findings' texts as they are, then the columns put in rule order
    ints = pd.DataFrame(codes.reshape(3, n, r).transpose(1, 0, 2).reshape(n, 3 * r),
                        columns=[f"{k}{i}" for k in "ver" for i in range(r)], index=out.index)
    statuses = pd.DataFrame(_rule_columns(f["status"], n, r), index=out.index)
    rules = pd.concat([statuses, ints], axis=1)[[f"{k}{i}" for i in range(r) for k in "sver"]]
    out = gpd.GeoDataFrame(pd.concat([out, rules], axis=1), geometry="geometry", crs=est.crs)
    out.attrs["texts"] = escape_all(uniques).tolist()
    return out


def _rule_columns(values: pd.Series, n: int, r: int) -> dict[str, Any]:
    """A findings column of ``n`` estates x ``r`` rules as ``s0`` ... one column a rule, taken
    by Arrow from a column of texts."""
    if not isinstance(values.dtype, pd.StringDtype):
        matrix = values.to_numpy().reshape(n, r)
        return {f"s{i}": matrix[:, i] for i in range(r)}
    texts = pa.array(values.array, type=pa.string())
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    first = np.arange(n) * r
    return {f"s{i}": pd.array(pc.take(texts, first + i), dtype=values.dtype) for i in range(r)}


def _text_codes(pieces: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of the texts of ``pieces`` one after another (the same codes, and
    the distinct texts in the same order: first seen first), each piece's texts told apart
    by Arrow's hashing and only the pieces' distinct texts put together; pandas for pieces
    that hold something other than texts, or nothing."""
    try:
        arrays = [pa.array(p.array if isinstance(p, pd.Series) else np.asarray(p, dtype=object),
                           type=pa.string()) for p in pieces]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arrays = []
    encoded = [pc.dictionary_encode(a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a)
               for a in arrays]
    if not encoded or any(e.null_count for e in encoded):  # pandas' -1 for a missing text
        return pd.factorize(np.concatenate([np.asarray(p, dtype=object) for p in pieces]))
    together = pc.dictionary_encode(pa.concat_arrays([e.dictionary for e in encoded]))
    merged = together.indices.to_numpy()
    starts = np.cumsum([0] + [len(e.dictionary) for e in encoded])
    codes = np.concatenate([merged[start + e.indices.to_numpy()]
                            for start, e in zip(starts, encoded, strict=False)])
    return codes.astype(np.intp), together.dictionary.to_numpy(zero_copy_only=False)


def _scorecard_html(result: Result) -> np.ndarray:
    """Per estate, escaped lines for the popup header: compliance and eligibility (declaration
    packs) or points and stars (scoring packs); '' for other packs."""
    ids = result.site.estates["estate_id"].to_numpy()
    html_rows = np.full(len(ids), "", dtype=object)
    table = result.declaration
    if table is not None:
        t = table.set_index("estate_id").reindex(ids)
        need = result.pack.declaration.min_compliance
        rates = t["compliance_rate"].tolist()
        shown = {r: share(r, limit=need) for r in dict.fromkeys(rates)  # each rate once
                 if not pd.isna(r)}
        rate = ["-" if pd.isna(r) else shown[r] for r in rates]
        text = [f"compliance {r} ({p}/{a} standards passed) · eligible: "
                f"{'yes' if e else 'no'}" + (f" · blocking: {b}" if b else "")
                for r, p, a, e, b in zip(rate, t["standards_passed"],
                                         t["standards_applicable"], t["eligible"],
                                         t["blocking_requirements"], strict=True)]
        html_rows = "<div class='gc-card'>" + escape_all(text) + "</div>"
    table = result.scores
    if table is not None:
        t = table.set_index("estate_id").reindex(ids)
        parts = [p.id for p in result.pack.scoring.parts]
        text = [f"{rating} · " + ", ".join(
                    f"{p} {'-' if pd.isna(v) else points(v)}" for p, v in zip(parts, row,
                                                                         strict=True))
                for rating, row in zip(t["rating"], t[parts].to_numpy(), strict=True)]
        html_rows = "<div class='gc-card'>" + escape_all(text) + "</div>"
    return np.asarray(html_rows, dtype=object)
