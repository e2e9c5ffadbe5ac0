"""inputs: everything that turns a user's files into role layers, and those into a Site.

- reading: a GeoPackage of role layers (:mod:`.read`), a project file naming each role's own
  file (:mod:`.project`, :mod:`.sources`), the attributes sheet (:mod:`.attributes`; workbooks
  streamed cell by cell within limits by :mod:`.xlsx` and :mod:`.xlsx_parts`);
- importing into a GeoPackage (:mod:`.importers`): OpenStreetMap (:mod:`.osm`), CAD site plans
  (:mod:`.dxf`), households from a sheet (:mod:`.households`);
- what users' files get wrong: text encodings (:mod:`.encodings`), GCJ-02 / BD-09 points
  (:mod:`.coords`), coordinates that do not fit their CRS (:mod:`.coordfit`);
- normalising into one working CRS in metres (:mod:`.projection`, :mod:`.normalise`), with the
  ledger of every feature read or rejected.

inputs imports :mod:`geocheck.core` and nothing of rules or views.
"""
