"""Settings of the spatial core, read from ``ONEMAP_*`` environment variables.

Read through the cached ``get_settings()`` and never at import time, so that tests and the CLI can set the
environment first.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    # As root the embedded cluster runs as the `postgres` user, which cannot enter /root: use a system
    # directory there, the user's XDG data directory otherwise.
    if os.geteuid() == 0:
        return Path("/var/lib/onemap")
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "onemap"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of an existing PostGIS server; unset = onemap's own embedded cluster.",
    )
    data_dir: Path = Field(default_factory=default_data_dir, description="Where onemap keeps its files.")
    db_port: int | None = Field(
        default=None, description="Fixed port for the embedded cluster (default: free)."
    )
    pg_bin_dir: Path | None = Field(default=None, description="Directory of initdb/pg_ctl (default: found).")
    db_schema: str = "onemap"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "pgdata"


@lru_cache
def get_settings() -> Settings:
    return Settings()
