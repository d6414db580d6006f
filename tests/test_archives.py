"""The archives: contents against SQL, "as of", masking per role, grid scope, audit of personal reads."""

from __future__ import annotations

from fastapi.testclient import TestClient

from spatial.identifiers.masking import mask_id_number, mask_name, mask_phone
from tests.features_support import *  # noqa: F403  (the client and keys fixtures)
from tests.features_support import Keys, as_key


def a_resident(db, grid_code: str) -> tuple[str, str, str, str | None]:
    """(building code, ID number, name, phone) of someone living now in a building of the grid."""
    return db.execute(
        "SELECT b.code, p.id_number, p.name, p.phone FROM onemap.residence r "
        "JOIN onemap.person p ON p.id = r.person_id "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building b ON b.id = u.building_id "
        "WHERE r.valid_to IS NULL AND b.grid_code = %s AND p.phone IS NOT NULL ORDER BY p.id LIMIT 1",
        (grid_code,),
    ).fetchone()


def residents_of(doc: dict) -> list[dict]:
    return [r for unit in doc["units"] for r in unit["residents"]]


def test_building_archive_matches_sql(client: TestClient, keys: Keys, db) -> None:
    code, id_number, name, _phone = a_resident(db, keys.grid_code)
    response = client.get(f"/archives/buildings/{code}", headers=as_key(keys.admin))
    assert response.status_code == 200, response.text
    doc = response.json()
    building_id = db.execute("SELECT id FROM onemap.building WHERE code = %s", (code,)).fetchone()[0]
    assert (
        len(doc["units"])
        == db.execute(
            "SELECT count(*) FROM onemap.house_unit WHERE building_id = %s", (building_id,)
        ).fetchone()[0]
    )
    assert (
        len(doc["enterprises"])
        == db.execute(
            "SELECT count(*) FROM onemap.enterprise WHERE building_id = %s", (building_id,)
        ).fetchone()[0]
    )
    assert any(r["id_number"] == id_number and r["name"] == name for r in residents_of(doc))
    assert doc["masked"] is False and doc["timeline"]
    assert any(link["href"].endswith(f"/archives/persons/{id_number}") for link in doc["links"])


def test_masking_by_role(client: TestClient, keys: Keys, db) -> None:
    code, id_number, name, phone = a_resident(db, keys.grid_code)
    for key, masked in (
        (keys.admin, False),
        (keys.police, False),
        (keys.planner, True),
        (keys.housing, True),
        (keys.grid, True),
    ):
        doc = client.get(f"/archives/buildings/{code}", headers=as_key(key)).json()
        expected = (
            (mask_id_number(id_number), mask_name(name), mask_phone(phone))
            if masked
            else (id_number, name, phone)
        )
        assert expected in [(r["id_number"], r["name"], r["phone"]) for r in residents_of(doc)], key
        assert (id_number in str(doc)) is not masked
    person = client.get(f"/archives/persons/{id_number}", headers=as_key(keys.planner)).json()
    assert person["name"] == mask_name(name) and person["id_number"] == mask_id_number(id_number)
    assert id_number not in str(person) and len(person["birth"]) == 4
    by_link = client.get(f"/archives/persons/{person['id']}", headers=as_key(keys.planner)).json()
    assert by_link["id_number"] == person["id_number"]


def test_person_and_enterprise_archives(client: TestClient, keys: Keys, db) -> None:
    code, id_number, _, _ = a_resident(db, keys.grid_code)
    person = client.get(f"/archives/persons/{id_number}", headers=as_key(keys.admin)).json()
    assert any(h["building_code"] == code and h["current"] for h in person["residences"])
    assert any(link["href"].endswith(f"/archives/buildings/{code}") for link in person["links"])
    credit_code, building = db.execute(
        "SELECT e.credit_code, b.code FROM onemap.enterprise e JOIN onemap.building b "
        "ON b.id = e.building_id ORDER BY e.id LIMIT 1"
    ).fetchone()
    firm = client.get(f"/archives/enterprises/{credit_code}", headers=as_key(keys.market)).json()
    assert firm["properties"]["credit_code"] == credit_code and firm["building"]["code"] == building
    assert any(link["href"].endswith(f"/archives/buildings/{building}") for link in firm["links"])


def test_as_of(client: TestClient, keys: Keys, db) -> None:
    code, _, _, _ = a_resident(db, keys.grid_code)
    floors, before = db.execute(
        "SELECT floors, now() FROM onemap.building WHERE code = %s", (code,)
    ).fetchone()
    with db.transaction():
        db.execute("UPDATE onemap.building SET floors = floors + 2 WHERE code = %s", (code,))
    past = client.get(
        f"/archives/buildings/{code}", params={"datetime": before.isoformat()}, headers=as_key(keys.admin)
    ).json()
    assert past["properties"]["floors"] == floors
    assert (
        client.get(f"/archives/buildings/{code}", headers=as_key(keys.admin)).json()["properties"]["floors"]
        == floors + 2
    )
    assert (
        client.get(
            f"/archives/buildings/{code}", params={"datetime": "1800-01-01"}, headers=as_key(keys.admin)
        ).status_code
        == 404
    )


