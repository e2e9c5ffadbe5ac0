"""Rule packs: TOML files of rules, each with a stable id, titles, a citation and thresholds.

A pack names, for every rule, a registered check (see :mod:`geocheck.checks`) and the check's
parameters. A pack that names an unknown check, lacks a citation or gives a threshold of the
wrong kind is refused when it is loaded, with a message naming the rule.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import PackError
from .schema import ROLES

PACKS_DIR = "packs"
DEFAULT_PACK = "guangxi"


@dataclass(frozen=True)
class Rule:
    """One rule of a pack: what it requires, and where that requirement is written.

    Attributes
    ----------
    id : stable rule id shown in every report, e.g. ``GX-06-garbage-radius``.
    standard : the standard it belongs to in its document, e.g. ``GX-06`` (may be empty).
    requirement : the requirement id, e.g. ``R02`` (may be empty).
    title_zh, title_en : short titles.
    citation : document and place in it, quoting the requirement.
    check : name of the registered check that measures and judges it.
    params : the check's parameters (thresholds in metres, ratios 0-1, counts).
    """

    id: str
    standard: str
    requirement: str
    title_zh: str
    title_en: str
    citation: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    """A rule pack: an ordered list of rules for one jurisdiction's document."""

    id: str
    title_zh: str
    title_en: str
    document: str
    rules: tuple[Rule, ...]
    reference: bool = False


def _kind_error(rule: str, name: str, kind: str, value: Any) -> PackError:
    return PackError(f"rule {rule}: parameter {name} = {value!r} is not {kind}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def validate_param(rule: str, name: str, kind: str, value: Any) -> Any:
    """Check one parameter against its kind and return it normalised.

    Kinds: ``metres`` (number >= 0), ``ratio`` (number in 0..1), ``count`` (integer >= 0),
    ``layer`` (a role name), ``layers`` (list of role names), ``metres_by_layer`` (table of role
    name -> metres), ``ratio_by_built`` (table with ``new`` and ``existing`` ratios), ``text``.
    """
    if kind == "metres":
        if not _is_number(value) or value < 0:
            raise _kind_error(rule, name, "a distance in metres (a number >= 0)", value)
        return float(value)
    if kind == "ratio":
        if not _is_number(value) or not 0 <= value <= 1:
            raise _kind_error(rule, name, "a ratio between 0 and 1 (35 % is 0.35)", value)
        return float(value)
    if kind == "count":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _kind_error(rule, name, "a whole number >= 0", value)
        return value
    if kind == "layer":
        if value not in ROLES:
            raise _kind_error(rule, name, f"a layer ({', '.join(ROLES)})", value)
        return value
    if kind == "layers":
        if not isinstance(value, list) or not all(v in ROLES for v in value):
            raise _kind_error(rule, name, "a list of layers", value)
        return tuple(value)
    if kind == "metres_by_layer":
        if not isinstance(value, dict) or not value:
            raise _kind_error(rule, name, "a table of layer = metres", value)
        return {validate_param(rule, name, "layer", k): validate_param(rule, f"{name}.{k}",
                                                                     "metres", v)
                for k, v in value.items()}
    if kind == "ratio_by_built":
        if not isinstance(value, dict) or set(value) != {"new", "existing"}:
            raise _kind_error(rule, name, "a table with keys new and existing", value)
        return {k: validate_param(rule, f"{name}.{k}", "ratio", v) for k, v in value.items()}
    if kind == "text":
        if not isinstance(value, str):
            raise _kind_error(rule, name, "text", value)
        return value
    raise PackError(f"rule {rule}: parameter {name} has unknown kind {kind!r}")


def _parse_rule(raw: dict[str, Any], where: str) -> Rule:
    from .checks import CHECKS, REQUIRED  # checks import Rule from here: avoid a cycle

    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise PackError(f"{where}: a rule has no id")
    for key in ("title_zh", "title_en", "citation", "check"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise PackError(f"{where}: rule {rid} has no {key}")
    unknown_keys = set(raw) - {"id", "standard", "requirement", "title_zh", "title_en",
                               "citation", "check", "params"}
    if unknown_keys:
        raise PackError(f"{where}: rule {rid} has unknown keys: {', '.join(sorted(unknown_keys))}")
    spec = CHECKS.get(raw["check"])
    if spec is None:
        raise PackError(f"{where}: rule {rid} names unknown check {raw['check']!r}; checks are: "
                        f"{', '.join(sorted(CHECKS))}")
    given = raw.get("params", {})
    extra = set(given) - set(spec.params)
    if extra:
        raise PackError(f"{where}: rule {rid}: check {raw['check']} takes no parameter "
                        f"{', '.join(sorted(extra))}")
    params = {}
    for name, (kind, default) in spec.params.items():
        if name in given:
            params[name] = validate_param(rid, name, kind, given[name])
        elif default is REQUIRED:
            raise PackError(f"{where}: rule {rid}: check {raw['check']} needs parameter {name}")
        else:
            params[name] = default
    spec.validate(rid, params)
    return Rule(id=rid, standard=str(raw.get("standard", "")),
                requirement=str(raw.get("requirement", "")), title_zh=raw["title_zh"],
                title_en=raw["title_en"], citation=raw["citation"], check=raw["check"],
                params=params)


def parse_pack(data: dict[str, Any], where: str) -> Pack:
    """Build a :class:`Pack` from parsed TOML, validating every rule."""
    head = data.get("pack")
    if not isinstance(head, dict):
        raise PackError(f"{where}: no [pack] table")
    for key in ("id", "title_zh", "title_en", "document"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise PackError(f"{where}: [pack] has no {key}")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PackError(f"{where}: no [[rules]]")
    rules = tuple(_parse_rule(r, where) for r in raw_rules)
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise PackError(f"{where}: rule id {r.id} appears twice")
        seen.add(r.id)
    return Pack(id=head["id"], title_zh=head["title_zh"], title_en=head["title_en"],
                document=head["document"], rules=rules, reference=bool(head.get("reference")))


def shipped_packs() -> list[str]:
    """Ids of the packs shipped with geocheck."""
    folder = resources.files("geocheck").joinpath(PACKS_DIR)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def load_pack(name_or_path: str | Path = DEFAULT_PACK) -> Pack:
    """Load a shipped pack by id, or a pack file by path.

    Raises
    ------
    PackError
        When no such pack exists, the TOML cannot be parsed, or a rule is malformed.
    """
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise PackError(f"pack file {path} not found")
        where, body = str(path), path.read_bytes()
    else:
        if text not in shipped_packs():
            raise PackError(f"no pack {text!r}; packs are: {', '.join(shipped_packs())}")
        res = resources.files("geocheck").joinpath(PACKS_DIR, f"{text}.toml")
        where, body = f"pack {text}", res.read_bytes()
    try:
        data = tomllib.loads(body.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"{where}: not valid UTF-8 TOML ({exc})") from None
    return parse_pack(data, where)
