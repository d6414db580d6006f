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
    attempt starts one probe; while the probe cannot connect, requests fail at once with 503, and the moment it
    can, the pool drops its broken connections and opens new ones.
    """

    def __init__(self, url: str, settings: ApiSettings, probe_interval: float = 0.5) -> None:
        self.url = libpq_url(url)
        self.probe_interval = probe_interval
        self.down = False
        self._probe: asyncio.Task[None] | None = None
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
                "options": f"-c max_parallel_workers_per_gather={settings.parallel_workers}",
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

    def check_available(self) -> None:
        if self.down:
            raise DatabaseUnavailable(UNAVAILABLE)

    def suspect(self) -> None:
        """Something failed that a dead database would explain: find out, once, without blocking anyone."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        while not await self._can_connect():
            if not self.down:
                log.warning("database unreachable; probing every %.1f s", self.probe_interval)
            self.down = True
            await asyncio.sleep(self.probe_interval)
        if self.down:
            log.warning("database reachable again")
        await self.pool.check()  # drops the broken idle connections and opens new ones now
        self.down = False

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


def get_pool(request: Request) -> AsyncConnectionPool:
    return get_database(request).pool


class RequestConnection:
    """The one pooled connection of a request: taken on first use, given back when the response is sent."""

    def __init__(self, database: ServerDatabase) -> None:
        self._database = database
        self._conn: AsyncConnection[Any] | None = None

    async def get(self) -> AsyncConnection[Any]:
        if self._conn is None:
            self._database.check_available()
            try:
                self._conn = await self._database.pool.getconn()
            except PoolTimeout:
                # The database is gone, or every connection stayed busy for the whole timeout: both mean
                # "try again shortly"; the probe finds out which.
                self._database.suspect()
                raise DatabaseUnavailable(UNAVAILABLE) from None
        return self._conn

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection[Any]]:
        """``async with`` access, for code that takes a connection factory (the tile service)."""
        yield await self.get()

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if conn.broken:
                self._database.suspect()
            await self._database.pool.putconn(conn)  # rolls back an unfinished transaction, drops a broken one


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
