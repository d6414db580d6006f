"""The wall (/dashboard) at 1920x1080 and 3840x1080 and the community workspace in headless Debian Chromium,
with no network, against a real uvicorn on the test database: every panel drawn with data, no console error,
no failed request, nothing asked of any host but 127.0.0.1; a click on a street of the map drills down and
changes the figures; a new event reaches the page without a reload; a community operator's page, figures and
tiles hold only its own community's rows."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from spatial.cases import open_cases_from_warnings
from spatial.database import engine_for, libpq_url
from spatial.monitoring import run_monitoring
from tests.browser import Page, assert_page_clean, chromium, chromium_available, platform_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The README's screenshots are refreshed only when asked (ONEMAP_SCREENSHOTS=docs): a test run must not change
# tracked files.
DOCS = Path(__file__).parents[1] / "docs" if os.environ.get("ONEMAP_SCREENSHOTS") == "docs" else None
READY = "document.documentElement.getAttribute('data-onemap-ready') === '1'"
# Each chart panel's ECharts instance and how many data points its first series has.
CHART_POINTS = """(function () {
  var out = {};
  Object.keys(onemapDashboard.charts).forEach(function (k) {
    var o = onemapDashboard.charts[k].getOption();
    out[k] = (o.series && o.series[0] && o.series[0].data) ? o.series[0].data.length : 0;
  });
  return out;
})()"""


@pytest.fixture(scope="module")
def setup(database_url: str) -> Iterator[dict[str, Any]]:
    from api.auth import create_key

    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        run_monitoring(conn)  # warnings for the safety mode's panels
        open_cases_from_warnings(conn)  # and cases from them, for the case figures
        # a catalogue item per department of the freshness panel, one delivered long ago (overdue)
        items = conn.execute(
            "INSERT INTO onemap.source_item (department, name, entity_kind, frequency) VALUES "
            "('police', 'wall_test residents', 'person', 'daily'), "
            "('market', 'wall_test enterprises', 'enterprise', 'weekly') RETURNING id"
        ).fetchall()
        conn.execute(
            "INSERT INTO onemap.source_delivery (department, item_id, channel, content_hash, received_at, actor, "
            "rows, accepted, rejected) VALUES ('market', %s, 'file', 'wall_test', now() - interval '9 days', "
            "'wall test', 1, 1, 0)",
            (items[1][0],),
        )
        # open verification issues for the departments' panel, on an attribute fusion never writes
        conn.execute(
            "INSERT INTO onemap.verification_issue (entity_kind, entity_key, attribute, authoritative_department, "
            "values, building_id, grid_code, geom) SELECT 'building', code, 'wall_test', "
            "(ARRAY['housing', 'police', 'market'])[1 + id % 3], '{}'::jsonb, id, grid_code, "
            "ST_PointOnSurface(geom) FROM onemap.building ORDER BY id LIMIT 30"
        )
        street, community = conn.execute(
            "SELECT parent_code, code FROM onemap.admin_area WHERE level = 'community' ORDER BY code LIMIT 1"
        ).fetchone() or ("", "")
        other = conn.execute(
            "SELECT code FROM onemap.admin_area WHERE level = 'community' AND parent_code <> %s ORDER BY code LIMIT 1",
            (street,),
        ).fetchone()
        assert other is not None
    with engine_for(database_url).begin() as conn:
        keys = {
            "planner": create_key(conn, "wall planner", "planner").key,
            "community": create_key(conn, "wall community", "community_operator", area_code=community).key,
            "admin": create_key(conn, "wall admin", "admin").key,
        }
    yield {"keys": keys, "street": street, "community": community, "other": other[0]}
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("DELETE FROM onemap.verification_issue WHERE attribute = 'wall_test'")
        conn.execute("DELETE FROM onemap.source_delivery WHERE content_hash = 'wall_test'")
        conn.execute("DELETE FROM onemap.source_item WHERE name LIKE 'wall_test%'")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with platform_server(database_url, tmp_path_factory.mktemp("wall-server")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Callable[[], Page]]:
    assert chromium_available(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with chromium() as new_page:
        yield new_page


OPEN: list[Page] = []


@pytest.fixture(autouse=True)
def close_pages() -> Iterator[None]:
    """Each wall holds two event streams open: tabs left open by earlier tests would take up the browser's six
    connections to the server and starve the next page's requests (a tab sent to about:blank still held
    them), so each test's tabs are closed."""
    yield
    while OPEN:
        page = OPEN.pop()
        target = page.send("Target.getTargetInfo")["targetInfo"]["targetId"]
        page.send("Target.closeTarget", targetId=target)
        page.close()


