"""The command line: parse, call the public API, print, set the exit code.

Exit codes: 0 every finding passes or is not applicable; 1 some rule fails or lacks data;
2 bad input or usage (one line on stderr, no traceback); 3 an internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pyogrio

from . import __version__, check, write_outputs
from ._errors import GeocheckError
from .checks import CHECKS
from .packs import DEFAULT_PACK, load_pack, shipped_packs
from .read import check_local_file
from .schema import ROLES, FieldMap
from .summary import summarise


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"geocheck: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="geocheck", description="Audit residential estates against planning "
                "standards (Guangxi, Nanhai ...) from a GeoPackage of role layers.")
    p.add_argument("--version", action="version", version=f"geocheck {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="judge every estate against a rule pack")
    c.add_argument("input", help="GeoPackage with layers named estates, buildings, bus_stops ...")
    c.add_argument("--pack", default=DEFAULT_PACK,
                   help=f"pack id ({', '.join(shipped_packs())}) or a pack .toml file "
                        f"(default {DEFAULT_PACK})")
    c.add_argument("-o", "--output", default="geocheck-out", help="output folder")
    c.add_argument("--dst-crs", help="working CRS (projected, metres), e.g. EPSG:4545; "
                   "default: the CGCS2000 3-degree Gauss-Kruger zone, or UTM outside China")
    c.add_argument("--field", action="append", default=[], metavar="[LAYER.]FIELD=SOURCE",
                   help="read FIELD from the layer's SOURCE field, e.g. households=户数 "
                        "(repeatable)")
    c.add_argument("-q", "--quiet", action="store_true", help="print only the exit status line")
    packs = sub.add_parser("packs", help="list rule packs or show one")
    psub = packs.add_subparsers(dest="packs_command", required=True, parser_class=_Parser)
    psub.add_parser("list", help="list the shipped packs")
    show = psub.add_parser("show", help="show a pack's rules and citations")
    show.add_argument("pack", help="pack id or .toml file")
    info = sub.add_parser("info", help="list the layers of a file: role, geometry, CRS, count")
    info.add_argument("input")
    return p


def _cmd_check(args: argparse.Namespace) -> int:
    result = check(args.input, pack=args.pack, fields=FieldMap(args.field),
                   dst_crs=args.dst_crs)
    try:
        written = write_outputs(result, args.output)
    except OSError as exc:
        raise GeocheckError(f"cannot write the outputs to {args.output}: "
                            f"{exc.strerror or exc}") from None
    code = result.exit_code
    if not args.quiet:
        print(summarise(result, written))
    verdict = {0: "every rule passes (or is not applicable)",
               1: "some rules fail or lack data"}[code]
    print(f"geocheck: {verdict}; exit {code}")
    return code


def _cmd_packs(args: argparse.Namespace) -> int:
    if args.packs_command == "list":
        for pid in shipped_packs():
            pack = load_pack(pid)
            print(f"{pid:10} {len(pack.rules):3} rules  {pack.title_zh} / {pack.title_en}")
        return 0
    pack = load_pack(args.pack)
    print(f"{pack.id}: {pack.title_zh}\n{pack.title_en}\nsource: {pack.document}"
          + ("\n(reference values)" if pack.reference else ""))
    for r in pack.rules:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items() if v not in (None, ()))
        where = " ".join(x for x in (r.standard, r.requirement) if x)
        print(f"\n{r.id}  {r.title_zh} / {r.title_en}" + (f"  [{where}]" if where else ""))
        print(f"  check: {r.check}({params}): {CHECKS[r.check].summary}")
        print(f"  citation: {r.citation}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    path = check_local_file(args.input)
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise GeocheckError(f"{path}: cannot be opened ({exc})") from None
    print(f"{path}")
    for name, geom_type in layers:
        meta = pyogrio.read_info(path, layer=name)
        role = "role" if name in ROLES else "ignored"
        print(f"  {name:16} {role:8} {geom_type or 'no geometry':16} "
              f"{meta['features']:>8} features  CRS {meta['crs'] or 'none'}")
    missing = [r for r in ROLES if r not in {str(n) for n, _ in layers}]
    if missing:
        print(f"  absent roles: {', '.join(missing)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the geocheck command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"check": _cmd_check, "packs": _cmd_packs, "info": _cmd_info}
    try:
        return commands[args.command](args)
    except GeocheckError as exc:
        print(f"geocheck: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head or the like: stop quietly
        sys.stderr.close()
        return 1 if args.command == "check" else 0
    except KeyboardInterrupt:
        print("geocheck: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"geocheck: internal error: {type(exc).__name__}: {exc} "
              "(run with --debug for the traceback, and please report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
