"""Open311 GeoReport v2: services, service requests GET/POST (form fields, the key in the form), one request,
JSON and XML; the spec's error format for requests that break it; resent submissions are idempotent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from api.main import create_app
from spatial.database import engine_for

BASE = "/open311/v2"


@pytest.fixture(scope="module")
def hotline(platform_env: str) -> str:
    with engine_for(platform_env).begin() as conn:
        return create_key(conn, "12345 hotline", "department_editor", department="grid").key


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def point(database_url: str) -> tuple[float, float, str]:
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        row = conn.execute(
            "SELECT ST_Y(ST_PointOnSurface(geom)), ST_X(ST_PointOnSurface(geom)), code FROM onemap.building "
            "ORDER BY code LIMIT 1"
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1]), str(row[2])


def assert_spec_error(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and words in body[0]["description"]


def test_services(client: TestClient) -> None:
    services = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"fire_hazard", "flooding", "sanitation", "other"} <= codes and "overcrowded_unit" not in codes
    assert all(s["type"] == "realtime" and s["metadata"] is False for s in services)
    xml = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    assert xml.tag == "services" and {e.findtext("service_code") for e in xml} == codes
    assert client.get(f"{BASE}/services/flooding.json").json()["attributes"] == []
    assert_spec_error(client.get(f"{BASE}/services/ufo.json"), 404, "ufo")


def test_post_get_and_resend(
    client: TestClient, hotline: str, point: tuple[float, float, str], db: psycopg.Connection
) -> None:
    lat, lon, _ = point
    form = {
        "api_key": hotline,
        "service_code": "sanitation",
        "lat": str(lat),
        "long": str(lon),
        "description": "垃圾三天没人清理",
        "first_name": "三丰",
        "last_name": "张",
        "phone": "13812345678",
        "email": "zhang@example.cn",
    }
    created = client.post(f"{BASE}/requests.json", data=form)
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    again = client.post(f"{BASE}/requests.json", data=form)
    assert again.status_code == 200 and again.json()[0]["service_request_id"] == request_id
    assert db.execute(
        "SELECT count(*), min(state), min(department), min(contact ->> 'name') FROM onemap.service_case "
        "WHERE source_kind = 'open311' AND description = '垃圾三天没人清理'"
    ).fetchone() == (1, "reported", "urban_management", "张 三丰")
    one = client.get(f"{BASE}/requests/{request_id}.json").json()
    assert one[0]["status"] == "open" and one[0]["service_code"] == "sanitation"
    assert "13812345678" not in str(one) and "zhang" not in str(one)  # citizens' contacts never go out
    listed = client.get(
        f"{BASE}/requests.json", params={"service_code": "sanitation", "status": "open"}
    ).json()
    assert request_id in {r["service_request_id"] for r in listed}
    closed = client.get(
        f"{BASE}/requests.json", params={"service_request_id": request_id, "status": "closed"}
    )
    assert closed.json() == []
    xml = ET.fromstring(client.get(f"{BASE}/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests" and xml[0].findtext("service_request_id") == request_id
    # The hotline's own idempotency key makes a resend with other fields the same request too.
    keyed = {**form, "description": "第二次"}
    first = client.post(f"{BASE}/requests.json", data=keyed, headers={"Idempotency-Key": "12345-0001"})
    second = client.post(
        f"{BASE}/requests.json",
        data={**keyed, "description": "改过"},
        headers={"Idempotency-Key": "12345-0001"},
    )
    assert first.json()[0]["service_request_id"] == second.json()[0]["service_request_id"]


def test_requests_that_break_the_spec(
    client: TestClient, hotline: str, point: tuple[float, float, str], db: psycopg.Connection
) -> None:
    lat, lon, building = point
    before = db.execute("SELECT count(*) FROM onemap.service_case").fetchone()
    base = {"api_key": hotline, "service_code": "sanitation", "lat": str(lat), "long": str(lon)}
    assert_spec_error(client.post(f"{BASE}/requests.json", data={**base, "api_key": ""}), 403, "api_key")
    assert_spec_error(
        client.post(f"{BASE}/requests.json", data={**base, "api_key": "om_wrong"}), 401, "unknown"
    )
    assert_spec_error(
        client.post(f"{BASE}/requests.json", data={**base, "service_code": "ufo"}), 400, "service_code"
    )
    no_place = {k: v for k, v in base.items() if k not in ("lat", "long")}
    assert_spec_error(client.post(f"{BASE}/requests.json", data=no_place), 400, "location")
    assert_spec_error(client.post(f"{BASE}/requests.json", data={**base, "lat": "north"}), 400, "lat")
    assert_spec_error(
        client.post(f"{BASE}/requests.json", data={**base, "lat": "10", "long": "10"}),
        400,
        "outside the district",
    )
    assert_spec_error(client.post(f"{BASE}/requests.json", data={"api_key": hotline}), 400, "service_code")
    bad_building = {**no_place, "address_id": "NOPE"}
    assert_spec_error(client.post(f"{BASE}/requests.json", data=bad_building), 400, "NOPE")
    assert_spec_error(
        client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}), 400, "ISO 8601"
    )
    assert_spec_error(
        client.get(f"{BASE}/requests.json", params={"start_date": "2026-01-01T00:00:00"}), 400, "time zone"
    )
    assert_spec_error(client.get(f"{BASE}/requests.json", params={"status": "pending"}), 400, "status")
    assert_spec_error(client.get(f"{BASE}/requests/abc.json"), 400, "numbers")
    assert_spec_error(client.get(f"{BASE}/requests/999999999.json"), 404, "not found")
    xml_error = client.get(f"{BASE}/requests/999999999.xml")
    assert xml_error.status_code == 404 and ET.fromstring(xml_error.content).tag == "errors"
    assert db.execute("SELECT count(*) FROM onemap.service_case").fetchone() == before
    by_building = client.post(f"{BASE}/requests.json", data={**no_place, "address_id": building})
    assert by_building.status_code == 201
