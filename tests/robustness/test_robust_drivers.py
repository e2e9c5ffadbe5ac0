"""Files that point at other files or URLs are refused before GDAL reads them, and GDAL never
goes on the network: a VRT reading ``CSV:/etc/passwd`` or ``/vsicurl/http://...``, a GDAL
streamed algorithm (``.gdalg.json``), an SQLite database with a VirtualOGR table, a GeoJSON whose
``crs`` is a link, given to ``geocheck info``, ``check`` (a GeoPackage argument or a project
file's layer) and ``import file``.

Each refusal is exit code 2 with one line on stderr naming the file, no traceback; the tiny HTTP
server each test starts gets no request, and nothing of /etc/passwd or of a local secret file
reaches the output folder or the terminal.
"""

from __future__ import annotations

import http.server
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CRS, ROOT, estate, layer, rect, write_gpkg

from geocheck.cli import main

SECRET = "SECRET-7f3a"
"""A marker in a local file that a refused file points at: it must appear nowhere."""

PASSWD = Path("/etc/passwd")


class _Server:
    """A tiny HTTP server on 127.0.0.1 that records every request and answers with a GeoJSON
    point named like :data:`SECRET`."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits
        body = (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                b'{"name":"REMOTE-' + SECRET.encode() + b'"},"geometry":{"type":"Point",'
                b'"coordinates":[108.3,22.8]}}]}')

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer()

            def do_HEAD(self) -> None:
                self._answer()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _site(tmp_path: Path) -> Path:
    """A real GeoPackage with one estate, which a VRT may borrow its estates layer from."""
    return write_gpkg(tmp_path / "real.gpkg", {"estates": layer([estate("A", rect(0, 0, 100,
                                                                                  100))])})


def _secret_csv(tmp_path: Path) -> Path:
    path = tmp_path / "secret.csv"
    path.write_text(f"name,x,y\n{SECRET},540050,2523050\n", encoding="utf-8")
    return path


def _vrt_layers(tmp_path: Path, server: _Server, *, estates: bool) -> str:
    """VRT layers: bus stops named by the lines of /etc/passwd, rail stations from the secret
    CSV, schools from the test's HTTP server (and the estates from a real GeoPackage)."""
    column = PASSWD.read_text(encoding="utf-8").splitlines()[0]
    out = [f"""
  <OGRVRTLayer name="bus_stops">
    <SrcDataSource>CSV:{PASSWD}</SrcDataSource>
    <SrcSQL>SELECT "{column}" AS name, 'POINT (540050 2523050)' AS wkt FROM passwd</SrcSQL>
    <GeometryField encoding="WKT" field="wkt"/>
    <LayerSRS>{CRS}</LayerSRS>
  </OGRVRTLayer>
  <OGRVRTLayer name="rail_stations">
    <SrcDataSource>{_secret_csv(tmp_path)}</SrcDataSource>
    <SrcLayer>secret</SrcLayer>
    <GeometryField encoding="PointFromColumns" x="x" y="y"/>
    <LayerSRS>{CRS}</LayerSRS>
  </OGRVRTLayer>
  <OGRVRTLayer name="schools">
    <SrcDataSource>/vsicurl/{server.url}/schools.geojson</SrcDataSource>
  </OGRVRTLayer>"""]
    if estates:
        out.append(f"""
  <OGRVRTLayer name="estates"><SrcDataSource>{_site(tmp_path)}</SrcDataSource></OGRVRTLayer>""")
    return "".join(out)


def _vrt(path: Path, tmp_path: Path, server: _Server, *, estates: bool = True) -> Path:
    path.write_text(f"<OGRVRTDataSource>{_vrt_layers(tmp_path, server, estates=estates)}\n"
                    "</OGRVRTDataSource>\n", encoding="utf-8")
    return path


def _gdalg(path: Path, server: _Server) -> Path:
    path.write_text('{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! '
                    f'read /vsicurl/{server.url}/stops.geojson ! write --of stream '
                    'streamed_dataset", "relative_paths_relative_to_this_file": true}',
                    encoding="utf-8")
    return path


