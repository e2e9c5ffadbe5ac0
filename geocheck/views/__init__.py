"""views: one module per output people read, each a view of a Result.

- tables: CSV and results.gpkg (:mod:`.tables`) with its QGIS styles (:mod:`.qgis_styles`),
  findings.xlsx (:mod:`.excel`), the attributes sheet to fill in (:mod:`.template`);
- maps and pictures: map.html (:mod:`.webmap`), map.png and the report's estate maps
  (:mod:`.static_map`), the campaign chart (:mod:`.charts`);
- words: report.html and its PDF (:mod:`.report`), the terminal summary (:mod:`.summary`).

Views share only :mod:`.style` (palette, CJK font, PNG encoding) and :mod:`.text` (verdict
names, formula-safe cells); no view imports another. Views import :mod:`geocheck.core` and
:mod:`geocheck.rules`, never :mod:`geocheck.inputs`. matplotlib and WeasyPrint are imported
only where something is drawn or printed.
"""
