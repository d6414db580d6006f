"""Door-access events in and out: a delivery (CSV: device, occurred_at, direction, key_kind, person_key,
confidence) is staged with COPY, checked as a whole (an unknown device or a bad value rejects it, naming the
first rows, and nothing is written), then inserted into its day partitions, and the per-day aggregates of the
delivery are merged into those of its days. Devices come from a CSV too. Retention drops whole
day partitions, the aggregates' with the events'."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from spatial.beijing_time import day_start
from spatial.door_access.settings import get_door_settings
from spatial.door_access.sql import read_door_sql
from spatial.errors import InvalidInput
from spatial.fusion.statements import run_statements

EVENT_COLUMNS = ("device", "occurred_at", "direction", "key_kind", "person_key", "confidence")
DEVICE_COLUMNS = ("code", "building", "name")
COPY_BLOCK = 1 << 20


def ensure_partitions(conn: psycopg.Connection, days: Iterable[Any]) -> None:
    for day in days:
        conn.execute("SELECT onemap.door_access_partition(%s)", (day,))


def _merge(
    conn: psycopg.Connection, events: str, first: dt.date, last: dt.date, extra: dict[str, Any], last_seen: bool
) -> None:
    conn.execute("SELECT set_config('work_mem', %s, true)", (get_door_settings().work_mem,))
    relation = read_door_sql(events).strip()
    params = {"first_day": first, "last_day": last, **extra}
    run_statements(conn, read_door_sql("merge_days.sql").replace("{events}", relation), params)
    if last_seen:
        run_statements(conn, read_door_sql("last_seen_merge.sql").replace("{events}", relation), params)


def aggregate_written(conn: psycopg.Connection, first: dt.date, last: dt.date) -> None:
    """Merge the events of the days `first` to `last` into the per-day aggregates (door_face_day, door_card_day);
    for days written in one go (the generator, a rebuild), which end with rebuild_last_seen."""
    window = {"from": day_start(first), "to": day_start(last + dt.timedelta(days=1))}
    _merge(conn, "events_between.sql", first, last, window, last_seen=False)


def rebuild_last_seen(conn: psycopg.Connection) -> None:
    """door_last_seen from every event, in one pass: after the generator or a rebuild has written whole days,
    where the merge per day would upsert each of 2.7M keys once a day."""
    with conn.transaction():  # the rules never see it emptied
        conn.execute("TRUNCATE onemap.door_last_seen")
        merge = read_door_sql("last_seen_merge.sql").replace("{events}", "onemap.door_access_event")
        run_statements(conn, merge)
        conn.execute("ANALYZE onemap.door_last_seen")


def rebuild_day_aggregates(conn: psycopg.Connection) -> dict[str, int]:
    """Every day's aggregates from its events, one day at a time (after a change of the night hours or of the
    confidence the rules count, and when the aggregates are first created): {"days": rebuilt}."""
    days = [r[0] for r in conn.execute(read_door_sql("event_days.sql")).fetchall()]
    with conn.transaction():
        for day in days:
            ensure_partitions(conn, [day])
            conn.execute("DELETE FROM onemap.door_face_day WHERE day = %s", (day,))
            conn.execute("DELETE FROM onemap.door_card_day WHERE day = %s", (day,))
            aggregate_written(conn, day, day)
        rebuild_last_seen(conn)
    return {"days": len(days)}


def _header(first_line: str, expected: tuple[str, ...], what: str) -> None:
    found = tuple(h.strip() for h in next(csv.reader([first_line])))
    missing = [c for c in expected if c not in found]
    if found[: len(expected)] != expected[: len(found)] or missing:
        raise InvalidInput(
            f"{what}: the header must be {','.join(expected)} (found {','.join(found) or 'nothing'})"
        )


def import_events(conn: psycopg.Connection, source: Path | io.TextIOBase) -> dict[str, int]:
    """All or nothing: {"imported": rows}."""
    stream = source.open(encoding="utf-8-sig", newline="") if isinstance(source, Path) else source
    with conn.transaction():
        conn.execute(read_door_sql("stage.sql"))
        _header(stream.readline(), EVENT_COLUMNS, "door-access events")
        columns = ", ".join(EVENT_COLUMNS)
        with conn.cursor().copy(f"COPY door_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
            while block := stream.read(COPY_BLOCK):
                copy.write(block)
        conn.execute(read_door_sql("parse.sql"))
        problems = conn.execute(read_door_sql("check_stage.sql")).fetchall()
        if problems:
            raise InvalidInput(
                "door-access events refused, nothing written: "
                + "; ".join(
                    f"{kind} {value!r} ({rows} rows, first row {first})"
                    for kind, value, rows, first in problems
                )
                + ". Register the devices first (onemap door-access devices FILE) or fix the rows."
            )
        days = [r[0] for r in conn.execute(read_door_sql("stage_days.sql")).fetchall()]
        ensure_partitions(conn, days)
        row = conn.execute(read_door_sql("insert_stage.sql")).fetchone()
        if days:
            _merge(conn, "delivered_events.sql", days[0], days[-1], {}, last_seen=True)
    return {"imported": int(row[0]) if row else 0}


def import_devices(conn: psycopg.Connection, path: Path) -> dict[str, int]:
    """Devices (code, building, name) by building code; an unknown building rejects the file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or set(DEVICE_COLUMNS[:2]) - set(rows[0]):
        raise InvalidInput(f"devices: the header must be {','.join(DEVICE_COLUMNS)}")
    with conn.transaction():
        known = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT code, id FROM onemap.building WHERE code = ANY(%s)", ([r["building"] for r in rows],)
            ).fetchall()
        }
        unknown = sorted({r["building"] for r in rows} - set(known))
        if unknown:
            raise InvalidInput(f"devices: unknown buildings {', '.join(unknown[:5])}; nothing written")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO onemap.door_device (code, building_id, name) VALUES (%s, %s, %s) "
                "ON CONFLICT (code) DO UPDATE SET building_id = EXCLUDED.building_id, name = EXCLUDED.name",
                [(r["code"], known[r["building"]], r.get("name")) for r in rows],
            )
    return {"devices": len(rows)}


def drop_expired_partitions(conn: psycopg.Connection) -> dict[str, Any]:
    days = get_door_settings().retention_days
    with conn.transaction():
        names = [r[0] for r in conn.execute(read_door_sql("expired.sql"), {"days": days}).fetchall()]
        for name in names:
            # A name read from the catalogue and matched to door_access_event_YYYYMMDD, quoted as an identifier;
            # the aggregates' partitions of that day go with it.
            suffix = name.removeprefix("door_access_event_")
            for table in (name, f"door_face_day_{suffix}", f"door_card_day_{suffix}"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS onemap.{}").format(sql.Identifier(table)))
    return {"dropped": len(names), "partitions": names}
