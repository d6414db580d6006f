"""Edit-driven invalidation across processes: each server process LISTENs on ``onemap_tiles`` (filled by the
triggers of ``spatial/sql/tile_invalidation.sql``, schema like the tables they watch) and purges the tiles a
change touched from its memory cache and from the shared disk cache.

Changes are also logged in ``onemap.tile_change``: on (re)connecting, a process replays the log from the disk
cache's watermark, so neither a restart nor a dropped connection leaves stale tiles behind. While the
listening connection is down the cache is bypassed.

Under a stream of edits the notifications that arrive together are applied together: one purge per changed
table with all their boxes (listing the disk cache once, not once per edit), and the watermark written at most
once a second. Purging per notification cost each server process about 40 % of its time at 130 writes/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tiles.cache import Box, TileCache
from tiles.catalog import TileCatalog

log = logging.getLogger("onemap.tiles.invalidation")
CHANNEL = "onemap_tiles"
RETRY_SECONDS = 2.0
WATERMARK_EVERY_SECONDS = 1.0  # a lagging watermark only replays a few purges more after a restart


class InvalidationListener:
    def __init__(self, url: str, cache: TileCache, catalog: TileCatalog) -> None:
        self.url, self.cache, self.catalog = url, cache, catalog
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: list[dict[str, Any]] = []
        self._flush_scheduled = False
        self._applied_id = 0
        self._watermark_at = 0.0

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="onemap-tile-invalidation")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._flush()
        self._write_watermark(force=True)

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
                        self._receive(json.loads(notice.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: stop trusting the cache until we are back
                self._pending.clear()  # the catch-up on reconnecting replays them from the log
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
            self.cache.history.start(last or 0)
        else:
            self.cache.history.start(watermark)
            cursor = await conn.execute(
                "SELECT id, source, boxes, layers FROM onemap.tile_change WHERE id > %s ORDER BY id",
                (watermark,),
            )
            self.apply_all(list(await cursor.fetchall()))
        self._applied_id = max(self._applied_id, last or 0)
        self.cache.applied = self._applied_id
        write_watermark(self.cache.disk, last or 0)

    def _receive(self, change: dict[str, Any]) -> None:
        """Queue a notification; the queue is applied once the notifications already received are read."""
        self._pending.append(change)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        changes, self._pending = self._pending, []
        try:
            self.apply_all(changes)
        except Exception:  # a purge that did not happen must not leave its tiles served: drop them all
            log.exception("tile invalidation: applying %d changes failed; clearing the cache", len(changes))
            self.cache.clear(disk=True)
            return
        self._write_watermark()

    def apply(self, change: dict[str, Any]) -> None:
        self.apply_all([change])
        self._write_watermark(force=True)

    def apply_all(self, changes: list[dict[str, Any]]) -> None:
        """Apply changes in order; consecutive changes of one table are purged together."""
        boxes_of: dict[str, list[Box]] = {}
        for change in changes:
            source = str(change.get("source"))
            change_id = int(change["id"]) if change.get("id") is not None else None
            if source == "layer":
                self._purge_boxes(boxes_of)
                boxes_of = {}
                self.catalog.forget()
                self.cache.purge_layers(set(change.get("layers") or []), change_id)
            else:
                boxes = finite_boxes(change.get("boxes"))
                if boxes is None:  # a box PostgreSQL could not compute (NaN in a geometry): purge the layers whole
                    layers = self.catalog.layers_of_source(source)
                    log.warning("tile invalidation: change %s has unusable boxes; purging %s", change_id, layers)
                    self.cache.purge_layers(layers, change_id)
                else:
                    boxes_of.setdefault(source, []).extend(boxes)
            if change_id is not None:
                self._applied_id = max(self._applied_id, change_id)
        self._purge_boxes(boxes_of)
        # Only now: a render stamped with this id must not begin before its purge has been made.
        self.cache.applied = self._applied_id

    def _purge_boxes(self, boxes_of: dict[str, list[Box]]) -> None:
        for source, boxes in boxes_of.items():
            layers = self.catalog.layers_of_source(source)
            self.cache.invalidate(layers, list(dict.fromkeys(boxes)), self._applied_id or None)

    def _write_watermark(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._applied_id and (force or now - self._watermark_at >= WATERMARK_EVERY_SECONDS):
            write_watermark(self.cache.disk, self._applied_id)
            self._watermark_at = now


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
