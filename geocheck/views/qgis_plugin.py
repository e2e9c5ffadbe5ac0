"""The QGIS plugin package, written by ``geocheck qgis-plugin -o DIR``: a folder
``geocheck_plugin/`` and the same as ``geocheck_plugin.zip`` for QGIS's "Install from ZIP".

The plugin is thin: its ``__init__.py`` imports :func:`geocheck.qgis.plugin.classFactory` from
the geocheck installed in QGIS's Python, so the plugin and the command line run the same code.
Where geocheck cannot be imported, the plugin says so in QGIS's message bar and log, with the
way to install it, instead of failing with a traceback. The folder is not called ``geocheck``:
QGIS puts its plugin folder on ``sys.path``, where a plugin of that name would hide the
package.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..core.errors import OutputError
from ..core.version import VERSION

PLUGIN_NAME = "geocheck_plugin"
"""The plugin's folder name, the name QGIS knows it by."""

QGIS_MINIMUM = "3.22"
"""The oldest QGIS the plugin is tested with (Debian 12's)."""

METADATA = """[general]
name=geocheck
qgisMinimumVersion={minimum}
description=Planning compliance of residential estates (Guangxi, Nanhai, Guangzhou, Gongshu,
    GB 50180) from map layers
about=Adds geocheck to the Processing toolbox: "Check estates against a rule pack" judges every
    estate of the layers you pick against a Chinese estate standard and loads the estates styled
    by verdict, with the findings, report.html and map.html; also the attributes sheet to fill
    in and an OpenStreetMap import. Needs the geocheck Python package installed in QGIS's
    Python (see geocheck's README, "geocheck in QGIS").
version={version}
author=geocheck
email=geocheck@example.invalid
repository=https://example.invalid/geocheck
tags=planning,compliance,estates,audit,china
category=Analysis
experimental=True
hasProcessingProvider=yes
"""
"""The plugin's metadata.txt, read by QGIS with Python's configparser (an indented line
continues a value). QGIS requires name, qgisMinimumVersion, description, about,
version, author, email and repository)."""

INIT = '''"""geocheck for QGIS: registers geocheck's Processing provider. The algorithms live in the
geocheck package, which must be installed in QGIS's Python (geocheck's README: "geocheck in
QGIS"); this file only finds it."""

INSTALL = ("geocheck is not installed in QGIS's Python ({error}). Install it as geocheck's "
           "README says under 'geocheck in QGIS', then restart QGIS.")


def classFactory(iface):  # noqa: N802 (QGIS's name)
    try:
        from geocheck.qgis.plugin import classFactory as factory
    except ImportError as exc:
        return Missing(iface, INSTALL.format(error=exc))
    return factory(iface)


class Missing:
    """Stands in for the plugin when geocheck cannot be imported: says how to install it."""

    def __init__(self, iface, message):
        self.iface = iface
        self.message = message

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        from qgis.core import Qgis, QgsMessageLog

        QgsMessageLog.logMessage(self.message, "geocheck", Qgis.Critical)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        if self.iface is not None:
            from qgis.core import Qgis

            self.iface.messageBar().pushMessage("geocheck", self.message, level=Qgis.Critical)

    def unload(self):
        pass
'''
"""The plugin's __init__.py."""


def write_plugin(outdir: str | Path) -> tuple[Path, Path]:
    """Write the plugin folder ``outdir/geocheck_plugin/`` (metadata.txt, __init__.py) and
    ``outdir/geocheck_plugin.zip`` holding that folder; return both paths. Files of an
    earlier plugin there are replaced.

    Raises
    ------
    OutputError
        ``outdir`` or the files cannot be written, or a path there is a symbolic link.
    """
    out = Path(outdir)
    folder, archive = out / PLUGIN_NAME, out / f"{PLUGIN_NAME}.zip"
    files = {"metadata.txt": METADATA.format(minimum=QGIS_MINIMUM, version=VERSION),
             "__init__.py": INIT}
    for p in (out, folder, archive, *(folder / n for n in files)):
        if p.is_symlink():
            raise OutputError(f"{p} is a symbolic link; geocheck does not write through links")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(f"{PLUGIN_NAME}/{name}", text)
    except OSError as exc:
        raise OutputError(f"cannot write the QGIS plugin into {out}: {exc.strerror or exc}"
                          ) from None
    return folder, archive
