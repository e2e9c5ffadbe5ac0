"""Rule packs: the model (:mod:`.model`), parsing and validation (:mod:`.parse`), ``extends``
(:mod:`.merge`) and loading (:mod:`.load`); the shipped packs are the TOML files here.

Import :func:`~.load.load_pack` from :mod:`.load` (this package re-exports nothing, so that
importing the model never imports the checks).
"""
