"""The web server's connection pool: what every request's connection is set up with."""

from __future__ import annotations

import asyncio

from api.db import ServerDatabase
from api.settings import ApiSettings


def test_requests_run_without_parallel_workers(database_url: str) -> None:
    async def settings_seen() -> tuple[str, bool]:
        database = ServerDatabase(database_url, ApiSettings(pool_min_size=1, pool_max_size=2))
        await database.open()
        try:
            async with database.pool.connection() as conn:
                cursor = await conn.execute("SELECT current_setting('max_parallel_workers_per_gather') AS value")
                row = await cursor.fetchone()
                assert isinstance(row, dict)  # the pool's connections return rows as dicts
                return str(row["value"]), conn.autocommit
        finally:
            await database.close()

    assert asyncio.run(settings_seen()) == ("0", True)
