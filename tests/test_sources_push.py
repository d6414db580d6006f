"""Push: NDJSON and JSON-array batches, per-record results, Idempotency-Key replays and conflicts, a batch with
one bad record refused whole, the size limit, keys of other departments and revoked keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from spatial.database import engine_for
from spatial.sources.settings import get_sources_settings
from tests._layer_helpers import make_keys
from tests._sources_helpers import sources_client


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    made = make_keys(database_url)
    with engine_for(database_url).begin() as conn:
        for department in ("grid", "social_security"):
            made[department] = create_key(conn, f"push-{department}", "department_editor", department).key
        revoked = create_key(conn, "push-revoked", "department_editor", "grid")
        conn.exec_driver_sql(
            "UPDATE onemap.api_key SET revoked_at = now() WHERE id = %(id)s", {"id": revoked.id}
        )
    made["revoked"] = revoked.key
    return made


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    yield from sources_client()


@pytest.fixture(scope="module")
def residents(database_url: str) -> list[dict[str, str]]:
    from spatial.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT p.id_number, p.name, coalesce(p.phone, '13800138000'), g.code, u.room_no "
            "FROM onemap.person p JOIN onemap.residence r ON r.person_id = p.id AND r.valid_to IS NULL "
            "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
            "ORDER BY p.id LIMIT 20"
        ).fetchall()
    return [
        {"公民身份号码": r[0], "姓名": r[1], "联系电话": r[2], "楼栋编码": r[3], "房号": r[4]} for r in rows
    ]


def _ndjson(records: list[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def _push(client: TestClient, key: str | None, department: str, body: bytes, **headers: str) -> Any:
    sent = {"Content-Type": "application/x-ndjson", **headers}
    if key:
        sent["X-API-Key"] = key
    return client.post(f"/sources/{department}/records", content=body, headers=sent)


def _record_count(db: psycopg.Connection) -> int:
    row = db.execute("SELECT count(*) FROM onemap.source_record").fetchone()
    assert row is not None
    return int(row[0])


def test_ndjson_batch_with_department_column_names(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, residents: list[dict[str, str]]
) -> None:
    response = _push(client, keys["grid"], "grid", _ndjson(residents[:5]), **{"Idempotency-Key": "grid-1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["accepted"] == 5 and [r["status"] for r in body["results"]] == ["accepted"] * 5
    rows = db.execute(
        "SELECT entity_kind, entity_key, payload FROM onemap.source_record WHERE delivery_id = %s ORDER BY id",
        (body["id"],),
    ).fetchall()
    assert [r[1] for r in rows] == [r["公民身份号码"] for r in residents[:5]]
    assert rows[0][0] == "residence" and rows[0][2]["room_no"] == residents[0]["房号"]
    # The same batch with the same key: the first answer again, nothing written.
    before = _record_count(db)
    again = _push(client, keys["grid"], "grid", _ndjson(residents[:5]), **{"Idempotency-Key": "grid-1"})
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["id"] == body["id"]
    assert _record_count(db) == before
    # The same key with another batch is a conflict.
    other = _push(client, keys["grid"], "grid", _ndjson(residents[5:7]), **{"Idempotency-Key": "grid-1"})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert _record_count(db) == before


def test_json_array_with_attribute_names(
    client: TestClient, keys: dict[str, str], residents: list[dict[str, str]]
) -> None:
    records = [
        {"id_number": r["公民身份号码"], "name": r["姓名"], "phone": r["联系电话"]} for r in residents[:3]
    ]
    response = client.post(
        "/sources/social_security/records", json=records, headers={"X-API-Key": keys["social_security"]}
    )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 3


def test_a_batch_with_one_bad_record_is_refused_whole(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, residents: list[dict[str, str]]
) -> None:
    batch = [dict(r) for r in residents[7:11]]
    batch[2]["公民身份号码"] = batch[2]["公民身份号码"][:17] + (
        "0" if batch[2]["公民身份号码"][17] != "0" else "1"
    )
    before = _record_count(db)
    response = _push(client, keys["grid"], "grid", _ndjson(batch))
    assert response.status_code == 422, response.text
    body = response.json()
    assert "nothing of the batch was written" in body["detail"]
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "rejected", "accepted"]
    assert "check character" in body["results"][2]["reason"]
    assert _record_count(db) == before


def test_a_key_the_department_may_not_send_is_a_rejected_record(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, residents: list[dict[str, str]]
) -> None:
    record = {"id_number": residents[0]["公民身份号码"], "name": residents[0]["姓名"], "sex": "M"}
    before = _record_count(db)
    response = _push(client, keys["social_security"], "social_security", _ndjson([record]))
    assert response.status_code == 422
    assert "may not send sex" in response.json()["results"][0]["reason"]
    assert _record_count(db) == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", ["empty"]),
        (b'{"id_number": "1"}\n{not json\n', ["line 2", "not valid JSON"]),
        (b"\xff\xfe\x00", ["UTF-8"]),
    ],
)
def test_malformed_bodies(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, body: bytes, words: list[str]
) -> None:
    before = _record_count(db)
    response = _push(client, keys["grid"], "grid", body)
    assert response.status_code == 400, response.text
    for word in words:
        assert word in response.json()["detail"]
    assert _record_count(db) == before


def test_over_the_size_limit(
    client: TestClient,
    keys: dict[str, str],
    db: psycopg.Connection,
    residents: list[dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONEMAP_SOURCES_MAX_PUSH_BYTES", "1000")
    get_sources_settings.cache_clear()
    try:
        before = _record_count(db)
        response = _push(client, keys["grid"], "grid", _ndjson(residents * 3))
        assert response.status_code == 413 and "1,000" in response.json()["detail"]
        assert _record_count(db) == before
    finally:
        monkeypatch.delenv("ONEMAP_SOURCES_MAX_PUSH_BYTES")
        get_sources_settings.cache_clear()


@pytest.mark.parametrize(("who", "status"), [("revoked", 401), ("social_security", 403), (None, 403)])
def test_only_the_departments_keys_push(
    client: TestClient,
    keys: dict[str, str],
    db: psycopg.Connection,
    residents: list[dict[str, str]],
    who: str | None,
    status: int,
) -> None:
    before = _record_count(db)
    response = _push(client, keys[who] if who else None, "grid", _ndjson(residents[:2]))
    assert response.status_code == status, response.text
    assert _record_count(db) == before


def test_housing_pushes_rooms_with_the_kind_named(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    """A department sending several kinds names the one it pushes; its default mapping for that kind reads the
    department's words. (A building the archive lacks: fusion leaves the shared district alone.)"""
    rooms = [{"楼栋编码": "4403079999999999998", "单元号": "3", "房号": "1201", "建筑面积": "45.5"}]
    response = client.post(
        "/sources/housing/records?kind=house_unit", json=rooms, headers={"X-API-Key": keys["housing"]}
    )
    assert response.status_code == 201, response.text
    stored = db.execute(
        "SELECT entity_kind, entity_key, payload ->> 'area_m2' FROM onemap.source_record WHERE delivery_id = %s",
        (response.json()["id"],),
    ).fetchall()
    assert stored == [("house_unit", "4403079999999999998/3/1201", "45.5")]
    unknown = client.post(
        "/sources/housing/records?kind=spaceship", json=rooms, headers={"X-API-Key": keys["housing"]}
    )
    assert 400 <= unknown.status_code < 500 and "no default mapping for spaceship" in unknown.json()["detail"]
    escape = client.post(
        "/sources/housing/records?kind=house_unit/../../x", json=rooms, headers={"X-API-Key": keys["housing"]}
    )
    assert escape.status_code == 400 and "kind" in escape.text and "Traceback" not in escape.text
