"""The community workspace's API and the saved one-map modes: a community operator's tiles, features,
downloads and workspace hold only its community's rows (masked), tasks go to a grid worker and come back done
(audited), the xlsx download is masked for operators and audited, saved maps are read only by those they are
shared with; keys for the new roles need their area."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.auth import create_key
from api.main import create_app
from spatial.database import engine_for, libpq_url
from spatial.errors import InvalidInput
from tests.tiles_support import address_at, decode, tile_env, url_of

__all__ = ["tile_env"]


@pytest.fixture(scope="module")
def place(database_url: str) -> dict[str, Any]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        community, street = conn.execute(
            "SELECT code, parent_code FROM onemap.admin_area WHERE level = 'community' ORDER BY code LIMIT 1"
        ).fetchone() or ("", "")
        other = conn.execute(
            "SELECT code FROM onemap.admin_area WHERE level = 'community' AND code <> %s ORDER BY code LIMIT 1",
            (community,),
        ).fetchone()
        grids = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM onemap.admin_area WHERE parent_code = %s ORDER BY code", (community,)
            ).fetchall()
        ]
        building = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM onemap.building "
            "WHERE grid_code = %s ORDER BY id LIMIT 1",
            (grids[0],),
        ).fetchone()
    assert other is not None and building is not None
    return {
        "community": community,
        "street": street,
        "other": other[0],
        "grids": grids,
        "building": building[0],
        "lon": building[1],
        "lat": building[2],
    }


@pytest.fixture(scope="module")
def keys(platform_env: str, place: dict[str, Any]) -> dict[str, str]:
    with engine_for(platform_env).begin() as conn:
        return {
            "admin": create_key(conn, "ws admin", "admin").key,
            "planner": create_key(conn, "ws planner", "planner").key,
            "operator": create_key(
                conn, "ws operator", "community_operator", area_code=place["community"]
            ).key,
            "other_operator": create_key(
                conn, "ws other", "community_operator", area_code=place["other"]
            ).key,
            "worker": create_key(conn, "ws worker", "grid_worker", grid_code=place["grids"][0]).key,
            "water": create_key(conn, "ws water", "department_editor", department="water").key,
            "housing": create_key(conn, "ws housing", "department_editor", department="housing").key,
        }


@pytest.fixture(scope="module")
def client(platform_env: str, tile_env: Any) -> Iterator[TestClient]:
    from layers.screens.settings import get_screen_settings

    # Every open case of the community on the page: other modules leave many in the session database, and a
    # section shows its first rows only (overdue first).
    os.environ["ONEMAP_SCREENS_WORKSPACE_ROWS"] = "100000"
    get_screen_settings.cache_clear()
    try:
        with TestClient(create_app()) as test_client:
            yield test_client
    finally:
        os.environ.pop("ONEMAP_SCREENS_WORKSPACE_ROWS", None)
        get_screen_settings.cache_clear()


def h(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


def test_operator_keys_need_their_area(platform_env: str, place: dict[str, Any]) -> None:
    with engine_for(platform_env).begin() as conn:
        with pytest.raises(InvalidInput, match="--area"):
            create_key(conn, "x", "community_operator")
        with pytest.raises(InvalidInput, match="no community"):
            create_key(conn, "x", "community_operator", area_code=place["street"] + "999")
        with pytest.raises(InvalidInput, match="no street"):
            create_key(conn, "x", "street_operator", area_code=place["community"])


def test_operator_tiles_and_features_hold_only_its_community(
    client: TestClient, keys: dict[str, str], place: dict[str, Any]
) -> None:
    own = set(place["grids"])
    address = address_at("WebMercatorQuad", place["lon"], place["lat"], 12)
    for layer in ("buildings", "grids"):
        mine = client.get(url_of(layer, address), headers=h(keys["operator"]))
        everyone = client.get(url_of(layer, address), headers=h(keys["planner"]))
        assert mine.status_code == 200 and everyone.status_code == 200
        column = "grid_code" if layer == "buildings" else "code"
        seen = {f["properties"][column] for t in decode(mine.content).values() for f in t["features"]}
        all_seen = {f["properties"][column] for t in decode(everyone.content).values() for f in t["features"]}
        assert seen and seen <= own and all_seen - own, (layer, seen)
    page = client.get(
        "/collections/buildings/items", params={"limit": 1000}, headers=h(keys["operator"])
    ).json()
    assert page["features"] and {f["properties"]["grid_code"] for f in page["features"]} <= own
    download = client.get("/collections/buildings/download", params={"f": "csv"}, headers=h(keys["operator"]))
    assert download.status_code == 200, download.text
    lines = download.text.splitlines()
    grid_at = lines[0].split(",").index("grid_code")
    assert len(lines) > 1 and {line.split(",")[grid_at] for line in lines[1:]} <= own


def test_workspace_page_is_its_own_and_masked(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    page = client.get(f"/communities/{place['community']}", params={"api_key": keys["operator"]})
    assert page.status_code == 200 and "社区综合指挥平台" in page.text
    names = [
        r[0]
        for r in db.execute(
            "SELECT p.name FROM onemap.person p JOIN onemap.residence r ON r.person_id = p.id JOIN onemap.building b "
            "ON b.id = r.building_id WHERE b.community_code = %s AND r.valid_to IS NULL LIMIT 20",
            (place["community"],),
        ).fetchall()
    ]
    assert names and not any(len(n) > 1 and n in page.text for n in names), "unmasked names on the page"
    assert "*" in page.text
    refused = client.get(f"/communities/{place['other']}", params={"api_key": keys["operator"]})
    assert refused.status_code == 403 and "<td>" not in refused.text
    assert (
        client.get(
            f"/communities/{place['community']}", params={"api_key": keys["other_operator"]}
        ).status_code
        == 403
    )
    assert client.get(f"/communities/{place['community']}").status_code == 401
    assert (
        client.get(f"/communities/{place['street']}999", params={"api_key": keys["planner"]}).status_code
        == 404
    )


def test_download_is_masked_and_audited(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    response = client.get(f"/communities/{place['community']}/download.xlsx", headers=h(keys["operator"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    residents = [row for row in book["居民 Residents"].iter_rows(values_only=True)]
    header = list(residents[0])
    assert len(residents) > 1
    id_col, grid_col = header.index("id_number"), header.index("grid_code")
    assert all("*" in str(row[id_col]) for row in residents[1:])
    assert {row[grid_col] for row in residents[1:]} <= set(place["grids"])
    buildings = list(book["楼栋 Buildings"].iter_rows(values_only=True))
    count = db.execute(
        "SELECT count(*) FROM onemap.building WHERE community_code = %s", (place["community"],)
    ).fetchone()
    assert count is not None and len(buildings) - 1 == count[0]
    audit = db.execute(
        "SELECT detail FROM onemap.audit_log WHERE action = 'download' AND target_id = %s ORDER BY id DESC LIMIT 1",
        (place["community"],),
    ).fetchone()
    assert (
        audit is not None
        and audit[0]["masked"] is True
        and audit[0]["rows"]["居民 Residents"] == len(residents) - 1
    )
    admin = client.get(f"/communities/{place['community']}/download.xlsx", headers=h(keys["admin"]))
    admin_book = load_workbook(io.BytesIO(admin.content), read_only=True)
    rows = list(admin_book["居民 Residents"].iter_rows(values_only=True))
    assert not any("*" in str(row[id_col]) for row in rows[1:])
    assert (
        client.get(f"/communities/{place['other']}/download.xlsx", headers=h(keys["operator"])).status_code
        == 403
    )


def test_tasks_assigned_and_done(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    base = f"/communities/{place['community']}/tasks"
    body = {"grid_code": place["grids"][0], "kind": "check", "subject": place["building"], "note": "上门核查"}
    assert client.post(base, json=body, headers=h(keys["planner"])).status_code == 403
    assert client.post(base, json={**body, "subject": "nope"}, headers=h(keys["operator"])).status_code == 400
    outside = client.post(base, json={**body, "grid_code": "x"}, headers=h(keys["operator"]))
    assert outside.status_code == 400 and "not a grid of this community" in outside.json()["detail"]
    created = client.post(base, json=body, headers=h(keys["operator"]))
    assert created.status_code == 201, created.text
    task = created.json()
    listed = client.get(base, headers=h(keys["worker"])).json()["tasks"]
    assert any(t["id"] == task["id"] and t["status"] == "assigned" for t in listed)
    figures = client.get("/kpis", params={"names": "grid_tasks"}, headers=h(keys["operator"])).json()
    assert figures["figures"]["grid_tasks"]["total"]["assigned"] >= 1
    assert (
        client.post(f"/tasks/{task['id']}/done", json={"note": "ok"}, headers=h(keys["operator"])).status_code
        == 403
    )
    done = client.post(f"/tasks/{task['id']}/done", json={"note": "已核查"}, headers=h(keys["worker"]))
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert (
        client.post(
            f"/tasks/{task['id']}/done", json={"note": "again"}, headers=h(keys["worker"])
        ).status_code
        == 404
    )
    actions = [
        r[0]
        for r in db.execute(
            "SELECT action FROM onemap.audit_log WHERE target_kind = 'grid_task' AND target_id = %s ORDER BY id",
            (str(task["id"]),),
        ).fetchall()
    ]
    assert actions == ["task.assign", "task.done"]


def test_saved_maps_are_shared_as_said(client: TestClient, keys: dict[str, str]) -> None:
    body = {
        "title": "住建专题",
        "layers": ["buildings", "grids"],
        "view": {"bbox": [114.1, 22.6, 114.3, 22.8]},
        "filters": {"buildings": "floors > 6"},
        "as_of": "2025-06-30",
        "shared_departments": ["housing"],
    }
    assert client.post("/maps", json=body, headers=h(keys["operator"])).status_code == 403
    bad = client.post(
        "/maps", json={**body, "filters": {"buildings": "nonsense_field > 1"}}, headers=h(keys["planner"])
    )
    assert bad.status_code == 400
    assert (
        client.post("/maps", json={**body, "layers": ["no_such"]}, headers=h(keys["planner"])).status_code
        == 400
    )
    assert (
        client.post(
            "/maps", json={**body, "shared_roles": ["public"]}, headers=h(keys["planner"])
        ).status_code
        == 400
    )
    created = client.post("/maps", json=body, headers=h(keys["planner"]))
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["layers"] == ["buildings", "grids"] and saved["filters"] == {"buildings": "floors > 6"}
    mid = saved["id"]
    assert client.get(f"/maps/{mid}", headers=h(keys["housing"])).json()["title"] == "住建专题"
    assert client.get(f"/maps/{mid}", headers=h(keys["water"])).status_code == 404
    assert mid in [m["id"] for m in client.get("/maps", headers=h(keys["housing"])).json()["maps"]]
    assert mid not in [m["id"] for m in client.get("/maps", headers=h(keys["water"])).json()["maps"]]
    viewer = client.get(f"/maps/{mid}", params={"f": "html", "api_key": keys["housing"]})
    assert viewer.status_code == 200 and "住建专题" in viewer.text
    wall = client.get(f"/maps/{mid}/dashboard", params={"api_key": keys["housing"]}, follow_redirects=False)
    assert wall.status_code == 303 and wall.headers["location"].startswith(f"/dashboard?map={mid}")
    assert client.get("/dashboard", params={"map": mid, "api_key": keys["water"]}).status_code == 404
    assert client.get("/dashboard", params={"map": mid, "api_key": keys["housing"]}).status_code == 200


def test_dashboard_page_errors(client: TestClient, keys: dict[str, str], place: dict[str, Any]) -> None:
    assert client.get("/dashboard").status_code == 401
    assert client.get("/dashboard", params={"layout": "800", "api_key": keys["planner"]}).status_code == 400
    assert client.get("/dashboard", params={"mode": "x", "api_key": keys["planner"]}).status_code == 400
    refused = client.get("/dashboard", params={"code": place["other"], "api_key": keys["operator"]})
    assert refused.status_code == 403
    page = client.get("/dashboard", params={"layout": "3840", "api_key": keys["operator"]})
    assert page.status_code == 200 and f'"code": "{place["community"]}"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, nothing off the machine
    size = len(page.content) + sum(
        len(client.get(f"/static/screens/{f}").content) for f in ("dashboard.js", "dashboard.css")
    )
    assert size < 1_500_000


def _open_case(db: psycopg.Connection, grid: str, text: str, state: str = "resolved") -> int:
    row = db.execute(
        "INSERT INTO onemap.service_case (category, state, source_kind, description, grid_code, department, "
        "reporter, due_at, geom) SELECT 'sanitation', %s, 'report', %s, code, 'urban_management', "
        "'ws test', now() + interval '1 day', ST_PointOnSurface(geom) FROM onemap.admin_area WHERE code = %s "
        "RETURNING id",
        (state, text, grid),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_operator_assigns_an_open_case_to_its_grid_worker(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    own = _open_case(db, place["grids"][0], "楼道垃圾 ws own case")
    other_grid = db.execute(
        "SELECT code FROM onemap.admin_area WHERE parent_code = %s ORDER BY code LIMIT 1", (place["other"],)
    ).fetchone()
    assert other_grid is not None
    foreign = _open_case(db, other_grid[0], "ws foreign case")
    page = client.get(f"/communities/{place['community']}", params={"api_key": keys["operator"]})
    assert page.status_code == 200 and 'id="ws-cases"' in page.text
    assert "ws own case" in page.text and "ws foreign case" not in page.text
    base = f"/communities/{place['community']}/tasks"
    worker = db.execute("SELECT id FROM onemap.api_key WHERE label = 'ws worker'").fetchone()
    assert worker is not None
    # the page's task form offers the community's grid workers, and only those, as a case's assignee
    offered = re.findall(r'<select name="assignee">(.*?)</select>', page.text)
    assert offered and f'<option value="{worker[0]}"' in offered[0]
    outsiders = db.execute(
        "SELECT id FROM onemap.api_key WHERE role = 'grid_worker' AND NOT grid_code = ANY(%s)", (place["grids"],)
    ).fetchall()
    assert all(f'<option value="{o[0]}"' not in offered[0] for o in outsiders)
    body = {
        "grid_code": place["grids"][0],
        "kind": "case",
        "subject": str(own),
        "note": "请现场核查",
        "assignee": worker[0],
    }
    # the grid worker of another community: refused, whether named by its grid or through its case
    elsewhere = client.post(base, json={**body, "grid_code": other_grid[0]}, headers=h(keys["operator"]))
    assert elsewhere.status_code == 400 and "not a grid of this community" in elsewhere.json()["detail"]
    # another community's case does not exist for this operator
    wrong = client.post(base, json={**body, "subject": str(foreign)}, headers=h(keys["operator"]))
    assert wrong.status_code == 404, wrong.text
    assert (
        client.post(
            f"/communities/{place['other']}/tasks",
            json={**body, "grid_code": other_grid[0]},
            headers=h(keys["operator"]),
        ).status_code
        == 403
    )
    created = client.post(base, json=body, headers=h(keys["operator"]))
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["kind"] == "case" and task["subject"] == str(own) and task["status"] == "assigned"
    text = client.get(f"/communities/{place['community']}", params={"api_key": keys["operator"]}).text
    assert f"{task['id']}:assigned" in text
    done = client.post(f"/tasks/{task['id']}/done", json={"note": "已清理"}, headers=h(keys["worker"]))
    assert done.status_code == 200, done.text
    listed = client.get(base, headers=h(keys["operator"])).json()["tasks"]
    assert any(t["id"] == task["id"] and t["status"] == "done" and t["done_note"] == "已清理" for t in listed)
    text = client.get(f"/communities/{place['community']}", params={"api_key": keys["operator"]}).text
    assert f"{task['id']}:done" in text
    audit = db.execute(
        "SELECT action, detail ->> 'subject' FROM onemap.audit_log WHERE target_kind = 'grid_task' "
        "AND target_id = %s ORDER BY id",
        (str(task["id"]),),
    ).fetchall()
    assert [a for a, _ in audit] == ["task.assign", "task.done"] and audit[0][1] == str(own)
    # the assignment is on the case's own timeline, and the worker finds it among its cases
    case = client.get(f"/cases/{own}", headers=h(keys["operator"])).json()
    assign = [t for t in case["timeline"] if t["action"] == "assign"]
    assert (
        len(assign) == 1
        and assign[0]["note"] == "请现场核查"
        and assign[0]["assignee"].startswith(f"key:{worker[0]}:")
    )
    mine = client.get("/cases", params={"mine": "true"}, headers=h(keys["worker"])).json()["cases"]
    assert own in {c["id"] for c in mine}


def test_operator_reads_only_its_area_cases_and_assigns_by_the_machine(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    own = _open_case(db, place["grids"][0], "ws area case")
    other_grid = db.execute(
        "SELECT code FROM onemap.admin_area WHERE parent_code = %s ORDER BY code LIMIT 1", (place["other"],)
    ).fetchone()
    assert other_grid is not None
    foreign = _open_case(db, other_grid[0], "ws area foreign")
    dispatched = _open_case(db, place["grids"][0], "ws area dispatched", "dispatched")
    listed = client.get("/cases", params={"limit": 500}, headers=h(keys["operator"])).json()["cases"]
    ids = {c["id"] for c in listed}
    assert own in ids and foreign not in ids
    assert {c["grid_code"] for c in listed} <= set(place["grids"])
    assert client.get(f"/cases/{foreign}", headers=h(keys["operator"])).status_code == 404
    assert client.get(f"/cases/{own}", headers=h(keys["operator"])).status_code == 200
    worker = db.execute("SELECT id FROM onemap.api_key WHERE label = 'ws worker'").fetchone()
    assert worker is not None
    before = db.execute("SELECT count(*) FROM onemap.case_transition").fetchone()
    late = client.post(
        f"/cases/{dispatched}/assign", json={"assignee": worker[0]}, headers=h(keys["operator"])
    )
    assert late.status_code == 409 and "accept" in late.json()["allowed_actions"]
    refused = client.post(f"/cases/{own}/assign", json={"assignee": worker[0]}, headers=h(keys["housing"]))
    assert refused.status_code in (403, 404)
    stranger = client.post(f"/cases/{own}/assign", json={"assignee": 999999}, headers=h(keys["operator"]))
    assert stranger.status_code == 400 and "grid worker key" in stranger.json()["detail"]
    assert db.execute("SELECT count(*) FROM onemap.case_transition").fetchone() == before
    done = client.post(
        f"/cases/{own}/assign", json={"assignee": worker[0], "note": "上门"}, headers=h(keys["operator"])
    )
    assert done.status_code == 200, done.text
    assert done.json()["case"]["state"] == "resolved" and done.json()["case"]["assignee"].startswith("key:")


def test_workspace_shows_its_door_access_anomalies(
    client: TestClient, keys: dict[str, str], place: dict[str, Any], db: psycopg.Connection
) -> None:
    other_grid = db.execute(
        "SELECT code FROM onemap.admin_area WHERE parent_code = %s ORDER BY code LIMIT 1", (place["other"],)
    ).fetchone()
    assert other_grid is not None
    for grid, text, subject in (
        (place["grids"][0], "ws door own", "card:ws-own"),
        (other_grid[0], "ws door foreign", "card:ws-foreign"),
    ):
        db.execute(
            "WITH e AS (INSERT INTO onemap.event (kind, severity, occurred_at, grid_code, description, geom) "
            "SELECT 'door_access', 3, now(), code, %s, ST_PointOnSurface(geom) FROM onemap.admin_area "
            "WHERE code = %s RETURNING id) "
            "INSERT INTO onemap.warning (event_id, rule, subject_key) SELECT id, 'shared_card', %s FROM e",
            (text, grid, subject),
        )
    page = client.get(f"/communities/{place['community']}", params={"api_key": keys["operator"]}).text
    section = page[page.index('id="ws-door_access"') :]
    section = section[: section.index("</section>")]
    assert "ws door own" in section and "shared_card" in section
    assert "ws door foreign" not in page
    assert "ws-own" not in page  # the card behind the warning is not shown
