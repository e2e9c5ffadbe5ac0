"""Make docs/opinion.png, the README's picture of a review opinion: the revised test plan
(tests/fixtures/review/project_v2.toml) reviewed against v1 with its planning conditions, and
opinion.html photographed by headless Chromium (``--screenshot``).

    python docs/opinion_screenshot.py [-o docs/opinion.png] [--height 3650]

Needs the system's Chromium (``chromium``, or ``$GEOCHECK_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "review"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "opinion.png")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--height", type=int, default=3650)
    args = ap.parse_args()
    chromium = os.environ.get("GEOCHECK_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        done = subprocess.run([sys.executable, "-m", "geocheck", "review",
                               str(PLANS / "project_v2.toml"), "--against",
                               str(PLANS / "project_v1.toml"), "--conditions",
                               str(PLANS / "conditions.csv"), "--no-pdf", "-q",
                               "-o", str(out)], cwd=ROOT)
        if done.returncode not in (0, 1):
            raise SystemExit(f"geocheck review: exit {done.returncode}")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--window-size={args.width},{args.height}",
                        f"--screenshot={args.output.resolve()}",
                        (out / "opinion.html").as_uri()], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
