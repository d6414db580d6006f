"""The tile cache: exact invalidation by changed boxes, no stale store after a purge, disk that survives,
edits visible in the very next tile request from another worker process, and as-of tiles."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from spatial.database import libpq_url
from tests.tiles_support import address_at, decode, tile_env, url_of
from tiles.cache import TileCache, TileKey, _purge_range
from tiles.settings import get_tile_settings
from tiles.tms import SERVED, get_tms, tile_ranges

__all__ = ["tile_env"]
LON, LAT = 114.25, 22.72


@pytest.mark.parametrize("tms_id", SERVED)
def test_purge_ranges_are_the_tiles_morecantile_gives_the_corners(tms_id: str) -> None:
    """The purge's fast tile ranges agree with morecantile's own ``tile(..., truncate=True)``, also for boxes
    that leave the set's extent."""
    tms = get_tms(tms_id)
    rng = random.Random(7)
    for _ in range(500):
        west, south = rng.uniform(-200, 200), rng.uniform(-100, 100)
        box = (west, south, west + rng.uniform(0, 3), south + rng.uniform(0, 2))
        z = rng.randrange(tms.minzoom, tms.maxzoom + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # morecantile warns about points outside the set
            upper_left = tms.tile(box[0], box[3], z, truncate=True)
            lower_right = tms.tile(box[2], box[1], z, truncate=True)
        assert tile_ranges(tms, box, z) == (upper_left.x, upper_left.y, lower_right.x, lower_right.y), (box, z)


@pytest.mark.parametrize("ranges", [(0, 0, 1, 1), (5, 5, 14, 14)])  # named cells, and a range that lists
def test_a_disk_purge_removes_exactly_the_cells_in_range(tmp_path: Path, ranges: tuple[int, int, int, int]) -> None:
    for x in range(20):
        for y in range(20):
            (tmp_path / str(x) / str(y)).mkdir(parents=True)
    xmin, ymin, xmax, ymax = ranges
    assert _purge_range(tmp_path, ranges) == (xmax - xmin + 1) * (ymax - ymin + 1)
    left = {(int(x.name), int(y.name)) for x in tmp_path.iterdir() for y in x.iterdir()}
    assert left == {
        (x, y) for x in range(20) for y in range(20) if not (xmin <= x <= xmax and ymin <= y <= ymax)
    }


def _key(layer: str, z: int, lon: float = LON, lat: float = LAT, variant: str = "v") -> TileKey:
    tile = get_tms("WebMercatorQuad").tile(lon, lat, z)
    return TileKey((layer,), (1,), "WebMercatorQuad", z, tile.x, tile.y, variant)


@pytest.mark.parametrize("disk", [False, True])
def test_invalidation_purges_exactly_the_touched_tiles(tmp_path: Path, disk: bool) -> None:
    cache = TileCache(10_000_000, tmp_path / "cache" if disk else None, margin=64 / 4096)
    near = [_key("buildings", z) for z in range(8, 19)]
    far = [_key("buildings", z, lon=114.40, lat=22.60) for z in range(12, 19)]
    other_layer = [_key("events", z) for z in range(8, 19)]
    for key in near + far + other_layer:
        cache.put(key, b"tile", cache.generation(key.layers))
    box = (LON - 1e-5, LAT - 1e-5, LON + 1e-5, LAT + 1e-5)
    assert cache.invalidate({"buildings"}, [box]) >= len(near)
    if disk:  # a fresh process sees the disk alone
        cache = TileCache(10_000_000, tmp_path / "cache", margin=64 / 4096)
    assert all(cache.get(k) is None for k in near)
    assert all(cache.get(k) is not None for k in far + other_layer)


def test_a_tile_rendered_across_a_purge_is_not_stored() -> None:
    cache = TileCache(10_000_000, None, margin=0.0)
    key = _key("buildings", 15)
    before = cache.generation(key.layers)
    cache.invalidate({"buildings"}, [(LON - 1, LAT - 1, LON + 1, LAT + 1)])  # an edit lands mid-render
    cache.put(key, b"stale", before)
    assert cache.get(key) is None
    cache.put(key, b"fresh", cache.generation(key.layers))
    found = cache.get(key)
    assert found is not None and found.body == b"fresh" and found.hit


def test_a_tile_another_process_stored_from_before_an_edit_is_not_read_from_disk(tmp_path: Path) -> None:
    """Process B has purged for change 6; process A, not yet, stores a tile it began rendering before change 6.
    B must not take that tile from the shared disk (it would serve it until the next edit), but takes A's tiles
    the change did not touch, and A's tile once A rendered it after change 6."""
    disk = tmp_path / "cache"
    a, b = (TileCache(10_000_000, disk, margin=64 / 4096) for _ in range(2))
    for process in (a, b):
        process.history.start(5)
        process.applied = 5
    touched, untouched = _key("buildings", 16), _key("buildings", 16, lon=114.40, lat=22.60)
    b.invalidate({"buildings"}, [(LON - 1e-5, LAT - 1e-5, LON + 1e-5, LAT + 1e-5)], change_id=6)
    b.applied = 6
    a.put(touched, b"stale", a.generation(touched.layers))  # A began rendering at change 5
    a.put(untouched, b"far away", a.generation(untouched.layers))
    assert b.get(touched) is None
    far = b.get(untouched)
    assert far is not None and far.body == b"far away"
    a.invalidate({"buildings"}, [(LON - 1e-5, LAT - 1e-5, LON + 1e-5, LAT + 1e-5)], change_id=6)
    a.applied = 6
    a.put(touched, b"fresh", a.generation(touched.layers))
    found = b.get(touched)
    assert found is not None and found.body == b"fresh"


def test_disk_tiles_from_before_a_restart_are_read_unless_a_replayed_change_touched_them(tmp_path: Path) -> None:
    disk = tmp_path / "cache"
    before = TileCache(10_000_000, disk, margin=64 / 4096)
    before.applied = 3
    kept, edited = _key("buildings", 15, lon=114.40, lat=22.60), _key("buildings", 15)
    for key in (kept, edited):
        before.put(key, b"old", before.generation(key.layers))
    after = TileCache(10_000_000, disk, margin=64 / 4096)  # restarted at watermark 7, change 8 replayed
    after.history.start(7)
    after.invalidate({"buildings"}, [(LON - 1e-5, LAT - 1e-5, LON + 1e-5, LAT + 1e-5)], change_id=8)
    after.applied = 8
    assert after.get(kept) is not None
    assert after.get(edited) is None


def test_two_processes_missing_on_one_tile_render_it_once(tmp_path: Path) -> None:
    """Concurrent misses on one key in two processes sharing the disk cache: one renders, the other waits for
    its lock and takes the tile it stored."""
    disk = tmp_path / "cache"
    a, b = (TileCache(10_000_000, disk, margin=0.0) for _ in range(2))
    renders: list[str] = []

    def render(name: str):  # type: ignore[no-untyped-def]
        async def make() -> bytes:
            renders.append(name)
            await asyncio.sleep(0.05)
            return b"tile"

        return make

    async def both() -> list[bytes]:
        key = _key("buildings", 14)
        tiles = await asyncio.gather(a.fill(key, render("a")), b.fill(key, render("b")))
        return [tile.body for tile, stored in tiles if stored]

    assert asyncio.run(both()) == [b"tile", b"tile"]
    assert len(renders) == 1


def test_variants_are_separate_entries() -> None:
    cache = TileCache(10_000_000, None, margin=0.0)
    planner, grid = _key("events", 14, variant="planner"), _key("events", 14, variant="grid:1")
    cache.put(planner, b"all", cache.generation(planner.layers))
    assert cache.get(grid) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def two_workers(tile_env: Path, database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "ONEMAP_DATABASE_URL": libpq_url(database_url),
        "ONEMAP_TILES_CACHE_DIR": str(tile_env / "shared-cache"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(
                "uvicorn did not start: " + (server.stderr.read(2000) if server.stderr else b"").decode()
            )
        time.sleep(1.0)  # both workers up
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def _fresh_get(url: str) -> httpx.Response:
    """A new connection per request, so that requests spread over the worker processes."""
    with httpx.Client(headers={"Connection": "close"}) as client:
        return client.get(url, timeout=30)


def test_an_edit_shows_in_the_next_tile_from_every_worker(two_workers: str, db: psycopg.Connection) -> None:
    building_id, lon, lat, floors = (
        db.execute(
            "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), floors FROM onemap.building "
            "ORDER BY id LIMIT 1"
        ).fetchone()
        or ()
    )
    url = two_workers + url_of("buildings", address_at("WebMercatorQuad", lon, lat, 16))

    def floors_in_tile() -> tuple[int, str]:
        response = _fresh_get(url)
        assert response.status_code == 200
        features = decode(response.content)["buildings"]["features"]
        found = next(f for f in features if f["id"] == building_id)
        return int(found["properties"]["floors"]), response.headers["x-tile-cache"]

    warm = [floors_in_tile() for _ in range(12)]
    assert {value for value, _ in warm} == {floors}
    assert sum(state == "hit" for _, state in warm) >= 9  # both workers hold the tile
    try:
        for step in (1, 2):
            db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors + step, building_id))
            seen = [floors_in_tile() for _ in range(8)]
            assert {value for value, _ in seen} == {floors + step}, seen
            assert any(state == "hit" for _, state in seen[1:])  # re-cached after the purge
    finally:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))


