"""Build ``nanning_sample.gpkg``, the bundled sample district of Nanning, Guangxi.

The district is synthetic: every estate, building, stop and green area below was drawn by this
project to exercise the geocheck rules; none of it comes from a survey or a third-party map.
It sits in Qingxiu district, around 108.38 E 22.81 N, in EPSG:4545 (CGCS2000 / 3-degree
Gauss-Kruger CM 108E, metres).

Everything is laid out in a local frame: ``x`` metres east and ``y`` metres north of the
EPSG:4545 position of ``ORIGIN_LONLAT`` rounded to 100 m. All footprints are axis-aligned
rectangles given as ``(xmin, ymin, xmax, ymax)``, so every distance and area in
``expected.csv`` can be checked on paper. The east-west avenue (民族大道) runs along ``y = 0``
(carriageway from -30 to 30); the other roads are the 40 m gaps between blocks.

Run it from anywhere; it rewrites the GeoPackage next to this file unless told otherwise::

    python layers/make_sample.py [-o OUTPUT.gpkg]

The output is deterministic: the same script gives the same features, and the GeoPackage
timestamps are pinned so the file is byte-identical from run to run.
"""

from __future__ import annotations

import argparse
from itertools import product
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely import Point, Polygon

CRS = "EPSG:4545"
ORIGIN_LONLAT = (108.38, 22.81)
DEFAULT_OUTPUT = Path(__file__).with_name("nanning_sample.gpkg")
# Pinned "last change" timestamp so repeated runs write identical files.
GPKG_TIMESTAMP = "2024-01-01T00:00:00.000Z"

Rect = tuple[float, float, float, float]  # local (xmin, ymin, xmax, ymax), metres
XY = tuple[float, float]  # local (x, y), metres

# Residential slab blocks: 60 m east-west by 12 m north-south, facing south.
SLAB_LENGTH = 60.0
SLAB_DEPTH = 12.0

# --- Estates ---------------------------------------------------------------------------------
# (estate_id, name, households or None, built or None, outline)
ESTATES: list[tuple[str, str, int | None, str | None, Rect]] = [
    ("NN-001", "凤岭北保障房小区", 1800, "new", (-150, 60, 150, 420)),
    ("NN-002", "埌东公租房小区", 1200, "new", (-150, 460, 150, 760)),
    ("NN-003", "青山岭安置小区", 600, "existing", (1200, 1500, 1450, 1700)),
    ("NN-004", "金湖北保障房小区", 1600, "new", (-490, 60, -190, 420)),
    ("NN-005", "东盟商务区廉租房小区", 1400, "new", (190, 60, 490, 420)),
    ("NN-006", "埌东南苑小区", 900, "existing", (-490, -400, -190, -60)),
    ("NN-007", "凤岭南保障房小区", 2000, "new", (-150, -400, 150, -60)),
    ("NN-008", "凤岭东安居小区(在建)", None, "new", (530, 60, 780, 300)),
    ("NN-009", "桂花园经济适用房小区", 1100, None, (-830, 60, -530, 420)),
    ("NN-010", "桃源路职工宿舍小区", 700, "existing", (-830, -400, -530, -60)),
    ("NN-011", "凤岭南公租房二期", 1300, "new", (530, -400, 830, -60)),
    ("NN-012", "青秀山北苑", 1450, "existing", (-360, -760, 40, -440)),
]

# --- Buildings -------------------------------------------------------------------------------
# Residential slabs per estate: (west edges of the slab columns, south edges of the slab rows).
NORTH_ROWS = (100, 160, 220, 280, 340)  # estates north of the avenue
SOUTH_ROWS = (-370, -310, -250, -190, -130)  # estates south of the avenue
SLAB_GRIDS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "NN-001": ((-120, 60), NORTH_ROWS),
    "NN-002": ((-120, 60), (500, 560, 620, 680)),
    "NN-003": ((1230, 1350), (1530, 1590, 1650)),
    "NN-004": ((-460, -280), NORTH_ROWS),
    "NN-005": ((220, 400), NORTH_ROWS),
    "NN-006": ((-460, -280), SOUTH_ROWS),
    "NN-007": ((-130, -30, 70), SOUTH_ROWS),
    "NN-009": ((-800, -620), NORTH_ROWS),
    "NN-010": ((-800, -620), SOUTH_ROWS),
    "NN-011": ((560, 740), SOUTH_ROWS),
    "NN-012": ((-300, -210, -120, -30), (-720, -660, -600, -540, -480)),
}
# Slab columns that came from a survey without estate codes: estate_id and use are NULL
# (NULL use means residential; the estate is found from the footprint's position).
UNTAGGED_COLUMNS: dict[str, int] = {"NN-009": 1}

