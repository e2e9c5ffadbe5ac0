"""Rule packs: shipped packs load; malformed packs are refused naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLE

from geocheck import PackError, load_pack, shipped_packs

GOOD_RULE = '''
[[rules]]
id = "X-1"
title_zh = "测试"
title_en = "test"
citation = "somewhere, clause 1"
check = "nearest_within"
params.max_m = { bus_stops = 500 }
'''
HEAD = '''
[pack]
id = "mine"
title_zh = "我的"
title_en = "mine"
document = "a document"
'''


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def test_shipped_packs_load_with_citations() -> None:
    assert {"guangxi", "nanhai"} <= set(shipped_packs())
    for pid in shipped_packs():
        pack = load_pack(pid)
        assert pack.rules and all(r.citation for r in pack.rules)


def test_guangxi_rules_and_thresholds() -> None:
    pack = load_pack("guangxi")
    assert [s.id for s in pack.standards] == [f"GX-{i:02d}" for i in range(1, 66)]
    assert [r.id for r in pack.requirements] == [f"R{i:02d}" for i in range(1, 25)]
    assert [c.title_zh for c in pack.categories] == ["政府职责", "小区管理", "服务管理",
                                                     "环境管理", "满意调查"]
    rules = {r.id: r for r in pack.rules}
    assert rules["GX-53"].params["max_m"] == {"bus_stops": 500.0, "rail_stations": 800.0}
    assert rules["GX-10-greening"].params["min_ratio"] == 0.35
    assert rules["GX-06-garbage-radius"].params["max_m"] == 70
    assert rules["GX-06-garbage-setback"].params["min_m"] == 5
    assert rules["GX-06-kindergarten"].params["min_households"] == 1500
    assert rules["GX-16-staff"].params["min"] == 7
    assert rules["GX-51-elderly-rooms"].params["min_per_100_by_built"] == {"new": 20,
                                                                          "existing": 15}
    assert rules["GX-08"].params["min_ratio"] == 0.10
    assert "R16" in rules["GX-53"].citation and "GX-53" in rules["GX-53"].citation
    assert pack.declaration.min_compliance == 0.85 and pack.declaration.every_requirement
    # every standard sits under the requirement RULES.md gives it (spot checks)
    req = {s.id: s.requirement for s in pack.standards}
    assert (req["GX-05"], req["GX-06"], req["GX-38"], req["GX-53"], req["GX-65"]) == \
        ("R01", "R02", "R10", "R16", "R24")


def test_gongshu_score_adds_up_to_300() -> None:
    sc = load_pack("gongshu").scoring
    assert sc.total == 300
    assert [(p.max) for p in sc.parts] == [80, 40, 75, 75, 30]
    assert [(s.stars, s.min_total, s.min_satisfaction) for s in sc.stars] == \
        [(5, 280, 0.9), (4, 250, 0.85), (3, 220, 0.8)]
    assert sc.floor == 0.6


def test_reference_pack_is_labelled() -> None:
    pack = load_pack("gb50180")
    assert pack.reference and all("GB" in r.citation for r in pack.rules)


def test_user_pack_file_loads(tmp_path) -> None:
    pack = load_pack(_write(tmp_path, GOOD_RULE))
    assert pack.id == "mine" and pack.rules[0].params["max_m"] == {"bus_stops": 500.0}


@pytest.mark.parametrize(("change", "message"), [
    (('check = "nearest_within"', 'check = "teleport"'), "rule X-1 names unknown check"),
    (('citation = "somewhere, clause 1"\n', ""), "rule X-1 has no citation"),
    (("bus_stops = 500", 'bus_stops = "500"'), r"rule X-1: parameter max_m.bus_stops = '500'"),
    (("bus_stops = 500", "bus_stops = -1"), "not a distance in metres"),
    (("bus_stops = 500", "bus_stop = 500"), "is not a layer"),
    (("params.max_m", "params.radius"), "takes no parameter radius"),
    (('id = "X-1"', 'id = "X-1"\ncolour = "red"'), "unknown keys: colour"),
])
def test_malformed_pack_is_refused_naming_the_rule(tmp_path, change, message) -> None:
    with pytest.raises(PackError, match=message):
        load_pack(_write(tmp_path, GOOD_RULE.replace(*change)))


def test_ratio_given_as_percent_is_refused(tmp_path) -> None:
    body = GOOD_RULE.replace('check = "nearest_within"', 'check = "green_ratio"').replace(
        "params.max_m = { bus_stops = 500 }", "params.min_ratio = 35")
    with pytest.raises(PackError, match=r"35 % is 0\.35"):
        load_pack(_write(tmp_path, body))


def test_green_ratio_needs_exactly_one_threshold(tmp_path) -> None:
    body = GOOD_RULE.replace('check = "nearest_within"', 'check = "green_ratio"').replace(
        "params.max_m = { bus_stops = 500 }", "")
    with pytest.raises(PackError, match="exactly one of min_ratio and min_ratio_by_built"):
        load_pack(_write(tmp_path, body))


def test_duplicate_rule_ids_refused(tmp_path) -> None:
    with pytest.raises(PackError, match="X-1 appears twice"):
        load_pack(_write(tmp_path, GOOD_RULE + GOOD_RULE))


def test_unknown_pack_and_bad_toml() -> None:
    with pytest.raises(PackError, match="no pack 'atlantis'"):
        load_pack("atlantis")
    with pytest.raises(PackError, match="not found"):
        load_pack("nowhere/pack.toml")


def test_bad_toml_refused(tmp_path) -> None:
    with pytest.raises(PackError, match="not valid UTF-8 TOML"):
        load_pack(_write(tmp_path, "[[rules]\n"))


ATTR = '''
[[attributes]]
key = "staff"
title_zh = "专职人员"
title_en = "staff"
kind = "count"
unit = "人"

[[attributes]]
key = "rate"
title_zh = "满意率"
title_en = "satisfaction"
kind = "percent"
'''
RECORD_RULE = '''
[[rules]]
id = "X-2"
title_zh = "人员"
title_en = "staff"
citation = "somewhere, clause 2"
check = "attribute_at_least"
params.attribute = "staff"
params.min = 7
'''


@pytest.mark.parametrize(("change", "message"), [
    (('params.attribute = "staff"', 'params.attribute = "stuff"'),
     "rule X-2: parameter attribute names attribute 'stuff', which the pack's"),
    (("params.min = 7", "params.min = 7.5"), "rule X-2: parameter min = 7.5 is not a whole"),
    (('params.attribute = "staff"\nparams.min = 7', 'params.attribute = "rate"\nparams.min = 95'),
     r"rule X-2: parameter min = 95 is not a ratio between 0 and 1"),
    (('check = "attribute_at_least"', 'check = "attribute_yes"'),
     "rule X-2: check attribute_yes takes no parameter min"),
])
def test_malformed_record_rule_refused_naming_it(tmp_path, change, message) -> None:
    with pytest.raises(PackError, match=message):
        load_pack(_write(tmp_path, ATTR + RECORD_RULE.replace(*change)))


def test_attribute_kind_must_fit_check(tmp_path) -> None:
    body = ATTR + RECORD_RULE.replace('check = "attribute_at_least"', 'check = "attribute_yes"'
                                      ).replace("params.min = 7\n", "")
    with pytest.raises(PackError, match="rule X-2: attribute names attribute staff of kind "
                                        "count; this check needs yesno"):
        load_pack(_write(tmp_path, body))


def test_structure_refusals(tmp_path) -> None:
    structure = '''
[[categories]]
id = "C1"
title_zh = "类"
title_en = "c"

[[requirements]]
id = "R1"
title_zh = "要求"
title_en = "r"
category = "C1"

[[standards]]
id = "S1"
title_zh = "标准"
title_en = "s"
requirement = "R1"
'''
    with pytest.raises(PackError, match="rule X-1 names standard '', which is not in"):
        load_pack(_write(tmp_path, structure + GOOD_RULE))
    bare = structure + "\n[[standards]]\nid = \"S2\"\ntitle_zh = \"二\"\ntitle_en = \"two\"\n" \
        "requirement = \"R1\"\n" + GOOD_RULE.replace('id = "X-1"', 'id = "X-1"\nstandard = "S1"')
    with pytest.raises(PackError, match="standards without rules: S2"):
        load_pack(_write(tmp_path, bare))
    wrong_req = structure.replace('category = "C1"', 'category = "C9"')
    with pytest.raises(PackError, match="requirement R1 names unknown category C9"):
        load_pack(_write(tmp_path, wrong_req + GOOD_RULE))


def test_extends_overrides_by_id(tmp_path) -> None:
    base = load_pack("guangxi")
    child = tmp_path / "city.toml"
    child.write_text('''
[pack]
id = "city"
extends = "guangxi"
title_zh = "某市"
remove = ["GX-06-garbage-setback"]

[[rules]]
id = "GX-10-greening"
params.min_ratio = 0.40

[[rules]]
id = "CITY-1"
standard = "GX-53"
title_zh = "公交站点300米"
title_en = "Bus stop within 300 m"
citation = "the city's own rule, article 3"
check = "nearest_within"
params.max_m = { bus_stops = 300 }
''', encoding="utf-8")
    pack = load_pack(child)
    rules = {r.id: r for r in pack.rules}
    assert pack.id == "city" and pack.title_zh == "某市" and pack.document == base.document
    assert rules["GX-10-greening"].params["min_ratio"] == 0.40
    assert rules["GX-10-greening"].citation == base.rule("GX-10-greening").citation
    assert "GX-06-garbage-setback" not in rules
    assert rules["CITY-1"].requirement == "R16"  # from its standard
    assert len(pack.rules) == len(base.rules)  # one removed, one added
    assert pack.standards == base.standards and pack.declaration == base.declaration
    # removing every rule of a standard removes the standard, and an emptied requirement
    only = tmp_path / "only.toml"
    keep = {"GX-53", "GX-54"}
    drop = [r.id for r in base.rules if r.id not in keep]
    only.write_text(f'[pack]\nid = "only"\nextends = "guangxi"\nremove = {drop!r}\n',
                    encoding="utf-8")
    small = load_pack(only)
    assert [s.id for s in small.standards] == ["GX-53", "GX-54"]
    assert [r.id for r in small.requirements] == ["R16"]
    assert [c.title_zh for c in small.categories] == ["服务管理"]


def test_extends_refusals(tmp_path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[pack]\nid = "a"\nextends = "b.toml"\n', encoding="utf-8")
    b.write_text('[pack]\nid = "b"\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(PackError, match="extends itself"):
        load_pack(a)
    a.write_text('[pack]\nid = "a"\nextends = "atlantis"\n', encoding="utf-8")
    with pytest.raises(PackError, match="no pack 'atlantis'"):
        load_pack(a)
    a.write_text('[pack]\nid = "a"\nextends = "nanhai"\nremove = ["NH-nope"]\n',
                 encoding="utf-8")
    with pytest.raises(PackError, match="remove names rules the base pack lacks: NH-nope"):
        load_pack(a)
    a.write_text('[pack]\nid = "a"\nextends = "nanhai"\n[[rules]]\nid = "NH-greening"\n'
                 'params.min_ratio_by_built = { new = 30, existing = 0.25 }\n', encoding="utf-8")
    with pytest.raises(PackError, match=r"NH-greening: parameter min_ratio_by_built\.new = 30"):
        load_pack(a)


def test_reference_pack_says_so_in_every_view(tmp_path) -> None:

    from geocheck.cli import main

    out = tmp_path / "out"
    assert main(["check", str(SAMPLE), "--pack", "gb50180", "-o", str(out), "-q"]) == 1
    assert "reference values (参考值), not a local standard" in \
        (out / "map.html").read_text(encoding="utf-8")
    from geocheck import check
    from geocheck.views.summary import summarise

    assert "reference values (a national standard cited by name)" in \
        summarise(check(SAMPLE, pack="gb50180"))
