"""Door access: day partitions with BRIN on time, the generator's 30 days with planted anomalies found by the
rules (precision and recall), hits as de-identified warnings and cases for the grid, imports that are all or
nothing (an unknown device names itself), retention by partition."""

from __future__ import annotations

import io
import re
from typing import Any

import psycopg
import pytest

from spatial.cases import open_cases_from_warnings
from spatial.door_access.generate import DoorPlan, generate_door_access
from spatial.door_access.rules import DOOR_RULES, measure_against_planted, run_door_rules
from spatial.door_access.store import drop_expired_partitions, ensure_partitions, import_events
from spatial.errors import InvalidInput

RAW_ID_NUMBER = re.compile(r"\b\d{17}[\dX]\b")


@pytest.fixture(scope="module")
def generated(database_url: str) -> dict[str, Any]:
    from spatial.database import libpq_url

    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        report = generate_door_access(conn, seed=11, plan=DoorPlan(days=30, gate_share=0.3))
        report["rules"] = run_door_rules(conn)
        report["cases"] = open_cases_from_warnings(conn)
        report["measure"] = measure_against_planted(conn)
    return report


def test_events_are_partitioned_by_day_with_brin(generated: dict[str, Any], db: psycopg.Connection) -> None:
    assert generated["events"] > 10_000 and generated["devices"] >= 3
    parts = db.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'onemap.door_access_event'::regclass"
    ).fetchone()
    assert parts is not None and parts[0] >= 30
    brin = db.execute(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'onemap' AND tablename LIKE 'door_access_event_%%' "
        "AND indexdef LIKE '%%USING brin%%'"
    ).fetchone()
    assert brin is not None and brin[0] == parts[0]
    plan = db.execute(
        "EXPLAIN SELECT count(*) FROM onemap.door_access_event WHERE occurred_at > now() - interval '1 day'"
    ).fetchall()
    scanned = [line[0] for line in plan if "door_access_event_" in line[0]]
    assert 1 <= len(scanned) <= 3, "a day's query prunes to its partitions"


def test_planted_anomalies_found(generated: dict[str, Any]) -> None:
    for rule in DOOR_RULES:
        figures = generated["measure"][rule]
        assert figures["planted"] > 0, rule
        assert figures["precision"] >= 0.95 and figures["recall"] >= 0.95, (rule, figures)


def test_hits_become_masked_warnings_and_cases(generated: dict[str, Any], db: psycopg.Connection) -> None:
    assert generated["rules"]["raised"] >= sum(generated["measure"][r]["planted"] for r in DOOR_RULES)
    assert generated["cases"]["opened"] > 0
    rows = db.execute(
        "SELECT e.description, c.department, c.grid_code = e.grid_code, w.detail FROM onemap.warning w "
        "JOIN onemap.event e ON e.id = w.event_id JOIN onemap.service_case c ON c.source_ref = e.id::text "
        "AND c.source_kind = 'warning' WHERE w.rule = ANY(%s)",
        (list(DOOR_RULES),),
    ).fetchall()
    assert rows and all(r[2] for r in rows)
    assert {r[1] for r in rows} <= {"police", "grid"}
    shown = " ".join(r[0] + str(r[3]) for r in rows)
    assert not RAW_ID_NUMBER.search(shown), "descriptions and details carry masked keys only"


def test_rules_rerun_raise_nothing_new(generated: dict[str, Any], db: psycopg.Connection) -> None:
    again = run_door_rules(db)
    assert again["raised"] == 0 and again["still_holding"] >= 1


def _csv(*rows: str) -> io.StringIO:
    return io.StringIO(
        "device,occurred_at,direction,key_kind,person_key,confidence\n" + "\n".join(rows) + "\n"
    )


def test_import_unknown_device_writes_nothing(generated: dict[str, Any], db: psycopg.Connection) -> None:
    device = db.execute("SELECT code FROM onemap.door_device ORDER BY code LIMIT 1").fetchone()
    assert device is not None
    before = db.execute("SELECT count(*) FROM onemap.door_access_event").fetchone()
    good = f"{device[0]},2026-11-20T08:00:00+08:00,in,card,C1,1"
    with pytest.raises(InvalidInput, match="unknown device 'GATE-NOWHERE'"):
        import_events(db, _csv(good, "GATE-NOWHERE,2026-11-20T08:01:00+08:00,i,card,C2,1"))
    with pytest.raises(InvalidInput, match="confidence"):
        import_events(db, _csv(good, f"{device[0]},2026-11-20 08:02:00,i,card,C2,1.7"))
    with pytest.raises(InvalidInput, match="occurred_at"):
        import_events(db, _csv(f"{device[0]},yesterday,i,card,C2,1"))
    with pytest.raises(InvalidInput, match="occurred_at 2026-02-30"):
        import_events(db, _csv(good, f"{device[0]},2026-02-30 08:00,i,card,C2,1"))
    with pytest.raises(InvalidInput, match="direction"):
        import_events(db, _csv(f"{device[0]},2026-11-20 08:00,sideways,card,C2,1"))
    with pytest.raises(InvalidInput, match="header"):
        import_events(db, io.StringIO("who,when\nx,y\n"))
    assert db.execute("SELECT count(*) FROM onemap.door_access_event").fetchone() == before
    assert import_events(db, _csv(good, f"{device[0]},2026-11-20 09:00:00,o,id_number,X,0.9")) == {
        "imported": 2
    }
    local = db.execute(
        "SELECT occurred_at AT TIME ZONE 'Asia/Shanghai' FROM onemap.door_access_event WHERE person_key = 'X'"
    ).fetchone()
    assert local is not None and local[0].hour == 9  # times without an offset are Beijing time


def test_retention_drops_whole_days(
    generated: dict[str, Any], db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from spatial.door_access.settings import get_door_settings

    ensure_partitions(db, [date(2020, 1, 1)])
    monkeypatch.setenv("ONEMAP_DOOR_RETENTION_DAYS", "365")
    get_door_settings.cache_clear()
    try:
        dropped = drop_expired_partitions(db)
    finally:
        get_door_settings.cache_clear()
    assert dropped["partitions"] == ["door_access_event_20200101"]


def test_cli_import_refuses_unknown_device(
    platform_env: str, generated: dict[str, Any], tmp_path: Any
) -> None:
    from tests.test_cli import onemap

    bad = tmp_path / "gate.csv"
    bad.write_text(_csv("GATE-X9,2026-11-20T08:01:00+08:00,i,card,C2,1").getvalue(), encoding="utf-8")
    result = onemap("door-access", "import", str(bad), url=platform_env)
    assert result.returncode == 2 and "unknown device 'GATE-X9'" in result.stderr
    listed = onemap("door-access", "rules", "--measure", url=platform_env)
    assert listed.returncode == 0, listed.stderr
    assert '"unregistered_resident"' in listed.stdout
