"""The schema: migrations, constraints, history triggers, the append-only audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from api.setup import initialise_database
from spatial.database import engine_for, libpq_url
from spatial.migrate import alembic_config, current_revision
from spatial.schema import VERSIONED_TABLES, metadata
from tests.conftest import create_database


def test_every_declared_table_exists(db: psycopg.Connection) -> None:
    found = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'onemap'")}
    declared = {t.name for t in metadata.sorted_tables}
    assert declared <= found
    assert {f"{t}_history" for t in VERSIONED_TABLES} <= found


def test_init_twice_is_a_no_op(database_url: str, db: psycopg.Connection) -> None:
    before = db.execute("SELECT count(*) FROM onemap.layer").fetchone()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert initialise_database(database_url) == head
    assert current_revision(database_url) == head
    assert db.execute("SELECT count(*) FROM onemap.layer").fetchone() == before


def test_spatial_indexes_exist(db: psycopg.Connection) -> None:
    indexed = {
        r[0]
        for r in db.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'onemap' AND indexdef LIKE '%USING gist%'"
        )
    }
    assert {"building", "admin_area", "enterprise", "event", "verification_issue"} <= indexed


def test_foreign_keys_and_checks_hold(db: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute(
            "INSERT INTO onemap.house_unit (building_id, unit_no, floor, room_no, area_m2, use) "
            "VALUES (-1, '1', 1, '101', 30, 'residential')"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE onemap.building SET floors = 0 WHERE id = 1")
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "INSERT INTO onemap.person (id_number, name, sex, birth_date, household_type) "
            "VALUES ('44030719900101123', 'x', 'M', '1990-01-01', 'local')"
        )


def test_a_residence_names_its_units_building(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        unit, building = _scalars(
            db, "SELECT house_unit_id, building_id FROM onemap.residence ORDER BY house_unit_id LIMIT 1"
        )
        person = _scalars(db, "SELECT id FROM onemap.person ORDER BY id LIMIT 1")[0]
        other = _scalars(db, "SELECT id FROM onemap.building WHERE id <> %s ORDER BY id LIMIT 1", building)[0]
        with pytest.raises(psycopg.errors.ForeignKeyViolation), db.transaction():
            db.execute(
                "INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from) "
                "VALUES (%s, %s, %s, 'tenant', '2024-01-01')",
                (person, unit, other),
            )
        # Re-surveying a unit into another building carries its residences along.
        db.execute(
            "UPDATE onemap.house_unit SET building_id = %s, room_no = 'R' || id WHERE id = %s", (other, unit)
        )
        moved = _scalars(
            db,
            "SELECT count(*) FILTER (WHERE building_id = %s), count(*) FROM onemap.residence WHERE house_unit_id = %s",
            other, unit,
        )
        assert moved[0] == moved[1] > 0


def test_upgrading_a_database_fills_residence_buildings(database_url: str, empty_database_url: str) -> None:
    # `database_url` first: this process has bulk-loaded a district (the loader re-adds constraints from the
    # shared metadata), and a database created afterwards must still get every constraint.
    url = create_database(empty_database_url, "onemap_upgrade_0006")
    initialise_database(url)
    square = "ST_Multi(ST_GeomFromText('POLYGON((114.2 22.7,114.2001 22.7,114.2001 22.7001,114.2 22.7))', 4326))"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        # One area stands in for the building's street, community and grid.
        conn.execute(f"INSERT INTO onemap.admin_area (code, name, level, geom) VALUES ('G', '网格', 'grid', {square})")
        conn.execute(
            "INSERT INTO onemap.building (id, code, address, use, floors, height_m, built_year, street_code, "
            f"community_code, grid_code, geom) VALUES (7, 'B7', '测试路7号', 'residential', 3, 9, 2000, 'G', 'G', "
            f"'G', {square})"
        )
        conn.execute(
            "INSERT INTO onemap.house_unit (id, building_id, unit_no, floor, room_no, area_m2, use) "
            "VALUES (70, 7, '1', 1, '101', 40, 'residential')"
        )
        conn.execute(
            "INSERT INTO onemap.person (id, id_number, name, sex, birth_date, household_type) "
            "VALUES (700, '11010519491231002X', '张三', 'F', '1949-12-31', 'local')"
        )
        conn.execute(
            "INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from) "
            "VALUES (700, 70, 7, 'owner_family', '2020-01-01')"
        )
    config = alembic_config()
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")  # the residence table as databases of 0005 have it
    assert current_revision(url) == "0005"
    initialise_database(url)
    with psycopg.connect(libpq_url(url)) as conn:
        assert _scalars(conn, "SELECT building_id FROM onemap.residence WHERE person_id = 700") == (7,)


def test_upgrading_a_catalogue_adds_housings_house_units(empty_database_url: str) -> None:
    """A database of 0015 holds a catalogue without house units and refuses house unit records; 0016 adds the
    housing survey's 房屋单元 item (the packaged rules name housing as its authority) and accepts them."""
    url = create_database(empty_database_url, "onemap_upgrade_0016")
    initialise_database(url)  # the packaged catalogue, house units included
    config = alembic_config()
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    item = "SELECT count(*) FROM onemap.source_item WHERE department = 'housing' AND entity_kind = 'house_unit'"
    record = (
        "INSERT INTO onemap.source_record (department, entity_kind, entity_key, payload) "
        "VALUES ('housing', 'house_unit', 'B/1/101', '{}')"
    )
    with psycopg.connect(libpq_url(url)) as conn:
        assert _scalars(conn, item) == (0,)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(record)
    initialise_database(url)
    with psycopg.connect(libpq_url(url)) as conn:
        assert _scalars(conn, item) == (1,)
        authoritative = _scalars(
            conn, "SELECT authoritative_for FROM onemap.source_item WHERE entity_kind = 'house_unit'"
        )
        assert {"room_no", "area_m2", "use", "floor"} <= set(authoritative[0])
        conn.execute(record)