# Everything that is not a residential slab: (building_id, use, estate_id or None, footprint).
OTHER_BUILDINGS: list[tuple[str, str, str | None, Rect]] = [
    ("NN-001-C01", "commercial", "NN-001", (40, 66, 120, 86)),
    ("NN-001-K01", "kindergarten", "NN-001", (-30, 360, 30, 400)),
    ("NN-004-K01", "kindergarten", "NN-004", (-370, 360, -310, 400)),
    ("NN-005-C01", "commercial", "NN-005", (300, 66, 380, 86)),
    ("NN-007-C01", "commercial", "NN-007", (-100, -90, 100, -70)),
    # NN-008 is under construction: only the shops, clubhouse and sales office stand.
    ("NN-008-C01", "commercial", "NN-008", (550, 80, 590, 100)),
    ("NN-008-C02", "commercial", "NN-008", (610, 80, 650, 100)),
    ("NN-008-C03", "commercial", "NN-008", (670, 80, 710, 100)),
    ("NN-008-C04", "commercial", "NN-008", (730, 80, 770, 100)),
    ("NN-008-C05", "commercial", "NN-008", (560, 200, 620, 230)),
    ("NN-008-C06", "commercial", "NN-008", (680, 200, 740, 230)),
    ("NN-012-C01", "commercial", "NN-012", (-350, -520, -310, -460)),
    ("NN-012-C02", "commercial", "NN-012", (-350, -620, -310, -560)),
    # Outside every estate.
    ("EDU-001", "kindergarten", None, (220, -250, 260, -210)),
    ("EDU-002", "school", None, (300, -320, 420, -280)),
    ("EDU-003", "school", None, (-400, 590, -280, 630)),
]

# --- Entrances (estate gates) ----------------------------------------------------------------
# NN-003 has one gate; NN-008 and NN-010 have none mapped (distances from their boundary).
ENTRANCES: list[tuple[str, XY]] = [
    ("NN-001", (0, 60)),
    ("NN-001", (150, 240)),
    ("NN-002", (0, 760)),  # the only gate opens north, away from the avenue
    ("NN-003", (1200, 1600)),
    ("NN-004", (-440, 60)),
    ("NN-005", (340, 60)),
    ("NN-006", (-400, -60)),
    ("NN-007", (150, -230)),
    ("NN-009", (-830, 240)),
    ("NN-011", (680, -60)),
    ("NN-012", (-150, -440)),
    ("NN-012", (40, -600)),
]

# --- Transport, schools ----------------------------------------------------------------------
BUS_STOPS: list[tuple[str, str, XY]] = [
    ("BS-01", "民族大道凤岭站(北侧)", (0, 40)),
    ("BS-02", "民族大道凤岭站(南侧)", (0, -40)),
    ("BS-03", "民族大道桂花路口(北侧)", (-680, 40)),
    ("BS-04", "民族大道桂花路口(南侧)", (-680, -40)),
    ("BS-05", "民族大道凤岭东路口(北侧)", (680, 40)),
    ("BS-06", "民族大道凤岭东路口(南侧)", (680, -40)),
    ("BS-07", "青山岭路口", (1200, 980)),
    ("BS-08", "青秀山北苑公交首末站", (-330, -730)),  # a bus terminus inside NN-012
]
RAIL_STATIONS: list[tuple[str, str, XY]] = [
    ("RS-01", "凤岭站(南宁地铁1号线)", (0, 0)),
]
KINDERGARTENS: list[tuple[str, str, XY]] = [
    ("KG-01", "凤岭北保障房小区幼儿园", (0, 380)),
    ("KG-02", "金湖北保障房小区幼儿园", (-340, 380)),
    ("KG-03", "凤岭幼儿园", (240, -230)),  # outside NN-007, across the road
]
SCHOOLS: list[tuple[str, str, XY]] = [
    ("SC-01", "凤岭小学", (360, -300)),
    ("SC-02", "凤岭北中学", (-340, 610)),
]


def grid(xs: tuple[float, ...], ys: tuple[float, ...]) -> list[XY]:
    """Return every ``(x, y)`` combination of ``xs`` and ``ys``, row by row from the south."""
    return [(x, y) for y, x in product(ys, xs)]


