"""The DXF file itself: DWG refused, header and text encoding read, layer table and entities.

Text is decoded as :func:`geocheck.inputs.encodings.choose_dxf_codec` decides, and GDAL is told
that encoding with its ``ENCODING`` open option; ``\\U+XXXX`` and ``\\M+nXXXX`` escapes, which
GDAL leaves in texts and layer names, are decoded here.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from ...core.errors import InputError
from ..encodings import (
    DXF_UTF8_FROM,
    choose_dxf_codec,
    codec_label,
    dxf_codepage_codec,
    gdal_encoding,
    lookup_codec,
)
from ..gdal_guard import check_local_file, vet

NAME_TAGS = ("NAME", "名称", "站名", "名字")
"""Block attribute tags whose value names a block insert (the only attribute names it too)."""

DWG_ADVICE = ("DWG is a closed binary format geocheck cannot read; save the plan as DXF "
              "(AutoCAD: SAVEAS / DXFOUT), or convert it with ODA File Converter")

_MIF_CODECS = {"1": "cp932", "2": "cp950", "3": "cp949", "4": "johab", "5": "gbk"}

_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})|\\M\+([1-5])([0-9A-Fa-f]{4})")

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


# read without BlockName: GDAL 3.12 does not recode it, so a GBK block name fails to decode
_COLUMNS = ["Layer", "PaperSpace", "SubClasses", "EntityHandle", "Text", "BlockAttributes"]


@dataclass(frozen=True)
class Drawing:
    """A DXF file checked and sniffed: its text encoding and its layer table."""

    path: Path
    gdal_encoding: str  # the name GDAL's ENCODING open option takes, e.g. CP936
    table_layers: tuple[str, ...]
    insunits: int | None
    notes: tuple[str, ...]


def open_drawing(path: str | Path, encoding: str | None) -> Drawing:
    p = check_local_file(path)
    refuse_dwg(p)
    vet(p, kind="a DXF drawing", drivers=("DXF",), unopened="cannot be read as DXF")
    raw = p.read_bytes()
    if raw.startswith(b"AutoCAD Binary DXF"):
        return _binary(raw, encoding, p)
    version = _header_var(raw, "$ACADVER", "1")
    codepage = _header_var(raw, "$DWGCODEPAGE", "3")
    units = _header_var(raw, "$INSUNITS", "70")
    codec, text, note = choose_dxf_codec(raw, version, codepage, encoding, p)
    return Drawing(p, gdal_encoding(codec), _table_layers(text),
                   int(units) if units and units.strip().isdigit() else None, (note,))


def _binary(raw: bytes, encoding: str | None, p: Path) -> Drawing:
    """A binary DXF: the encoding follows the version and code page, unchecked."""
    found = {name: re.search(re.escape(name.encode()) + rb"\x00..([ -~]{1,40})\x00", raw[:200_000])
             for name in ("$ACADVER", "$DWGCODEPAGE")}
    version, codepage = (m.group(1).decode() if m else None for m in found.values())
    if encoding:
        codec = lookup_codec(encoding, p)
    elif (version or "").startswith("AC") and version >= DXF_UTF8_FROM:
        codec = "utf-8"
    else:
        codec = dxf_codepage_codec(codepage) or "cp1252"
    return Drawing(p, gdal_encoding(codec), (), None, (
        f"text read as {codec_label(codec)} ({version or 'unknown version'} binary DXF, "
        f"$DWGCODEPAGE {codepage or 'not set'}), unchecked in a binary file: if names look "
        "garbled, give the plan's encoding or save it as ASCII DXF",))


def refuse_dwg(p: Path) -> None:
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
            names.append(unescape(value))
            in_entry = False
    return tuple(dict.fromkeys(names))


def unescape(s: str) -> str:
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
    s = _CJK_LINE_BREAK.sub("", unescape(s).replace("\r", ""))
    s = " ".join(s.split())
    return s or None


def read_entities(src: Drawing) -> tuple[pd.DataFrame, list[str]]:
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
        "layer": [unescape(str(v)) for v in gdf["Layer"].fillna("0")],
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


def count_layers(src: Drawing, ents: pd.DataFrame) -> dict[str, int]:
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
    src = open_drawing(path, encoding)
    ents, _notes = read_entities(src)
    return count_layers(src, ents)

