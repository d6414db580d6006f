"""Edit to fresh warm tile: how long after an edit every affected tile z10-z18 is a cache hit with the new value.

    ONEMAP_DATA_DIR=/tmp/onemap-bench .venv/bin/onemap generate --scale full
    ONEMAP_DATA_DIR=/tmp/onemap-bench .venv/bin/python benchmarks/tile_freshness.py

A real `onemap serve`; 16 wrk connections read, round robin, the z10-z18 tiles around a set of buildings (planner
key); an editor (housing key) PATCHes one of those buildings' floors every --every seconds, and after each edit
a probe asks each affected tile every 50 ms until it comes back fresh. For each edit and each affected tile, the
time from the edit's transaction (``onemap.tile_change.changed_at``: its start, so an upper bound on the time
from its commit) to the first response for that tile that is a cache hit (X-Tile-Cache) whose body differs from
the tile before the edit (and, from z13, holds the new floors), and the time to the first response of any kind
with the new value.

The readers are wrk, not Python: 16 Python clients decoding tiles took a core of their own on a 2-core machine,
and the probes' timings then measured the benchmark's event loop more than the server.
Reports p50/p95/max per zoom in benchmarks/results/tile_freshness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from mapbox_vector_tile.Mapbox import vector_tile_pb2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_mixed import database_url, make_key, serve
from tiles_vs_tipg import TMS, Server, wrk

HERE = Path(__file__).resolve().parent
ZOOMS = range(10, 19)
PROBE_SECONDS = 0.05
FLOORS_STEP = 20


def buildings(url: str, count: int) -> list[tuple[int, float, float, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), floors FROM onemap.building "
            "WHERE floors <= 100 ORDER BY random() LIMIT %s",  # room for FLOORS_STEP a few times (at most 200)
            [count],
        ).fetchall()
    return [(int(r[0]), float(r[1]), float(r[2]), int(r[3])) for r in rows]


def tile_path(lon: float, lat: float, z: int) -> str:
    tile = TMS.tile(lon, lat, z)
    return f"/collections/buildings/tiles/WebMercatorQuad/{z}/{tile.x}/{tile.y}"


def floors_of(body: bytes, building_id: int) -> int | None:
    """The building's floors in the tile, read off the protobuf (decoding every geometry took 100s of ms)."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(body)
    for layer in tile.layers:
        if layer.name != "buildings" or "floors" not in layer.keys:
            continue
        key = list(layer.keys).index("floors")
        for feature in layer.features:
            if feature.id == building_id:
                tags = feature.tags
                for i in range(0, len(tags), 2):
                    if tags[i] == key:
                        value = layer.values[tags[i + 1]]
                        return int(value.int_value or value.sint_value or value.uint_value or value.double_value)
    return None


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {"count": len(ordered), "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max_ms": 1000 * ordered[-1]}


class Watch:
    """Per affected tile of each edit: when the new value first came back, in any response and as a cache hit."""

    def __init__(self) -> None:
        self.latest: dict[str, bytes] = {}
        # path -> (edit time, building id, new floors, body before the edit) while waiting for its fresh hit
        self.waiting: dict[str, tuple[float, int, int, bytes | None]] = {}
        self.first_new: set[str] = set()
        self.delays: dict[int, list[float]] = {z: [] for z in ZOOMS}
        self.new_delays: dict[int, list[float]] = {z: [] for z in ZOOMS}  # to the first response with the value
        self.missed: dict[int, int] = {z: 0 for z in ZOOMS}

    def edited(self, path: str, z: int, done: float, building_id: int, floors: int) -> None:
        if path in self.waiting:
            self.missed[z] += 1  # the previous edit's tile never came back fresh before this one
        self.waiting[path] = (done, building_id, floors, self.latest.get(path))
        self.first_new.discard(path)

    def seen(self, path: str, response: httpx.Response, at: float) -> None:
        wait = self.waiting.get(path)
        z = int(path.split("/")[-3])
        if wait is not None and self._fresh(z, wait, response.content):
            if path not in self.first_new:
                self.first_new.add(path)
                self.new_delays[z].append(at - wait[0])
            if response.headers.get("x-tile-cache") == "hit":
                del self.waiting[path]
                self.first_new.discard(path)
                self.delays[z].append(at - wait[0])
        self.latest[path] = response.content

    @staticmethod
    def _fresh(z: int, wait: tuple[float, int, int, bytes | None], body: bytes) -> bool:
        _, building_id, floors, before = wait
        return body != before and (z < 13 or floors_of(body, building_id) in (floors, None))

    def results(self) -> dict[int, dict[str, Any]]:
        for path in self.waiting:
            self.missed[int(path.split("/")[-3])] += 1
        return {z: {**summary(self.delays[z]), "not_fresh_in_time": self.missed[z],
                    "first_new_value": summary(self.new_delays[z])} for z in ZOOMS}


