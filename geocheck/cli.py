"""The command line: parse, call the public API, print, set the exit code.

Exit codes: 0 every finding passes or is not applicable; 1 some rule fails or lacks data;
2 bad input or usage, or outputs that cannot be written (one line on stderr, no traceback;
the output folder is then left as it was); 3 an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from .core.database import connect, is_database_url, redact
from .core.digest import hash_ahead
from .core.errors import GeocheckError
from .core.progress import Progress
from .core.roles import ROLES, FieldMap
from .core.site import Site
from .core.terminal import printable
from .core.units import DISTANCE_READINGS
from .core.version import VERSION
from .inputs.dxf import list_dxf_layers
from .inputs.importers import import_dxf, import_file, import_osm, parse_mapping
from .inputs.normalise import normalise
from .inputs.postgis import read_postgis
from .inputs.project import parse_project, read_project
from .inputs.read import check_local_file, describe_layers, read_layers
from .inputs.sources import Source
from .outdir import input_files, refuse_unsafe
from .pipeline import check
from .rules.diff import NEGATIVE
from .rules.packs.load import DEFAULT_PACK, load_pack, shipped_packs
from .rules.packs.model import Pack
from .rules.partition import PIECE_ESTATES, PIECE_RULES
from .rules.proposals import PROPOSE_MAX
from .rules.registry import CHECKS
from .scale import TLS_FLAGS, use_tls
from .views.database import default_run_id, write_database
from .views.summary import summarise
from .write import FORMATS, REPORT_MAPS, REPORT_SECTIONS, parse_formats, write_outputs

# The views of other commands (the template's openpyxl, the plugin) are
# imported by the command that writes them: a check loads only what it writes.


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"geocheck: error: {printable(message)} (see {self.prog} --help)\n")


ERROR_CHARS = 4000
"""An error or note on standard error is cut after this many characters (a 100 kB estate id
quoted in a message must not flood the terminal); the message says how much was left out."""


def _say(*lines: str, err: bool = False) -> None:
    """Print ``lines`` with nothing a terminal would act on (see
    :func:`geocheck.core.terminal.printable`); an error or note on standard error is one
    line of at most :data:`ERROR_CHARS` characters."""
    for line in lines:
        text = printable(line, newlines=not err)
        if err and len(text) > ERROR_CHARS:
            text = f"{text[:ERROR_CHARS]}… ({len(text) - ERROR_CHARS:,} more characters)"
        print(text, file=sys.stderr if err else sys.stdout)


def _estates(text: str, words: tuple[str, ...] = ("all",)) -> int | str | None:
    """A whole number of estates, or one of ``words`` (``all``: None; another, itself)."""
    word = text.strip().lower()
    if word in words:
        return None if word == "all" else word
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        said = ", or ".join(f"'{w}'" for w in words)
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of estates (or {said})")
    return value


def _positive(text: str) -> int:
    """``--workers``: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (1 or more)")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="geocheck", description="Audit residential estates against planning "
                "standards (Guangxi, Nanhai ...) from a GeoPackage of role layers.")
    p.add_argument("--version", action="version", version=f"geocheck {VERSION}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="judge every estate against a rule pack")
    c.add_argument("input", help="GeoPackage with layers named estates, buildings, bus_stops "
                   "..., or a project .toml naming each layer's own file")
    c.add_argument("--pack",
                   help=f"pack id ({', '.join(shipped_packs())}) or a pack .toml file "
                        f"(default: the project's, else {DEFAULT_PACK})")
    c.add_argument("-o", "--output", default="geocheck-out",
                   help="output folder: the run's files replace the previous run's all at once, "
                        "listed with their SHA-256 in geocheck-run.json")
    c.add_argument("--dst-crs", help="working CRS (projected, metres), e.g. EPSG:4545; "
                   "default: the CGCS2000 3-degree Gauss-Kruger zone, or UTM outside China")
    c.add_argument("--field", action="append", default=[], metavar="[LAYER.]FIELD=SOURCE",
                   help="read FIELD from the layer's SOURCE field, e.g. households=户数 "
                        "(repeatable)")
    c.add_argument("--attributes", metavar="SHEET",
                   help="attributes sheet (.xlsx or .csv) with the record-based indicators per "
                        "estate (make one with geocheck template); blank cells are no data")
    c.add_argument("--sheet", help="the workbook's sheet to read (default: the first)")
    c.add_argument("--distance", choices=list(DISTANCE_READINGS), default=None,
                   help="judge distance rules as written (radius: a straight line) or by "
                        "walking along the paths layer (walk); default: the project's or "
                        "pack's, else radius")
    c.add_argument("--conditions", metavar="FILE",
                   help="the plot's planning conditions (规划条件: 容积率, 建筑密度, 绿地率, "
                        "建筑退让用地红线, 建筑高度, 层高), a .csv/.xlsx of key,value or a .toml; "
                        "judged as rules COND-*; default: the project's [conditions]")
    c.add_argument("--format", metavar="LIST",
                   help=f"outputs to write, comma-separated from {', '.join(FORMATS)} "
                        "(default: all, which is every one but parquet; all,parquet adds "
                        "the Parquet tables a big run wants)")
    c.add_argument("--lang", choices=["zh", "en"], default="zh",
                   help="language of report.html and the static maps (default: zh)")
    c.add_argument("--pdf", action="store_true",
                   help="also write report.pdf (needs WeasyPrint: pip install 'geocheck[pdf]')")
    c.add_argument("--report-maps", metavar="N", type=_estates, default=REPORT_MAPS,
                   help=f"draw report.html's estate maps for at most N estates, failing ones "
                        f"first (default: {REPORT_MAPS}; 'all': every estate)")
    c.add_argument("--report-estates", metavar="N", type=_estates, default=REPORT_SECTIONS,
                   help=f"give at most N estates a section with their findings in report.html, "
                        f"failing ones first, and list every estate in one table when that "
                        f"leaves some out (default: {REPORT_SECTIONS}; 'all': every estate)")
    c.add_argument("--proposals", metavar="N", type=_estates, default=PROPOSE_MAX,
                   help=f"propose garbage points for at most N estates failing the garbage "
                        f"rules, most buildings uncovered first (default: {PROPOSE_MAX}; "
                        f"'all': every one; 0: none)")
    c.add_argument("--piece", metavar="N", type=partial(_estates, words=("all", "auto")),
                   default="auto",
                   help=f"judge in spatial pieces of about N estates, one at a time, to bound "
                        f"memory (default: {PIECE_ESTATES} for a pack of {PIECE_RULES} rules or "
                        f"more, more for fewer; 'all': one piece); the findings are the same")
    c.add_argument("--workers", metavar="N", type=_positive,
                   help="judge the pieces on a local Dask cluster of N worker processes "
                        "(needs geocheck[dask])")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="judge the pieces on a running Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        "(its workers need the same geocheck installed)")
    for flag, what in zip(TLS_FLAGS, ("the CA's certificate(s)", "this client's certificate",
                                      "its private key"), strict=True):
        c.add_argument(flag, metavar="PEM", help=f"{what}, for a tls:// --scheduler")
    c.add_argument("--offline", action="store_true",
                   help="make map.html work with no internet: Leaflet inlined, blank basemap "
                        "first (tiles still need the internet)")
    c.add_argument("--to-db", metavar="URL",
                   help="also write findings, estates and scorecard into PostGIS tables "
                        "geocheck_* (postgresql://user@host/db?schema=NAME), replacing the "
                        "rows of the same run id in one transaction")
    c.add_argument("--run-id", help="the run id of the rows --to-db writes (default: the "
                   "input's name and the pack, e.g. nanning_sample.gpkg:guangxi)")
    c.add_argument("-q", "--quiet", action="store_true",
                   help="print only the exit status line (no summary, no progress)")
    t = sub.add_parser("template", help="write the attributes sheet to fill in: one row per "
                       "estate, one column per record-based indicator of a pack")
    t.add_argument("input", nargs="?", help="layers (GeoPackage or project .toml) whose estates "
                   "become the rows (default: blank rows)")
    t.add_argument("--pack", default=None, help=f"pack id or .toml file (default: the project's, "
                   f"else {DEFAULT_PACK})")
    t.add_argument("-o", "--output", required=True, help="the sheet to write (.xlsx or .csv)")
    t.add_argument("--field", action="append", default=[], metavar="[LAYER.]FIELD=SOURCE",
                   help="as for check: read estate_id, households ... from other fields")
    packs = sub.add_parser("packs", help="list rule packs or show one")
    psub = packs.add_subparsers(dest="packs_command", required=True, parser_class=_Parser)
    psub.add_parser("list", help="list the shipped packs")
    show = psub.add_parser("show", help="show a pack's rules and citations")
    show.add_argument("pack", help="pack id or .toml file")
    plug = sub.add_parser("qgis-plugin", help="write the QGIS plugin (a folder and a .zip for "
                          "QGIS's Install from ZIP); it needs geocheck in QGIS's Python")
    plug.add_argument("-o", "--output", required=True, help="folder to write the plugin into")
    info = sub.add_parser("info", help="list the layers of a file: role, geometry, CRS, count")
    info.add_argument("input")
    _import_parser(sub)
    _review_parsers(sub)
    return p


def _run_options(p: argparse.ArgumentParser) -> None:
    """The options a run of an input takes in diff and review."""
    p.add_argument("--pack", help="pack id or .toml file (default: the project's, else "
                   f"{DEFAULT_PACK})")
    p.add_argument("--attributes", metavar="SHEET", help="attributes sheet, as for check")
    p.add_argument("--conditions", metavar="FILE", help="planning conditions (规划条件), as "
                   "for check")
    p.add_argument("--field", action="append", default=[], metavar="[LAYER.]FIELD=SOURCE",
                   help="as for check (repeatable)")
    p.add_argument("--dst-crs", help="working CRS, as for check")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the last line")


def _review_parsers(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("diff", help="what changed between two runs (output folders) or two "
                       "inputs (run with the same pack and options)")
    d.add_argument("old", help="the earlier run's output folder, or an input to run")
    d.add_argument("new", help="the later run's output folder, or an input to run")
    d.add_argument("-o", "--output", required=True, help="folder for diff.csv and diff.png")
    _run_options(d)
    r = sub.add_parser("review", help="permit review of one site plan: check it (with its "
                       "planning conditions) and write the review opinion (opinion.docx, "
                       ".html, .pdf)")
    r.add_argument("input", help="the plan: a project .toml (a DXF through its layers) or a "
                   "GeoPackage")
    r.add_argument("--against", metavar="OLD_INPUT", help="the earlier version of the plan "
                   "(an input, run with the same options, or an output folder): the opinion "
                   "says what changed")
    r.add_argument("-o", "--output", required=True, help="output folder")
    r.add_argument("--no-pdf", action="store_true", help="leave out opinion.pdf")
    _run_options(r)


def _options(args: argparse.Namespace) -> dict:
    return {"pack": args.pack, "attributes": args.attributes, "conditions": args.conditions,
            "fields": FieldMap(args.field), "dst_crs": args.dst_crs}


def _cmd_diff(args: argparse.Namespace) -> int:
    started = datetime.now().astimezone()
    refuse_unsafe(args.output)
    progress = Progress(enabled=not args.quiet)
    from .compare import compare, summary_lines, write_diff  # only diff needs it

    diff = compare(args.old, args.new, progress=progress, **_options(args))
    written = write_diff(diff, args.output, started=started,
                         options={"old": args.old, "new": args.new, "pack": args.pack,
                                  "conditions": args.conditions})
    if not args.quiet:
        _say(*summary_lines(diff), "wrote:", *(f"  {p}" for p in written.values()))
    worse = diff.table["change"].isin(NEGATIVE).any()
    _say(f"geocheck: {'some' if worse else 'no'} changes for the worse; exit {int(worse)}")
    return int(worse)


def _cmd_review(args: argparse.Namespace) -> int:
    started = datetime.now().astimezone()
    refuse_unsafe(args.output, input_files(args.input, attributes=args.attributes))
    progress = Progress(enabled=not args.quiet)
    from .review import review  # python-docx and the opinion: only review needs them

    outcome = review(args.input, args.output, against=args.against, pdf=not args.no_pdf,
                     progress=progress, started=started, **_options(args))
    if not args.quiet:
        _say(*outcome.lines())
    code = outcome.result.exit_code
    _say(f"geocheck: {outcome.failures} review opinion(s); exit {code}")
    return code


def _import_parser(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import", help="convert OSM, planners' files or CAD site plans into a "
                         "GeoPackage of role layers")
    isub = imp.add_subparsers(dest="import_command", required=True, parser_class=_Parser)
    osm = isub.add_parser("osm", help="OpenStreetMap .osm / .osm.pbf to role layers")
    osm.add_argument("input", help="an .osm (XML) or .osm.pbf file")
    osm.add_argument("-o", "--output", required=True, help="GeoPackage to write (replaced)")
    osm.add_argument("--households", metavar="SHEET",
                     help="CSV/Excel sheet of households per estate, joined by id or name")
    osm.add_argument("--households-key", metavar="COLUMN",
                     help="the sheet's column to join by: an id column (estate_id, 小区编号) "
                          "matches estate ids, a name column (name, 小区名称) estate names "
                          "(default: the first such column found)")
    osm.add_argument("--households-field", help="the sheet's households column "
                     "(default: households or 户数)")
    osm.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    osm.add_argument("--floor-area-per-household", type=float, default=90.0, metavar="M2",
                     help="m2 of residential floor area per household for estimates "
                          "(default 90; an assumption, not from the standards)")
    f = isub.add_parser("file", help="one role layer from a Shapefile, GeoJSON, GeoPackage, "
                        "CSV or Excel point list")
    f.add_argument("input")
    f.add_argument("--role", required=True, choices=list(ROLES), help="the role it provides")
    f.add_argument("-o", "--output", required=True,
                   help="GeoPackage to write the layer into (other layers are kept)")
    f.add_argument("--layer", help="layer of a multi-layer file, or sheet of a workbook")
    f.add_argument("--src-crs", help="CRS of the coordinates, e.g. EPSG:4490 or EPSG:4545 "
                   "(required when the file has none)")
    f.add_argument("--coords", help="lon/lat system: wgs84, cgcs2000, gcj02 (Amap/Gaode, "
                   "Tencent) or bd09 (Baidu); gcj02 and bd09 are converted to WGS 84")
    f.add_argument("--encoding", help="text encoding of a shapefile without .cpg or a CSV, "
                   "e.g. gbk")
    f.add_argument("--x-field", help="longitude/easting column of a CSV/Excel point list "
                   "(default: lon, lng, longitude, 经度, x ...)")
    f.add_argument("--y-field", help="latitude/northing column (default: lat, latitude, 纬度, "
                   "y ...)")
    f.add_argument("--field", action="append", default=[], metavar="FIELD=SOURCE",
                   help="copy SOURCE into geocheck's FIELD, e.g. households=户数 (repeatable)")
    d = isub.add_parser("dxf", help="CAD site plan (DXF) layers to role layers")
    d.add_argument("input", help="a .dxf file (DWG cannot be read: save as DXF)")
    d.add_argument("--src-crs", help="CRS of the drawing's coordinates, e.g. EPSG:4545 "
                   "(required: a DXF has none)")
    d.add_argument("--map", action="append", default=[], metavar="CADLAYER=ROLE",
                   help="e.g. 用地红线=estates, 建筑=buildings (repeatable)")
    d.add_argument("-o", "--output", required=True,
                   help="GeoPackage to write the layers into (other layers are kept)")


def _cmd_import(args: argparse.Namespace) -> int:
    if args.import_command == "osm":
        report = import_osm(args.input, args.output, households=args.households,
                            key=args.households_key, households_field=args.households_field,
                            sheet=args.sheet,
                            floor_area_per_household=args.floor_area_per_household)
    elif args.import_command == "file":
        report = import_file(Source(Path(args.input), args.role, layer=args.layer,
                                    src_crs=args.src_crs, coords=args.coords,
                                    encoding=args.encoding, x_field=args.x_field,
                                    y_field=args.y_field, fields=tuple(args.field)),
                             args.output)
    else:
        report = import_dxf(args.input, parse_mapping(args.map), args.src_crs, args.output)
    _say("\n".join(report.lines()))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    started = datetime.now().astimezone()
    formats = parse_formats(args.format)
    if args.pdf and "report" not in formats:
        formats = (*formats, "report")
    inputs = input_files(args.input, attributes=args.attributes, pack=args.pack)
    inputs += [Path(args.conditions)] if args.conditions and Path(args.conditions).is_file() \
        else []
    refuse_unsafe(args.output, inputs)  # links and the run's own input, before any work
    hash_ahead(inputs)  # for the manifest, while the run works
    tls = use_tls(args.tls_ca_file, args.tls_cert, args.tls_key, args.scheduler)
    if args.run_id is not None and not args.to_db:
        raise GeocheckError("--run-id names the rows --to-db writes: give --to-db URL too")
    if args.to_db:
        with connect(args.to_db):  # a wrong URL or password is refused before a long run
            pass
    progress = Progress(enabled=not args.quiet)
    tianditu_key = None
    if "map" in formats:
        from .views.webmap import TIANDITU_KEY_ENV, tianditu
        tianditu_key = os.environ.get(TIANDITU_KEY_ENV)
    if tianditu_key:
        tianditu(tianditu_key)  # a malformed key is refused before a long run

    def forecast(site: Site, pack: Pack) -> None:  # Excel's limits, before the long part
        if "xlsx" in formats and not args.quiet:
            from .views.excel import forecast_sheets
            for note in forecast_sheets(len(site.estates), pack, len(site.ledger.rejects)):
                _say(f"geocheck: note: {note}", err=True)

    result = check(args.input, pack=args.pack, fields=FieldMap(args.field),
                   dst_crs=args.dst_crs, attributes=args.attributes, sheet=args.sheet,
                   distance=args.distance, conditions=args.conditions,
                   per_piece=args.piece or None, workers=args.workers,
                   scheduler=args.scheduler, progress=progress, on_read=forecast,
                   beside=True)
    result.proposals_max = args.proposals
    if tianditu_key:
        _say(f"geocheck: note: the Tianditu key from {TIANDITU_KEY_ENV} is written into "
             "map.html; anyone who gets the file can read and use it", err=True)
    options = {"input": redact(args.input), "pack": args.pack, "field": args.field,
               "dst_crs": args.dst_crs, "attributes": args.attributes, "sheet": args.sheet,
               "distance": args.distance, "conditions": args.conditions,
               "proposals": args.proposals, "piece": args.piece, "workers": args.workers,
               "scheduler": args.scheduler, "tls": tls}
    run_id = None
    if args.to_db:
        run_id = args.run_id or default_run_id(result.site.source, result.pack.id)
        options.update(to_db=redact(args.to_db), run_id=run_id)
    written = write_outputs(result, args.output, formats=formats, lang=args.lang,
                            pdf=args.pdf, offline=args.offline, report_maps=args.report_maps,
                            report_sections=args.report_estates,
                            progress=progress, inputs=inputs, options=options,
                            started=started, beside=True)
    code = result.exit_code
    if not args.quiet:
        _say(summarise(result, written, removed=written.removed, notes=written.notes))
    if args.to_db and run_id is not None:
        with progress.stage("writing to the database"):
            stored = write_database(result, args.to_db, run_id)
        if not args.quiet:
            _say(stored.line())
    verdict = {0: "every rule passes (or is not applicable)",
               1: "some rules fail or lack data"}[code]
    _say(f"geocheck: {verdict}; exit {code}")
    return code


def _cmd_template(args: argparse.Namespace) -> int:
    pack_name, estates = args.pack, None
    if args.input:
        if is_database_url(args.input):
            raw = read_postgis(args.input)
        elif Path(args.input).suffix.lower() == ".toml":
            project = parse_project(args.input)
            pack_name = pack_name or project.pack
            raw = read_project(project)
        else:
            raw = read_layers(args.input)
        pack = load_pack(pack_name or DEFAULT_PACK)
        estates = normalise(raw, fields=FieldMap(args.field)).estates
    else:
        pack = load_pack(pack_name or DEFAULT_PACK)
    from .views.template import write_template
    path = write_template(pack, args.output, estates)
    rows = f"{len(estates)} estates" if estates is not None else "blank rows"
    _say(f"wrote {path}: {len(pack.attributes)} indicators of pack {pack.id}, {rows}; "
         "blank cells are read as no data")
    return 0


def _cmd_packs(args: argparse.Namespace) -> int:
    if args.packs_command == "list":
        for pid in shipped_packs():
            pack = load_pack(pid)
            _say(f"{pid:10} {len(pack.rules):3} rules  {pack.title_zh} / {pack.title_en}")
        return 0
    pack = load_pack(args.pack)
    _say(f"{pack.id}: {pack.title_zh}\n{pack.title_en}\nsource: {pack.document}"
         + ("\n(reference values)" if pack.reference else ""))
    for r in pack.rules:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items() if v not in (None, ()))
        where = " ".join(x for x in (r.standard, r.requirement) if x)
        _say(f"\n{r.id}  {r.title_zh} / {r.title_en}" + (f"  [{where}]" if where else ""))
        _say(f"  check: {r.check}({params}): {CHECKS[r.check].summary}")
        _say(f"  citation: {r.citation}")
    return 0


def _cmd_qgis_plugin(args: argparse.Namespace) -> int:
    from .views.qgis_plugin import write_plugin
    folder, archive = write_plugin(args.output)
    _say(f"wrote {folder}/ and {archive}: in QGIS, Plugins > Manage and Install Plugins > "
         "Install from ZIP; the plugin needs geocheck installed in QGIS's Python (README: "
         "'geocheck in QGIS')")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    path = check_local_file(args.input)
    if path.suffix.lower() in (".dxf", ".dwg"):
        _say(f"{path} (CAD drawing; map its layers with geocheck import dxf --map LAYER=ROLE)")
        for name, n in list_dxf_layers(path).items():
            _say(f"  {name:24} {n:>8} entities")
        return 0
    layers = describe_layers(path)
    _say(f"{path}")
    for name, geom_type, features, crs in layers:
        role = "role" if name in ROLES else "ignored"
        _say(f"  {name:16} {role:8} {geom_type or 'no geometry':16} "
              f"{features:>8} features  CRS {crs or 'none'}")
    missing = [r for r in ROLES if r not in {name for name, *_ in layers}]
    if missing:
        _say(f"  absent roles: {', '.join(missing)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the geocheck command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"check": _cmd_check, "packs": _cmd_packs, "info": _cmd_info,
                "import": _cmd_import, "template": _cmd_template, "diff": _cmd_diff,
                "review": _cmd_review, "qgis-plugin": _cmd_qgis_plugin}
    try:
        return commands[args.command](args)
    except GeocheckError as exc:
        _say(f"geocheck: error: {exc}", err=True)
        return 2
    except BrokenPipeError:  # output piped into head or the like: stop quietly
        sys.stderr.close()
        return 1 if args.command in ("check", "diff", "review") else 0
    except KeyboardInterrupt:
        _say("geocheck: interrupted", err=True)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        _say(f"geocheck: internal error: {type(exc).__name__}: {exc} "
             "(run with --debug for the traceback, and please report it)", err=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
