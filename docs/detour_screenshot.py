"""Make docs/detour.png, the README's picture of a detour: the Beijing OpenStreetMap extract
checked with ``--distance walk``, map.html opened in headless Chromium and framed on one estate
whose nearest bus stop is close as the crow flies but far on foot.

    python docs/detour_screenshot.py [--estate osm:way/960760118] [-o docs/detour.png]

Needs Playwright and the system's Chromium (the test extra). Basemap tiles are not fetched: the
picture shows geocheck's own layers on a blank ground.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import Browser  # noqa: E402  (the tests' headless-Chromium harness)

EXTRACT = ROOT / "layers" / "osm" / "beijing_haidian_liudaokou_2026.osm"

FRAME = """([estate, margin]) => {
  var hit = null;
  GEOCHECK.estates.eachLayer(function(l) {
    if (l.feature && l.feature.properties.i === estate) hit = l; });
  if (!hit) return false;
  GEOCHECK.overlays.forEach(function(o) {
    var wanted = /paths|route|evidence/i.test(o[0]) && !/catchment/i.test(o[0]);
    if (wanted && !GEOCHECK.map.hasLayer(o[1])) GEOCHECK.map.addLayer(o[1]); });
  GEOCHECK.map.fitBounds(hit.getBounds().pad(margin));
  return true;
}"""


def geocheck(*args: str) -> None:
    """Run ``python -m geocheck ARGS`` (exit 1, rules failing, is expected)."""
    done = subprocess.run([sys.executable, "-m", "geocheck", *args], cwd=ROOT)
    if done.returncode not in (0, 1):
        raise SystemExit(f"geocheck {' '.join(args)}: exit {done.returncode}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--estate", default="osm:way/960760118")
    ap.add_argument("--margin", type=float, default=1.5, help="padding around the estate")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "detour.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site, out = Path(tmp) / "bj.gpkg", Path(tmp) / "out"
        geocheck("import", "osm", str(EXTRACT), "-o", str(site))
        geocheck("check", str(site), "--distance", "walk", "--format", "map", "--offline",
                 "-q", "-o", str(out))
        browser = Browser()
        try:
            page = browser.open(out / "map.html")
            if not page.js(FRAME, [args.estate, args.margin]):
                raise SystemExit(f"estate {args.estate} is not on the map")
            page.page.wait_for_timeout(500)
            page.page.screenshot(path=str(args.output))
        finally:
            browser.close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