async def run(server: Server, planner: str, housing: str, targets: list[Any], url: str, seconds: float,
              every: float, clients: int) -> dict[str, Any]:
    paths = sorted({tile_path(lon, lat, z) for _, lon, lat, _ in targets for z in ZOOMS})
    watch = Watch()
    stop = time.time() + seconds
    headers = {"X-API-Key": planner, "Accept-Encoding": "identity"}
    probes: list[asyncio.Task[None]] = []

    async def editor(prober: httpx.AsyncClient) -> None:
        async with (
            httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": housing}, timeout=30) as client,
            await psycopg.AsyncConnection.connect(url, autocommit=True) as conn,
        ):
            await asyncio.sleep(min(2.0, seconds / 4))  # the readers warm the tiles first
            for path in paths:  # what each tile held before the first edit
                response = await prober.get(path)
                watch.latest[path] = response.content
            step = 0
            while time.time() < stop - every:
                building_id, lon, lat, floors = targets[step % len(targets)]
                step += 1
                # A new value every time: a building edited again must change its tiles again (an edit back to
                # the value it already holds leaves every tile as it was and would count as never fresh). And by
                # FLOORS_STEP: below z13 tiles carry each grid's mean floors to two decimals, which one floor more
                # in a grid of a few hundred buildings leaves unchanged.
                new = floors + FLOORS_STEP * (1 + (step - 1) // len(targets))
                response = await client.patch(f"/collections/buildings/items/{building_id}",
                                              json={"properties": {"floors": new}})
                if response.status_code < 300:
                    cursor = await conn.execute(
                        "SELECT extract(epoch FROM changed_at) FROM onemap.tile_change WHERE source = 'building'"
                        " ORDER BY id DESC LIMIT 1")
                    edited_at = float((await cursor.fetchone())[0])  # type: ignore[index]
                    for z in ZOOMS:
                        path = tile_path(lon, lat, z)
                        watch.edited(path, z, edited_at, building_id, new)
                        probes.append(asyncio.create_task(probe(prober, path, edited_at + every)))
                await asyncio.sleep(every)

    async def probe(prober: httpx.AsyncClient, path: str, until: float) -> None:
        while path in watch.waiting and time.time() < until:
            response = await prober.get(path)
            if response.status_code == 200:
                watch.seen(path, response, time.time())
            await asyncio.sleep(PROBE_SECONDS)

    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as prober:
        readers = asyncio.create_task(asyncio.to_thread(wrk, server, paths, clients, int(seconds), planner))
        await editor(prober)
        await asyncio.gather(*probes)
        read = await readers
    return {"per_zoom": watch.results(), "clients": clients, "seconds": seconds, "edit_every_s": every,
            "tiles_read": len(paths), "reads": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between edits")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--buildings", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tile_freshness.json")
    args = parser.parse_args()
    url = database_url()
    targets = buildings(url, args.buildings)
    planner, housing = make_key("planner"), make_key("department_editor", "housing")
    os.environ["ONEMAP_TILES_REFRESH"] = "true"  # the re-render is opt-in; this measures it
    server = serve(url)
    try:
        results = asyncio.run(
            run(server, planner, housing, targets, url, args.seconds, args.every, args.clients)
        )
    finally:
        server.stop()
        with psycopg.connect(url) as conn:  # put the edited buildings back
            for building_id, _, _, floors in targets:
                conn.execute("UPDATE onemap.building SET floors = %s WHERE id = %s", (floors, building_id))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"{'zoom':>5}{'edits':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'late':>6}{'new p95 ms':>12}")
    for z, r in results["per_zoom"].items():
        print(f"{z:>5}{r['count']:>7}{r.get('p50_ms', 0):>10.0f}{r.get('p95_ms', 0):>10.0f}"
              f"{r.get('max_ms', 0):>10.0f}{r['not_fresh_in_time']:>6}{r['first_new_value'].get('p95_ms', 0):>12.0f}")


if __name__ == "__main__":
    main()
