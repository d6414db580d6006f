"""Cases that the platform opens and moves by itself (the scheduler's jobs): warnings and verification issues
become registered cases, routed and timed; overdue cases escalate to the street, then the district."""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg.types.json import Jsonb

from spatial.cases.machine import TIMED_STATES
from spatial.cases.rules import load_rules_sync
from spatial.cases.sql import read_case_sql
from spatial.fusion.statements import run_statements


def open_cases_from_warnings(conn: psycopg.Connection) -> dict[str, int]:
    rules = load_rules_sync(conn)
    now = dt.datetime.now(dt.UTC)
    params = {
        "routes": Jsonb(rules.routing.routes_param()),
        "dues": Jsonb(rules.dues_param("registered", now)),
    }
    with conn.transaction():
        result = run_statements(conn, read_case_sql("from_warnings.sql"), params)
    return {"opened": int(result.get("opened", 0))}


def open_cases_from_issues(conn: psycopg.Connection) -> dict[str, int]:
    rules = load_rules_sync(conn)
    due = rules.due("verification_issue", "registered", dt.datetime.now(dt.UTC))
    params = {"routes": Jsonb(rules.routing.routes_param()), "due": due}
    with conn.transaction():
        result = run_statements(conn, read_case_sql("from_issues.sql"), params)
    return {"opened": int(result.get("opened", 0))}


def escalate_overdue(conn: psycopg.Connection) -> dict[str, int]:
    rules = load_rules_sync(conn)
    params = {
        "timed": sorted(TIMED_STATES),
        "dues": Jsonb(rules.dues_param("escalated", dt.datetime.now(dt.UTC))),
    }
    with conn.transaction():
        result = run_statements(conn, read_case_sql("overdue.sql"), params)
    return {"escalated": int(result.get("escalated", 0))}
