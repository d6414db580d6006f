"""The one-map viewer in headless Debian Chromium, with no network, against a real uvicorn on the test
database: no console errors, no failed requests, vector tiles drawn, a layer toggled, the time slider moved
(tiles asked
again with datetime=), a building clicked and its masked file read."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from spatial.database import engine_for
from tests.browser import Page, chromium, chromium_available, platform_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Non-transparent pixels drawn by a vector layer's canvas tiles.
DRAWN = """(function (id) {
  var e = onemap.entries.find(function (x) { return x.id === id; });
  var n = 0;
  Object.values(e.layer._tiles || {}).forEach(function (t) {
    var c = t.el && (t.el.tagName === 'CANVAS' ? t.el : t.el.querySelector('canvas'));
    if (!c || !c.width) return;
    var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (var i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
  });
  return n;
})(%r)"""


@pytest.fixture(scope="module")
def planner_key(database_url: str) -> str:
    from api.auth import create_key

    with engine_for(database_url).begin() as conn:
        return create_key(conn, "browser planner", "planner").key


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with platform_server(database_url, tmp_path_factory.mktemp("viewer-server")) as base:
        # The DEM's COG is made on first use: make it before the pages ask for hillshade tiles all at once.
        with engine_for(database_url).connect() as conn:
            dem = conn.execute(sa.text("SELECT id FROM onemap.layer WHERE id = 'dem'")).scalar()
        if dem:
            url = f"{base}/collections/{dem}/tiles/WebMercatorQuad/12/3346/1782?style=hillshade"
            with urllib.request.urlopen(url, timeout=60):
                pass
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Callable[[], Page]]:
    # CI installs Debian's chromium: its absence is a failure, never a skip.
    assert chromium_available(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with chromium() as new_page:
        yield new_page


def open_map(new_page: Callable[[], Page], url: str) -> Page:
    page = new_page()
    page.goto(url)
    page.wait_until("document.documentElement.getAttribute('data-onemap-ready') === '1'", 60)
    page.pump(1.0)
    return page


def assert_clean(page: Page) -> None:
    assert page.console_errors() == []
    assert page.failed_requests() == []
    outside = [u for u in page.requests().values() if not u.startswith(("http://127.0.0.1", "data:"))]
    assert outside == []


def test_one_map_draws_toggles_and_moves_in_time(browser: Callable[[], Page], server: str,
                                                 planner_key: str, tmp_path: Path) -> None:
    page = open_map(browser, f"{server}/map?api_key={planner_key}")
    assert_clean(page)
    page.screenshot(tmp_path / "map.png")
    assert page.wait_until(DRAWN % "buildings", 20) > 100  # vector tiles drawn on canvas
    assert page.wait_until(DRAWN % "streets", 20) > 50
    groups = page.evaluate(
        "Array.from(document.querySelectorAll('.om-group legend')).map(l => l.textContent)")
    assert "住建 Housing" in groups and "网格 Grid management" in groups
    assert page.evaluate("document.querySelectorAll('.om-legend-layer').length") >= 3

    # toggle the buildings off and on through the switcher
    box = "document.querySelector('input[data-layer=buildings]')"
    page.evaluate(f"{box}.click()")
    assert page.evaluate("onemap.map.hasLayer(onemap.entries.find(e => e.id === 'buildings').layer)") is False
    assert page.evaluate("!document.querySelector('.om-legend-layer[data-layer=buildings]')")
    page.evaluate(f"{box}.click()")
    assert page.evaluate("onemap.map.hasLayer(onemap.entries.find(e => e.id === 'buildings').layer)") is True

    # move the time slider back a year: every temporal layer asks for its tiles again with datetime=
    page.events.clear()
    page.evaluate("""(function () { var s = onemap.slider.input; s.value = s.max - 12;
                     s.dispatchEvent(new Event('change')); })()""")
    page.wait_until("onemap.datetime !== null", 5)
    page.pump(3.0)
    asked = [u for u in page.requests().values() if "datetime=" in u]
    assert any("/collections/buildings/tiles/" in u for u in asked), asked[:5]
    assert any("/map/heat" in u for u in asked)
    assert_clean(page)  # the redrawn tiles, "as of" a year ago, all load


def _building_inside(db: psycopg.Connection) -> tuple[str, float, float]:
    row = db.execute("""
        SELECT b.code, ST_X(p), ST_Y(p) FROM onemap.building b, ST_PointOnSurface(b.geom) p
        WHERE EXISTS (SELECT 1 FROM onemap.house_unit h JOIN onemap.residence r ON r.house_unit_id = h.id
                      WHERE h.building_id = b.id)
        ORDER BY ST_Area(b.geom) DESC LIMIT 1""").fetchone()
    assert row is not None
    return str(row[0]), float(row[1]), float(row[2])


def test_click_a_building_reads_its_masked_file(browser: Callable[[], Page], server: str, planner_key: str,
                                                db: psycopg.Connection) -> None:
    code, lon, lat = _building_inside(db)
    names = [r[0] for r in db.execute("""
        SELECT p.name FROM onemap.person p JOIN onemap.residence r ON r.person_id = p.id
        JOIN onemap.house_unit h ON h.id = r.house_unit_id JOIN onemap.building b ON b.id = h.building_id
        WHERE b.code = %s""", (code,))]
    page = open_map(browser, f"{server}/map?api_key={planner_key}")
    page.evaluate(f"onemap.map.setView([{lat}, {lon}], 18, {{animate: false}}), 0")
    page.wait_until(DRAWN % "buildings", 30)
    page.pump(1.5)
    point = page.evaluate(f"(function () {{ var p = onemap.map.latLngToContainerPoint([{lat}, {lon}]);"
                          f" var r = onemap.map.getContainer().getBoundingClientRect();"
                          f" return [p.x + r.left, p.y + r.top]; }})()")
    page.click(point[0], point[1])
    archive = f"document.querySelector('.om-archive[data-building=\"{code}\"]')"
    text = page.wait_until(f"({archive} || {{}}).innerText", 20)
    assert code in text or "一楼一档" in text
    assert "*" in text, "a planner's building file shows masked personal data"
    for name in names:
        assert len(name) < 2 or name not in text, "an unmasked resident name reached a planner"
    assert_clean(page)


def test_focused_views(browser: Callable[[], Page], server: str, planner_key: str,
                       db: psycopg.Connection) -> None:
    code, _, _ = _building_inside(db)
    page = open_map(browser, f"{server}/map/buildings/{code}?api_key={planner_key}")
    popup = page.wait_until("(document.querySelector('.leaflet-popup-content') || {}).innerHTML", 20)
    assert f'data-building="{code}"' in popup, popup
    assert_clean(page)
    grid = db.execute("SELECT grid_code FROM onemap.building WHERE code = %s", (code,)).fetchone()
    assert grid is not None
    page = open_map(browser, f"{server}/map/grids/{grid[0]}?api_key={planner_key}")
    assert page.wait_until(DRAWN % "buildings", 20) > 0
    assert grid[0] in page.evaluate("document.querySelector('.om-panel').innerText")
    assert any(re.search(r"filter=grid_code", u) for u in page.requests().values())
    assert_clean(page)
    page = open_map(browser, f"{server}/map/layers/events?api_key={planner_key}")
    assert_clean(page)


def _boxes(page: Page) -> dict[str, Any]:
    return page.evaluate("""(function () {
      function box(el) { var r = el.getBoundingClientRect();
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }
      var names = Array.from(document.querySelectorAll('.om-switcher .om-layer-name')).map(function (n) {
        var clip = n.closest('.om-switcher-body').getBoundingClientRect(), r = n.getBoundingClientRect();
        return {text: n.textContent, inside: r.left >= clip.left - 1 && r.right <= clip.right + 1};
      });
      return {switcher: box(document.querySelector('.om-switcher')),
              legend: box(document.querySelector('.om-legend')), names: names,
              height: window.innerHeight};
    })()""")


def _intersect(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("height", [800, 560])
def test_legend_and_layer_control_do_not_overlap(browser: Callable[[], Page], server: str, planner_key: str,
                                                 height: int) -> None:
    page = browser()
    page.send("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
    page.goto(f"{server}/map?api_key={planner_key}")
    page.wait_until("document.documentElement.getAttribute('data-onemap-ready') === '1'", 60)
    # every layer on: the longest legend the page can show
    page.evaluate("document.querySelectorAll('.om-switcher input:not(:checked)').forEach(i => i.click())")
    page.pump(0.5)
    boxes = _boxes(page)
    assert boxes["names"] and all(n["inside"] for n in boxes["names"]), [
        n["text"] for n in boxes["names"] if not n["inside"]]
    assert not _intersect(boxes["switcher"], boxes["legend"]), boxes
    assert boxes["legend"]["bottom"] <= boxes["height"] and boxes["switcher"]["top"] >= 0


@pytest.mark.parametrize("size", ["DESC", "ASC"])
def test_focused_building_draws_its_footprint(browser: Callable[[], Page], server: str, planner_key: str,
                                              db: psycopg.Connection, size: str) -> None:
    """The largest and the smallest building with residents: each page opens on the building drawn, highlighted,
    and not hidden under its own file's popup."""
    row = db.execute(f"""
        SELECT b.code, ST_X(p), ST_Y(p), ST_YMax(b.geom), ST_YMin(b.geom)
        FROM onemap.building b, ST_PointOnSurface(b.geom) p
        WHERE EXISTS (SELECT 1 FROM onemap.house_unit h JOIN onemap.residence r ON r.house_unit_id = h.id
                      WHERE h.building_id = b.id)
        ORDER BY ST_Area(b.geom) {size} LIMIT 1""").fetchone()
    assert row is not None
    code, lon, lat = str(row[0]), float(row[1]), float(row[2])
    near_north = float(row[3]) - (float(row[3]) - float(row[4])) * 0.1  # the footprint's top tenth
    page = open_map(browser, f"{server}/map/buildings/{code}?api_key={planner_key}")
    page.wait_until("(document.querySelector('.om-archive') || {}).innerText", 20)  # the file is in
    page.pump(1.0)  # the popup's pan has ended
    assert page.wait_until(DRAWN % "buildings", 20) > 100, "no building footprint drawn at the opening zoom"
    # the focused building's own pixel: the highlight colour (#00b8d4) under its point on surface
    colour = page.evaluate(f"""(function () {{
      var p = onemap.map.latLngToContainerPoint([{lat}, {lon}]);
      var e = onemap.entries.find(function (x) {{ return x.id === 'buildings'; }});
      var found = null;
      Object.values(e.layer._tiles || {{}}).forEach(function (t) {{
        var c = t.el && (t.el.tagName === 'CANVAS' ? t.el : t.el.querySelector('canvas'));
        if (!c || !c.width) return;
        var r = c.getBoundingClientRect(), m = onemap.map.getContainer().getBoundingClientRect();
        var x = p.x + m.left - r.left, y = p.y + m.top - r.top;
        if (x < 0 || y < 0 || x >= r.width || y >= r.height) return;
        var d = c.getContext('2d').getImageData(Math.floor(x * c.width / r.width),
                                                Math.floor(y * c.height / r.height), 1, 1).data;
        if (d[3] > 0) found = [d[0], d[1], d[2]];
      }});
      return found;
    }})()""")
    assert colour is not None, "nothing drawn under the focused building"
    for at in (lat, near_north):  # the whole footprint shows, its top too
        covered = page.evaluate(f"""(function () {{
          var p = onemap.map.latLngToContainerPoint([{at}, {lon}]);
          var m = onemap.map.getContainer().getBoundingClientRect();
          var x = p.x + m.left, y = p.y + m.top;
          if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return "off screen";
          var el = document.elementFromPoint(x, y);
          return el && el.closest('.leaflet-popup, .leaflet-control') ? el.className || el.tagName : null;
        }})()""")
        assert covered is None, f"the focused building is hidden under {covered}"
    assert_clean(page)
