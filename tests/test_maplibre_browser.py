"""MapLibre GL JS (the copy vendored in /static/maplibre) on a page of ANOTHER origin, in headless Debian
Chromium with no network: it loads onemap's keyless style, a TileJSON and the tiles cross-origin (CORS, the
key sent as a header from transformRequest), and draws the buildings."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.browser import Page, chromium, chromium_available, free_port, platform_server
from tests.test_viewer_browser import planner_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["planner_key"]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="{onemap}/static/maplibre/maplibre-gl.css">
<script src="{onemap}/static/maplibre/maplibre-gl.js"></script>
<style>html, body, #map {{ margin: 0; height: 100%; }}</style></head>
<body><div id="map"></div><script>
var key = new URLSearchParams(location.search).get("key");
var seen = [];  // every request MapLibre makes (tiles are fetched by its worker, which the page's log misses)
var map = new maplibregl.Map({{
  container: "map", style: "{onemap}/styles/onemap.json", center: [{lon}, {lat}], zoom: 16,
  // The style carries no key; a client that has one sends it as a header on onemap's own requests.
  transformRequest: function (url, kind) {{
    var keyed = url.indexOf("{onemap}") === 0 && key;
    seen.push({{url: url, kind: kind, keyed: !!keyed}});
    return keyed ? {{url: url, headers: {{"X-API-Key": key}}}} : {{url: url}};
  }}
}});
map.on("load", function () {{
  map.addSource("single", {{type: "vector",
    url: "{onemap}/collections/buildings/tiles/WebMercatorQuad/tilejson.json"}});
  map.addLayer({{id: "single-outline", type: "line", source: "single", "source-layer": "buildings",
    paint: {{"line-color": "#ff0000"}}}});
}});
map.on("idle", function () {{ if (map.getLayer("single-outline")) document.body.dataset.idle = "1"; }});
map.on("error", function (e) {{ console.error("maplibre: " + (e.error && e.error.message)); }});
</script></body></html>
"""


@pytest.fixture(scope="module")
def onemap(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with platform_server(database_url, tmp_path_factory.mktemp("maplibre-server")) as base:
        yield base


@pytest.fixture(scope="module")
def centre(database_url: str) -> tuple[float, float]:
    import sqlalchemy as sa

    from spatial.database import engine_for

    with engine_for(database_url).connect() as conn:
        row = conn.execute(
            sa.text("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM onemap.building "
                    "ORDER BY ST_Area(geom) DESC LIMIT 1")
        ).one()
    return float(row[0]), float(row[1])


@pytest.fixture(scope="module")
def other_origin(onemap: str, centre: tuple[float, float], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second local web server (another port: another origin) serving only the map page."""
    root: Path = tmp_path_factory.mktemp("other-origin")
    (root / "map.html").write_text(PAGE.format(onemap=onemap, lon=centre[0], lat=centre[1]))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Callable[[], Page]]:
    assert chromium_available(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with chromium() as new_page:
        yield new_page


def _rendered(page: Page, layers: list[str]) -> int:
    return int(page.evaluate(f"map.queryRenderedFeatures({{layers: {layers!r}}}).length"))


@pytest.mark.parametrize("keyed", [False, True])
def test_maplibre_on_another_origin_draws_onemap(
    browser: Callable[[], Page], onemap: str, other_origin: str, planner_key: str, keyed: bool
) -> None:
    page = browser()
    page.goto(f"{other_origin}/map.html" + (f"?key={planner_key}" if keyed else ""))
    page.wait_until("document.body.dataset.idle === '1'", 90)
    page.pump(0.5)
    assert _rendered(page, ["buildings"]) > 0  # from the style's one multi-layer vector source
    assert _rendered(page, ["single-outline"]) > 0  # from the TileJSON's source
    assert page.console_errors() == []
    assert page.failed_requests() == []
    made = page.evaluate("seen")
    urls = list(page.requests().values()) + [r["url"] for r in made]
    assert all(u.startswith(("http://127.0.0.1", "data:", "blob:")) for u in urls), urls
    tiles = [r for r in made if r["kind"] == "Tile"]
    assert any(r["url"].startswith(f"{onemap}/tiles/WebMercatorQuad/16/") for r in tiles)  # cross-origin
    assert any(r["url"].startswith(f"{onemap}/collections/buildings/tiles/WebMercatorQuad/16/") for r in tiles)
    assert any(r["url"] == f"{onemap}/collections/buildings/tiles/WebMercatorQuad/tilejson.json" for r in made)
    assert not any("api_key=" in u for u in urls)  # the key never rides in a URL
    assert all(r["keyed"] == keyed for r in made if r["url"].startswith(onemap))
    if keyed:  # internal layers the planner may read come in the same one source
        assert "enterprises" in page.evaluate("JSON.stringify(map.getStyle().sources.onemap.tiles)")
