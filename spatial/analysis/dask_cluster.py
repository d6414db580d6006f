"""The Dask cluster analyses scale out to: a ``LocalCluster`` by default, the scheduler at
``ONEMAP_DASK_SCHEDULER`` (e.g. ``tcp://dask-scheduler:8786``) in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from distributed import Client, LocalCluster
from pydantic_settings import BaseSettings, SettingsConfigDict


class DaskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_DASK_", extra="ignore")

    scheduler: str | None = None  # address of a running scheduler; unset = a LocalCluster per session
    workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "4GiB"  # per local worker


@lru_cache
def get_dask_settings() -> DaskSettings:
    return DaskSettings()


@contextmanager
def dask_client(settings: DaskSettings | None = None) -> Iterator[Client]:
    settings = settings or get_dask_settings()
    if settings.scheduler:
        with Client(settings.scheduler) as client:
            yield client
        return
    # Processes, not threads: geometry work holds the GIL in places, and memory per worker stays measurable.
    with LocalCluster(n_workers=settings.workers, threads_per_worker=settings.threads_per_worker,
                      processes=True, memory_limit=settings.memory_limit, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client
