"""Settings of the case workflow (``ONEMAP_CASES_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class CaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_CASES_", extra="ignore")

    # Office hours of Shenzhen's district offices (Beijing time); limits are counted in these hours only.
    working_hours: str = "09:00-12:00,14:00-18:00"
    timezone: str = "Asia/Shanghai"
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachment_types: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
    # How long the SSE change feed is kept (clients reconnecting with an older Last-Event-ID must reload).
    feed_retention_hours: int = 48


@lru_cache
def get_case_settings() -> CaseSettings:
    return CaseSettings()
