"""``geocheck import osm`` writes ``paths`` (walkable ways) and ``clinics``.

On the Beijing extract the expected ways are found by reading the XML itself with
xml.etree and applying the walking filter as stated in the docs, written out here again; on a
tiny hand-made file every branch of the filter is tried.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
from helpers import OSM_DIR

from geocheck.inputs.osm import OsmImport, read_osm

BEIJING = OSM_DIR / "beijing_haidian_liudaokou_2026.osm"

# The filter as the docs state it, written out independently of geocheck's table.
_ALWAYS = {"footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
           "unclassified", "track", "road", "tertiary", "tertiary_link", "secondary",
           "secondary_link", "primary", "primary_link"}


def _walkable(tags: dict[str, str]) -> bool:
    highway, foot, access = tags.get("highway"), tags.get("foot"), tags.get("access")
    foot_ok = foot in ("yes", "designated", "permissive")
    if foot in ("no", "private") or (access in ("no", "private") and not foot_ok):
        return False
    if highway in _ALWAYS:
        return True
    if highway in ("cycleway", "bridleway"):
        return foot_ok
    if highway in ("trunk", "trunk_link"):
        sides = [tags.get(f"sidewalk:{s}") for s in ("both", "left", "right")]
        return (foot in ("yes", "designated") or "yes" in sides
                or tags.get("sidewalk") in ("both", "left", "right", "yes"))
    return False


def _medical(tags: dict[str, str]) -> bool:
    left_out = {"pharmacy", "dentist", "optometrist", "audiologist", "blood_donation",
                "laboratory", "sample_collection"}
    if tags.get("healthcare") in left_out or tags.get("amenity") in left_out:
        return False
    return tags.get("amenity") in ("clinic", "doctors", "hospital") or "healthcare" in tags


def _xml_ids(path: Path, wanted, elements=("way", "relation")) -> set[str]:
    root = ET.parse(path).getroot()
    return {f"osm:{e.tag}/{e.get('id')}" for e in root if e.tag in elements
            and wanted({t.get("k"): t.get("v") for t in e.findall("tag")})}


@pytest.fixture(scope="module")
def beijing() -> OsmImport:
    return read_osm(BEIJING)


def test_beijing_paths_are_the_walkable_ways_of_the_xml(beijing: OsmImport) -> None:
    paths = beijing.layers["paths"]
    expected = _xml_ids(BEIJING, _walkable)
    assert len(expected) == 286  # of the extract's 303 highway ways: not the 2 motorways,
    # 3 motorway links, 1 construction, nor 10 of its 11 cycleways (one is foot=designated)
    assert set(paths["id"]) == expected and paths["id"].is_unique
    assert paths.geometry.notna().all()
    assert set(shapely.get_type_id(paths.geometry.to_numpy())) == {1}  # LineStrings
    root = ET.parse(BEIJING).getroot()
    highway = {f"osm:way/{w.get('id')}": t.get("v") for w in root.iter("way")
               for t in w.findall("tag") if t.get("k") == "highway"}
    assert (paths["kind"] == paths["id"].map(highway)).all()
    assert paths.crs.to_epsg() == 4326
    assert beijing.counts["paths"] == 286


def test_beijing_clinics_are_the_medical_features_of_the_xml(beijing: OsmImport) -> None:
    clinics = beijing.layers["clinics"]
    expected = _xml_ids(BEIJING, _medical, ("node", "way", "relation"))
    assert set(clinics["id"]) == expected == {"osm:node/1734208818", "osm:way/167169164"}
    kinds = dict(zip(clinics["id"], shapely.get_type_id(clinics.geometry.to_numpy()),
                     strict=True))
    assert kinds == {"osm:node/1734208818": 0, "osm:way/167169164": 6}  # the area stays one


def _osm(ways: dict[int, tuple[list[int], dict[str, str]]]) -> str:
    """Nodes 1-5 on a 0.001-degree square near Beijing, and ``ways`` (id -> node refs, tags)."""
    coords = {1: (116.30, 39.98), 2: (116.301, 39.98), 3: (116.301, 39.981),
              4: (116.30, 39.981), 5: (116.3005, 39.9805)}
    nodes = "".join(f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>'
                    for i, (lon, lat) in coords.items())
    body = "".join(
        f'<way id="{wid}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs)
        + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>"
        for wid, (refs, tags) in ways.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">{nodes}{body}</osm>\n'


def test_every_branch_of_the_walking_filter(tmp_path: Path) -> None:
    line, ring = [1, 2], [1, 2, 3, 4, 1]
    ways = {
        101: (line, {"highway": "footway"}),
        102: (line, {"highway": "trunk"}),  # no sidewalk: out
        103: (line, {"highway": "trunk", "sidewalk": "both"}),
        104: (line, {"highway": "trunk_link", "sidewalk:left": "yes"}),
        105: (line, {"highway": "trunk", "foot": "yes"}),
        106: (line, {"highway": "trunk", "sidewalk": "separate"}),  # out: mapped on its own
        107: (line, {"highway": "motorway", "foot": "yes"}),  # out, always
        108: (line, {"highway": "footway", "foot": "no"}),  # out
        109: (line, {"highway": "residential", "access": "private"}),  # out
        110: (line, {"highway": "residential", "access": "private", "foot": "yes"}),
        111: (line, {"highway": "service", "access": "no", "foot": "permissive"}),
        112: (line, {"highway": "cycleway"}),  # out
        113: (line, {"highway": "cycleway", "foot": "designated"}),
        114: (ring, {"highway": "pedestrian", "area": "yes", "name": "广场"}),  # its outline
        115: (line, {"highway": "construction"}),  # out
        116: (line, {"highway": "primary", "access": "no", "foot": "no"}),  # out
        117: ([1, 98], {"highway": "steps"}),  # cut off at the edge: kept, no geometry
        118: (line, {"highway": "track"}),
        119: (ring, {"highway": "living_street"}),  # a closed street, not an area: a line
        120: (ring, {"amenity": "clinic", "name": "卫生服务站"}),
        121: (line, {"amenity": "pharmacy", "healthcare": "pharmacy"}),  # out
    }
    src = tmp_path / "walk.osm"
    src.write_text(_osm(ways), encoding="utf-8")
    result = read_osm(src)
    paths = result.layers["paths"].set_index("id")
    expected = {f"osm:way/{w}" for w in (101, 103, 104, 105, 110, 111, 113, 114, 117, 118, 119)}
    assert set(paths.index) == expected
    assert expected == _xml_ids(src, _walkable)  # the docs' filter agrees, branch by branch
    square = paths.loc["osm:way/114"]
    # GDAL makes the area a MultiPolygon: its outline is a MultiLineString of one closed ring
    assert square.geometry.geom_type == "MultiLineString" and len(square.geometry.geoms) == 1
    assert square.geometry.geoms[0].is_ring
    assert square["kind"] == "pedestrian" and square["name"] == "广场"
    corners = [(116.30, 39.98), (116.301, 39.98), (116.301, 39.981), (116.30, 39.981)]
    assert np.allclose(shapely.get_coordinates(square.geometry), [*corners, corners[0]])
    cut = paths.loc["osm:way/117"]
    assert cut.geometry is None and "only 1 of its nodes is in the extract" in cut[
        "source_problem"]
    assert paths.loc["osm:way/119"].geometry.geom_type == "LineString"
    assert list(result.layers["clinics"]["id"]) == ["osm:way/120"]
    assert result.layers["clinics"].geometry.iloc[0].geom_type == "MultiPolygon"
