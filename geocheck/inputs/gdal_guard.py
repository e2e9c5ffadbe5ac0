"""What geocheck lets GDAL open: regular local files, in the formats geocheck means to read,
never anything on the network.

Some GDAL formats are not data but pointers to data: a VRT file names other files, connection
strings and URLs (``CSV:/etc/passwd``, ``/vsicurl/http://...``) and GDAL reads them when the VRT
is opened; a GDAL streamed algorithm (``.gdalg.json``) runs a GDAL pipeline on other files; an
SQLite database's VirtualOGR tables open any dataset they name; a GeoJSON ``crs`` of type
``link`` is fetched over HTTP. A file handed to geocheck must never make it read or fetch
something else, so three guards stand between users' files and GDAL:

1. Before GDAL sees a file (:func:`vet`): it must be a regular local file named by a plain path
   (:func:`check_local_file`), and its bytes must not be one of those pointer formats
   (:func:`refuse_pointers`), whatever its name.
2. The driver GDAL opens it with must be one of :data:`READ_DRIVERS`.
3. For the whole process, once, when this module is first imported (:func:`seal_gdal`): GDAL's
   network file systems (``/vsicurl/``, ``/vsis3/``, ``/vsigs/``, ``/vsiaz/`` ...) refuse every
   path before any request, its HTTP client is pointed at a proxy socket that does not exist,
   and the drivers that exist to read other datasets (:data:`POINTER_DRIVERS`) are
   deregistered. Child processes reading files with GDAL take the same settings from
   :func:`gdal_env`.

Every refusal is an :class:`~geocheck.core.errors.InputError` of one line naming the file, what
it is and what to do instead.
"""

from __future__ import annotations

import mmap
import os
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pyogrio

from ..core.errors import InputError

READ_DRIVERS: dict[str, str] = {
    "GPKG": "GeoPackage",
    "ESRI Shapefile": "Shapefile",
    "GeoJSON": "GeoJSON",
    "FlatGeobuf": "FlatGeobuf",
    "KML": "KML",
    "LIBKML": "KML",
    "DXF": "DXF",
    "OSM": "OpenStreetMap",
}
"""GDAL driver -> format, for every driver geocheck lets open a user's file. None of them reads
another file or URL named inside the file (checked against GDAL 3.12: a KML NetworkLink or
styleUrl is not followed; a GeoJSON ``crs`` link is, and is refused by :func:`refuse_pointers`).
CSV and Excel point lists are read with pandas, not GDAL."""

READABLE = ("GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML, DXF and OpenStreetMap files, "
            "and CSV/Excel point lists")
"""What geocheck reads, as said in its messages."""

POINTER_DRIVERS = ("OGR_VRT", "GDALG", "SQLite")
"""GDAL drivers whose files read other datasets or URLs (VRT sources, streamed algorithms,
SQLite VirtualOGR tables): deregistered for the process by :func:`seal_gdal`. GeoPackages are
read by the GPKG driver, which does not provide VirtualOGR."""

NETWORK_OFF: dict[str, str] = {
    # every /vsicurl/-based file system (/vsicurl/, /vsicurl_streaming/, /vsis3/, /vsigs/,
    # /vsiaz/, /vsiadls/, /vsioss/, /vsiswift/, /vsiwebhdfs/) accepts only names ending so:
    # none does, and the name is refused before any request is made
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geocheck-network-off",
    # GDAL's HTTP client (a GeoJSON crs link, the HTTP driver) goes through a SOCKS proxy on a
    # Unix socket that does not exist: the request fails without leaving the process
    "GDAL_HTTP_PROXY": "socks5h://localhost/nonexistent/geocheck-network-off.sock",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GML_DOWNLOAD_SCHEMA": "NO",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
}
"""GDAL configuration that keeps GDAL off the network, set for the whole process."""

_TABLE_DRIVERS = ("CSV", "XLSX", "ODS")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")

