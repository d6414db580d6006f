"""Settings of the scheduler (``ONEMAP_JOBS_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_JOBS_", extra="ignore")

    # Off unless asked: `onemap serve` turns it on for its workers; tests and notebooks make apps without it.
    enabled: bool = False
    # Cron expressions by job name over the packaged ones, e.g. '{"overdue_cases": "*/5 * * * *"}'.
    # Five fields (minute first) or six (second first); Asia/Shanghai time. Rows of onemap.job_schedule win.
    schedules: dict[str, str] = {}
    timezone: str = "Asia/Shanghai"
    retries: int = 3  # attempts after the first failure
    backoff_seconds: float = 30.0  # doubled after each failed attempt
    leader_check_seconds: float = 10.0  # how often a follower tries to become the leader


@lru_cache
def get_job_settings() -> JobSettings:
    return JobSettings()
