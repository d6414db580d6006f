"""/warnings for grid workers (own grid only, masked, audited acknowledgements), /verification, the economic
potential analysis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from api.main import create_app
from spatial.database import engine_for, libpq_url
from spatial.monitoring import run_monitoring

RAW_ID_NUMBER = re.compile(r"\b\d{17}[\dX]\b")


@pytest.fixture(scope="module")
def crowded_unit(database_url: str) -> dict[str, Any]:
    """A residential unit made overcrowded (extra current residents), then the monitoring rules run."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        unit = conn.execute(
            "SELECT u.id, u.area_m2, g.grid_code, g.code, g.id FROM onemap.house_unit u JOIN onemap.building g "
            "ON g.id = u.building_id WHERE u.use = 'residential' ORDER BY u.area_m2, u.id LIMIT 1"
        ).fetchone()
        assert unit is not None
        extra = int(unit[1] // 6) + 2
        conn.execute(
            "INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from) "
            "SELECT id, %s, %s, 'tenant', '2024-01-01' FROM onemap.person ORDER BY id LIMIT %s",
            (unit[0], unit[4], extra),
        )
        run_monitoring(conn)
    return {"unit_id": unit[0], "grid": unit[2], "building": unit[3]}


@pytest.fixture(scope="module")
def keys(platform_env: str, crowded_unit: dict[str, Any]) -> dict[str, str]:
    with engine_for(platform_env).begin() as conn:
        other = conn.exec_driver_sql(
            "SELECT code FROM onemap.admin_area WHERE level = 'grid' AND code <> %(g)s ORDER BY code LIMIT 1",
            {"g": crowded_unit["grid"]},
        ).scalar_one()
        return {
            "mine": create_key(conn, "grid worker", "grid_worker", grid_code=crowded_unit["grid"]).key,
            "other": create_key(conn, "other grid worker", "grid_worker", grid_code=other).key,
            "admin": create_key(conn, "admin", "admin").key,
            "planner": create_key(conn, "planner", "planner").key,
            "market": create_key(conn, "market editor", "department_editor", department="market").key,
        }


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def test_grid_worker_sees_only_own_grid_masked(
    client: TestClient, keys: dict[str, str], crowded_unit: dict[str, Any]
) -> None:
    response = client.get("/warnings", params={"limit": 500}, headers={"X-API-Key": keys["mine"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberReturned"] > 0
    assert {w["grid_code"] for w in body["warnings"]} == {crowded_unit["grid"]}
    assert not RAW_ID_NUMBER.search(response.text)
    crowded = [
        w
        for w in body["warnings"]
        if w["kind"] == "overcrowded_unit" and w["building"]["code"] == crowded_unit["building"]
    ]
    assert crowded, "the planted overcrowded unit raised a warning"
    contact = crowded[0]["contacts"][0]
    assert "*" in contact["id_number"] and "*" in contact["name"]
    assert crowded[0]["building"]["map"].endswith(f"/map/buildings/{crowded_unit['building']}")


def test_grid_worker_cannot_ask_for_another_grid(client: TestClient, keys: dict[str, str]) -> None:
    other = client.get("/warnings", params={"grid": "nope"}, headers={"X-API-Key": keys["mine"]})
    assert other.status_code == 403
    assert client.get("/warnings").status_code == 403


def test_acknowledging_is_audited_and_in_the_feed(
    client: TestClient, keys: dict[str, str], crowded_unit: dict[str, Any], database_url: str
) -> None:
    page = client.get(
        "/warnings",
        params={"kind": "overcrowded_unit", "status": "open"},
        headers={"X-API-Key": keys["mine"]},
    ).json()
    warning = page["warnings"][0]
    everything = client.get("/warnings", headers={"X-API-Key": keys["mine"]}).json()
    since = next(link["href"] for link in everything["links"] if link["rel"] == "poll")
    stranger = client.post(
        f"/warnings/{warning['id']}/acknowledge",
        json={"note": "not mine"},
        headers={"X-API-Key": keys["other"]},
    )
    assert stranger.status_code == 404
    done = client.post(
        f"/warnings/{warning['id']}/acknowledge",
        json={"note": "上门核查, 下周复查"},
        headers={"X-API-Key": keys["mine"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "acknowledged"
    with psycopg.connect(libpq_url(database_url)) as conn:
        audit = conn.execute(
            "SELECT role, detail ->> 'note' FROM onemap.audit_log WHERE action = "
            "'warning.acknowledge' AND target_id = %s",
            (str(warning["id"]),),
        ).fetchall()
    assert audit == [("grid_worker", "上门核查, 下周复查")]
    feed = client.get(since, headers={"X-API-Key": keys["mine"]}).json()
    assert [w["id"] for w in feed["warnings"]] == [warning["id"]]
    assert feed["warnings"][0]["note"] == "上门核查, 下周复查"


def test_admin_sees_unmasked_contacts(
    client: TestClient, keys: dict[str, str], crowded_unit: dict[str, Any]
) -> None:
    body = client.get(
        "/warnings",
        params={"kind": "overcrowded_unit", "grid": crowded_unit["grid"], "limit": 500},
        headers={"X-API-Key": keys["admin"]},
    ).json()
    contacts = [c for w in body["warnings"] for c in w["contacts"]]
    assert contacts and all("*" not in c["id_number"] for c in contacts)


def test_verification_issues_masked_for_grid_worker(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get(
        "/verification/issues",
        params={"entity_kind": "person", "limit": 500},
        headers={"X-API-Key": keys["planner"]},
    )
    assert response.status_code == 200
    assert not RAW_ID_NUMBER.search(response.text)
    # person issues only: an individual business's credit code can be 18 digits too
    mine = client.get(
        "/verification/issues", params={"entity_kind": "person"}, headers={"X-API-Key": keys["mine"]}
    )
    assert mine.status_code == 200 and not RAW_ID_NUMBER.search(mine.text)


def test_deciding_an_issue_is_audited(client: TestClient, keys: dict[str, str], database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO onemap.verification_issue "
            "(entity_kind, entity_key, attribute, authoritative_department, "
            "values) VALUES ('building', 'test-building', 'use', 'housing', '{}') ON CONFLICT DO NOTHING"
        )
        row = conn.execute(
            "SELECT id FROM onemap.verification_issue WHERE entity_key = 'test-building'"
        ).fetchone()
    assert row is not None
    decided = client.post(
        f"/verification/issues/{row[0]}/dismiss",
        json={"note": "housing checked on site"},
        headers={"X-API-Key": keys["admin"]},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "dismissed"
    again = client.post(
        f"/verification/issues/{row[0]}/confirm", json={"note": "x"}, headers={"X-API-Key": keys["admin"]}
    )
    assert again.status_code == 404


def test_economic_potential_by_street(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get(
        "/analysis/economic-potential", params={"level": "community"}, headers={"X-API-Key": keys["planner"]}
    )
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features and features[0]["geometry"]["type"] in ("MultiPolygon", "Polygon")
    assert features[0]["properties"]["potential_m2"] >= features[-1]["properties"]["potential_m2"]


def test_departments_without_a_grant_see_no_warnings_or_issues(client: TestClient, keys: dict[str, str]) -> None:
    # Warnings are the grid department's events layer and issues its verification_issues layer: the market
    # department has no grant to either.
    for path in ("/warnings", "/verification/issues"):
        refused = client.get(path, headers={"X-API-Key": keys["market"]})
        assert refused.status_code == 403 and "may not read" in refused.json()["detail"]
        assert client.get(path, headers={"X-API-Key": keys["planner"]}).status_code == 200
