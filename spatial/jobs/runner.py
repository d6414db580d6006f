"""Running one job: never two runs of a job at once (a PostgreSQL advisory lock per job), one run per scheduled
fire time across workers (a unique row in ``onemap.job_run``), every attempt recorded with its duration and
outcome, failures retried with exponential backoff."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from spatial.database import libpq_url
from spatial.jobs.registry import get_job
from spatial.jobs.settings import get_job_settings
from spatial.jobs.sql import read_job_sql

log = logging.getLogger("onemap.jobs")
LOCK_PREFIX = "onemap.job."


@dataclass
class RunResult:
    job: str
    outcome: str  # succeeded | failed | skipped (already running) | taken (another worker has this fire time)
    attempts: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _start(conn: psycopg.Connection, job: str, scheduled_for: dt.datetime | None, attempt: int) -> int | None:
    params = {"job": job, "scheduled_for": scheduled_for, "attempt": attempt, "worker": worker_name()}
    row = conn.execute(read_job_sql("run_start.sql"), params).fetchone()
    return None if row is None else int(row[0])


def _finish(conn: psycopg.Connection, run_id: int, outcome: str, detail: dict[str, Any]) -> None:
    conn.execute(read_job_sql("run_finish.sql"), {"id": run_id, "outcome": outcome, "detail": Jsonb(detail)})


def run_job(url: str, name: str, scheduled_for: dt.datetime | None = None) -> RunResult:
    job = get_job(name)
    settings = get_job_settings()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_PREFIX + name,)).fetchone()
        if not (locked and locked[0]):
            run_id = _start(conn, name, scheduled_for, 1)
            if run_id is not None:
                _finish(conn, run_id, "skipped", {"reason": "a run of this job is still going"})
            return RunResult(name, "skipped", 0, {"reason": "a run of this job is still going"})
        try:
            return _attempts(
                conn, job.name, job.run, scheduled_for, settings.retries, settings.backoff_seconds
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_PREFIX + name,))


def _attempts(
    conn: psycopg.Connection,
    name: str,
    run: Any,
    scheduled_for: dt.datetime | None,
    retries: int,
    backoff: float,
) -> RunResult:
    detail: dict[str, Any] = {}
    for attempt in range(1, retries + 2):
        run_id = _start(conn, name, scheduled_for, attempt)
        if run_id is None:
            return RunResult(name, "taken", attempt - 1)
        try:
            detail = dict(run(conn) or {})
        except Exception as exc:  # any failure of the job: recorded, then retried
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            detail = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
            _finish(conn, run_id, "failed", detail)
            log.warning("job %s attempt %d failed: %s", name, attempt, detail["error"])
            if attempt <= retries:
                time.sleep(backoff * 2 ** (attempt - 1))
            continue
        _finish(conn, run_id, "succeeded", detail)
        return RunResult(name, "succeeded", attempt, detail)
    return RunResult(name, "failed", retries + 1, detail)
