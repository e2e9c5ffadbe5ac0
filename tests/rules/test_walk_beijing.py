"""Walking distances on a real extract equal an independent networkx computation (issue 12).

The Beijing extract (Haidian, Liudaokou) is imported with ``geocheck import osm``; its paths,
estates and facility layers are read back from the GeoPackage with geopandas and projected to
the working CRS. The oracle below is written from the issue's rules, not from geocheck's code:

- nodes are the vertices of the paths rounded to 0.05 m (the extract's ways share their
  vertices exactly, checked below), each straight segment an edge of its own length;
- a point joins at the nearest point of the nearest segment (found by brute force over every
  segment), splitting it there, by a straight leg that counts;
- a polygon part a segment touches starts at 0 m from every vertex inside or on it and from
  every point where a segment meets its boundary (splitting the segment there); a part no
  segment touches joins like a point, from the nearest point of its boundary;
- a facility touching the estate is 0 m away;
- networkx Dijkstra from one extra node linked to every facility's joins by their legs gives
  each node's walk to the nearest facility; an origin's walk is the least node walk + leg.

Every walk geocheck reports (``walk_m``) must equal the oracle's to the millimetre; where the
oracle's walk is longer than the search limit (1.6 x the largest threshold for the layer),
``walk_m`` is blank.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from helpers import OSM_DIR

import geocheck
from geocheck.cli import main
from geocheck.rules.packs.load import load_pack
from geocheck.rules.walking import LIMIT_RATIO

BEIJING = OSM_DIR / "beijing_haidian_liudaokou_2026.osm"
GRID_M = 0.05
FACILITIES = ("bus_stops", "rail_stations", "kindergartens", "schools", "green_space",
              "clinics")

# One rule per facility layer, far enough (2 km, searched to 3.2 km) for every estate of the
# extract to have a walk; and a rule walking from every residential building to a bus stop.
PACK = """
[pack]
id = "bjwalk"
title_zh = "北京步行"
title_en = "Beijing walks"
document = "hand-made"
""" + "".join(f"""
[[rules]]
id = "W-{role}"
title_zh = "{role}"
title_en = "{role} within 2 km"
citation = "hand-made"
check = "nearest_within"
params.max_m = {{ {role} = 2000 }}
""" for role in FACILITIES) + """
[[rules]]
id = "W-buildings"
title_zh = "住宅楼"
title_en = "Every residential building within 1 km of a bus stop"
citation = "hand-made"
check = "buildings_within"
params.layer = "bus_stops"
params.max_m = 1000
"""

# Thresholds as the shipped packs write them (Guangxi GX-53, GB 50180-2018's kindergartens,
# Nanhai's green space and 15-minute medical circle), searched only to 1.6 x each: some walks
# are beyond the search and blank.
TIGHT = """
[pack]
id = "bjtight"
title_zh = "北京步行"
title_en = "Beijing walks, as the packs read them"
document = "hand-made"

[[attributes]]
key = "medical_min"
title_zh = "步行至卫生服务站时间"
title_en = "Walk to the nearest clinic"
kind = "number"
unit = "分钟"

[[rules]]
id = "T-transit"
title_zh = "公交"
title_en = "A bus stop within 500 m or a rail station within 800 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = { bus_stops = 500, rail_stations = 800 }

[[rules]]
id = "T-kindergarten"
title_zh = "幼儿园"
title_en = "A kindergarten within 300 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = { kindergartens = 300 }

[[rules]]
id = "T-green"
title_zh = "绿地"
title_en = "Green space within 500 m"
citation = "hand-made"
check = "nearest_within"
params.max_m = { green_space = 500 }

