"""/kpis and /kpis/{name}/series: figures computed in SQL for a scope and an instant, per child area, as time
series; scoped roles see their own area only (the pre-aggregates: tests/test_kpi_aggregates.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from api.main import create_app
from spatial.database import engine_for, libpq_url
from spatial.kpis import FIGURES

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture(scope="module")
def areas(database_url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        streets = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM onemap.admin_area WHERE level = 'street' ORDER BY code"
            ).fetchall()
        ]
        communities = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM onemap.admin_area WHERE level = 'community' AND parent_code = %s ORDER BY code",
                (streets[0],),
            ).fetchall()
        ]
        other = conn.execute(
            "SELECT code FROM onemap.admin_area WHERE level = 'community' AND parent_code = %s ORDER BY code",
            (streets[1],),
        ).fetchone()
        top = conn.execute("SELECT code FROM onemap.admin_area WHERE level = 'district'").fetchone()
        grid = conn.execute(
            "SELECT code FROM onemap.admin_area WHERE parent_code = %s ORDER BY code LIMIT 1",
            (communities[0],),
        ).fetchone()
    assert other is not None and grid is not None and top is not None
    return {
        "district": top[0],
        "street": streets[0],
        "community": communities[0],
        "other_community": other[0],
        "grid": grid[0],
    }


@pytest.fixture(scope="module")
def keys(platform_env: str, areas: dict[str, str]) -> dict[str, str]:
    with engine_for(platform_env).begin() as conn:
        return {
            "admin": create_key(conn, "kpi admin", "admin").key,
            "planner": create_key(conn, "kpi planner", "planner").key,
            "community": create_key(
                conn, "kpi community", "community_operator", area_code=areas["community"]
            ).key,
            "street": create_key(conn, "kpi street", "street_operator", area_code=areas["street"]).key,
            "grid": create_key(conn, "kpi grid", "grid_worker", grid_code=areas["grid"]).key,
            "water": create_key(conn, "kpi water", "department_editor", department="water").key,
        }


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def get(client: TestClient, key: str | None, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"X-API-Key": key} if key else {})
    return response


def live_population(db: psycopg.Connection, day: dt.date, where: str = "TRUE", *args: Any) -> int:
    row = db.execute(
        "SELECT count(*) FROM onemap.residence r JOIN onemap.building b ON b.id = r.building_id "
        f"WHERE r.valid_from <= %s AND (r.valid_to IS NULL OR r.valid_to > %s) AND {where}",
        (day, day, *args),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_district_figures_match_sql(client: TestClient, keys: dict[str, str], db: psycopg.Connection) -> None:
    body = get(client, keys["admin"], "/kpis", as_of=TODAY.isoformat()).json()
    assert body["scope"]["level"] == "district" and body["scope"]["child_level"] == "street"
    assert set(body["figures"]) == set(FIGURES) and body["withheld"] == []
    population = body["figures"]["population"]
    assert population["total"]["actual"] == live_population(db, TODAY)
    assert 0 < population["total"]["registered"] < population["total"]["actual"]
    streets = {
        r[0] for r in db.execute("SELECT code FROM onemap.admin_area WHERE level = 'street'").fetchall()
    }
    assert set(population["by_area"]) == streets
    assert sum(a["actual"] for a in population["by_area"].values()) == population["total"]["actual"]
    buildings = db.execute("SELECT count(*) FROM onemap.building").fetchone()
    assert buildings is not None
    assert body["figures"]["files"]["total"]["building"] == buildings[0]
    assert sum(body["figures"]["buildings_by_use"]["total"].values()) == buildings[0]
    housing = body["figures"]["housing"]["total"]
    assert 0 < housing["occupancy_rate"] <= 1 and housing["occupied"] + housing["vacant"] <= housing["units"]


def test_drill_down_changes_figures(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    district = get(client, keys["planner"], "/kpis", names="population,files").json()
    street = get(client, keys["planner"], "/kpis", code=areas["street"], names="population,files").json()
    assert street["scope"]["level"] == "street" and street["scope"]["child_level"] == "community"
    assert street["figures"]["population"]["total"]["actual"] == live_population(
        db, TODAY, "b.street_code = %s", areas["street"]
    )
    assert street["figures"]["population"]["total"] != district["figures"]["population"]["total"]
    assert street["scope"]["parent"]["code"] == district["scope"]["code"]
    assert get(client, keys["planner"], "/kpis", code=areas["street"], level="grid").status_code == 400


def test_community_operator_sees_only_its_community(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    own = get(client, keys["community"], "/kpis").json()
    assert own["scope"]["code"] == areas["community"]
    grids = {
        r[0]
        for r in db.execute(
            "SELECT code FROM onemap.admin_area WHERE parent_code = %s", (areas["community"],)
        ).fetchall()
    }
    assert set(own["figures"]["population"]["by_area"]) == grids
    assert own["figures"]["population"]["total"]["actual"] == live_population(
        db, TODAY, "b.community_code = %s", areas["community"]
    )
    for code in (areas["other_community"], areas["district"]):
        response = get(client, keys["community"], "/kpis", code=code)
        assert response.status_code == 403, response.text
        assert (
            get(
                client, keys["community"], "/kpis/population/series", code=code, **{"from": "2025-01-01"}
            ).status_code
            == 403
        )
    # a grid of its own community is fine; the street operator sees its street and its communities
    assert get(client, keys["community"], "/kpis", code=areas["grid"]).status_code == 200
    assert get(client, keys["street"], "/kpis", code=areas["community"]).status_code == 200
    assert get(client, keys["street"], "/kpis").json()["scope"]["code"] == areas["street"]
    assert get(client, keys["street"], "/kpis", code=areas["other_community"]).status_code == 403
    assert get(client, keys["grid"], "/kpis").json()["scope"]["code"] == areas["grid"]


def test_figures_follow_layer_rights(client: TestClient, keys: dict[str, str]) -> None:
    assert get(client, None, "/kpis").status_code == 403  # the public role has no figures
    water = get(client, keys["water"], "/kpis").json()
    assert "warnings_by_rule" in water["withheld"] and "warnings_by_rule" not in water["figures"]
    assert (
        get(client, keys["water"], "/kpis/warnings_by_rule/series", **{"from": "2025-01-01"}).status_code
        == 403
    )
    assert get(client, keys["admin"], "/kpis/nonsense/series", **{"from": "2025-01-01"}).status_code == 404
    assert get(client, keys["admin"], "/kpis", as_of="yesterday").status_code == 400


def test_series_by_day_week_month(client: TestClient, keys: dict[str, str], db: psycopg.Connection) -> None:
    start = TODAY - dt.timedelta(days=9)
    days = get(client, keys["admin"], "/kpis/population/series", **{"from": start.isoformat()}).json()
    assert len(days["points"]) == 10
    assert days["points"][-1]["values"]["actual"] == live_population(db, TODAY)
    assert days["points"][0]["values"]["actual"] == live_population(db, start)
    weeks = get(
        client,
        keys["admin"],
        "/kpis/events_by_kind/series",
        step="week",
        **{"from": "2024-01-01", "to": "2024-12-31"},
    ).json()
    months = get(
        client,
        keys["admin"],
        "/kpis/events_by_kind/series",
        step="month",
        **{"from": "2024-01-01", "to": "2024-12-31"},
    ).json()
    assert len(months["points"]) == 12 and len(weeks["points"]) == 53
    year = db.execute(
        "SELECT count(*) FROM onemap.event WHERE occurred_at >= '2024-01-01 00:00+08' "
        "AND occurred_at < '2025-01-01 00:00+08'"
    ).fetchone()
    assert year is not None
    for points in (weeks["points"], months["points"]):  # buckets neither overlap nor leave gaps
        assert sum(sum(p["values"].values()) for p in points) == year[0]
    bad = get(client, keys["admin"], "/kpis/population/series", step="day", **{"from": "1990-01-01"})
    assert bad.status_code == 400 and "at most" in bad.json()["detail"]


def test_cli_operator_keys_and_refresh(database_url: str, areas: dict[str, str]) -> None:
    from tests.test_cli import onemap

    made = onemap(
        "keys",
        "create",
        "--label",
        "cli community",
        "--role",
        "community_operator",
        "--area",
        areas["community"],
        url=database_url,
    )
    assert made.returncode == 0 and "community_operator" in made.stdout, made.stderr
    missing = onemap("keys", "create", "--label", "x", "--role", "street_operator", url=database_url)
    assert missing.returncode != 0 and "--area" in missing.stderr
    listed = onemap("keys", "list", url=database_url)
    assert areas["community"] in listed.stdout
    refreshed = onemap("kpis", "refresh", url=database_url)
    assert refreshed.returncode == 0 and "population: " in refreshed.stdout, refreshed.stderr
    assert "grids recounted" in refreshed.stdout


def _case(db: psycopg.Connection, grid: str, state: str, department: str, due: str, label: str) -> int:
    row = db.execute(
        "INSERT INTO onemap.service_case (category, state, source_kind, description, grid_code, department, "
        "reporter, due_at, geom) SELECT 'fire_hazard', %s, 'report', %s, %s, %s, 'kpi test', now() + %s::interval, "
        "ST_PointOnSurface(geom) FROM onemap.admin_area WHERE code = %s RETURNING id",
        (state, label, grid, department, due, grid),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _close(db: psycopg.Connection, case_id: int, on_time: bool) -> None:
    db.execute("UPDATE onemap.service_case SET state = 'closed' WHERE id = %s", (case_id,))
    db.execute(
        "INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, on_time) "
        "VALUES (%s, 'close', 'verified', 'closed', 'kpi test', 'department_editor', %s)",
        (case_id, on_time),
    )


CASE_FIGURES = "cases,cases_closed,cases_by_department"


def test_case_figures_count_open_overdue_closed_and_on_time(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    def figures(key: str, **params: Any) -> dict[str, Any]:
        response = get(client, keys[key], "/kpis", names=CASE_FIGURES, **params)
        assert response.status_code == 200, response.text
        return dict(response.json()["figures"])

    before = figures("community")
    other_before = figures("admin", code=areas["other_community"])
    _case(db, areas["grid"], "dispatched", "housing", "2 days", "kpi open")
    _case(db, areas["grid"], "in_progress", "emergency", "-1 hour", "kpi late")
    _close(db, _case(db, areas["grid"], "verified", "housing", "1 day", "kpi closed"), True)
    _close(db, _case(db, areas["grid"], "verified", "housing", "1 day", "kpi closed late"), False)
    db.commit()
    after = figures("community")
    opened = {k: after["cases"]["total"][k] - before["cases"]["total"][k] for k in ("open", "overdue")}
    assert opened == {"open": 2, "overdue": 1}
    assert after["cases"]["by_area"][areas["grid"]]["open"] >= 2  # per child area (the community's grids)
    closed = after["cases_closed"]["total"]
    assert closed["closed"] - before["cases_closed"]["total"]["closed"] == 2
    assert closed["on_time"] - before["cases_closed"]["total"]["on_time"] == 1
    assert closed["on_time_rate"] == round(closed["on_time"] / closed["closed"], 4)
    by_department = after["cases_by_department"]["total"]
    assert by_department["emergency"] - before["cases_by_department"]["total"].get("emergency", 0) == 1
    assert by_department["housing"] - before["cases_by_department"]["total"].get("housing", 0) == 1
    # the figures agree with the cases themselves
    row = db.execute(
        "SELECT count(*) FROM onemap.service_case c JOIN onemap.admin_area g ON g.code = c.grid_code "
        "WHERE g.parent_code = %s AND c.state <> 'closed'",
        (areas["community"],),
    ).fetchone()
    assert row is not None and after["cases"]["total"]["open"] == row[0]
    # as of yesterday none of them existed; another community's figures did not move
    yesterday = figures("community", as_of=(TODAY - dt.timedelta(days=1)).isoformat())
    assert after["cases"]["total"]["open"] - yesterday["cases"]["total"]["open"] >= 2
    assert figures("admin", code=areas["other_community"]) == other_before
    assert get(client, keys["community"], "/kpis", names="cases", code=areas["other_community"]).status_code == 403
    series = get(
        client, keys["admin"], "/kpis/cases_closed/series", code=areas["community"],
        **{"from": (TODAY - dt.timedelta(days=2)).isoformat()},
    ).json()["points"]
    assert [p["values"]["closed"] for p in series][-1] == closed["closed"]


def test_door_anomalies_and_data_freshness(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    before = get(client, keys["community"], "/kpis", names="door_anomalies,data_freshness").json()["figures"]
    db.execute(
        "WITH e AS (INSERT INTO onemap.event (kind, severity, occurred_at, grid_code, description, geom) "
        "SELECT 'door_access', 2, now() - interval '1 hour', code, 'kpi door', ST_PointOnSurface(geom) "
        "FROM onemap.admin_area WHERE code = %s RETURNING id) "
        "INSERT INTO onemap.warning (event_id, rule, subject_key) SELECT id, 'shared_card', 'kpi-card-1' FROM e",
        (areas["grid"],),
    )
    item = db.execute(
        "INSERT INTO onemap.source_item (department, name, entity_kind, frequency) "
        "VALUES ('water', 'kpi freshness', 'building', 'daily') RETURNING id"
    ).fetchone()
    assert item is not None
    db.execute(
        "INSERT INTO onemap.source_delivery (department, item_id, channel, content_hash, received_at, actor, "
        "rows, accepted, rejected) VALUES ('water', %s, 'file', 'kpi', now() - interval '50 hours', 'kpi', 1, 1, 0)",
        (item[0],),
    )
    db.commit()
    after = get(client, keys["community"], "/kpis", names="door_anomalies,data_freshness").json()["figures"]
    door = after["door_anomalies"]
    assert door["total"]["shared_card"] == before["door_anomalies"]["total"]["shared_card"] + 1
    assert door["by_area"][areas["grid"]]["shared_card"] >= 1
    fresh = after["data_freshness"]
    assert fresh["by_area"] == {}  # deliveries are in no area: the same figure for every scope
    water_before = before["data_freshness"]["total"]
    assert fresh["total"]["water:items"] == water_before.get("water:items", 0) + 1
    assert fresh["total"]["water:overdue"] == water_before.get("water:overdue", 0) + 1
    assert fresh["total"]["water:hours_since_delivery"] <= 50.5  # the department's newest delivery
    # as of two days and a half ago the delivery had not arrived: the item counted overdue and no last delivery
    earlier = get(
        client, keys["admin"], "/kpis", names="data_freshness",
        as_of=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=60)).isoformat(),
    ).json()["figures"]["data_freshness"]["total"]
    assert earlier["water:overdue"] >= 1
    # door anomalies are warnings: a key that may not read events does not get them
    assert "door_anomalies" in get(client, keys["water"], "/kpis").json()["withheld"]


def test_department_editor_counts_its_own_cases(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    """As on /cases, a department's editor sees the cases routed to it only (once granted the cases layer)."""
    granted = client.put(
        "/collections/cases/grants", json={"readers": ["water"]}, headers={"X-API-Key": keys["admin"]}
    )
    assert granted.status_code == 200, granted.text
    try:
        _case(db, areas["grid"], "dispatched", "water", "1 day", "kpi water case")
        mine = get(client, keys["water"], "/kpis", names="cases,cases_by_department").json()["figures"]
        everyone = get(client, keys["admin"], "/kpis", names="cases,cases_by_department").json()["figures"]
        assert set(mine["cases_by_department"]["total"]) == {"water"}
        assert mine["cases"]["total"]["open"] == mine["cases_by_department"]["total"]["water"] >= 1
        assert everyone["cases"]["total"]["open"] > mine["cases"]["total"]["open"]
    finally:
        client.put("/collections/cases/grants", json={"readers": []}, headers={"X-API-Key": keys["admin"]})


def test_overdue_at_the_end_of_today_is_overdue_now(
    client: TestClient, keys: dict[str, str], areas: dict[str, str], db: psycopg.Connection
) -> None:
    """A series' last point is the end of today: a case due in an hour is not overdue there yet."""
    before = get(client, keys["admin"], "/kpis/cases/series", code=areas["grid"], **{"from": TODAY.isoformat()})
    _case(db, areas["grid"], "dispatched", "housing", "1 minute", "kpi due soon")
    after = get(client, keys["admin"], "/kpis/cases/series", code=areas["grid"], **{"from": TODAY.isoformat()})
    first, last = before.json()["points"][-1]["values"], after.json()["points"][-1]["values"]
    assert last["open"] == first["open"] + 1 and last["overdue"] == first["overdue"]
