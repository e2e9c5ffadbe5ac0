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

from __future__ import annotations

import codecs
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from .core.errors import CRSError, InputError
from .core.roles import POINT, POLYGON, ROLES
from .read import check_local_file

CLOSE_TOLERANCE = 0.001
"""Distance (m) within which an open polyline's last vertex counts as back on its first."""

LABEL_DISTANCE = 20.0
"""Distance (m) within which a text may label its nearest point feature."""

SAME_OUTLINE_SHARE = 1e-6
"""Two polygons of one role whose symmetric difference is at most this share of the larger area
are one outline drawn twice (typically a HATCH over its boundary polyline); the later is kept
without geometry."""

NAME_TAGS = ("NAME", "名称", "站名", "名字")
"""Block attribute tags whose value names a block insert (the only attribute names it too)."""

DWG_ADVICE = ("DWG is a closed binary format geocheck cannot read; save the plan as DXF "
              "(AutoCAD: SAVEAS / DXFOUT), or convert it with ODA File Converter")
NO_SRC_CRS = ("a DXF has no coordinate reference system: give --src-crs, e.g. EPSG:4545 for "
              "CGCS2000 3-degree zone CM 108E")

_UTF8_FROM = "AC1021"  # R2007: DXF text is UTF-8 from this version on
_VERSIONS = {"AC1009": "R12", "AC1012": "R13", "AC1014": "R14", "AC1015": "R2000",
             "AC1018": "R2004", "AC1021": "R2007", "AC1024": "R2010", "AC1027": "R2013",
             "AC1032": "R2018"}
_INSUNITS = {1: "inches", 2: "feet", 4: "millimetres", 5: "centimetres", 8: "microinches",
             9: "mils", 10: "yards", 14: "decimetres"}
_GDAL_ENCODINGS = {"utf-8": "UTF-8", "gbk": "CP936", "iso8859-1": "ISO-8859-1",
                   "latin-1": "ISO-8859-1"}
_MIF_CODECS = {"1": "cp932", "2": "cp950", "3": "cp949", "4": "johab", "5": "gbk"}
_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})|\\M\+([1-5])([0-9A-Fa-f]{4})")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CJK_CHAR = r"[\u2e80-\u9fff\uff00-\uffef]"
_CJK_LINE_BREAK = re.compile(rf"(?<={_CJK_CHAR})\s*\n\s*(?={_CJK_CHAR})")
_TABLES_END = re.compile(r"\n[ \t]*2\r?\n(?:BLOCKS|ENTITIES)\r?\n")

# GDAL's SubClasses (the DXF 100 group codes) -> entity kind; the first match wins.
_KINDS = (
    ("text", r"AcDbM?Text(?::|$)"),
    ("block insert", r"AcDbBlockReference"),
    ("point", r"AcDbPoint(?::|$)"),
    ("arc", r"AcDbArc"),
    ("circle", r"AcDbCircle"),
    ("polyline", r"AcDb(?:2d|3d)?Polyline"),
    ("line", r"AcDbLine(?::|$)"),
    ("hatch", r"AcDbHatch"),
    ("2D solid", r"AcDbTrace|AcDbSolid|AcDbFace"),
    ("spline", r"AcDbSpline"),
    ("ellipse", r"AcDbEllipse"),
)
_POINTLIKE = frozenset({"point", "block insert", "circle"})
# read without BlockName: GDAL 3.12 does not recode it, so a GBK block name fails to decode
_COLUMNS = ["Layer", "PaperSpace", "SubClasses", "EntityHandle", "Text", "BlockAttributes"]


@dataclass
class DxfImport:
    """What :func:`read_dxf` took from a DXF site plan.

    Attributes
    ----------
    layers : role name -> GeoDataFrame in ``src_crs`` (coordinates as drawn, metres for the
        CGCS2000 Gauss-Kruger CRSs). Columns: the role's fields (schema.ROLES; ids are
        ``DXF-<handle>``, an estate's id is its name when that is unique), ``cad_text`` for roles
        without ``name``, ``cad_layer``, ``cad_handle``, ``cad_entity`` (e.g. ``"polyline"``,
        ``"hatch"``, ``"block insert"``) and ``source_problem`` (None, or why the row has no
        geometry). Rows are in file order.
    counts : role name -> rows in its frame: CAD entities taken, unusable ones (geometry None)
        included; texts used as labels are not rows.
    notes : one line each: the encoding used, per-role tallies, anything else worth knowing.
    cad_layers : every CAD layer in the file (its layer table, then layers only entities name),
        with the name as stored -> number of entities on it (model and paper space).
    """

    layers: dict[str, gpd.GeoDataFrame]
    counts: dict[str, int]
    notes: list[str]
    cad_layers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Source:
    """A DXF file checked and sniffed: its text encoding and its layer table."""

    path: Path
    gdal_encoding: str  # the name GDAL's ENCODING open option takes, e.g. CP936
    table_layers: tuple[str, ...]
    insunits: int | None
    notes: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# The file: DWG refusal, header, encoding, layer table


