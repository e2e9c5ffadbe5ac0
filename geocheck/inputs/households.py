"""Households of estates: estimated from residential floor area, or joined from a sheet.

OpenStreetMap has no household counts: :func:`estimate_households` estimates them from the
footprints and ``building:levels`` of the residential buildings in each estate, measured in a
local projected CRS (metres); :func:`join_households` replaces estimates with the planners' own
figures from a sheet, matched by estate id or name.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.errors import InputError
from .projection import choose_working_crs
from .values import as_text


def estimate_households(estates: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None,
                         per_household: float) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Estimate households from residential floor area; see :func:`read_osm`."""
    estates = estates.copy()
    n = len(estates)
    n_res = np.zeros(n, np.int64)
    n_levels = np.zeros(n, np.int64)
    floor = np.full(n, np.nan)
    has_geom = ~shapely.is_missing(estates.geometry.to_numpy())
    crs = None
    if buildings is not None and has_geom.any():
        crs = choose_working_crs(tuple(estates.loc[has_geom].total_bounds))
        est_pos = np.flatnonzero(has_geom)
        est_geoms = estates.geometry.iloc[est_pos].to_crs(crs).to_numpy()
        est_geoms = np.where(shapely.is_valid(est_geoms), est_geoms,
                             shapely.make_valid(est_geoms))
        res = (buildings["use"].isna() | (buildings["use"] == "residential")).to_numpy(bool)
        res = res & ~shapely.is_missing(buildings.geometry.to_numpy())
        b = buildings.loc[res]
        bgeoms = b.geometry.to_crs(crs).to_numpy()
        bad = ~shapely.is_valid(bgeoms)
        bgeoms[bad] = shapely.make_valid(bgeoms[bad])
        bi, ei = shapely.STRtree(est_geoms).query(shapely.point_on_surface(bgeoms),
                                                   predicate="within")
        levels = b["levels"].to_numpy(dtype=float)[bi]
        pairs = pd.DataFrame({"estate": est_pos[ei], "has_levels": ~np.isnan(levels),
                              "floor": shapely.area(bgeoms[bi]) * levels})
        agg = pairs.groupby("estate").agg(n=("has_levels", "size"), n_lev=("has_levels", "sum"),
                                          floor=("floor", "sum"))
        idx = agg.index.to_numpy()
        n_res[idx] = agg["n"].to_numpy()
        n_levels[idx] = agg["n_lev"].to_numpy()
        floor[idx] = agg["floor"].to_numpy()
    ok = has_geom & (n_res > 0) & (n_levels == n_res)
    households = np.where(ok, np.floor(np.where(ok, floor, 0) / per_household + 0.5), np.nan)
    estates["households"] = pd.array(households, dtype="Float64").astype("Int64")
    estates["households_estimated"] = ok
    estates["res_buildings"] = n_res
    estates["res_buildings_levels"] = n_levels
    estates["res_floor_area_m2"] = np.where(ok, floor, np.nan)
    if n == 0:
        return estates, []
    where = f"{crs.name}, EPSG:{crs.to_epsg()}" if crs is not None else "a local projected CRS"
    notes = [
        f"estates: households estimated for {int(ok.sum())} of {n} estates as residential floor "
        f"area / {per_household:g} m² per household, rounded; floor area = footprint area (in "
        f"{where}) x building:levels, summed over the residential buildings (use residential "
        "or unknown) whose representative point lies in the estate. OSM has no household "
        "counts: join real ones where you have them"]
    reasons = []
    if (~has_geom).any():
        reasons.append(f"{int((~has_geom).sum())} without geometry")
    none_in = has_geom & (n_res == 0)
    if none_in.any():
        reasons.append(f"{int(none_in.sum())} without a residential building inside")
    partial = has_geom & (n_res > 0) & (n_levels < n_res)
    if partial.any():
        reasons.append(
            f"{int(partial.sum())} with residential buildings lacking building:levels "
            f"({int((n_res - n_levels)[partial].sum())} of their {int(n_res[partial].sum())} "
            "residential buildings)")
    if reasons:
        notes.append(f"estates: {n - int(ok.sum())} of {n} have no households estimate: "
                     + "; ".join(reasons))
    if buildings is not None:
        lost = buildings["source_problem"].notna() & (
            buildings["use"].isna() | (buildings["use"] == "residential"))
        if lost.any():
            notes.append(f"estates: {int(lost.sum())} residential buildings have no geometry, "
                         "so no estate's estimate includes them")
    return estates, notes


ID_COLUMNS = ("estate_id", "小区编号", "id")

NAME_COLUMNS = ("name", "小区名称", "名称")

HOUSEHOLD_COLUMNS = ("households", "户数")


def _find_column(table: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...],
                 what: str) -> object | None:
    """The table column named ``wanted`` (must exist), else the first candidate present."""
    names = {str(c).strip().lower(): c for c in table.columns}
    if wanted is not None:
        if wanted in table.columns:
            return wanted
        if wanted.strip().lower() in names:
            return names[wanted.strip().lower()]
        raise InputError(f"households sheet has no column {wanted!r} ({what}); its columns are: "
                         + ", ".join(str(c) for c in table.columns))
    return next((names[c.lower()] for c in candidates if c.lower() in names), None)


