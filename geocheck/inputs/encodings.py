"""Text encodings of users' files: decide how to decode, or refuse rather than garble.

Chinese GIS and CAD files come in UTF-8 or GBK, and rarely say which. A shapefile without
``.cpg`` or a CSV is decoded as UTF-8 when its bytes are valid UTF-8 (text in another code page
almost never is), and is otherwise refused, quoting how it would read as GBK, until the user
names its encoding (:func:`decode_check`, :func:`shapefile_encoding`). A DXF's text follows its
version and ``$DWGCODEPAGE``, which GDAL trusts even where AutoCAD wrote UTF-8
(:func:`choose_dxf_codec`).
"""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

import pandas as pd
import pyogrio

from ..core.errors import InputError

DXF_UTF8_FROM = "AC1021"
"""R2007: DXF text is UTF-8 from this version on."""
DXF_VERSIONS = {"AC1009": "R12", "AC1012": "R13", "AC1014": "R14", "AC1015": "R2000",
             "AC1018": "R2004", "AC1021": "R2007", "AC1024": "R2010", "AC1027": "R2013",
             "AC1032": "R2018"}
_GDAL_ENCODINGS = {"utf-8": "UTF-8", "gbk": "CP936", "iso8859-1": "ISO-8859-1",
                   "latin-1": "ISO-8859-1"}
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def decode_check(raw: bytes, what: str, given: str | None) -> str | None:
    """Decide how to decode ``raw`` text bytes; refuse rather than guess GBK silently.

    Returns the encoding to use (None: ASCII, any will do). Raises InputError when the bytes are
    not UTF-8 and no encoding was given, quoting how they read as GB18030.
    """
    if given:
        try:
            raw.decode(given)
        except LookupError:
            raise InputError(f"{what}: unknown encoding {given!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{what}: text is not valid {given} (byte {exc.start}); "
                             "check --encoding") from None
        return given
    if raw.isascii():
        return None
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(f"{what}: text is neither UTF-8 nor GBK/GB18030; give its encoding "
                         "with --encoding") from None
    words = [w for w in sample.split("\x00") if w and not w.isascii()][:3]
    shown = ", ".join(repr(w.strip()[:20]) for w in words) or repr(sample[:20])
    raise InputError(f"{what}: text is not UTF-8 and no encoding is declared; read as GBK it "
                     f"says {shown}. If that is right, give --encoding gbk (or put GBK in a "
                     ".cpg file beside a shapefile)")


def shapefile_encoding(path: Path, given: str | None, what: str) -> tuple[str | None, str]:
    """The encoding to read a shapefile's DBF with, and a note ('' when nothing to say)."""
    cpg = [p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".cpg"]
    if given:
        enc = given
    elif cpg:
        return None, ""
    else:
        info = pyogrio.read_info(path)
        if (info.get("encoding") or "").upper() not in ("ISO-8859-1", ""):
            return None, ""  # the DBF's language driver id names a code page: GDAL uses it
        enc = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw_df = pyogrio.read_dataframe(path, read_geometry=False, encoding="latin1")
    texts = [str(c) for c in raw_df.columns]
    for col in raw_df.columns:
        if raw_df[col].dtype == object or pd.api.types.is_string_dtype(raw_df[col]):
            texts.extend(raw_df[col].dropna().astype(str).unique().tolist())
    raw = "\x00".join(texts).encode("latin1", errors="replace")
    decided = decode_check(raw, f"{what}: shapefile without .cpg", enc)
    if decided == "utf-8" and not given:
        return "utf-8", f"{path.name}: no .cpg; its text is valid UTF-8 and was read as UTF-8"
    if given and not raw.isascii():
        words = [w for w in raw.decode(given).split("\x00") if not w.isascii()][:3]
        return decided, (f"{path.name}: text read as {given}, e.g. "
                         + ", ".join(repr(w[:20]) for w in words))
    return decided, ""


