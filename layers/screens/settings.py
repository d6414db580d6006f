"""Settings of the screens (``ONEMAP_SCREENS_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ScreenSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_SCREENS_", extra="ignore")

    refresh_seconds: int = 30  # how often the wall asks for new figures when it has no stream
    cycle_seconds: int = 60  # how long each thematic mode stays on the wall (0: no cycling)
    # One more Server-Sent Events URL whose events mean "figures changed", besides the case and warning streams
    # the wall always listens to when its key may read them.
    stream_url: str | None = None
    workspace_rows: int = 100  # rows per section on the workspace page (the download has all)


@lru_cache
def get_screen_settings() -> ScreenSettings:
    return ScreenSettings()