def join_households(estates: gpd.GeoDataFrame, table: pd.DataFrame, *, key: str | None = None,
                    households_field: str | None = None,
                    ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Set estates' households from a sheet, matched by estate_id or by name.

    Parameters
    ----------
    estates : the estates layer (``estate_id``, ``name``, ``households``), e.g. from
        :func:`read_osm`.
    table : the sheet, one row per estate, as read from CSV or Excel. Rows are named in messages
        as in a spreadsheet: the header is row 1, the first data row is row 2.
    key : the sheet column to match on. Default: the first present of ``estate_id``,
        ``小区编号``, ``id``, ``name``, ``小区名称``, ``名称`` (case-insensitive). An id column is
        matched against the estates' ``estate_id``, a name column against ``name``; any other
        column against ``estate_id`` if one of its values starts with ``osm:``, else ``name``.
        Values are compared as stripped text.
    households_field : the sheet column with households. Default: ``households`` or ``户数``.

    Returns
    -------
    (estates, notes)
        A copy of the estates whose ``households`` (nullable Int64) are the sheet's where a row
        matched, replacing any estimate (``households_estimated`` False there), and notes: rows
        joined, rows matching no estate, matched rows without a value, estates still without
        households.

    Raises
    ------
    InputError
        For a missing column, a households value that is not a whole number >= 0, a name shared
        by several estates, or two rows for the same estate; the message names row and column.
    """
    out = estates.copy()
    if "households" not in out.columns:
        out["households"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if "households_estimated" not in out.columns:
        out["households_estimated"] = False
    columns = ", ".join(str(c) for c in table.columns) or "none"
    hh_col = _find_column(table, households_field, HOUSEHOLD_COLUMNS, "households")
    if hh_col is None:
        raise InputError(f"households sheet has no households column (households or 户数); its "
                         f"columns are: {columns}")
    key_col = _find_column(table, key, ID_COLUMNS + NAME_COLUMNS, "key")
    if key_col is None:
        raise InputError("households sheet has no column to match estates by (estate_id, "
                         f"小区编号, id, name, 小区名称 or 名称); its columns are: {columns}")
    table = table.reset_index(drop=True)
    keys = as_text(table[key_col])
    key_name = str(key_col).strip().lower()
    if key_name in ID_COLUMNS:
        target = "estate_id"
    elif key_name in NAME_COLUMNS:
        target = "name"
    else:
        target = "estate_id" if keys.fillna("").str.startswith("osm:").any() else "name"
    if target not in out.columns:
        raise InputError(f"the estates have no {target!r} field to match the sheet's column "
                         f"{key_col!r} against")
    rows = np.arange(len(table)) + 2  # spreadsheet rows: the header is row 1
    text = as_text(table[hh_col])
    num = pd.to_numeric(text.where(text.notna(), np.nan), errors="coerce").astype(float)
    bad = text.notna() & ~(np.isfinite(num) & (num >= 0) & (num == np.round(num)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"households sheet row {rows[i]} ({key_col} {keys[i]!r}), column "
                         f"{hh_col!r}: {text[i]!r} is not a whole number of households (0 or "
                         "more)")
    est_keys = as_text(out[target]).reset_index(drop=True)
    lookup = pd.DataFrame({"key": est_keys, "pos": np.arange(len(out))}).dropna()
    per_key = lookup.groupby("key")["pos"].agg(["first", "size"])
    matched = keys.isin(per_key.index)
    has_value = text.notna()
    use = matched & has_value
    shared = use & (keys.map(per_key["size"]).fillna(0) > 1)
    if shared.any():
        i = int(np.flatnonzero(shared)[0])
        ids = lookup.loc[lookup["key"] == keys[i], "pos"]
        names = ", ".join(str(v) for v in (out["estate_id"].to_numpy()[ids] if "estate_id" in
                                           out.columns else ids))
        raise InputError(f"households sheet row {rows[i]}, column {key_col!r}: name "
                         f"{keys[i]!r} matches {len(ids)} estates ({names}); give their "
                         "estate_id instead")
    dup = keys.where(use).duplicated(keep=False) & use
    if dup.any():
        first = keys[dup].iloc[0]
        which = rows[((keys == first) & use).to_numpy(bool)]
        raise InputError(f"households sheet rows {' and '.join(str(r) for r in which)}, column "
                         f"{key_col!r}: both give households for estate {first!r}")
    target_pos = keys[use].map(per_key["first"]).to_numpy(dtype=np.int64)
    households = out["households"].astype("Int64").to_numpy(copy=True)
    households[target_pos] = num[use].to_numpy().astype(np.int64)
    out["households"] = pd.array(households, dtype="Int64")
    estimated = out["households_estimated"].fillna(False).to_numpy(dtype=bool, copy=True)
    estimated[target_pos] = False
    out["households_estimated"] = estimated
    notes = [f"households sheet: {int(use.sum())} of {len(table)} rows joined by {target} "
             f"(column {key_col!r}; households from column {hh_col!r}); their values replace "
             "any estimate"]
    unmatched = np.flatnonzero(~matched.to_numpy(bool))
    if len(unmatched):
        listed = ", ".join(f"row {rows[i]} ({keys[i]!r})" for i in unmatched[:10])
        more = f", ... ({len(unmatched) - 10} more)" if len(unmatched) > 10 else ""
        notes.append(f"households sheet: {len(unmatched)} rows match no estate by {target}: "
                     f"{listed}{more}")
    empty = np.flatnonzero((matched & ~has_value).to_numpy(bool))
    if len(empty):
        notes.append(f"households sheet: {len(empty)} matching rows have no households value: "
                     + ", ".join(f"row {rows[i]}" for i in empty[:10]))
    still = int(out["households"].isna().sum())
    if still:
        notes.append(f"estates: {still} of {len(out)} still have no households value")
    return out, notes