def test_a_moved_building_leaves_its_old_tile(two_workers: str, db: psycopg.Connection) -> None:
    building_id, lon, lat = (
        db.execute(
            "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM onemap.building "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        or ()
    )
    old = address_at("WebMercatorQuad", lon, lat, 17)
    url = two_workers + url_of("buildings", old)

    def ids() -> set[int]:
        layers = decode(_fresh_get(url).content)
        return {f["id"] for f in layers.get("buildings", {"features": []})["features"]}

    assert all(building_id in ids() for _ in range(6))
    try:
        db.execute(
            "UPDATE onemap.building SET geom = ST_Translate(geom, 0.05, 0) WHERE id = %s", (building_id,)
        )
        assert all(building_id not in ids() for _ in range(6))
    finally:
        db.execute(
            "UPDATE onemap.building SET geom = ST_Translate(geom, -0.05, 0) WHERE id = %s", (building_id,)
        )
    assert all(building_id in ids() for _ in range(4))


def test_datetime_gives_tiles_as_of_that_time(tile_env: Path, db: psycopg.Connection) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    building_id, lon, lat, floors = (
        db.execute(
            "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), floors FROM onemap.building "
            "ORDER BY id LIMIT 1 OFFSET 5"
        ).fetchone()
        or ()
    )
    url = url_of("buildings", address_at("CGCS2000Quad", lon, lat, 16))
    before = (db.execute("SELECT now()").fetchone() or (None,))[0]
    time.sleep(0.05)
    db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors + 7, building_id))
    try:
        with TestClient(create_app()) as client:

            def floors_at(**params: str) -> int:
                features = decode(client.get(url, params=params).content)["buildings"]["features"]
                return int(next(f for f in features if f["id"] == building_id)["properties"]["floors"])

            assert floors_at() == floors + 7
            assert floors_at(datetime=before.isoformat()) == floors
    finally:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))