def _refused(code: int, err: str, path: Path, what: str) -> None:
    """Exit 2, one line on stderr naming the file and what it is, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert str(path) in err and what in err, err


def _leaks(*places: Path | str) -> list[str]:
    """Lines of /etc/passwd (and the secret marker) found in files under ``places`` or in text."""
    marks = [SECRET, *(line for line in PASSWD.read_text(encoding="utf-8").splitlines()
                       if line.count(":") >= 6)]
    found = []
    for place in places:
        if isinstance(place, Path):
            files = [p for p in place.rglob("*") if p.is_file()] if place.is_dir() else (
                [place] if place.exists() else [])
            texts = [p.read_bytes().decode("utf-8", "replace") for p in files]
        else:
            texts = [place]
        found += [m for m in marks for t in texts if m in t]
    return found


def test_info_refuses_a_vrt_and_reads_nothing_it_points_at(tmp_path, server, capsys) -> None:
    vrt = _vrt(tmp_path / "site.vrt", tmp_path, server)
    code = main(["info", str(vrt)])
    out, err = capsys.readouterr()
    assert server.hits == []
    _refused(code, err, vrt, "GDAL VRT")
    assert _leaks(out, err) == []


@pytest.mark.parametrize("name", ["site.vrt", "site.gpkg"])
def test_check_refuses_a_vrt_site_whatever_its_name(tmp_path, server, capsys, name) -> None:
    """A VRT handed to check, called .vrt or disguised as a GeoPackage: refused by its bytes."""
    vrt = _vrt(tmp_path / name, tmp_path, server)
    out_dir = tmp_path / "out"
    code = main(["check", str(vrt), "-o", str(out_dir), "-q"])
    out, err = capsys.readouterr()
    assert _leaks(out_dir, out, err) == []
    assert server.hits == []
    _refused(code, err, vrt, "VRT files can point at other files and URLs")


def test_check_refuses_a_gdal_streamed_algorithm(tmp_path, server, capsys) -> None:
    gdalg = _gdalg(tmp_path / "site.gdalg.json", server)
    code = main(["check", str(gdalg), "-o", str(tmp_path / "out"), "-q"])
    _out, err = capsys.readouterr()
    assert server.hits == []
    _refused(code, err, gdalg, "GDAL streamed algorithm")


@pytest.mark.parametrize("layer_file", ["stops.vrt", "stops.gdalg.json"])
def test_a_project_layer_that_points_elsewhere_is_refused(tmp_path, server, capsys,
                                                          layer_file) -> None:
    site = _site(tmp_path)
    stops = tmp_path / layer_file
    if layer_file.endswith(".vrt"):
        _vrt(stops, tmp_path, server, estates=False)
    else:
        _gdalg(stops, server)
    project = tmp_path / "project.toml"
    project.write_text(f'[layers.estates]\npath = "{site.name}"\n\n'
                       f'[layers.bus_stops]\npath = "{layer_file}"\n', encoding="utf-8")
    out_dir = tmp_path / "out"
    code = main(["check", str(project), "-o", str(out_dir), "-q"])
    out, err = capsys.readouterr()
    assert server.hits == []
    _refused(code, err, stops, "GDAL VRT" if layer_file.endswith(".vrt") else "GDAL streamed")
    assert _leaks(out_dir, out, err) == []


@pytest.mark.parametrize("name", ["stops.vrt", "stops.gdalg.json", "stops.dat"])
def test_import_file_refuses_pointer_files(tmp_path, server, capsys, name) -> None:
    """``stops.dat`` holds a VRT too: what a file is comes from its bytes, not its name."""
    src = tmp_path / name
    if name.endswith(".gdalg.json"):
        _gdalg(src, server)
    else:
        src.write_text(f"\n  <OGRVRTDataSource>{_vrt_layers(tmp_path, server, estates=False)}"
                       "</OGRVRTDataSource>", encoding="utf-8")
    out = tmp_path / "site.gpkg"
    code = main(["import", "file", str(src), "--role", "bus_stops", "--layer", "schools",
                 "-o", str(out)])
    stdout, err = capsys.readouterr()
    assert server.hits == []
    _refused(code, err, src, "GDAL")
    assert not out.exists()
    assert _leaks(stdout, err) == []


def test_import_file_into_an_output_that_is_a_vrt_is_refused(tmp_path, server, capsys) -> None:
    """The -o GeoPackage is opened to replace a layer in it: a VRT there is refused too."""
    target = _vrt(tmp_path / "site.gpkg", tmp_path, server)
    before = target.read_bytes()
    src = tmp_path / "stops.geojson"
    src.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {"name": "s"}, "geometry": {"type": "Point", '
                   '"coordinates": [108.3, 22.8]}}]}', encoding="utf-8")
    code = main(["import", "file", str(src), "--role", "bus_stops", "-o", str(target)])
    assert server.hits == [] and target.read_bytes() == before
    _refused(code, capsys.readouterr().err, target, "GDAL VRT")


def test_an_sqlite_database_with_a_virtual_ogr_table_is_refused(tmp_path, server,
                                                               capsys) -> None:
    """GDAL's SQLite driver opens the dataset a VirtualOGR table names; a GeoPackage does not
    offer VirtualOGR, so only real GeoPackages are let in."""
    db = tmp_path / "site.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE other (a)")
    con.execute("PRAGMA writable_schema = ON")
    con.execute("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES "
                "('table', 'bus_stops', 'bus_stops', 0, ?)",
                (f"CREATE VIRTUAL TABLE bus_stops USING VirtualOGR"
                 f"('/vsicurl/{server.url}/stops.geojson')",))
    con.commit()
    con.close()
    code = main(["info", str(db)])
    assert server.hits == []
    _refused(code, capsys.readouterr().err, db, "not a GeoPackage")


def test_a_format_geocheck_does_not_read_is_refused_naming_the_driver(tmp_path,
                                                                     capsys) -> None:
    """GML (which may name remote schemas) is not among the formats geocheck reads."""
    gml = tmp_path / "site.gml"
    gml.write_text(
        '<?xml version="1.0"?><ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" '
        'xmlns:gml="http://www.opengis.net/gml"><gml:featureMember><ogr:estates fid="e.0">'
        '<ogr:geometryProperty><gml:Point srsName="EPSG:4545"><gml:coordinates>540050,2523050'
        '</gml:coordinates></gml:Point></ogr:geometryProperty><ogr:estate_id>A</ogr:estate_id>'
        '</ogr:estates></gml:featureMember></ogr:FeatureCollection>', encoding="utf-8")
    for args in (["info", str(gml)], ["check", str(gml), "-o", str(tmp_path / "o"), "-q"]):
        code = main(args)
        _refused(code, capsys.readouterr().err, gml, "GDAL reads it as GML data")


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 300
         ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def test_gdal_stays_off_the_network_once_geocheck_is_imported(tmp_path, server) -> None:
    """Even a path that reaches GDAL directly makes no request: /vsicurl/, /vsis3/ pointed at
    the test's server, and a GeoJSON ``crs`` link (GDAL's HTTP client)."""
    linked = tmp_path / "linked.geojson"
    linked.write_text('{"type": "FeatureCollection", "crs": {"type": "link", "properties": '
                      f'{{"href": "{server.url}/crs.wkt", "type": "ogcwkt"}}}}, "features": []}}',
                      encoding="utf-8")
    code = (
        "import sys, warnings, pyogrio, geocheck\n"
        "warnings.simplefilter('ignore')\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        pyogrio.read_info(path)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    env = {"AWS_NO_SIGN_REQUEST": "YES", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
           "AWS_S3_ENDPOINT": server.url.removeprefix("http://")}
    proc = _run("-c", code, f"/vsicurl/{server.url}/a.geojson", "/vsis3/bucket/a.geojson",
                f"/vsicurl_streaming/{server.url}/b.geojson", str(linked), env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.split()[:3] == ["DataSourceError"] * 3
    assert server.hits == []


def test_a_geojson_crs_link_is_refused_even_where_no_proxy_would_let_it_out(tmp_path,
                                                                           server) -> None:
    """NO_PROXY lets GDAL's HTTP client past the proxy that keeps it offline, so a GeoJSON
    whose ``crs`` is a link is refused by its bytes (escaped letters included)."""
    src = tmp_path / "stops.geojson"
    src.write_text('{"type": "FeatureCollection", "crs": {"typ\\u0065": "l\\u0069nk", '
                   f'"properties": {{"href": "{server.url}/crs.wkt"}}}}, "features": '
                   '[{"type": "Feature", "properties": {"name": "s"}, "geometry": '
                   '{"type": "Point", "coordinates": [108.3, 22.8]}}]}', encoding="utf-8")
    out = tmp_path / "site.gpkg"
    proc = _run("-m", "geocheck", "import", "file", str(src), "--role", "bus_stops",
                "-o", str(out), env={"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    assert server.hits == [] and not out.exists()
    _refused(proc.returncode, proc.stderr, src, '"crs" is a link')



@pytest.mark.parametrize("command", ["dxf", "osm"])
def test_import_dxf_and_osm_refuse_a_vrt_named_as_their_format(tmp_path, server,
                                                               command) -> None:
    """Run as a process with a time limit: the unguarded read of such a VRT hangs on the URL."""
    src = tmp_path / ("plan.dxf" if command == "dxf" else "district.osm")
    name = "entities" if command == "dxf" else "points"  # the layer each importer reads
    src.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="{name}"><SrcDataSource>/vsicurl/'
                   f"{server.url}/x.geojson</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>",
                   encoding="utf-8")
    extra = ["--src-crs", CRS, "--map", "0=buildings"] if command == "dxf" else []
    proc = _run("-m", "geocheck", "import", command, str(src), *extra,
                "-o", str(tmp_path / "site.gpkg"), timeout=60)
    assert server.hits == []
    _refused(proc.returncode, proc.stderr, src, "GDAL VRT")
