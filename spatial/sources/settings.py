"""Limits of what departments send (``ONEMAP_SOURCES_*``), read through the cached ``get_sources_settings()``."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024**2


class SourcesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_SOURCES_", extra="ignore")

    max_push_bytes: int = 16 * MIB  # one pushed batch (NDJSON or a JSON array), as sent
    max_idempotency_key: int = 200  # characters
    fuse_on_arrival: bool = True  # each server worker listens for arrivals and fuses them (one at a time)
    fusion_debounce_seconds: float = 5.0  # arrivals within this window are fused together
    pull_retry_seconds: float = 60.0  # first wait after a failed pull; doubles up to pull_retry_max_seconds
    pull_retry_max_seconds: float = 3600.0
    pull_max_rows: int = 50_000  # per item and run; the next run goes on from the mark reached
    pull_timeout_seconds: float = 30.0  # connecting to and each request of a pull source


@lru_cache
def get_sources_settings() -> SourcesSettings:
    return SourcesSettings()
