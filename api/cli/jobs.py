"""``onemap jobs list | run NAME | schedule NAME CRON``: the scheduled jobs, their last runs, running one now."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from spatial.database import database_url, raw_connection

jobs_app = typer.Typer(help="Scheduled jobs: monitoring, overdue cases, door access, feed pruning.")


@jobs_app.command("list")
def list_jobs() -> None:
    """Each job with its schedule (and where it comes from) and its last run."""
    from spatial.jobs import all_jobs, schedules
    from spatial.jobs.sql import read_job_sql

    with raw_connection(database_url()) as conn:
        found = {s.job: s for s in schedules(conn)}
        last = {r[0]: r for r in conn.execute(read_job_sql("last_runs.sql")).fetchall()}
    for job in all_jobs():
        schedule = found[job.name]
        run = last.get(job.name)
        latest = f"last {run[2]} at {run[1]:%Y-%m-%d %H:%M:%S%z} ({run[3]} ms)" if run else "never run"
        state = "" if schedule.enabled else " (disabled)"
        typer.echo(f"{job.name:24} {schedule.cron:16} [{schedule.source}]{state}  {latest}  {job.title}")


@jobs_app.command("run")
def run(name: Annotated[str, typer.Argument(help="The job's name (see onemap jobs list).")]) -> None:
    """Run one job now (waits for nothing: if it is already running elsewhere, says so)."""
    from spatial.jobs import run_job

    result = run_job(database_url(), name)
    typer.echo(
        json.dumps(
            {"job": result.job, "outcome": result.outcome, "attempts": result.attempts, **result.detail},
            ensure_ascii=False,
            default=str,
        )
    )
    if result.outcome != "succeeded":
        raise typer.Exit(1)


@jobs_app.command("schedule")
def schedule(
    name: Annotated[str, typer.Argument(help="The job's name.")],
    cron: Annotated[str, typer.Argument(help="A cron expression, Asia/Shanghai time, e.g. '*/10 * * * *'.")],
    disable: Annotated[bool, typer.Option(help="Keep the schedule but do not run it.")] = False,
) -> None:
    """Override a job's schedule in the database (checked before it is stored)."""
    from zoneinfo import ZoneInfo

    from spatial.jobs import get_job
    from spatial.jobs.schedule import parse_cron
    from spatial.jobs.settings import get_job_settings
    from spatial.jobs.sql import read_job_sql

    get_job(name)
    parse_cron(name, cron, "command line", ZoneInfo(get_job_settings().timezone))
    with raw_connection(database_url()) as conn:
        conn.execute(read_job_sql("set_schedule.sql"), {"job": name, "cron": cron, "enabled": not disable})
        conn.commit()
    typer.echo(f"{name}: {cron}{' (disabled)' if disable else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
