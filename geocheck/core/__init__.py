"""core: the plain shared vocabulary every wing speaks.

Errors (:mod:`.errors`), the four verdicts and their severity (:mod:`.status`), the role layers
and their fields (:mod:`.roles`), units and how shares are written (:mod:`.units`), the ledger
of read and rejected features (:mod:`.ledger`), the normalised site handed from inputs to rules
(:mod:`.site`), the attributes sheet's columns (:mod:`.indicators`), progress on the terminal
(:mod:`.progress`) and the version (:mod:`.version`).

core imports nothing of geocheck outside core; every other module may import it.
"""