def _scalars(conn: psycopg.Connection, query: str, *params: object) -> tuple[Any, ...]:
    row = conn.execute(query, params or None).fetchone()
    assert row is not None
    return tuple(row)


def test_update_keeps_the_previous_version(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        old = db.execute("SELECT floors, valid_from FROM onemap.building WHERE id = 2").fetchone()
        assert old is not None
        old_floors, old_from = old
        db.execute("SET LOCAL onemap.actor = 'tester'")
        db.execute("UPDATE onemap.building SET floors = floors + 1 WHERE id = 2")
        row = db.execute(
            "SELECT floors, valid_from, valid_to, operation, changed_by FROM onemap.building_history "
            "WHERE id = 2 ORDER BY valid_to DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        assert row[0] == old_floors and row[1] == old_from
        assert row[3] == "UPDATE" and row[4] == "tester"
        current = db.execute("SELECT valid_from FROM onemap.building WHERE id = 2").fetchone()
        assert current is not None
        assert current[0] == row[2]  # the new version starts where the old one ends


def test_a_version_made_and_changed_in_one_transaction_is_not_history(db: psycopg.Connection) -> None:
    """A person created and given a phone by the same run was never visible without it: no history row (its
    period would be empty). Changed in a later transaction, the earlier version is history as before."""
    count = "SELECT count(*) FROM onemap.person_history WHERE id_number = '110101199003071234'"
    with db.transaction(force_rollback=True):
        db.execute(
            "INSERT INTO onemap.person (id_number, name, sex, birth_date, household_type) "
            "VALUES ('110101199003071234', '张三', 'M', '1990-03-07', 'local')"
        )
        db.execute("UPDATE onemap.person SET phone = '13800138000' WHERE id_number = '110101199003071234'")
        assert _scalars(db, count) == (0,)
        db.execute("UPDATE onemap.person SET valid_from = now() - interval '1 day' "
                   "WHERE id_number = '110101199003071234'")  # as if created the day before
        db.execute("UPDATE onemap.person SET phone = '13900139000' WHERE id_number = '110101199003071234'")
        assert _scalars(db, count) == (1,)
        assert _scalars(db, "SELECT phone FROM onemap.person_history WHERE id_number = '110101199003071234'") == (
            "13800138000",
        )


def test_audit_log_is_append_only(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        db.execute(
            "INSERT INTO onemap.audit_log (actor, role, action, target_kind) VALUES ('t', 'admin', 'read', 'x')"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute("DELETE FROM onemap.audit_log")


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        ("mask_name", "张三丰", "张**"),
        ("mask_phone", "13812345678", "138****5678"),
        ("mask_id_number", "11010519491231002X", "**************002X"),
    ],
)
def test_sql_masking_matches_python(db: psycopg.Connection, function: str, value: str, masked: str) -> None:
    from spatial.identifiers import mask_id_number, mask_name, mask_phone

    python: dict[str, Callable[[str], str]] = {
        "mask_name": mask_name,
        "mask_phone": mask_phone,
        "mask_id_number": mask_id_number,
    }
    assert python[function](value) == masked
    in_sql = db.execute(f"SELECT onemap.{function}(%s)", [value]).fetchone()
    assert in_sql is not None and in_sql[0] == masked
