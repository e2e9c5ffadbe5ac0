"""Read an OpenStreetMap extract (.osm XML or .osm.pbf) into geocheck's role layers.

The file is read with pyogrio (GDAL's OSM driver) and the configuration shipped as
``geocheck/inputs/osm/data/osmconf.ini``, which turns the tags below into real columns. The result
is one GeoDataFrame per role, in EPSG:4326 (longitude/latitude degrees), ready to be written to a
GeoPackage for ``geocheck check``. Nothing here writes files.

Tag mapping
-----------
Tags are matched exactly (OSM values are lower case). A feature is in a role when any row of
the role matches; a list of values means any of them. Areas are closed ways and multipolygon
relations.

| role | OSM tags | elements | geometry |
|---|---|---|---|
| estates | `landuse=residential` | areas | polygon |
| buildings | `building=*` except `building=no` | areas | polygon |
| bus_stops | `highway=bus_stop` | all | point |
| bus_stops | `public_transport=platform` and `bus=yes` | all | point |
| rail_stations | `railway=` station, halt, subway_entrance, train_station_entrance | all | point |
| rail_stations | `public_transport=station` and `subway=yes` | all | point |
| rail_stations | `public_transport=station` and `train=yes` | all | point |
| rail_stations | `public_transport=station` and `light_rail=yes` | all | point |
| rail_stations | `public_transport=station` and `monorail=yes` | all | point |
| garbage_points | `amenity=` waste_disposal, recycling, waste_transfer_station | all | either |
| kindergartens | `amenity=kindergarten` | all | either |
| schools | `amenity=school` | all | either |
| green_space | `leisure=` park, garden | areas | polygon |
| green_space | `landuse=` grass, village_green, meadow, forest | areas | polygon |
| green_space | `landuse=` recreation_ground, flowerbed | areas | polygon |
| green_space | `natural=` wood, scrub, grassland, heath | areas | polygon |
| clinics | `amenity=` clinic, doctors, hospital | all | either |
| clinics | `healthcare=*` but pharmacy, dentist and the like (below) | all | either |
| paths | a walkable `highway=*` way (below) | ways, areas | line |
| entrances | not imported | | |

"point": ways and areas become their representative point; "either": areas stay polygons,
unclosed ways become points; "line": ways stay lines, areas (``area=yes``, e.g. a pedestrian
square) become their outline.

Walkable ways (the table ``WALKABLE_HIGHWAYS`` and its companions in
:mod:`geocheck.inputs.osm.tags`):

- always: ``highway=`` footway, path, pedestrian, steps, living_street, residential, service,
  unclassified, track, road, tertiary, secondary, primary and their ``_link`` roads;
- cycleway and bridleway only with ``foot=`` yes, designated or permissive;
- trunk and trunk_link only with a sidewalk (``sidewalk=`` both, left, right, yes, or
  ``sidewalk:both|left|right=yes``) or ``foot=`` yes or designated;
- never: motorway and motorway_link (even with ``foot=yes``), construction, proposed and every
  class not named above; never a way with ``foot=`` no or private; never one with ``access=``
  no or private unless ``foot=`` yes, designated or permissive.

clinics leave out ``healthcare=`` (or ``amenity=``) pharmacy, dentist, optometrist,
audiologist, blood_donation, laboratory and sample_collection.

Decisions
---------
- Ids: ``osm:node/ID``, ``osm:way/ID`` or ``osm:relation/ID`` in the role's id field
  (``estate_id``, ``building_id``, ``id``).
- ``name`` is the ``name:zh`` tag when present, else ``name``; both tags are kept as
  ``osm_name_zh`` and ``osm_name``. Every role keeps the tags it was selected by as ``osm_<tag>``
  columns (``:`` written ``_``, e.g. ``osm_building_levels``).
- Point roles: a way or area becomes its representative point (``shapely.point_on_surface``).
  garbage_points, kindergartens and schools keep areas as polygons; only unclosed ways become
  points. Polygon roles take no nodes: a node tagged ``landuse=residential``, ``building=*`` or
  a green-space tag is counted in the notes, not imported.
- No de-duplication: a bus stop mapped both as a ``highway=bus_stop`` node and as a separate
  platform way, or a school mapped both as a node and as an area, appears twice. Nearest-distance
  and inside-the-estate rules are not changed by such doubles; counts of features are.
- rail_stations (轨道交通站点) holds stations and their entrances; column ``kind`` says
  ``station`` or ``entrance``. An entrance is where a walk to the metro ends, so it is the right
  target for distance rules. ``railway=tram_stop`` is not a 轨道交通站点 here and is left out;
  so is ``railway=stop`` (the stop position on the track, a double of the station).
- garbage_points leaves out ``amenity=waste_basket`` (litter bins are not collection points).
  kindergartens leave out ``amenity=childcare``; schools leave out college and university.
- green_space is parks, gardens, grass and the like: vegetated open land. It leaves out
  ``leisure=playground|pitch`` (often paved), ``landuse=greenfield`` (land awaiting
  development), farmland and water.
- buildings: ``use`` is ``residential`` for ``building=apartments|residential|house|detached|
  dormitory|terrace|semidetached_house``, missing (unknown) for ``building=yes``, and the tag's
  value otherwise (``commercial``, ``school`` ...). ``levels`` is ``building:levels`` as a
  number of storeys (float); a value that is not one number >= 0 (``6;7``, ``6-7``, ``six``)
  counts as missing. ``estate_id`` is left missing: geocheck links buildings to estates by
  location.
- estates: ``built`` is missing (OSM does not say whether an estate is new). ``households`` is
  an estimate (nullable Int64), ``households_estimated`` says where, and ``res_buildings``,
  ``res_buildings_levels``, ``res_floor_area_m2`` show its basis; see :func:`read_osm`.
  :func:`join_households` replaces estimates with real counts from a sheet.
- paths: ``kind`` is the ``highway`` value; ``osm_foot``, ``osm_access``, ``osm_sidewalk``,
  ``osm_bridge``, ``osm_tunnel`` and ``osm_layer`` are kept. Ways are not split or joined here:
  the walking network joins lines where they share a vertex, so a bridge over a street (no
  shared node) does not connect to it. A pedestrian area is walked round its outline, not
  across: crossing it would need a visibility graph of the area. A sidewalk mapped as its own
  way (``footway=sidewalk``) is a footway like any other; its road is a path as well where its
  class allows.
- clinics are the places a 15-minute medical circle (诊疗服务圈) is measured to: clinics,
  doctors, hospitals and community health stations; a pharmacy or a dentist is not one.
- entrances are not imported: OSM rarely maps estate gates, and a partial layer would be worse
  than none; without an entrances layer geocheck measures from the estate boundary.
- A role with no feature in the extract is left out of :attr:`OsmImport.layers` (with a note),
  never returned empty: to geocheck an empty layer means "there are none", which would fail
  rules such as the garbage-point radius, while OSM simply may not map bins. An absent layer
  means "no data", and the rules say so.

Broken features
---------------
Every feature of a role is kept. One whose geometry cannot be built has geometry None and a
``source_problem`` text saying why; every other feature has ``source_problem`` missing. Two
sources of broken features are accounted for:

- GDAL returns the feature but its geometry is no polygon, e.g. a closed way with only one of
  its nodes in the extract, which GDAL makes a 2-point ring (GEOS: "Invalid number of points in
  LinearRing"; read naively, this loses the whole layer).
- GDAL skips the element: a way with fewer than 2 of its nodes in the extract, or a multipolygon
  relation with member ways missing (usual at the edge of a map export). GDAL says so only in
  debug messages, so geocheck reads the file once more in a child process with
  ``CPL_DEBUG=OSM`` (about a second) to learn their ids. For OSM XML it then reads their tags
  from the file and keeps those that match a role, with geometry None; a .osm.pbf cannot be read
  that way, so for it the skipped ids are only listed in the notes.

Polygons that GDAL builds but that are invalid (self-intersecting, collapsed to no area) are
kept as built and counted in the notes; ``geocheck check`` repairs them with make_valid or
rejects those with no area.
"""

from .gdal import CONFIG_FILE
from .reader import DEFAULT_FLOOR_AREA_PER_HOUSEHOLD, OsmImport, read_osm

__all__ = ["CONFIG_FILE", "DEFAULT_FLOOR_AREA_PER_HOUSEHOLD", "OsmImport", "read_osm"]
