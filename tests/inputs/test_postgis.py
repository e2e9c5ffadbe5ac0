"""Reading role layers from PostGIS: the same layers in a database and in a GeoPackage give
the same findings; SRIDs give the CRS; a schema without estates, a layer without SRID and a
table without geometry are refused by name. Needs a PostGIS server (``pg_server``)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from helpers import SAMPLE, SHEET, at, layer, rect
from pgserver import load_layers

import geocheck
from geocheck.core.database import connect
from geocheck.core.errors import CRSError, InputError
from geocheck.inputs.postgis import read_postgis, read_postgis_table


def sample_layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: pyogrio.read_dataframe(SAMPLE, layer=name)
            for name, _ in pyogrio.list_layers(SAMPLE)}


def test_the_sample_in_postgis_gives_the_geopackages_findings(pg_schema: tuple[str, str]
                                                              ) -> None:
    url, schema = pg_schema
    load_layers(url, schema, sample_layers())
    from_db = geocheck.check(f"{url}?schema={schema}", attributes=SHEET)
    from_file = geocheck.check(SAMPLE, attributes=SHEET)
    assert len(from_db.findings) == 12 * len(from_file.pack.rules)
    pd.testing.assert_frame_equal(from_db.findings, from_file.findings)
    pd.testing.assert_frame_equal(from_db.site.ledger.rejects_frame(),
                                  from_file.site.ledger.rejects_frame())
    assert from_db.site.crs.to_epsg() == 4545
    shown, host = str(from_db.site.source), url.split("@")[1]
    assert shown.endswith(f":***@{host}?schema={schema}")
    assert _password(url) not in shown
    assert from_db.site.source.name == f"{host.split('/')[-1]}.{schema}"


def _password(url: str) -> str:
    return url.split("://")[1].split("@")[0].split(":")[1]


def _site(stop_at_m: float) -> dict[str, gpd.GeoDataFrame]:
    """One 100 x 100 m estate with its entrance at (0, 0) and a bus stop ``stop_at_m`` east
    of it, and no rail station (an empty layer: GX-53, a bus stop within 500 m or a rail
    station within 800 m, then turns on the bus stop)."""
    return {"estates": layer([{"estate_id": "E1", "name": "一", "households": 800,
                               "geometry": rect(-100, 0, 0, 100)}]),
            "entrances": layer([{"entrance_id": "g1", "estate_id": "E1",
                                 "geometry": at(0, 0)}]),
            "bus_stops": layer([{"id": "b1", "name": "站", "geometry": at(stop_at_m, 0)}]),
            "rail_stations": layer([])}


@pytest.mark.parametrize(("metres", "status"), [(499.0, "pass"), (501.0, "fail")])
def test_a_layer_stored_in_lon_lat_is_measured_in_metres(pg_schema: tuple[str, str],
                                                          metres: float, status: str) -> None:
    """The bus stops are stored in EPSG:4326 (their SRID), the rest in EPSG:4545: the
    distance is still 499 m / 501 m from the entrance."""
    url, schema = pg_schema
    layers = _site(metres)
    layers["bus_stops"] = layers["bus_stops"].to_crs(4326)
    load_layers(url, schema, layers)
    raw = read_postgis(f"{url}?schema={schema}")
    assert raw.layers["bus_stops"].crs.to_epsg() == 4326
    result = geocheck.check(f"{url}?schema={schema}")
    row = result.findings.set_index("rule_id").loc["GX-53"]
    assert row["status"] == status
    assert row["value"] == pytest.approx(metres, abs=0.01)


def test_numeric_households_are_read_as_numbers(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    load_layers(url, schema, _site(100.0))
    with connect(url) as conn:
        conn.cursor().execute(f"ALTER TABLE {schema}.estates ALTER COLUMN households "
                              "TYPE numeric(10, 0)")
        conn.commit()
    raw = read_postgis(f"{url}?schema={schema}")
    assert raw.layers["estates"]["households"].tolist() == [800.0]
    assert raw.layers["estates"]["_fid"].tolist() == [1]
    site = geocheck.check(f"{url}?schema={schema}").site
    assert site.estates["households"].tolist() == [800]


def test_a_project_file_names_tables_per_role(pg_schema: tuple[str, str],
                                              tmp_path: Path) -> None:
    """Estates and buildings from tables named unlike their roles in another schema, the
    rest from the GeoPackage: the same findings as the GeoPackage alone."""
    url, schema = pg_schema
    layers = sample_layers()
    load_layers(url, schema, {"plots": layers["estates"], "blds": layers["buildings"]})
    roles = [r for r in layers if r not in ("estates", "buildings")]
    text = (f'attributes = "{SHEET}"\n'
            f'[layers.estates]\npath = "{url}"\ntable = "{schema}.plots"\n'
            f'[layers.buildings]\npath = "{url}?schema={schema}"\ntable = "blds"\n')
    text += "".join(f'[layers.{r}]\npath = "{SAMPLE}"\nlayer = "{r}"\n' for r in roles)
    project = tmp_path / "p.toml"
    project.write_text(text, encoding="utf-8")
    mixed = geocheck.check(project)
    pd.testing.assert_frame_equal(mixed.findings, geocheck.check(SAMPLE,
                                                                 attributes=SHEET).findings)


def test_a_schema_without_estates_is_refused(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    layers = _site(100.0)
    load_layers(url, schema, {"bus_stops": layers["bus_stops"]})
    with pytest.raises(InputError, match=r"schema 't_\w+' has no table named 'estates' "
                                         r"\(tables found: bus_stops\)") as caught:
        read_postgis(f"{url}?schema={schema}")
    assert ":***@" in str(caught.value)


def test_a_layer_without_srid_has_no_crs(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    layers = _site(100.0)
    layers["bus_stops"] = layers["bus_stops"].set_crs(None, allow_override=True)
    load_layers(url, schema, layers)
    assert read_postgis_table(url, f"{schema}.bus_stops")[0].crs is None
    with pytest.raises(CRSError, match=r"layer 'bus_stops' has no CRS"):
        geocheck.check(f"{url}?schema={schema}")


def test_a_table_without_geometry_and_a_missing_table_are_named(pg_schema: tuple[str, str]
                                                                ) -> None:
    url, schema = pg_schema
    load_layers(url, schema, _site(100.0))
    with connect(url) as conn:
        conn.cursor().execute(f"CREATE TABLE {schema}.plain (id integer)")
        conn.commit()
    with pytest.raises(InputError, match=rf"table {schema}\.plain: has no PostGIS geometry"):
        read_postgis_table(url, f"{schema}.plain")
    with pytest.raises(InputError, match=rf"table {schema}\.nothing: no such table"):
        read_postgis_table(url, f"{schema}.nothing")


def test_a_curved_estate_is_read_as_segments_one_degree_apart(pg_schema: tuple[str, str]
                                                              ) -> None:
    """A half disc of radius 50 m (an arc closed by its diameter) stored as a CURVEPOLYGON
    becomes 180 chords of 1 degree, 2 r sin(0.5 deg) = 0.8727 m each, and the diameter: area
    90 r^2 sin(1 deg) = 3926.79 m^2 (the half disc's is 3926.99); the ledger says so."""
    url, schema = pg_schema
    load_layers(url, schema, _site(100.0))
    (x0, y0), = rect(-150, 50, -150, 50).exterior.coords[:1]
    with connect(url) as conn:
        conn.cursor().execute(
            f"UPDATE {schema}.estates SET geom = ST_GeomFromText('CURVEPOLYGON(COMPOUNDCURVE("
            f"CIRCULARSTRING({x0} {y0}, {x0 + 50} {y0 + 50}, {x0 + 100} {y0}), "
            f"({x0 + 100} {y0}, {x0} {y0})))', 4545)")
        conn.commit()
    raw = read_postgis(f"{url}?schema={schema}")
    geom = raw.layers["estates"].geometry.iloc[0]
    chords = np.hypot(*np.diff(np.asarray(geom.exterior.coords), axis=0).T)
    assert geom.geom_type == "Polygon" and len(chords) == 181
    assert sorted(chords)[:180] == pytest.approx([100 * np.sin(np.radians(0.5))] * 180)
    assert chords.max() == pytest.approx(100)
    assert geom.area == pytest.approx(90 * 50**2 * np.sin(np.radians(1)), rel=1e-9)
    assert any("1 curved feature(s) linearised" in n for n in raw.notes)


def test_declared_srids_are_read_from_the_type_as_postgis_reads_them(
        pg_schema: tuple[str, str]) -> None:
    """The SRID geocheck decodes from a column's type modifier is PostGIS's own
    ``postgis_typmod_srid`` for every kind of declaration, and 0 where none is declared."""
    from geocheck.core.database import connect, relations, table_columns

    url, schema = pg_schema
    declared = {"a": "geometry(Point, 4490)", "b": "geometry(Polygon, 32650)",
                "c": "geometry(MultiPolygonZ, 4549)", "d": "geometry", "e": "geometry(Point)",
                "f": "geometry(Point, 999999)"}
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"CREATE SCHEMA {schema}")
        for table, kind in declared.items():
            cur.execute(f"CREATE TABLE {schema}.{table} (id integer, g {kind})")
        conn.commit()
        oids = relations(cur, schema)
        assert sorted(oids) == sorted(declared)
        srids = {table: {c.name: c for c in table_columns(cur, oid)}["g"].srid
                 for table, oid in oids.items()}
        assert srids == {"a": 4490, "b": 32650, "c": 4549, "d": 0, "e": 0, "f": 999999}
        for table, oid in oids.items():
            cur.execute("SELECT postgis_typmod_srid(atttypmod) FROM pg_attribute "
                        "WHERE attrelid = %s AND attname = 'g'", (oid,))
            expected = cur.fetchone()[0]
            got = {c.name: c for c in table_columns(cur, oid)}
            assert got["g"].type == "geometry" and got["id"].type == "integer"
            assert got["g"].srid == (expected or 0), table
