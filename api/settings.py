"""Settings of the web server (``ONEMAP_API_*``)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

# Deepest page any list may be asked for: past it PostgreSQL would still scan every skipped row, and numbers past
# int8 (9223372036854775808) would reach the database as errors. Fixed, since parameter schemas are declared once.
MAX_OFFSET = 10_000_000
# Features per page of /collections/{id}/items when none is asked for, and the most a page may hold (a larger
# limit is served as this many, as OGC API Features Part 1 asks). Fixed for the same reason: the OpenAPI
# document declares them, and GDAL and OWSLib read them from it to choose their page size.
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_API_", extra="ignore")

    title: str = "onemap"
    # Worker processes of `onemap serve`; 0 = one per core, at least two, so that one crashed worker never
    # takes the service down while the supervisor restarts it.
    workers: int = 0
    pool_min_size: int = 1
    pool_max_size: int = 10
    # How long a request waits for a pooled connection before it is answered 503 (database down or saturated).
    pool_timeout: float = 5.0
    # Parallel workers per query on the web server's connections. Requests are many and small (a tile, a page):
    # forking workers for each costs more than it saves, and under load they fight the other requests for
    # the same cores (cold tiles at z14: 49 -> 80 tiles/s with 0). Analyses run on connections of their own.
    parallel_workers: int = 0
    # numberMatched is counted exactly when the planner expects fewer matches than this, and is the planner's
    # estimate above: counting 170k buildings costs 20 ms, half of a 1,000-feature page.
    exact_count_below: int = 20_000
    # Origins whose pages may call the API from a browser (CORS). "*" by default, as tile servers do: a web map
    # on any site may draw the public layers, and a key travels in the X-API-Key header, never in a cookie, so
    # no origin is ever allowed credentials and "*" opens nothing a script could not already fetch. [] turns
    # CORS off (same-origin pages only); a list of origins narrows it (ONEMAP_API_CORS_ORIGINS='["https://a"]').
    cors_origins: list[str] = ["*"]
    # Peers whose X-Forwarded-* headers are believed (api.proxy): addresses, networks, or "*". As uvicorn's
    # forwarded_allow_ips, a proxy on the same machine by default.
    forwarded_allow_ips: list[str] = ["127.0.0.1"]
    # Checked before any parser runs, below uvicorn's own request-line limit (past which it answers a bare 400).
    # JSON bodies are single features and small batches; files go to the upload paths with their own limit.
    max_url_bytes: int = 32 * 1024
    max_body_bytes: int = 1024 * 1024

    def worker_count(self) -> int:
        return self.workers or max(2, os.cpu_count() or 1)


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()
