"""Offline tile packages: a layer's WebMercatorQuad tiles over a bbox and zoom range, as MBTiles or PMTiles.

Tiles are rendered by the same code as the server (same generalisation, same masks for the chosen role) and
collected in an MBTiles (SQLite) file, which is also the resume log: tiles already there, or recorded as
empty, are not rendered again. A PMTiles package is made from that file at the end (PMTiles are written in
one go).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from layers.access import Principal
from layers.catalog import Layer
from tiles.catalog import TileCatalog
from tiles.compression import gzip_tile
from tiles.errors import InvalidTileRequest
from tiles.query import TileQuery
from tiles.service import Look, TileService, is_raster
from tiles.tms import TileAddress, get_tms, tile_address

TMS_ID = "WebMercatorQuad"  # MBTiles and PMTiles are Web Mercator formats
SCHEMA = """
CREATE TABLE IF NOT EXISTS metadata (name text PRIMARY KEY, value text);
CREATE TABLE IF NOT EXISTS tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob,
                                  PRIMARY KEY (zoom_level, tile_column, tile_row));
CREATE TABLE IF NOT EXISTS onemap_done (z integer, x integer, y integer, PRIMARY KEY (z, x, y));
"""


@dataclass(frozen=True)
class SeedPlan:
    layer: Layer
    zooms: range
    bbox: tuple[float, float, float, float]
    out: Path
    who: Principal
    query: TileQuery = field(default_factory=TileQuery)

    def addresses(self) -> Iterator[TileAddress]:
        tms = get_tms(TMS_ID)
        for z in self.zooms:
            for tile in tms.tiles(*self.bbox, zooms=[z]):
                yield tile_address(TMS_ID, tile.z, tile.x, tile.y)

    def count(self) -> int:
        tms = get_tms(TMS_ID)
        total = 0
        for z in self.zooms:
            first, last = tms.tile(self.bbox[0], self.bbox[3], z), tms.tile(self.bbox[2], self.bbox[1], z)
            total += (last.x - first.x + 1) * (last.y - first.y + 1)
        return total

    @property
    def store(self) -> Path:
        return (
            self.out
            if self.out.suffix == ".mbtiles"
            else self.out.with_name(self.out.name + ".partial.mbtiles")
        )


def parse_zooms(text: str) -> range:
    try:
        low, _, high = text.partition("-")
        zooms = range(int(low), int(high or low) + 1)
    except ValueError:
        raise InvalidTileRequest(f"invalid zoom range {text!r}: write e.g. 10-16 or 14") from None
    if not zooms or zooms.start < 0 or zooms.stop > 23:
        raise InvalidTileRequest(f"invalid zoom range {text!r}: zooms lie within 0-22, low to high")
    return zooms


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidTileRequest(f"invalid bbox {text!r}: write west,south,east,north in degrees") from None
    if not (-180 <= west < east <= 180 and -85.06 <= south < north <= 85.06):
        raise InvalidTileRequest(f"invalid bbox {text!r}: west < east within ±180, south < north within ±85")
    return (west, south, east, north)


def _open_store(plan: SeedPlan) -> sqlite3.Connection:
    if plan.out.suffix not in (".mbtiles", ".pmtiles"):
        raise InvalidTileRequest(f"unknown package format {plan.out.suffix!r}: use .mbtiles or .pmtiles")
    plan.out.parent.mkdir(parents=True, exist_ok=True)
    store = sqlite3.connect(plan.store)
    store.executescript(SCHEMA)
    raster_layer = plan.layer.kind == "raster"
    west, south, east, north = plan.bbox
    metadata = {
        "name": plan.layer.title,
        "description": plan.layer.description,
        "type": "overlay",
        "version": "1",
        "format": "png" if raster_layer else "pbf",
        "minzoom": str(plan.zooms.start),
        "maxzoom": str(plan.zooms.stop - 1),
        "bounds": f"{west},{south},{east},{north}",
        "center": f"{(west + east) / 2},{(south + north) / 2},{plan.zooms.start}",
        "attribution": "onemap",
    }
    if not raster_layer:
        metadata["compression"] = "gzip"
        metadata["json"] = json.dumps(
            {
                "vector_layers": [
                    {
                        "id": plan.layer.id,
                        "fields": {f.name: f.type for f in plan.layer.fields},
                        "minzoom": plan.zooms.start,
                        "maxzoom": plan.zooms.stop - 1,
                    }
                ]
            }
        )
    store.executemany("INSERT OR REPLACE INTO metadata VALUES (?, ?)", metadata.items())
    store.commit()
    return store


async def _render(service: TileService, plan: SeedPlan, address: TileAddress) -> bytes:
    """The server's tile (same renderer, same masks), stored as MBTiles expects: vector tiles gzipped, and empty
    ones not at all."""
    layers = [plan.layer]
    body = await service.render(layers, plan.who, plan.query, address, Look())
    return gzip_tile(body) if body and not is_raster(layers) else body


async def _seed(
    url: str, plan: SeedPlan, store: sqlite3.Connection, advance: Callable[[int], None], workers: int
) -> int:
    done = {tuple(row) for row in store.execute("SELECT z, x, y FROM onemap_done")}
    todo: asyncio.Queue[TileAddress | None] = asyncio.Queue(maxsize=workers * 4)
    written = 0

    async def work(service: TileService) -> None:
        nonlocal written
        while (address := await todo.get()) is not None:
            body = await _render(service, plan, address)
            flipped = (1 << address.z) - 1 - address.y  # MBTiles rows count from the south
            if body:
                store.execute(
                    "INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?)",
                    (address.z, address.x, flipped, body),
                )
                written += 1
            store.execute(
                "INSERT OR REPLACE INTO onemap_done VALUES (?, ?, ?)", (address.z, address.x, address.y)
            )
            advance(1)
            if written % 200 == 0:
                store.commit()

    kwargs = {"autocommit": True, "row_factory": dict_row}
    async with AsyncConnectionPool(
        url, min_size=workers, max_size=workers, kwargs=kwargs, open=False
    ) as pool:
        service = TileService(pool, TileCatalog(), cache=None, listener=None)
        tasks = [asyncio.create_task(work(service)) for _ in range(workers)]
        for address in plan.addresses():
            if (address.z, address.x, address.y) in done:
                advance(1)
                continue
            await todo.put(address)
        for _ in tasks:
            await todo.put(None)
        await asyncio.gather(*tasks)
    store.commit()
    return written


def seed(url: str, plan: SeedPlan, advance: Callable[[int], None] = lambda _: None, workers: int = 2) -> int:
    """Render the plan's tiles into ``plan.out``; returns how many non-empty tiles were written this run."""
    store = _open_store(plan)
    try:
        written = asyncio.run(_seed(url, plan, store, advance, workers))
        if plan.out.suffix == ".pmtiles":
            store.close()
            _to_pmtiles(plan)
    finally:
        store.close()
    return written


def _to_pmtiles(plan: SeedPlan) -> None:
    from pmtiles.convert import mbtiles_to_pmtiles

    temporary = plan.out.with_name(plan.out.name + ".tmp")
    mbtiles_to_pmtiles(str(plan.store), str(temporary), plan.zooms.stop - 1)
    temporary.replace(plan.out)
    plan.store.unlink()
