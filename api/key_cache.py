"""The principals of the API keys this process has seen, forgotten on every change to the keys or the areas.

Looking the key up was the most expensive part of a cached tile: a pooled connection, its checkout check and a
query, 43 % of a worker's time serving warm tiles to a planner's key, for a tile that itself cost 3 %. Each
process keeps the principals of the active keys it looked up and LISTENs on ``onemap_keys`` (statement triggers
on ``onemap.api_key`` and ``onemap.admin_area``, migration 0015): any change there, a revocation included, empties
it. While the listening connection is down nothing is cached, so a revocation is never missed; a lookup that
began before a change is not stored after it (the epoch check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from layers.access import Principal

log = logging.getLogger("onemap.api.key_cache")
CHANNEL = "onemap_keys"
RETRY_SECONDS = 2.0
MAX_KEYS = 10_000  # active keys of a district: a few thousand; past this the cache starts over


class KeyCache:
    def __init__(self, url: str) -> None:
        self.url = url
        self.usable = False  # until the LISTEN connection is up
        self.epoch = 0
        self._principals: dict[str, Principal] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def get(self, key_hash: str) -> Principal | None:
        return self._principals.get(key_hash) if self.usable else None

    def put(self, key_hash: str, principal: Principal, epoch: int) -> None:
        """Keep an active key's principal, looked up when the cache was at ``epoch``."""
        if not self.usable or epoch != self.epoch:
            return
        if len(self._principals) >= MAX_KEYS:
            self._principals.clear()
        self._principals[key_hash] = principal

    def forget(self) -> None:
        self.epoch += 1
        self._principals.clear()

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="onemap-key-cache")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.forget()  # whatever changed while not listening
                    self.usable = True
                    self._ready.set()
                    async for _ in conn.notifies():
                        self.forget()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: look every key up until we listen again
                self.usable = False
                self.forget()
                log.warning("key cache: listening connection lost (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)
