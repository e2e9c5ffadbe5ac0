"""Curved geometries (CAD arcs) are read as segments every ARC_STEP_DEGREES, with a note."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from wkb import circle_estate_gpkg

from geocheck.inputs import read
from geocheck.inputs.sources import Source, load_source


def test_a_geopackage_with_a_curve_polygon_is_read_as_a_360_gon(tmp_path) -> None:
    raw = read.read_layers(circle_estate_gpkg(tmp_path / "c.gpkg", radius=100.0))
    est = raw.layers["estates"].set_index("estate_id")
    circle = est.loc["C", "geometry"]
    assert read.ARC_STEP_DEGREES == 1.0
    assert len(circle.exterior.coords) == 360 + 1 + 2  # 360 steps; GDAL keeps the 4 arc points
    assert circle.area == pytest.approx(100**2 * 180 * np.sin(np.radians(1)), rel=1e-5)
    assert est.loc["S", "geometry"].area == pytest.approx(10_000)
    assert raw.notes == ["layer 'estates': 1 curved feature(s) linearised, arcs approximated by "
                         "a segment every 1 degree (within 0.0038% of the radius)"]


def test_a_project_layer_with_curves_is_linearised_every_degree_with_a_note(tmp_path) -> None:
    path = circle_estate_gpkg(tmp_path / "c.gpkg", radius=100.0)
    loaded = load_source(Source(path=path, role="estates"))
    circle = loaded.frame.set_index("estate_id").loc["C", "geometry"]
    assert circle.area == pytest.approx(100**2 * 180 * np.sin(np.radians(1)), rel=1e-5)
    assert any("estates: c.gpkg: 1 curved feature(s) linearised" in n for n in loaded.notes)


def test_layers_read_ahead_are_those_read_at_once_and_their_errors_come_on_lookup(
        tmp_path) -> None:
    import pandas as pd
    import pyogrio

    from geocheck import InputError
    from geocheck.pipeline import check

    path = circle_estate_gpkg(tmp_path / "c.gpkg", radius=100.0)
    now = read.read_layers(path)
    ahead = read.read_layers(path, ahead=True)
    assert isinstance(ahead.layers, read.ArrivingLayers) and list(ahead.layers) == ["estates"]
    assert ahead.layers["estates"].equals(now.layers["estates"])
    assert ahead.notes == now.notes and len(now.notes) == 1  # complete once looked up
    assert _reading_threads()  # still open: its thread waits for more work
    ahead.close()
    assert not _reading_threads()  # closed: its thread has ended
    seen: list[threading.Thread] = []
    check(path, on_read=lambda site, pack: seen.extend(_reading_threads()))
    assert not seen  # a check's reading thread has ended when judging starts (and forks)
    # a role layer with no geometry: read at once it fails the call; read ahead, its lookup
    pyogrio.write_dataframe(pd.DataFrame({"name": ["x"]}), path, layer="bus_stops")
    with pytest.raises(InputError, match="layer 'bus_stops' has no geometry column"):
        read.read_layers(path)
    ahead = read.read_layers(path, ahead=True)
    assert len(ahead.layers["estates"]) == 2
    with pytest.raises(InputError, match="layer 'bus_stops' has no geometry column"):
        ahead.layers["bus_stops"]
    ahead.close()
    with pytest.raises(InputError, match="layer 'bus_stops' has no geometry column"):
        check(path)  # and a check (which reads ahead) says so, not waiting for the thread,
    for thread in _reading_threads():  # which ends by itself
        thread.join(timeout=30)
    assert not _reading_threads()


def _reading_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("geocheck-read")]
