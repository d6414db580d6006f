"""Run the monitoring rules: hits become events (severity, building, grid) and warnings, in one go."""

from __future__ import annotations

import psycopg

from spatial.fusion.statements import run_statements
from spatial.monitoring.rules import MIN_AREA_PER_PERSON_M2, MIN_VACANT_SPACE_M2, RULE_NAMES
from spatial.monitoring.sql import read_sql


def run_monitoring(conn: psycopg.Connection, rules: tuple[str, ...] = RULE_NAMES) -> dict[str, int]:
    """{"raised": new warnings, "still_holding": ..., "resolved": ..., "<rule>": hits}."""
    params = {"min_area": MIN_AREA_PER_PERSON_M2, "min_space": MIN_VACANT_SPACE_M2, "rules": list(rules)}
    counts: dict[str, int] = {}
    with conn.transaction():
        run_statements(conn, read_sql("hits.sql"))
        for rule in rules:
            run_statements(conn, read_sql(f"{rule}.sql"), params)
            row = conn.execute("SELECT count(*) FROM monitor_hit WHERE rule = %s", (rule,)).fetchone()
            counts[rule] = int(row[0]) if row else 0
        counts.update(run_statements(conn, read_sql("raise.sql"), params))
        conn.execute("DISCARD TEMP")  # in case the caller's transaction goes on
    return counts
