"""The packaged jobs: monitoring rules and the cases they open, cases from verification issues, overdue
escalation, door-access rules and retention, pulls of the catalogue's sources, pruning the SSE change feed,
and refreshing the figures' pre-aggregates."""

from __future__ import annotations

from typing import Any

import psycopg

from spatial.cases import escalate_overdue, open_cases_from_issues, open_cases_from_warnings
from spatial.cases.feed import prune_feed
from spatial.cases.settings import get_case_settings
from spatial.jobs.registry import Job, register


def monitoring(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.monitoring import run_monitoring

    return {**run_monitoring(conn), "cases": open_cases_from_warnings(conn)["opened"]}


def door_access_rules(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.door_access import run_door_rules

    return {**run_door_rules(conn), "cases": open_cases_from_warnings(conn)["opened"]}


def door_access_retention(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.door_access import drop_expired_partitions

    return drop_expired_partitions(conn)


def source_pulls(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.sources.pull import pull_sources

    return pull_sources(conn)


def feed_prune(conn: psycopg.Connection) -> dict[str, Any]:
    return prune_feed(conn, get_case_settings().feed_retention_hours)


def kpi_refresh(conn: psycopg.Connection) -> dict[str, Any]:
    """Recount the pre-aggregated figures' stale grids (and a new day), so the figures stop counting them live."""
    from spatial.kpis import refresh_aggregates

    done = refresh_aggregates(conn)
    return {name: {"grids": r.grids, "rows": r.rows, "last_day": r.last_day.isoformat()} for name, r in done.items()}


for job in (
    Job("monitoring", "监测规则 Monitoring rules -> warnings -> cases", "0 * * * *", monitoring),
    Job(
        "cases_from_issues",
        "核验问题转工单 Verification issues -> cases",
        "15 * * * *",
        open_cases_from_issues,
    ),
    Job("overdue_cases", "超时升级 Overdue cases escalate", "*/5 * * * *", escalate_overdue),
    Job(
        "door_access_rules",
        "门禁规则 Door-access rules -> warnings -> cases",
        "30 2 * * *",
        door_access_rules,
    ),
    Job(
        "door_access_retention",
        "门禁数据保留 Drop expired door-access days",
        "45 3 * * *",
        door_access_retention,
    ),
    Job("source_pulls", "数据拉取 Pull the catalogue's sources above their marks", "*/10 * * * *", source_pulls),
    Job("feed_prune", "推送记录清理 Prune the SSE change feed", "50 * * * *", feed_prune),
    Job("kpi_refresh", "指标预聚合刷新 Refresh the figures' pre-aggregates", "* * * * *", kpi_refresh),
):
    register(job)
