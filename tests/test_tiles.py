"""Vector tiles over HTTP: tile matrix sets, tilesets, TileJSON, styles, MVT geometry checked against PostGIS
at several zooms in all three tile matrix sets, generalisation, filters, roles, and bad input."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.auth import create_key
from spatial.database import engine_for
from tests.tiles_support import address_at, decode, tile_env, to_lonlat, url_of
from tiles.settings import get_tile_settings
from tiles.tms import SERVED, TileAddress
from tiles.vector import tile_frame

__all__ = ["tile_env"]


@pytest.fixture(scope="module")
def client(tile_env: object) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def centre(database_url: str) -> tuple[float, float]:
    """The centroid of the building nearest the middle of the built-up area."""
    with engine_for(database_url).connect() as conn:
        row = conn.execute(
            sa.text(
                "WITH c AS (SELECT ST_Centroid(ST_Collect(geom)) AS g FROM onemap.building) "
                "SELECT ST_X(ST_Centroid(b.geom)), ST_Y(ST_Centroid(b.geom)) FROM onemap.building b, c "
                "ORDER BY b.geom <-> c.g LIMIT 1"
            )
        ).one()
    return float(row[0]), float(row[1])


def _envelope_ids(db: psycopg.Connection, address: TileAddress, margin: float) -> set[int]:
    west, south, east, north = address.geographic_bounds(margin)
    rows = db.execute(
        "SELECT id FROM onemap.building WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        (west, south, east, north),
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("tms_id", SERVED)
@pytest.mark.parametrize("z", [13, 15, 17])
def test_building_tiles_match_postgis(
    client: TestClient, db: psycopg.Connection, centre: tuple[float, float], tms_id: str, z: int
) -> None:
    address = address_at(tms_id, *centre, z)
    response = client.get(url_of("buildings", address))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = decode(response.content)["buildings"]["features"]
    ids = {f["id"] for f in features}
    # Every building inside the tile is there; nothing beyond the tile's buffer is.
    assert _envelope_ids(db, address, 0.0) <= ids <= _envelope_ids(db, address, 64 / 4096 + 1e-9)
    assert features
    west, south, east, north = address.geographic_bounds(64 / 4096)  # MVT clips at the buffer
    unit = (east - west) / 4096
    for feature in features:
        lon, lat = (
            db.execute(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Intersection(geom, "
                "ST_MakeEnvelope(%s, %s, %s, %s, 4326))) AS c FROM onemap.building WHERE id = %s) x",
                (west, south, east, north, feature["id"]),
            ).fetchone()
            or ()
        )
        decoded = to_lonlat(address, feature["geometry"]).centroid
        assert abs(decoded.x - lon) < 4 * unit and abs(decoded.y - lat) < 4 * unit
        assert feature["properties"]["code"]


@pytest.mark.parametrize("z", [13, 16])
def test_unprojected_mercator_tiles_land_where_projected_ones_do(
    db: psycopg.Connection, centre: tuple[float, float], z: int
) -> None:
    address = address_at("WebMercatorQuad", *centre, z)
    frame = tile_frame(address, get_tile_settings())
    assert not frame.project and frame.srid == 4326  # within LINEAR_TOLERANCE at these zooms
    # Every vertex of every building in the tile, mapped from lon/lat bounds, within one grid unit of where
    # PostGIS puts it after projecting the building to Web Mercator.
    worst = db.execute(
        "SELECT max(ST_HausdorffDistance(ST_AsMVTGeom(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326), 4096, 64, "
        "false), ST_AsMVTGeom(ST_Transform(geom, 3857), ST_MakeEnvelope(%s, %s, %s, %s, 3857), 4096, 64, false))), "
        "count(*) FROM onemap.building WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
        (*frame.bounds, *address.xy_bounds(), *frame.bounds),
    ).fetchone()
    assert worst is not None and worst[1] > 0
    assert worst[0] <= 1.0


def test_tiles_too_tall_for_a_straight_line_are_projected() -> None:
    settings = get_tile_settings()
    assert tile_frame(address_at("WebMercatorQuad", 114.25, 22.7, 10), settings).project  # 1.2 units off
    assert tile_frame(address_at("WebMercatorQuad", 24.9, 60.2, 13), settings).project  # Helsinki: tan(lat)
    geographic = tile_frame(address_at("WorldCRS84Quad", 114.25, 22.7, 10), settings)
    assert not geographic.project and geographic.srid == 4326


@pytest.mark.parametrize("tms_id", SERVED)
def test_low_zoom_buildings_are_grid_statistics(
    client: TestClient, db: psycopg.Connection, centre: tuple[float, float], tms_id: str
) -> None:
    address = address_at(tms_id, *centre, 11)
    features = decode(client.get(url_of("buildings", address)).content)["buildings"]["features"]
    assert features, "the district's grids should be in the tile"
    expected: dict[str, int] = dict(
        db.execute("SELECT grid_code, count(*) FROM onemap.building GROUP BY 1").fetchall()
    )
    for feature in features:
        props = feature["properties"]
        assert props["feature_count"] == expected[props["grid_code"]]
        assert "floors_mean" in props and "grid_name" in props
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_overview_tiles_leave_detail_fields_out(
    client: TestClient, db: psycopg.Connection, centre: tuple[float, float]
) -> None:
    overview = decode(client.get(url_of("buildings", address_at("WebMercatorQuad", *centre, 14))).content)
    detail = decode(client.get(url_of("buildings", address_at("WebMercatorQuad", *centre, 16))).content)
    overview_props = overview["buildings"]["features"][0]["properties"]
    detail_props = detail["buildings"]["features"][0]["properties"]
    # Styling and click fields at every zoom; addresses only from the detail zoom (15) on.
    assert {"code", "use", "floors", "built_year"} <= set(overview_props)
    assert "address" not in overview_props and "street_code" not in overview_props
    code = detail_props["code"]
    stored = db.execute("SELECT address FROM onemap.building WHERE code = %s", (code,)).fetchone()
    assert stored is not None
    assert detail_props["address"] == stored[0]


def test_filter_applies_to_tiles_as_to_features(
    client: TestClient, db: psycopg.Connection, centre: tuple[float, float]
) -> None:
    address = address_at("WebMercatorQuad", *centre, 14)
    everything = decode(client.get(url_of("buildings", address)).content)["buildings"]["features"]
    tall = decode(client.get(url_of("buildings", address), params={"filter": "floors > 10"}).content)
    tall_ids = {f["id"] for f in tall.get("buildings", {}).get("features", [])}
    assert tall_ids == {f["id"] for f in everything if f["properties"]["floors"] > 10}
    assert len(tall_ids) < len(everything)


def test_multi_layer_tile(client: TestClient, centre: tuple[float, float]) -> None:
    address = address_at("WebMercatorQuad", *centre, 14)
    tms_id, z, x, y = address.key
    layers = decode(
        client.get(f"/tiles/{tms_id}/{z}/{x}/{y}", params={"collections": "buildings,grids"}).content
    )
    assert set(layers) == {"buildings", "grids"}
    single = decode(client.get(url_of("buildings", address)).content)
    assert len(layers["buildings"]["features"]) == len(single["buildings"]["features"])


def test_feature_cap(db: psycopg.Connection, centre: tuple[float, float]) -> None:
    import asyncio

    from psycopg.rows import dict_row

    from layers.access import ADMIN
    from tiles.catalog import TileCatalog
    from tiles.query import TileQuery
    from tiles.settings import TileSettings
    from tiles.tms import tile_address
    from tiles.vector import render_layer

    address = address_at("WebMercatorQuad", *centre, 13)

    async def render(cap: int) -> int:
        async with await psycopg.AsyncConnection.connect(
            db.info.dsn, password=db.info.password, autocommit=True, row_factory=dict_row
        ) as conn:
            layer = (await TileCatalog().all(conn))["buildings"]
            body = await render_layer(
                conn, layer, ADMIN, TileQuery(), tile_address(*address.key), TileSettings(max_features=cap)
            )
        return len(decode(body)["buildings"]["features"])

    uncapped = asyncio.run(render(100_000))
    assert uncapped > 2
    assert asyncio.run(render(2)) == 2


def test_metadata_documents(client: TestClient) -> None:
    sets = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == list(SERVED)
    cgcs = client.get("/tileMatrixSets/CGCS2000Quad").json()
    assert cgcs["crs"].endswith("4490")
    tilesets = client.get("/collections/buildings/tiles").json()["tilesets"]
    assert len(tilesets) == 3 and all(t["dataType"] == "vector" for t in tilesets)
    tilejson = client.get("/collections/buildings/tiles/WebMercatorQuad/tilejson.json").json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"][0].endswith("/collections/buildings/tiles/WebMercatorQuad/{z}/{x}/{y}")
    assert tilejson["vector_layers"][0]["id"] == "buildings"
    multi = client.get(
        "/tiles/WebMercatorQuad/tilejson.json", params={"collections": "buildings,grids"}
    ).json()
    assert {v["id"] for v in multi["vector_layers"]} == {"buildings", "grids"}
    style = client.get("/collections/buildings/styles/maplibre.json").json()
    assert style["version"] == 8 and style["layers"][1]["source-layer"] == "buildings"
    whole = client.get("/styles/onemap.json").json()
    assert set(whole["sources"]) == {"onemap", "dem"}  # one vector source for every vector layer
    drawn = {layer.get("source-layer") for layer in whole["layers"]}
    assert {"buildings", "grids"} <= drawn
    assert "enterprises" not in drawn  # internal: not for the public
    assert "enterprises" not in whole["sources"]["onemap"]["tiles"][0]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/collections/buildings/tiles/WebMercatorQuad/25/0/0", 404),
        ("/collections/buildings/tiles/WebMercatorQuad/3/8/0", 404),
        ("/collections/buildings/tiles/WebMercatorQuad/3/-1/0", 404),
        ("/collections/buildings/tiles/WorldCRS84Quad/0/2/0", 404),
        ("/collections/buildings/tiles/NoSuchQuad/3/1/1", 404),
        ("/collections/no_such_layer/tiles/WebMercatorQuad/3/1/1", 404),
        ("/collections/enterprises/tiles/WebMercatorQuad/14/1/1", 404),  # internal layer, public caller
        ("/collections/buildings/tiles/WebMercatorQuad/14/13391/7129?filter=no_such_field%20%3E%201", 400),
        ("/collections/buildings/tiles/WebMercatorQuad/14/13391/7129?filter=floors%20%3E%3E", 400),
        ("/collections/buildings/tiles/WebMercatorQuad/14/x/7129", 400),
        ("/tiles/WebMercatorQuad/14/13391/7129?collections=buildings,dem", 400),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


def test_bad_filter_poisons_no_cache_entry(client: TestClient, centre: tuple[float, float]) -> None:
    url = url_of("buildings", address_at("WebMercatorQuad", *centre, 15))
    assert client.get(url, params={"filter": "nope = 1"}).status_code == 400
    good = client.get(url)
    assert good.status_code == 200 and decode(good.content)["buildings"]["features"]


def test_etag_gives_304_and_gzip(client: TestClient, centre: tuple[float, float]) -> None:
    url = url_of("buildings", address_at("WebMercatorQuad", *centre, 16))
    first = client.get(url)
    assert first.headers["content-encoding"] == "gzip"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-tile-cache"] == "hit"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    with engine_for(database_url).begin() as conn:
        grids = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT grid_code FROM onemap.event GROUP BY 1 ORDER BY count(*) DESC LIMIT 2")
            )
        ]
        return {
            "planner": create_key(conn, "tiles planner", "planner").key,
            "grid_a": create_key(conn, "tiles grid a", "grid_worker", grid_code=grids[0]).key,
            "grid_b": create_key(conn, "tiles grid b", "grid_worker", grid_code=grids[1]).key,
            "grid_a_code": grids[0],
            "grid_b_code": grids[1],
        }


def test_a_role_never_gets_another_roles_cached_tile(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    lon, lat = (
        db.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM onemap.event WHERE grid_code = %s ORDER BY id LIMIT 1",
            (keys["grid_a_code"],),
        ).fetchone()
        or ()
    )
    url = url_of("events", address_at("WebMercatorQuad", lon, lat, 11))
    seen: dict[str, set[str]] = {}
    for who in ("planner", "grid_a", "grid_b", "grid_a", "planner"):
        response = client.get(url, headers={"X-API-Key": keys[who]})
        # grid b's events may all lie outside this tile: then it is empty (204) for grid b
        assert response.status_code == 200 or (who == "grid_b" and response.status_code == 204)
        features = decode(response.content).get("events", {"features": []})["features"] if response.content else []
        grids = {f["properties"]["grid_code"] for f in features}
        seen.setdefault(who, grids)
        assert seen[who] == grids  # the second request (a cache hit) is the same tile
    assert seen["grid_a"] == {keys["grid_a_code"]}
    assert seen["grid_b"] <= {keys["grid_b_code"]}
    assert seen["planner"] > seen["grid_a"]


def test_a_tile_compresses_to_the_same_bytes_every_time(client: TestClient, centre: tuple[float, float]) -> None:
    """Re-rendering a tile must not change its ETag: the gzip header carries no timestamp."""
    import gzip

    from tiles.compression import gzip_tile, unzip

    body = client.get(url_of("buildings", address_at("WebMercatorQuad", *centre, 15)),
                      headers={"Accept-Encoding": "identity"}).content
    assert body and gzip_tile(body) == gzip_tile(body)
    assert gzip.decompress(gzip_tile(body)) == body  # what zlib clients read
    assert unzip(gzip_tile(body)) == body and unzip(body) == body
