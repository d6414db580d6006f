"""API keys: header and query, unknown and revoked keys, and `onemap keys create|list|revoke`."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import create_key, hash_key
from api.cli import _register, app
from spatial.database import engine_for
from tests.features_support import *  # noqa: F403  (the client and keys fixtures)
from tests.features_support import Keys, as_key


def test_keys_in_header_or_query(client: TestClient, keys: Keys) -> None:
    assert client.get("/collections/events/items", headers=as_key(keys.admin)).status_code == 200
    assert client.get("/collections/events/items", params={"api_key": keys.admin}).status_code == 200
    unknown = client.get("/collections", headers=as_key("om_nope"))
    assert unknown.status_code == 401 and unknown.headers["www-authenticate"]
    assert "onemap keys create" in unknown.json()["detail"]
    revoked = client.get("/collections", headers=as_key(keys.revoked))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_every_role_reads_what_it_may(client: TestClient, keys: Keys) -> None:
    expected = {
        keys.admin: 200,
        keys.planner: 200,
        keys.market: 403,
        keys.police: 403,
        keys.grid: 200,
        keys.public: 404,
        keys.housing: 403,
    }
    for key, status in expected.items():
        assert client.get("/collections/events/items", headers=as_key(key)).status_code == status, key
    assert client.get("/collections/enterprises/items", headers=as_key(keys.market)).status_code == 200


def test_keys_cli(platform_env: str, db) -> None:
    _register()
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--label", "cli-test", "--role", "planner"])
    assert created.exit_code == 0, created.output
    key_id, key = created.output.split()[1], created.output.split()[-1]
    assert key.startswith("om_")
    listed = runner.invoke(app, ["keys", "list"])
    assert "cli-test" in listed.output and key not in listed.output
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert db.execute(
        "SELECT revoked_at IS NOT NULL FROM onemap.api_key WHERE id = %s", (int(key_id),)
    ).fetchone()[0]
    again = runner.invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code != 0
    bad = runner.invoke(app, ["keys", "create", "--label", "x", "--role", "grid_worker"])
    assert bad.exit_code != 0


def _refused_within(client: TestClient, key: str, seconds: float = 10.0) -> int:
    """The status of the first request that no longer succeeds, polling until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        status = client.get("/collections", headers=as_key(key)).status_code
        if status != 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_a_cached_key_is_refused_once_revoked_and_rescoped_once_its_area_changes(
    client: TestClient, platform_env: str, db
) -> None:
    """Each process caches the principals of the keys it looked up (api/key_cache.py); a revocation, or any
    change to the keys or areas, reaches every process by NOTIFY and empties its cache."""
    import sqlalchemy as sa

    with engine_for(platform_env).begin() as conn:
        created = create_key(conn, "cached", "planner")
    cache = client.app.state.keys  # type: ignore[attr-defined]
    assert client.get("/collections", headers=as_key(created.key)).status_code == 200
    assert cache.get(hash_key(created.key)) is not None  # the next request needs no lookup
    assert client.get("/collections", headers=as_key(created.key)).status_code == 200

    db.execute("UPDATE onemap.admin_area SET name = name WHERE code = (SELECT min(code) FROM onemap.admin_area)")
    deadline = time.monotonic() + 10
    while cache.get(hash_key(created.key)) is not None:
        assert time.monotonic() < deadline, "an area change did not empty the key cache"
        time.sleep(0.02)

    assert client.get("/collections", headers=as_key(created.key)).status_code == 200  # cached again
    with engine_for(platform_env).begin() as conn:
        conn.execute(sa.text("UPDATE onemap.api_key SET revoked_at = now() WHERE id = :i"), {"i": created.id})
    assert _refused_within(client, created.key) == 401
    assert cache.get(hash_key(created.key)) is None
