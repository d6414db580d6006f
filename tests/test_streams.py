"""SSE streams against a real uvicorn with two worker processes and real SSE clients (httpx-sse): new and
changed cases and warnings reach every connected client in its scope, masked by role, resumable with
Last-Event-ID; stale and foreign ids are refused."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from httpx_sse import connect_sse

from api.auth import create_key
from spatial.database import engine_for, libpq_url

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(platform_env: str) -> Iterator[str]:
    """`uvicorn api.main:app --workers 2`, as `onemap serve --workers 2` runs it."""
    port = free_port()
    # A pool smaller than the number of streams per worker: streams must not hold pooled connections.
    env = {**os.environ, "ONEMAP_DATABASE_URL": libpq_url(platform_env), "ONEMAP_API_POOL_MAX_SIZE": "3"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("uvicorn did not start")
        time.sleep(1.0)  # both workers up and listening
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def place(database_url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT code, grid_code FROM onemap.building WHERE grid_code IN "
            "(SELECT grid_code FROM onemap.building GROUP BY grid_code ORDER BY grid_code LIMIT 2) "
            "ORDER BY grid_code, code"
        ).fetchall()
    first = rows[0]
    second = next(r for r in rows if r[1] != first[1])
    return {"building": first[0], "grid": first[1], "other_building": second[0], "other_grid": second[1]}


@pytest.fixture(scope="module")
def keys(platform_env: str, place: dict[str, str]) -> dict[str, str]:
    with engine_for(platform_env).begin() as conn:
        return {
            "admin": create_key(conn, "admin", "admin").key,
            "planner": create_key(conn, "planner", "planner").key,
            "worker": create_key(conn, "worker", "grid_worker", grid_code=place["grid"]).key,
            "other": create_key(conn, "other", "grid_worker", grid_code=place["other_grid"]).key,
        }


class Listener(threading.Thread):
    """A real SSE client on its own connection, collecting events until told to stop or it has `want`."""

    def __init__(self, url: str, key: str, last_event_id: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.last = url, key, last_event_id
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.connected = threading.Event()
        self.status: int | None = None

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server stopped at the end of the module
            self._listen()

    def _listen(self) -> None:
        headers = {"X-API-Key": self.key, **({"Last-Event-ID": self.last} if self.last else {})}
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=30)) as client,
            connect_sse(client, "GET", self.url, headers=headers) as source,
        ):
            self.status = source.response.status_code
            self.connected.set()
            if self.status != 200:
                return
            for event in source.iter_sse():
                self.events.append((event.id, json.loads(event.data)))
                if len(self.events) >= 50:
                    return

    def wait_for(self, predicate: Any, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event[1]):
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no matching event within {timeout}s; got {self.events}")


def report(base: str, key: str, building: str, text: str) -> int:
    response = httpx.post(
        f"{base}/cases",
        json={"category": "sanitation", "description": text, "building": building},
        headers={"X-API-Key": key},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def start(*listeners: Listener) -> None:
    for listener in listeners:
        listener.start()
    for listener in listeners:
        assert listener.connected.wait(10), "SSE client connected"
    time.sleep(0.3)


def test_every_client_on_every_worker_gets_changes_in_scope(
    server: str, keys: dict[str, str], place: dict[str, str]
) -> None:
    planners = [Listener(f"{server}/cases/stream", keys["planner"]) for _ in range(6)]
    mine, other = (
        Listener(f"{server}/cases/stream", keys["worker"]),
        Listener(f"{server}/cases/stream", keys["other"]),
    )
    start(*planners, mine, other)
    assert {p.status for p in planners} == {200}
    case_id = report(server, keys["worker"], place["building"], "垃圾堆积 rubbish on the stairs")
    for listener in [*planners, mine]:
        _, data = listener.wait_for(lambda d: d["id"] == case_id)
        assert data["state"] == "reported" and data["grid_code"] == place["grid"]
    # A change (the centre registers it) is pushed too.
    assert httpx.post(
        f"{server}/cases/{case_id}/register", json={}, headers={"X-API-Key": keys["admin"]}
    ).is_success
    mine.wait_for(lambda d: d["id"] == case_id and d["state"] == "registered")
    time.sleep(0.5)
    assert not [e for e in other.events if e[1]["id"] == case_id], "another grid's worker sees nothing of it"


def test_contacts_masked_by_role(
    server: str, keys: dict[str, str], place: dict[str, str], database_url: str
) -> None:
    planner, admin = (
        Listener(f"{server}/cases/stream", keys["planner"]),
        Listener(f"{server}/cases/stream", keys["admin"]),
    )
    start(planner, admin)
    case_id = report(server, keys["worker"], place["building"], "积水")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            'UPDATE onemap.service_case SET contact = \'{"name": "张三丰", "phone": "13812345678"}\' WHERE id = %s',
            (case_id,),
        )
    _, seen = planner.wait_for(lambda d: d["id"] == case_id and d["contact"])
    assert seen["contact"] == {"name": "张**", "phone": "138****5678"}
    _, full = admin.wait_for(lambda d: d["id"] == case_id and d["contact"])
    assert full["contact"]["name"] == "张三丰"


def test_resume_with_last_event_id(server: str, keys: dict[str, str], place: dict[str, str]) -> None:
    first = Listener(f"{server}/cases/stream", keys["worker"])
    start(first)
    case_id = report(server, keys["worker"], place["building"], "first")
    last_id, _ = first.wait_for(lambda d: d["id"] == case_id)
    # Disconnected, the client misses two changes, then resumes where it stopped.
    missed = [report(server, keys["worker"], place["building"], f"missed {i}") for i in range(2)]
    resumed = Listener(f"{server}/cases/stream", keys["worker"], last_event_id=last_id)
    start(resumed)
    for case in missed:
        resumed.wait_for(lambda d, case=case: d["id"] == case)
    ids = [int(e[0].split(":")[1]) for e in resumed.events]
    assert ids == sorted(ids) and ids[0] > int(last_id.split(":")[1])


def test_warnings_stream(server: str, keys: dict[str, str], place: dict[str, str], database_url: str) -> None:
    listener = Listener(f"{server}/warnings/stream", keys["worker"])
    other = Listener(f"{server}/warnings/stream", keys["other"])
    start(listener, other)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO onemap.event (kind, severity, occurred_at, building_id, grid_code, description, geom) "
            "SELECT 'fire_hazard', 3, now(), id, grid_code, '楼道堆放杂物', ST_PointOnSurface(geom) "
            "FROM onemap.building WHERE code = %s RETURNING id",
            (place["building"],),
        ).fetchone()
    assert row is not None
    event_id, data = listener.wait_for(lambda d: d["id"] == row[0])
    assert event_id.startswith("warnings:") and data["kind"] == "fire_hazard"
    time.sleep(0.5)
    assert not [e for e in other.events if e[1]["id"] == row[0]]


def test_stale_or_foreign_last_event_id_refused(server: str, keys: dict[str, str], database_url: str) -> None:
    headers = {"X-API-Key": keys["worker"]}

    def status(last: str, path: str = "/cases/stream") -> tuple[int, str]:
        with (
            httpx.Client(timeout=10) as client,
            client.stream("GET", f"{server}{path}", headers={**headers, "Last-Event-ID": last}) as response,
        ):
            response.read()
            return response.status_code, response.json()["detail"] if response.status_code != 200 else ""

    code, detail = status("warnings:1")
    assert code == 400 and "warnings stream" in detail
    code, detail = status("hello")
    assert code == 400 and "cases:123" in detail
    code, detail = status("cases:999999999")
    assert code == 400 and "not issued" in detail
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE onemap.change_feed SET at = now() - interval '100 hours'")
        from spatial.cases.feed import prune_feed

        assert prune_feed(conn, 48)["pruned"] > 0
    code, detail = status("cases:1")
    assert code == 410 and "reload" in detail
    assert httpx.get(f"{server}/cases/stream", timeout=5).status_code == 403  # the public has no stream


@pytest.fixture(scope="module")
def communities(platform_env: str, place: dict[str, str]) -> dict[str, str]:
    """The operator of the first grid's community, and a building of another community."""
    with psycopg.connect(libpq_url(platform_env)) as conn:
        own = conn.execute(
            "SELECT parent_code FROM onemap.admin_area WHERE code = %s", (place["grid"],)
        ).fetchone()
        assert own is not None
        elsewhere = conn.execute(
            "SELECT code FROM onemap.building WHERE community_code <> %s ORDER BY code LIMIT 1", (own[0],)
        ).fetchone()
        assert elsewhere is not None
    with engine_for(platform_env).begin() as conn:
        key = create_key(conn, "stream operator", "community_operator", area_code=own[0]).key
    return {"community": own[0], "operator": key, "elsewhere": elsewhere[0]}


