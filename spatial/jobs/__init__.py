"""Scheduled jobs: a registry, schedules from the package, settings and the database, a runner that records
each run, and a leader-elected scheduler."""

from spatial.jobs.registry import Job, all_jobs, get_job, register
from spatial.jobs.runner import RunResult, run_job
from spatial.jobs.schedule import JobConfigError, schedules

__all__ = ["Job", "JobConfigError", "RunResult", "all_jobs", "get_job", "register", "run_job", "schedules"]
