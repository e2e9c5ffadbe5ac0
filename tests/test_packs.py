"""Rule packs: shipped packs load; malformed packs are refused naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    rules = {r.id: r for r in load_pack("guangxi").rules}
    assert list(rules) == ["GX-53", "GX-06-garbage-radius", "GX-06-garbage-setback",
                           "GX-06-kindergarten", "GX-10-greening"]
    assert rules["GX-53"].params["max_m"] == {"bus_stops": 500.0, "rail_stations": 800.0}
    assert rules["GX-10-greening"].params["min_ratio"] == 0.35
    assert "R16" in rules["GX-53"].citation and "GX-53" in rules["GX-53"].citation


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
