"""nginx in front of onemap (tiles/static_front.py, `onemap tiles nginx`): warm anonymous plain tiles come from
the disk cache as the very bytes onemap sends, everything else (keys, queries, misses, other paths) from onemap,
and an edit takes the old tile away from nginx too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from spatial.database import libpq_url
from tests.features_support import Keys, keys
from tests.tiles_support import address_at, decode, tile_env, url_of
from tiles.static_front import nginx_site

__all__ = ["keys", "tile_env"]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {(process.stderr.read() if process.stderr else b'').decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not start")


@pytest.fixture(scope="module")
def front(tile_env: Path, database_url: str) -> Iterator[str]:
    """onemap (two workers, publishing public tiles) and nginx in front with the generated server block."""
    app_port, front_port = _free_port(), _free_port()
    cache = tile_env / "front-cache"
    env = {**os.environ, "ONEMAP_DATABASE_URL": libpq_url(database_url), "ONEMAP_TILES_CACHE_DIR": str(cache),
           "ONEMAP_TILES_STATIC_FRONT": "true"}
    app = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--workers", "2", "--host", "127.0.0.1",
         "--port", str(app_port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    run = tile_env / "nginx"
    run.mkdir()
    (run / "site.conf").write_text(nginx_site(cache, f"127.0.0.1:{app_port}", f"127.0.0.1:{front_port}", 60))
    # As root, nginx's workers would drop to `nobody`, who cannot read pytest's 0700 directories.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (run / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\nerror_log {run}/error.log;\npid {run}/nginx.pid;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {run}/site.conf;\n}}\n"
    )
    nginx = subprocess.Popen([NGINX, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{front_port}"
    try:
        _wait(f"http://127.0.0.1:{app_port}/health", app, "onemap")
        _wait(f"{base}/health", nginx, "nginx")  # proxied to onemap
        time.sleep(1.0)  # both workers up
        yield base
    finally:
        nginx.terminate()
        app.terminate()
        nginx.wait(timeout=20)
        app.wait(timeout=20)


def _get(url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent on the wire (gzip left as it came)."""
    with httpx.Client(headers={"Connection": "close"}) as client, client.stream("GET", url, headers=headers) as r:
        return r, b"".join(r.iter_raw())


def test_warm_public_tiles_come_from_the_disk_cache_and_an_edit_takes_them_away(
    front: str, db: psycopg.Connection, keys: Keys
) -> None:
    building_id, lon, lat, floors = db.execute(
        "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), floors FROM onemap.building "
        "ORDER BY id LIMIT 1 OFFSET 7"
    ).fetchone() or ()
    url = front + url_of("buildings", address_at("WebMercatorQuad", lon, lat, 16))
    first, onemap_bytes = _get(url, **{"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["x-tile-cache"] in ("miss", "hit")
    assert first.headers["content-encoding"] == "gzip"

    warm, static_bytes = _get(url, **{"Accept-Encoding": "gzip"})
    assert warm.headers["x-tile-cache"] == "static"  # nginx, from the disk cache
    assert static_bytes == onemap_bytes
    assert warm.headers["content-encoding"] == "gzip"
    assert warm.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert warm.headers["cache-control"] == "public, max-age=60"

    # A key, a query or a client without gzip: onemap answers (masking, scope and as-of stay its business).
    keyed, _ = _get(url, **{"Accept-Encoding": "gzip", "X-API-Key": keys.planner})
    as_of, _ = _get(url + "?datetime=2020-01-01T00:00:00Z", **{"Accept-Encoding": "gzip"})
    plain, plain_bytes = _get(url, **{"Accept-Encoding": "identity"})
    assert {r.headers["x-tile-cache"] for r in (keyed, as_of, plain)} <= {"hit", "miss"}
    assert "content-encoding" not in plain.headers and decode(plain_bytes)["buildings"]["features"]

    def floors_in_tile() -> int:
        response = httpx.get(url, headers={"Connection": "close"})  # httpx asks for gzip and decompresses
        feature = next(f for f in decode(response.content)["buildings"]["features"] if f["id"] == building_id)
        return int(feature["properties"]["floors"])

    try:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors + 5, building_id))
        deadline = time.monotonic() + 5
        while floors_in_tile() != floors + 5:
            assert time.monotonic() < deadline, "nginx kept sending the tile from before the edit"
            time.sleep(0.05)
        again, _ = _get(url, **{"Accept-Encoding": "gzip"})
        assert floors_in_tile() == floors + 5
        assert again.headers["x-tile-cache"] in ("static", "hit", "miss")
        warm_again, _ = _get(url, **{"Accept-Encoding": "gzip"})
        assert warm_again.headers["x-tile-cache"] == "static"  # published again once re-rendered
    finally:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))


def test_everything_else_goes_to_onemap(front: str) -> None:
    collections = httpx.get(f"{front}/collections", headers={"Accept": "application/json"})
    assert collections.status_code == 200 and collections.json()["collections"]
    refused = httpx.get(f"{front}/collections/buildings/tiles/WebMercatorQuad/99/0/0")
    assert refused.status_code == 404 and "zoom 99 is outside" in refused.json()["detail"]  # onemap's message


def test_the_cli_writes_a_server_block_nginx_accepts(tile_env: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import _register, app

    _register()
    site = tile_env / "cli-site.conf"
    result = CliRunner().invoke(app, ["tiles", "nginx", "--upstream", "127.0.0.1:8000", "--listen", "127.0.0.1:18081",
                                      "--out", str(site)])
    assert result.exit_code == 0, result.output
    assert str((tile_env / "cache").resolve()) in site.read_text()  # the configured disk cache
    run = tile_env / "cli-nginx"
    run.mkdir()
    (run / "nginx.conf").write_text(f"error_log {run}/error.log;\npid {run}/nginx.pid;\nevents {{}}\n"
                                    f"http {{\n    include {site};\n}}\n")
    checked = subprocess.run([NGINX, "-t", "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "e.log")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
