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
LATE_IMPORTS = ("matplotlib", "weasyprint", "pg8000", "dask", "distributed")
"""Heavy libraries imported where something is drawn or printed, a database is reached
(pg8000 and what it imports take some 150 ms, which a run without a database should not pay),
or a Dask cluster is used."""
MAX_LINES = 500
MAX_TOP_LEVEL = 12
"""Top-level entries of the package: the five wings (core, inputs, rules, views, qgis), the
four commands' modules on top (cli, pipeline, compare, review), scale (the pieces of a run,
here or on a Dask cluster), outdir and __main__."""


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
