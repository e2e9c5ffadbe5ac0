"""Parse a pack's TOML into a :class:`~geocheck.rules.packs.model.Pack`, refusing what is wrong.

Every rule must name a registered check (:mod:`geocheck.rules.registry`), cite its source, and
give parameters of the right kind: distances in metres, ratios 0-1 (35 % is 0.35), whole
counts. A malformed pack is refused with a message naming the rule.
"""

from __future__ import annotations

from typing import Any

from ...core.errors import PackError
from ...core.indicators import ATTRIBUTE_KINDS, Attribute
from ...core.roles import ROLES, TARGET_YEARS
from ...core.units import DISTANCE_READINGS, RADIUS, plain
from ..context import REQUIRED
from ..registry import CHECKS, SCORE_CHECKS
from .model import (
    Campaign,
    Category,
    Declaration,
    Pack,
    Requirement,
    Rule,
    ScorePart,
    Scoring,
    Standard,
    Star,
    Target,
)


def _kind_error(rule: str, name: str, kind: str, value: Any) -> PackError:
    return PackError(f"rule {rule}: parameter {name} = {_shown(value)} is not {kind}")


def _shown(value: Any) -> str:
    """A value of the pack as its author would write it: numbers plainly (1e12 as
    1000000000000), anything else as its repr."""
    return plain(value) if _is_number(value) else repr(value)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def validate_param(rule: str, name: str, kind: str, value: Any) -> Any:
    """Check one parameter against its kind and return it normalised.

    Kinds: ``metres`` (number >= 0), ``ratio`` (number in 0..1), ``count`` (integer >= 0),
    ``layer`` (a role name), ``layers`` (list of role names), ``metres_by_layer`` (table of role
    name -> metres), ``ratio_by_built`` (table with ``new`` and ``existing`` ratios), ``text``,
    ``number`` (any number >= 0), ``number_by_built`` (table with ``new`` and ``existing``
    numbers), ``attribute`` (an attribute key of the pack).
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
    if kind == "number":
        if not _is_number(value) or value < 0:
            raise _kind_error(rule, name, "a number >= 0", value)
        return float(value)
    if kind == "number_by_built":
        if not isinstance(value, dict) or set(value) != {"new", "existing"}:
            raise _kind_error(rule, name, "a table with keys new and existing", value)
        return {k: validate_param(rule, f"{name}.{k}", "number", v) for k, v in value.items()}
    if kind == "attribute":
        if not isinstance(value, str) or not value:
            raise _kind_error(rule, name, "an attribute key", value)
        return value
    if kind == "text":
        if not isinstance(value, str):
            raise _kind_error(rule, name, "text", value)
        return value
    raise PackError(f"rule {rule}: parameter {name} has unknown kind {kind!r}")


RULE_KEYS = {"id", "standard", "requirement", "title_zh", "title_en", "citation", "check",
             "params"}


def _text(table: dict[str, Any], key: str, what: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PackError(f"{what} has no {key}" if required or not isinstance(value, str)
                        else f"{what}: {key} is not text")
    return value


def _parse_rule(raw: dict[str, Any], where: str, attributes: dict[str, Attribute]) -> Rule:
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise PackError(f"{where}: a rule has no id")
    for key in ("title_zh", "title_en", "citation", "check"):
        _text(raw, key, f"{where}: rule {rid}")
    unknown_keys = set(raw) - RULE_KEYS
    if unknown_keys:
        raise PackError(f"{where}: rule {rid} has unknown keys: {', '.join(sorted(unknown_keys))}")
    spec = CHECKS.get(raw["check"])
    if spec is None:
        raise PackError(f"{where}: rule {rid} names unknown check {raw['check']!r}; checks are: "
                        f"{', '.join(sorted(CHECKS))}")
    given = raw.get("params", {})
    if not isinstance(given, dict):
        raise PackError(f"{where}: rule {rid}: params is not a table")
    extra = set(given) - set(spec.params)
    if extra:
        raise PackError(f"{where}: rule {rid}: check {raw['check']} takes no parameter "
                        f"{', '.join(sorted(extra))}")
    params = {}
    for name, (kind, default) in spec.params.items():
        if name in given:
            params[name] = validate_param(rid, name, kind, given[name])
            if kind == "attribute" and params[name] not in attributes:
                raise PackError(f"{where}: rule {rid}: parameter {name} names attribute "
                                f"{params[name]!r}, which the pack's [[attributes]] lack")
        elif default is REQUIRED:
            raise PackError(f"{where}: rule {rid}: check {raw['check']} needs parameter {name}")
        else:
            params[name] = default
    try:
        spec.validate(rid, params, attributes)
    except PackError as exc:
        raise PackError(f"{where}: {exc}") from None
    return Rule(id=rid, standard=str(raw.get("standard", "")),
                requirement=str(raw.get("requirement", "")), title_zh=raw["title_zh"],
                title_en=raw["title_en"], citation=raw["citation"], check=raw["check"],
                params=params)


def table_list(data: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    """The list of tables ``[[name]]`` of ``data`` (none: empty), refused when it is not one."""
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PackError(f"{where}: {name} must be a list of tables ([[{name}]])")
    return items


def _unique(items: list[Any], attr: str, what: str, where: str) -> None:
    seen: set[str] = set()
    for item in items:
        key = getattr(item, attr)
        if key in seen:
            raise PackError(f"{where}: {what} {key} appears twice")
        seen.add(key)


def _parse_attribute(raw: dict[str, Any], where: str) -> Attribute:
    key = raw.get("key")
    if not isinstance(key, str) or not key.isidentifier():
        raise PackError(f"{where}: an attribute has no key (letters, digits and _): {key!r}")
    what = f"{where}: attribute {key}"
    unknown = set(raw) - {"key", "title_zh", "title_en", "kind", "unit", "standard", "max",
                          "help_zh"}
    if unknown:
        raise PackError(f"{what} has unknown keys: {', '.join(sorted(unknown))}")
    kind = _text(raw, "kind", what)
    if kind not in ATTRIBUTE_KINDS:
        raise PackError(f"{what}: kind {kind!r} is not one of {', '.join(ATTRIBUTE_KINDS)}")
    top = raw.get("max")
    if top is not None and (not _is_number(top) or top <= 0):
        raise PackError(f"{what}: max = {_shown(top)} is not a number > 0")
    if kind == "points" and top is None:
        raise PackError(f"{what}: a points attribute needs max (the item's full marks)")
    return Attribute(key=key, title_zh=_text(raw, "title_zh", what),
                     title_en=_text(raw, "title_en", what), kind=kind,
                     unit=_text(raw, "unit", what, required=False),
                     standard=_text(raw, "standard", what, required=False),
                     max=None if top is None else float(top),
                     help_zh=_text(raw, "help_zh", what, required=False))


def _parse_structure(data: dict[str, Any], where: str
                     ) -> tuple[tuple[Category, ...], tuple[Requirement, ...],
                                tuple[Standard, ...]]:
    cats = tuple(Category(_text(c, "id", f"{where}: a category"),
                          _text(c, "title_zh", f"{where}: category {c.get('id')}"),
                          _text(c, "title_en", f"{where}: category {c.get('id')}"))
                 for c in table_list(data, "categories", where))
    reqs = tuple(Requirement(_text(r, "id", f"{where}: a requirement"),
                             _text(r, "title_zh", f"{where}: requirement {r.get('id')}"),
                             _text(r, "title_en", f"{where}: requirement {r.get('id')}"),
                             _text(r, "category", f"{where}: requirement {r.get('id')}"))
                 for r in table_list(data, "requirements", where))
    stds = tuple(Standard(_text(s, "id", f"{where}: a standard"),
                          _text(s, "title_zh", f"{where}: standard {s.get('id')}"),
                          _text(s, "title_en", f"{where}: standard {s.get('id')}"),
                          _text(s, "requirement", f"{where}: standard {s.get('id')}"))
                 for s in table_list(data, "standards", where))
    for items, attr, what in ((cats, "id", "category"), (reqs, "id", "requirement"),
                              (stds, "id", "standard")):
        _unique(list(items), attr, what, where)
    cat_ids = {c.id for c in cats}
    for r in reqs:
        if r.category not in cat_ids:
            raise PackError(f"{where}: requirement {r.id} names unknown category {r.category}")
    req_ids = {r.id for r in reqs}
    for s in stds:
        if s.requirement not in req_ids:
            raise PackError(f"{where}: standard {s.id} names unknown requirement {s.requirement}")
    return cats, reqs, stds


def _parse_declaration(data: dict[str, Any], where: str, has_standards: bool
                       ) -> Declaration | None:
    raw = data.get("declaration")
    if raw is None:
        return None
    what = f"{where}: [declaration]"
    if not isinstance(raw, dict):
        raise PackError(f"{what} is not a table")
    if not has_standards:
        raise PackError(f"{what} needs [[standards]] to count")
    rate = validate_param("[declaration]", "min_compliance", "ratio",
                          raw.get("min_compliance"))
    every = raw.get("every_requirement", False)
    if not isinstance(every, bool):
        raise PackError(f"{what}: every_requirement is not true/false")
    return Declaration(rate, every, _text(raw, "citation", what))


def _parse_scoring(data: dict[str, Any], where: str, rules: tuple[Rule, ...],
                   attributes: dict[str, Attribute]) -> Scoring | None:
    raw = data.get("scoring")
    if raw is None:
        return None
    what = f"{where}: [scoring]"
    if not isinstance(raw, dict):
        raise PackError(f"{what} is not a table")
    by_id = {r.id: r for r in rules}
    parts = []
    for p in table_list(raw, "parts", what):
        pid = _text(p, "id", f"{what}: a part")
        ids = p.get("rules")
        if not isinstance(ids, list) or not ids:
            raise PackError(f"{what}: part {pid} lists no rules")
        for rid in ids:
            if rid not in by_id:
                raise PackError(f"{what}: part {pid} names unknown rule {rid}")
            if by_id[rid].check not in SCORE_CHECKS:
                raise PackError(f"{what}: part {pid}: rule {rid} gives no points (its check "
                                f"{by_id[rid].check} is not one of {', '.join(SCORE_CHECKS)})")
        top = validate_param(f"[scoring] part {pid}", "max", "metres", p.get("max"))
        full = sum(by_id[rid].params["max_points"] for rid in ids)
        if abs(full - top) > 1e-9:
            raise PackError(f"{what}: part {pid} has max {plain(top)} but its rules give "
                            f"{plain(full)}")
        parts.append(ScorePart(pid, _text(p, "title_zh", f"{what}: part {pid}"),
                               _text(p, "title_en", f"{what}: part {pid}"), top, tuple(ids)))
    if not parts:
        raise PackError(f"{what} has no [[scoring.parts]]")
    total = validate_param("[scoring]", "total", "metres", raw.get("total"))
    if abs(sum(p.max for p in parts) - total) > 1e-9:
        raise PackError(f"{what}: total {plain(total)} is not the sum of its parts "
                        f"({plain(sum(p.max for p in parts))})")
    sat = _text(raw, "satisfaction", what)
    if sat not in attributes or attributes[sat].kind != "percent":
        raise PackError(f"{what}: satisfaction = {sat!r} is not a percent attribute of the pack")
    stars = []
    for st in table_list(raw, "stars", what):
        n = validate_param("[scoring] stars", "stars", "count", st.get("stars"))
        stars.append(Star(n, validate_param(f"[scoring] {n} stars", "min_total", "metres",
                                            st.get("min_total")),
                          validate_param(f"[scoring] {n} stars", "min_satisfaction", "ratio",
                                         st.get("min_satisfaction"))))
    stars.sort(key=lambda s: -s.stars)
    floor = validate_param("[scoring]", "floor", "ratio", raw.get("floor", 0.0))
    return Scoring(total, tuple(parts), tuple(stars), sat, floor, _text(raw, "citation", what))


CAMPAIGN_KEYS = {"title_zh", "title_en", "citation", "targets"}


def _parse_campaign(data: dict[str, Any], where: str) -> Campaign | None:
    """The optional ``[campaign]``: titles, citation and ``targets = [{year, share}, ...]``,
    years strictly increasing within :data:`~geocheck.core.roles.TARGET_YEARS`, shares ratios 0-1
    that never decrease."""
    raw = data.get("campaign")
    if raw is None:
        return None
    what = f"{where}: [campaign]"
    if not isinstance(raw, dict):
        raise PackError(f"{what} is not a table")
    unknown = set(raw) - CAMPAIGN_KEYS
    if unknown:
        raise PackError(f"{what} has unknown keys: {', '.join(sorted(unknown))}")
    titles = [_text(raw, key, what) for key in ("title_zh", "title_en", "citation")]
    items = raw.get("targets")
    if not isinstance(items, list) or not items or not all(isinstance(t, dict) for t in items):
        raise PackError(f"{what}: targets must be a non-empty list of tables "
                        "{year = 2021, share = 0.35}")
    low, high = TARGET_YEARS
    targets: list[Target] = []
    for t in items:
        extra = set(t) - {"year", "share"}
        if extra:
            raise PackError(f"{what}: a target has unknown keys: {', '.join(sorted(extra))}")
        year = t.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not low <= year <= high:
            raise PackError(f"{what}: target year {year!r} is not a year {low}-{high}")
        share = t.get("share")
        if not _is_number(share) or not 0 <= share <= 1:
            raise PackError(f"{what}: target {year}: share = {_shown(share)} is not a ratio "
                            "between 0 and 1 (35 % is 0.35)")
        share = float(share)
        if targets and year <= targets[-1].year:
            raise PackError(f"{what}: target years must increase ({year} follows "
                            f"{targets[-1].year})")
        if targets and share < targets[-1].share:
            raise PackError(f"{what}: target shares must not decrease ({year}: {plain(share)} < "
                            f"{targets[-1].year}: {plain(targets[-1].share)})")
        targets.append(Target(year, share))
    return Campaign(*titles, targets=tuple(targets))


def parse_pack(data: dict[str, Any], where: str) -> Pack:
    """Build a :class:`Pack` from parsed TOML (with any ``extends`` already merged in),
    validating every rule and the document structure."""
    head = data.get("pack")
    if not isinstance(head, dict):
        raise PackError(f"{where}: no [pack] table")
    for key in ("id", "title_zh", "title_en", "document"):
        _text(head, key, f"{where}: [pack]")
    distance = head.get("distance", RADIUS)
    if distance not in DISTANCE_READINGS:
        raise PackError(f"{where}: [pack] distance = {_shown(distance)} is not one of "
                        f"{', '.join(DISTANCE_READINGS)}")
    attributes = tuple(_parse_attribute(a, where) for a in table_list(data, "attributes", where))
    _unique(list(attributes), "key", "attribute", where)
    by_key = {a.key: a for a in attributes}
    cats, reqs, stds = _parse_structure(data, where)
    raw_rules = table_list(data, "rules", where)
    if not raw_rules:
        raise PackError(f"{where}: no [[rules]]")
    rules = tuple(_parse_rule(r, where, by_key) for r in raw_rules)
    _unique(list(rules), "id", "rule id", where)
    std_req = {s.id: s.requirement for s in stds}
    if stds:
        for r in rules:
            if r.standard not in std_req:
                raise PackError(f"{where}: rule {r.id} names standard {r.standard!r}, which is "
                                "not in the pack's [[standards]]")
            if r.requirement and r.requirement != std_req[r.standard]:
                raise PackError(f"{where}: rule {r.id}: standard {r.standard} is under "
                                f"{std_req[r.standard]}, not {r.requirement}")
        ruled = {r.standard for r in rules}
        bare = [s.id for s in stds if s.id not in ruled]
        if bare:
            raise PackError(f"{where}: standards without rules: {', '.join(bare)}")
        rules = tuple(r if r.requirement else Rule(**{**r.__dict__,
                                                      "requirement": std_req[r.standard]})
                      for r in rules)
    return Pack(id=head["id"], title_zh=head["title_zh"], title_en=head["title_en"],
                document=head["document"], rules=rules, reference=bool(head.get("reference")),
                extends=str(head.get("extends", "")), categories=cats, requirements=reqs,
                standards=stds, attributes=attributes,
                declaration=_parse_declaration(data, where, bool(stds)),
                scoring=_parse_scoring(data, where, rules, by_key),
                campaign=_parse_campaign(data, where), distance=distance)

