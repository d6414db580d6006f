"""The one-map viewers (/map): small pages, nothing from outside the platform, friendly 404/403 pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import folium
import geopandas as gpd
import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from shapely.geometry import Point

from layers.viewer import get_viewer_settings, one_map
from layers.viewer.basemap import resolve_basemap
from layers.viewer.settings import ViewerSettings
from spatial.database import engine_for

EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.IGNORECASE)
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    from api.auth import create_key

    with engine_for(database_url).begin() as conn:
        query = sa.text("SELECT code FROM onemap.admin_area WHERE level = 'grid' ORDER BY code")
        grids = list(conn.execute(query).scalars())
        return {
            "planner": create_key(conn, "maps planner", "planner").key,
            "admin": create_key(conn, "maps admin", "admin").key,
            "police": create_key(conn, "maps police", "department_editor", department="police").key,
            "grid_worker": create_key(conn, "maps grid", "grid_worker", grid_code=grids[0]).key,
            "grid": grids[0], "other_grid": grids[-1],
        }


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def building_code(db: psycopg.Connection) -> str:
    row = db.execute("SELECT code FROM onemap.building ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


def assert_offline(html: str) -> None:
    assert EXTERNAL.findall(html) == [], "the page names a host outside the platform"
    for url in ASSET.findall(html):
        assert url == "data:," or (url.startswith("/") and not url.startswith("//")), url


def test_map_is_small_offline_and_its_assets_are_served(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/map", params={"api_key": keys["planner"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert len(response.content) < 300_000
    assert_offline(html)
    assets = [u for u in ASSET.findall(html) if u.startswith("/static/")]
    assert any(u.endswith("leaflet.js") for u in assets)
    assert any("VectorGrid" in u for u in assets)
    for url in assets:
        assert client.get(url).status_code == 200, url
    # the platform's layers as vector tiles, each under its department, with the key carried along
    for layer_id in ("streets", "communities", "grids", "buildings", "events"):
        assert f"/collections/{layer_id}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}" in html
    assert json.dumps("住建 Housing") in html and json.dumps("网格 Grid management")[:-1] in html
    assert keys["planner"] in html  # tiles and archives are fetched with the caller's key
    assert "timeSlider" in html and "onemap.legend" in html and "onemap.switcher" in html
    assert "/map/heat" in html and "/archives/buildings/{code}" in html


def test_public_map_lists_only_public_layers(client: TestClient) -> None:
    html = client.get("/map").text
    assert "/collections/buildings/tiles/" in html
    assert "/collections/events/tiles/" not in html
    assert "/map/heat" not in html  # no heatmap for the public role


def test_building_view(client: TestClient, keys: dict[str, str], building_code: str) -> None:
    response = client.get(f"/map/buildings/{building_code}", params={"api_key": keys["planner"]})
    assert response.status_code == 200
    assert building_code in response.text and "onemap.focus" in response.text
    assert_offline(response.text)


def test_unknown_building_and_grid_are_friendly_404_pages(client: TestClient) -> None:
    for path in ("/map/buildings/NO-SUCH-BUILDING", "/map/grids/NO-SUCH-GRID", "/map/layers/no_such_layer"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<script" not in response.text and "L.map" not in response.text
        assert_offline(response.text)


def test_grid_view_for_its_worker_and_403_for_others(client: TestClient, keys: dict[str, str],
                                                     db: psycopg.Connection) -> None:
    own = client.get(f"/map/grids/{keys['grid']}", params={"api_key": keys["grid_worker"]})
    assert own.status_code == 200
    assert "filter" in own.text and keys["grid"] in own.text
    other = keys["other_grid"]
    name = db.execute("SELECT name FROM onemap.admin_area WHERE code = %s", (other,)).fetchone()
    assert name is not None
    for key in (keys["grid_worker"], None):
        response = client.get(f"/map/grids/{other}", params={"api_key": key} if key else {})
        assert response.status_code == 403
        assert "<script" not in response.text
        assert name[0] not in response.text  # nothing of the grid leaks into the page
    open_event = db.execute("SELECT description FROM onemap.event WHERE grid_code = %s AND status = 'open' "
                            "LIMIT 1", (other,)).fetchone()
    if open_event:
        assert open_event[0] not in response.text


def test_layer_view_rights(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/map/layers/buildings").status_code == 200
    assert client.get("/map/layers/events").status_code == 404  # the public do not learn it exists
    response = client.get("/map/layers/events", params={"api_key": keys["police"]})
    assert response.status_code == 403 and "<script" not in response.text
    assert client.get("/map/layers/events", params={"api_key": keys["planner"]}).status_code == 200
    bad = client.get("/map", params={"api_key": "om_not_a_key"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("text/html")


def test_heat_is_aggregated_and_needs_an_internal_role(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/map/heat").status_code == 403
    body = client.get("/map/heat", params={"api_key": keys["planner"]}).json()
    assert body["points"] and all(len(p) == 3 and 0 < p[2] <= 1 for p in body["points"])
    events = client.get("/map/heat", params={"api_key": keys["planner"], "kind": "events",
                                             "datetime": "2024-01-01T00:00:00Z/2026-01-01T00:00:00Z"}).json()
    assert events["points"]
    assert client.get("/map/heat", params={"api_key": keys["grid_worker"], "grid": keys["other_grid"]}
                      ).status_code == 403


@pytest.mark.parametrize("env", [
    {"ONEMAP_MAP_BASEMAP": "xyz", "ONEMAP_MAP_BASEMAP_URL": "not a url"},
    {"ONEMAP_MAP_BASEMAP": "xyz", "ONEMAP_MAP_BASEMAP_URL": "https://tiles.example/{z}/{x}.png"},
    {"ONEMAP_MAP_BASEMAP": "tianditu"},
])
def test_misconfigured_basemap_still_gives_a_working_page(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                          env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_viewer_settings.cache_clear()
    try:
        response = client.get("/map")
    finally:
        get_viewer_settings.cache_clear()
    assert response.status_code == 200
    assert "onemap.notice" in response.text and "/collections/buildings/tiles/" in response.text
    assert_offline(response.text)


def test_basemap_modes() -> None:
    tdt = resolve_basemap(ViewerSettings(basemap="tianditu", tianditu_key="abc123", tianditu_crs="cgcs2000"))
    assert tdt.crs == "EPSG4326" and tdt.tile_matrix_set == "CGCS2000Quad" and len(tdt.sources) == 2
    assert tdt.sources[0].options["zoomOffset"] == 1 and "vec_c" in tdt.sources[0].url
    web = resolve_basemap(ViewerSettings(basemap="tianditu", tianditu_key="abc123"))
    assert web.crs == "EPSG3857" and "vec_w" in web.sources[0].url
    gcj = resolve_basemap(ViewerSettings(basemap="gcj02", basemap_url="http://gis.intranet/{z}/{x}/{y}.png"))
    assert gcj.gcj02 and gcj.problem is None
    wmts = resolve_basemap(ViewerSettings(basemap="wmts", basemap_url="http://gis.intranet/wmts",
                                          wmts_layer="img"))
    assert "TILEMATRIX={z}" in wmts.sources[0].url
    assert resolve_basemap(ViewerSettings()).sources == ()


def test_one_map_in_a_notebook(platform_env: str, keys: dict[str, str]) -> None:
    m = one_map(server="http://onemap.intranet:8000", api_key=keys["planner"])
    assert isinstance(m, folium.Map)
    points = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Point(114.2, 22.7), Point(114.25, 22.72)],
                              crs="EPSG:4326").to_crs(4547)
    m.add_gdf(points, "我的点 my points", tooltip=["name"])
    folium.GeoJson(points.to_crs(4326).__geo_interface__, name="plain folium").add_to(m)
    html = m.get_root().render()
    hosts = set(EXTERNAL.findall(html))
    assert hosts == {"http://onemap.intranet"}, hosts  # everything from the platform server
    assert "http://onemap.intranet:8000/static/leaflet/leaflet.js" in html
    assert json.dumps("我的点 my points") in html and "plain folium" in html
    assert html.count("onemap.register(") >= 8


def test_heatmap_dates_out_of_range_are_a_400(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/map/heat", params={"kind": "events", "datetime": "0001-01-01"},
                          headers={"X-API-Key": keys["planner"]})
    assert response.status_code == 400 and "datetime" in response.json()["detail"]