[[rules]]
id = "T-medical"
title_zh = "15分钟诊疗服务圈"
title_en = "A clinic within a 15-minute walk"
citation = "hand-made"
check = "walk_minutes"
params.layer = "clinics"
params.max_min = 15
params.attribute = "medical_min"
"""


# ---------------------------------------------------------------- the oracle, with networkx

class Oracle:
    """The paths as a networkx graph, split at the joins of the origins and facilities."""

    def __init__(self, paths: np.ndarray) -> None:
        seg = []
        for line in shapely.get_parts(paths):
            xy = shapely.get_coordinates(line)
            seg += [(xy[i], xy[i + 1]) for i in range(len(xy) - 1)]
        self.a = np.array([s[0] for s in seg])
        self.b = np.array([s[1] for s in seg])
        self.length = np.hypot(*(self.b - self.a).T)
        keep = self.length > 0
        self.a, self.b, self.length = self.a[keep], self.b[keep], self.length[keep]
        self.lines = shapely.linestrings(np.stack([self.a, self.b], axis=1))
        self.cuts: dict[int, set[float]] = defaultdict(set)  # segment -> distances along it
        self.graph: nx.Graph | None = None

    @staticmethod
    def key(xy) -> tuple[int, int]:
        return (round(xy[0] / GRID_M), round(xy[1] / GRID_M))

    def _at(self, s: int, t: float) -> tuple:
        """The node ``t`` metres along segment ``s`` (registering the cut)."""
        if t <= 1e-9:
            return self.key(self.a[s])
        if t >= self.length[s] - 1e-9:
            return self.key(self.b[s])
        self.cuts[s].add(t)
        return ("cut", s, t)

    def _project(self, s: int, xy: np.ndarray) -> float:
        d = self.b[s] - self.a[s]
        return float(np.clip(np.dot(xy - self.a[s], d) / self.length[s], 0, self.length[s]))

    def joins(self, geom) -> list[tuple[object, float]]:
        """(node, leg in metres) where a geometry starts its walk."""
        out = []
        for part in shapely.get_parts(geom):
            if part.geom_type == "Point":
                d = shapely.distance(self.lines, part)
                s = int(np.argmin(d))
                xy = shapely.get_coordinates(part)[0]
                out.append((self._at(s, self._project(s, xy)), float(d[s])))
                continue
            touched = np.flatnonzero(shapely.intersects(self.lines, part))
            if not len(touched):
                d = shapely.distance(self.lines, part)
                s = int(np.argmin(d))
                on_seg = shapely.get_coordinates(shapely.shortest_line(self.lines[s], part))[0]
                out.append((self._at(s, self._project(s, on_seg)), float(d[s])))
                continue
            for s in touched:
                for end in (self.a[s], self.b[s]):
                    if part.covers(shapely.Point(end)):
                        out.append((self.key(end), 0.0))
                meet = shapely.get_coordinates(self.lines[s].intersection(part.boundary))
                out += [(self._at(s, self._project(s, xy)), 0.0) for xy in meet]
        return out

    def build(self) -> nx.Graph:
        """The graph, with each segment cut at its joins."""
        g = nx.Graph()
        for s in range(len(self.length)):
            ts = sorted(self.cuts.get(s, ()))
            nodes = [self.key(self.a[s]), *(("cut", s, t) for t in ts), self.key(self.b[s])]
            along = [0.0, *ts, float(self.length[s])]
            for k in range(len(nodes) - 1):
                w = along[k + 1] - along[k]
                u, v = nodes[k], nodes[k + 1]
                if u != v and (not g.has_edge(u, v) or g[u][v]["weight"] > w):
                    g.add_edge(u, v, weight=w)
        return g

    @staticmethod
    def walks(g: nx.Graph, facilities: list[list[tuple[object, float]]],
              origins: list[list[tuple[object, float]]]) -> np.ndarray:
        """Walk (metres) from each origin's joins to the nearest facility's joins."""
        g = g.copy()
        for joins in facilities:
            for node, leg in joins:
                if not g.has_edge("source", node) or g["source"][node]["weight"] > leg:
                    g.add_edge("source", node, weight=leg)
        dist = nx.single_source_dijkstra_path_length(g, "source", weight="weight")
        return np.array([min((dist.get(n, np.inf) + leg for n, leg in joins), default=np.inf)
                         for joins in origins])


# ---------------------------------------------------------------- the fixtures

@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bj") / "bj.gpkg"
    assert main(["import", "osm", str(BEIJING), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("packs")
    (folder / "bjwalk.toml").write_text(PACK, encoding="utf-8")
    (folder / "bjtight.toml").write_text(TIGHT, encoding="utf-8")
    return {"bjwalk": folder / "bjwalk.toml", "bjtight": folder / "bjtight.toml"}


@pytest.fixture(scope="module")
def runs(imported: Path, packs) -> dict[tuple[str, str], geocheck.Result]:
    return {(name, d): geocheck.check(imported, pack=packs[name], distance=d)
            for name, d in (("bjwalk", "radius"), ("bjwalk", "walk"), ("bjtight", "walk"))}


@pytest.fixture(scope="module")
def oracle(imported: Path, runs) -> dict[str, np.ndarray]:
    """Per facility layer, the oracle's walk from each estate (in the findings' order) and,
    under ``"buildings"``, from each residential building to the nearest bus stop."""
    site = runs["bjwalk", "walk"].site
    crs = site.crs

    def read(role: str) -> gpd.GeoDataFrame:
        gdf = gpd.read_file(imported, layer=role).to_crs(crs)
        return gdf[gdf.geometry.notna()]

    paths = read("paths").geometry.to_numpy()
    coords = shapely.get_coordinates(paths)
    exact = len(np.unique(coords, axis=0))
    assert len({Oracle.key(xy) for xy in coords}) == exact  # no two vertices share a cell
    o = Oracle(paths)
    estates = read("estates").set_index("estate_id").loc[site.estates["feature_id"]]
    estates = estates.geometry.to_numpy()
    res = site.layer("buildings")
    res = res[res["residential"].to_numpy() & (res["estate_pos"].to_numpy() >= 0)]
    est_joins = [o.joins(e) for e in estates]
    bld_joins = [o.joins(b) for b in res.geometry.to_numpy()]
    layers = {role: read(role).geometry.to_numpy() for role in FACILITIES}
    fac_joins = {role: [o.joins(f) for f in geoms] for role, geoms in layers.items()}
    g = o.build()
    out = {}
    for role, geoms in layers.items():
        walk = Oracle.walks(g, fac_joins[role], est_joins)
        touching = shapely.intersects(estates[:, None], geoms[None, :]).any(axis=1)
        out[role] = np.where(touching, 0.0, walk)
    walk = Oracle.walks(g, fac_joins["bus_stops"], bld_joins)
    touching = shapely.intersects(res.geometry.to_numpy()[:, None],
                                  layers["bus_stops"][None, :]).any(axis=1)
    out["buildings"] = np.where(touching, 0.0, walk)
    out["buildings_estate"] = res["estate_pos"].to_numpy()
    return out


def _agree(walk_m: np.ndarray, expected: np.ndarray, limit_m: float) -> None:
    """geocheck's walk_m equals the oracle's to the millimetre; blank beyond the limit."""
    found = np.isfinite(walk_m)
    assert (found == (expected <= limit_m)).all(), (walk_m, expected)
    np.testing.assert_allclose(walk_m[found], expected[found], rtol=0, atol=1e-3)


# ---------------------------------------------------------------- the tests

def test_the_extract_has_what_the_comparison_needs(runs, oracle) -> None:
    result = runs["bjwalk", "walk"]
    assert len(result.site.estates) == 10
    for role in FACILITIES:
        assert len(result.site.layer(role)) >= 2, role
    assert len(oracle["buildings"]) >= 50
    # the walks are not all zero nor all the straight line: there is something to compare
    f = result.findings.set_index(["rule_id", "estate_id"])
    bus = f.loc["W-bus_stops"]
    assert (bus["walk_m"] > 0).sum() >= 8


@pytest.mark.parametrize("distance", ["radius", "walk"])
def test_every_walk_equals_networkx(runs, oracle, distance: str) -> None:
    f = runs["bjwalk", distance].findings
    ids = runs["bjwalk", distance].site.estates["feature_id"].to_numpy()
    for role in FACILITIES:
        rows = f[f["rule_id"] == f"W-{role}"].set_index("estate_id").loc[ids]
        walk = rows["walk_m"].to_numpy(dtype=float)
        _agree(walk, oracle[role], LIMIT_RATIO * 2000)
        assert np.isfinite(walk).sum() >= 9, role  # one estate has no station within 3.2 km
        if distance == "walk":
            np.testing.assert_allclose(rows["value"].to_numpy(dtype=float), walk, atol=1e-9)
    # the buildings' rule: walk_m is each estate's longest building walk
    rows = f[f["rule_id"] == "W-buildings"].set_index("estate_id").loc[ids]
    longest = np.full(len(ids), np.nan)
    est, walk = oracle["buildings_estate"], oracle["buildings"]
    for e in np.unique(est):
        longest[e] = walk[est == e].max()
    has = ~np.isnan(longest)
    assert has.sum() >= 8 and np.isfinite(longest).sum() >= 6
    # searched to 1.6 x the larger of the layer's thresholds (2 km for bus stops)
    _agree(rows["walk_m"].to_numpy(dtype=float)[has], longest[has], LIMIT_RATIO * 2000)


def test_the_packs_thresholds_walk_as_networkx(runs, oracle, packs) -> None:
    """Distance rules on foot with the shipped packs' thresholds: walk_m (and the value
    judged) equal the oracle's walk to the layer that decided, within the search limit (1.6 x
    the layer's largest threshold); beyond it, blank."""
    loaded = load_pack(packs["bjtight"])
    reach = {"bus_stops": 500.0, "rail_stations": 800.0, "kindergartens": 300.0,
             "green_space": 500.0, "clinics": 900.0}  # 15 minutes at 1 m/s
    result = runs["bjtight", "walk"]
    ids = result.site.estates["feature_id"].to_numpy()
    compared = blank = 0
    for rule in loaded.rules:
        if rule.check not in ("nearest_within", "walk_minutes"):
            continue
        roles = (list(rule.params["max_m"]) if rule.check == "nearest_within"
                 else [rule.params["layer"]])
        limits = (dict(rule.params["max_m"]) if rule.check == "nearest_within"
                  else {rule.params["layer"]: reach[rule.params["layer"]]})
        roles = [r for r in roles if r in oracle]
        if not roles:
            continue
        f = result.findings
        rows = f[f["rule_id"] == rule.id].set_index("estate_id").loc[ids]
        walk = rows["walk_m"].to_numpy(dtype=float)
        # the layer that decides: the first that passes on foot, else the first
        passing = [oracle[r] <= limits[r] + 5e-4 for r in roles]
        decider = np.where(np.any(passing, axis=0), np.argmax(passing, axis=0), 0)
        expected = np.choose(decider, [oracle[r] for r in roles])
        limit = np.choose(decider, [LIMIT_RATIO * reach[r] for r in roles])
        found = np.isfinite(walk)
        assert (found == (expected <= limit)).all(), (rule.id, walk, expected)
        np.testing.assert_allclose(walk[found], expected[found], rtol=0, atol=1e-3)
        np.testing.assert_allclose(rows["value"].to_numpy(dtype=float)[found], walk[found],
                                   atol=1e-9)
        compared += found.sum()
        blank += (~found).sum()
    assert compared >= 20 and blank >= 10