def test_operator_streams_hold_only_its_community(
    server: str, keys: dict[str, str], place: dict[str, str], communities: dict[str, str], database_url: str
) -> None:
    key = communities["operator"]
    cases = Listener(f"{server}/cases/stream", key)
    warnings = Listener(f"{server}/warnings/stream", key)
    start(cases, warnings)
    assert cases.status == 200 and warnings.status == 200
    # another community's case and warning first, then the operator's own: the own ones arrive, and since the
    # feed is in order, the other community's would have arrived before them
    foreign_case = report(server, keys["admin"], communities["elsewhere"], "另一个社区 elsewhere")
    own_case = report(server, keys["worker"], place["building"], "本社区 own")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        events = [
            conn.execute(
                "INSERT INTO onemap.event (kind, severity, occurred_at, building_id, grid_code, description, geom) "
                "SELECT 'fire_hazard', 2, now(), id, grid_code, 'operator stream', ST_PointOnSurface(geom) "
                "FROM onemap.building WHERE code = %s RETURNING id",
                (building,),
            ).fetchone()
            for building in (communities["elsewhere"], place["building"])
        ]
    foreign_event, own_event = (row[0] for row in events if row is not None)
    cases.wait_for(lambda d: d["id"] == own_case)
    warnings.wait_for(lambda d: d["id"] == own_event)
    time.sleep(0.5)
    assert not [e for e in cases.events if e[1]["id"] == foreign_case]
    assert not [e for e in warnings.events if e[1]["id"] == foreign_event]