def lookup_codec(encoding: str, p: Path) -> str:
    """Python's name of the codec ``encoding`` (refused, naming the file ``p``, when unknown)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"{p}: {encoding!r} is not a text encoding Python knows "
                         "(e.g. gbk, utf-8, cp1252)") from None


def dxf_codepage_codec(codepage: str | None) -> str | None:
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


def gdal_encoding(codec: str) -> str:
    """The name GDAL's ENCODING open option takes for a Python codec (``gbk`` -> ``CP936``)."""
    return _GDAL_ENCODINGS.get(codec, codec.upper().replace("_", "-"))


def codec_label(codec: str) -> str:
    """How a codec is named in notes and messages (``gbk`` -> ``GBK``)."""
    return {"utf-8": "UTF-8", "gbk": "GBK"}.get(codec, codec.upper())


def decode_or_none(raw: bytes, codec: str) -> str | None:
    """``raw`` decoded strictly with ``codec``, or None when it is not valid in it."""
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def first_bad_byte(raw: bytes, codec: str) -> str:
    """Where ``raw`` first fails to decode with ``codec``: "byte 0xB5 at line 12"."""
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return f"byte 0x{raw[exc.start]:02X} at line {line}"
    return "no bad byte"


def choose_dxf_codec(raw: bytes, version: str | None, codepage: str | None,
                  override: str | None, p: Path) -> tuple[str, str, str]:
    """Return ``(codec, decoded text, note)``; raise InputError rather than decode wrongly."""
    if override:
        codec = lookup_codec(override, p)
        text = decode_or_none(raw, codec)
        if text is None:
            raise InputError(f"{p}: text is not valid {codec_label(codec)} as asked "
                             f"({first_bad_byte(raw, codec)})")
        return codec, text, f"text read as {codec_label(codec)}, as asked"
    ver = (version or "").upper()
    this = f"this {ver} ({DXF_VERSIONS[ver]}) DXF" if ver in DXF_VERSIONS else "this DXF"
    declares = f"$DWGCODEPAGE {codepage}" if codepage else "no $DWGCODEPAGE"
    declared = dxf_codepage_codec(codepage)
    if raw.isascii():
        return declared or "cp1252", raw.decode("ascii"), "text is plain ASCII"
    utf8_era = ver.startswith("AC") and ver >= DXF_UTF8_FROM
    # UTF-8 first whatever the version: text in another code page is almost never valid UTF-8
    # (while UTF-8 Chinese often is valid GBK, read as mojibake)
    order = ["utf-8"] + ([declared] if declared not in (None, "cp1252", "utf-8") else [])
    for codec in order:
        text = decode_or_none(raw, codec)
        if text is None:
            continue
        if codec == "utf-8" and utf8_era:
            note = (f"text read as UTF-8: {this} stores text as UTF-8 whatever its "
                    f"{declares} says")
        elif codec == "utf-8":
            note = (f"text read as UTF-8 although {this} declares {declares}: the whole file "
                    "is valid UTF-8, as text in another code page almost never is")
        elif not utf8_era:
            note = f"text read as {codec_label(codec)}: {this} declares {declares}"
        else:
            label = codec_label(codec)
            note = (f"text read as {label} although {this} should store UTF-8: its "
                    f"text is not valid UTF-8 but is valid {label}, as {declares} says")
        return codec, text, note
    if declared not in (None, "cp1252"):
        tried = " nor ".join(codec_label(c) for c in order)
        raise InputError(f"{p}: text is neither valid {tried} ({this} declares {declares}; "
                         f"{first_bad_byte(raw, order[-1])} is not {codec_label(order[-1])}); "
                         "re-save the plan as DXF from CAD, or give its encoding")
    gbk = decode_or_none(raw, "gbk")
    if gbk is not None:
        foreign = len(_NON_ASCII.findall(gbk))
        if foreign and len(_CJK.findall(gbk)) >= 0.8 * foreign:
            return "gbk", gbk, (f"text read as GBK although {this} declares {declares}: its "
                                "non-ASCII text reads as Chinese only in GBK")
    codec = "cp1252" if decode_or_none(raw, "cp1252") is not None else "latin-1"
    return codec, raw.decode(codec), (
        f"text read as Windows-1252 (Western European): {this} declares {declares}; if names "
        "look garbled, give the plan's encoding (e.g. gbk)")
