"""Shared helpers of the feature, archive and auth tests: keys for every role, an app client, and a real
uvicorn server (for GDAL, OWSLib and ogctests, and for what only a socket shows: the peer address, HEAD)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import create_key
from api.main import create_app
from spatial.database import engine_for


@dataclass(frozen=True)
class Keys:
    admin: str
    planner: str
    housing: str  # department editor of the buildings layer
    police: str  # department editor who sees personal data
    market: str
    grid: str  # grid worker
    public: str
    grid_code: str
    revoked: str


def make_keys(url: str) -> Keys:
    import sqlalchemy as sa

    with engine_for(url).begin() as conn:
        grid_code = conn.execute(
            sa.text("SELECT grid_code FROM onemap.building GROUP BY grid_code ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        revoked = create_key(conn, "old", "planner")
        conn.execute(sa.text("UPDATE onemap.api_key SET revoked_at = now() WHERE id = :i"), {"i": revoked.id})
        return Keys(
            admin=create_key(conn, "t-admin", "admin").key,
            planner=create_key(conn, "t-planner", "planner").key,
            housing=create_key(conn, "t-housing", "department_editor", "housing").key,
            police=create_key(conn, "t-police", "department_editor", "police").key,
            market=create_key(conn, "t-market", "department_editor", "market").key,
            grid=create_key(conn, "t-grid", "grid_worker", grid_code=grid_code).key,
            public=create_key(conn, "t-public", "public").key,
            grid_code=grid_code,
            revoked=revoked.key,
        )


@pytest.fixture(scope="session")
def keys(platform_env: str) -> Keys:
    return make_keys(platform_env)


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def as_key(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    # (method, path, query string) of every HTTP request the server received, in order: what a client did.
    requests: list[tuple[str, str, str]] = field(default_factory=list)


class _Recorder:
    """Notes each request before the app answers it (an observer: the app itself is the real one)."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str, str]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"], scope["query_string"].decode("latin-1")))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def live_server(platform_env: str) -> Iterator[LiveServer]:
    port = free_port()
    found = LiveServer(f"http://127.0.0.1:{port}")
    # As `onemap serve` runs it: the app, not uvicorn, reads X-Forwarded-* (api.proxy).
    config = uvicorn.Config(_Recorder(create_app(), found.requests), host="127.0.0.1", port=port,
                            log_level="warning", proxy_headers=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    yield found
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> str:
    return live_server.url
