"""The shared vocabulary of geocheck: plain words every wing speaks.

Errors (:mod:`.errors`), the four verdicts and their severity (:mod:`.status`), the role layers
and their fields (:mod:`.roles`), units and how shares are written (:mod:`.units`), the ledger
of read and rejected features (:mod:`.ledger`) and progress on the terminal (:mod:`.progress`).

core imports nothing of geocheck's own outside core; everything else may import it.
"""