_SNIFF_BYTES = 65_536
"""How much of a file's start is looked at for a pointer format (GDAL looks at 1,024 bytes)."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
"""SQLite application_id (bytes 68-71) of a GeoPackage, current and GeoPackage 1.0 / 1.1."""

_VRT = re.compile(rb"<\s*(?:OGRVRTDataSource|VRTDataset)\b", re.IGNORECASE)
_GDALG = re.compile(rb"gdal_streamed_alg", re.IGNORECASE)
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_CRS_LINK = re.compile(r'"type"\s*:\s*"link"', re.IGNORECASE)
_HREF = re.compile(r'"href"\s*:\s*"([^"]*)"', re.IGNORECASE)


def check_local_file(path: str | Path) -> Path:
    """Return ``path`` as a Path if it is an existing regular local file, else raise InputError.

    GDAL dataset strings (``/vsicurl/...``, ``CSV:...``, inline JSON or VRT text) are refused.
    """
    text = str(path)
    if text.startswith("/vs") or text.lstrip().startswith(("{", "<")) or (
        ":" in text.split("/")[0] and len(text.split(":")[0]) > 1
    ):
        raise InputError(f"{text[:80]!r} is not a local file path; geocheck opens only regular "
                         "local files")
    p = Path(text)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a regular file")
    return p


@dataclass(frozen=True)
class Vetted:
    """A file GDAL may read: a regular local file, no pointer format, opened by ``driver``.

    Attributes
    ----------
    path : the file.
    driver : the GDAL driver that opens it, one of :data:`READ_DRIVERS`.
    """

    path: Path
    driver: str


def vet(path: str | Path, *, kind: str = "a GeoPackage or vector file",
        drivers: Collection[str] = tuple(READ_DRIVERS), unopened: str | None = None) -> Vetted:
    """Check that ``path`` may be read with GDAL, and with which driver.

    Parameters
    ----------
    path : the user's file.
    kind : what the caller expects, for the messages.
    drivers : the GDAL drivers the caller accepts (a subset of :data:`READ_DRIVERS`).
    unopened : what to say when GDAL cannot open the file at all (default: "cannot be opened
        as " and ``kind``); GDAL's reason follows in brackets.

    Returns
    -------
    Vetted
        The path and the driver GDAL opens it with.

    Raises
    ------
    InputError
        For a path that is not a regular local file, a pointer format (VRT, GDAL streamed
        algorithm, SQLite database that is not a GeoPackage, GeoJSON with a ``crs`` link), a
        file GDAL cannot open, or one GDAL opens with a driver outside ``drivers``.
    """
    p = check_local_file(path)
    refuse_pointers(p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            driver = str(pyogrio.read_info(p, layer=0)["driver"])
    except Exception as exc:  # pyogrio raises several types for files it cannot open
        reason = _one_line(exc).replace(f"'{p}' ", "")
        if p.suffix.lower() in _TABLE_SUFFIXES:
            driver = "CSV"  # a table GDAL cannot even list (e.g. GBK text): said as one
        else:
            raise InputError(f"{p}: {unopened or f'cannot be opened as {kind}'} "
                             f"({reason})") from None
    if driver in drivers:
        return Vetted(p, driver)
    if driver in READ_DRIVERS:
        raise InputError(f"{p}: GDAL reads it as {driver} data ({READ_DRIVERS[driver]}), not "
                         f"as {kind}")
    if driver in _TABLE_DRIVERS:
        raise InputError(f"{p}: a table; geocheck reads CSV and Excel point lists itself, "
                         "not with GDAL: give it to `geocheck import file` or name it in a "
                         "project file")
    raise InputError(f"{p}: GDAL reads it as {driver} data, a format geocheck does not open; "
                     f"geocheck reads {READABLE}: convert it with ogr2ogr (e.g. ogr2ogr -f GPKG "
                     f"out.gpkg {p.name})")


def refuse_pointers(p: Path) -> None:
    """Raise InputError if the bytes of local file ``p`` are a format that reads other files or
    URLs, whatever the file is called; return None otherwise. Nothing but ``p`` is read."""
    with p.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    advice = (f"geocheck reads only {READABLE}: once you trust what it reads, convert the data "
              f"with ogr2ogr (e.g. ogr2ogr -f GPKG out.gpkg {p.name})")
    name = p.name.lower()
    if _VRT.search(head) or name.endswith(".vrt"):
        raise InputError(f"{p}: a GDAL VRT file: VRT files can point at other files and URLs, "
                         f"so geocheck does not open them; {advice}")
    if _GDALG.search(head) or name.endswith(".gdalg.json"):
        raise InputError(f"{p}: a GDAL streamed algorithm (.gdalg.json): it runs GDAL commands "
                         f"on other files and URLs, so geocheck does not open it; {advice}")
    if head.startswith(_SQLITE_MAGIC) and head[68:72] not in _GPKG_APPLICATION_IDS:
        raise InputError(f"{p}: an SQLite database that is not a GeoPackage: its tables can "
                         f"read other files (VirtualOGR), so geocheck does not open it; {advice}")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n\x1e")[:1] in (b"{", b"["):
        href = _crs_link(p)
        if href is not None:
            raise InputError(f"{p}: its \"crs\" is a link to {href[:80]!r}, which geocheck does "
                             "not fetch: remove the crs member (GeoJSON is WGS 84 longitude/"
                             "latitude) or name the CRS, e.g. \"urn:ogc:def:crs:EPSG::4490\"")


def _crs_link(p: Path) -> str | None:
    """The href of a JSON file's ``"type": "link"`` CRS (GDAL fetches it), else None."""
    if p.stat().st_size == 0:
        return None
    with p.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if not re.search(rb"(?i)link|\\u", m):  # fast path: most files say neither
            return None
        text = m[:].decode("utf-8", "replace")
    if "\\u" in text:  # JSON escapes spell keys and values as well as plain letters do
        text = _JSON_ESCAPE.sub(lambda g: chr(int(g.group(1), 16)), text)
    if not _CRS_LINK.search(text):
        return None
    found = _HREF.search(text)
    return found.group(1) if found else None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).split("; It might help", 1)[0]
    return text[:200] + ("..." if len(text) > 200 else "")


