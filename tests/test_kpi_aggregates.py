"""The pre-aggregated figures: stored and live counts equal a plain count of the archives at several instants, the
store is what is read when it is fresh, an edit is counted at once (its grid live) and recounted by the refresh,
and the triggers mark the grids a change touches."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from api.main import create_app
from spatial.beijing_time import day_end
from spatial.database import engine_for, libpq_url
from spatial.kpis import FIGURES, refresh_aggregates

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
HELD_FROM = TODAY - dt.timedelta(days=40)
AGGREGATED = sorted(f.name for f in FIGURES.values() if f.spans is not None)

CASE_VERSIONS = """
    SELECT state, department, due_at, overdue FROM onemap.service_case WHERE valid_from <= %(at)s
    UNION ALL
    SELECT state, department, due_at, overdue FROM onemap.service_case_history
    WHERE valid_from <= %(at)s AND valid_to > %(at)s"""

# Each aggregated figure counted the plain way, over the whole district, at %(at)s (its Beijing day: %(day)s).
ORACLES = {
    "population": """
        SELECT k.key, count(*) FILTER (WHERE k.key = 'actual' OR p.household_type = 'local')
        FROM onemap.residence AS r JOIN onemap.building AS b ON b.id = r.building_id
        JOIN onemap.person AS p ON p.id = r.person_id
        CROSS JOIN (VALUES ('actual'), ('registered')) AS k(key)
        WHERE r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to > %(day)s) GROUP BY 1""",
    "files": """
        SELECT 'building', (SELECT count(*) FROM onemap.building WHERE valid_from <= %(at)s)
             + (SELECT count(*) FROM onemap.building_history WHERE valid_from <= %(at)s AND valid_to > %(at)s)
        UNION ALL
        SELECT 'enterprise', count(*) FROM onemap.building AS b JOIN (
            SELECT building_id FROM onemap.enterprise WHERE valid_from <= %(at)s AND status <> 'deregistered'
            UNION ALL
            SELECT building_id FROM onemap.enterprise_history
            WHERE valid_from <= %(at)s AND valid_to > %(at)s AND status <> 'deregistered') AS e
            ON e.building_id = b.id
        UNION ALL
        SELECT 'house_unit', count(*) FROM onemap.house_unit AS u JOIN onemap.building AS b ON b.id = u.building_id
        WHERE u.valid_from <= %(at)s""",
    "enterprises_by_status": """
        SELECT e.status, count(*) FROM onemap.building AS b JOIN (
            SELECT building_id, status FROM onemap.enterprise WHERE valid_from <= %(at)s
            UNION ALL
            SELECT building_id, status FROM onemap.enterprise_history WHERE valid_from <= %(at)s AND valid_to > %(at)s
        ) AS e ON e.building_id = b.id GROUP BY 1""",
    "buildings_by_use": """
        SELECT use, count(*) FROM (
            SELECT use FROM onemap.building WHERE valid_from <= %(at)s
            UNION ALL
            SELECT use FROM onemap.building_history WHERE valid_from <= %(at)s AND valid_to > %(at)s) AS b
        GROUP BY 1""",
    "economic_potential": """
        SELECT k.key, sum(k.value) FROM onemap.economic_potential AS p
        CROSS JOIN LATERAL (VALUES ('business_m2', p.business_m2), ('potential_m2', p.potential_m2),
                                   ('buildings', (p.potential_m2 > 0)::int::float8)) AS k(key, value)
        GROUP BY 1""",
    "housing": """
        WITH units AS (
            SELECT u.use,
                   EXISTS (SELECT 1 FROM onemap.residence AS r WHERE r.house_unit_id = u.id
                           AND r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to > %(day)s)) AS occupied,
                   EXISTS (SELECT 1 FROM onemap.enterprise AS e WHERE e.house_unit_id = u.id
                           AND e.status = 'active') AS business
            FROM onemap.house_unit AS u JOIN onemap.building AS b ON b.id = u.building_id
            WHERE u.valid_from <= %(at)s)
        SELECT k.key, k.value FROM (SELECT count(*) AS units, count(*) FILTER (WHERE use = 'residential') AS res,
                                           count(*) FILTER (WHERE occupied) AS occ,
                                           count(*) FILTER (WHERE NOT occupied AND NOT business) AS vac FROM units) AS c
        CROSS JOIN LATERAL (VALUES ('units', c.units), ('residential', c.res), ('occupied', c.occ),
                                   ('vacant', c.vac)) AS k(key, value)""",
    "cases": f"""
        SELECT department, count(*) FROM ({CASE_VERSIONS}) AS c WHERE state <> 'closed' GROUP BY 1
        UNION ALL
        SELECT 'overdue', count(*) FROM ({CASE_VERSIONS}) AS c
        WHERE state <> 'closed' AND (overdue OR due_at < least(%(at)s, now()))""",
    "cases_by_department": f"""
        SELECT department, count(*) FROM ({CASE_VERSIONS}) AS c WHERE state <> 'closed' GROUP BY 1""",
}


@pytest.fixture(scope="module")
def key(platform_env: str) -> str:
    with engine_for(platform_env).begin() as conn:
        return create_key(conn, "aggregate admin", "admin").key


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def refresh(database_url: str, first: dt.date | None = None) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        refresh_aggregates(conn, first)


def figures(client: TestClient, key: str, **params: Any) -> dict[str, Any]:
    response = client.get("/kpis", params={"names": ",".join(AGGREGATED), **params}, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return dict(response.json()["figures"])


def rounded(by_area: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {area: {k: round(v, 3) for k, v in values.items()} for area, values in by_area.items()}


def totals(body: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {name: {k: round(v, 3) for k, v in body[name]["total"].items()} for name in AGGREGATED}


def counted(db: psycopg.Connection, at: dt.datetime) -> dict[str, dict[str, float]]:
    day = at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    out: dict[str, dict[str, float]] = {}
    for name in AGGREGATED:
        values = {key: 0.0 for key in FIGURES[name].keys}
        values.update({k: float(v) for k, v in db.execute(ORACLES[name], {"at": at, "day": day}).fetchall() if v})
        if FIGURES[name].derive is not None:
            values = FIGURES[name].derive(values)  # type: ignore[misc]
        out[name] = {k: round(v, 3) for k, v in values.items()}
    return out


def mark_everything_stale(db: psycopg.Connection) -> None:
    for topic in ("archives", "cases"):
        db.execute(
            "SELECT onemap.kpi_mark_grids(%s, ARRAY(SELECT code FROM onemap.admin_area WHERE level = 'grid'))",
            (topic,),
        )


def marked(db: psycopg.Connection, topic: str = "archives") -> set[str]:
    rows = db.execute("SELECT grid_code FROM onemap.kpi_dirty_grid WHERE topic = %s", (topic,)).fetchall()
    return {r[0] for r in rows}


@pytest.fixture(scope="module")
def cases(db_module: psycopg.Connection) -> list[int]:
    """Cases in three states across two grids: open and due tomorrow, open and past its limit, closed."""
    made: list[int] = []
    for state, due, department in (
        ("dispatched", "1 day", "water"),
        ("in_progress", "-2 days", "urban_management"),
        ("registered", "3 days", "water"),
    ):
        row = db_module.execute(
            "INSERT INTO onemap.service_case (category, state, source_kind, description, grid_code, department, "
            "reporter, due_at, geom) SELECT 'sanitation', %s, 'report', 'aggregate test', g.code, %s, 'test', "
            "now() + %s::interval, ST_PointOnSurface(g.geom) FROM onemap.admin_area g WHERE g.level = 'grid' "
            "ORDER BY g.code LIMIT 1 OFFSET %s RETURNING id",
            (state, department, due, len(made) % 2),
        ).fetchone()
        assert row is not None
        made.append(int(row[0]))
    db_module.execute("UPDATE onemap.service_case SET state = 'closed' WHERE id = %s", (made[2],))
    return made


@pytest.fixture(scope="module")
def db_module(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        yield conn


def test_every_aggregated_figure_has_a_plain_count() -> None:
    assert set(ORACLES) == set(AGGREGATED) and len(AGGREGATED) >= 6


def test_stored_and_live_equal_a_plain_count(
    client: TestClient, key: str, database_url: str, db: psycopg.Connection, cases: list[int]
) -> None:
    refresh(database_url, HELD_FROM)
    assert marked(db) == set() and marked(db, "cases") == set()
    instants = {
        "now": dt.datetime.now(dt.UTC),
        TODAY.isoformat(): day_end(TODAY),
        (TODAY - dt.timedelta(days=30)).isoformat(): day_end(TODAY - dt.timedelta(days=30)),
        # between two stored days, and before the days held: counted live
        "2025-06-01T12:00:00+08:00": dt.datetime(2025, 6, 1, 4, tzinfo=dt.UTC),
        (HELD_FROM - dt.timedelta(days=20)).isoformat(): day_end(HELD_FROM - dt.timedelta(days=20)),
    }
    stored = {label: figures(client, key, **({} if label == "now" else {"as_of": label})) for label in instants}
    for label, at in instants.items():
        assert totals(stored[label]) == counted(db, at), label
    mark_everything_stale(db)
    for label in instants:
        live = figures(client, key, **({} if label == "now" else {"as_of": label}))
        assert totals(live) == totals(stored[label]), label
        for name in AGGREGATED:  # per child area too
            assert rounded(live[name]["by_area"]) == rounded(stored[label][name]["by_area"]), (label, name)
    refresh(database_url)
    assert marked(db) == set()


def test_a_fresh_store_is_what_is_read(
    client: TestClient, key: str, database_url: str, db: psycopg.Connection
) -> None:
    refresh(database_url)
    # tomorrow is held already: at midnight the figures keep reading the store while the next day is added
    assert db.execute("SELECT min(last_day) FROM onemap.kpi_aggregate").fetchone() == (TODAY + dt.timedelta(days=1),)
    grid = db.execute("SELECT min(grid_code) FROM onemap.kpi_daily WHERE figure = 'files'").fetchone()
    assert grid is not None and grid[0] is not None
    before = figures(client, key)["files"]["total"]["building"]
    db.execute(
        "UPDATE onemap.kpi_daily SET value = value + 1000 WHERE figure = 'files' AND key = 'building' "
        "AND grid_code = %s AND day = %s",
        (grid[0], TODAY),
    )
    assert figures(client, key)["files"]["total"]["building"] == before + 1000
    db.execute("SELECT onemap.kpi_mark_grids('archives', ARRAY[%s])", (grid[0],))  # a stale grid counts live
    assert figures(client, key)["files"]["total"]["building"] == before
    refresh(database_url)  # and recounted
    assert figures(client, key)["files"]["total"]["building"] == before and marked(db) == set()


def test_an_edit_is_counted_at_once_and_recounted_by_the_refresh(
    client: TestClient, key: str, database_url: str, db: psycopg.Connection
) -> None:
    refresh(database_url, HELD_FROM)
    before = figures(client, key)
    row = db.execute(
        "SELECT u.id, u.building_id, b.grid_code FROM onemap.house_unit u JOIN onemap.building b "
        "ON b.id = u.building_id WHERE NOT EXISTS (SELECT 1 FROM onemap.residence r WHERE r.house_unit_id = u.id) "
        "AND u.valid_from < now() - interval '1 year' ORDER BY u.id LIMIT 1"
    ).fetchone()
    assert row is not None
    unit, building, grid = row
    # a move-in five days ago into an empty unit
    db.execute(
        "INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from) "
        "SELECT max(id), %s, %s, 'tenant', %s FROM onemap.person",
        (unit, building, TODAY - dt.timedelta(days=5)),
    )
    assert marked(db) == {grid}
    after = figures(client, key)
    assert after["population"]["total"]["actual"] == before["population"]["total"]["actual"] + 1
    assert after["housing"]["total"]["occupied"] == before["housing"]["total"]["occupied"] + 1
    week = {"from": (TODAY - dt.timedelta(days=6)).isoformat()}
    series = client.get("/kpis/housing/series", params=week, headers={"X-API-Key": key}).json()["points"]
    refresh(database_url)
    assert marked(db) == set()
    again = client.get("/kpis/housing/series", params=week, headers={"X-API-Key": key}).json()["points"]
    assert again == series
    days = [TODAY - dt.timedelta(days=6 - i) for i in range(7)]
    assert [p["values"]["occupied"] for p in again] == [counted(db, day_end(d))["housing"]["occupied"] for d in days]
    assert totals(figures(client, key)) == counted(db, dt.datetime.now(dt.UTC))


def test_the_triggers_mark_the_grids_a_change_touches(
    database_url: str, db: psycopg.Connection, cases: list[int]
) -> None:
    refresh(database_url)
    person = db.execute(
        "SELECT r.person_id, b.grid_code FROM onemap.residence r JOIN onemap.building b ON b.id = r.building_id "
        "WHERE r.valid_to IS NULL ORDER BY r.person_id LIMIT 1"
    ).fetchone()
    assert person is not None
    db.execute("UPDATE onemap.person SET phone = phone WHERE id = %s", (person[0],))
    assert marked(db) == set()  # not what the figures count
    db.execute(
        "UPDATE onemap.person SET household_type = CASE household_type WHEN 'local' THEN 'migrant' "
        "ELSE 'local' END WHERE id = %s",
        (person[0],),
    )
    assert person[1] in marked(db)
    refresh(database_url)
    moved = db.execute(
        "SELECT b.id, b.grid_code, g.code FROM onemap.building b JOIN onemap.admin_area g "
        "ON g.level = 'grid' AND g.parent_code = b.community_code AND g.code <> b.grid_code ORDER BY b.id LIMIT 1"
    ).fetchone()
    assert moved is not None
    db.execute("UPDATE onemap.building SET grid_code = %s WHERE id = %s", (moved[2], moved[0]))
    assert {moved[1], moved[2]} <= marked(db)
    db.execute("UPDATE onemap.building SET grid_code = %s WHERE id = %s", (moved[1], moved[0]))
    refresh(database_url)
    db.execute(
        "UPDATE onemap.enterprise SET status = 'suspended' WHERE id = (SELECT min(id) FROM onemap.enterprise "
        "WHERE status = 'active')"
    )
    assert len(marked(db)) == 1
    refresh(database_url)
    assert marked(db) == set()
    db.execute("UPDATE onemap.service_case SET state = 'accepted' WHERE id = %s", (cases[0],))
    assert marked(db) == set() and len(marked(db, "cases")) == 1  # a case recounts the case figures only
    refresh(database_url)
    assert marked(db, "cases") == set()


def test_a_mark_made_during_a_refresh_outlives_it(database_url: str, db: psycopg.Connection) -> None:
    """The refresh clears the marks it read: a grid marked again while it runs (a new mark number) stays marked."""
    grid = db.execute("SELECT min(code) FROM onemap.admin_area WHERE level = 'grid'").fetchone()
    assert grid is not None
    refresh(database_url)
    db.execute("SELECT onemap.kpi_mark_grids('archives', ARRAY[%s])", (grid[0],))
    with psycopg.connect(libpq_url(database_url)) as holder:
        # hold the first figure's row: the refresh reads the marks, then waits here
        holder.execute("SELECT 1 FROM onemap.kpi_aggregate WHERE name = %s FOR UPDATE", (AGGREGATED[0],))
        running = threading.Thread(target=refresh, args=(database_url,))
        running.start()
        for _ in range(200):
            waiting = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if waiting is not None and waiting[0] > 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the refresh never waited for the held row")
        db.execute("SELECT onemap.kpi_mark_grids('archives', ARRAY[%s])", (grid[0],))  # a change commits meanwhile
        holder.rollback()
        running.join(timeout=60)
    assert not running.is_alive()
    assert marked(db) == {grid[0]}
    refresh(database_url)
    assert marked(db) == set()
