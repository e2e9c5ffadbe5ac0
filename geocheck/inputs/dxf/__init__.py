"""Read a CAD site plan (DXF) into geocheck role layers.

A site plan (总平面图) keeps each kind of thing on its own CAD layer: the red line (用地红线),
buildings (建筑), green space (绿地), bus stops (公交站) ... The user maps CAD layers onto geocheck
roles; :func:`read_dxf` turns the model-space entities of the mapped layers into one GeoDataFrame
per role. Coordinates are taken as they are drawn, in ``src_crs`` (a DXF has no CRS); for the
CGCS2000 Gauss-Kruger CRSs (EPSG:4534-4554) that means metres, and every length and area this
module speaks of is in those units.

What becomes what
-----------------
- Polygon roles (estates, buildings, green space): closed LWPOLYLINE / POLYLINE (closed flag, or
  open with the last vertex within :data:`CLOSE_TOLERANCE` of the first), CIRCLE, closed
  SPLINE / ELLIPSE, HATCH and 2D SOLID become polygons.
- Point roles (bus stops, rail stations, entrances): POINT, block INSERT (its insertion point) and
  CIRCLE (its centre) become points. Garbage points, kindergartens and schools take both: points,
  block inserts and circles become points, other closed boundaries polygons.
- TEXT / MTEXT on a mapped layer labels a feature of that role: the only text inside a polygon,
  or the only text whose nearest point feature (within :data:`LABEL_DISTANCE`) is that point. The
  label becomes ``name`` (roles that have one) or ``cad_text``. A block insert's ``NAME`` (名称,
  站名) attribute names it too.
- Nothing on a mapped layer is dropped silently: an entity that cannot be a feature of its role
  (an open polyline or a line on a polygon role, a text that labels nothing, the second copy of an
  outline drawn twice, a part of a dimension) is kept with geometry None and a ``source_problem``
  that names the CAD layer and entity handle; geocheck's ledger then lists it as rejected.

Encoding
--------
R12-R2004 DXF (AC1009-AC1018) store text in the code page named by ``$DWGCODEPAGE`` (ANSI_936 is
GBK); R2007+ DXF (AC1021 on) store UTF-8 whatever ``$DWGCODEPAGE`` says. GDAL's DXF driver
(3.12) always decodes with ``$DWGCODEPAGE``, which garbles every R2007+ file saved by a Chinese
AutoCAD (header ANSI_936, text UTF-8): ``建筑`` comes out as ``寤虹瓚``, with no warning. So the
encoding is chosen here and passed to GDAL with its ``ENCODING`` open option (no global GDAL
config is touched). An ASCII DXF is decoded strictly as a whole: UTF-8 first (text in another
code page is almost never valid UTF-8, while UTF-8 Chinese often is valid GBK), then the declared
code page; a file declaring Windows-1252 whose text reads as Chinese only in GBK is read as GBK;
a file valid in neither is refused rather than read garbled. Every choice is stated in the notes.
A binary DXF cannot be checked that way: its encoding follows version and code page alone.
``\\U+XXXX`` and ``\\M+nXXXX`` escapes, which GDAL leaves in TEXT entities and layer names, are
decoded here.
"""

from .drawing import DWG_ADVICE, list_dxf_layers
from .features import NO_SRC_CRS, DxfImport, read_dxf

__all__ = ["DWG_ADVICE", "NO_SRC_CRS", "DxfImport", "list_dxf_layers", "read_dxf"]