# --- Garbage collection points ---------------------------------------------------------------
# Grouped by the estate they serve; NN-006's stand on the roads outside it.
GARBAGE_POINTS: dict[str, list[XY]] = {
    "NN-001": grid((-90, 90), (130, 250, 370)),
    "NN-002": grid((-90, 90), (525, 645)),
    "NN-003": grid((1320,), (1566, 1626)),
    # No point north of the 250 m line: the top row of slabs is 90 m from the nearest one.
    "NN-004": grid((-430, -250), (130, 250)),
    # (430, 157) stands 3 m south of a slab wall.
    "NN-005": [(250, 130), (430, 157), (250, 250), (430, 250), (250, 370), (430, 370)],
    "NN-006": grid((-500, -180), (-334, -214, -94)),
    "NN-007": grid((-50, 50), (-334, -214, -124)),
    "NN-008": [(650, 150)],
    # The top point of the untagged (survey) column stands 40 m from its slab, farther than
    # any tagged slab is from its point: the largest distance comes from an untagged building.
    "NN-009": [*grid((-770, -590), (130, 250)), (-770, 370), (-590, 392)],
    "NN-010": grid((-770, -590), (-340, -220, -100)),
    "NN-011": grid((590, 770), (-340, -220, -100)),
    "NN-012": grid((-225, -45), (-684, -564, -454)),
}

# --- Green space -----------------------------------------------------------------------------
# (id, name, outline, holes)
NN007_LAWNS = [(-130, y0, 130, y0 + 30) for y0 in (-349, -289, -229, -169)]
NN012_LAWNS = [(-300, y0, 30, y0 + 30) for y0 in (-699, -639, -579, -519)]
GREEN_SPACE: list[tuple[str, str, Rect, list[Rect]]] = [
    ("GS-001", "凤岭北保障房小区中心绿地", (-50, 95, 50, 355), []),
    ("GS-002", "凤岭北保障房小区西侧绿带", (-150, 60, -125, 420), []),
    ("GS-003", "凤岭北保障房小区东侧绿带", (125, 60, 150, 420), []),
    ("GS-004", "埌东公租房小区中心绿地", (-50, 480, 50, 740), []),
    ("GS-005", "埌东公租房小区西侧绿带", (-150, 460, -125, 760), []),
    # Street-front belt drawn 20 m beyond the estate's south edge, over the pavement.
    ("GS-006", "金湖北保障房小区沿街绿带", (-490, 40, -190, 90), []),
    ("GS-007", "金湖北保障房小区中心绿地", (-390, 95, -290, 355), []),
    ("GS-008", "东盟商务区廉租房小区中心绿地", (285, 95, 395, 355), []),
    ("GS-009", "东盟商务区廉租房小区西侧绿带", (190, 60, 210, 420), []),
    # A garden with a 60 m x 60 m paved square in its middle.
    ("GS-010", "埌东南苑中心花园", (-390, -350, -290, -110), [(-370, -260, -310, -200)]),
    ("GS-011", "埌东南苑西侧绿带", (-490, -400, -465, -60), []),
    ("GS-012", "埌东南苑南侧绿带", (-465, -400, -190, -380), []),
    *[
        (f"GS-{13 + i:03d}", f"凤岭南保障房小区宅间绿地{i + 1}", rect, [])
        for i, rect in enumerate(NN007_LAWNS)
    ],
    ("GS-017", "凤岭南保障房小区西侧绿带", (-150, -400, -135, -60), []),
    ("GS-018", "凤岭南保障房小区东侧绿带", (135, -400, 150, -60), []),
    ("GS-019", "桂花园中心绿地", (-730, 95, -630, 355), []),
    ("GS-020", "桂花园西侧绿带", (-830, 60, -805, 420), []),
    ("GS-021", "桂花园东侧绿带", (-545, 60, -530, 420), []),
    ("GS-022", "桃源路宿舍中心绿地", (-730, -350, -630, -110), []),
    ("GS-023", "桃源路宿舍西侧绿带", (-830, -400, -820, -60), []),
    # Two overlapping polygons (60 m x 100 m shared): the overlap counts once.
    ("GS-024", "凤岭南公租房二期南园", (630, -350, 730, -190), []),
    ("GS-025", "凤岭南公租房二期北园", (630, -250, 730, -130), []),
    ("GS-026", "凤岭南公租房二期南侧绿带", (530, -400, 830, -380), []),
    *[
        (f"GS-{27 + i:03d}", f"青秀山北苑宅间绿地{i + 1}", rect, [])
        for i, rect in enumerate(NN012_LAWNS)
    ],
    ("GS-031", "青秀山北苑南侧绿带", (-300, -760, 40, -730), []),
    # Public parks outside the estates.
    ("GS-032", "凤岭儿童公园", (530, 340, 830, 700), []),
    ("GS-033", "长塘社区公园", (450, 1500, 600, 1700), []),
]


def local_origin() -> XY:
    """Return the EPSG:4545 easting and northing of ``ORIGIN_LONLAT``, rounded to 100 m."""
    to_gk = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    easting, northing = to_gk.transform(*ORIGIN_LONLAT)
    return round(easting, -2), round(northing, -2)


