"""Limits of uploads (``ONEMAP_INGEST_*``), read through the cached ``get_ingest_settings()``."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024**3


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_INGEST_", extra="ignore")

    max_upload_bytes: int = 2 * GIB  # the file as uploaded (a .zip counts compressed)
    max_unzipped_bytes: int = 4 * GIB  # everything a .zip expands to
    max_zip_ratio: float = 100.0  # expanded / compressed; real shapefiles stay far below
    chunk_rows: int = 50_000  # features per streamed batch (bounds memory, not speed)
    max_fields: int = 500


@lru_cache
def get_ingest_settings() -> IngestSettings:
    return IngestSettings()
