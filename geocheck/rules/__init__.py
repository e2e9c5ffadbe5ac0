"""rules: what a standard requires, how it is measured and judged, and the findings.

- rule packs (:mod:`.packs`: model, parse, merge, load; the shipped TOML files beside them);
- the checks: what they work with (:mod:`.context`), the measures (:mod:`.measure`, pure and
  vectorised), the checks measured on the map (:mod:`.spatial`) and read from the attributes
  sheet (:mod:`.records`), life circles measured on foot when the layers exist, else read from
  the sheet (:mod:`.circles`), all listed in one registry (:mod:`.registry`);
- walking distances along a ``paths`` network (:mod:`.network`; the graph in
  :mod:`.network_graph`, how points and polygons join it in :mod:`.network_joins`), and the
  distance rules read on foot (:mod:`.walking`: ``walk_m``, ``--distance walk``, detours);
- judging (:mod:`.judge`) into a :class:`~.result.Result`, whose views are the scorecard
  (:mod:`.scorecard`), declaration (:mod:`.declaration`), points and stars (:mod:`.scores`)
  and campaign progress (:mod:`.campaign`);
- what it takes to pass: each failing finding's remedy, computed as it is judged
  (:mod:`.remedies`), and the proposed garbage points, a set cover per failing estate
  (:mod:`.proposals`).

rules imports :mod:`geocheck.core` and nothing of inputs or views.
"""
