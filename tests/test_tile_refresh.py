"""Fresh and warm after an edit: the tiles an edit purged are rendered again in the background (tiles/refresh.py),
each variant with its own role's masking and grid scope, and a re-render that races a newer edit is never kept."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from spatial.database import engine_for, libpq_url
from tests.tiles_support import address_at, decode, tile_env, url_of
from tiles.cache import TileCache, TileKey
from tiles.refresh import TileRefresher
from tiles.settings import TileSettings, get_tile_settings
from tiles.tms import get_tms

__all__ = ["tile_env"]
LON, LAT = 114.25, 22.72
ZOOMS = range(10, 19)


@pytest.fixture(scope="module")
def client(tile_env: Path) -> Iterator[TestClient]:
    from api.main import create_app

    os.environ["ONEMAP_TILES_REFRESH"] = "true"  # opt-in (tiles/settings.py says why)
    get_tile_settings.cache_clear()
    try:
        with TestClient(create_app()) as test_client:
            yield test_client
    finally:
        os.environ.pop("ONEMAP_TILES_REFRESH", None)
        get_tile_settings.cache_clear()


def _wait(done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the background re-render did not happen in time"
        time.sleep(0.02)


def _building(db: psycopg.Connection, offset: int) -> tuple[int, float, float, int, str]:
    row = db.execute(
        "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), floors, grid_code FROM onemap.building "
        "ORDER BY id LIMIT 1 OFFSET %s",
        (offset,),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3], row[4]


def _floors(body: bytes, building_id: int) -> int | None:
    features = decode(body).get("buildings", {"features": []})["features"]
    return next((int(f["properties"]["floors"]) for f in features if f["id"] == building_id), None)


def _settled(refresher: TileRefresher, at_least: int) -> Callable[[], bool]:
    return lambda: refresher.stats.rendered >= at_least and refresher.pending == 0


def test_an_edited_tile_is_warm_again_at_every_zoom_before_anyone_asks(
    client: TestClient, db: psycopg.Connection
) -> None:
    building_id, lon, lat, floors, _ = _building(db, 3)
    refresher = client.app.state.tiles.refresher  # type: ignore[attr-defined]
    assert refresher is not None
    urls = {z: url_of("buildings", address_at("WebMercatorQuad", lon, lat, z)) for z in ZOOMS}
    before = {z: client.get(url).content for z, url in urls.items()}
    assert all(client.get(url).headers["x-tile-cache"] == "hit" for url in urls.values())
    assert all(_floors(before[z], building_id) == floors for z in ZOOMS if z >= 13)
    rendered = refresher.stats.rendered
    try:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors + 3, building_id))
        # No request in between: only the refresher can have put these tiles back.
        _wait(_settled(refresher, rendered + len(ZOOMS)))
        for z, url in urls.items():
            response = client.get(url)
            assert response.headers["x-tile-cache"] == "hit", z  # the first request after the edit
            if z >= 13:
                assert _floors(response.content, building_id) == floors + 3, z
            else:  # grid statistics: the grid's mean floors moved
                assert response.content != before[z], z
    finally:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))


@pytest.fixture(scope="module")
def role_keys(database_url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(database_url)) as db:
        grid = _building(db, 40)[4]
    with engine_for(database_url).begin() as conn:
        return {
            "planner": create_key(conn, "refresh planner", "planner").key,
            "grid": create_key(conn, "refresh grid", "grid_worker", grid_code=grid).key,
        }


def test_a_restricted_variant_is_rendered_again_with_its_own_masking(
    client: TestClient, db: psycopg.Connection, role_keys: dict[str, str]
) -> None:
    building_id, lon, lat, floors, grid = _building(db, 40)
    service: Any = client.app.state.tiles  # type: ignore[attr-defined]
    refresher = service.refresher
    urls = [url_of("buildings", address_at("WebMercatorQuad", lon, lat, z)) for z in (11, 14)]

    def tiles() -> dict[tuple[str, str], Any]:
        return {
            (role, url): client.get(url, headers={"X-API-Key": key, "Accept-Encoding": "identity"})
            for role, key in role_keys.items()
            for url in urls
        }

    for response in tiles().values():  # cached, each role its own variant
        assert response.status_code == 200
    rendered = refresher.stats.rendered
    try:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors + 2, building_id))
        _wait(_settled(refresher, rendered + len(role_keys) * len(urls)))
        warm = tiles()
        assert all(r.headers["x-tile-cache"] == "hit" for r in warm.values())
        service.cache.clear(disk=True)  # now the same requests render cold, each for its own role
        cold = tiles()
        assert all(r.headers["x-tile-cache"] == "miss" for r in cold.values())
        for at, response in warm.items():
            assert response.content == cold[at].content, at
        # The variants really differ: the grid worker's overview has its own grid's statistics only.
        assert warm[("planner", urls[0])].content != warm[("grid", urls[0])].content
        grid_features = decode(warm[("grid", urls[1])].content)["buildings"]["features"]
        assert {f["properties"]["grid_code"] for f in grid_features} == {grid}
        assert _floors(warm[("grid", urls[1])].content, building_id) == floors + 2
    finally:
        db.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))


def _key(z: int) -> TileKey:
    tile = get_tms("WebMercatorQuad").tile(LON, LAT, z)
    return TileKey(("buildings",), (1,), "WebMercatorQuad", z, tile.x, tile.y, "v")


BOX = (LON - 1e-5, LAT - 1e-5, LON + 1e-5, LAT + 1e-5)


def test_a_rerender_racing_a_second_edit_never_stores_the_older_tile() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0.0)
        refresher = TileRefresher(cache, TileSettings())
        refresher.start()
        database = {"floors": b"v1"}
        started, gate = asyncio.Event(), asyncio.Event()

        async def recipe() -> bytes:
            seen = database["floors"]  # the render's snapshot is taken when it starts
            started.set()
            await gate.wait()
            return seen

        key = _key(15)
        cache.put(key, b"v1", cache.generation(key.layers), recipe)
        database["floors"] = b"v2"
        cache.invalidate({"buildings"}, [BOX])  # edit 1: re-rendering starts
        await asyncio.wait_for(started.wait(), 5)
        database["floors"] = b"v3"
        cache.invalidate({"buildings"}, [BOX])  # edit 2 lands while the v2 render runs
        gate.set()
        for _ in range(500):
            if refresher.stats.dropped:
                break
            await asyncio.sleep(0.01)
        assert refresher.stats.dropped == 1
        found = cache.get(key)
        assert found is None or found.body == b"v3"  # never v2
        for _ in range(500):
            if refresher.stats.rendered:
                break
            await asyncio.sleep(0.01)
        found = cache.get(key)
        assert found is not None and found.body == b"v3"  # rendered again, after edit 2
        await refresher.stop()

    asyncio.run(scenario())


def test_only_recent_tiles_at_the_refreshed_zooms_are_queued_and_a_redefined_layer_drops_them() -> None:
    async def scenario() -> None:
        cache = TileCache(10_000_000, None, margin=0.0)
        settings = TileSettings(refresh_min_zoom=12, refresh_max_zoom=16, refresh_recent_seconds=60)
        refresher = TileRefresher(cache, settings)  # not started: the queue stays as filled
        cache.refresher = refresher
        calls: list[int] = []

        def recipe_for(z: int) -> Any:
            async def recipe() -> bytes:
                calls.append(z)
                return b"tile"

            return recipe

        for z in range(8, 19):
            key = _key(z)
            cache.put(key, b"tile", cache.generation(key.layers), recipe_for(z))
        stale = _key(14)
        cache.memory.entries[stale].used -= 120  # served two minutes ago
        cache.invalidate({"buildings"}, [BOX])
        assert sorted(k.z for k in refresher._queue) == [12, 13, 15, 16]
        cache.purge_layers({"buildings"})
        assert not refresher._queue and not calls

    asyncio.run(scenario())


def test_two_processes_sharing_a_disk_cache_re_render_an_edited_tile_once(tmp_path: Path) -> None:
    """Each server process purges the tile and queues its re-render; the one that renders second takes the
    first one's disk copy (stamped after the edit) instead of rendering the tile again."""

    async def scenario() -> None:
        renders: list[str] = []

        def process(name: str) -> tuple[TileCache, TileRefresher]:
            cache = TileCache(10_000_000, tmp_path / "cache", margin=0.0)
            refresher = TileRefresher(cache, TileSettings())
            refresher.start()

            async def recipe() -> bytes:
                renders.append(name)
                await asyncio.sleep(0.05)
                return b"after the edit"

            key = _key(16)
            cache.put(key, b"before the edit", cache.generation(key.layers), recipe)
            return cache, refresher

        processes = [process("a"), process("b")]
        for cache, _ in processes:
            cache.invalidate({"buildings"}, [BOX], change_id=1)
            cache.applied = 1
        for _ in range(500):
            if all(cache.holds(_key(16)) for cache, _ in processes):
                break
            await asyncio.sleep(0.01)
        for cache, refresher in processes:
            found = cache.get(_key(16))
            assert found is not None and found.body == b"after the edit"
            await refresher.stop()
        assert len(renders) == 1

    asyncio.run(scenario())


