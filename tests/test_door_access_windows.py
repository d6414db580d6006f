"""Door-access rules read per-day aggregates for the days wholly inside their windows and raw events for the
partial ones: their hits are the raw-event definitions' hits (tests/data/door_rules_raw.sql) at any instant,
wherever the day boundaries fall; a delivery and a change of the night hours keep the aggregates exact; retention
drops the aggregates' days with the events'."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from spatial.beijing_time import beijing_date, day_start
from spatial.database import libpq_url
from spatial.door_access.generate import DoorPlan, generate_door_access
from spatial.door_access.rules import DOOR_RULES, ensure_night_basis, rule_params
from spatial.door_access.settings import get_door_settings
from spatial.door_access.sql import read_door_sql
from spatial.door_access.store import drop_expired_partitions, ensure_partitions, import_events
from spatial.fusion.statements import run_statements
from spatial.monitoring.sql import read_sql

REFERENCE = (Path(__file__).parent / "data" / "door_rules_raw.sql").read_text(encoding="utf-8")
END = dt.datetime(2026, 11, 28, 5, 47, 13, tzinfo=dt.UTC)
Hits = set[tuple[object, ...]]


@pytest.fixture(scope="module")
def door(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        generate_door_access(conn, seed=23, plan=DoorPlan(days=30, gate_share=0.3), end=END)
        yield conn


def _hits(conn: psycopg.Connection, until: dt.datetime) -> tuple[Hits, Hits]:
    """(the rules' hits, the raw definitions' hits) at `until`, nothing kept."""
    params = rule_params(until)
    ensure_night_basis(conn, get_door_settings())
    with conn.transaction(force_rollback=True):
        run_statements(conn, read_sql("hits.sql"))
        conn.execute("CREATE TEMP TABLE reference_hit (LIKE monitor_hit) ON COMMIT DROP")
        for rule in DOOR_RULES:
            run_statements(conn, read_door_sql(f"{rule}.sql"), params)
        run_statements(conn, REFERENCE, params)
        found = [
            set(
                conn.execute(
                    f"SELECT rule, subject_key, building_id, severity, description, detail::text FROM {table}"
                ).fetchall()
            )
            for table in ("monitor_hit", "reference_hit")
        ]
    return found[0], found[1]


def _rules_of(hits: Hits) -> set[object]:
    return {h[0] for h in hits}


def test_hits_equal_the_raw_definitions_wherever_the_windows_cut_days(door: psycopg.Connection) -> None:
    midnight = day_start(beijing_date(END) - dt.timedelta(days=2))
    instants = [
        END,
        END - dt.timedelta(days=1, hours=13, minutes=29),
        midnight,  # the windows start and end exactly on day boundaries
        midnight + dt.timedelta(seconds=1),
        midnight - dt.timedelta(seconds=1),
        END - dt.timedelta(days=6, hours=3),
    ]
    for until in instants:
        found, reference = _hits(door, until)
        assert found == reference, until
    found, _ = _hits(door, END)
    assert _rules_of(found) == set(DOOR_RULES), "every rule has hits to compare"


def _csv(*rows: str) -> io.StringIO:
    return io.StringIO("device,occurred_at,direction,key_kind,person_key,confidence\n" + "\n".join(rows) + "\n")


def test_a_delivery_updates_the_aggregates(door: psycopg.Connection) -> None:
    device, building = door.execute(
        "SELECT d.code, b.code FROM onemap.door_device d JOIN onemap.building b ON b.id = d.building_id "
        "ORDER BY d.code LIMIT 1"
    ).fetchone() or ("", "")
    stranger = "Z00000000000000099"
    local = dt.timezone(dt.timedelta(hours=8))
    nights = [(END.astimezone(local) - dt.timedelta(days=d)).replace(hour=23, minute=10) for d in (2, 4)]
    # Two nights: not yet a hit. A third in a later delivery, early in the morning after the first, so it is the
    # night before (the one between them): a hit.
    import_events(door, _csv(*(f"{device},{n.isoformat()},i,id_number,{stranger},0.93" for n in nights)))
    found, reference = _hits(door, END)
    assert found == reference and ("unregistered_resident", f"{building}:{stranger}") not in {h[:2] for h in found}
    dawn = (END.astimezone(local) - dt.timedelta(days=2)).replace(hour=2, minute=30)
    import_events(door, _csv(f"{device},{dawn.isoformat()},i,id_number,{stranger},0.91"))
    found, reference = _hits(door, END)
    assert found == reference and ("unregistered_resident", f"{building}:{stranger}") in {h[:2] for h in found}

    # A resident the rule took for moved out is matched at the gate a week ago: no longer a hit.
    gone = sorted(str(h[1]) for h in found if h[0] == "moved_out")[0]
    code, person = gone.split(":")
    gate = door.execute(
        "SELECT d.code FROM onemap.door_device d JOIN onemap.building b ON b.id = d.building_id WHERE b.code = %s",
        (code,),
    ).fetchone()
    assert gate is not None
    seen = (END - dt.timedelta(days=7)).isoformat()
    import_events(door, _csv(f"{gate[0]},{seen},o,id_number,{person},0.97"))
    found, reference = _hits(door, END)
    assert found == reference and ("moved_out", gone) not in {h[:2] for h in found}


def test_other_night_hours_rebuild_the_aggregates(
    door: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEMAP_DOOR_NIGHT_STARTS", "21")
    monkeypatch.setenv("ONEMAP_DOOR_NIGHT_ENDS", "7")
    get_door_settings.cache_clear()
    try:
        found, reference = _hits(door, END)
        assert found == reference
        assert door.execute("SELECT night_starts, night_ends FROM onemap.door_night_basis").fetchone() == (21, 7)
    finally:
        monkeypatch.undo()
        get_door_settings.cache_clear()
        ensure_night_basis(door, get_door_settings())
    assert door.execute("SELECT night_starts, night_ends FROM onemap.door_night_basis").fetchone() == (22, 6)


def test_retention_drops_the_aggregates_days(door: psycopg.Connection) -> None:
    ensure_partitions(door, [dt.date(2020, 1, 2)])
    assert door.execute("SELECT to_regclass('onemap.door_face_day_20200102')").fetchone() != (None,)
    assert "door_access_event_20200102" in drop_expired_partitions(door)["partitions"]
    for table in ("door_access_event", "door_face_day", "door_card_day"):
        assert door.execute(f"SELECT to_regclass('onemap.{table}_20200102')").fetchone() == (None,)
