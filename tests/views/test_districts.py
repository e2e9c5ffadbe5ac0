"""The map of a run above the size budget: district pages linked from an index map. Every
estate on exactly one page, no page above the budget, everything escaped, and the pages
committed and cleaned up like every other output."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers import SAMPLE, SHEET, estate, rect

import geocheck
from geocheck.views import webmap
from geocheck.views.webmap import write_maps
from geocheck.views.webmap.districts import page_name, split_districts
from geocheck.write import write_outputs

ESTATE_IDS = re.compile(r'"i": ?"((?:[^"\\]|\\.)*)"')
"""An estate's id in a page's GeoJSON (the search box's raw id property)."""


def estates_on(page: str) -> list[str]:
    return [json.loads(f'"{m}"') for m in ESTATE_IDS.findall(page)]


def test_split_halves_until_every_district_fits() -> None:
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 10_000, size=(1000, 2))
    parts = split_districts(centres, 100)
    # 1,000 -> 2 x 500 -> 4 x 250 -> 8 x 125 -> 16 x 62 or 63
    assert len(parts) == 16 and sorted({len(p) for p in parts}) == [62, 63]
    together = np.concatenate(parts)
    assert len(together) == 1000 and set(together.tolist()) == set(range(1000))
    assert split_districts(centres, 1000) == [] or len(split_districts(centres, 1000)) == 1
    with pytest.raises(ValueError):
        split_districts(centres, 0)


def test_split_is_spatial() -> None:
    # two clusters 10 km apart, 6 estates each: a budget of 6 puts each cluster on its own
    west = np.column_stack([np.arange(6) * 10.0, np.zeros(6)])
    east = west + np.array([10_000.0, 0.0])
    centres = np.vstack([east[:3], west, east[3:]])  # positions 0-2 and 9-11 east, 3-8 west
    parts = split_districts(centres, 6)
    assert [p.tolist() for p in parts] == [[3, 4, 5, 6, 7, 8], [0, 1, 2, 9, 10, 11]]


def test_a_run_above_the_budget_gets_district_pages(sample, tmp_path) -> None:
    # the sample's 12 estates, at most 5 a page: 12 -> 6 + 6 -> four districts of 3
    paths = write_maps(sample, tmp_path / "map.html", max_estates=5)
    assert [p.name for p in paths] == ["map.html", *(page_name(k) for k in range(1, 5))]
    seen = []
    for p in paths[1:]:
        page = p.read_text(encoding="utf-8")
        ids = estates_on(page)
        assert 1 <= len(ids) <= 5  # the budget
        seen += ids
        assert "geocheckPopup" in page  # a whole map of its own
    assert sorted(seen) == sorted(sample.site.estates["estate_id"])  # each exactly once
    index = paths[0].read_text(encoding="utf-8")
    # the index holds the districts (searchable by page), not the estates
    assert estates_on(index) == [page_name(k) for k in range(1, 5)]
    assert not any(e in index for e in sample.site.estates["estate_id"])
    for k in range(1, 5):
        assert re.search(f'"page": ?"{page_name(k)}"', index)
    tips = re.findall(r'"tip": ?"district (\d+): (\d+) estates, (\d+) fail', index)
    assert [int(n) for _, n, _ in tips] == [3, 3, 3, 3]
    overall = sample.overall()
    assert sum(int(f) for _, _, f in tips) == int((overall == "fail").sum())


def test_a_run_within_the_budget_is_one_page(sample, tmp_path) -> None:
    paths = write_maps(sample, tmp_path / "map.html", max_estates=12)
    assert paths == [tmp_path / "map.html"]
    assert sorted(estates_on(paths[0].read_text(encoding="utf-8"))) == \
        sorted(sample.site.estates["estate_id"])


def test_district_pages_escape_the_data(gpkg, tmp_path) -> None:
    names = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>", "a&b"]
    path = gpkg(estates=[estate(f"E{i}<b>", rect(300 * i, 0, 300 * i + 100, 100), name=n)
                         for i, n in enumerate(names)])
    result = geocheck.check(path)
    paths = write_maps(result, tmp_path / "map.html", max_estates=1)
    assert len(paths) == 4
    for p in paths:
        page = p.read_text(encoding="utf-8")
        assert "<img src=x" not in page and "alert(2)</script>" not in page
        assert "E0<b>" not in page


def test_pages_are_committed_and_stale_ones_removed(sample, tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr(webmap, "MAP_ESTATES_MAX", 5)
    written = write_outputs(sample, out, formats=("map",), inputs=[SAMPLE, SHEET])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["geocheck-run.json", "map-001.html", "map-002.html", "map-003.html",
                     "map-004.html", "map.html"]
    manifest = json.loads((out / "geocheck-run.json").read_text(encoding="utf-8"))
    assert sorted(f["name"] for f in manifest["files"]) == names[1:]
    assert written["map_004"] == out / "map-004.html"
    assert written.notes == ["map.html: 12 estates are more than one page draws (5); map.html "
                             "is an index of 4 districts, each on a page of its own "
                             "(map-001.html ... map-004.html)"]
    (out / "map-notes.html").write_text("the user's own file", encoding="utf-8")
    monkeypatch.setattr(webmap, "MAP_ESTATES_MAX", 12)
    written = write_outputs(sample, out, formats=("map",), inputs=[SAMPLE, SHEET])
    assert sorted(p.name for p in out.iterdir()) == ["geocheck-run.json", "map-notes.html",
                                                    "map.html"]
    assert sorted(written.removed) == [page_name(k) for k in range(1, 5)]
    assert written.notes == []


def test_the_index_and_a_district_page_open_in_a_browser(browser, sample, tmp_path) -> None:
    paths = write_maps(sample, tmp_path / "map.html", max_estates=5)
    index = browser.open(paths[0])
    assert index.errors == [] and index.console_errors == []
    pages = index.js("() => { var out = []; GEOCHECK.estates.eachLayer(function(l) { "
                     "out.push(l.feature.properties.page); }); return out.sort(); }")
    assert pages == [page_name(k) for k in range(1, 5)]
    page = browser.open(paths[2])
    assert page.errors == [] and page.console_errors == []
    ids = page.js("() => { var out = []; GEOCHECK.estates.eachLayer(function(l) { "
                  "out.push(l.feature.properties.i); }); return out.sort(); }")
    assert ids == sorted(estates_on(paths[2].read_text(encoding="utf-8"))) and len(ids) == 3


def test_the_index_writes_template_braces_as_they_are(sample, tmp_path) -> None:
    # The index's note is raw HTML, not a template: "{{ 7*7 }}" is not read as "49".
    import dataclasses

    result = dataclasses.replace(sample, pack=dataclasses.replace(sample.pack,
                                                                  id="{{ 7*7 }}<b>"))
    index = write_maps(result, tmp_path / "map.html", max_estates=5)[0]
    page = index.read_text(encoding="utf-8")
    assert "geocheck · {{ 7*7 }}&lt;b&gt;</b>" in page and "geocheck · 49" not in page
