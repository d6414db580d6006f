"""Edit-driven invalidation across processes: each server process LISTENs on ``onemap_tiles`` (filled by the
triggers of ``sql/invalidation.sql``) and purges the tiles a change touched from its memory cache and from the
shared disk cache.

Changes are also logged in ``onemap.tile_change``: on (re)connecting, a process replays the log from the disk
cache's watermark, so neither a restart nor a dropped connection leaves stale tiles behind. While the
listening connection is down the cache is bypassed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tiles.cache import Box, TileCache
from tiles.catalog import TileCatalog

log = logging.getLogger("onemap.tiles.invalidation")
CHANNEL = "onemap_tiles"
RETRY_SECONDS = 2.0


class InvalidationListener:
    def __init__(self, url: str, cache: TileCache, catalog: TileCatalog) -> None:
        self.url, self.cache, self.catalog = url, cache, catalog
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="onemap-tile-invalidation")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, row_factory=dict_row
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await self._catch_up(conn)
                    self.cache.usable = True
                    self.ready.set()
                    async for notice in conn.notifies():
                        self.apply(json.loads(notice.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: stop trusting the cache until we are back
                self.cache.usable = False
                self.catalog.forget()
                log.warning("tile invalidation: listening connection lost (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)

    async def _catch_up(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Replay the changes made while this process (or any process, for the disk) was not listening."""
        self.catalog.forget()
        self.cache.clear()
        await self.catalog.all(conn)
        watermark = read_watermark(self.cache.disk)
        cursor = await conn.execute("SELECT min(id) AS first, max(id) AS last FROM onemap.tile_change")
        span = await cursor.fetchone() or {}
        first, last = span.get("first"), span.get("last")
        if watermark is None or (first is not None and watermark < first - 1):
            self.cache.clear(disk=True)  # unknown or pruned history: nothing on disk can be trusted
        else:
            cursor = await conn.execute(
                "SELECT id, source, boxes, layers FROM onemap.tile_change WHERE id > %s ORDER BY id",
                (watermark,),
            )
            for change in await cursor.fetchall():
                self.apply(change)
        write_watermark(self.cache.disk, last or 0)

    def apply(self, change: dict[str, Any]) -> None:
        if change.get("source") == "layer":
            self.catalog.forget()
            self.cache.purge_layers(set(change.get("layers") or []))
        else:
            layers = self.catalog.layers_of_source(str(change.get("source")))
            boxes = finite_boxes(change.get("boxes"))
            if boxes is None:  # a box PostgreSQL could not compute (NaN in a geometry): purge the layers whole
                log.warning("tile invalidation: change %s has unusable boxes; purging %s", change.get("id"), layers)
                self.cache.purge_layers(layers)
            else:
                self.cache.invalidate(layers, boxes)
        if change.get("id") is not None:
            write_watermark(self.cache.disk, int(change["id"]))


def finite_boxes(raw: Any) -> list[Box] | None:
    """The change's boxes as four finite numbers each, or None when any is not (jsonb spells NaN "NaN")."""
    boxes: list[Box] = []
    for box in raw or []:
        if not (isinstance(box, list) and len(box) == 4):
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box):
            return None
        boxes.append((float(box[0]), float(box[1]), float(box[2]), float(box[3])))
    return boxes


def read_watermark(disk: Path | None) -> int | None:
    if disk is None:
        return 0
    try:
        return int((disk / "watermark").read_text().strip())
    except (OSError, ValueError):
        return None


def write_watermark(disk: Path | None, change_id: int) -> None:
    if disk is None:
        return
    current = read_watermark(disk)
    if current is not None and current >= change_id:
        return
    try:
        disk.mkdir(parents=True, exist_ok=True)
        temporary = disk / f"watermark.{os.getpid()}.tmp"
        temporary.write_text(str(change_id))
        os.replace(temporary, disk / "watermark")
    except OSError as exc:
        log.warning("tile cache: cannot write the watermark (%s)", exc)
