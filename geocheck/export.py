"""Write a :class:`~geocheck.findings.Result` to files: CSV tables, a GeoPackage and a map."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .findings import Result

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy in which no text cell can be read as a spreadsheet formula.

    Text cells starting with ``= + - @``, tab or carriage return get a leading apostrophe, as
    OWASP advises for CSV files opened in Excel. Numbers are left alone.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str[:1].isin(FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + text[risky].astype(str)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 with a byte-order mark (so Excel reads Chinese text right).

    Written with Arrow's CSV writer (some 30x faster than pandas on a city's findings); a table
    Arrow cannot convert (mixed types in a column) falls back to pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    safe = defuse_formulas(df)
    try:
        table = pa.Table.from_pandas(safe, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        safe.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        pcsv.write_csv(table, fh, pcsv.WriteOptions(quoting_style="needed"))
    return path


def estates_with_verdicts(result: Result) -> gpd.GeoDataFrame:
    """Estates with their overall status and one status column per rule."""
    est = result.site.estates[["estate_id", "name", "households", "households_estimated", "built",
                               "geometry"]].copy()
    wide = result.findings.pivot(index="estate_id", columns="rule_id", values="status")
    wide = wide[[r.id for r in result.pack.rules]]
    est["overall"] = est["estate_id"].map(result.overall())
    for rid in wide.columns:
        est[rid] = est["estate_id"].map(wide[rid])
    counts = result.findings.groupby(["estate_id", "status"]).size().unstack(fill_value=0)
    for status in ("pass", "fail", "not_applicable", "no_data"):
        est[f"n_{status}"] = est["estate_id"].map(
            counts[status] if status in counts else pd.Series(dtype=int)).fillna(0).astype(int)
    est["pack"] = result.pack.id
    from .scorecard import declaration, scores

    for table, cols in ((declaration(result), ["compliance_rate", "eligible",
                                               "blocking_requirements", "verdict"]),
                        (scores(result), ["total", "stars", "rating"])):
        if table is not None:
            for col in cols:
                est[col] = est["estate_id"].map(table.set_index("estate_id")[col])
    return est


def write_gpkg(result: Result, path: Path) -> Path:
    """Write results.gpkg: ``estates`` with verdicts, evidence layers, ``findings``, ``rejects``.

    Evidence layers: ``evidence_lines`` (estate to the facility that decided a distance rule),
    ``uncovered_buildings``, ``too_close_points``. All in the working CRS.
    """
    if path.exists():
        path.unlink()
    est = estates_with_verdicts(result)
    pyogrio.write_dataframe(est, path, layer="estates", driver="GPKG", use_arrow=True)
    ev = result.evidence
    for layer in ("evidence_lines", "uncovered_buildings", "too_close_points"):
        part = ev[ev["layer"] == layer].drop(columns="layer")
        if len(part):
            pyogrio.write_dataframe(part, path, layer=layer, driver="GPKG", use_arrow=True)
    pyogrio.write_dataframe(defuse_formulas(result.findings), path, layer="findings",
                            driver="GPKG", use_arrow=True)
    rejects = result.site.ledger.rejects_frame()
    if len(rejects):
        pyogrio.write_dataframe(rejects, path, layer="rejects", driver="GPKG", use_arrow=True)
    return path


def write_all(result: Result, outdir: Path) -> dict[str, Path]:
    """Write every output into ``outdir`` (created if needed); return their paths by name.

    Always findings.csv, rejects.csv, results.gpkg, map.html; scorecard.csv when the pack has
    standards; summary.csv when it has a declaration rule (compliance and eligibility) or a
    points score (total, parts, stars).
    """
    from .scorecard import declaration, scorecard, scores
    from .webmap import write_map

    outdir.mkdir(parents=True, exist_ok=True)
    written = {
        "findings": write_csv(result.findings, outdir / "findings.csv"),
        "rejects": write_csv(result.site.ledger.rejects_frame(), outdir / "rejects.csv"),
    }
    card = scorecard(result)
    if card is not None:
        written["scorecard"] = write_csv(card, outdir / "scorecard.csv")
    summary = declaration(result)
    if summary is None:
        summary = scores(result)
    if summary is not None:
        written["summary"] = write_csv(summary, outdir / "summary.csv")
    written["results"] = write_gpkg(result, outdir / "results.gpkg")
    written["map"] = write_map(result, outdir / "map.html")
    return written
