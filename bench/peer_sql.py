"""The SQL of the PostGIS peer: the five lean rules, judged as geocheck judges them.

The layers are loaded by ogr2ogr into one schema (see ``postgis_peer.py``), each table with
its GeoPackage fields and a ``geom`` column in the file's CRS (metres), so distances and areas
are planar metres, as geocheck's. :data:`INDEXES` builds the spatial (GiST) and key (b-tree)
indexes and gathers statistics; :data:`RULES` answers one row per estate x rule:
``estate_id, rule_id, status, value``.

How each rule is read (geocheck's checks in ``geocheck/rules/spatial.py``, pack ``guangxi``):

- **GX-53** (``nearest_within``): the nearest bus stop and rail station from the estate's
  entrances (the least over them) when it has any, else from its polygon; a stop or station
  intersecting the polygon is at 0 m. Pass when the bus stop is within 500 m or the rail
  station within 800 m; a layer with no feature at all counts as beyond. Value: the distance of
  the layer that passes (bus first), else the bus stop's.
- **GX-06-garbage-radius** (``buildings_within``): every residential building of the estate
  (``use`` empty, ``residential``, ``住宅`` or ``居住``; by ``estate_id``) within 70 m of its
  nearest garbage point (any, inside the estate or not), measured to the footprint. No
  residential building: no data. Value: the largest distance.
- **GX-06-garbage-setback** (``setback_from_buildings``): every garbage point intersecting the
  estate at least 5 m from the nearest building (any building). None inside: not applicable.
  Value: the least distance.
- **GX-06-kindergarten** (``facility_inside_by_households``): households NULL: no data;
  below 1500: not applicable; else pass when a kindergarten intersects the estate. Value: how
  many do (NULL when not judged on them).
- **GX-10-greening** (``green_ratio``): the union of the green polygons intersecting the
  estate, each clipped to it, over the estate's area, at least 0.35. Value: the ratio.

**Judged to the millimetre as geocheck does** (``geocheck/core/units.py``): a distance is
rounded to 3 decimals before it is compared with its limit, a ratio to 6, with numpy's
``np.round`` (multiply, round half to even, divide). ``round(double precision)`` in PostgreSQL
rounds half to even too (``rint``), so ``round(d * 1000) / 1000`` is the same number as
``np.round(d, 3)``; ``round(numeric, 3)`` would round half away from zero. Values are written
rounded the same way, as geocheck's findings.csv has them.

Nearest features are found with the index's k-nearest-neighbour search (``ORDER BY a <-> b
LIMIT 1``, exact distances for geometry since PostGIS 2.2), one lateral probe per building,
entrance or garbage point, with no loop outside the database.
"""

from __future__ import annotations

TABLES = ("estates", "buildings", "entrances", "bus_stops", "rail_stations", "garbage_points",
          "kindergartens", "green_space")
"""The layers the five rules read (loaded by ogr2ogr under these names)."""

INDEXES = """
CREATE INDEX ON estates USING gist (geom);
CREATE INDEX ON buildings USING gist (geom);
CREATE INDEX ON entrances USING gist (geom);
CREATE INDEX ON bus_stops USING gist (geom);
CREATE INDEX ON rail_stations USING gist (geom);
CREATE INDEX ON garbage_points USING gist (geom);
CREATE INDEX ON kindergartens USING gist (geom);
CREATE INDEX ON green_space USING gist (geom);
CREATE UNIQUE INDEX ON estates (estate_id);
CREATE INDEX ON buildings (estate_id);
CREATE INDEX ON entrances (estate_id);
ANALYZE;
"""
"""Spatial and key indexes, then statistics for the planner (counted in the load time)."""

RESIDENTIAL = "coalesce(lower(btrim(b.use)), '') IN ('', 'residential', '住宅', '居住')"
"""geocheck's residential buildings: ``use`` missing or one of its residential values."""

MM = "round({} * 1000.0) / 1000.0"
"""A distance in metres rounded to the millimetre as geocheck judges it (half to even)."""


def mm(expr: str) -> str:
    """SQL for ``expr`` (metres, double precision) rounded to the millimetre, half to even."""
    return MM.format(f"({expr})")



def nearest(origin: str, table: str, within: float | None, *, fallback: bool) -> str:
    """SQL for the distance from ``origin`` to its nearest feature of ``table``.

    With ``within`` (metres), the search is first bounded to that distance plus a millimetre
    (an index range scan, much faster than an open k-nearest search in PostGIS), which gives
    the exact nearest distance whenever it is that close: all a verdict needs. With
    ``fallback`` an open k-nearest search follows where the bounded one found nothing, so the
    distance is exact everywhere (the value geocheck reports); without it, NULL there.
    """
    knn = (f"(SELECT ST_Distance({origin}, t.geom) FROM {table} t "
           f"{{where}}ORDER BY {origin} <-> t.geom LIMIT 1)")
    if within is None:
        return knn.format(where="")
    bounded = knn.format(where=f"WHERE ST_DWithin({origin}, t.geom, {within + 0.001!r}) ")
    return f"coalesce({bounded}, {knn.format(where='')})" if fallback else bounded


