"""The web server's database: one async psycopg 3 pool, what the server knows of the database's health, and the
one pooled connection a request may hold.

Why one connection per request: a request that holds a connection while it waits for a second one (the key
lookup beside the route's own connection) deadlocks the pool as soon as a pool's worth of such requests arrive
together. Every part of a request (who is calling, the layer, the rows, the tile) uses ``RequestConnection``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.settings import ApiSettings
from spatial.database import libpq_url
from spatial.errors import DatabaseUnavailable

log = logging.getLogger("onemap.api.db")

UNAVAILABLE = "the database is not answering; the service reconnects on its own, try again in a few seconds"


class ServerDatabase:
    """The pool, and what the server knows of the database's health.

    psycopg_pool alone waits out an exponential reconnect backoff (a minute and more after a long outage) and
    makes every request wait its full timeout meanwhile. Here a failed connection check or a failed connection
    attempt marks the database down and starts one probe. While it is down, a request is answered 503 only when a
    connection attempt made after the request arrived failed: one attempt at a time, shared by every request that
    waits for it, at most one every ``retry_gap`` seconds. So a refused database fails requests within
    milliseconds, and the first request after its return is served instead of being told of a stale failure (with
    two workers, one may have seen the return while the other's last attempt still said "down"). A request
    already waiting for a pooled connection when the database is found down is answered 503 then, not after the
    pool's timeout. The moment an attempt connects, the pool drops its broken connections and opens new ones.
    """

    def __init__(self, url: str, settings: ApiSettings, probe_interval: float = 0.5, retry_gap: float = 0.05) -> None:
        self.url = libpq_url(url)
        self.probe_interval = probe_interval
        self.retry_gap = retry_gap
        self.down = False
        self._probe: asyncio.Task[None] | None = None
        self._attempt: asyncio.Task[bool] | None = None
        self._attempt_started = float("-inf")
        self._went_down: asyncio.Future[None] | None = None  # done once the database is found down
        self.pool = AsyncConnectionPool(
            self.url, min_size=settings.pool_min_size, max_size=settings.pool_max_size, open=False,
            timeout=settings.pool_timeout,
            check=self._check_connection,  # a connection broken by a restart is noticed at checkout
            # Give up a failed connection attempt at once instead of retrying with backoff: the probe notices
            # the database's return within probe_interval, and the pool regrows on demand.
            reconnect_timeout=0,
            reconnect_failed=self._reconnect_failed,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": 5,
                # synchronous_commit on: the embedded cluster turns it off for bulk loads, but a write the API
                # has acknowledged must survive a crash of the database.
                "options": f"-c max_parallel_workers_per_gather={settings.parallel_workers} -c synchronous_commit=on",
            },
        )

    async def open(self) -> None:
        try:
            await self.pool.open(wait=True, timeout=30)
        except PoolTimeout:
            await self.pool.close()
            raise DatabaseUnavailable(f"cannot reach the database: {UNAVAILABLE}") from None

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self.pool.close()

    async def getconn(self) -> AsyncConnection[Any]:
        """A pooled connection, or DatabaseUnavailable as soon as the database is known to be away."""
        await self.ensure_available()
        getting = asyncio.ensure_future(self.pool.getconn())
        try:
            await asyncio.wait((getting, self._down_signal()), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the request itself was cancelled
            self._abandon(getting)
            raise
        if not getting.done():
            self._abandon(getting)
            raise DatabaseUnavailable(UNAVAILABLE)
        try:
            return getting.result()
        except PoolTimeout:
            # The database is gone, or every connection stayed busy for the whole timeout: both mean "try again
            # shortly"; the probe finds out which.
            self.suspect()
            raise DatabaseUnavailable(UNAVAILABLE) from None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        conn = await self.getconn()
        try:
            yield conn
        finally:
            await self.putconn(conn)

    async def putconn(self, conn: AsyncConnection[Any]) -> None:
        if conn.broken:
            self.suspect()
        await self.pool.putconn(conn)  # rolls back an unfinished transaction, drops a broken one

    def _abandon(self, getting: asyncio.Future[AsyncConnection[Any]]) -> None:
        """Give up a pending checkout without losing the connection it may have been handed."""
        if not getting.done():
            getting.cancel()  # psycopg_pool returns a connection it assigned meanwhile
        elif not getting.cancelled() and getting.exception() is None:
            asyncio.get_running_loop().create_task(self.pool.putconn(getting.result()))

    def _down_signal(self) -> asyncio.Future[None]:
        if self._went_down is None:
            self._went_down = asyncio.get_running_loop().create_future()
        return self._went_down

    def _mark_down(self) -> None:
        if not self.down:
            log.warning("database unreachable; probing every %.1f s", self.probe_interval)
        self.down = True
        signal = self._down_signal()
        if not signal.done():
            signal.set_result(None)

    async def ensure_available(self) -> None:
        """Raise DatabaseUnavailable unless the database is up, or answers an attempt made since this call."""
        if self.down and not await self._reachable_since(asyncio.get_running_loop().time()):
            raise DatabaseUnavailable(UNAVAILABLE)

    def suspect(self) -> None:
        """Something failed that a dead database would explain: find out, once, without blocking anyone."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        while not await self._reachable_since(asyncio.get_running_loop().time()):
            await asyncio.sleep(self.probe_interval)

    async def _reachable_since(self, asked: float) -> bool:
        """Whether a connection attempt started at or after ``asked`` succeeded."""
        loop = asyncio.get_running_loop()
        while True:
            attempt = self._attempt
            if attempt is not None and self._attempt_started >= asked:
                return await asyncio.shield(attempt)  # shielded: a caller that gives up leaves it to the others
            if attempt is not None and not attempt.done():
                await asyncio.shield(attempt)  # began before the question: its answer may be stale
            else:
                wait = self._attempt_started + self.retry_gap - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                self._attempt_started = loop.time()
                self._attempt = loop.create_task(self._attempt_once())

    async def _attempt_once(self) -> bool:
        if not await self._can_connect():
            self._mark_down()
            return False
        if self.down:
            log.warning("database reachable again")
            await self.pool.check()  # drops the broken idle connections and opens new ones now
            self._went_down = None
            self.down = False
        return True

    async def _can_connect(self) -> bool:
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, connect_timeout=2, autocommit=True)
        except psycopg.Error:
            return False
        await conn.close()
        return True

    async def _check_connection(self, conn: AsyncConnection[Any]) -> None:
        try:
            await AsyncConnectionPool.check_connection(conn)
        except psycopg.Error:
            self.suspect()
            raise

    async def _reconnect_failed(self, _: AsyncConnectionPool) -> None:
        self.suspect()


def get_database(request: Request) -> ServerDatabase:
    database: ServerDatabase = request.app.state.database
    return database


class RequestConnection:
    """The one pooled connection of a request: taken on first use, given back when the response is sent."""

    def __init__(self, database: ServerDatabase) -> None:
        self._database = database
        self._conn: AsyncConnection[Any] | None = None

    async def get(self) -> AsyncConnection[Any]:
        if self._conn is None:
            self._conn = await self._database.getconn()
        return self._conn

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection[Any]]:
        """``async with`` access, for code that takes a connection factory (the tile service)."""
        yield await self.get()

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._database.putconn(conn)


async def request_connection(request: Request) -> AsyncIterator[RequestConnection]:
    holder = RequestConnection(get_database(request))
    try:
        yield holder
    finally:
        await holder.release()


async def connection(holder: RequestConnection = Depends(request_connection)) -> AsyncConnection[Any]:
    """The request's pooled connection (autocommit; use ``conn.transaction()`` for writes)."""
    return await holder.get()


Db = Annotated[RequestConnection, Depends(request_connection)]
