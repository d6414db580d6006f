"""Fresh and warm after an edit: the tiles an edit purged from a process's memory are rendered again in the
background, so that the next request for them is a cache hit with the new data instead of a cold render.

The cache hands over each purged key with its recipe (``tiles.cache.Purged``): the render the tile service made
for the principal, query and address of that key, so a variant is re-rendered exactly as its visibility class
gets it, never with another's masking or grid scope. Only keys within the configured zooms that were served
recently are queued (bounded, de-duplicated); one or two at a time are rendered through the normal path and
stored with the normal generation check: a re-render that raced a newer edit is dropped and queued again, so it
is rendered after that edit. Each process re-renders its own memory entries, through the cache's fill, which
renders a key in one process at a time (``tiles/render_locks.py``): the next takes the first one's disk copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from tiles.cache import Purged, TileCache, TileKey
from tiles.settings import TileSettings

log = logging.getLogger("onemap.tiles.refresh")
BUSY_PAUSE_SECONDS = 0.005
RETRIES = 3  # a tile whose re-render keeps racing edits is left to the next request after this many drops


@dataclass
class RefreshStats:
    queued: int = 0
    rendered: int = 0  # re-rendered and stored
    dropped: int = 0  # rendered, but an edit landed meanwhile (queued again, up to RETRIES)
    skipped: int = 0  # a request had rendered it first, or its layer was redefined
    failed: int = 0


class TileRefresher:
    def __init__(self, cache: TileCache, settings: TileSettings) -> None:
        self.cache = cache
        self.zooms = range(settings.refresh_min_zoom, settings.refresh_max_zoom + 1)
        self.max_queue = settings.refresh_queue
        self.recent = settings.refresh_recent_seconds
        self.concurrency = max(1, settings.refresh_concurrency)
        self.stats = RefreshStats()
        self._queue: OrderedDict[TileKey, tuple[Purged, int]] = OrderedDict()  # key -> (job, attempts)
        self._abandoned: set[TileKey] = set()  # in flight when their layer was redefined: not to be stored
        self._inflight: set[TileKey] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.cache.refresher = self
        self._tasks = [
            asyncio.create_task(self._work(), name=f"onemap-tile-refresh-{n}") for n in range(self.concurrency)
        ]

    async def stop(self) -> None:
        self.cache.refresher = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._queue.clear()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._inflight)

    # --- told by the cache (in the event loop's thread: the invalidation listener purges there) ---
    def purged(self, keys: list[Purged]) -> None:
        now = time.monotonic()
        # The most recently served first: under a full queue those are the ones kept.
        for job in sorted(keys, key=lambda p: p.used, reverse=True):
            if job.key.z not in self.zooms or now - job.used > self.recent:
                continue
            self._enqueue(job, 0)
        self._signal()

    def forget(self, layers: set[str] | None) -> None:
        """A layer was redefined (or the whole cache dropped): its queued recipes hold the old definition."""

        def stale(key: TileKey) -> bool:
            return layers is None or bool(layers.intersection(key.layers))

        for key in [k for k in self._queue if stale(k)]:
            del self._queue[key]
            self.stats.skipped += 1
        self._abandoned.update(k for k in self._inflight if stale(k))

    def _enqueue(self, job: Purged, attempts: int) -> None:
        if job.key in self._queue:
            return
        if len(self._queue) >= self.max_queue:
            return
        self._queue[job.key] = (job, attempts)
        self.stats.queued += 1

    def _signal(self) -> None:
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- the workers ---
    async def _work(self) -> None:
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            key, (job, attempts) = self._queue.popitem(last=False)
            if self.cache.holds(key):  # a request rendered it meanwhile
                self.stats.skipped += 1
                continue
            if self.cache.rendering_elsewhere(key) and self._queue:
                # Another process (or request) is rendering it: take the next one, and come back to this one for
                # the copy that render stores. Every process pops the same keys in the same order, so waiting
                # here would make the processes' re-renders one at a time.
                self._queue[key] = (job, attempts)
                self._queue.move_to_end(key)
                await asyncio.sleep(BUSY_PAUSE_SECONDS)  # when every queued key is busy, no spinning
                continue
            self._inflight.add(key)
            try:
                await self._render(job, attempts)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away, a layer was dropped...: the next request renders
                self.stats.failed += 1
                log.warning("tile refresh: %s/%s/%s of %s failed (%s)", key.z, key.x, key.y, key.layers, exc)
            finally:
                self._inflight.discard(key)
                self._abandoned.discard(key)

    async def _render(self, job: Purged, attempts: int) -> None:
        key = job.key
        # The cache's fill, as a request's miss: requests arriving meanwhile wait for this render instead of
        # making their own, and an edit purged while it renders makes the store a no-op.
        _, stored = await self.cache.fill(key, job.recipe, job.recipe)
        if key in self._abandoned:  # its layer was redefined meanwhile: the recipe is not to be tried again
            self.stats.skipped += 1
            return
        if stored:
            self.stats.rendered += 1
            return
        self.stats.dropped += 1
        # The newer edit's purge found nothing in memory to hand over: render again, after that edit.
        if attempts + 1 < RETRIES and self.cache.usable:
            self._enqueue(job, attempts + 1)