def rules_sql(values: bool = True) -> str:
    """The query answering one row per estate x rule: ``estate_id, rule_id, status, value``.

    ``values`` True: every value exact, as geocheck reports it (like for like). False: the
    verdicts only, each searched no farther than its threshold; a value is then given only
    where that search found it (NULL for an estate beyond 500 m / 800 m of a stop, for a
    garbage-radius fail and for a setback pass). The verdicts are the same either way.
    """
    bus = nearest("n.geom", "bus_stops", 500, fallback=values)
    rail = nearest("n.geom", "rail_stations", 800, fallback=values)
    bus_e = nearest("e.geom", "bus_stops", 500, fallback=values)
    rail_e = nearest("e.geom", "rail_stations", 800, fallback=values)
    setback = nearest("g.geom", "buildings", 5, fallback=False)
    if values:  # a second, wider ring before the open search: most points are within 30 m
        setback = (f"coalesce({setback}, "
                   f"{nearest('g.geom', 'buildings', 30, fallback=True)})")
    far = nearest("b.geom", "garbage_points", None, fallback=True) if values else "NULL"
    return f"""
WITH
ent AS MATERIALIZED (
  SELECT n.estate_id, min({bus}) AS d_bus, min({rail}) AS d_rail
  FROM entrances n GROUP BY n.estate_id),
access AS MATERIALIZED (
  SELECT e.estate_id,
    CASE WHEN EXISTS (SELECT 1 FROM bus_stops t WHERE ST_Intersects(e.geom, t.geom)) THEN 0.0
         WHEN n.estate_id IS NOT NULL THEN n.d_bus ELSE {bus_e} END AS d_bus,
    CASE WHEN EXISTS (SELECT 1 FROM rail_stations t WHERE ST_Intersects(e.geom, t.geom))
         THEN 0.0 WHEN n.estate_id IS NOT NULL THEN n.d_rail ELSE {rail_e} END AS d_rail
  FROM estates e LEFT JOIN ent n ON n.estate_id = e.estate_id),
gx53 AS (
  SELECT estate_id, 'GX-53' AS rule_id,
    CASE WHEN bus_ok OR rail_ok THEN 'pass' ELSE 'fail' END AS status,
    CASE WHEN bus_ok THEN d_bus WHEN rail_ok THEN d_rail
         ELSE coalesce(d_bus, d_rail) END AS value
  FROM (SELECT estate_id, d_bus, d_rail,
               coalesce({mm("d_bus")} <= 500, false) AS bus_ok,
               coalesce({mm("d_rail")} <= 800, false) AS rail_ok FROM access) a),
covered AS MATERIALIZED (
  SELECT x.fid, min(x.d) AS d
  FROM garbage_points g
  CROSS JOIN LATERAL (SELECT b.fid, ST_Distance(g.geom, b.geom) AS d FROM buildings b
                      WHERE b.geom && ST_Expand(g.geom, 70.001) OFFSET 0) x
  WHERE x.d <= 70.001
  GROUP BY x.fid),
radius AS (
  SELECT b.estate_id, count(*) AS n, bool_or(c.d IS NULL OR {mm("c.d")} > 70) AS beyond,
         max(coalesce(c.d, {far})) AS worst
  FROM buildings b
  JOIN estates e ON e.estate_id = b.estate_id
  LEFT JOIN covered c ON c.fid = b.fid
  WHERE {RESIDENTIAL}
  GROUP BY b.estate_id),
gx06r AS (
  SELECT e.estate_id, 'GX-06-garbage-radius' AS rule_id,
    CASE WHEN r.n IS NULL THEN 'no_data' WHEN r.beyond THEN 'fail' ELSE 'pass' END AS status,
    CASE WHEN r.beyond THEN {"r.worst" if values else "NULL"} ELSE r.worst END AS value
  FROM estates e LEFT JOIN radius r ON r.estate_id = e.estate_id),
setback AS (
  SELECT estate_id, min(d) AS least, bool_or({mm("d")} < 5) AS close
  FROM (SELECT e.estate_id, {setback} AS d
        FROM estates e JOIN garbage_points g ON ST_Intersects(e.geom, g.geom)) p
  GROUP BY estate_id),
gx06s AS (
  SELECT e.estate_id, 'GX-06-garbage-setback' AS rule_id,
    CASE WHEN NOT EXISTS (SELECT 1 FROM buildings) THEN 'no_data'
         WHEN s.estate_id IS NULL THEN 'not_applicable'
         WHEN s.close THEN 'fail' ELSE 'pass' END AS status,
    s.least AS value
  FROM estates e LEFT JOIN setback s ON s.estate_id = e.estate_id),
gx06k AS (
  SELECT estate_id, 'GX-06-kindergarten' AS rule_id,
    CASE WHEN households IS NULL THEN 'no_data'
         WHEN households < 1500 THEN 'not_applicable'
         WHEN inside > 0 THEN 'pass' ELSE 'fail' END AS status,
    CASE WHEN households >= 1500 THEN inside END AS value
  FROM (SELECT e.estate_id, e.households,
               (SELECT count(*) FROM kindergartens t WHERE ST_Intersects(e.geom, t.geom))
                 AS inside
        FROM estates e) x),
gx10 AS (
  SELECT estate_id, 'GX-10-greening' AS rule_id,
    CASE WHEN round(ratio * 1e6) / 1e6 >= 0.35 THEN 'pass' ELSE 'fail' END AS status,
    ratio AS value
  FROM (SELECT e.estate_id,
               coalesce((SELECT ST_Area(ST_Union(ST_Intersection(e.geom, t.geom)))
                         FROM green_space t WHERE ST_Intersects(e.geom, t.geom)), 0.0)
                 / ST_Area(e.geom) AS ratio
        FROM estates e) x)
SELECT estate_id, rule_id, status, round(value * 1000.0) / 1000.0 AS value
FROM (SELECT * FROM gx53 UNION ALL SELECT * FROM gx06r UNION ALL SELECT * FROM gx06s
      UNION ALL SELECT * FROM gx06k) d
UNION ALL
SELECT estate_id, rule_id, status, round(value * 1e6) / 1e6 FROM gx10
"""
