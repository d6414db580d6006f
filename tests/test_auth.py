"""API keys: header and query, unknown and revoked keys, and `onemap keys create|list|revoke`."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import _register, app
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
