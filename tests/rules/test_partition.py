"""A site judged in spatial pieces gives the same findings as in one piece, byte for byte.

The city is bench/make_city.py's (estates on a grid with streets, paths with a flyover and a
river, facilities planted patchily); cut into pieces of 8 estates, most estates lie on a piece
border, and walks, garbage setbacks and rejects cross those borders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from helpers import ROOT, SAMPLE, write_gpkg

from geocheck.inputs.normalise import normalise
from geocheck.inputs.read import read_layers
from geocheck.rules import partition
from geocheck.rules.judge import judge
from geocheck.rules.packs.load import load_pack
from geocheck.rules.partition import cut, halo_m, plan_pieces
from geocheck.rules.rejects import ELSEWHERE, Losses
from geocheck.scale import judge_in_pieces

sys.path.insert(0, str(ROOT / "bench"))
from make_city import make_city, write_city

PER_PIECE = 8


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "city.gpkg"
    write_city(make_city(42, 3), path)
    return path


def _site(path: Path):
    return normalise(read_layers(path))


def _csv(result) -> str:
    return result.findings.to_csv(index=False)


def test_every_estate_is_judged_in_exactly_one_piece_with_its_neighbours(city: Path) -> None:
    site, pack = _site(city), load_pack("guangxi")
    pieces = plan_pieces(site, pack, PER_PIECE)
    core = np.concatenate([p.core for p in pieces])
    assert np.array_equal(np.sort(core), np.arange(len(site.estates)))
    assert len(pieces) >= 6
    halo = halo_m(pack, walking=True)
    geoms = site.estates.geometry.to_numpy()
    for p in pieces:
        assert set(p.core) <= set(p.members)
        assert len(p.members) > len(p.core)  # neighbours across the border
        # every estate within the halo of the piece's own estates is a member
        own = shapely.union_all(geoms[p.core])
        near = np.flatnonzero(shapely.dwithin(geoms, own, halo * 0.999))
        assert set(near) <= set(p.members)


@pytest.mark.parametrize("distance", ["radius", "walk"])
def test_pieces_give_the_findings_of_one_piece_byte_for_byte(city: Path, distance: str) -> None:
    pack = load_pack("guangxi")
    site = _site(city)
    whole = judge(site, pack, distance=distance)
    attributed = dict(site.ledger.attributed)
    site = _site(city)
    pieces = judge_in_pieces(site, pack, distance=distance, per_piece=PER_PIECE)
    assert len(whole.findings) == 42 * len(pack.rules)
    assert (whole.findings["status"] == "fail").sum() > 0
    assert _csv(pieces) == _csv(whole)
    assert dict(site.ledger.attributed) == attributed
    cols = ["rule_id", "estate_id", "label", "distance_m"]
    assert pieces.evidence[cols].equals(whole.evidence[cols])


def test_without_the_halo_walks_across_borders_come_out_different(city: Path,
                                                                  monkeypatch) -> None:
    """The byte-for-byte test can fail: pieces cut with no halo lose the paths beyond their
    border, and walking verdicts change."""
    pack = load_pack("guangxi")
    whole = judge(_site(city), pack, distance="walk")
    monkeypatch.setattr(partition, "halo_m", lambda pack, walking: 0.0)
    cut_short = judge_in_pieces(_site(city), pack, distance="walk", per_piece=PER_PIECE)
    assert _csv(cut_short) != _csv(whole)


@pytest.fixture(scope="module")
def sample_with_rejects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with three rejected features: a building named to NN-012 with no geometry,
    a building inside NN-003 naming an estate that does not exist, a bus stop with no
    geometry."""
    layers = {name: gpd.read_file(SAMPLE, layer=name) for name, _ in
              pyogrio.list_layers(SAMPLE)}
    b = layers["buildings"]
    inside = layers["estates"].set_index("estate_id").geometry["NN-003"].representative_point()
    extra = gpd.GeoDataFrame(
        {"building_id": ["X-NOGEOM", "X-UNKNOWN"], "use": ["residential", "residential"],
         "estate_id": ["NN-012", "NN-999"]},
        geometry=[None, inside.buffer(4, cap_style="square")], crs=b.crs)
    layers["buildings"] = pd.concat([b, extra], ignore_index=True)
    stops = layers["bus_stops"]
    layers["bus_stops"] = pd.concat(
        [stops, gpd.GeoDataFrame({"id": ["X-STOP"]}, geometry=[None], crs=stops.crs)],
        ignore_index=True)
    return write_gpkg(tmp_path_factory.mktemp("rejects") / "sample.gpkg", layers)


def test_rejects_bear_on_the_same_estates_in_pieces(sample_with_rejects: Path) -> None:
    """Rejected features named to estates in other pieces, lying in one, or nowhere bear on the
    same estates, and make the same verdicts no data, in pieces of 3 estates."""
    pack = load_pack("guangxi")
    site = _site(sample_with_rejects)
    assert len(site.ledger.rejects) == 3
    whole = judge(site, pack)
    attributed = dict(site.ledger.attributed)
    assert sorted(attributed.values()) == ["NN-003", "NN-012", "all"]
    site = _site(sample_with_rejects)
    pieces = judge_in_pieces(site, pack, per_piece=3)
    assert _csv(pieces) == _csv(whole)
    assert dict(site.ledger.attributed) == attributed