def test_without_the_cache_catalog_changes_still_reach_tiles(
    tile_env: Path, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the tile cache off there is no change listener: the catalog is re-read after catalog_max_age, so a
    layer made internal stops being served to the public."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    monkeypatch.setenv("ONEMAP_TILES_CACHE", "false")
    monkeypatch.setenv("ONEMAP_TILES_CATALOG_MAX_AGE", "0")
    get_tile_settings.cache_clear()
    url = url_of("buildings", address_at("WebMercatorQuad", LON, LAT, 15))
    try:
        with TestClient(create_app()) as client:
            assert client.get(url).status_code == 200
            db.execute("UPDATE onemap.layer SET sensitivity = 'internal' WHERE id = 'buildings'")
            assert client.get(url).status_code == 404  # hidden from the public, as for features
    finally:
        db.execute("UPDATE onemap.layer SET sensitivity = 'public' WHERE id = 'buildings'")
        get_tile_settings.cache_clear()


class _CountingRender:
    """A render that waits for ``gate`` and counts how often it ran."""

    def __init__(self, body: bytes = b"tile") -> None:
        self.calls, self.body = 0, body
        self.gate = asyncio.Event()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.gate.wait()
        return self.body


def test_callers_missing_on_one_tile_share_one_render() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0)
        key, render = _key("buildings", 14), _CountingRender()
        callers = [asyncio.create_task(cache.fill(key, render)) for _ in range(16)]
        await asyncio.sleep(0.01)
        render.gate.set()
        results = await asyncio.gather(*callers)
        assert render.calls == 1
        assert {tile.etag for tile, _ in results} == {results[0][0].etag} and all(kept for _, kept in results)
        assert cache.get(key) is not None

    asyncio.run(scenario())


def test_a_caller_after_an_edit_never_joins_a_render_that_started_before_it() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0)
        key = _key("buildings", 14)
        before, after = _CountingRender(b"old"), _CountingRender(b"new")
        first = asyncio.create_task(cache.fill(key, before))
        await asyncio.sleep(0.01)
        cache.invalidate({"buildings"}, [(LON - 0.001, LAT - 0.001, LON + 0.001, LAT + 0.001)])
        second = asyncio.create_task(cache.fill(key, after))
        await asyncio.sleep(0.01)
        before.gate.set()
        after.gate.set()
        (old, old_kept), (new, new_kept) = await asyncio.gather(first, second)
        assert (before.calls, after.calls) == (1, 1)
        assert (old.body, old_kept) == (b"old", False)  # rendered before the edit: served once, not kept
        assert (new.body, new_kept) == (b"new", True)
        found = cache.get(key)
        assert found is not None and found.body == b"new"

    asyncio.run(scenario())


def test_a_waiter_renders_itself_when_the_render_it_waited_for_is_cancelled() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0)
        key, abandoned, own = _key("buildings", 15), _CountingRender(), _CountingRender(b"mine")
        owner = asyncio.create_task(cache.fill(key, abandoned))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(cache.fill(key, own))
        await asyncio.sleep(0.01)
        owner.cancel()  # the first client went away
        own.gate.set()
        tile, kept = await asyncio.wait_for(waiter, 5)
        assert (tile.body, kept, own.calls) == (b"mine", True, 1)

    asyncio.run(scenario())


def test_a_failed_render_fails_its_waiters_and_the_next_caller_renders_again() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0)
        key, gate, calls = _key("buildings", 16), asyncio.Event(), []

        async def failing() -> bytes:
            calls.append(1)
            await gate.wait()
            raise ConnectionError("the database went away")

        callers = [asyncio.create_task(cache.fill(key, failing)) for _ in range(4)]
        await asyncio.sleep(0.01)
        gate.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        assert len(calls) == 1 and all(isinstance(r, ConnectionError) for r in results)
        render = _CountingRender()
        render.gate.set()
        tile, kept = await cache.fill(key, render)
        assert (tile.body, kept, render.calls) == (b"tile", True, 1)

    asyncio.run(scenario())
