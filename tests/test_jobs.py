"""The scheduler: jobs listed and run from the command line, every run recorded, failures retried with backoff,
never two runs of one job at once, one leader across workers that hands over when it stops, and cron
expressions that do not parse refused at start, naming the job."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from spatial.database import libpq_url
from spatial.jobs import Job, JobConfigError, register, run_job, schedules
from spatial.jobs.registry import JOBS
from spatial.jobs.scheduler import JobScheduler
from spatial.jobs.settings import get_job_settings
from tests.test_cli import onemap


@pytest.fixture
def job_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("ONEMAP_JOBS_BACKOFF_SECONDS", "0.05")
    monkeypatch.setenv("ONEMAP_JOBS_LEADER_CHECK_SECONDS", "0.2")
    get_job_settings.cache_clear()
    yield monkeypatch
    get_job_settings.cache_clear()


@pytest.fixture
def temporary_job() -> Iterator[Any]:
    added: list[str] = []

    def add(job: Job) -> Job:
        added.append(job.name)
        return register(job)

    yield add
    for name in added:
        JOBS.pop(name, None)


def test_cli_lists_and_runs_jobs(platform_env: str, db: psycopg.Connection) -> None:
    listed = onemap("jobs", "list", url=platform_env)
    assert listed.returncode == 0, listed.stderr
    for name in ("monitoring", "overdue_cases", "door_access_rules", "cases_from_issues", "feed_prune"):
        assert name in listed.stdout
    ran = onemap("jobs", "run", "overdue_cases", url=platform_env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outcome"] == "succeeded"
    row = db.execute(
        "SELECT outcome, duration_ms >= 0, finished_at >= started_at FROM onemap.job_run WHERE job = 'overdue_cases' "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row == ("succeeded", True, True)
    again = onemap("jobs", "list", url=platform_env)
    assert "last succeeded" in again.stdout
    unknown = onemap("jobs", "run", "teleport", url=platform_env)
    assert unknown.returncode == 2 and "overdue_cases" in unknown.stderr


def test_failures_are_retried_with_backoff(
    platform_env: str, db: psycopg.Connection, job_env: pytest.MonkeyPatch, temporary_job: Any
) -> None:
    calls: list[float] = []

    def flaky(conn: psycopg.Connection) -> dict[str, Any]:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError("the department's server did not answer")
        return {"done": True}

    temporary_job(Job("flaky", "fails twice", "0 0 * * *", flaky))
    result = run_job(platform_env, "flaky")
    assert result.outcome == "succeeded" and result.attempts == 3
    assert calls[1] - calls[0] >= 0.05 and calls[2] - calls[1] >= 0.1  # doubled
    rows = db.execute(
        "SELECT attempt, outcome, detail FROM onemap.job_run WHERE job = 'flaky' ORDER BY id"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert "did not answer" in rows[0][2]["error"]


def test_never_two_runs_of_one_job(
    platform_env: str,
    database_url: str,
    db: psycopg.Connection,
    job_env: pytest.MonkeyPatch,
    temporary_job: Any,
) -> None:
    ran: list[int] = []

    def once(conn: psycopg.Connection) -> dict[str, Any]:
        ran.append(1)
        return {}

    temporary_job(Job("single", "one at a time", "0 0 * * *", once))
    with psycopg.connect(libpq_url(database_url), autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(hashtext('onemap.job.single'))")
        result = run_job(platform_env, "single")
    assert result.outcome == "skipped" and ran == []
    assert db.execute("SELECT outcome FROM onemap.job_run WHERE job = 'single'").fetchone() == ("skipped",)
    assert run_job(platform_env, "single").outcome == "succeeded" and ran == [1]


def test_one_leader_runs_each_tick_once_and_hands_over(
    platform_env: str, db: psycopg.Connection, job_env: pytest.MonkeyPatch, temporary_job: Any
) -> None:
    ticks: list[str] = []
    lock = threading.Lock()

    def tick(conn: psycopg.Connection) -> dict[str, Any]:
        with lock:
            ticks.append(threading.current_thread().name)
        return {}

    temporary_job(Job("tick", "every second", "* * * * * *", tick))
    workers = [JobScheduler(platform_env), JobScheduler(platform_env)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(3.5)
        leaders = [w for w in workers if w.is_leader]
        assert len(leaders) == 1
        assert 2 <= len(ticks) <= 4
        leaders[0].stop()
        time.sleep(2.5)
        follower = next(w for w in workers if w is not leaders[0])
        assert follower.is_leader, "the follower took over"
    finally:
        for worker in workers:
            worker.stop()
    rows = db.execute(
        "SELECT scheduled_for, count(*) FROM onemap.job_run WHERE job = 'tick' GROUP BY 1"
    ).fetchall()
    assert rows and all(count == 1 for _, count in rows), "each fire time ran once"
    assert len(rows) == len(ticks) >= 4


def test_cron_that_does_not_parse_is_refused_naming_the_job(
    platform_env: str, db: psycopg.Connection, job_env: pytest.MonkeyPatch
) -> None:
    job_env.setenv("ONEMAP_JOBS_SCHEDULES", '{"overdue_cases": "every five minutes"}')
    get_job_settings.cache_clear()
    with pytest.raises(JobConfigError, match=r"overdue_cases.*ONEMAP_JOBS_SCHEDULES"):
        schedules(None)
    job_env.setenv("ONEMAP_JOBS_ENABLED", "true")
    get_job_settings.cache_clear()
    with pytest.raises(JobConfigError, match="overdue_cases"), TestClient(create_app()):
        pass
    job_env.delenv("ONEMAP_JOBS_SCHEDULES")
    job_env.delenv("ONEMAP_JOBS_ENABLED")
    get_job_settings.cache_clear()
    refused = onemap("jobs", "schedule", "monitoring", "61 * * * *", url=platform_env)
    assert refused.returncode == 2 and "monitoring" in refused.stderr
    assert db.execute("SELECT count(*) FROM onemap.job_schedule").fetchone() == (0,)
    db.execute("INSERT INTO onemap.job_schedule (job, cron) VALUES ('feed_prune', '* * *')")
    try:
        with pytest.raises(JobConfigError, match=r"feed_prune.*onemap\.job_schedule"):
            schedules(db)
        stored = onemap("jobs", "schedule", "feed_prune", "*/20 * * * *", url=platform_env)
        assert stored.returncode == 0, stored.stderr
        assert next(s for s in schedules(db) if s.job == "feed_prune").source == "database"
    finally:
        db.execute("DELETE FROM onemap.job_schedule")


def test_kpi_refresh_runs_every_minute_and_recounts_stale_grids(platform_env: str, db: psycopg.Connection) -> None:
    listed = onemap("jobs", "list", url=platform_env)
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if "kpi_refresh" in row)
    assert "* * * * *" in line  # every minute: an edit's grid is counted live for a minute at most
    # a change marks its grid stale (as the triggers do); the job recounts it and clears the mark
    grid = db.execute("SELECT min(code) FROM onemap.admin_area WHERE level = 'grid'").fetchone()
    assert grid is not None
    db.execute("SELECT onemap.kpi_mark_grids('archives', ARRAY[%s])", (grid[0],))
    db.commit()
    ran = onemap("jobs", "run", "kpi_refresh", url=platform_env)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["outcome"] == "succeeded", result
    left = db.execute("SELECT count(*) FROM onemap.kpi_dirty_grid").fetchone()
    held = db.execute("SELECT count(*) FROM onemap.kpi_aggregate WHERE last_day IS NOT NULL").fetchone()
    db.commit()
    assert left == (0,) and held is not None and held[0] >= 6
