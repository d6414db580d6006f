"""OGC API Features Parts 1-3 against the tiny district: every parameter, compared with direct SQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.features_support import *  # noqa: F403  (the client and keys fixtures)
from tests.features_support import Keys, as_key

GEOJSON = "application/geo+json"


def items(client: TestClient, collection: str, key: str | None = None, **params: str | int) -> dict:
    response = client.get(f"/collections/{collection}/items", params=params, headers=as_key(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(GEOJSON)
    return response.json()


def scalar(db, query: str, *args: object) -> object:
    return db.execute(query, args).fetchone()[0]


def count(db, query: str, *args: object) -> int:
    value = scalar(db, query, *args)
    assert isinstance(value, int), value
    return value


def test_landing_conformance_and_openapi(client: TestClient) -> None:
    landing = client.get("/").json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc", "conformance", "data"}
    conformance = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conformance
    assert client.get("/api").json()["paths"]["/collections/{collection_id}/items"]
    assert client.get("/", params={"f": "html"}).headers["content-type"].startswith("text/html")


def test_collections_depend_on_role(client: TestClient, keys: Keys) -> None:
    public = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert {"buildings", "streets", "grids"} <= public and "events" not in public
    admin = {c["id"] for c in client.get("/collections", headers=as_key(keys.admin)).json()["collections"]}
    assert {"events", "enterprises", "verification_issues"} <= admin
    market = {c["id"] for c in client.get("/collections", headers=as_key(keys.market)).json()["collections"]}
    assert "enterprises" in market and "events" not in market
    collection = client.get("/collections/buildings").json()
    assert "http://www.opengis.net/def/crs/EPSG/0/4547" in collection["crs"]
    assert client.get("/collections/events").status_code == 404  # not revealed to the public
    assert client.get("/collections/events", headers=as_key(keys.market)).status_code == 403


def test_queryables(client: TestClient) -> None:
    schema = client.get("/collections/buildings/queryables").json()
    assert schema["properties"]["floors"]["type"] == "integer"
    assert schema["properties"]["geom"]["format"] == "geometry-any"


def test_page_geometry_is_st_asgeojson_byte_for_byte(client: TestClient, db) -> None:
    response = client.get("/collections/buildings/items", params={"limit": 5})
    body = response.text
    page = json.loads(body)
    ids = [f["id"] for f in page["features"]]
    assert ids == [r[0] for r in db.execute("SELECT id FROM onemap.building ORDER BY id LIMIT 5")]
    for fid in ids:
        expected = scalar(db, "SELECT ST_AsGeoJSON(geom) FROM onemap.building WHERE id = %s", fid)
        assert f'"geometry":{expected}' in body
    assert page["numberMatched"] == scalar(db, "SELECT count(*) FROM onemap.building")
    assert page["numberReturned"] == 5


def test_paging_with_next_links_covers_everything(client: TestClient, db) -> None:
    seen: list[int] = []
    url = "/collections/buildings/items?limit=150&properties=code"
    while url:
        page = client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else ""
    assert seen == [r[0] for r in db.execute("SELECT id FROM onemap.building ORDER BY id")]
    second = client.get("/collections/buildings/items", params={"limit": 10, "offset": 10}).json()
    assert any(link["rel"] == "prev" for link in second["links"])


def test_bbox_in_each_crs(client: TestClient, db) -> None:
    box = (114.2, 22.6, 114.3, 22.75)
    expected = count(
        db,
        "SELECT count(*) FROM onemap.building WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        *box,
    )
    assert expected > 0
    plain = items(client, "buildings", bbox=",".join(map(str, box)), limit=1000)
    assert plain["numberMatched"] == expected == len(plain["features"])
    lat_first = items(
        client,
        "buildings",
        bbox=f"{box[1]},{box[0]},{box[3]},{box[2]}",
        **{"bbox-crs": "EPSG:4326"},
        limit=1000,
    )
    assert lat_first["numberMatched"] == expected
    cgcs = items(
        client,
        "buildings",
        bbox=f"{box[1]},{box[0]},{box[3]},{box[2]}",
        **{"bbox-crs": "EPSG:4490"},
        limit=1000,
    )
    assert cgcs["numberMatched"] == expected
    x0, y0, x1, y1 = db.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857) AS e",
        box,
    ).fetchone()
    mercator = items(
        client, "buildings", bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": "EPSG:3857"}, limit=1000
    )
    assert (
        abs(mercator["numberMatched"] - expected) <= 2
    )  # envelope edges differ slightly between projections


@pytest.mark.parametrize(
    "crs, srid, flip",
    [
        ("EPSG:4547", 4547, True),
        ("EPSG:3857", 3857, False),
        ("EPSG:4326", 4326, True),
        ("CRS84", 4326, False),
    ],
)
def test_output_crs(client: TestClient, db, crs: str, srid: int, flip: bool) -> None:
    response = client.get("/collections/buildings/items", params={"limit": 1, "crs": crs})
    assert response.headers["content-crs"].startswith("<http://www.opengis.net/def/")
    geometry = response.json()["features"][0]["geometry"]
    expression = f"ST_Transform(geom, {srid})" if srid != 4326 else "geom"
    if flip:
        expression = f"ST_FlipCoordinates({expression})"
    geojson = scalar(db, f"SELECT ST_AsGeoJSON({expression}, 9, 0) FROM onemap.building ORDER BY id LIMIT 1")
    assert isinstance(geojson, str)
    expected = json.loads(geojson)
    assert geometry == expected


def test_datetime_on_events(client: TestClient, keys: Keys, db) -> None:
    start, end = "2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"
    expected = scalar(db, "SELECT count(*) FROM onemap.event WHERE occurred_at BETWEEN %s AND %s", start, end)
    page = items(client, "events", keys.admin, datetime=f"{start}/{end}", limit=1000)
    assert page["numberMatched"] == expected
    open_end = items(client, "events", keys.admin, datetime=f"{start}/..", limit=1)
    assert open_end["numberMatched"] == scalar(
        db, "SELECT count(*) FROM onemap.event WHERE occurred_at >= %s", start
    )
    open_start = items(client, "events", keys.admin, datetime=f"../{end}", limit=1)
    assert open_start["numberMatched"] == scalar(
        db, "SELECT count(*) FROM onemap.event WHERE occurred_at <= %s", end
    )


def test_datetime_as_of_uses_history(client: TestClient, keys: Keys, db) -> None:
    fid, floors, before = db.execute(
        "SELECT id, floors, now() FROM onemap.building ORDER BY id DESC LIMIT 1"
    ).fetchone()
    with db.transaction():
        db.execute("UPDATE onemap.building SET floors = floors + 1 WHERE id = %s", (fid,))
    past = client.get(f"/collections/buildings/items/{fid}", params={"datetime": before.isoformat()}).json()
    now = client.get(f"/collections/buildings/items/{fid}").json()
    assert past["properties"]["floors"] == floors and now["properties"]["floors"] == floors + 1
    page = items(client, "buildings", datetime=before.isoformat(), filter=f"id = {fid}")
    assert page["features"][0]["properties"]["floors"] == floors
    assert items(client, "buildings", datetime="1800-01-01")["numberMatched"] == 0


def test_filters_cql2_text_and_json(client: TestClient, db) -> None:
    expected = [
        r[0]
        for r in db.execute(
            "SELECT id FROM onemap.building WHERE floors > 10 AND use IN ('office', 'residential') "
            "ORDER BY id"
        )
    ]
    text = items(client, "buildings", filter="floors > 10 AND use IN ('office','residential')", limit=1000)
    assert [f["id"] for f in text["features"]] == expected
    tree = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "floors"}, 10]},
            {"op": "in", "args": [{"property": "use"}, ["office", "residential"]]},
        ],
    }
    as_json = items(client, "buildings", filter=json.dumps(tree), **{"filter-lang": "cql2-json"}, limit=1000)
    assert [f["id"] for f in as_json["features"]] == expected
    like = items(
        client, "buildings", filter="address LIKE '%坪地%' AND NOT floors BETWEEN 1 AND 3", limit=1000
    )
    assert like["numberMatched"] == scalar(
        db,
        "SELECT count(*) FROM onemap.building WHERE address LIKE '%%坪地%%' AND NOT floors BETWEEN 1 AND 3",
    )
    spatial = items(client, "buildings", filter="S_INTERSECTS(geom, BBOX(114.2,22.6,114.3,22.75))", limit=1)
    assert spatial["numberMatched"] == scalar(
        db,
        "SELECT count(*) FROM onemap.building WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(114.2, 22.6, 114.3, 22.75, 4326))",
    )
    arithmetic = items(client, "buildings", filter="height_m / floors > 3.5", limit=1)
    assert arithmetic["numberMatched"] == scalar(
        db, "SELECT count(*) FROM onemap.building WHERE height_m / floors > 3.5"
    )
    casei = items(client, "buildings", filter="CASEI(use) = casei('OFFICE')", limit=1)
    assert casei["numberMatched"] == scalar(db, "SELECT count(*) FROM onemap.building WHERE use = 'office'")


def test_temporal_cql2(client: TestClient, keys: Keys, db) -> None:
    page = items(
        client,
        "events",
        keys.admin,
        filter="T_AFTER(occurred_at, TIMESTAMP('2024-06-01T00:00:00Z'))",
        limit=1,
    )
    assert page["numberMatched"] == scalar(
        db, "SELECT count(*) FROM onemap.event WHERE occurred_at > '2024-06-01T00:00:00Z'"
    )
    during = items(
        client,
        "events",
        keys.admin,
        filter="T_DURING(occurred_at, INTERVAL('2024-01-01T00:00:00Z','2024-03-01T00:00:00Z'))",
        limit=1,
    )
    assert during["numberMatched"] == scalar(
        db,
        "SELECT count(*) FROM onemap.event WHERE occurred_at "
        "BETWEEN '2024-01-01T00:00:00Z' AND '2024-03-01T00:00:00Z'",
    )


def test_properties_sortby_and_equality_filters(client: TestClient, db) -> None:
    page = items(client, "buildings", properties="floors,use", sortby="-floors,+use", limit=20)
    assert all(set(f["properties"]) == {"floors", "use"} for f in page["features"])
    expected = [
        r[0] for r in db.execute("SELECT id FROM onemap.building ORDER BY floors DESC, use, id LIMIT 20")
    ]
    assert [f["id"] for f in page["features"]] == expected
    office = items(client, "buildings", use="office", limit=1)
    assert office["numberMatched"] == scalar(db, "SELECT count(*) FROM onemap.building WHERE use = 'office'")
    empty = items(client, "buildings", properties="", limit=1)
    assert empty["features"][0]["properties"] == {}


def test_single_feature_and_html(client: TestClient, db) -> None:
    fid, code = db.execute("SELECT id, code FROM onemap.building ORDER BY id LIMIT 1").fetchone()
    feature = client.get(f"/collections/buildings/items/{fid}").json()
    assert feature["properties"]["code"] == code and feature["type"] == "Feature"
    grid = client.get("/collections/grids/items").json()["features"][0]["id"]
    assert client.get(f"/collections/grids/items/{grid}").status_code == 200
    html = client.get("/collections/buildings/items", params={"f": "html", "limit": 3})
    assert html.headers["content-type"].startswith("text/html") and code in html.text
    assert client.get("/collections/buildings/items/999999999").status_code == 404


def test_grid_worker_sees_only_its_grid(client: TestClient, keys: Keys, db) -> None:
    page = items(client, "buildings", keys.grid, limit=1000)
    assert {f["properties"]["grid_code"] for f in page["features"]} == {keys.grid_code}
    assert page["numberMatched"] == scalar(
        db, "SELECT count(*) FROM onemap.building WHERE grid_code = %s", keys.grid_code
    )
    events = items(client, "events", keys.grid, limit=1000)
    assert {f["properties"]["grid_code"] for f in events["features"]} <= {keys.grid_code}
    other = scalar(db, "SELECT id FROM onemap.building WHERE grid_code <> %s LIMIT 1", keys.grid_code)
    response = client.get(f"/collections/buildings/items/{other}", headers=as_key(keys.grid))
    assert response.status_code == 403 and keys.grid_code in response.json()["detail"]
    sneaky = items(client, "buildings", keys.grid, filter=f"grid_code <> '{keys.grid_code}'")
    assert sneaky["numberMatched"] == 0
    grids = items(client, "grids", keys.grid)
    assert [f["id"] for f in grids["features"]] == [keys.grid_code]


BAD_REQUESTS = [
    {"bbox": "1,2,3"},
    {"bbox": "a,b,c,d"},
    {"bbox": "0,10,1,5"},
    {"bbox": "0,0,1,1", "bbox-crs": "EPSG:9999"},
    {"datetime": "yesterday"},
    {"datetime": "2024-13-01"},
    {"datetime": "../.."},
    {"datetime": "2024-02-01/2024-01-01"},
    {"filter": "floors >"},
    {"filter": "nosuch = 1"},
    {"filter": "floors = 'ten'"},
    {"filter": "A_CONTAINS(use, ('a'))"},
    {"filter": "T_MEETS(valid_from, INTERVAL('2020-01-01','2021-01-01'))"},
    {"filter": "foo(floors) = 1"},
    {"filter": '{"op": "="}', "filter-lang": "cql2-json"},
    {"filter-lang": "sql", "filter": "1=1"},
    {"properties": "floors,password"},
    {"sortby": "-nosuch"},
    {"crs": "EPSG:2000"},
    {"crs": "GCJ02"},
    {"limit": 0},
    {"limit": -5},
    {"limit": "ten"},
    {"offset": -1},
    {"nosuch": "x"},
    {"f": "xml"},
    {"floors": "many"},
    {"filter": "name = 'x'; DROP TABLE onemap.building; --' = 'y"},
    {"sortby": "floors; DROP TABLE x"},
    {"properties": 'code" FROM onemap.person --'},
    {"bbox": "0,0,1,1); DROP TABLE x; --"},
    {"filter": "S_INTERSECTS(geom, POINT(1))"},
    {"filter": "floors / 0 > 1"},
]


@pytest.mark.parametrize(
    "params", BAD_REQUESTS, ids=[json.dumps(p, ensure_ascii=False)[:50] for p in BAD_REQUESTS]
)
def test_bad_input_is_a_problem_400(client: TestClient, params: dict, db) -> None:
    response = client.get("/collections/buildings/items", params=params)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == 400 and problem["detail"]
    assert "SELECT" not in problem["detail"] and "Traceback" not in problem["detail"]
    assert count(db, "SELECT count(*) FROM onemap.building") > 0


def test_injection_in_path_is_harmless(client: TestClient) -> None:
    assert client.get("/collections/buildings;DROP/items").status_code == 404
    assert client.get("/collections/buildings/items/1 OR 1=1").status_code == 400


def test_number_matched_is_the_planner_estimate_on_large_results(
    platform_env: str, db, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.main import create_app
    from api.settings import get_api_settings

    # Every residential tower has 12 floors or more, but the planner takes the two conditions as independent
    # and so expects far fewer matches: the estimate is visibly not a count.
    condition = "use = 'residential' AND floors >= 12"
    monkeypatch.setenv("ONEMAP_API_EXACT_COUNT_BELOW", "1")
    get_api_settings.cache_clear()
    try:
        db.execute("ANALYZE onemap.building")
        with TestClient(create_app()) as estimating:
            page = estimating.get("/collections/buildings/items", params={"limit": 5, "filter": condition}).json()
    finally:
        get_api_settings.cache_clear()
    exact = db.execute(f"SELECT count(*) FROM onemap.building WHERE {condition}").fetchone()[0]
    assert len(page["features"]) == 5 and exact > 5
    assert 0 < page["numberMatched"] < exact


def test_unmasked_personal_reads_are_audited(client: TestClient, keys: Keys, db) -> None:
    from spatial.fusion import run_fusion

    run_fusion(db)  # verification issues about people: their keys are ID numbers
    before = scalar(db, "SELECT count(*) FROM onemap.audit_log WHERE target_id = 'verification_issues'")
    masked = items(client, "verification_issues", keys.planner, limit=5)
    assert masked["features"] and scalar(
        db, "SELECT count(*) FROM onemap.audit_log WHERE target_id = 'verification_issues'"
    ) == before  # masked reads are not personal data
    raw = items(client, "verification_issues", keys.admin, limit=5)
    assert raw["features"]
    row = db.execute(
        "SELECT actor, role, action, detail->>'masked' FROM onemap.audit_log "
        "WHERE target_id = 'verification_issues' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row[1:] == ("admin", "read", "false") and "t-admin" in row[0]


def test_as_of_with_a_box_can_use_the_spatial_indexes(db, database_url: str) -> None:
    """The box is repeated inside the as-of union (DISTINCT ON hides it otherwise), so both the table and its
    history are searched through their GiST indexes: with sequential scans priced out, none remains."""
    import datetime as dt

    from psycopg import sql

    from layers.access import PUBLIC
    from layers.catalog import get_layer
    from layers.query import Filters, TimeInterval, parse_bbox, request_crs, select_features
    from spatial.database import engine_for

    with engine_for(database_url).connect() as conn:
        layer = get_layer(conn, "buildings")
    instant = TimeInterval.at(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    box = parse_bbox("114.2,22.7,114.21,22.71", request_crs("CRS84"))
    selection = select_features(layer, PUBLIC, Filters(bbox=box, datetime=instant))
    query = sql.SQL("EXPLAIN SELECT 1 FROM {} WHERE {}").format(selection.source, selection.where)
    with db.transaction(force_rollback=True):
        db.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in db.execute(query, selection.params.values))
    assert "Seq Scan" not in plan, plan
    assert "building_history" in plan and "building_geom" in plan.replace("idx_building_geom", "building_geom")