def rect_polygon(rect: Rect, holes: list[Rect] | None = None) -> Polygon:
    """Return the local rectangle ``rect`` (with rectangular ``holes``) as a polygon."""
    shell = shapely.box(*rect).exterior.coords
    interiors = [shapely.box(*hole).exterior.coords[::-1] for hole in holes or []]
    return Polygon(shell, interiors)


def frame(records: list[dict], origin: XY) -> gpd.GeoDataFrame:
    """Turn records with a local ``geometry`` into a GeoDataFrame in EPSG:4545 metres."""
    df = pd.DataFrame.from_records(records)
    geometry = shapely.transform(df.pop("geometry").to_numpy(), lambda xy: xy + origin)
    return gpd.GeoDataFrame(df, geometry=geometry, crs=CRS)


def estates_layer(origin: XY) -> gpd.GeoDataFrame:
    """Return the ``estates`` layer; ``households`` is a nullable integer."""
    records = [
        {
            "estate_id": estate_id,
            "name": name,
            "households": households,
            "built": built,
            "geometry": rect_polygon(outline),
        }
        for estate_id, name, households, built, outline in ESTATES
    ]
    layer = frame(records, origin)
    layer["households"] = layer["households"].astype("Int64")
    return layer


def buildings_layer(origin: XY) -> gpd.GeoDataFrame:
    """Return the ``buildings`` layer: the slab grids, then ``OTHER_BUILDINGS``."""
    records = []
    survey_number = 0
    for estate_id, (columns, rows) in SLAB_GRIDS.items():
        untagged = UNTAGGED_COLUMNS.get(estate_id)
        for number, (y0, (column, x0)) in enumerate(product(rows, enumerate(columns)), 1):
            footprint = rect_polygon((x0, y0, x0 + SLAB_LENGTH, y0 + SLAB_DEPTH))
            if column == untagged:
                survey_number += 1
                building_id, use, owner = f"SV-{survey_number:03d}", None, None
            else:
                building_id, use, owner = f"{estate_id}-R{number:02d}", "residential", estate_id
            records.append(
                {"building_id": building_id, "use": use, "estate_id": owner, "geometry": footprint}
            )
    records += [
        {"building_id": building_id, "use": use, "estate_id": owner, "geometry": rect_polygon(r)}
        for building_id, use, owner, r in OTHER_BUILDINGS
    ]
    return frame(records, origin)


def entrances_layer(origin: XY) -> gpd.GeoDataFrame:
    """Return the ``entrances`` layer: one point per estate gate."""
    records = [{"estate_id": estate_id, "geometry": Point(xy)} for estate_id, xy in ENTRANCES]
    return frame(records, origin)


def facility_layer(points: list[tuple[str, str, XY]], origin: XY) -> gpd.GeoDataFrame:
    """Return a point layer with ``id`` and ``name`` from ``(id, name, (x, y))`` rows."""
    records = [{"id": fid, "name": name, "geometry": Point(xy)} for fid, name, xy in points]
    return frame(records, origin)


def garbage_points(estates: gpd.GeoDataFrame) -> list[tuple[str, str, XY]]:
    """Number ``GARBAGE_POINTS`` as GP-001... and name each after the estate it serves."""
    names = dict(zip(estates["estate_id"], estates["name"], strict=True))
    rows = []
    for estate_id, points in GARBAGE_POINTS.items():
        for number, xy in enumerate(points, 1):
            rows.append((f"GP-{len(rows) + 1:03d}", f"{names[estate_id]}垃圾收集点{number}", xy))
    return rows


def green_space_layer(origin: XY) -> gpd.GeoDataFrame:
    """Return the ``green_space`` layer (polygons may overlap and may have holes)."""
    records = [
        {"id": gid, "name": name, "geometry": rect_polygon(outline, holes)}
        for gid, name, outline, holes in GREEN_SPACE
    ]
    return frame(records, origin)


def build_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return every layer of the sample, keyed by the layer name geocheck reads."""
    origin = local_origin()
    estates = estates_layer(origin)
    return {
        "estates": estates,
        "buildings": buildings_layer(origin),
        "entrances": entrances_layer(origin),
        "bus_stops": facility_layer(BUS_STOPS, origin),
        "rail_stations": facility_layer(RAIL_STATIONS, origin),
        "garbage_points": facility_layer(garbage_points(estates), origin),
        "kindergartens": facility_layer(KINDERGARTENS, origin),
        "schools": facility_layer(SCHOOLS, origin),
        "green_space": green_space_layer(origin),
    }


def write_sample(path: Path) -> None:
    """Write every layer of the sample to the GeoPackage ``path``, replacing it."""
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, layer in build_layers().items():
            layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def main() -> None:
    """Parse the command line and write the sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    write_sample(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
