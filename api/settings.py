"""Settings of the web server (``ONEMAP_API_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_API_", extra="ignore")

    title: str = "onemap"
    pool_min_size: int = 1
    pool_max_size: int = 10
    default_limit: int = 100
    max_limit: int = 10_000
    # Count matches exactly below this many rows of the table (estimated from statistics); estimate above.
    exact_count_below: int = 200_000
    cors_origins: list[str] = []


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()
