"""Shared helpers of the feature, archive and auth tests: keys for every role, and an app client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

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