def test_a_re_render_another_process_is_making_waits_while_the_next_tile_is_rendered(tmp_path: Path) -> None:
    """Both processes queue an edit's tiles in the same order: one that finds a tile's render under way elsewhere
    renders the next tile instead of waiting, and comes back for the first one's stored copy."""
    from tiles.render_locks import RenderLocks

    async def scenario() -> None:
        cache = TileCache(10_000_000, tmp_path / "cache", margin=0.0)
        refresher = TileRefresher(cache, TileSettings(refresh_concurrency=1))
        rendered: list[int] = []

        def recipe_for(z: int) -> Any:
            async def recipe() -> bytes:
                rendered.append(z)
                return b"after the edit"

            return recipe

        first, second = _key(16), _key(17)
        for key in (first, second):
            cache.put(key, b"before the edit", cache.generation(key.layers), recipe_for(key.z))
            cache.memory.entries[key].used += 1 if key is first else 0  # the first is queued first
        refresher.start()
        peer = RenderLocks(tmp_path / "cache")
        async with peer.hold(os.fspath(first.relative_path())):  # the other process renders the first tile
            cache.invalidate({"buildings"}, [BOX], change_id=1)
            cache.applied = 1
            for _ in range(500):
                if rendered:
                    break
                await asyncio.sleep(0.01)
            assert rendered == [17]  # the second, while the first is held
        for _ in range(500):
            if cache.holds(first):
                break
            await asyncio.sleep(0.01)
        assert cache.holds(first)
        await refresher.stop()

    asyncio.run(scenario())