def _open(path: str | Path, encoding: str | None) -> _Source:
    p = check_local_file(path)
    _refuse_dwg(p)
    raw = p.read_bytes()
    if raw.startswith(b"AutoCAD Binary DXF"):
        return _binary(raw, encoding, p)
    version = _header_var(raw, "$ACADVER", "1")
    codepage = _header_var(raw, "$DWGCODEPAGE", "3")
    units = _header_var(raw, "$INSUNITS", "70")
    codec, text, note = _choose_codec(raw, version, codepage, encoding, p)
    return _Source(p, _gdal_encoding(codec), _table_layers(text),
                   int(units) if units and units.strip().isdigit() else None, (note,))


def _binary(raw: bytes, encoding: str | None, p: Path) -> _Source:
    """A binary DXF: the encoding follows the version and code page, unchecked."""
    found = {name: re.search(re.escape(name.encode()) + rb"\x00..([ -~]{1,40})\x00", raw[:200_000])
             for name in ("$ACADVER", "$DWGCODEPAGE")}
    version, codepage = (m.group(1).decode() if m else None for m in found.values())
    if encoding:
        codec = _lookup(encoding, p)
    elif (version or "").startswith("AC") and version >= _UTF8_FROM:
        codec = "utf-8"
    else:
        codec = _declared_codec(codepage) or "cp1252"
    return _Source(p, _gdal_encoding(codec), (), None, (
        f"text read as {_label(codec)} ({version or 'unknown version'} binary DXF, $DWGCODEPAGE "
        f"{codepage or 'not set'}), unchecked in a binary file: if names look garbled, give the "
        "plan's encoding or save it as ASCII DXF",))


def _refuse_dwg(p: Path) -> None:
    """Raise InputError for a .dwg file, or a DWG renamed .dxf (it starts with "AC10xx")."""
    if p.suffix.lower() == ".dwg":
        raise InputError(f"{p}: {DWG_ADVICE}")
    with p.open("rb") as f:
        head = f.read(6)
    if re.fullmatch(rb"AC10\d\d", head):
        raise InputError(f"{p}: this is a DWG drawing (it starts with {head.decode()!r}) named "
                         f"as a DXF; {DWG_ADVICE}")


def _header_var(raw: bytes, name: str, code: str) -> str | None:
    """The value of header variable ``name`` (group code ``code``), if the file sets it."""
    m = re.search(rb"\n[ \t]*9\r?\n" + re.escape(name.encode()) + rb"\r?\n[ \t]*"
                  + code.encode() + rb"\r?\n([^\r\n]*)", raw[:1_000_000])
    return m.group(1).decode("ascii", "replace").strip() if m else None


def _lookup(encoding: str, p: Path) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"{p}: {encoding!r} is not a text encoding Python knows "
                         "(e.g. gbk, utf-8, cp1252)") from None


def _declared_codec(codepage: str | None) -> str | None:
    """The Python codec of a ``$DWGCODEPAGE`` value such as ``ANSI_936``, if it has one."""
    cp = (codepage or "").strip().upper()
    if "UTF" in cp:
        return "utf-8"
    if "GB2312" in cp or cp.endswith("936"):
        return "gbk"
    if "BIG5" in cp:
        return "cp950"
    m = re.search(r"(\d+)$", cp)
    if not m:
        return None
    try:
        return codecs.lookup(f"cp{m.group(1)}").name
    except LookupError:
        return None


def _gdal_encoding(codec: str) -> str:
    return _GDAL_ENCODINGS.get(codec, codec.upper().replace("_", "-"))


def _label(codec: str) -> str:
    return {"utf-8": "UTF-8", "gbk": "GBK"}.get(codec, codec.upper())


