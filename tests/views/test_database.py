"""Writing results into PostGIS (``--to-db``): the rows read back equal the findings; the same
run id replaces its rows, another run id adds; a write that fails midway leaves the previous
rows. Needs a PostGIS server (``pg_server``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geocheck
from geocheck.core.database import connect
from geocheck.core.errors import OutputError
from geocheck.views import database
from geocheck.views.database import default_run_id, write_database


def query(url: str, sql: str, args: tuple = ()) -> pd.DataFrame:
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(sql, args)
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def findings_back(url: str, schema: str, run_id: str) -> pd.DataFrame:
    back = query(url, f"SELECT * FROM {schema}.geocheck_findings WHERE run_id = %s",
                 (run_id,))
    return back.drop(columns="run_id")


def test_findings_estates_and_scorecard_round_trip(pg_schema: tuple[str, str],
                                                   sample: geocheck.Result) -> None:
    url, schema = pg_schema
    done = write_database(sample, f"{url}?schema={schema}", "r1")
    n = len(sample.findings)
    assert done.rows == {"geocheck_findings": n, "geocheck_estates": 12,
                         "geocheck_scorecard": len(sample.scorecard)}
    back = findings_back(url, schema, "r1")
    back = back.set_index(["estate_id", "rule_id"]).loc[
        list(zip(sample.findings["estate_id"], sample.findings["rule_id"], strict=True))]
    want = sample.findings.set_index(["estate_id", "rule_id"])
    assert list(back.columns) == list(want.columns)
    for col in want.columns:
        mine, theirs = want[col].to_numpy(dtype=object), back[col].to_numpy(dtype=object)
        if col in ("value", "walk_m"):
            got = np.array([np.nan if v is None else v for v in theirs], dtype=float)
            np.testing.assert_array_equal(got, mine.astype(float))  # NaN <-> NULL, exact
        else:
            assert [None if pd.isna(v) else v for v in mine] == \
                [None if pd.isna(v) else v for v in theirs], col
    est = query(url, f"SELECT estate_id, overall, n_pass, n_fail, n_not_applicable, "
                f"n_no_data, ST_SRID(geom) AS srid, ST_Area(geom) AS area FROM "
                f"{schema}.geocheck_estates WHERE run_id = 'r1' ORDER BY estate_id")
    overall = sample.overall()
    assert est["overall"].tolist() == [overall[e] for e in est["estate_id"]]
    assert (est[["n_pass", "n_fail", "n_not_applicable", "n_no_data"]].sum(axis=1)
            == len(sample.pack.rules)).all()
    assert set(est["srid"]) == {sample.site.crs.to_epsg()}
    areas = sample.site.estates.set_index("estate_id").geometry.area
    np.testing.assert_allclose(est["area"], areas[est["estate_id"]].to_numpy(), rtol=1e-12)
    fails = sample.findings[sample.findings["status"] == "fail"].groupby("estate_id").size()
    assert dict(zip(est["estate_id"], est["n_fail"], strict=True)) == \
        {e: int(fails.get(e, 0)) for e in est["estate_id"]}
    card = query(url, f"SELECT count(*) AS n FROM {schema}.geocheck_scorecard "
                 "WHERE run_id = 'r1'")
    assert card["n"].tolist() == [len(sample.scorecard)]


def test_text_with_tabs_newlines_and_backslashes_survives(pg_schema: tuple[str, str],
                                                          sample: geocheck.Result) -> None:
    url, schema = pg_schema
    odd = "a\tb\nc\\N d\\\r"
    findings = sample.findings.copy()
    findings.loc[0, "evidence"] = odd
    findings.loc[1, "evidence"] = ""
    findings.loc[2, "evidence"] = None
    altered = geocheck.Result(sample.site, sample.pack, findings, sample.evidence)
    write_database(altered, f"{url}?schema={schema}", "odd")
    back = findings_back(url, schema, "odd")
    first = back[(back["estate_id"] == findings.loc[0, "estate_id"])]
    got = dict(zip(first["rule_id"], first["evidence"], strict=True))
    assert got[findings.loc[0, "rule_id"]] == odd
    assert got[findings.loc[1, "rule_id"]] == ""
    assert pd.isna(got[findings.loc[2, "rule_id"]])


def test_the_same_run_id_replaces_and_another_adds(pg_schema: tuple[str, str],
                                                   sample: geocheck.Result) -> None:
    url, schema = pg_schema
    target = f"{url}?schema={schema}"
    n = len(sample.findings)
    write_database(sample, target, "r1")
    write_database(sample, target, "r1")
    counts = query(url, f"SELECT run_id, count(*) AS n, count(DISTINCT (estate_id, rule_id)) "
                   f"AS pairs FROM {schema}.geocheck_findings GROUP BY run_id")
    assert counts.values.tolist() == [["r1", n, n]]
    write_database(sample, target, "r2")
    counts = query(url, f"SELECT run_id, count(*) AS n FROM {schema}.geocheck_findings "
                   "GROUP BY run_id ORDER BY run_id")
    assert counts.values.tolist() == [["r1", n], ["r2", n]]
    est = query(url, f"SELECT run_id, count(*) AS n FROM {schema}.geocheck_estates "
                "GROUP BY run_id ORDER BY run_id")
    assert est.values.tolist() == [["r1", 12], ["r2", 12]]


def test_a_write_failing_midway_keeps_the_previous_rows(pg_schema: tuple[str, str],
                                                        sample: geocheck.Result,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The first write has the Guangxi findings; the second, with another pack's findings and
    three chunks of findings, fails on its second chunk: the Guangxi rows are all there,
    and nothing of the second."""
    url, schema = pg_schema
    target = f"{url}?schema={schema}"
    write_database(sample, target, "r1")
    before = findings_back(url, schema, "r1")
    other = geocheck.check(sample.site.source, pack="gb50180")
    monkeypatch.setattr(database, "CHUNK_ROWS", 20)
    calls = []
    real = database._copy_chunk

    def failing(cur: object, sql: str, data: bytes) -> None:
        calls.append(sql)
        if len(calls) == 2:
            raise OSError("connection lost")
        real(cur, sql, data)

    monkeypatch.setattr(database, "_copy_chunk", failing)
    with pytest.raises(OutputError, match=r"writing run 'r1' failed, the database keeps its "
                                          r"previous results \(connection lost\)"):
        write_database(other, target, "r1")
    assert len(calls) == 2 and len(other.findings) > 20
    after = findings_back(url, schema, "r1")
    pd.testing.assert_frame_equal(after, before)
    assert set(after["pack"]) == {"guangxi"}


def test_the_default_run_id_is_the_inputs_name_and_the_pack(sample: geocheck.Result) -> None:
    assert default_run_id(sample.site.source, "guangxi") == "nanning_sample.gpkg:guangxi"
