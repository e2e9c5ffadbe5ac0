"""``extends``: a pack that starts from another, overriding, adding and removing rules."""

from __future__ import annotations

from typing import Any

from ...core.errors import PackError
from .parse import table_list

KEYED_LISTS = {"categories": "id", "requirements": "id", "standards": "id", "attributes": "key",
               "rules": "id"}


def merge(parent: dict[str, Any], child: dict[str, Any], where: str) -> dict[str, Any]:
    """The child's tables over the parent's: list items with the same id are merged key by key
    (a rule's ``params`` too, unless the child changes its check); new ids are appended;
    ``[pack] remove`` drops parent rules by id, and with them standards, requirements and
    categories left without rules."""
    out = dict(parent)
    head = {**parent.get("pack", {}), **child.get("pack", {})}
    head.pop("remove", None)
    out["pack"] = head
    for name, key in KEYED_LISTS.items():
        items = [dict(i) for i in parent.get(name, [])]
        index = {i.get(key): n for n, i in enumerate(items)}
        for item in table_list(child, name, where):
            if item.get(key) in index:
                old = items[index[item.get(key)]]
                merged = {**old, **item}
                if name == "rules" and "params" in item and item.get("check",
                                                                     old.get("check")) == \
                        old.get("check"):
                    merged["params"] = {**old.get("params", {}), **item["params"]}
                items[index[item.get(key)]] = merged
            else:
                index[item.get(key)] = len(items)
                items.append(dict(item))
        out[name] = items
    remove = child.get("pack", {}).get("remove", [])
    if not isinstance(remove, list):
        raise PackError(f"{where}: [pack] remove must be a list of rule ids")
    ids = {r.get("id") for r in out["rules"]}
    unknown = [r for r in remove if r not in ids]
    if unknown:
        raise PackError(f"{where}: [pack] remove names rules the base pack lacks: "
                        f"{', '.join(map(str, unknown))}")
    out["rules"] = [r for r in out["rules"] if r.get("id") not in set(remove)]
    if remove:  # the structure follows: standards, requirements, categories left empty go too
        ruled = {r.get("standard") for r in out["rules"]}
        out["standards"] = [s for s in out["standards"] if s.get("id") in ruled]
        kept = {s.get("requirement") for s in out["standards"]}
        out["requirements"] = [r for r in out["requirements"] if r.get("id") in kept]
        kept = {r.get("category") for r in out["requirements"]}
        out["categories"] = [c for c in out["categories"] if c.get("id") in kept]
    for name in ("declaration", "scoring", "campaign"):
        if name in child:
            out[name] = child[name]
    return out