def test_access_rules(client: TestClient, keys: Keys, db) -> None:
    code, _id_number, _, _ = a_resident(db, keys.grid_code)
    assert client.get(f"/archives/buildings/{code}").status_code == 401
    assert client.get(f"/archives/buildings/{code}", headers=as_key(keys.public)).status_code == 403
    assert client.get(f"/archives/buildings/{code}", headers=as_key(keys.revoked)).status_code == 401
    assert client.get(f"/archives/buildings/{code}", params={"api_key": keys.grid}).status_code == 200
    other = db.execute(
        "SELECT code FROM onemap.building WHERE grid_code <> %s LIMIT 1", (keys.grid_code,)
    ).fetchone()[0]
    refused = client.get(f"/archives/buildings/{other}", headers=as_key(keys.grid))
    assert refused.status_code == 403 and keys.grid_code in refused.json()["detail"]
    for bad in (
        "/archives/buildings/x'--",
        "/archives/persons/12345678901234567Y",
        "/archives/enterprises/IIIIIIIIIIIIIIIIII",
        "/archives/buildings/nosuch",
    ):
        response = client.get(bad, headers=as_key(keys.admin))
        assert response.status_code in (400, 404), bad
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get(
            f"/archives/buildings/{code}", params={"datetime": "soon"}, headers=as_key(keys.admin)
        ).status_code
        == 400
    )


def test_personal_reads_are_audited(client: TestClient, keys: Keys, db) -> None:
    code, id_number, _, _ = a_resident(db, keys.grid_code)
    before = db.execute("SELECT count(*) FROM onemap.audit_log WHERE action = 'read'").fetchone()[0]
    client.get(f"/archives/buildings/{code}", headers=as_key(keys.planner))
    client.get(f"/archives/persons/{id_number}", headers=as_key(keys.admin))
    rows = db.execute(
        "SELECT actor, target_kind, target_id, detail->>'masked' FROM onemap.audit_log "
        "WHERE action = 'read' ORDER BY id DESC LIMIT 2"
    ).fetchall()
    assert (
        db.execute("SELECT count(*) FROM onemap.audit_log WHERE action = 'read'").fetchone()[0] == before + 2
    )
    assert rows[0][1:] == ("person_archive", id_number, "false") and "t-admin" in rows[0][0]
    assert rows[1][1:] == ("building_archive", code, "true")


def test_building_file_shows_provenance_per_attribute(client: TestClient, keys: Keys, db) -> None:
    from spatial.fusion import run_fusion

    run_fusion(db)  # incremental: only records not fused yet
    code = db.execute("SELECT code FROM onemap.building ORDER BY id LIMIT 1").fetchone()[0]
    doc = client.get(f"/archives/buildings/{code}", headers=as_key(keys.planner)).json()
    floors = doc["provenance"]["building"]["floors"]
    assert floors["source"] == "housing"  # the authority on building facts
    assert "urban_management" in floors["checks"]  # the department that verifies it
    # A planner sees person keys masked in provenance too.
    assert all("*" in key for key in doc["provenance"]["persons"])


def test_issue_keys_in_a_building_file_are_masked(client: TestClient, keys: Keys, db) -> None:
    from spatial.fusion import run_fusion

    run_fusion(db)
    code, id_number = db.execute(
        "SELECT b.code, vi.entity_key FROM onemap.verification_issue vi "
        "JOIN onemap.building b ON b.id = vi.building_id "
        "WHERE vi.entity_kind = 'person' AND vi.status = 'open' ORDER BY vi.id LIMIT 1"
    ).fetchone()
    masked = client.get(f"/archives/buildings/{code}", headers=as_key(keys.planner)).json()
    person_issues = [i for i in masked["verification_issues"] if i["entity_kind"] == "person"]
    assert person_issues and all(i["entity_key"] != id_number and "*" in i["entity_key"] for i in person_issues)
    assert id_number not in str(masked)
    raw = client.get(f"/archives/buildings/{code}", headers=as_key(keys.admin)).json()
    assert id_number in {i["entity_key"] for i in raw["verification_issues"]}


def test_file_sections_follow_layer_grants(client: TestClient, keys: Keys, db) -> None:
    code, credit_code = db.execute(
        "SELECT b.code, e.credit_code FROM onemap.enterprise e JOIN onemap.building b ON b.id = e.building_id "
        "ORDER BY e.id LIMIT 1"
    ).fetchone()
    # Housing may not read the market's enterprises layer, nor the grid's events: nor through a file.
    housing = client.get(f"/archives/buildings/{code}", headers=as_key(keys.housing)).json()
    assert housing["enterprises"] == [] and housing["events"] == []
    assert client.get(f"/archives/enterprises/{credit_code}", headers=as_key(keys.housing)).status_code == 403
    market = client.get(f"/archives/buildings/{code}", headers=as_key(keys.market)).json()
    assert credit_code in {e["credit_code"] for e in market["enterprises"]}
    assert client.get(f"/archives/enterprises/{credit_code}", headers=as_key(keys.market)).status_code == 200
