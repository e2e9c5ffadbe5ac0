"""The package's shape, read from its own imports (those inside functions too): the wings and
the arrows between them that the README's Layout section promises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGE = ROOT / "geocheck"
MAY_IMPORT = {
    "core": {"core"},
    "inputs": {"core", "inputs"},
    "rules": {"core", "rules"},
    "views": {"core", "rules", "views"},
    "qgis": {"core", "inputs", "rules", "views", "qgis", None},
}
"""Wing -> the wings its modules may import (None: the modules on top, pipeline and outdir).
``qgis`` sits on top like the command line; nothing imports it (see
:func:`test_only_the_qgis_wing_imports_qgis`)."""
SHARED_VIEWS = {"style", "text"}
"""The only view modules other views may import."""
LATE_IMPORTS = ("matplotlib", "weasyprint", "scipy", "contourpy", "openpyxl", "pg8000", "dask",
                "distributed")
"""Heavy libraries imported where they are used: drawing and printing, the walking network
and the proposals' set cover (scipy, contourpy), reading a workbook (openpyxl), reaching a
database (pg8000 and what it imports take some 150 ms, which a run without a database should
not pay), using a Dask cluster."""
LATE_VIEWS = ("geocheck.cli", "geocheck.write")
"""The modules on top import each view where its output is written, so that a run loads only
the libraries of the outputs it writes (xlsxwriter for findings.xlsx, matplotlib for map.png
...)."""
HEAVY = ("matplotlib", "weasyprint", "docx", "jinja2", "xlsxwriter",
         "openpyxl", "contourpy", "scipy.optimize", "PIL", "networkx", "requests", "pg8000",
         "dask", "distributed")
"""Libraries a csv-only check of the sample (no paths, no workbook) must not load."""
MAX_LINES = 500
MAX_TOP_LEVEL = 13
"""Top-level entries of the package: the five wings (core, inputs, rules, views, qgis), the
four commands' modules on top (cli, pipeline, compare, review), scale (the pieces of a run,
here or on a Dask cluster), write (a run's outputs), outdir and __main__."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, bool]]:
    """(imported geocheck module, at the top of the module) for each import in ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
            targets = found or [target]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            while t not in MODULES and "." in t:
                t = t.rsplit(".", 1)[0]
            at_top = id(node) in top or _in_type_checking(tree, node)
            out.append((t if t in MODULES else f"<{t}>", at_top))
    return out


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    return any(isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
               and node in ast.walk(n) for n in tree.body)


def wing(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT) else None


def test_the_wings_exist_and_few_modules_stand_at_the_top() -> None:
    assert {wing(m) for m in MODULES} - {None} == set(MAY_IMPORT)
    top = [m for m in MODULES if m.count(".") == 1]
    assert len(top) <= MAX_TOP_LEVEL, top


@pytest.mark.parametrize("name", [m for m in MODULES if wing(m)])
def test_imports_run_the_right_way(name: str) -> None:
    mine = wing(name)
    for target, _ in imports(name):
        if not target.startswith("geocheck") or target == "geocheck":
            assert target != "geocheck", f"{name} imports the package's face"
            continue
        assert wing(target) in MAY_IMPORT[mine], f"{name} -> {target}"
        if mine == "views" and wing(target) == "views":
            own = name.split(".")[2]
            other = target.split(".")[2]
            assert other == own or other in SHARED_VIEWS, f"view {name} -> view {target}"


def test_only_the_qgis_wing_imports_qgis() -> None:
    """geocheck runs without QGIS: only geocheck.qgis's modules import the qgis library, no
    other module imports them, and the package's own __init__ imports nothing."""
    outside = [(name, t) for name in MODULES if wing(name) != "qgis"
               for t, _ in imports(name) if t == "<qgis>" or t.startswith(("<qgis.",
                                                                           "geocheck.qgis"))]
    assert outside == []
    assert imports("geocheck.qgis") == []
    assert any(t.startswith("<qgis") for t, _ in imports("geocheck.qgis.provider"))


def test_no_import_circle() -> None:
    graph = {m: {t for t, _ in imports(m) if t in MODULES} for m in MODULES}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in graph[m]:
            assert state.get(t) != 1, "import circle: " + " -> ".join([*path, m, t])
            if t not in state:
                visit(t, [*path, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_imports_at_the_top_but_heavy_drawing_libraries() -> None:
    late = [(name, t) for name in MODULES for t, at_top in imports(name) if not at_top
            and not t.startswith(tuple(f"<{lib}" for lib in LATE_IMPORTS))
            and t != "geocheck.views.static_map.figure"  # the module that imports matplotlib
            and not (name in LATE_VIEWS and t.startswith("geocheck.views."))
            # the command line loads the diff and the review (python-docx) for their commands
            and (name, t) not in {("geocheck.cli", "geocheck.compare"),
                                  ("geocheck.cli", "geocheck.review")}]
    assert late == []


def test_no_module_is_too_long_to_read_in_one_sitting() -> None:
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_importing_geocheck_does_not_load_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, geocheck.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def _loaded_after(code: str) -> list[str]:
    """The libraries of :data:`HEAVY` in ``sys.modules`` after running ``code`` in a fresh
    interpreter from the repository root (printed on a line of their own after ``loaded:``)."""
    import subprocess
    import sys

    probe = (f"{code}\nimport sys\n"
             f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    last = out.stdout.splitlines()[-1].split()
    assert last[0] == "loaded:", out.stdout
    return last[1:]


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after("import geocheck, geocheck.cli") == []


def test_a_csv_only_check_loads_only_what_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = ("import geocheck.cli\n"
            f"code = geocheck.cli.main(['check', 'layers/nanning_sample.gpkg', '--format', 'csv', "
            f"'-q', '-o', {str(out)!r}])\n"
            "assert code in (0, 1), code")
    assert _loaded_after(code) == []
    # the run did its work: every estate x rule of the sample is in findings.csv
    lines = (out / "findings.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1
    assert not (out / "map.html").exists()


def test_the_map_and_the_workbook_load_their_libraries(tmp_path: Path) -> None:
    # the other side of the two tests above: the probe sees a library that is loaded
    code = ("import geocheck.cli\n"
            f"geocheck.cli.main(['check', 'layers/nanning_sample.gpkg', '--format', 'map,xlsx', "
            f"'-q', '-o', {str(tmp_path / 'out')!r}])")
    loaded = _loaded_after(code)
    assert "xlsxwriter" in loaded
    assert "matplotlib" not in loaded
    assert "jinja2" not in loaded  # map.html is assembled as text: no template engine
