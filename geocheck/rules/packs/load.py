"""Load a shipped pack by id, or a pack file by path, resolving ``extends``.

The shipped packs are the TOML files beside this module (``guangxi.toml`` ...).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ...core.errors import PackError
from .merge import merge
from .model import Pack
from .parse import parse_pack

PACKS_PACKAGE = "geocheck.rules.packs"
"""The package whose TOML files are the shipped packs."""
DEFAULT_PACK = "guangxi"
"""The pack checked against when none is named."""
MAX_EXTENDS = 16
"""How many packs deep an ``extends`` chain may go (a pack extending one that extends another
... ); a deeper chain is refused rather than followed."""


def shipped_packs() -> list[str]:
    """Ids of the packs shipped with geocheck."""
    folder = resources.files(PACKS_PACKAGE)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def _read_toml(name_or_path: str | Path, base: Path | None = None) -> tuple[str, dict[str, Any],
                                                                          Path | None]:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise PackError(f"pack file {path} not found")
        where, body, folder = str(path), path.read_bytes(), path.parent
    else:
        if text not in shipped_packs():
            raise PackError(f"no pack {text!r}; packs are: {', '.join(shipped_packs())}")
        res = resources.files(PACKS_PACKAGE).joinpath(f"{text}.toml")
        where, body, folder = f"pack {text}", res.read_bytes(), None
    try:
        return where, tomllib.loads(body.decode("utf-8")), folder
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"{where}: not valid UTF-8 TOML ({exc})") from None


def _resolve(name_or_path: str | Path, base: Path | None, chain: tuple[str, ...]
             ) -> tuple[str, dict[str, Any]]:
    where, data, folder = _read_toml(name_or_path, base)
    if where in chain:
        raise PackError(f"{where}: extends itself ({' -> '.join([*chain, where])})")
    if len(chain) >= MAX_EXTENDS:
        raise PackError(f"{chain[0]}: its extends chain is more than {MAX_EXTENDS} packs deep "
                        f"({chain[0]} -> {chain[1]} -> ... -> {where}); geocheck follows at most "
                        f"{MAX_EXTENDS}")
    head = data.get("pack")
    parent = head.get("extends") if isinstance(head, dict) else None
    if parent is None:
        return where, data
    if not isinstance(parent, str) or not parent.strip():
        raise PackError(f"{where}: [pack] extends must name a pack id or file")
    _, base_data = _resolve(parent, folder, (*chain, where))
    return where, merge(base_data, data, where)


def load_pack(name_or_path: str | Path = DEFAULT_PACK) -> Pack:
    """Load a shipped pack by id, or a pack file by path, resolving ``extends``.

    A pack with ``extends = "guangxi"`` (an id, or a file path relative to the pack file) starts
    from that pack: its rules, standards and attributes with the same id are overridden key by
    key, new ones are added, and ``remove = [ids]`` drops rules. Its ``[declaration]``,
    ``[scoring]`` and ``[campaign]`` are the base pack's unless it gives its own, which replace
    them whole. A chain of ``extends`` may be at most :data:`MAX_EXTENDS` packs deep, and may not
    come back to a pack already in it.

    Raises
    ------
    PackError
        When no such pack exists, the TOML cannot be parsed, a rule is malformed, or the
        ``extends`` chain loops or is too deep.
    """
    where, data = _resolve(name_or_path, None, ())
    return parse_pack(data, where)

