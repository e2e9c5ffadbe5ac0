"""Open geocheck's HTML outputs in headless Chromium (Debian's ``chromium``) with Playwright.

The browser never reaches the internet: Leaflet's CDN files are answered from the copy the
``django-js-lib-leaflet`` package ships, map tiles with a blank PNG, and anything else is
refused and recorded, so a test can assert exactly what a page asked for.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from geocheck.views.webmap import LEAFLET_CSS, LEAFLET_JS

BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
TILE_HOSTS = ("tile.openstreetmap.org", "autonavi.com", "tianditu.gov.cn")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium_path() -> str | None:
    """The Chromium to drive: ``$GEOCHECK_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("GEOCHECK_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")


def _leaflet(name: str) -> bytes:
    return (resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet" / name).read_bytes()


@dataclass
class Page:
    """A loaded page: the Playwright page, uncaught script errors, console errors, and the
    URLs requested (served locally or refused)."""

    page: Any
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def choose(self, label: str) -> None:
        """Tick a layer-control entry by its label and wait for the tiles it asks for."""
        self.page.get_by_label(label, exact=True).check()
        self.page.wait_for_load_state("networkidle")


class Browser:
    """One headless Chromium for a test session."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        path = chromium_path()
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)

    def open(self, path: Path, *, serve_leaflet: bool = True) -> Page:
        """Open a local HTML file and wait until it has loaded."""
        context = self._browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        out = Page(page)
        page.on("pageerror", lambda e: out.errors.append(str(e)))
        page.on("console", lambda m: out.console_errors.append(m.text)
                if m.type == "error" else None)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith("file:") or url.startswith("data:"):
                r.continue_()
            elif serve_leaflet and url in (LEAFLET_JS, LEAFLET_CSS):
                out.served.append(url)
                r.fulfill(body=_leaflet("leaflet.js" if url == LEAFLET_JS else "leaflet.css"),
                          content_type="text/javascript" if url == LEAFLET_JS else "text/css")
            elif any(h in url for h in TILE_HOSTS):
                out.tiles.append(url)
                r.fulfill(body=BLANK_PNG, content_type="image/png")
            else:
                out.refused.append(url)
                r.abort()

        context.route("**/*", route)
        page.goto(path.resolve().as_uri(), wait_until="load")
        return out

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()
