"""What the geocheck algorithms share: layers of the QGIS project exported into one GeoPackage
named by role, the pack parameters, and geocheck run in a process of its own
(:mod:`geocheck.qgis.worker`) with its progress in the feedback, Cancel honoured and its own
errors as one readable line.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

from ..core.roles import LINE, POINT, POLYGON, ROLES, Role
from ..rules.packs.load import DEFAULT_PACK, shipped_packs

PACK, PACK_FILE = "PACK", "PACK_FILE"
FIELD_PARAMETERS = {"HOUSEHOLDS_FIELD": "households", "BUILT_FIELD": "built",
                    "NAME_FIELD": "name"}
"""Field parameters on the estates layer -> the geocheck field each one supplies."""
SHIPPED_PACKS = shipped_packs()


LIBRARY_ENV = ("GDAL_DATA", "GDAL_DRIVER_PATH", "PROJ_LIB", "PROJ_DATA")
"""Variables QGIS may set for its own GDAL and PROJ, left out of the worker's environment:
geocheck's libraries (from the wheels) bring their own data."""


class StoredStyle(QgsProcessingLayerPostProcessorInterface):
    """Gives a layer Processing loads its default style stored in the GeoPackage (results.gpkg's
    ``layer_styles``): Processing loads result layers without it, as a single symbol."""

    def postProcessLayer(self, layer: Any, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> None:
        message, ok = layer.loadDefaultStyle()
        if not ok:
            feedback.pushInfo(f"geocheck: {layer.name()} keeps QGIS's default style: {message}")
        layer.triggerRepaint()


POST_PROCESSORS: list[StoredStyle] = []
"""Every post-processor handed to QGIS: the context that loads the layer deletes the C++ side
when it is done (so each layer gets its own), and the Python side must live at least as long
(a few bytes a layer)."""


def load_on_completion(context: QgsProcessingContext, uri: str, name: str, output: str) -> None:
    """Have Processing load ``uri`` as layer ``name`` when the algorithm ends, with the style
    stored beside it."""
    details = QgsProcessingContext.LayerDetails(name, context.project(), output)
    POST_PROCESSORS.append(StoredStyle())
    details.setPostProcessor(POST_PROCESSORS[-1])
    context.addLayerToLoadOnCompletion(uri, details)


def python_executable() -> str:
    """The Python interpreter QGIS embeds, as a program to run: the one in ``sys.prefix``
    (inside the QGIS application ``sys.executable`` is whatever ``python3`` comes first on
    PATH, which may be another Python altogether)."""
    for candidate in (Path(sys.prefix) / "bin" / "python3", Path(sys.prefix) / "python.exe",
                      Path(sys.prefix) / "python3.exe"):
        if candidate.is_file():
            return str(candidate)
    raise QgsProcessingException(f"geocheck: cannot find the Python interpreter of QGIS "
                                 f"(looked in {sys.prefix})")


def run_worker(spec: Mapping[str, Any], feedback: QgsProcessingFeedback, *,
               gpkg: Path | None = None, names: Mapping[str, str] | None = None
               ) -> dict[str, Any]:
    """Run :mod:`geocheck.qgis.worker` with ``spec`` in a process of its own; show its stages
    in the log and its steps in the progress bar; stop it when Cancel is pressed; return its
    result.

    Raises
    ------
    QgsProcessingException
        geocheck's own error, as one line naming the QGIS layers (``names``, role -> layer
        name) rather than the temporary GeoPackage ``gpkg``; Cancel; or a worker that ended
        without a result (with the end of its standard error).
    """
    env = {k: v for k, v in os.environ.items() if k not in LIBRARY_ENV}
    cmd = [python_executable(), "-m", "geocheck.qgis.worker", json.dumps(dict(spec))]
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env,
                                encoding="utf-8", errors="replace",
                                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        lines: queue.Queue[str | None] = queue.Queue()
        pump = threading.Thread(target=_pump, args=(proc, lines), daemon=True)
        pump.start()
        try:
            done = _follow(lines, feedback, gpkg, names)
        finally:
            if proc.poll() is None:
                proc.terminate()
            proc.wait()
            pump.join()  # the worker has ended, so its output has too
            assert proc.stdout is not None
            proc.stdout.close()
        if done is None:
            err.seek(0)
            tail = " ".join(err.read().strip().splitlines()[-3:])
            raise QgsProcessingException(
                f"geocheck: the run ended without a result (exit {proc.returncode}): {tail}")
    return done


def _pump(proc: subprocess.Popen, lines: queue.Queue[str | None]) -> None:
    """Move the worker's output lines into ``lines``; None at the end."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def _follow(lines: queue.Queue[str | None], feedback: QgsProcessingFeedback,
            gpkg: Path | None, names: Mapping[str, str] | None) -> dict[str, Any] | None:
    """Act on the worker's messages until its last; Cancel is looked at five times a second."""
    while True:
        if feedback.isCanceled():
            raise QgsProcessingException("geocheck: cancelled")
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            return None
        try:
            msg = json.loads(line)
        except ValueError:
            feedback.pushInfo(line.rstrip())
            continue
        kind = msg.pop("kind", None)
        if kind == "stage":
            feedback.setProgressText(msg["label"])
            feedback.pushInfo(f"geocheck: {msg['label']} ...")
        elif kind == "stage_done":
            feedback.pushInfo(f"geocheck: {msg['label']}: done in {msg['seconds']:.1f} s")
        elif kind == "step" and msg["total"] > 0:
            feedback.setProgress(100.0 * msg["done"] / msg["total"])
        elif kind == "error":
            raise QgsProcessingException(f"geocheck: {readable(msg['message'], gpkg, names)}")
        elif kind == "done":
            return msg


def readable(message: str, gpkg: Path | None = None,
             names: Mapping[str, str] | None = None) -> str:
    """A geocheck error ``message`` on one line, with the exported GeoPackage's role layers
    called by the QGIS layers they came from."""
    text = " ".join(message.split())
    if gpkg is not None:
        text = text.replace(f"{gpkg}: ", "").replace(str(gpkg), "the chosen layers")
    for role, name in (names or {}).items():
        text = text.replace(f"layer '{role}'", f"layer {name!r} ({role})")
    return text


def layer_types(role: Role) -> list[int]:
    """The Processing geometry filter for a role's layer parameter."""
    kinds = {POINT: QgsProcessing.TypeVectorPoint, LINE: QgsProcessing.TypeVectorLine,
             POLYGON: QgsProcessing.TypeVectorPolygon}
    if len(role.geometry) == 1:
        return [kinds[next(iter(role.geometry))]]
    return [QgsProcessing.TypeVectorAnyGeometry]


def add_layer_parameters(alg: QgsProcessingAlgorithm, *, estates_optional: bool) -> None:
    """One vector-layer parameter per role, named by the role in upper case."""
    for name, role in ROLES.items():
        optional = estates_optional or name != "estates"
        alg.addParameter(QgsProcessingParameterVectorLayer(
            name.upper(), f"{role.label_en.capitalize()} ({role.label_zh}, layer {name})",
            layer_types(role), optional=optional))


def add_pack_parameters(alg: QgsProcessingAlgorithm) -> None:
    """``PACK``: the shipped packs (guangxi first by default); ``PACK_FILE``: a pack .toml
    that, when given, is used instead."""
    alg.addParameter(QgsProcessingParameterEnum(
        PACK, "Rule pack", options=SHIPPED_PACKS, defaultValue=SHIPPED_PACKS.index(DEFAULT_PACK)))
    alg.addParameter(QgsProcessingParameterFile(
        PACK_FILE, "Pack file (.toml; used instead of the rule pack when given)",
        extension="toml", optional=True))


def add_field_parameters(alg: QgsProcessingAlgorithm) -> None:
    """Optional fields of the estates layer holding households, built (new / existing) and
    the estate's name, when they are not called so."""
    labels = {"households": "Households field (户数)", "built": "Built field (新建/已建成)",
              "name": "Name field (小区名称)"}
    for param, field in FIELD_PARAMETERS.items():
        alg.addParameter(QgsProcessingParameterField(
            param, labels[field], parentLayerParameterName="ESTATES", optional=True))


def pack_choice(alg: QgsProcessingAlgorithm, parameters: Mapping[str, Any],
                context: QgsProcessingContext) -> str:
    """The pack file when one is given, else the chosen shipped pack's id."""
    path = alg.parameterAsFile(parameters, PACK_FILE, context)
    if path:
        return path
    return SHIPPED_PACKS[alg.parameterAsEnum(parameters, PACK, context)]


def field_mapping(alg: QgsProcessingAlgorithm, parameters: Mapping[str, Any],
                  context: QgsProcessingContext) -> list[str]:
    """The field parameters as geocheck ``--field`` entries (``estates.households=户数``)."""
    out = []
    for param, field in FIELD_PARAMETERS.items():
        source = alg.parameterAsString(parameters, param, context)
        if source and source != field:
            out.append(f"estates.{field}={source}")
    return out


def chosen_layers(alg: QgsProcessingAlgorithm, parameters: Mapping[str, Any],
                  context: QgsProcessingContext) -> dict[str, QgsVectorLayer]:
    """The layer given for each role, by role name (roles left empty are absent)."""
    out = {}
    for name in ROLES:
        layer = alg.parameterAsVectorLayer(parameters, name.upper(), context)
        if layer is not None:
            out[name] = layer
    return out


def export_layers(layers: Mapping[str, QgsVectorLayer], context: QgsProcessingContext,
                  feedback: QgsProcessingFeedback, *, selected: tuple[str, ...] = ()) -> Path:
    """Write each layer, in its own CRS, into a new temporary GeoPackage as a layer named by
    its role; return the GeoPackage's path. ``selected``: roles of which only the selected
    features are written (a layer with nothing selected is an error, not an empty layer).

    Raises
    ------
    QgsProcessingException
        A layer cannot be written (named with QGIS's reason), or a selection is empty.
    """
    folder = Path(tempfile.mkdtemp(prefix="geocheck-", dir=QgsProcessingUtils.tempFolder()))
    path = folder / "layers.gpkg"
    for k, (role, layer) in enumerate(layers.items()):
        if feedback.isCanceled():
            raise QgsProcessingException("geocheck: cancelled")
        only_selected = role in selected
        if only_selected and layer.selectedFeatureCount() == 0:
            raise QgsProcessingException(
                f"geocheck: no feature is selected in layer {layer.name()!r} ({role}); select "
                "the estates to check, or untick 'selected estates only'")
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = "GPKG"
        options.layerName = role
        options.fileEncoding = "UTF-8"
        options.onlySelectedFeatures = only_selected
        options.actionOnExistingFile = (QgsVectorFileWriter.CreateOrOverwriteLayer if k
                                        else QgsVectorFileWriter.CreateOrOverwriteFile)
        error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(
            layer, str(path), context.transformContext(), options)
        if error != QgsVectorFileWriter.NoError:
            raise QgsProcessingException(
                f"geocheck: layer {layer.name()!r} ({role}) could not be copied for reading: "
                f"{message}")
        n = layer.selectedFeatureCount() if only_selected else layer.featureCount()
        feedback.pushInfo(f"geocheck: {role} <- {layer.name()} ({n:,} features, "
                          f"{layer.crs().authid() or layer.crs().description()})")
    return path
