"""Door-access rules, each a static SQL file adding its hits to the monitoring engine's ``monitor_hit``; hits
become de-identified warnings (the monitoring path: one event and warning per subject, closed when the
condition goes) and, through the cases job, cases for the building's grid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from spatial.door_access.settings import get_door_settings
from spatial.door_access.sql import read_door_sql
from spatial.fusion.statements import run_statements
from spatial.monitoring.sql import read_sql

DOOR_RULES = ("unregistered_resident", "moved_out", "shared_card")


def rule_params(until: dt.datetime | None = None) -> dict[str, Any]:
    s = get_door_settings()
    return {
        "until": until or dt.datetime.now(dt.UTC),
        "min_confidence": s.min_confidence,
        "nights": s.nights,
        "nights_days": s.nights_window_days,
        "night_starts": s.night_starts,
        "night_ends": s.night_ends,
        "unseen_days": s.unseen_days,
        "card_buildings": s.card_buildings,
        "card_minutes": s.card_window_minutes,
        "rules": list(DOOR_RULES),
    }


def run_door_rules(conn: psycopg.Connection, until: dt.datetime | None = None) -> dict[str, Any]:
    """{"raised", "still_holding", "resolved", "<rule>": hits}."""
    params = rule_params(until)
    counts: dict[str, Any] = {}
    with conn.transaction():
        run_statements(conn, read_sql("hits.sql"))
        for rule in DOOR_RULES:
            run_statements(conn, read_door_sql(f"{rule}.sql"), params)
            row = conn.execute("SELECT count(*) FROM monitor_hit WHERE rule = %s", (rule,)).fetchone()
            counts[rule] = int(row[0]) if row else 0
        counts.update(run_statements(conn, read_sql("raise.sql"), params))
        conn.execute("DISCARD TEMP")
    return counts


def measure_against_planted(conn: psycopg.Connection) -> dict[str, dict[str, float]]:
    """Precision and recall of the open door-access warnings per rule, against the generator's answer key."""
    report: dict[str, dict[str, float]] = {}
    for rule, found, planted, matched in conn.execute(
        read_door_sql("measure.sql"), {"rules": list(DOOR_RULES)}
    ):
        report[rule] = {
            "found": found,
            "planted": planted,
            "precision": round(matched / found, 4) if found else 1.0,
            "recall": round(matched / planted, 4) if planted else 1.0,
        }
    return report
