"""The platform's jobs: what each runs and when by default. Other packages add theirs with ``register``
(catalogue pulls, when deliveries land)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from spatial.errors import InvalidInput

JobFunction = Callable[[psycopg.Connection], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    cron: str  # the packaged schedule (Asia/Shanghai)
    run: JobFunction


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    JOBS[job.name] = job
    return job


def get_job(name: str) -> Job:
    _load_builtin()
    if name not in JOBS:
        raise InvalidInput(f"unknown job {name!r}: use one of {', '.join(sorted(JOBS))}")
    return JOBS[name]


def all_jobs() -> list[Job]:
    _load_builtin()
    return [JOBS[name] for name in sorted(JOBS)]


def _load_builtin() -> None:
    from spatial.jobs import builtin  # noqa: F401 - registers the packaged jobs