def test_a_reject_named_to_an_estate_in_another_piece_is_marked_elsewhere(
        sample_with_rejects: Path) -> None:
    site, pack = _site(sample_with_rejects), load_pack("guangxi")
    losses = Losses.of(site.ledger, site.estates["estate_id"].to_numpy())
    owned = np.flatnonzero(losses.owner >= 0)
    assert len(owned) == 1
    pieces = plan_pieces(site, pack, 3)
    piece = next(p for p in pieces if losses.owner[owned[0]] not in p.members)
    _, piece_losses = cut(site, piece, losses)
    assert piece_losses.owner[owned[0]] == ELSEWHERE
    home = next(p for p in pieces if losses.owner[owned[0]] in p.core)
    _, home_losses = cut(site, home, losses)
    assert home.members[home_losses.owner[owned[0]]] == losses.owner[owned[0]]


def test_one_piece_when_the_site_is_small() -> None:
    site, pack = _site(SAMPLE), load_pack("guangxi")
    [piece] = plan_pieces(site, pack, 1000)
    assert np.array_equal(piece.core, np.arange(len(site.estates)))


def test_halves_judged_beside_give_the_findings_of_one_piece(city: Path, monkeypatch) -> None:
    """The city without its paths in two halves of 21 estates, the second judged in a forked
    process: the findings, rejects' estates and evidence of one piece. With its paths it is
    judged in one piece (the halves' halos would overlap much)."""
    from geocheck import scale
    from geocheck.core.beside import can_fork
    from geocheck.rules.partition import plan_halves

    if not can_fork():
        pytest.skip("needs Linux with two cores or more")
    pack = load_pack("guangxi")

    def site_without_paths():
        site = _site(city)
        del site.layers["paths"]
        return site

    site = site_without_paths()
    halves = plan_halves(site, pack)
    assert [len(p.core) for p in halves] == [21, 21]
    assert np.array_equal(np.sort(np.concatenate([p.core for p in halves])), np.arange(42))
    assert all(len(p.members) > len(p.core) for p in halves)  # neighbours across the cut
    whole = judge(site, pack)
    assert (whole.findings["status"] == "fail").sum() > 0
    attributed = dict(site.ledger.attributed)
    forked = []

    class Spy(scale.Beside):
        def __init__(self, work, fork=True):
            super().__init__(work, fork)
            forked.append(self.forked)

    monkeypatch.setattr(scale, "BESIDE_MIN_ESTATES", 1)
    monkeypatch.setattr(scale, "Beside", Spy)
    site = site_without_paths()
    beside = judge_in_pieces(site, pack, beside=True)
    assert forked == [True]
    assert _csv(beside) == _csv(whole)
    assert dict(site.ledger.attributed) == attributed
    cols = ["rule_id", "estate_id", "label", "distance_m"]
    assert beside.evidence[cols].equals(whole.evidence[cols])
    judge_in_pieces(_site(city), pack, beside=True)  # with paths: one piece, no fork
    assert forked == [True]


def test_a_smaller_pack_is_judged_in_larger_pieces(city: Path, monkeypatch) -> None:
    """By default a piece holds about PIECE_ESTATES x PIECE_RULES estates x rules: with
    PIECE_ESTATES at 3, Guangxi's 98 rules get pieces of 3 estates; a five-rule pack, pieces
    of 3 x 100 // 5 = 60, so the city's estates are judged in one piece; the same findings."""
    from geocheck import scale
    from geocheck.rules.packs.model import Pack

    monkeypatch.setattr(partition, "PIECE_ESTATES", 3)
    full = load_pack("guangxi")
    five = Pack(**{**vars(full), "rules": full.rules[:5]})
    assert len(full.rules) == 98
    assert (partition.piece_estates(full), partition.piece_estates(five)) == (3, 60)
    planned = []
    real = scale.plan_pieces
    monkeypatch.setattr(scale, "plan_pieces",
                        lambda site, pack, n: planned.append(n) or real(site, pack, n))
    site = _site(city)
    assert 3 < len(site.estates) <= 60
    auto = judge_in_pieces(site, five)
    assert planned == []
    assert _csv(auto) == _csv(judge(_site(city), five))
    judge_in_pieces(_site(city), full)
    assert planned == [3]


def test_a_piece_s_box_finds_what_a_spatial_index_finds() -> None:
    """The boxes matched in numpy (:func:`geocheck.rules.partition._in_box`) are those an
    STRtree query with the box gives: polygons, points on the box's edge, empty and missing
    geometries (never found)."""
    from geocheck.rules.partition import _in_box
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1000, 400), rng.uniform(0, 1000, 400)
    geoms = np.concatenate([
        shapely.box(x[:200], y[:200], x[:200] + rng.uniform(0, 50, 200),
                    y[:200] + rng.uniform(0, 50, 200)),
        shapely.points(np.round(x[200:], -1), np.round(y[200:], -1)),
        [shapely.Polygon(), None, shapely.Point(500, 500)]])
    tree = shapely.STRtree(geoms)
    bounds = shapely.bounds(geoms)
    for box in [(0.0, 0.0, 1000.0, 1000.0), (100.0, 200.0, 300.0, 500.0),
                (500.0, 500.0, 500.0, 500.0), (-10.0, -10.0, -1.0, -1.0),
                *[tuple(float(v) for v in (a, b, a + w, b + h)) for a, b, w, h in
                  np.round(rng.uniform(0, 600, (20, 4)), -1)]]:
        want = np.sort(tree.query(shapely.box(*box)))
        assert np.array_equal(_in_box(bounds, box), want), box
