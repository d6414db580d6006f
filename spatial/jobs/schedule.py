"""Each job's schedule: packaged, then ``ONEMAP_JOBS_SCHEDULES``, then ``onemap.job_schedule`` rows. Every
expression is parsed before anything runs; one that does not parse stops the start and names its job."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import psycopg
from apscheduler.triggers.cron import CronTrigger

from spatial.errors import OnemapError
from spatial.jobs.registry import all_jobs
from spatial.jobs.settings import get_job_settings
from spatial.jobs.sql import read_job_sql


class JobConfigError(OnemapError):
    """A job's schedule cannot be used."""


@dataclass(frozen=True)
class Schedule:
    job: str
    cron: str
    source: str  # package | settings | database
    enabled: bool
    trigger: CronTrigger


def parse_cron(job: str, cron: str, source: str, zone: ZoneInfo) -> CronTrigger:
    fields = cron.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(cron, timezone=zone)
        if len(fields) == 6:  # seconds first
            second, minute, hour, day, month, weekday = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=weekday,
                timezone=zone,
            )
        raise ValueError(
            f"it has {len(fields)} fields; a cron expression has 5 (minute hour day month weekday)"
        )
    except ValueError as exc:
        where = {"settings": "ONEMAP_JOBS_SCHEDULES", "database": "onemap.job_schedule"}.get(
            source, "the package"
        )
        raise JobConfigError(
            f"job {job}: the cron expression {cron!r} from {where} does not parse ({exc})"
        ) from None


def schedules(conn: psycopg.Connection | None) -> list[Schedule]:
    settings = get_job_settings()
    zone = ZoneInfo(settings.timezone)
    known = {job.name for job in all_jobs()}
    unknown = sorted(set(settings.schedules) - known)
    if unknown:
        raise JobConfigError(
            f"ONEMAP_JOBS_SCHEDULES names unknown job {unknown[0]!r}: use one of {', '.join(sorted(known))}"
        )
    rows = {}
    if conn is not None:
        rows = {r[0]: (r[1], r[2]) for r in conn.execute(read_job_sql("schedules.sql")).fetchall()}
    found = []
    for job in all_jobs():
        cron, source, enabled = job.cron, "package", True
        if job.name in settings.schedules:
            cron, source = settings.schedules[job.name], "settings"
        if job.name in rows:
            (cron, enabled), source = rows[job.name], "database"
        found.append(Schedule(job.name, cron, source, enabled, parse_cron(job.name, cron, source, zone)))
    return found
