"""Cases: warnings and verification issues become routed, timed cases; the state machine with its 409 / 403;
every transition on the timeline and in the audit log; scope and masking by role; "as of"; reports, photos,
overdue escalation and the departments' evaluation; cases as an OGC API collection."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.auth import create_key
from api.main import create_app
from spatial.cases import escalate_overdue, open_cases_from_issues, open_cases_from_warnings
from spatial.cases.calendar import WorkingCalendar, parse_hours
from spatial.cases.settings import get_case_settings
from spatial.database import engine_for, libpq_url
from spatial.errors import InvalidInput
from spatial.monitoring import run_monitoring

RAW_ID_NUMBER = re.compile(r"\b\d{17}[\dX]\b")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def opened(database_url: str) -> dict[str, Any]:
    """Monitoring warnings (one overcrowded unit planted) and verification issues, opened as cases."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        unit = conn.execute(
            "SELECT u.id, u.area_m2, g.id FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id "
            "WHERE u.use = 'residential' ORDER BY u.area_m2 DESC, u.id LIMIT 1"
        ).fetchone()
        assert unit is not None
        conn.execute(
            "INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from) "
            "SELECT id, %s, %s, 'tenant', '2024-01-01' FROM onemap.person ORDER BY id DESC LIMIT %s",
            (unit[0], unit[2], int(unit[1] // 6) + 3),
        )
        run_monitoring(conn)
        # A disagreement about a person living in that building, as fusion records one.
        conn.execute(
            "INSERT INTO onemap.verification_issue (entity_kind, entity_key, attribute, authoritative_department, "
            "values, building_id, grid_code, geom) SELECT 'person', p.id_number, 'phone', 'police', "
            "jsonb_build_object('police', p.phone, 'housing', '13800000000'), g.id, g.grid_code, "
            "ST_PointOnSurface(g.geom) FROM onemap.person p, onemap.building g WHERE g.id = %s ORDER BY p.id LIMIT 1 "
            "ON CONFLICT DO NOTHING",
            (unit[2],),
        )
        first = open_cases_from_warnings(conn)
        again = open_cases_from_warnings(conn)
        issues = open_cases_from_issues(conn)
        case = conn.execute(
            "SELECT c.id, c.grid_code FROM onemap.service_case c JOIN onemap.event e ON e.id::text = c.source_ref "
            "WHERE c.source_kind = 'warning' AND e.kind = 'overcrowded_unit' ORDER BY c.id LIMIT 1"
        ).fetchone()
        assert case is not None
    return {"first": first, "again": again, "issues": issues, "case": case[0], "grid": case[1]}


@pytest.fixture(scope="module")
def keys(platform_env: str, opened: dict[str, Any]) -> dict[str, str]:
    with engine_for(platform_env).begin() as conn:
        other = conn.exec_driver_sql(
            "SELECT code FROM onemap.admin_area WHERE level = 'grid' AND code <> %(g)s ORDER BY code LIMIT 1",
            {"g": opened["grid"]},
        ).scalar_one()
        made = {
            "admin": ("admin", None, None),
            "planner": ("planner", None, None),
            "centre": ("department_editor", "grid", None),
            "housing": ("department_editor", "housing", None),
            "market": ("department_editor", "market", None),
            "police": ("department_editor", "police", None),
            "worker": ("grid_worker", None, opened["grid"]),
            "other": ("grid_worker", None, other),
        }
        return {name: create_key(conn, name, r, d, g).key for name, (r, d, g) in made.items()}


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def h(keys: dict[str, str], who: str) -> dict[str, str]:
    return {"X-API-Key": keys[who]}


def timeline_length(db: psycopg.Connection, case_id: int) -> int:
    row = db.execute("SELECT count(*) FROM onemap.case_transition WHERE case_id = %s", (case_id,)).fetchone()
    return int(row[0]) if row else 0


def test_warnings_and_issues_become_cases_once(opened: dict[str, Any], db: psycopg.Connection) -> None:
    assert opened["first"]["opened"] > 0 and opened["again"]["opened"] == 0
    assert opened["issues"]["opened"] > 0
    row = db.execute(
        "SELECT state, department, due_at > now(), (SELECT action FROM onemap.case_transition t "
        "WHERE t.case_id = c.id) FROM onemap.service_case c WHERE id = %s",
        (opened["case"],),
    ).fetchone()
    assert row == ("registered", "housing", True, "open")
    # Verification issues go to the department that is the authority, with no ID number in the text.
    mismatched = db.execute(
        "SELECT count(*) FROM onemap.service_case c JOIN onemap.verification_issue i ON i.id::text = c.source_ref "
        "WHERE c.source_kind = 'verification_issue' AND c.department <> i.authoritative_department"
    ).fetchone()
    assert mismatched == (0,)
    texts = db.execute(
        "SELECT string_agg(description, ' ') FROM onemap.service_case WHERE source_kind = 'verification_issue'"
    ).fetchone()
    assert texts and not RAW_ID_NUMBER.search(texts[0])


def test_closed_loop_every_transition_audited(
    client: TestClient, keys: dict[str, str], opened: dict[str, Any], db: psycopg.Connection
) -> None:
    case_id = opened["case"]
    steps = [
        ("centre", "dispatch", None),
        ("housing", "accept", None),
        ("housing", "start", None),
        ("housing", "resolve", "tenants moved to a second unit"),
        ("worker", "verify", "checked on site"),
        ("centre", "close", None),
    ]
    for who, action, note in steps:
        response = client.post(f"/cases/{case_id}/{action}", json={"note": note}, headers=h(keys, who))
        assert response.status_code == 200, (action, response.text)
    body = client.get(f"/cases/{case_id}", headers=h(keys, "admin")).json()
    assert body["state"] == "closed" and body["allowed_actions"] == []
    assert [t["action"] for t in body["timeline"]] == [
        "open",
        "dispatch",
        "accept",
        "start",
        "resolve",
        "verify",
        "close",
    ]
    resolve = body["timeline"][4]
    assert resolve["note"] == "tenants moved to a second unit" and resolve["actor"].endswith(":housing")
    audited = db.execute(
        "SELECT array_agg(action ORDER BY id) FROM onemap.audit_log WHERE target_kind = 'case' AND target_id = %s",
        (str(case_id),),
    ).fetchone()
    assert audited and audited[0] == [f"case.{a}" for _, a, _ in steps]
    # The timeline is append-only.
    with pytest.raises(psycopg.errors.RaiseException):
        db.execute("UPDATE onemap.case_transition SET note = 'x' WHERE case_id = %s", (case_id,))


def _registered_case(db: psycopg.Connection, department: str = "housing") -> tuple[int, str]:
    row = db.execute(
        "SELECT id, grid_code FROM onemap.service_case WHERE state = 'registered' AND department = %s "
        "AND source_kind = 'warning' ORDER BY id DESC LIMIT 1",
        (department,),
    ).fetchone()
    assert row is not None, f"a registered {department} case"
    return row[0], row[1]


def test_state_that_does_not_allow_it_is_409_listing_actions(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    case_id, _ = _registered_case(db)
    before = timeline_length(db, case_id)
    response = client.post(f"/cases/{case_id}/accept", json={}, headers=h(keys, "housing"))
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["allowed_actions"] == ["dispatch", "escalate"]
    assert "registered" in body["detail"] and "dispatch" in body["detail"]
    assert timeline_length(db, case_id) == before
    state = db.execute("SELECT state FROM onemap.service_case WHERE id = %s", (case_id,)).fetchone()
    assert state == ("registered",)


def test_role_that_may_not_is_403(client: TestClient, keys: dict[str, str], db: psycopg.Connection) -> None:
    case_id, grid = _registered_case(db)
    with engine_for(os.environ["ONEMAP_DATABASE_URL"]).begin() as conn:
        worker = create_key(conn, "case grid worker", "grid_worker", grid_code=grid).key
    before = timeline_length(db, case_id)
    response = client.post(f"/cases/{case_id}/dispatch", json={}, headers={"X-API-Key": worker})
    assert response.status_code == 403, response.text
    assert "dispatcher" in response.json()["detail"]
    assert client.post(f"/cases/{case_id}/dispatch", json={}, headers=h(keys, "planner")).status_code == 403
    # A department that is not responsible does not even see the case.
    assert client.post(f"/cases/{case_id}/dispatch", json={}, headers=h(keys, "market")).status_code == 404
    assert timeline_length(db, case_id) == before
    unknown = client.post(f"/cases/{case_id}/teleport", json={}, headers=h(keys, "centre"))
    assert unknown.status_code == 400 and "dispatch" in unknown.json()["detail"]


def test_return_needs_a_note_and_redispatch_elsewhere(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    case_id, _ = _registered_case(db)
    assert client.post(f"/cases/{case_id}/dispatch", json={}, headers=h(keys, "centre")).status_code == 200
    no_note = client.post(f"/cases/{case_id}/return", json={}, headers=h(keys, "housing"))
    assert no_note.status_code == 400 and "note" in no_note.json()["detail"]
    returned = client.post(
        f"/cases/{case_id}/return", json={"note": "not housing's"}, headers=h(keys, "housing")
    )
    assert returned.status_code == 200, returned.text
    bad = client.post(f"/cases/{case_id}/dispatch", json={"department": "nowhere"}, headers=h(keys, "centre"))
    assert bad.status_code == 400
    moved = client.post(
        f"/cases/{case_id}/dispatch", json={"department": "market"}, headers=h(keys, "centre")
    )
    assert moved.status_code == 200, moved.text
    case = client.get(f"/cases/{case_id}", headers=h(keys, "market")).json()
    assert case["department"] == "market" and case["returned_count"] == 1
    assert case["allowed_actions"] == ["accept", "return"]
    assert client.get(f"/cases/{case_id}", headers=h(keys, "housing")).status_code == 404


def test_scope_filters_paging_and_as_of(
    client: TestClient, keys: dict[str, str], opened: dict[str, Any], db: psycopg.Connection
) -> None:
    mine = client.get("/cases", params={"limit": 500}, headers=h(keys, "worker")).json()
    assert mine["numberReturned"] > 0 and {c["grid_code"] for c in mine["cases"]} == {opened["grid"]}
    housing = client.get("/cases", params={"limit": 500}, headers=h(keys, "housing")).json()
    assert {c["department"] for c in housing["cases"]} == {"housing"}
    everything = client.get("/cases", params={"limit": 2}, headers=h(keys, "planner")).json()
    assert everything["numberMatched"] > 2 and everything["numberReturned"] == 2
    nxt = next(link["href"] for link in everything["links"] if link["rel"] == "next")
    second = client.get(nxt, headers=h(keys, "planner")).json()
    assert {c["id"] for c in second["cases"]}.isdisjoint({c["id"] for c in everything["cases"]})
    closed = client.get("/cases", params={"state": "closed"}, headers=h(keys, "planner")).json()
    assert opened["case"] in {c["id"] for c in closed["cases"]}
    assert client.get("/cases", params={"state": "lost"}, headers=h(keys, "planner")).status_code == 400
    assert client.get("/cases", headers={}).status_code == 403  # the public sees no cases
    # As of the moment it was opened, the closed case was registered.
    opened_at = db.execute(
        "SELECT at FROM onemap.case_transition WHERE case_id = %s AND action = 'open'", (opened["case"],)
    ).fetchone()
    assert opened_at is not None
    then = client.get(
        "/cases",
        params={"datetime": opened_at[0].isoformat(), "limit": 500, "state": "registered"},
        headers=h(keys, "planner"),
    ).json()
    assert opened["case"] in {c["id"] for c in then["cases"]}
    bad = client.get("/cases", params={"datetime": "last tuesday"}, headers=h(keys, "planner"))
    assert bad.status_code == 400 and "instant" in bad.json()["detail"]


def test_report_is_idempotent_and_checked(
    client: TestClient, keys: dict[str, str], opened: dict[str, Any], db: psycopg.Connection
) -> None:
    building = db.execute(
        "SELECT code FROM onemap.building WHERE grid_code = %s ORDER BY code LIMIT 1", (opened["grid"],)
    ).fetchone()
    assert building is not None
    report = {"category": "fire_hazard", "description": "楼道堆放杂物", "building": building[0]}
    first = client.post("/cases", json=report, headers={**h(keys, "worker"), "Idempotency-Key": "r-1"})
    assert first.status_code == 201, first.text
    again = client.post("/cases", json=report, headers={**h(keys, "worker"), "Idempotency-Key": "r-1"})
    assert (
        again.status_code == 201 and again.json()["id"] == first.json()["id"] and not again.json()["created"]
    )
    body = first.json()
    assert body["state"] == "reported" and body["department"] == "emergency" and first.json()["created"]
    count = db.execute("SELECT count(*) FROM onemap.service_case WHERE idempotency_key = 'r-1'").fetchone()
    assert count == (1,)
    outside = client.post(
        "/cases",
        json={"category": "fire_hazard", "description": "x", "lon": 100.0, "lat": 30.0},
        headers=h(keys, "worker"),
    )
    assert outside.status_code == 400 and "outside the district" in outside.json()["detail"]
    unknown = client.post("/cases", json={**report, "category": "ufo"}, headers=h(keys, "worker"))
    assert unknown.status_code == 400 and "fire_hazard" in unknown.json()["detail"]
    elsewhere = client.post("/cases", json=report, headers=h(keys, "other"))
    assert elsewhere.status_code == 403
    assert (
        client.post("/cases", json={"category": "fire_hazard"}, headers=h(keys, "worker")).status_code == 400
    )


def _png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_attachments_images_only_and_limited(
    client: TestClient,
    keys: dict[str, str],
    opened: dict[str, Any],
    db: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_id, _ = _registered_case(db)
    png = _png()
    added = client.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("p.png", png, "image/png")},
        headers=h(keys, "centre"),
    )
    assert added.status_code == 201, added.text
    fetched = client.get(added.json()["href"], headers=h(keys, "centre"))
    assert fetched.content == png and fetched.headers["content-type"] == "image/png"
    before = db.execute("SELECT count(*) FROM onemap.case_attachment").fetchone()
    text = client.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("p.png", b"not an image", "image/png")},
        headers=h(keys, "centre"),
    )
    assert text.status_code == 415 and "JPEG" in text.json()["detail"]
    monkeypatch.setenv("ONEMAP_CASES_ATTACHMENT_MAX_BYTES", "1000")
    get_case_settings.cache_clear()
    try:
        big = client.post(
            f"/cases/{case_id}/attachments",
            files={"file": ("big.png", _png(400), "image/png")},
            headers=h(keys, "centre"),
        )
    finally:
        monkeypatch.delenv("ONEMAP_CASES_ATTACHMENT_MAX_BYTES")
        get_case_settings.cache_clear()
    assert big.status_code == 413 and "1000" in big.json()["detail"]
    assert db.execute("SELECT count(*) FROM onemap.case_attachment").fetchone() == before
    # A transition may carry the case's own photos, not anybody else's.
    foreign = client.post(
        f"/cases/{case_id}/dispatch", json={"attachments": [10**9]}, headers=h(keys, "centre")
    )
    assert foreign.status_code == 400 and "not this case's" in foreign.json()["detail"]
    ok = client.post(
        f"/cases/{case_id}/dispatch", json={"attachments": [added.json()["id"]]}, headers=h(keys, "centre")
    )
    assert ok.status_code == 200 and ok.json()["case"]["timeline"][-1]["attachments"] == [added.json()["id"]]


def test_overdue_cases_escalate_street_then_district(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    case_id, _ = _registered_case(db)
    db.execute("UPDATE onemap.service_case SET due_at = now() - interval '1 hour' WHERE id = %s", (case_id,))
    assert escalate_overdue(db)["escalated"] >= 1
    row = db.execute(
        "SELECT state, escalation_level, overdue, due_at > now() FROM onemap.service_case WHERE id = %s",
        (case_id,),
    ).fetchone()
    assert row == ("escalated", 1, False, True)
    db.execute("UPDATE onemap.service_case SET due_at = now() - interval '1 hour' WHERE id = %s", (case_id,))
    escalate_overdue(db)
    db.execute("UPDATE onemap.service_case SET due_at = now() - interval '1 hour' WHERE id = %s", (case_id,))
    escalate_overdue(db)
    row = db.execute(
        "SELECT state, escalation_level, overdue FROM onemap.service_case WHERE id = %s", (case_id,)
    ).fetchone()
    assert row == ("escalated", 2, True)
    timeline = client.get(f"/cases/{case_id}", headers=h(keys, "admin")).json()["timeline"]
    assert [t["note"] for t in timeline if t["role"] == "system"][-3:] == [
        "overdue: escalated to the street",
        "overdue: escalated to the district",
        "overdue at the district",
    ]
    evaluation = client.get("/cases/evaluation", headers=h(keys, "planner")).json()["departments"]
    housing = next(d for d in evaluation if d["department"] == "housing")
    assert housing["resolved"] >= 1 and housing["returned"] >= 1 and housing["overdue"] >= 1


def test_cases_are_an_ogc_collection(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/collections/cases/items", params={"limit": 5}, headers=h(keys, "planner"))
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features and {"state", "department", "category"} <= set(features[0]["properties"])
    assert "contact" not in features[0]["properties"]
    tile = client.get("/collections/cases/tiles/WebMercatorQuad/10/855/455", headers=h(keys, "planner"))
    assert tile.status_code in (200, 204), tile.text


def test_working_hours_follow_the_chinese_calendar() -> None:
    hours = parse_hours("09:00-12:00,14:00-18:00")
    calendar = WorkingCalendar(hours)
    friday = dt.datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)
    assert calendar.add(friday, 2) == dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # Monday 10:00
    lunch = dt.datetime(2026, 12, 7, 12, 30, tzinfo=SHANGHAI)
    assert calendar.add(lunch, 1) == dt.datetime(2026, 12, 7, 15, 0, tzinfo=SHANGHAI)
    # National Day: 1-7 October 2026 off, Saturday 10 October worked in exchange (调休).
    assert calendar.add(dt.datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI), 2) == dt.datetime(
        2026, 10, 8, 10, 0, tzinfo=SHANGHAI
    )
    assert calendar.is_working_day(dt.date(2026, 10, 10))
    configured = WorkingCalendar(hours, overrides={dt.date(2026, 12, 7): False})
    assert configured.add(friday, 2) == dt.datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
    with pytest.raises(InvalidInput, match="09:00-12:00"):
        parse_hours("nine to five")


def test_counts_are_capped_on_big_lists(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spatial.cases import store

    monkeypatch.setattr(store, "COUNT_CAP", 2)
    body = client.get("/cases", params={"limit": 1}, headers=h(keys, "planner")).json()
    assert body["numberMatchedAtLeast"] == 2 and "numberMatched" not in body
    assert any(link["rel"] == "next" for link in body["links"])