def open_page(new_page: Callable[[], Page], url: str, width: int, height: int) -> Page:
    page = new_page()
    OPEN.append(page)
    page.send(
        "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
    )
    page.goto(url, timeout=60)
    page.wait_until(READY, 60)
    page.pump(1.0)
    return page


def assert_clean(page: Page) -> None:
    assert_page_clean(page)
    assert page.evaluate("(window.onemapDashboard || window.onemapWorkspace).problems") == []


def tile_value(page: Page, figure: str, key: str | None = None) -> float:
    selector = f'.om-tile[data-figure="{figure}"]' + (f'[data-key="{key}"]' if key else "")
    value = page.evaluate(f"document.querySelector({json.dumps(selector)}).getAttribute('data-value')")
    return float(value)


@pytest.mark.parametrize("layout", ["1920", "3840"])
def test_wall_draws_every_panel(
    browser: Callable[[], Page], server: str, setup: dict[str, Any], layout: str
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(
        browser, f"{server}/dashboard?layout={layout}&cycle=0&mode=safety&api_key={key}", int(layout), 1080
    )
    panels = page.evaluate(
        "Array.from(document.querySelectorAll('[data-panel]')).map(function (e) {"
        " return [e.getAttribute('data-panel'), e.getAttribute('data-drawn')]; })"
    )
    assert panels and all(drawn == "1" for _, drawn in panels), panels
    expected = 7 if layout == "1920" else 11
    assert len(panels) == expected
    points = page.evaluate(CHART_POINTS)
    assert points and all(n > 0 for n in points.values()), points  # no blank chart
    assert page.evaluate("document.querySelectorAll('.om-tile').length") >= 10
    width = page.evaluate("document.getElementById('om-screen').getBoundingClientRect().width")
    assert width == int(layout)
    # the map drew the streets' areas (canvas pixels)
    assert page.evaluate("document.querySelectorAll('#om-map canvas').length") > 0
    if DOCS is not None:
        page.screenshot(DOCS / f"dashboard_{layout}.png")
    assert_clean(page)


def test_click_on_a_street_drills_down(
    browser: Callable[[], Page], server: str, setup: dict[str, Any], database_url: str
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=0&api_key={key}", 1920, 1080)
    before = tile_value(page, "population")
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute(
            "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM onemap.admin_area "
            "WHERE code = %s) s",
            (setup["street"],),
        ).fetchone()
    assert row is not None
    point = page.evaluate(
        f"(function () {{ var m = document.getElementById('om-map').getBoundingClientRect();"
        f" var p = onemapDashboard.map.latLngToContainerPoint([{row[0]}, {row[1]}]);"
        f" return [m.left + p.x, m.top + p.y]; }})()"
    )
    page.click(point[0], point[1])
    page.wait_until(f"onemapDashboard.data.scope.code === '{setup['street']}'", 30)
    page.wait_until(READY, 30)
    page.pump(1.5)
    after = tile_value(page, "population")
    assert after != before and 0 < after < before
    assert setup["street"] in page.evaluate(
        "document.getElementById('om-crumbs').textContent"
    ) or page.evaluate("onemapDashboard.data.scope.name") in page.evaluate(
        "document.getElementById('om-crumbs').textContent"
    )
    # back up through the breadcrumb
    page.evaluate("document.querySelector('#om-crumbs a').click()")
    page.wait_until("onemapDashboard.data.scope.level === 'district'", 30)
    assert_clean(page)


def test_a_live_update_arrives_without_reload(
    browser: Callable[[], Page], server: str, setup: dict[str, Any], database_url: str
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=0&refresh=1&api_key={key}", 1920, 1080)
    page.evaluate("window.__notReloaded = true")
    before = tile_value(page, "events_by_kind")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            # The id from the sequence: an id picked by hand would collide with the next monitoring run's.
            "INSERT INTO onemap.event (kind, severity, occurred_at, building_id, grid_code, description, geom) "
            "SELECT 'fire_hazard', 3, now(), id, grid_code, 'wall test', "
            "ST_PointOnSurface(geom) FROM onemap.building ORDER BY id LIMIT 1"
        )
    page.wait_until(
        f"parseFloat(document.querySelector('.om-tile[data-figure=\"events_by_kind\"]')"
        f".getAttribute('data-value')) > {before}",
        30,
    )
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate("onemapDashboard.updates") > 1
    assert_clean(page)


def test_community_operator_sees_only_its_community(
    browser: Callable[[], Page], server: str, setup: dict[str, Any], database_url: str
) -> None:
    key = setup["keys"]["community"]
    with psycopg.connect(libpq_url(database_url)) as conn:
        own = {
            r[0]
            for r in conn.execute(
                "SELECT code FROM onemap.admin_area WHERE level = 'grid' AND parent_code = %s",
                (setup["community"],),
            ).fetchall()
        }
        other_addresses = [
            r[0]
            for r in conn.execute(
                "SELECT address FROM onemap.building WHERE community_code <> %s ORDER BY id LIMIT 50",
                (setup["community"],),
            ).fetchall()
        ]
    # the wall opens at the operator's community and cannot leave it
    page = open_page(browser, f"{server}/dashboard?cycle=0&api_key={key}", 1920, 1080)
    assert page.evaluate("onemapDashboard.data.scope.code") == setup["community"]
    assert set(page.evaluate("onemapDashboard.data.scope.areas.map(function (a) { return a.code; })")) == own
    tile_urls = [u for u in page.requests().values() if "/tiles/" in u]
    assert tile_urls
    assert_clean(page)
    # the workspace: every row's grid is one of the community's
    page = open_page(browser, f"{server}/communities/{setup['community']}?api_key={key}", 1600, 1000)
    grids = set(
        page.evaluate(
            "Array.from(document.querySelectorAll('tr[data-grid]')).map(function (t) {"
            " return t.getAttribute('data-grid'); })"
        )
    )
    assert grids and grids <= own
    text = page.evaluate("document.body.innerText")
    assert not any(address in text for address in other_addresses)
    assert_clean(page)
    # another community: refused, page and figures alike
    page.goto(f"{server}/communities/{setup['other']}?api_key={key}")
    assert "无权" in page.evaluate("document.title") or "Not allowed" in page.evaluate(
        "document.body.innerText"
    )
    body = page.evaluate(
        f"fetch('/kpis?code={setup['other']}&api_key={key}').then(r => r.status)", await_promise=True
    )
    assert body == 403


def test_saved_map_opens_as_a_wall_mode(
    browser: Callable[[], Page], server: str, setup: dict[str, Any]
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=0&api_key={key}", 1920, 1080)
    created = page.evaluate(
        "fetch('/maps?api_key="
        + key
        + "', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: "
        + json.dumps(
            json.dumps(
                {
                    "title": "城中村专题 Urban villages",
                    "layers": ["buildings"],
                    "filters": {"buildings": "use = 'urban_village'"},
                    "styles": {
                        "buildings": {"geometry": "polygon", "base": {"fillColor": "#e76f51", "fill": True}}
                    },
                }
            )
        )
        + "}).then(function (r) { return r.json(); })",
        await_promise=True,
    )
    page = open_page(browser, f"{server}/dashboard?cycle=0&map={created['id']}&api_key={key}", 1920, 1080)
    assert page.evaluate("onemapDashboard.cfg.modes[0].title") == "城中村专题 Urban villages"
    page.wait_until(
        "Array.from(Object.values(performance.getEntriesByType('resource'))).some(function (e) {"
        " return e.name.indexOf('filter=') > 0; })",
        30,
    )
    assert_clean(page)
    viewer = browser()
    viewer.goto(f"{server}/maps/{created['id']}?f=html&api_key={key}")
    viewer.wait_until("window.onemap && onemap.map && onemap.entries.length > 0", 30)
    viewer.pump(2.0)
    assert "城中村专题" in viewer.evaluate("document.title")
    assert [
        e["id"]
        for e in viewer.evaluate("onemap.entries.map(function (e) { return {id: e.id}; })")
        if e["id"] in ("buildings", "events", "enterprises")
    ] == ["buildings"]
    assert viewer.console_errors() == [] and viewer.failed_requests() == []


def test_a_new_case_arrives_by_the_stream_without_reload(
    browser: Callable[[], Page], server: str, setup: dict[str, Any], database_url: str
) -> None:
    """The wall listens to /cases/stream and /warnings/stream (named SSE events); it does not poll (refresh is
    an hour), so only the stream can bring the new case's figure."""
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=0&mode=safety&refresh=3600&api_key={key}", 1920, 1080)
    assert sorted(page.evaluate("onemapDashboard.cfg.streams")) == ["/cases/stream", "/warnings/stream"]
    page.wait_until("onemapDashboard.streamsOpen >= 2", 30)
    page.evaluate("window.__notReloaded = true")
    before = tile_value(page, "cases", "open")
    updates = page.evaluate("onemapDashboard.updates")
    with psycopg.connect(libpq_url(database_url)) as conn:
        building = conn.execute("SELECT code FROM onemap.building ORDER BY id LIMIT 1").fetchone()
    assert building is not None
    created = page.evaluate(
        f"fetch('/cases?api_key={setup['keys']['admin']}', {{method: 'POST', headers: "
        "{'Content-Type': 'application/json'}, body: "
        + json.dumps(json.dumps({"category": "sanitation", "description": "大屏测试 wall", "building": building[0]}))
        + "}).then(function (r) { return r.status; })",
        await_promise=True,
    )
    assert created == 201
    page.wait_until(
        "parseFloat(document.querySelector('.om-tile[data-figure=\"cases\"][data-key=\"open\"]')"
        f".getAttribute('data-value')) > {before}",
        30,
    )
    assert tile_value(page, "cases", "open") == before + 1
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate("onemapDashboard.streamed") >= 1 and page.evaluate("onemapDashboard.updates") > updates
    # the safety mode's by-area bars count open cases, and the new one is among them
    bars = page.evaluate("onemapDashboard.charts.by_area.getOption().series[0].data")
    assert sum(bars) == before + 1
    assert_clean(page)


def test_modes_cycle_through_safety_and_cases(
    browser: Callable[[], Page], server: str, setup: dict[str, Any]
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=1&api_key={key}", 1920, 1080)
    seen: set[str] = set()
    for _ in range(80):
        seen.add(page.evaluate("onemapDashboard.cfg.modes[onemapDashboard.mode].id"))
        if len(seen) == 4:
            break
        page.pump(0.25)
    assert seen == {"population", "economy", "safety", "housing"}
    page.wait_until("onemapDashboard.cfg.modes[onemapDashboard.mode].id === 'safety'", 10)
    page.pump(0.3)
    assert "Safety and cases" in page.evaluate("document.getElementById('om-mode-title').textContent")
    titles = page.evaluate(
        "[onemapDashboard.charts.by_area.getOption().title[0].text,"
        " onemapDashboard.charts.departments.getOption().title[0].text]"
    )
    assert titles[0].startswith("工单") and titles[1] == "部门在办工单"
    assert_clean(page)


def test_click_on_a_street_bar_drills_down(
    browser: Callable[[], Page], server: str, setup: dict[str, Any]
) -> None:
    key = setup["keys"]["planner"]
    page = open_page(browser, f"{server}/dashboard?cycle=0&mode=safety&api_key={key}", 1920, 1080)
    before = page.evaluate("JSON.stringify(onemapDashboard.data.figures.cases.total)")
    street = page.evaluate("onemapDashboard.data.scope.areas[0]")
    # the pixel in the middle of the first street's bar (ECharts converts the data point to pixels)
    point = page.evaluate(
        "(function () { var c = onemapDashboard.charts.by_area, el = document.getElementById('om-by_area');"
        " var v = c.getOption().series[0].data[0] || 1;"
        " var p = c.convertToPixel({seriesIndex: 0}, [v / 2, 0]); var r = el.getBoundingClientRect();"
        " return [r.left + p[0], r.top + p[1]]; })()"
    )
    page.click(point[0], point[1])
    page.wait_until(f"onemapDashboard.data.scope.code === {json.dumps(street['code'])}", 30)
    page.pump(1.0)
    assert page.evaluate("onemapDashboard.data.scope.level") == "street"
    assert page.evaluate("JSON.stringify(onemapDashboard.data.figures.cases.total)") != before
    assert street["name"] in page.evaluate("document.getElementById('om-crumbs').textContent")
    assert_clean(page)
