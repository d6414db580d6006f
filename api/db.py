"""The async psycopg 3 pool of the web server, and small helpers to run SQL on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.settings import ApiSettings
from spatial.database import libpq_url


async def open_pool(url: str, settings: ApiSettings) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        libpq_url(url), min_size=settings.pool_min_size, max_size=settings.pool_max_size, open=False,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "options": f"-c max_parallel_workers_per_gather={settings.parallel_workers}",
        },
    )
    await pool.open(wait=True, timeout=30)
    return pool


def get_pool(request: Request) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


async def connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    """A pooled connection for one request (autocommit; use ``conn.transaction()`` for writes)."""
    async with get_pool(request).connection() as conn:
        yield conn
