"""``geocheck qgis-plugin -o DIR``: the plugin folder and the zip QGIS installs (their
contents; loading them in QGIS is tested in tests/qgis/test_plugin.py)."""

from __future__ import annotations

import ast
import configparser
import zipfile

from geocheck.cli import main
from geocheck.core.version import VERSION

REQUIRED = {"name", "qgisminimumversion", "description", "about", "version", "author", "email",
            "repository"}
"""metadata.txt keys QGIS requires of a plugin (configparser lower-cases them)."""


def test_the_plugin_folder_and_zip(tmp_path, capsys) -> None:
    assert main(["qgis-plugin", "-o", str(tmp_path / "plug")]) == 0
    folder = tmp_path / "plug" / "geocheck_plugin"
    archive = tmp_path / "plug" / "geocheck_plugin.zip"
    assert "Install from ZIP" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "metadata.txt"]
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == ["geocheck_plugin/__init__.py",
                                        "geocheck_plugin/metadata.txt"]
        for name in ("__init__.py", "metadata.txt"):
            assert z.read(f"geocheck_plugin/{name}") == (folder / name).read_bytes()
    meta = configparser.ConfigParser()
    meta.read(folder / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    assert set(general) >= REQUIRED
    assert general["name"] == "geocheck" and general["version"] == VERSION
    assert general["qgisMinimumVersion"] == "3.22" and general["hasProcessingProvider"] == "yes"
    tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    assert "classFactory" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_a_second_run_replaces_the_plugin_and_a_link_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "plug"
    assert main(["qgis-plugin", "-o", str(out)]) == 0
    (out / "geocheck_plugin" / "metadata.txt").write_text("old", encoding="utf-8")
    assert main(["qgis-plugin", "-o", str(out)]) == 0
    assert (out / "geocheck_plugin" / "metadata.txt").read_text(encoding="utf-8").startswith(
        "[general]")
    (out / "geocheck_plugin.zip").unlink()
    (out / "geocheck_plugin.zip").symlink_to(tmp_path / "elsewhere.zip")
    capsys.readouterr()
    assert main(["qgis-plugin", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geocheck: error: ") and "geocheck_plugin.zip is a symbolic link" in err
    assert not (tmp_path / "elsewhere.zip").exists()
