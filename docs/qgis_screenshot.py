"""Make docs/qgis.png, the README's picture of geocheck in QGIS: the QGIS application under Xvfb,
the sample's layers added one by one, geocheck:check run from the Processing framework with its
results loaded (the estates styled by verdict from results.gpkg), and QGIS's main window grabbed.

    .venv-qgis/bin/python docs/qgis_screenshot.py [-o docs/qgis.png]

Run it with the Python of an environment where geocheck and QGIS's bindings both import (the
README's "geocheck in QGIS"); it needs the ``qgis`` application and ``xvfb-run`` (Debian:
``apt-get install qgis xvfb``). The script starts QGIS with a throw-away profile and itself as
QGIS's ``--code`` script; inside QGIS it does the work and quits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

OUT_ENV, SCRIPT_ENV = "GEOCHECK_QGIS_SCREENSHOT", "GEOCHECK_QGIS_SCRIPT"
try:
    SCRIPT = Path(__file__).resolve()
except NameError:  # QGIS's --code runs the file's text, without __file__
    SCRIPT = Path(os.environ[SCRIPT_ENV])
ROOT = SCRIPT.parent.parent
SAMPLE = ROOT / "layers" / "nanning_sample.gpkg"
SHEET = ROOT / "layers" / "nanning_attributes.xlsx"
LAYERS = ("green_space", "buildings", "garbage_points", "bus_stops", "rail_stations",
          "kindergartens", "schools", "entrances", "estates")
"""The sample's layers, added bottom first."""


def inside_qgis(png: Path) -> None:
    """Add the layers, run the check with its results loaded, frame the estates, grab the
    window once QGIS has drawn it, and quit."""
    import processing
    from qgis.core import QgsProject, QgsVectorLayer
    from qgis.PyQt.QtCore import QTimer
    from qgis.utils import iface

    from geocheck.qgis.plugin import classFactory

    plugin = classFactory(iface)
    plugin.initGui()
    project = QgsProject.instance()
    params: dict[str, object] = {}
    for name in LAYERS:
        layer = QgsVectorLayer(f"{SAMPLE}|layername={name}", name, "ogr")
        project.addMapLayer(layer)
        params[name.upper()] = layer
    out = Path(tempfile.mkdtemp(prefix="geocheck-qgis-"))
    params.update(ATTRIBUTES=str(SHEET), OUTPUT_FOLDER=str(out))
    print("geocheck screenshot: running geocheck:check", file=sys.stderr, flush=True)
    processing.runAndLoadResults("geocheck:check", params)
    for layer in project.mapLayersByName("estates"):  # the input, under the results
        project.layerTreeRoot().findLayer(layer.id()).setItemVisibilityChecked(False)
    window = iface.mainWindow()
    window.setGeometry(0, 0, 1400, 900)
    results = project.mapLayersByName("geocheck estates")
    iface.setActiveLayer(results[0])
    iface.zoomToActiveLayer()
    QTimer.singleShot(8000, lambda: quit_qgis(window.grab().save(str(png))))


def quit_qgis(ok: bool = False) -> None:
    """Leave QGIS (exit code 0 when ``ok``)."""
    from qgis.core import QgsApplication

    QgsApplication.exit(0 if ok else 1)


def inside_qgis_or_quit(png: Path) -> None:
    """:func:`inside_qgis` once QGIS has started, quitting with the traceback on stderr if
    it fails."""
    from qgis.PyQt.QtCore import QTimer

    def work() -> None:
        try:
            inside_qgis(png)
        except Exception:
            import traceback

            traceback.print_exc()
            quit_qgis()

    QTimer.singleShot(3000, work)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default=str(ROOT / "docs" / "qgis.png"))
    args = p.parse_args()
    png = Path(args.output).resolve()
    # this checkout first (an editable install's hook is not read from PYTHONPATH), then the
    # environment's packages, as the README's launcher line does
    path = os.pathsep.join([str(ROOT), sysconfig.get_path("purelib")])
    env = {**os.environ, OUT_ENV: str(png), SCRIPT_ENV: str(SCRIPT), "PYTHONPATH": path}
    with tempfile.TemporaryDirectory() as profiles:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", "qgis", "--nologo",
               "--noversioncheck", "--profiles-path", profiles,
               "--code", str(SCRIPT)]
        try:
            subprocess.run(cmd, env=env, timeout=240, check=False)
        except subprocess.TimeoutExpired:
            print("QGIS did not finish within 4 minutes", file=sys.stderr)
    if not png.is_file():
        print(f"QGIS did not write {png}", file=sys.stderr)
        return 1
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    if os.environ.get(OUT_ENV) and "qgis.utils" in sys.modules:
        inside_qgis_or_quit(Path(os.environ[OUT_ENV]))
    else:
        sys.exit(main())
