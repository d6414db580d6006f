"""Door-access rules, each a static SQL file adding its hits to the monitoring engine's ``monitor_hit``; hits
become de-identified warnings (the monitoring path: one event and warning per subject, closed when the
condition goes) and, through the cases job, cases for the building's grid.

The rules read the per-day aggregates (door_face_day, door_card_day) for the days wholly inside their windows and
the raw events only for the window's two partial days (where it starts and ``until``'s own day), so their cost is
days x distinct keys, not events, and their answer is the raw events' answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from spatial.beijing_time import beijing_date, day_start
from spatial.door_access.settings import DoorSettings, get_door_settings
from spatial.door_access.sql import read_door_sql
from spatial.door_access.store import rebuild_day_aggregates
from spatial.fusion.statements import run_statements
from spatial.monitoring.sql import read_sql

DOOR_RULES = ("unregistered_resident", "moved_out", "shared_card")


def whole_days(window: str, until: dt.datetime, days: int) -> dict[str, Any]:
    """The Beijing days wholly inside (until - days, until]: ``<window>_first_day`` up to, not including,
    ``<window>_end_day`` (until's own day), and the instants they span (``_whole_from``, ``_whole_to``); the
    window's events outside those instants are read raw."""
    first = beijing_date(until - dt.timedelta(days=days)) + dt.timedelta(days=1)
    end = beijing_date(until)
    return {
        f"{window}_first_day": first,
        f"{window}_end_day": end,
        f"{window}_whole_from": day_start(first),
        f"{window}_whole_to": day_start(end),
    }


def rule_params(until: dt.datetime | None = None) -> dict[str, Any]:
    s = get_door_settings()
    until = until or dt.datetime.now(dt.UTC)
    return {
        **whole_days("nights", until, s.nights_window_days),
        **whole_days("unseen", until, s.unseen_days),
        "until": until,
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
    ensure_night_basis(conn, get_door_settings())
    counts: dict[str, Any] = {}
    with conn.transaction():
        conn.execute("SELECT set_config('work_mem', %s, true)", (get_door_settings().work_mem,))
        run_statements(conn, read_sql("hits.sql"))
        for rule in DOOR_RULES:
            run_statements(conn, read_door_sql(f"{rule}.sql"), params)
            row = conn.execute("SELECT count(*) FROM monitor_hit WHERE rule = %s", (rule,)).fetchone()
            counts[rule] = int(row[0]) if row else 0
        counts.update(run_statements(conn, read_sql("raise.sql"), params))
        conn.execute("DISCARD TEMP")
    return counts


def ensure_night_basis(conn: psycopg.Connection, settings: DoorSettings) -> None:
    """The aggregates follow the configured night hours (door_face_day's night columns) and confidence
    (door_last_seen): other settings rebuild them first."""
    basis = (settings.night_starts, settings.night_ends, settings.min_confidence)
    row = conn.execute("SELECT night_starts, night_ends, min_confidence FROM onemap.door_night_basis").fetchone()
    if row is not None and tuple(row) == basis:
        return
    with conn.transaction():
        conn.execute(
            "INSERT INTO onemap.door_night_basis (night_starts, night_ends, min_confidence) VALUES (%s, %s, %s) "
            "ON CONFLICT (one_row) DO UPDATE SET night_starts = EXCLUDED.night_starts, "
            "night_ends = EXCLUDED.night_ends, min_confidence = EXCLUDED.min_confidence",
            basis,
        )
        rebuild_day_aggregates(conn)


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
