"""Settings of door access (``ONEMAP_DOOR_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class DoorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_DOOR_", extra="ignore")

    retention_days: int = 180  # whole days of events kept; older partitions are dropped by a job
    min_confidence: float = 0.8  # face matches below this are not evidence for the rules
    # Suspected unregistered resident: seen on this many nights within the window, with no residence there.
    nights: int = 3
    nights_window_days: int = 7
    night_starts: int = 22  # local hour; a night runs to 06:00 the next morning
    night_ends: int = 6
    # Suspected moved out: a registered resident of a gated building not seen for this many days.
    unseen_days: int = 30
    # One card at this many buildings within the window: a card shared or copied.
    card_buildings: int = 3
    card_window_minutes: int = 60
    # Memory per hash table of the rules and of the per-day aggregation: a day's, or 30 days', distinct keys
    # (about 2.4M at full scale, some 200 MB) stay in memory instead of spilling in batches to disk.
    work_mem: str = "256MB"


@lru_cache
def get_door_settings() -> DoorSettings:
    return DoorSettings()
