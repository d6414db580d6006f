"""Settings of the web server (``ONEMAP_API_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_API_", extra="ignore")

    title: str = "onemap"
    pool_min_size: int = 1
    pool_max_size: int = 10
    # Parallel workers per query on the web server's connections. Requests are many and small (a tile, a page):
    # forking workers for each costs more than it saves, and under load they fight the other requests for
    # the same cores (cold tiles at z14: 49 -> 80 tiles/s with 0). Analyses run on connections of their own.
    parallel_workers: int = 0
    default_limit: int = 100
    max_limit: int = 10_000
    # numberMatched is counted exactly when the planner expects fewer matches than this, and is the planner's
    # estimate above: counting 170k buildings costs 20 ms, half of a 1,000-feature page.
    exact_count_below: int = 20_000
    cors_origins: list[str] = []


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()
