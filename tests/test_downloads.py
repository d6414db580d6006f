"""Downloads (GeoPackage, GeoJSON, CSV; as of a date), versions and restore of department layers, by role."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from tests._layer_helpers import DATA, make_keys, upload


@pytest.fixture(scope="module")
def setup(platform_env: str, database_url: str) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    from api.main import create_app

    keys = make_keys(database_url)
    with TestClient(create_app()) as client:
        created = upload(
            client, keys["water"], DATA / "buildings_gbk_shp.zip", id="dl_buildings", title="楼栋 Buildings"
        )
        assert created.status_code == 201, created.text
        height = next(f["name"] for f in created.json()["report"]["fields"] if f["title"] == "高度")
        yield client, keys, height


def test_downloads_in_three_formats_by_role(setup: tuple[TestClient, dict[str, str], str]) -> None:
    client, keys, _ = setup
    water = {"X-API-Key": keys["water"]}
    gpkg = client.get("/collections/dl_buildings/download?f=gpkg", headers=water)
    assert gpkg.status_code == 200 and gpkg.headers["onemap-rows"] == "40"
    frame = gpd.read_file(io.BytesIO(gpkg.content))
    assert len(frame) == 40 and "名称" in frame.columns and frame.crs.to_epsg() == 4326
    geojson = client.get("/collections/dl_buildings/download?f=geojson", headers=water)
    assert geojson.status_code == 200 and len(geojson.json()["features"]) == 40
    assert "名称" in geojson.json()["features"][0]["properties"]
    csv = client.get("/collections/dl_buildings/download?f=csv", headers=water)
    assert csv.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    table = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert len(table) == 40 and table["wkt"].str.startswith("MULTIPOLYGON").all()
    assert (
        client.get(
            "/collections/dl_buildings/download?f=csv", headers={"X-API-Key": keys["housing"]}
        ).status_code
        == 403
    )
    assert client.get("/collections/dl_buildings/download?f=csv").status_code in (401, 403, 404)
    assert client.get("/collections/dl_buildings/download?f=shp", headers=water).status_code == 400


def test_edit_history_as_of_download_and_restore(
    setup: tuple[TestClient, dict[str, str], str], db: psycopg.Connection
) -> None:
    client, keys, height = setup
    water, housing = {"X-API-Key": keys["water"]}, {"X-API-Key": keys["housing"]}
    before = datetime.now(UTC)
    time.sleep(0.05)
    column = sql.Identifier(height)
    with db.transaction():
        db.execute("SELECT set_config('onemap.actor', 'key:test:water', true)")
        db.execute(sql.SQL("UPDATE onemap.dept_dl_buildings SET {c} = 999 WHERE id = 1").format(c=column))
        db.execute("DELETE FROM onemap.dept_dl_buildings WHERE id = 2")
    now = client.get("/collections/dl_buildings/download?f=geojson", headers=water).json()["features"]
    assert len(now) == 39 and next(f for f in now if f["id"] == 1)["properties"]["高度"] == 999
    then = client.get(
        "/collections/dl_buildings/download",
        headers=water,
        params={"f": "geojson", "datetime": before.isoformat()},
    ).json()["features"]
    assert len(then) == 40 and next(f for f in then if f["id"] == 1)["properties"]["高度"] != 999

    versions = client.get("/collections/dl_buildings/items/1/versions", headers=water).json()["versions"]
    assert len(versions) == 2 and versions[0]["changed_by"] == "key:test:water" and versions[1]["current"]
    changes = client.get("/collections/dl_buildings/versions", headers=water).json()["changes"]
    assert {c["operation"] for c in changes} == {"update", "delete"}
    assert (
        client.post("/collections/dl_buildings/items/1/versions/1/restore", headers=housing).status_code
        == 403
    )
    restored = client.post("/collections/dl_buildings/items/1/versions/1/restore", headers=water)
    assert restored.status_code == 200, restored.text
    assert restored.json()["properties"][height] == versions[0]["properties"][height]
    # A deleted feature comes back from its last version; the whole layer can go back to a date too.
    back = client.post("/collections/dl_buildings/items/2/versions/1/restore", headers=water)
    assert back.status_code == 200 and back.json()["current"]
    assert client.get("/collections/dl_buildings/items/2", headers=water).status_code == 200
    with db.transaction():
        db.execute("DELETE FROM onemap.dept_dl_buildings WHERE id IN (3, 4)")
    whole = client.post(
        "/collections/dl_buildings/versions/restore", headers=water, params={"datetime": before.isoformat()}
    )
    assert whole.status_code == 200 and whole.json()["inserted"] == 2, whole.text
    assert db.execute("SELECT count(*) FROM onemap.dept_dl_buildings").fetchone() == (40,)
    # Every restore is itself a change (feature 1: edited, restored, restored with the layer).
    assert (
        len(client.get("/collections/dl_buildings/items/1/versions", headers=water).json()["versions"]) == 4
    )


def test_version_reads_follow_the_read_rules(
    setup: tuple[TestClient, dict[str, str], str], db: psycopg.Connection
) -> None:
    client, keys, _ = setup
    with db.transaction():
        db.execute("SET LOCAL onemap.actor = 'key:test:housing'")
        edited = db.execute(
            "UPDATE onemap.building SET floors = floors + 1 WHERE id = 3 RETURNING id, grid_code"
        ).fetchone()
    assert edited is not None
    building_id, grid = edited
    planner = client.get(
        f"/collections/buildings/items/{building_id}/versions", headers={"X-API-Key": keys["planner"]}
    )
    states = planner.json()["versions"]
    assert len(states) >= 2
    # Declared fields only (no internal columns such as ground_elevation_m), and the editor's name withheld
    # from a reader who may not edit.
    assert set(states[0]["properties"]) == {
        "code",
        "name",
        "address",
        "use",
        "floors",
        "height_m",
        "structure",
        "built_year",
        "street_code",
        "community_code",
        "grid_code",
    }
    assert all(s["changed_by"] is None for s in states)
    # The edit log names editors: not for readers who may not edit.
    assert client.get("/collections/buildings/versions").status_code == 403
    elsewhere = db.execute(
        "SELECT grid_code FROM onemap.building WHERE grid_code <> %s LIMIT 1", (grid,)
    ).fetchone()
    assert elsewhere is not None
    other = elsewhere[0]
    from api.auth import create_key
    from spatial.database import engine_for

    with engine_for(os.environ["ONEMAP_DATABASE_URL"]).begin() as conn:
        outsider = create_key(conn, "versions-outsider", "grid_worker", grid_code=other).key
    response = client.get(
        f"/collections/buildings/items/{building_id}/versions", headers={"X-API-Key": outsider}
    )
    assert response.status_code == 404
    bad = client.get("/collections/buildings/items/abc/versions", headers={"X-API-Key": keys["planner"]})
    assert bad.status_code == 400 and "integer" in bad.json()["detail"]