def _decode(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _bad_byte(raw: bytes, codec: str) -> str:
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return f"byte 0x{raw[exc.start]:02X} at line {line}"
    return "no bad byte"


def _choose_codec(raw: bytes, version: str | None, codepage: str | None,
                  override: str | None, p: Path) -> tuple[str, str, str]:
    """Return ``(codec, decoded text, note)``; raise InputError rather than decode wrongly."""
    if override:
        codec = _lookup(override, p)
        text = _decode(raw, codec)
        if text is None:
            raise InputError(f"{p}: text is not valid {_label(codec)} as asked "
                             f"({_bad_byte(raw, codec)})")
        return codec, text, f"text read as {_label(codec)}, as asked"
    ver = (version or "").upper()
    this = f"this {ver} ({_VERSIONS[ver]}) DXF" if ver in _VERSIONS else "this DXF"
    declares = f"$DWGCODEPAGE {codepage}" if codepage else "no $DWGCODEPAGE"
    declared = _declared_codec(codepage)
    if raw.isascii():
        return declared or "cp1252", raw.decode("ascii"), "text is plain ASCII"
    utf8_era = ver.startswith("AC") and ver >= _UTF8_FROM
    # UTF-8 first whatever the version: text in another code page is almost never valid UTF-8
    # (while UTF-8 Chinese often is valid GBK, read as mojibake)
    order = ["utf-8"] + ([declared] if declared not in (None, "cp1252", "utf-8") else [])
    for codec in order:
        text = _decode(raw, codec)
        if text is None:
            continue
        if codec == "utf-8" and utf8_era:
            note = (f"text read as UTF-8: {this} stores text as UTF-8 whatever its "
                    f"{declares} says")
        elif codec == "utf-8":
            note = (f"text read as UTF-8 although {this} declares {declares}: the whole file "
                    "is valid UTF-8, as text in another code page almost never is")
        elif not utf8_era:
            note = f"text read as {_label(codec)}: {this} declares {declares}"
        else:
            note = (f"text read as {_label(codec)} although {this} should store UTF-8: its "
                    f"text is not valid UTF-8 but is valid {_label(codec)}, as {declares} says")
        return codec, text, note
    if declared not in (None, "cp1252"):
        tried = " nor ".join(_label(c) for c in order)
        raise InputError(f"{p}: text is neither valid {tried} ({this} declares {declares}; "
                         f"{_bad_byte(raw, order[-1])} is not {_label(order[-1])}); re-save "
                         "the plan as DXF from CAD, or give its encoding")
    gbk = _decode(raw, "gbk")
    if gbk is not None:
        foreign = len(_NON_ASCII.findall(gbk))
        if foreign and len(_CJK.findall(gbk)) >= 0.8 * foreign:
            return "gbk", gbk, (f"text read as GBK although {this} declares {declares}: its "
                                "non-ASCII text reads as Chinese only in GBK")
    codec = "cp1252" if _decode(raw, "cp1252") is not None else "latin-1"
    return codec, raw.decode(codec), (
        f"text read as Windows-1252 (Western European): {this} declares {declares}; if names "
        "look garbled, give the plan's encoding (e.g. gbk)")


def _table_layers(text: str) -> tuple[str, ...]:
    """Layer names in the LAYER table, as stored (escapes decoded)."""
    end = _TABLES_END.search(text)
    lines = (text[:end.start()] if end else text).splitlines()
    names: list[str] = []
    table_name_next = in_layers = in_entry = False
    for i in range(0, len(lines) - 1, 2):
        code, value = lines[i].strip(), lines[i + 1].strip()
        if code == "0":
            table_name_next = value == "TABLE"
            if value in ("TABLE", "ENDTAB"):
                in_layers = False
            in_entry = in_layers and value == "LAYER"
        elif code == "2" and table_name_next:
            in_layers, table_name_next = value == "LAYER", False
        elif code == "2" and in_entry:
            names.append(_unescape(value))
            in_entry = False
    return tuple(dict.fromkeys(names))


def _unescape(s: str) -> str:
    """Decode AutoCAD's ``\\U+XXXX`` and ``\\M+nXXXX`` escapes."""
    if "\\" not in s:
        return s

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        try:
            return bytes.fromhex(m.group(3)).decode(_MIF_CODECS[m.group(2)])
        except UnicodeDecodeError:
            return m.group(0)

    out = _ESCAPE.sub(one, s)
    return out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean_text(s: object) -> str | None:
    """A TEXT / MTEXT value as one line: escapes decoded, breaks between CJK dropped."""
    if not isinstance(s, str):
        return None
    s = _CJK_LINE_BREAK.sub("", _unescape(s).replace("\r", ""))
    s = " ".join(s.split())
    return s or None


# ---------------------------------------------------------------------------------------------
# Entities


def _read_entities(src: _Source) -> tuple[pd.DataFrame, list[str]]:
    """Model- and paper-space entities, one row each, with kind, 2D geometry and label text."""
    opts = {"INLINE_BLOCKS": "FALSE", "CLOSED_LINE_AS_POLYGON": "FALSE",
            "ENCODING": src.gdal_encoding}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gdf = pyogrio.read_dataframe(src.path, layer="entities", columns=_COLUMNS, **opts)
        except Exception as exc:  # GDAL's errors, or bytes it passed through undecoded
            msg = str(exc)
            m = re.search(r"error at line \d+", msg)
            raise InputError(f"{src.path}: cannot be read as DXF "
                             f"({m.group(0) if m else msg.splitlines()[0][:200]})") from None
    notes = [f"GDAL: {w.message}" for w in caught]
    geoms = shapely.force_2d(np.asarray(gdf.geometry.array, dtype=object))
    sub = gdf["SubClasses"].fillna("").astype(str)
    conds = [sub.str.contains(pattern, regex=True).to_numpy() for _, pattern in _KINDS]
    gtype = shapely.get_type_id(geoms)
    has_text = gdf["Text"].notna().to_numpy()
    fallback = np.select(  # no subclass markers (R12): judge by the geometry
        [(gtype == 0) & has_text, gtype == 0, np.isin(gtype, [1, 2]), np.isin(gtype, [3, 6])],
        ["text", "point", "polyline", "polygon"], "entity")
    other = sub.str.rsplit(":", n=1).str[-1].str.removeprefix("AcDb").str.lower().to_numpy()
    kind = np.select(conds, [k for k, _ in _KINDS], np.where(sub.to_numpy() == "", fallback, other))
    handle = gdf["EntityHandle"].astype(object).where(gdf["EntityHandle"].notna(), None)
    composite = handle.notna() & handle.duplicated(keep=False)  # a dimension's parts
    is_text = kind == "text"
    text = [_clean_text(t) if k else None for t, k in zip(gdf["Text"], is_text, strict=True)]
    attrs = gdf["BlockAttributes"]
    ents = pd.DataFrame({
        "layer": [_unescape(str(v)) for v in gdf["Layer"].fillna("0")],
        "paper": gdf["PaperSpace"].fillna(0).astype(bool).to_numpy(),
        "kind": kind,
        "handle": handle.to_numpy(dtype=object),
        "composite": composite.to_numpy(),
        "text": pd.Series(text, dtype=object),
        "attr_name": [_attribute_name(a) for a in attrs],
    })
    ents["geom"] = geoms
    return ents, notes


def _attribute_name(values: object) -> str | None:
    """The name a block insert's attributes give (GDAL lists them as ``"TAG value"``)."""
    if values is None or (isinstance(values, float) and np.isnan(values)):
        return None
    pairs = [(tag.upper(), _clean_text(val)) for tag, _, val in
             (str(v).partition(" ") for v in values)]
    pairs = [(t, v) for t, v in pairs if v]
    named = [v for t, v in pairs if t in NAME_TAGS]
    if named:
        return named[0]
    return pairs[0][1] if len(pairs) == 1 else None


def _count_layers(src: _Source, ents: pd.DataFrame) -> dict[str, int]:
    """CAD layer -> entity count: table layers first, then layers only entities name."""
    keyed = ents[ents["handle"].notna()].drop_duplicates(["layer", "handle"])
    counts = pd.concat([keyed["layer"], ents.loc[ents["handle"].isna(), "layer"]]).value_counts()
    out = {name: 0 for name in src.table_layers}
    for name in ents["layer"]:
        out.setdefault(name, 0)
    for name, n in counts.items():
        out[str(name)] = int(n)
    return out


def list_dxf_layers(path: str | Path, *, encoding: str | None = None) -> dict[str, int]:
    """List the CAD layers of a DXF file with their entity counts.

    Parameters
    ----------
    path : an ASCII or binary DXF file.
    encoding : the text encoding to read the file with (a Python codec name such as ``gbk``);
        by default it follows the DXF version and ``$DWGCODEPAGE`` (see the module docstring).

    Returns
    -------
    dict
        Layer name as stored -> number of entities on it (model and paper space; a dimension
        counts once). Layers of the layer table come first, in table order, empty ones with 0.
    """
    src = _open(path, encoding)
    ents, _notes = _read_entities(src)
    return _count_layers(src, ents)


# ---------------------------------------------------------------------------------------------
# Mapping and CRS


def _parse_crs(src_crs: str | CRS | None, p: Path) -> CRS:
    if src_crs is None or (isinstance(src_crs, str) and not src_crs.strip()):
        raise CRSError(f"{p}: {NO_SRC_CRS}")
    try:
        return CRS.from_user_input(src_crs)
    except ProjCRSError:
        raise CRSError(f"{p}: --src-crs {src_crs!r} is not a CRS pyproj knows") from None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _resolve(mapping: dict[str, str], cad_layers: dict[str, int], p: Path) -> dict[str, str]:
    """Stored CAD layer name -> role (roles already checked). Names match ignoring case, as
    AutoCAD matches them."""
    listing = ", ".join(repr(n) for n in list(cad_layers)[:200]) + (
        f" ... ({len(cad_layers)} in all)" if len(cad_layers) > 200 else "")
    if not mapping:
        raise InputError(f"{p}: no CAD layer is mapped to a geocheck role; the file's layers "
                         f"are: {listing}")
    by_case: dict[str, list[str]] = {}
    for name in cad_layers:
        by_case.setdefault(name.casefold(), []).append(name)
    out: dict[str, str] = {}
    for cad, role in mapping.items():
        names = by_case.get(cad.casefold())
        if not names:
            near = [n for n in cad_layers if _fold(n) == _fold(cad)]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputError(f"{p}: CAD layer {cad!r} is not in the file{hint}; its layers "
                             f"are: {listing}")
        for name in names:
            if out.get(name, role) != role:
                raise InputError(f"{p}: CAD layer {name!r} is mapped to both {out[name]!r} "
                                 f"and {role!r}")
            out[name] = role
    return out


# ---------------------------------------------------------------------------------------------
# Building the role frames


@dataclass
class _Role:
    """One role's rows while they are built; positions index the role's entities."""

    name: str
    rows: pd.DataFrame  # the role's model-space entities, file order
    geom: np.ndarray  # feature geometry or None
    problem: np.ndarray  # reason text or None
    label: np.ndarray  # label text or None
    used: np.ndarray  # bool: a text used as a label


def _problem_reason(kind: str, closed: bool, gap: float, want: frozenset[str]) -> str:
    need = {frozenset({POLYGON}): "not a closed boundary",
            frozenset({POINT}): "not a point, block insert or circle",
            }.get(want, "neither a closed boundary nor a point, block insert or circle")
    if kind in ("polyline", "spline", "ellipse"):
        if closed:
            return f"closed {kind}, {need}"
        ends = f" (its ends are {gap:.3g} m apart)" if gap > 0 else ""
        return f"open {kind}, {need}{ends}"
    return f"{kind}, {need}"


def _features(rows: pd.DataFrame, want: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Feature geometries (None where the entity is unusable) and the reasons for the rest."""
    geoms = rows["geom"].to_numpy(dtype=object)
    kind = rows["kind"].to_numpy(dtype=object)
    gtype = shapely.get_type_id(geoms)
    gap = shapely.distance(shapely.get_point(geoms, 0), shapely.get_point(geoms, -1))
    closed = (gtype == 1) & (shapely.get_num_points(geoms) >= 4) & (gap <= CLOSE_TOLERANCE)
    poly = np.full(len(geoms), None, dtype=object)
    if closed.any():
        coords, index = shapely.get_coordinates(geoms[closed], return_index=True)
        poly[closed] = shapely.polygons(shapely.linearrings(coords, indices=index))
    polygonal = np.isin(gtype, [3, 6])
    poly[polygonal] = geoms[polygonal]
    point = np.where(np.isin(kind, ["point", "block insert"]) & (gtype == 0), geoms, None)
    circle = (kind == "circle") & closed
    point[circle] = shapely.centroid(poly[circle])
    out = np.full(len(geoms), None, dtype=object)
    if POINT in want:
        out = np.where(np.isin(kind, list(_POINTLIKE)), point, out)
    if POLYGON in want:
        out = np.where(pd.isna(out), poly, out)
    composite = rows["composite"].to_numpy()
    out[composite | (kind == "text")] = None
    reasons = np.full(len(geoms), None, dtype=object)
    for i in np.flatnonzero(pd.isna(out) & (kind != "text")):
        if composite[i]:
            reasons[i] = f"part of a dimension or other composite entity ({kind[i]})"
        elif geoms[i] is None:
            reasons[i] = f"{kind[i]} that GDAL could not turn into a geometry"
        else:
            reasons[i] = _problem_reason(str(kind[i]), bool(closed[i]), float(gap[i]), want)
    return out, reasons


def _entity_ref(layer: str, handle: object, pos: int) -> str:
    ref = f"entity handle {handle}" if handle is not None else f"entity #{pos + 1}"
    return f"CAD layer {layer}, {ref}"


def _feature_id(handle: object, pos: int) -> str:
    return f"DXF-{handle}" if handle is not None else f"DXF-#{pos + 1}"


def _drop_same_outlines(role: _Role) -> None:
    """Keep one of each outline drawn twice in a role (e.g. a hatch over its boundary)."""
    idx = np.flatnonzero(np.isin(shapely.get_type_id(role.geom), [3, 6]))
    if len(idx) < 2:
        return
    polys = role.geom[idx]
    a, b = shapely.STRtree(polys).query(polys, predicate="intersects")
    area, valid = shapely.area(polys), shapely.is_valid(polys)
    big = np.maximum(area[a], area[b])
    # cheap tests first; overlay only valid pairs (a bow-tie polyline would make GEOS raise)
    keep = (a < b) & (np.abs(area[a] - area[b]) <= SAME_OUTLINE_SHARE * big) & valid[a] & valid[b]
    a, b, big = a[keep], b[keep], big[keep]
    sym = shapely.area(shapely.symmetric_difference(polys[a], polys[b]))
    same = sym <= SAME_OUTLINE_SHARE * big
    rows = role.rows
    for i, j in zip(idx[a[same]], idx[b[same]], strict=True):
        if role.geom[i] is None or role.geom[j] is None:
            continue
        role.geom[j] = None
        role.problem[j] = (f"same outline as {rows['kind'].iat[i]} "
                           f"{_feature_id(rows['handle'].iat[i], rows['pos'].iat[i])} "
                           f"(drawn twice); kept once")


def _assign_labels(role: _Role, want: frozenset[str]) -> None:
    """Give each feature the only text inside it (polygons) or nearest to it (points)."""
    rows = role.rows
    texts = np.flatnonzero(rows["kind"].to_numpy() == "text")
    value = rows["text"].to_numpy(dtype=object)
    attr = rows["attr_name"].to_numpy(dtype=object)
    has_attr = pd.notna(attr) & pd.notna(role.geom)
    role.label = np.where(has_attr, attr, None)
    gtype = shapely.get_type_id(role.geom)
    polys, points = np.flatnonzero(np.isin(gtype, [3, 6])), np.flatnonzero(gtype == 0)
    ids = [_feature_id(h, p) for h, p in zip(rows["handle"], rows["pos"], strict=True)]
    for t in texts[pd.isna(value[texts])]:
        role.problem[t] = "empty text"
    texts = texts[pd.notna(value[texts])]
    text_pts = rows["geom"].to_numpy(dtype=object)
    owner = np.full(len(rows), -1)
    if len(texts) and len(polys):
        ti, pj = shapely.STRtree(role.geom[polys]).query(text_pts[texts], predicate="within")
        owner[texts[ti]] = polys[pj]  # a text inside nested polygons goes to one of them
    loose = texts[owner[texts] < 0]
    if len(loose) and len(points):
        ti, pj = shapely.STRtree(role.geom[points]).query_nearest(
            text_pts[loose], max_distance=LABEL_DISTANCE, all_matches=False)
        owner[loose[ti]] = points[pj]
    per_owner = np.bincount(owner[texts][owner[texts] >= 0], minlength=len(rows))
    nowhere = " and ".join(
        ([f"inside no {role.name} boundary"] if POLYGON in want else [])
        + ([f"within {LABEL_DISTANCE:g} m of no {role.name} point"] if POINT in want else []))
    for t in texts:
        o, text = owner[t], value[t]
        if o < 0:
            role.problem[t] = f"text {text!r} lies {nowhere}"
            continue
        where = "inside" if gtype[o] != 0 else "nearest to"
        if has_attr[o]:
            if text == attr[o]:
                role.used[t] = True
            else:
                role.problem[t] = (f"text {text!r} is {where} {role.name} feature {ids[o]}, "
                                   f"which its block attribute already names {attr[o]!r}")
        elif per_owner[o] == 1:
            role.label[o], role.used[t] = text, True
        else:
            role.problem[t] = (f"text {text!r} is one of {per_owner[o]} texts {where} "
                               f"{role.name} feature {ids[o]}, so none labels it")


def _frame(role: _Role, crs: CRS) -> gpd.GeoDataFrame:
    """The role's GeoDataFrame: features and unusable entities, texts used as labels left out."""
    spec = ROLES[role.name]
    rows = role.rows
    keep = ~role.used
    # one problem row per composite entity (a dimension's parts share its handle)
    part = rows["composite"].to_numpy() & pd.isna(role.geom)
    keep &= ~(part & rows.duplicated(["layer", "handle"]).to_numpy())
    sub = rows[keep]
    ids = np.array([_feature_id(h, p) for h, p in zip(sub["handle"], sub["pos"], strict=True)],
                   dtype=object)
    label = role.label[keep]
    data: dict[str, object] = {f: np.full(len(sub), None, dtype=object) for f in spec.fields}
    data[spec.id_field] = ids
    if "name" in spec.fields:
        data["name"] = label
    else:
        data["cad_text"] = label
    if role.name == "estates":
        names = pd.Series(label, dtype=object)
        unique = names.notna() & ~names.duplicated(keep=False)
        data["estate_id"] = np.where(unique.to_numpy(), label, ids)
    refs = [_entity_ref(lay, h, p) for lay, h, p in zip(sub["layer"], sub["handle"], sub["pos"],
                                                        strict=True)]
    problem = [None if r is None else f"{ref}: {r}" for ref, r in
               zip(refs, role.problem[keep], strict=True)]
    data.update({"cad_layer": sub["layer"].to_numpy(dtype=object),
                 "cad_handle": sub["handle"].to_numpy(dtype=object),
                 "cad_entity": sub["kind"].to_numpy(dtype=object),
                 "source_problem": np.array(problem, dtype=object)})
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=list(role.geom[keep]), crs=crs)


def _n(n: int, noun: str) -> str:
    """``1 text``, ``2 texts``, ``2 entities``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _need(want: frozenset[str]) -> str:
    return {frozenset({POLYGON}): "closed polylines, circles or hatches",
            frozenset({POINT}): "points, block inserts or circles"}.get(
        want, "points, block inserts, circles, closed polylines or hatches")


def _check_usable(roles: dict[str, _Role], layer_role: dict[str, str], ents: pd.DataFrame,
                  src: _Source) -> None:
    """Raise InputError for a mapped CAD layer none of whose entities could be used."""
    usable: dict[str, int] = dict.fromkeys(layer_role, 0)
    for role in roles.values():
        good = pd.notna(role.geom) | role.used
        for layer, n in role.rows.loc[good, "layer"].value_counts().items():
            usable[str(layer)] += int(n)
    for layer, n in usable.items():
        if n:
            continue
        role = layer_role[layer]
        on = ents[ents["layer"] == layer]
        model = on[~on["paper"]]
        paper = f"; {int(on['paper'].sum())} in paper space" if on["paper"].any() else ""
        if model.empty:
            raise InputError(f"{src.path}: CAD layer {layer!r} (mapped to {role}) has no "
                             f"entities in model space{paper}{_in_blocks(src, layer)}")
        once = model[~(model["handle"].notna() & model.duplicated(["handle"]))]
        kinds = once["kind"].where(~once["composite"], "dimension part").value_counts()
        have = ", ".join(_n(int(n), str(k)) for k, n in kinds.items())
        raise InputError(f"{src.path}: CAD layer {layer!r} (mapped to {role}) has no usable "
                         f"entity: {have} ({role} needs {_need(frozenset(ROLES[role].geometry))}"
                         f"){paper}")


def _in_blocks(src: _Source, layer: str) -> str:
    """A hint when the layer's entities sit inside block definitions (an unexploded plan)."""
    opts = {"INLINE_BLOCKS": "FALSE", "MERGE_BLOCK_GEOMETRIES": "FALSE",
            "ENCODING": src.gdal_encoding}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blocks = pyogrio.read_dataframe(src.path, layer="blocks", columns=["Layer"],
                                            read_geometry=False, **opts)
    except Exception:  # the hint is optional
        return ""
    n = int((blocks["Layer"].fillna("").map(_unescape) == layer).sum())
    return (f"; {_n(n, 'entity')} on it {'lies' if n == 1 else 'lie'} inside block "
            "definitions, which geocheck does not read (explode the blocks in CAD)") if n else ""


def _check_crs_fits(crs: CRS, frames: dict[str, gpd.GeoDataFrame], p: Path) -> None:
    if not crs.is_geographic:
        return
    geoms = np.concatenate([f.geometry.to_numpy() for f in frames.values()])
    geoms = geoms[pd.notna(geoms)]
    if not len(geoms):
        return
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90:
        raise CRSError(f"{p}: --src-crs {crs.name} is geographic (degrees) but the plan's "
                       f"coordinates reach x {max(abs(x0), abs(x1)):.0f}, "
                       f"y {max(abs(y0), abs(y1)):.0f}, which are metres; give the projected "
                       "CRS it was drawn in, e.g. EPSG:4545 for CGCS2000 3-degree zone CM 108E")


def _name_hint(frame: gpd.GeoDataFrame, ents: pd.DataFrame, layer_role: dict[str, str]) -> str:
    """Where estate names may be: unmapped layers with texts inside the estates."""
    polys = frame.geometry.to_numpy()
    polys = polys[pd.notna(polys)]
    texts = ents[(ents["kind"] == "text") & ~ents["paper"]
                 & ~ents["layer"].isin(list(layer_role))]
    if not len(polys) or texts.empty:
        return ""
    ti, _ = shapely.STRtree(polys).query(texts["geom"].to_numpy(), predicate="within")
    layers = texts["layer"].iloc[np.unique(ti)].value_counts()
    if layers.empty:
        return ""
    where = ", ".join(f"{name!r} ({n} text{'s' if n > 1 else ''})" for name, n in layers.items())
    return (f"; texts inside the estate boundaries are on unmapped CAD layer(s) {where}: "
            "map one to estates to name them")


def read_dxf(path: str | Path, mapping: dict[str, str], src_crs: str | CRS | None, *,
             encoding: str | None = None) -> DxfImport:
    """Read the mapped CAD layers of a DXF site plan into geocheck role layers.

    Parameters
    ----------
    path : an ASCII (or binary) DXF file; a DWG, or a DWG renamed .dxf, is refused.
    mapping : CAD layer name -> geocheck role, e.g. ``{"用地红线": "estates", "建筑":
        "buildings", "小区名称": "estates"}``; several CAD layers may map to one role. Names
        match ignoring case, as in AutoCAD. Texts on a layer mapped to a role label that role's
        features (see the module docstring).
    src_crs : the CRS the plan is drawn in, e.g. ``"EPSG:4545"`` (CGCS2000 3-degree
        Gauss-Kruger CM 108E, metres). Required: a DXF has none.
    encoding : the text encoding to read the file with (a Python codec name such as ``gbk``);
        by default it follows the DXF version and ``$DWGCODEPAGE``.

    Returns
    -------
    DxfImport
        One GeoDataFrame per mapped role in ``src_crs`` (coordinates as drawn, in metres for a
        projected CRS in metres), with unusable entities kept as rows without geometry.

    Raises
    ------
    InputError
        For a DWG, an unreadable or wrongly encoded file, an unknown role, a mapped CAD layer
        that is not in the file or has no usable entity; :class:`CRSError` (an InputError) for a
        missing or unknown ``src_crs``, or a geographic one while the plan is drawn in metres.
    """
    p = check_local_file(path)
    _refuse_dwg(p)
    for cad, role in mapping.items():
        if role not in ROLES:
            raise InputError(f"{p}: {role!r} (mapped from CAD layer {cad!r}) is not a geocheck "
                             f"role; roles are: {', '.join(ROLES)}")
    crs = _parse_crs(src_crs, p)
    src = _open(p, encoding)
    ents, gdal_notes = _read_entities(src)
    ents["pos"] = np.arange(len(ents))
    cad_layers = _count_layers(src, ents)
    layer_role = _resolve(mapping, cad_layers, p)
    notes = [*src.notes, *gdal_notes]
    if src.insunits in _INSUNITS:
        notes.append(f"the drawing's units ($INSUNITS) are {_INSUNITS[src.insunits]}; "
                     f"coordinates are taken as they stand, in the units of {crs.name}")
    roles: dict[str, _Role] = {}
    for role_name in dict.fromkeys(mapping.values()):
        mine = ents["layer"].map(layer_role).eq(role_name).to_numpy()
        paper = mine & ents["paper"].to_numpy()
        for layer, n in ents.loc[paper, "layer"].value_counts().items():
            notes.append(f"CAD layer {layer}: {_n(int(n), 'paper-space entity')} ignored "
                         "(geocheck reads model space)")
        rows = ents[mine & ~ents["paper"].to_numpy()].reset_index(drop=True)
        want = frozenset(ROLES[role_name].geometry)
        geom, problem = _features(rows, want)
        role = _Role(role_name, rows, geom, problem, np.full(len(rows), None, dtype=object),
                     np.zeros(len(rows), dtype=bool))
        _drop_same_outlines(role)
        _assign_labels(role, want)
        roles[role_name] = role
    _check_usable(roles, layer_role, ents, src)
    layers = {name: _frame(role, crs) for name, role in roles.items()}
    _check_crs_fits(crs, layers, p)
    for name, frame in layers.items():
        bad = int(frame.geometry.isna().sum())
        used = int(roles[name].used.sum())
        line = (f"{name}: {_n(len(frame) - bad, 'feature')}, {_n(bad, 'unusable entity')} "
                f"kept without geometry, {_n(used, 'text')} used as labels")
        if name == "estates" and frame["name"].isna().all():
            line += "; no estate got a name" + _name_hint(frame, ents, layer_role)
        notes.append(line)
    return DxfImport(layers=layers, counts={n: len(f) for n, f in layers.items()}, notes=notes,
                     cad_layers=cad_layers)
