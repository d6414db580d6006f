"""OGC API Features Part 4: who may write, one transaction each, history and audit kept."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.features_support import *  # noqa: F403  (the client and keys fixtures)
from tests.features_support import Keys, as_key

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[114.25, 22.70], [114.2501, 22.70], [114.2501, 22.7001], [114.25, 22.7001], [114.25, 22.70]]
    ],
}


def new_building(db, code: str) -> dict:
    street, community, grid = db.execute(
        "SELECT street_code, community_code, grid_code FROM onemap.building LIMIT 1"
    ).fetchone()
    return {
        "type": "Feature",
        "geometry": SQUARE,
        "properties": {
            "code": code,
            "address": "测试路1号",
            "use": "office",
            "floors": 5,
            "height_m": 16.5,
            "built_year": 2020,
            "street_code": street,
            "community_code": community,
            "grid_code": grid,
        },
    }


def test_department_editor_creates_updates_replaces_deletes(client: TestClient, keys: Keys, db) -> None:
    headers = as_key(keys.housing)
    created = client.post(
        "/collections/buildings/items", json=new_building(db, "TEST-EDIT-1"), headers=headers
    )
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    assert created.headers["location"].endswith(f"/collections/buildings/items/{fid}")
    row = db.execute(
        "SELECT floors, ST_GeometryType(geom) FROM onemap.building WHERE id = %s", (fid,)
    ).fetchone()
    assert row == (5, "ST_MultiPolygon")

    patched = client.patch(
        f"/collections/buildings/items/{fid}", json={"properties": {"floors": 7}}, headers=headers
    )
    assert patched.status_code == 204, patched.text
    assert db.execute("SELECT floors FROM onemap.building WHERE id = %s", (fid,)).fetchone()[0] == 7
    history = db.execute(
        "SELECT floors, changed_by FROM onemap.building_history WHERE id = %s", (fid,)
    ).fetchall()
    assert history[-1][0] == 5 and history[-1][1].startswith("key:") and "t-housing" in history[-1][1]

    replacement = new_building(db, "TEST-EDIT-1")
    replacement["properties"]["floors"] = 9
    assert (
        client.put(f"/collections/buildings/items/{fid}", json=replacement, headers=headers).status_code
        == 204
    )
    assert db.execute("SELECT floors, name FROM onemap.building WHERE id = %s", (fid,)).fetchone() == (
        9,
        None,
    )

    assert client.delete(f"/collections/buildings/items/{fid}", headers=headers).status_code == 204
    assert db.execute("SELECT count(*) FROM onemap.building WHERE id = %s", (fid,)).fetchone()[0] == 0
    actions = [
        r[0]
        for r in db.execute(
            "SELECT action FROM onemap.audit_log WHERE target_kind = "
            "'feature:buildings' AND target_id = %s ORDER BY id",
            (str(fid),),
        )
    ]
    assert actions == ["create", "update", "replace", "delete"]
    assert client.delete(f"/collections/buildings/items/{fid}", headers=headers).status_code == 404


def test_who_may_not_edit(client: TestClient, keys: Keys, db) -> None:
    body = new_building(db, "TEST-EDIT-2")
    for key, status in (
        (None, 403),
        (keys.public, 403),
        (keys.planner, 403),
        (keys.grid, 403),
        (keys.market, 403),
        (keys.revoked, 401),
    ):
        response = client.post("/collections/buildings/items", json=body, headers=as_key(key))
        assert response.status_code == status, (key, response.text)
    assert client.post("/collections/grids/items", json=body, headers=as_key(keys.admin)).status_code == 403
    assert db.execute("SELECT count(*) FROM onemap.building WHERE code = 'TEST-EDIT-2'").fetchone()[0] == 0


def test_bad_edits_are_400_and_leave_nothing(client: TestClient, keys: Keys, db) -> None:
    headers = as_key(keys.admin)
    before = db.execute("SELECT count(*) FROM onemap.audit_log").fetchone()[0]
    bad = new_building(db, "TEST-EDIT-3")
    cases = [
        {"type": "FeatureCollection"},
        {**bad, "properties": {**bad["properties"], "floors": "many"}},
        {**bad, "properties": {**bad["properties"], "floors": 999}},  # check constraint
        {**bad, "properties": {**bad["properties"], "password": "x"}},
        {**bad, "properties": {k: v for k, v in bad["properties"].items() if k != "address"}},  # not null
        {**bad, "properties": {**bad["properties"], "grid_code": "nosuchgrid"}},  # foreign key
        {**bad, "geometry": {"type": "Polygon", "coordinates": "x"}},
        {**bad, "geometry": None},
    ]
    for body in cases:
        response = client.post("/collections/buildings/items", json=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert "INSERT" not in response.text
    assert db.execute("SELECT count(*) FROM onemap.audit_log").fetchone()[0] == before
    fid = db.execute("SELECT min(id) FROM onemap.building").fetchone()[0]
    assert client.patch(f"/collections/buildings/items/{fid}", json={}, headers=headers).status_code == 400
    taken = new_building(db, db.execute("SELECT code FROM onemap.building LIMIT 1").fetchone()[0])
    assert client.post("/collections/buildings/items", json=taken, headers=headers).status_code == 409
