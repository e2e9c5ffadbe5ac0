"""What the geocheck algorithms share: layers of the QGIS project exported into one GeoPackage
named by role, the pack parameters, progress and cancel through the algorithm's feedback, and
geocheck's own errors as one readable line.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

from ..core.errors import GeocheckError
from ..core.progress import Progress
from ..core.roles import LINE, POINT, POLYGON, ROLES, Role
from ..rules.packs.load import DEFAULT_PACK, shipped_packs

PACK, PACK_FILE = "PACK", "PACK_FILE"
FIELD_PARAMETERS = {"HOUSEHOLDS_FIELD": "households", "BUILT_FIELD": "built",
                    "NAME_FIELD": "name"}
"""Field parameters on the estates layer -> the geocheck field each one supplies."""
SHIPPED_PACKS = shipped_packs()


class CancelledError(BaseException):
    """The user pressed Cancel: raised at the next stage or step of the run (a BaseException,
    so that no `except Exception` on the way turns it into something else)."""


class FeedbackProgress(Progress):
    """geocheck's stages and steps shown in the algorithm's log and progress bar; each stage
    and step first checks for Cancel and raises :class:`CancelledError` when it was pressed."""

    def __init__(self, feedback: QgsProcessingFeedback) -> None:
        super().__init__(enabled=False)
        self.feedback = feedback

    @contextmanager
    def stage(self, label: str) -> Iterator[Progress]:
        """Log ``label`` now and its duration in seconds when the block ends."""
        self.cancel_point()
        start = time.perf_counter()
        self.feedback.setProgressText(label)
        self.feedback.pushInfo(f"geocheck: {label} ...")
        yield self
        self.feedback.pushInfo(f"geocheck: {label}: done in {time.perf_counter() - start:.1f} s")

    def step(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` steps of the current stage as a percentage."""
        self.cancel_point()
        if total > 0:
            self.feedback.setProgress(100.0 * done / total)

    def cancel_point(self) -> None:
        """Raise :class:`CancelledError` if the user pressed Cancel."""
        if self.feedback.isCanceled():
            raise CancelledError


@contextmanager
def user_errors(gpkg: Path | None = None, names: Mapping[str, str] | None = None
                ) -> Iterator[None]:
    """geocheck's errors (bad input, bad pack, refused output folder) as one-line
    :class:`QgsProcessingException` messages, which QGIS shows in the log, not as a
    traceback; Cancel as a short message. A message about the layers exported to ``gpkg``
    names each by its QGIS layer name (``names``: role -> layer name), not by the temporary
    file."""
    try:
        yield
    except GeocheckError as exc:
        raise QgsProcessingException(f"geocheck: {readable(exc, gpkg, names)}") from None
    except CancelledError:
        raise QgsProcessingException("geocheck: cancelled") from None


def readable(exc: GeocheckError, gpkg: Path | None = None,
             names: Mapping[str, str] | None = None) -> str:
    """``exc`` on one line, with the exported GeoPackage's role layers called by the QGIS
    layers they came from."""
    text = " ".join(str(exc).split())
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