def _skip_list() -> str:
    """GDAL_SKIP: the user's own list and :data:`POINTER_DRIVERS`."""
    own = (pyogrio.get_gdal_config_option("GDAL_SKIP") or os.environ.get("GDAL_SKIP") or "")
    names = [n for n in re.split(r"[ ,]+", str(own)) if n]
    return " ".join(dict.fromkeys([*names, *POINTER_DRIVERS]))


def gdal_env() -> dict[str, str]:
    """The guard's GDAL settings as environment variables, for a child process reading a file
    with GDAL (GDAL reads configuration options from the environment too)."""
    return {**NETWORK_OFF, "GDAL_SKIP": _skip_list()}


def seal_gdal() -> None:
    """Keep GDAL off the network and without its pointer drivers, for the whole process.

    Sets :data:`NETWORK_OFF` and ``GDAL_SKIP`` (adding :data:`POINTER_DRIVERS` to the user's
    own) with :func:`pyogrio.set_gdal_config_options`, then has GDAL register its drivers again,
    which drops the skipped ones. Called once, when this module is first imported; calling it
    again does no harm. Files are vetted by bytes before GDAL sees them, so a GDAL build where
    drivers cannot be dropped is still guarded by :func:`refuse_pointers`.
    """
    pyogrio.set_gdal_config_options({**NETWORK_OFF, "GDAL_SKIP": _skip_list()})
    register = getattr(getattr(pyogrio, "_ogr", None), "_register_drivers", None)
    if callable(register):
        register()  # GDALAllRegister: drops the drivers named in GDAL_SKIP


seal_gdal()
