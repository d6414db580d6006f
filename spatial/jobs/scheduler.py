"""The scheduler inside the platform: every server process starts one, but only the leader (the holder of a
PostgreSQL advisory lock on a connection of its own) runs APScheduler's cron triggers. If the leader dies its
connection goes, the lock with it, and a follower takes over within ``leader_check_seconds``."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from spatial.database import libpq_url
from spatial.jobs.runner import run_job
from spatial.jobs.schedule import Schedule, schedules
from spatial.jobs.settings import get_job_settings

log = logging.getLogger("onemap.jobs")
LEADER_LOCK = "onemap.jobs.leader"


class JobScheduler:
    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)
        with psycopg.connect(self.url, autocommit=True) as conn:
            self.schedules = schedules(conn)  # a cron that does not parse stops here, naming its job
        self.is_leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._lead, name="onemap-jobs-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _lead(self) -> None:
        interval = get_job_settings().leader_check_seconds
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    self._follow_or_lead(conn, interval)
            except psycopg.Error as exc:
                log.warning("jobs: leader connection lost (%s)", exc)
            finally:
                self._resign()
            self._stop.wait(interval)

    def _follow_or_lead(self, conn: psycopg.Connection, interval: float) -> None:
        while not self._stop.is_set():
            if not self.is_leader:
                row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LEADER_LOCK,)).fetchone()
                if row and row[0]:
                    self._take_over()
            else:
                conn.execute("SELECT 1")  # still connected, so still holding the lock
            self._stop.wait(interval)

    def _take_over(self) -> None:
        scheduler = BackgroundScheduler(timezone=get_job_settings().timezone)
        for schedule in self.schedules:
            if schedule.enabled:
                scheduler.add_job(
                    self._fire,
                    schedule.trigger,
                    args=[schedule],
                    id=schedule.job,
                    name=schedule.job,
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=60,
                )
        scheduler.start()
        self._scheduler, self.is_leader = scheduler, True
        log.info("jobs: this process leads the scheduler")

    def _resign(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.is_leader = False

    def _fire(self, schedule: Schedule) -> None:
        # The fire time to the trigger's granularity: a second leader firing the same tick records no second run.
        now = dt.datetime.now(dt.UTC)
        fired = (
            now.replace(microsecond=0)
            if len(schedule.cron.split()) == 6
            else now.replace(second=0, microsecond=0)
        )
        try:
            result = run_job(self.url, schedule.job, fired)
            log.info("job %s: %s", schedule.job, result.outcome)
        except Exception:
            log.exception("job %s could not run", schedule.job)


def start_jobs(url: str) -> JobScheduler | None:
    """The process's scheduler when ``ONEMAP_JOBS_ENABLED`` (every worker starts one; one leads)."""
    if not get_job_settings().enabled:
        return None
    scheduler = JobScheduler(url)
    scheduler.start()
    return scheduler
